#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin-cache.h"
#include "plugin/plugin-host.h"
#include "plugin/plugin-registry.h"
#include "plugin/plugin-settings.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/log.h"

/* The descriptor as ABI 1.0 defined it: anything smaller cannot be read. */
#define DESCRIPTOR_1_0_SIZE (offsetof(struct berth_plugin_descriptor, ops) + sizeof(const void *))

const char *plugin_kind_name(uint32_t kind)
{
    switch (kind) {
    case BERTH_KIND_STORAGE:
        return "storage";
    case BERTH_KIND_VOLUME:
        return "volume";
    case BERTH_KIND_NETWORK:
        return "network";
    case BERTH_KIND_HOOK:
        return "hook";
    default:
        return "unknown";
    }
}

static int name_is_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 63)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

/* The smallest operations table each kind must have, and its required members. */
static int check_ops(const struct berth_plugin_descriptor *d, char **ret_reason)
{
    if (!d->ops) {
        *ret_reason = xasprintf("descriptor has no operations table");
        return -EINVAL;
    }
    uint32_t size = *(const uint32_t *)d->ops;
    const char *missing = NULL;
    size_t need = 0;
    switch (d->kind) {
    case BERTH_KIND_STORAGE: {
        const struct berth_storage_ops *o = d->ops;
        need = offsetof(struct berth_storage_ops, info) + sizeof(o->info);
        if (size >= need) {
            if (!o->prepare)
                missing = "prepare";
            else if (!o->remove)
                missing = "remove";
            else if (!o->add_layer)
                missing = "add_layer";
            else if (!o->has_layer)
                missing = "has_layer";
            else if (!o->gc)
                missing = "gc";
        }
        break;
    }
    case BERTH_KIND_VOLUME: {
        const struct berth_volume_ops *o = d->ops;
        need = offsetof(struct berth_volume_ops, gc) + sizeof(o->gc);
        if (size >= need && (!o->create || !o->remove || !o->mount || !o->gc))
            missing = "create, remove, mount or gc";
        break;
    }
    case BERTH_KIND_NETWORK: {
        const struct berth_network_ops *o = d->ops;
        need = offsetof(struct berth_network_ops, gc) + sizeof(o->gc);
        if (size >= need && (!o->join || !o->leave || !o->gc))
            missing = "join, leave or gc";
        break;
    }
    case BERTH_KIND_HOOK: {
        const struct berth_hook_ops *o = d->ops;
        need = offsetof(struct berth_hook_ops, on_event) + sizeof(o->on_event);
        if (size >= need && !o->on_event)
            missing = "on_event";
        break;
    }
    default:
        break;
    }
    if (size < need) {
        *ret_reason =
            xasprintf("%s operations table has size %u, ABI %d.0 needs at least %zu: "
                      "rebuild against berth-plugin %d.x",
                      plugin_kind_name(d->kind), size, BERTH_ABI_MAJOR, need, BERTH_ABI_MAJOR);
        return -EINVAL;
    }
    if (missing) {
        *ret_reason =
            xasprintf("required %s operation %s is not set", plugin_kind_name(d->kind), missing);
        return -EINVAL;
    }
    return 0;
}

int plugin_check_descriptor(const struct berth_plugin_descriptor *d, char **ret_reason)
{
    if (!d) {
        *ret_reason = xasprintf("entry returned no descriptor");
        return -EINVAL;
    }
    if (d->size < sizeof(uint32_t) + 2 * sizeof(uint16_t)) {
        *ret_reason = xasprintf("descriptor size %u is too small to hold a version", d->size);
        return -EINVAL;
    }
    if (d->abi_major != BERTH_ABI_MAJOR || d->abi_minor > BERTH_ABI_MINOR) {
        *ret_reason =
            xasprintf("built for ABI %u.%u, berth provides %d.%d: %s", d->abi_major, d->abi_minor,
                      BERTH_ABI_MAJOR, BERTH_ABI_MINOR,
                      d->abi_major != BERTH_ABI_MAJOR ? "rebuild against berth-plugin 1.x"
                                                      : "the plugin is newer than berth: "
                                                        "upgrade berth or rebuild the plugin");
        return -EINVAL;
    }
    if (d->size < DESCRIPTOR_1_0_SIZE) {
        *ret_reason = xasprintf("descriptor size %u is smaller than ABI %d.0's %zu: a corrupt "
                                "descriptor; rebuild with BERTH_PLUGIN_DEFINE",
                                d->size, BERTH_ABI_MAJOR, (size_t)DESCRIPTOR_1_0_SIZE);
        return -EINVAL;
    }
    if (!name_is_valid(d->name)) {
        *ret_reason = xasprintf("invalid plugin name '%s': use [a-z0-9-], at most 63 bytes",
                                d->name ? d->name : "(null)");
        return -EINVAL;
    }
    if (d->kind < BERTH_KIND_STORAGE || d->kind > BERTH_KIND_HOOK) {
        *ret_reason = xasprintf("unknown plugin kind %u", d->kind);
        return -EINVAL;
    }
    if (!d->init) {
        *ret_reason = xasprintf("descriptor has no init function");
        return -EINVAL;
    }
    return check_ops(d, ret_reason);
}

