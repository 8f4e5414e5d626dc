#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        *ret_reason = strdup("descriptor has no operations table");
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
        *ret_reason = strdup("entry returned no descriptor");
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
        *ret_reason = strdup("descriptor has no init function");
        return -EINVAL;
    }
    return check_ops(d, ret_reason);
}

struct plugin *plugin_registry_find(struct plugin_registry *reg, uint32_t kind, const char *name)
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

static void add_disabled(struct plugin_registry *reg, const char *path,
                         const struct berth_plugin_descriptor *d)
{
    struct disabled_plugin *grown =
        realloc(reg->disabled, (reg->n_disabled + 1) * sizeof(struct disabled_plugin));
    if (!grown)
        return;
    reg->disabled = grown;
    reg->disabled[reg->n_disabled++] =
        (struct disabled_plugin){.name = strdup(d->name), .path = strdup(path), .kind = d->kind};
}

/*
 * The configuration's word on plugin D: 1 to load it (its options and
 * isolation set on P later), 0 when disabled or refused (recorded here).
 */
static int apply_settings(struct plugin_registry *reg, const struct plugin_load_config *config,
                          const char *path, const struct berth_plugin_descriptor *d,
                          struct plugin_settings *ret)
{
    char *reason = NULL;
    if (plugin_settings_get(config ? config->plugins : NULL, d->name, ret, &reason) < 0) {
        refuse(reg, path, xasprintf("'%s': %s", config->file, reason));
        free(reason);
        return 0;
    }
    if (!ret->enabled) {
        add_disabled(reg, path, d);
        plugin_settings_clear(ret);
        return 0;
    }
    return 1;
}

/* A configured name that matched no plugin file is most likely a typo. */
static void warn_unknown_names(struct plugin_registry *reg, const struct plugin_load_config *config)
{
    if (!config || !config->plugins)
        return;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, config->plugins)
    {
        if (plugin_registry_find(reg, 0, entry->string) ||
            plugin_registry_find_disabled(reg, entry->string))
            continue;
        int refused = 0;
        for (size_t i = 0; i < reg->n_refused; i++)
            refused |= strstr(reg->refused[i].reason, "plugins.") != NULL &&
                       strstr(reg->refused[i].reason, entry->string) != NULL;
        if (!refused)
            log_warning("'%s': plugins.%s: no plugin of that name in the plugin path; ignored",
                        config->file, entry->string);
    }
}

static void load_one(struct plugin_registry *reg, const char *path, const char *state_root,
                     const char *run_dir, const struct plugin_load_config *config)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        refuse(reg, path, xasprintf("cannot load: %s", dlerror()));
        return;
    }
    typedef const struct berth_plugin_descriptor *(*entry_fn)(void);
    entry_fn entry;
    *(void **)&entry = dlsym(handle, BERTH_PLUGIN_ENTRY_NAME);
    if (!entry) {
        refuse(reg, path,
               xasprintf("no '%s' symbol: not a berth plugin; define it with BERTH_PLUGIN_DEFINE",
                         BERTH_PLUGIN_ENTRY_NAME));
        dlclose(handle);
        return;
    }
    const struct berth_plugin_descriptor *d = entry();
    char *reason = NULL;
    if (plugin_check_descriptor(d, &reason) < 0) {
        refuse(reg, path, reason);
        dlclose(handle);
        return;
    }
    struct plugin *taken = plugin_registry_find(reg, 0, d->name);
    const struct disabled_plugin *off = plugin_registry_find_disabled(reg, d->name);
    if (taken || off) {
        refuse(reg, path,
               xasprintf("name '%s' is already taken by '%s'", d->name,
                         taken ? taken->path : off->path));
        dlclose(handle);
        return;
    }
    struct plugin_settings settings;
    if (!apply_settings(reg, config, path, d, &settings)) {
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
    p->path = strdup(path);
    p->handle = handle;
    p->desc = d;
    struct error *e = NULL;
    if (plugin_host_new(d->name, state_root, run_dir, &p->services, &p->host, &e) < 0) {
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
    int r = d->init(&p->services, &p->state);
    if (r < 0) {
        refuse(reg, path, xasprintf("init failed: %s", strerror(-r)));
        plugin_host_free(p->host);
        p->host = NULL;
        plugin_free(p);
        return;
    }
    struct plugin **grown = realloc(reg->plugins, (reg->n_plugins + 1) * sizeof(*grown));
    if (!grown) {
        plugin_free(p);
        return;
    }
    reg->plugins = grown;
    reg->plugins[reg->n_plugins++] = p;
}

static int so_filter(const struct dirent *de)
{
    size_t len = strlen(de->d_name);
    return de->d_name[0] != '.' && len > 3 && !strcmp(de->d_name + len - 3, ".so");
}

int plugin_registry_load(char *const *path_dirs, const char *state_root, const char *run_dir,
                         const struct plugin_load_config *config, struct plugin_registry **ret,
                         struct error **err)
{
    struct plugin_registry *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return error_set(err, ENOMEM, "load plugins");
    for (size_t i = 0; path_dirs && path_dirs[i]; i++) {
        struct dirent **list = NULL;
        int n = scandir(path_dirs[i], &list, so_filter, alphasort);
        if (n < 0) {
            if (errno != ENOENT && errno != ENOTDIR)
                log_warning("plugin directory '%s': %s", path_dirs[i], strerror(errno));
            continue;
        }
        for (int j = 0; j < n; j++) {
            _cleanup_free_ char *path = xasprintf("%s/%s", path_dirs[i], list[j]->d_name);
            load_one(reg, path, state_root, run_dir, config);
            free(list[j]);
        }
        free(list);
    }
    warn_unknown_names(reg, config);
    *ret = reg;
    return 0;
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
    for (size_t i = 0; i < reg->n_disabled; i++) {
        free(reg->disabled[i].name);
        free(reg->disabled[i].path);
    }
    free(reg->disabled);
    free(reg);
}
