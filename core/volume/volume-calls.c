#include "volume/volume-calls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "config/defaults.h"
#include "plugin/plugin-host.h"
#include "lifecycle/plugin-isolate.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/lock.h"

static const struct berth_volume_ops *vops(struct plugin *p)
{
    return p->desc->ops;
}

/* The plugin's own message when it gave one, else the operation and errno. */
static int call_result(struct plugin *p, int r, struct berth_error *perr, const char *op,
                       struct error **err)
{
    if (r < 0 && perr->contained) {
        plugin_call_result(r, perr, op, err);
        return error_prefix(err, "volume driver '%s'", p->desc->name);
    }
    if (r >= 0 || perr->error)
        return plugin_call_result(r, perr, "", err);
    return error_set(err, -r, "volume driver '%s': %s", p->desc->name, op);
}

int volume_driver_find(struct plugin_registry *reg, const char *name, struct plugin **ret,
                       struct error **err)
{
    struct plugin *p = plugin_registry_find(reg, BERTH_KIND_VOLUME, name);
    if (!p) {
        for (size_t i = 0; i < reg->n_refused; i++) {
            const char *base = strrchr(reg->refused[i].path, '/');
            base = base ? base + 1 : reg->refused[i].path;
            if (!strncmp(base, name, strlen(name)) && !strcmp(base + strlen(name), ".so"))
                return error_set_plain(err, ENOENT, "volume driver '%s' was refused: %s", name,
                                       reg->refused[i].reason);
        }
        return error_set_plain(err, ENOENT, "unknown volume driver '%s'", name);
    }
    *ret = p;
    return 0;
}

static int plugin_simple(struct plugin *p, int create, const char *name, const char *options_json,
                         struct error **err)
{
    const struct berth_volume_ops *o = vops(p);
    struct berth_volume_request req = {
        .size = sizeof(req), .volume_name = name, .options_json = options_json};
    struct berth_error perr = {0};
    int r;
    if (create) {
        if (!PLUGIN_OPS_HAS(o, create))
            return error_set_plain(err, ENOTSUP, "volume driver '%s' cannot create volumes",
                                   p->desc->name);
        r = PLUGIN_RUN(p, "create", &perr, NULL, NULL, o->create(p->state, &req, NULL, &perr));
    } else {
        if (!PLUGIN_OPS_HAS(o, remove))
            return error_set_plain(err, ENOTSUP, "volume driver '%s' cannot remove volumes",
                                   p->desc->name);
        r = PLUGIN_RUN(p, "remove", &perr, NULL, NULL, o->remove(p->state, &req, NULL, &perr));
    }
    return call_result(p, r, &perr, create ? "create" : "remove", err);
}

static int same_json(const cJSON *a, const cJSON *b)
{
    int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
    return na == nb && (na == 0 || cJSON_Compare(a, b, 1));
}