static struct plugin *find_loaded(struct plugin_registry *reg, uint32_t kind, const char *name)
{
    for (size_t i = 0; reg && i < reg->n_plugins; i++) {
        struct plugin *p = reg->plugins[i];
        if ((kind == 0 || p->desc->kind == kind) && !strcmp(p->desc->name, name))
            return p;
    }
    return NULL;
}

static void refuse(struct plugin_registry *reg, const char *path, char *reason)
{
    log_warning("plugin '%s' refused: %s", path, reason);
    struct refused_plugin *grown =
        realloc(reg->refused, (reg->n_refused + 1) * sizeof(struct refused_plugin));
    if (!grown) {
        free(reason);
        return;
    }
    reg->refused = grown;
    reg->refused[reg->n_refused].path = strdup(path);
    reg->refused[reg->n_refused].reason = reason;
    reg->n_refused++;
}

static void plugin_free(struct plugin *p)
{
    if (!p)
        return;
    if (p->desc && p->desc->fini && p->host)
        p->desc->fini(p->state);
    plugin_host_free(p->host);
    if (p->handle)
        dlclose(p->handle);
    free(p->path);
    free(p);
}

const struct disabled_plugin *plugin_registry_find_disabled(const struct plugin_registry *reg,
                                                            const char *name)
{
    for (size_t i = 0; reg && i < reg->n_disabled; i++)
        if (!strcmp(reg->disabled[i].name, name))
            return &reg->disabled[i];
    return NULL;
}

/* The path of the disabled or pending plugin named NAME, or NULL. */
static const char *unloaded_path(const struct plugin_registry *reg, const char *name)
{
    const struct disabled_plugin *off = plugin_registry_find_disabled(reg, name);
    if (off)
        return off->path;
    for (size_t j = 0; j < reg->n_pending; j++)
        if (!strcmp(reg->pending[j].name, name))
            return reg->pending[j].path;
    return NULL;
}

/*
 * The configuration's word on the plugin NAME of KIND at PATH: 1 to load it
 * with *RET's options and isolation; 0 when it is disabled or its settings
 * are invalid (recorded in REG, *RET untouched).
 */
static int configured(struct plugin_registry *reg, const char *path, const char *name,
                      uint32_t kind, struct plugin_settings *ret)
{
    char *reason = NULL;
    if (plugin_settings_get(reg->plugins_config, name, ret, &reason) < 0) {
        refuse(reg, path, xasprintf("'%s': %s", reg->config_file, reason));
        free(reason);
        return 0;
    }
    if (ret->enabled)
        return 1;
    plugin_settings_clear(ret);
    struct disabled_plugin *grown =
        realloc(reg->disabled, (reg->n_disabled + 1) * sizeof(struct disabled_plugin));
    if (grown) {
        reg->disabled = grown;
        reg->disabled[reg->n_disabled++] =
            (struct disabled_plugin){.name = strdup(name), .path = strdup(path), .kind = kind};
    }
    return 0;
}

/* A configured name that matches no plugin file is most likely a typo. */
static void warn_unknown_names(struct plugin_registry *reg)
{
    const cJSON *entry;
    cJSON_ArrayForEach(entry, reg->plugins_config)
    {
        if (find_loaded(reg, 0, entry->string) || unloaded_path(reg, entry->string))
            continue;
        /* Refused for its settings: that warning named it already. */
        _cleanup_free_ char *key = xasprintf("': plugins.%s", entry->string);
        int named = 0;
        for (size_t i = 0; i < reg->n_refused && !named; i++) {
            const char *at = strstr(reg->refused[i].reason, key);
            named = at && (at[strlen(key)] == '.' || at[strlen(key)] == ':');
        }
        if (!named)
            log_warning("'%s': plugins.%s: no plugin of that name in the plugin path; ignored",
                        reg->config_file, entry->string);
    }
}

