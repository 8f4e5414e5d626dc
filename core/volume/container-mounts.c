/*
 * A container's volumes, bind mounts and tmpfs mounts: the user's specs
 * (mount-spec.c) become the record's "mounts" array at create; each start
 * asks the volume drivers for their mounts and hands everything to the
 * runtime, which mounts it inside the container with targets resolved in
 * the rootfs; each stop (and the journal's undo) tells the drivers the
 * container let go.
 *
 * Record entries: {type, source, target, read_only, options}, and for a
 * volume its driver, whether berth made it for this container (anonymous,
 * copy_up: fill it from the image on first start, as docker does).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lifecycle/container-mounts.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "volume/mount-spec.h"
#include "volume/volume-calls.h"

/* The runtime's word for "fill an empty volume from the image first". */
#define COPY_UP_OPTION "berth.copyup"

struct spec_list {
    struct mount_spec *items;
    size_t n;
};

static void spec_list_clear(struct spec_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        mount_spec_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int spec_list_add(struct spec_list *l, char **specs,
                         int (*parse)(const char *, struct mount_spec *, struct error **),
                         struct error **err)
{
    for (size_t i = 0; specs && specs[i]; i++) {
        struct mount_spec *grown = realloc(l->items, (l->n + 1) * sizeof(*grown));
        if (!grown)
            return error_set(err, ENOMEM, "mounts");
        l->items = grown;
        memset(&l->items[l->n], 0, sizeof(l->items[0]));
        int r = parse(specs[i], &l->items[l->n], err);
        if (r < 0)
            return r;
        l->n++;
    }
    return 0;
}

static size_t depth(const char *path)
{
    size_t d = 0;
    for (; *path; path++)
        d += *path == '/';
    return d;
}

/* Parents before children ("/data" before "/data/cache"), else as given. */
static void sort_by_depth(struct spec_list *l)
{
    for (size_t i = 1; i < l->n; i++) {
        struct mount_spec cur = l->items[i];
        size_t j = i;
        for (; j > 0 && depth(l->items[j - 1].target) > depth(cur.target); j--)
            l->items[j] = l->items[j - 1];
        l->items[j] = cur;
    }
}

static int check_bind_source(const char *source, struct error **err)
{
    struct stat st;
    if (stat(source, &st) < 0) {
        if (errno == ENOENT)
            return error_set_plain(err, ENOENT, "bind source '%s' does not exist", source);
        return error_set(err, errno, "bind source '%s'", source);
    }
    return 0;
}

/* Everything checked that can be without making anything. */
static int parse_all(const struct create_options *o, struct spec_list *l, struct error **err)
{
    int r;
    if ((r = spec_list_add(l, o->volumes, mount_spec_parse_volume, err)) < 0 ||
        (r = spec_list_add(l, o->mount_specs, mount_spec_parse_mount, err)) < 0 ||
        (r = spec_list_add(l, o->tmpfs, mount_spec_parse_tmpfs, err)) < 0)
        return r;
    for (size_t i = 0; i < l->n; i++) {
        for (size_t j = 0; j < i; j++)
            if (!strcmp(l->items[i].target, l->items[j].target))
                return error_set_plain(err, EINVAL, "duplicate mount target '%s'",
                                       l->items[i].target);
        if (l->items[i].kind == MOUNT_BIND && (r = check_bind_source(l->items[i].source, err)) < 0)
            return r;
    }
    sort_by_depth(l);
    return 0;
}

/* Undoes the volumes this create made, when a later one fails. */
static void remove_made(struct engine *e, struct volume_store *vs, char **made, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct error *ignored = NULL;
        volume_remove(e, vs, made[i], &ignored);
        error_free(&ignored);
    }
}

