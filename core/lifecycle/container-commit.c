/*
 * commit: the container's driver writes the diff as a layer tar into a
 * private directory of the image store, and image_commit stores it with a
 * new config and manifest. The container's record lock is taken when it is
 * free (a stopped container cannot start or go away meanwhile); a running
 * container holds it in its own berth process, and is committed live, as
 * docker commit --pause=false does: pausing is not available yet.
 */
#include "lifecycle/container-commit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image-commit.h"
#include "image/layer-changes.h"
#include "image/layer-filter.h"
#include "lifecycle/container-userns.h"
#include "lifecycle/plugin-calls.h"
#include "plugin/plugin-host.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/lock.h"

static void cjson_deletep(cJSON **j)
{
    if (*j)
        cJSON_Delete(*j);
}

int container_find_and_lock(struct engine *e, const char *ref, cJSON **ret_rec, int *ret_fd,
                            struct error **err)
{
    cJSON *rec = NULL;
    int r = container_store_find(e->containers, ref, &rec, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *id = strdup(rec_str(rec, "id") ?: "");
    _cleanup_free_ char *path = xasprintf("%s/containers/%s.lock", e->globals->root, id);
    struct error *local = NULL;
    int fd = try_lock_path(path, &local);
    error_free(&local);
    if (fd >= 0) {
        cJSON_Delete(rec);
        rec = NULL;
        r = container_store_load(e->containers, id, &rec, err);
        if (r < 0) {
            unlock_fd(fd);
            return r == -ENOENT ? error_set_plain(err, ENOENT, "no such container: '%s'", ref) : r;
        }
    } else if (fd != -EWOULDBLOCK) {
        cJSON_Delete(rec);
        return error_set(err, -fd, "lock container '%s'", ref);
    } else {
        fd = -1;
    }
    *ret_rec = rec;
    *ret_fd = fd;
    return 0;
}

/* REC's storage driver, which must have the capability CAP (BERTH_CAP_*). */
static int driver_with(struct engine *e, const cJSON *rec, uint64_t cap, struct plugin **ret,
                       struct error **err)
{
    int r = storage_find(e->plugins, rec_str(rec, "storage_driver") ?: "", ret, err);
    if (r == 0 && !((*ret)->desc->capabilities & cap))
        r = error_set_plain(err, ENOTSUP, "not supported by driver '%s'", (*ret)->desc->name);
    return r;
}

/* The driver's diff of REC's container as the layer tar TAR, as commit stores it. */
static int diff_layer(struct plugin *p, const cJSON *rec, const char *tar, struct error **err)
{
    /* A user namespace's writable layer may hold host ids: pack_layer shifts them back. */
    _cleanup_free_ struct layer_pack_owners *owners = NULL;
    int r = container_userns_pack_owners(rec, &owners, err);
    if (r < 0)
        return r;
    p->host->pack_owners = owners;
    r = storage_diff(p, rec_str(rec, "id"), cJSON_GetObjectItem(rec, "layers"), tar, err);
    p->host->pack_owners = NULL;
    /* The empty mount points of /etc/hosts and the like are berth's, not the container's. */
    return r < 0 ? r : layer_drop_mount_points(tar, err);
}

int container_commit(struct engine *e, const struct commit_options *o, char **ret_id,
                     struct error **err)
{
    if (image_commit_check_ref(o->image_ref) < 0)
        return error_set_plain(err, EINVAL, "invalid image name '%s'", o->image_ref);
    _cleanup_(cjson_deletep) cJSON *rec = NULL;
    int lock_fd = -1;
    int r = container_find_and_lock(e, o->container, &rec, &lock_fd, err);
    if (r < 0)
        return r;
    const char *id = rec_str(rec, "id");
    struct plugin *p = NULL;
    _cleanup_(image_freep) struct image *parent = NULL;
    struct commit_dir dir = {.fd = -1};
    r = driver_with(e, rec, BERTH_CAP_DIFF, &p, err);
    if (r == 0) {
        r = image_store_resolve(e->images, rec_str(rec, "image_id") ?: "", &parent, err);
        if (r < 0)
            r = error_prefix(err, "the image of container '%s'", o->container);
    }
    if (r == 0)
        r = commit_dir_new(e->globals->root, &dir, err);
    _cleanup_free_ char *tar = dir.path ? xasprintf("%s/layer.tar", dir.path) : NULL;
    if (r == 0)
        r = diff_layer(p, rec, tar, err);
    if (r == 0) {
        _cleanup_free_ char *by = xasprintf("berth commit %s", rec_str(rec, "name") ?: id);
        struct image_commit c = {
            .parent = parent,
            .layer_tar = tar,
            .ref = o->image_ref,
            .message = o->message,
            .author = o->author,
            .created_by = by,
        };
        r = image_commit(e->images, &dir, &c, ret_id, NULL, err);
    }
    commit_dir_end(&dir);
    unlock_fd(lock_fd);
    return r;
}

int container_diff(struct engine *e, const char *ref, struct layer_change **ret, size_t *ret_n,
                   struct error **err)
{
    _cleanup_(cjson_deletep) cJSON *rec = NULL;
    int lock_fd = -1;
    int r = container_find_and_lock(e, ref, &rec, &lock_fd, err);
    if (r < 0)
        return r;
    struct plugin *p = NULL;
    _cleanup_(image_freep) struct image *img = NULL;
    struct commit_dir dir = {.fd = -1};
    r = driver_with(e, rec, BERTH_CAP_DIFF, &p, err);
    if (r == 0 &&
        (r = image_store_resolve(e->images, rec_str(rec, "image_id") ?: "", &img, err)) < 0)
        r = error_prefix(err, "the image of container '%s'", ref);
    if (r == 0)
        r = commit_dir_new(e->globals->root, &dir, err);
    _cleanup_free_ char *tar = dir.path ? xasprintf("%s/layer.tar", dir.path) : NULL;
    if (r == 0)
        r = diff_layer(p, rec, tar, err);
    unlock_fd(lock_fd);
    struct strset paths = {0};
    if (r == 0)
        r = image_paths_load(img, &paths, err);
    if (r == 0)
        r = layer_changes(tar, &paths, ret, ret_n, err);
    strset_done(&paths);
    commit_dir_end(&dir);
    return r;
}

int container_snapshot(struct engine *e, enum storage_snapshot_op op, const char *ref,
                       const char *name, struct error **err)
{
    if (!snapshot_name_is_valid(name))
        return error_set_plain(err, EINVAL,
                               "invalid snapshot name '%s': use [A-Za-z0-9][A-Za-z0-9_.-]*, "
                               "at most 128 bytes",
                               name);
    _cleanup_(cjson_deletep) cJSON *rec = NULL;
    int lock_fd = -1;
    int r = container_find_and_lock(e, ref, &rec, &lock_fd, err);
    if (r < 0)
        return r;
    struct plugin *p = NULL;
    r = driver_with(e, rec, BERTH_CAP_SNAPSHOTS, &p, err);
    if (r == 0 && op == STORAGE_SNAPSHOT_RESTORE && lock_fd < 0)
        r = error_set_plain(err, EBUSY, "container '%s' is running: stop it first", ref);
    if (r == 0)
        r = storage_snapshot(p, op, rec_str(rec, "id"), name, err);
    unlock_fd(lock_fd);
    return r;
}

int container_snapshot_list(struct engine *e, const char *ref, char **ret_json, struct error **err)
{
    _cleanup_(cjson_deletep) cJSON *rec = NULL;
    int r = container_store_find(e->containers, ref, &rec, err);
    if (r < 0)
        return r;
    struct plugin *p = NULL;
    r = storage_find(e->plugins, rec_str(rec, "storage_driver") ?: "", &p, err);
    if (r < 0)
        return r;
    return storage_snapshot_list(p, rec_str(rec, "id"), ret_json, err);
}