static void add_loaded(struct plugin_registry *reg, struct plugin *p)
{
    struct plugin **grown = realloc(reg->plugins, (reg->n_plugins + 1) * sizeof(struct plugin *));
    if (!grown) {
        plugin_free(p);
        return;
    }
    reg->plugins = grown;
    size_t at = reg->n_plugins;
    while (at > 0 && reg->plugins[at - 1]->order > p->order) {
        reg->plugins[at] = reg->plugins[at - 1];
        at--;
    }
    reg->plugins[at] = p;
    reg->n_plugins++;
}

/*
 * dlopens PATH, checks and initialises it. What the descriptor said (name
 * and kind, or the reason it was refused) goes to FILE, if given, for the
 * descriptor cache.
 */
static void load_one(struct plugin_registry *reg, size_t order, const char *path,
                     struct plugin_file *file)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        char *reason = xasprintf("cannot load: %s", dlerror());
        if (file)
            file->refused = strdup(reason);
        refuse(reg, path, reason);
        return;
    }
    typedef const struct berth_plugin_descriptor *(*entry_fn)(void);
    entry_fn entry;
    *(void **)&entry = dlsym(handle, BERTH_PLUGIN_ENTRY_NAME);
    const struct berth_plugin_descriptor *d = entry ? entry() : NULL;
    char *reason = NULL;
    int r = -ENOENT;
    if (!entry)
        reason = xasprintf("no '%s' symbol: not a berth plugin; define it with BERTH_PLUGIN_DEFINE",
                           BERTH_PLUGIN_ENTRY_NAME);
    else
        r = plugin_check_descriptor(d, &reason);
    if (r < 0) {
        if (file)
            file->refused = strdup(reason);
        refuse(reg, path, reason);
        dlclose(handle);
        return;
    }
    if (file) {
        file->name = strdup(d->name);
        file->kind = d->kind;
    }
    struct plugin *taken = find_loaded(reg, 0, d->name);
    const char *taken_path = taken ? taken->path
                             : plugin_registry_find_disabled(reg, d->name)
                                 ? unloaded_path(reg, d->name)
                                 : NULL;
    if (taken_path) {
        refuse(reg, path, xasprintf("name '%s' is already taken by '%s'", d->name, taken_path));
        dlclose(handle);
        return;
    }
    struct plugin_settings settings;
    if (!configured(reg, path, d->name, d->kind, &settings)) {
        dlclose(handle);
        return;
    }
    struct plugin *p = calloc(1, sizeof(*p));
    if (!p) {
        plugin_settings_clear(&settings);
        dlclose(handle);
        return;
    }
    p->isolate = settings.isolate;
    p->timeout = settings.timeout;
    p->order = order;
    p->path = strdup(path);
    p->handle = handle;
    p->desc = d;
    struct error *e = NULL;
    if (plugin_host_new(d->name, reg->state_root, reg->run_dir, &p->services, &p->host, &e) < 0) {
        refuse(reg, path, xasprintf("cannot prepare its state: %s", e->msg));
        error_free(&e);
        plugin_settings_clear(&settings);
        plugin_host_free(p->host);
        p->host = NULL;
        plugin_free(p);
        return;
    }
    free(p->host->config_json);
    p->host->config_json = settings.options_json;
    p->services.config_json = p->host->config_json;
    r = d->init(&p->services, &p->state);
    if (r < 0) {
        refuse(reg, path, xasprintf("init failed: %s", strerror(-r)));
        plugin_host_free(p->host);
        p->host = NULL;
        plugin_free(p);
        return;
    }
    add_loaded(reg, p);
}

static struct plugin_registry *registry_new(const char *state_root, const char *run_dir)
{
    struct plugin_registry *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return NULL;
    reg->state_root = strdup(state_root);
    reg->run_dir = strdup(run_dir);
    if (!reg->state_root || !reg->run_dir) {
        plugin_registry_free(reg);
        return NULL;
    }
    return reg;
}

static void warn_unreadable_dirs(char *const *path_dirs)
{
    for (size_t i = 0; path_dirs && path_dirs[i]; i++) {
        _cleanup_closedir_ DIR *d = opendir(path_dirs[i]);
        if (!d && errno != ENOENT && errno != ENOTDIR)
            log_warning("plugin directory '%s': %s", path_dirs[i], strerror(errno));
    }
}