int container_mounts_create(struct engine *e, cJSON *rec, const struct create_options *o,
                            struct error **err)
{
    struct spec_list l = {0};
    int r = parse_all(o, &l, err);
    if (r < 0 || l.n == 0) {
        spec_list_clear(&l);
        return r;
    }
    struct volume_store *vs = NULL;
    if ((r = volume_store_open(e->globals->root, &vs, err)) < 0) {
        spec_list_clear(&l);
        return r;
    }
    cJSON *mounts = cJSON_CreateArray();
    _cleanup_free_ char **made = calloc(l.n + 1, sizeof(char *));
    size_t n_made = 0;
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        struct mount_spec *s = &l.items[i];
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToArray(mounts, m);
        cJSON_AddStringToObject(m, "type", mount_kind_name(s->kind));
        int anonymous = s->kind == MOUNT_VOLUME && !s->source;
        if (anonymous)
            s->source = volume_random_name();
        cJSON_AddStringToObject(m, "source", s->kind == MOUNT_TMPFS ? "tmpfs" : s->source);
        cJSON_AddStringToObject(m, "target", s->target);
        cJSON_AddBoolToObject(m, "read_only", s->read_only);
        cJSON_AddStringToObject(m, "options", s->options ? s->options : "");
        if (s->kind != MOUNT_VOLUME)
            continue;
        int created = 0;
        _cleanup_free_ char *driver = NULL;
        r = volume_create(e, vs, s->source, NULL, NULL, NULL, &created, &driver, err);
        if (r < 0) {
            error_prefix(err, "volume '%s'", s->source);
            break;
        }
        if (created)
            made[n_made++] = s->source;
        cJSON_AddStringToObject(m, "driver", driver);
        if (anonymous)
            cJSON_AddBoolToObject(m, "anonymous", 1);
        /* As docker: only a volume made now is filled from the image. */
        if (created && !s->no_copy)
            cJSON_AddBoolToObject(m, "copy_up", 1);
    }
    if (r < 0) {
        remove_made(e, vs, made, n_made);
        cJSON_Delete(mounts);
    } else {
        cJSON_DeleteItemFromObject(rec, "mounts");
        cJSON_AddItemToObject(rec, "mounts", mounts);
    }
    volume_store_free(vs);
    spec_list_clear(&l);
    return r;
}

static int push_entry(struct mount_list *ret, const char *type, const char *source,
                      const char *target, const char *options)
{
    struct mount_entry *grown = realloc(ret->items, (ret->n + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    ret->items = grown;
    struct mount_entry *me = &grown[ret->n++];
    me->type = strdup(type);
    me->source = strdup(source);
    me->target = strdup(target);
    me->options = strdup(options);
    return 0;
}

static int attach_one(struct engine *e, const char *id, const cJSON *m, struct mount_list *ret,
                      struct error **err)
{
    const char *type = rec_str(m, "type"), *source = rec_str(m, "source");
    const char *target = rec_str(m, "target"), *options = rec_str(m, "options");
    int ro = cJSON_IsTrue(cJSON_GetObjectItem(m, "read_only"));
    if (!type || !source || !target || target[0] != '/')
        return error_set_plain(err, EBADMSG, "container record has a malformed mount");
    int r;
    if (!strcmp(type, "volume")) {
        struct plugin *p = NULL;
        const char *driver = rec_str(m, "driver");
        if ((r = volume_driver_find(e->plugins, driver ? driver : "", &p, err)) < 0)
            return error_prefix(err, "volume '%s'", source);
        size_t first = ret->n;
        if ((r = volume_plugin_mount(p, source, id, target, ro, ret, err)) < 0)
            return error_prefix(err, "volume '%s'", source);
        if (cJSON_IsTrue(cJSON_GetObjectItem(m, "copy_up")))
            for (size_t i = first; i < ret->n; i++) {
                struct mount_entry *me = &ret->items[i];
                if (strcmp(me->type, "bind") || strcmp(me->target, target))
                    continue;
                char *o = me->options && *me->options
                              ? xasprintf("%s,%s", me->options, COPY_UP_OPTION)
                              : xasprintf("%s", COPY_UP_OPTION);
                free(me->options);
                me->options = o;
            }
        return 0;
    }
    if (!strcmp(type, "bind")) {
        /* Checked again: the host directory may be gone since create. */
        if ((r = check_bind_source(source, err)) < 0)
            return r;
        r = push_entry(ret, "bind", source, target, ro ? "rbind,ro" : "rbind");
    } else if (!strcmp(type, "tmpfs")) {
        _cleanup_free_ char *opts =
            xasprintf("nosuid,nodev%s%s%s", ro ? ",ro" : "", options && *options ? "," : "",
                      options ? options : "");
        r = push_entry(ret, "tmpfs", "tmpfs", target, opts);
    } else {
        return error_set_plain(err, EBADMSG, "container record has a mount of type '%s'", type);
    }
    return r < 0 ? error_set(err, -r, "mount '%s'", target) : 0;
}

int container_mounts_attach(struct engine *e, const char *id, const cJSON *rec,
                            struct mount_list *ret, struct error **err)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(rec, "mounts"))
    {
        int r = attach_one(e, id, m, ret, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int container_mounts_detach(struct engine *e, const char *id, const cJSON *rec, struct error **err)
{
    int result = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(rec, "mounts"))
    {
        const char *type = rec_str(m, "type"), *source = rec_str(m, "source");
        const char *driver = rec_str(m, "driver");
        if (!type || strcmp(type, "volume") || !source || !driver)
            continue;
        struct plugin *p = NULL;
        struct error *local = NULL;
        int r = volume_driver_find(e->plugins, driver, &p, &local);
        if (r == 0)
            r = volume_plugin_unmount(p, source, id, &local);
        /* The others are still let go; the first failure is reported. */
        if (r < 0 && result == 0) {
            result = r;
            error_free(err);
            *err = local;
            local = NULL;
        }
        error_free(&local);
    }
    return result;
}