static int lock_and_load(struct volume_store *vs, const char *name, int *ret_fd, cJSON **ret_rec,
                         struct error **err)
{
    int fd = volume_store_lock(vs, name, err);
    if (fd < 0)
        return fd;
    int r = volume_store_load(vs, name, ret_rec, err);
    if (r < 0) {
        unlock_fd(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

int volume_create(struct engine *e, struct volume_store *vs, const char *name, const char *driver,
                  const cJSON *options, const cJSON *labels, int *ret_created, char **ret_driver,
                  struct error **err)
{
    int fd = volume_store_lock(vs, name, err);
    if (fd < 0)
        return fd;
    cJSON *rec = NULL;
    struct error *local = NULL;
    int r = volume_store_load(vs, name, &rec, &local);
    if (r == 0) {
        error_free(&local);
        const char *have = rec_str(rec, "driver");
        if (driver && strcmp(driver, have))
            r = error_set_plain(err, EEXIST, "volume '%s' already exists with driver '%s'", name,
                                have);
        else if (options && cJSON_GetArraySize(options) > 0 &&
                 !same_json(options, cJSON_GetObjectItem(rec, "options")))
            r = error_set_plain(err, EEXIST, "volume '%s' already exists with other options", name);
        if (r == 0) {
            if (ret_created)
                *ret_created = 0;
            if (ret_driver)
                *ret_driver = strdup(have);
        }
        cJSON_Delete(rec);
        unlock_fd(fd);
        return r;
    }
    if (r != -ENOENT) {
        *err = local;
        unlock_fd(fd);
        return r;
    }
    error_free(&local);

    if (!driver)
        driver = DEFAULT_VOLUME_DRIVER;
    struct plugin *p = NULL;
    if ((r = volume_driver_find(e->plugins, driver, &p, err)) < 0) {
        unlock_fd(fd);
        return r;
    }
    rec = cJSON_CreateObject();
    rec_set_str(rec, "name", name);
    rec_set_str(rec, "driver", driver);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    rec_set_int(rec, "created", (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
    cJSON_AddItemToObject(rec, "labels",
                          labels ? cJSON_Duplicate(labels, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(rec, "options",
                          options ? cJSON_Duplicate(options, 1) : cJSON_CreateObject());
    _cleanup_free_ char *options_json = cJSON_PrintUnformatted(cJSON_GetObjectItem(rec, "options"));

    /* gc removes driver data no record names: not while we are between the two. */
    int all_fd = volume_store_lock_all(vs, err);
    if (all_fd < 0) {
        cJSON_Delete(rec);
        unlock_fd(fd);
        return all_fd;
    }
    r = plugin_simple(p, 1, name, options_json, err);
    if (r == 0 && (r = volume_store_save(vs, rec, err)) < 0) {
        struct error *ignored = NULL;
        plugin_simple(p, 0, name, NULL, &ignored);
        error_free(&ignored);
    }
    unlock_fd(all_fd);
    unlock_fd(fd);
    cJSON_Delete(rec);
    if (r < 0)
        return r;
    if (ret_created)
        *ret_created = 1;
    if (ret_driver)
        *ret_driver = strdup(driver);
    return 0;
}

int volume_containers(struct engine *e, const char *name, char ***ret_ids, size_t *ret_n,
                      struct error **err)
{
    cJSON *all = NULL;
    int r = container_store_list(e->containers, &all, err);
    if (r < 0)
        return r;
    char **ids = calloc(1, sizeof(char *));
    size_t n = 0;
    const cJSON *rec, *m;
    cJSON_ArrayForEach(rec, all)
    {
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(rec, "mounts"))
        {
            const char *type = rec_str(m, "type"), *source = rec_str(m, "source");
            if (!ids || !type || !source || strcmp(type, "volume") || strcmp(source, name))
                continue;
            char **grown = realloc(ids, (n + 2) * sizeof(char *));
            if (!grown)
                break;
            ids = grown;
            ids[n++] = strdup(rec_str(rec, "id"));
            ids[n] = NULL;
            break;
        }
    }
    cJSON_Delete(all);
    if (!ids)
        return error_set(err, ENOMEM, "list the users of volume '%s'", name);
    *ret_ids = ids;
    *ret_n = n;
    return 0;
}

int volume_remove(struct engine *e, struct volume_store *vs, const char *name, struct error **err)
{
    int fd = -1;
    cJSON *rec = NULL;
    int r = lock_and_load(vs, name, &fd, &rec, err);
    if (r < 0)
        return r;
    _cleanup_strv_ char **ids = NULL;
    size_t n = 0;
    struct plugin *p = NULL;
    /* As docker: any container that mounts it, running or not, keeps it. */
    if ((r = volume_containers(e, name, &ids, &n, err)) == 0 && n > 0) {
        cJSON *c = NULL;
        struct error *ignored = NULL;
        const char *cname = NULL;
        if (container_store_load(e->containers, ids[0], &c, &ignored) == 0)
            cname = rec_str(c, "name");
        r = error_set_plain(err, EBUSY, "volume '%s' is in use by container '%s' (%.12s)%s", name,
                            cname ? cname : "?", ids[0], n > 1 ? " and others" : "");
        cJSON_Delete(c);
        error_free(&ignored);
    }
    if (r == 0)
        r = volume_driver_find(e->plugins, rec_str(rec, "driver"), &p, err);
    if (r == 0)
        r = plugin_simple(p, 0, name, NULL, err);
    if (r == 0)
        r = volume_store_delete(vs, name, err);
    cJSON_Delete(rec);
    unlock_fd(fd);
    return r;
}

int volume_inspect(struct engine *e, struct volume_store *vs, const char *name, cJSON **ret,
                   struct error **err)
{
    cJSON *rec = NULL;
    int r = volume_store_load(vs, name, &rec, err);
    if (r < 0)
        return r;
    struct plugin *p = NULL;
    if ((r = volume_driver_find(e->plugins, rec_str(rec, "driver"), &p, err)) < 0) {
        cJSON_Delete(rec);
        return r;
    }
    cJSON *out = NULL;
    const struct berth_volume_ops *o = vops(p);
    if (PLUGIN_OPS_HAS(o, inspect)) {
        struct text_sink sink = {0};
        struct berth_text_result res = {
            .size = sizeof(res), .host_ctx = &sink, .put = text_sink_put};
        struct berth_volume_request req = {.size = sizeof(req), .volume_name = name};
        struct berth_error perr = {0};
        r = PLUGIN_RUN(p, "inspect", &perr, NULL, &sink, o->inspect(p->state, &req, &res, &perr));
        if (r < 0) {
            free(sink.text);
            cJSON_Delete(rec);
            return call_result(p, r, &perr, "inspect", err);
        }
        error_free(&perr.error);
        out = sink.text ? cJSON_Parse(sink.text) : NULL;
        free(sink.text);
        if (!cJSON_IsObject(out)) {
            cJSON_Delete(out);
            cJSON_Delete(rec);
            return error_set_plain(err, EPROTO, "volume driver '%s' described '%s' in bad JSON",
                                   p->desc->name, name);
        }
    } else {
        out = cJSON_CreateObject();
    }
    /* berth's record is the authority on what it holds itself. */
    static const char *const keys[] = {"name", "driver", "created", "labels", "options"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        cJSON_DeleteItemFromObject(out, keys[i]);
        cJSON *v = cJSON_GetObjectItem(rec, keys[i]);
        cJSON_AddItemToObject(out, keys[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateObject());
    }
    cJSON_Delete(rec);
    _cleanup_strv_ char **ids = NULL;
    size_t n = 0;
    if ((r = volume_containers(e, name, &ids, &n, err)) < 0) {
        cJSON_Delete(out);
        return r;
    }
    cJSON *arr = cJSON_AddArrayToObject(out, "containers");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(ids[i]));
    *ret = out;
    return 0;
}

int volume_plugin_mount(struct plugin *p, const char *name, const char *id, const char *target,
                        int read_only, struct mount_list *list, struct error **err)
{
    const struct berth_volume_ops *o = vops(p);
    if (!PLUGIN_OPS_HAS(o, mount))
        return error_set_plain(err, ENOTSUP, "volume driver '%s' cannot mount volumes",
                               p->desc->name);
    struct berth_volume_request req = {
        .size = sizeof(req),
        .volume_name = name,
        .options_json = "{}",
        .container_id = id,
        .target = target,
        .read_only = read_only ? 1u : 0u,
    };
    struct berth_storage_prepare_result res = {
        .size = sizeof(res), .host_ctx = list, .add_mount = mount_list_add_cb};
    struct berth_error perr = {0};
    int r = PLUGIN_RUN(p, "mount", &perr, list, NULL, o->mount(p->state, &req, &res, &perr));
    return call_result(p, r, &perr, "mount", err);
}

int volume_plugin_unmount(struct plugin *p, const char *name, const char *id, struct error **err)
{
    const struct berth_volume_ops *o = vops(p);
    if (!PLUGIN_OPS_HAS(o, unmount))
        return 0;
    struct berth_volume_request req = {
        .size = sizeof(req), .volume_name = name, .options_json = "{}", .container_id = id};
    struct berth_error perr = {0};
    int r = PLUGIN_RUN(p, "unmount", &perr, NULL, NULL, o->unmount(p->state, &req, NULL, &perr));
    return call_result(p, r, &perr, "unmount", err);
}

int volume_gc(struct engine *e, struct plugin *p, char **container_ids, size_t n_container_ids,
              struct error **err)
{
    const struct berth_volume_ops *o = vops(p);
    if (!PLUGIN_OPS_HAS(o, gc))
        return 0;
    struct volume_store *vs = NULL;
    int r = volume_store_open(e->globals->root, &vs, err);
    if (r < 0)
        return r;
    int all_fd = volume_store_lock_all(vs, err);
    if (all_fd < 0) {
        volume_store_free(vs);
        return all_fd;
    }
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    if ((r = volume_store_names(vs, &names, &n, err)) == 0) {
        /* Only this driver's volumes: the rest are no business of its. */
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            cJSON *rec = NULL;
            struct error *local = NULL;
            int load = volume_store_load(vs, names[i], &rec, &local);
            /* A corrupt record still names a volume not to be lost. */
            int mine = load < 0 || !strcmp(rec_str(rec, "driver"), p->desc->name);
            cJSON_Delete(rec);
            error_free(&local);
            if (mine)
                names[kept++] = names[i];
            else
                free(names[i]);
        }
        names[kept] = NULL;
        struct berth_gc_request req = {
            .size = sizeof(req),
            .container_ids = (const char *const *)container_ids,
            .n_container_ids = (uint32_t)n_container_ids,
            .object_ids = (const char *const *)names,
            .n_object_ids = (uint32_t)kept,
        };
        struct berth_error perr = {0};
        r = call_result(p,
                        PLUGIN_RUN(p, "gc", &perr, NULL, NULL, o->gc(p->state, &req, NULL, &perr)),
                        &perr, "gc", err);
    }
    unlock_fd(all_fd);
    volume_store_free(vs);
    return r;
}