int plugin_registry_open(char *const *path_dirs, const char *state_root, const char *run_dir,
                         const char *cache_path, const struct plugin_load_config *config,
                         struct plugin_registry **ret, struct error **err)
{
    struct plugin_registry *reg = registry_new(state_root, run_dir);
    if (reg && config && config->plugins) {
        reg->config_file = strdup(config->file ? config->file : "");
        reg->plugins_config = cJSON_Duplicate(config->plugins, 1);
        if (!reg->config_file || !reg->plugins_config) {
            plugin_registry_free(reg);
            reg = NULL;
        }
    }
    if (!reg)
        return error_set(err, ENOMEM, "load plugins");
    warn_unreadable_dirs(path_dirs);
    struct plugin_file *files = NULL;
    size_t n = 0;
    plugin_files_scan(path_dirs, &files, &n);
    if (cache_path && plugin_cache_read(cache_path, path_dirs, files, n)) {
        for (size_t i = 0; i < n; i++) {
            if (files[i].refused) {
                refuse(reg, files[i].path, TAKE_PTR(files[i].refused));
                continue;
            }
            /* The first of two plugins with one name wins, as in a full load. */
            const char *taken = unloaded_path(reg, files[i].name);
            if (taken) {
                refuse(reg, files[i].path,
                       xasprintf("name '%s' is already taken by '%s'", files[i].name, taken));
                continue;
            }
            struct plugin_settings settings;
            if (!configured(reg, files[i].path, files[i].name, files[i].kind, &settings))
                continue;
            plugin_settings_clear(&settings);
            struct pending_plugin *grown =
                realloc(reg->pending, (reg->n_pending + 1) * sizeof(*grown));
            if (!grown)
                continue;
            reg->pending = grown;
            reg->pending[reg->n_pending++] = (struct pending_plugin){
                .order = i,
                .path = TAKE_PTR(files[i].path),
                .name = TAKE_PTR(files[i].name),
                .kind = files[i].kind,
            };
        }
    } else {
        for (size_t i = 0; i < n; i++)
            load_one(reg, i, files[i].path, &files[i]);
        if (cache_path)
            plugin_cache_write(cache_path, path_dirs, files, n);
    }
    plugin_files_free(files, n);
    warn_unknown_names(reg);
    *ret = reg;
    return 0;
}

int plugin_registry_load(char *const *path_dirs, const char *state_root, const char *run_dir,
                         struct plugin_registry **ret, struct error **err)
{
    return plugin_registry_open(path_dirs, state_root, run_dir, NULL, NULL, ret, err);
}

static void load_pending(struct plugin_registry *reg, size_t i)
{
    struct pending_plugin pp = reg->pending[i];
    memmove(&reg->pending[i], &reg->pending[i + 1],
            (reg->n_pending - i - 1) * sizeof(*reg->pending));
    reg->n_pending--;
    load_one(reg, pp.order, pp.path, NULL);
    free(pp.path);
    free(pp.name);
}

struct plugin *plugin_registry_find(struct plugin_registry *reg, uint32_t kind, const char *name)
{
    struct plugin *p = find_loaded(reg, kind, name);
    if (p || !reg)
        return p;
    for (size_t i = 0; i < reg->n_pending; i++) {
        if ((kind == 0 || reg->pending[i].kind == kind) && !strcmp(reg->pending[i].name, name)) {
            load_pending(reg, i);
            return find_loaded(reg, kind, name);
        }
    }
    return NULL;
}

void plugin_registry_require(struct plugin_registry *reg, uint32_t kind)
{
    for (size_t i = 0; reg && i < reg->n_pending;) {
        if (kind == 0 || reg->pending[i].kind == kind)
            load_pending(reg, i);
        else
            i++;
    }
}

void plugin_registry_free(struct plugin_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = reg->n_plugins; i > 0; i--)
        plugin_free(reg->plugins[i - 1]);
    free(reg->plugins);
    for (size_t i = 0; i < reg->n_refused; i++) {
        free(reg->refused[i].path);
        free(reg->refused[i].reason);
    }
    free(reg->refused);
    for (size_t i = 0; i < reg->n_pending; i++) {
        free(reg->pending[i].path);
        free(reg->pending[i].name);
    }
    free(reg->pending);
    for (size_t i = 0; i < reg->n_disabled; i++) {
        free(reg->disabled[i].name);
        free(reg->disabled[i].path);
    }
    free(reg->disabled);
    free(reg->config_file);
    cJSON_Delete(reg->plugins_config);
    free(reg->state_root);
    free(reg->run_dir);
    free(reg);
}
