/* The record's side of --userns=auto (container-userns.h). */
#include "lifecycle/container-userns.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/userns-opts.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/lock.h"

int container_userns_allocate(struct engine *e, cJSON *rec, int *ret_lock, struct error **err)
{
    *ret_lock = -1;
    cJSON *userns = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "security"), "userns");
    const char *mode = cJSON_GetStringValue(cJSON_GetObjectItem(userns, "mode"));
    if (!mode || strcmp(mode, "auto") != 0 || cJSON_GetObjectItem(userns, "uid_map"))
        return 0;
    _cleanup_free_ char *path = xasprintf("%s/containers/userns.lock", e->globals->root);
    int lock = lock_path(path, err);
    if (lock < 0)
        return error_prefix(err, "--userns=auto");
    _cleanup_json_ cJSON *all = NULL;
    int r = container_store_list(e->containers, &all, err);
    _cleanup_free_ struct id_range *uids = NULL, *gids = NULL;
    size_t n_uids = 0, n_gids = 0;
    const cJSON *other;
    cJSON_ArrayForEach(other, (r < 0 ? NULL : all))
    {
        const cJSON *u = cJSON_GetObjectItem(cJSON_GetObjectItem(other, "security"), "userns");
        if (userns_used_ranges(u, "uid_map", &uids, &n_uids) < 0 ||
            userns_used_ranges(u, "gid_map", &gids, &n_gids) < 0) {
            r = error_set(err, ENOMEM, "--userns=auto");
            break;
        }
    }
    const char *user = cJSON_GetStringValue(cJSON_GetObjectItem(userns, "user"));
    if (r >= 0)
        r = userns_allocate(userns, user ? user : USERNS_DEFAULT_USER, uids, n_uids, gids, n_gids,
                            err);
    if (r < 0) {
        unlock_fd(lock);
        return r;
    }
    *ret_lock = lock;
    return 0;
}

void container_userns_note_mounts(cJSON *rec, const struct mount_entry *mounts, size_t n)
{
    cJSON *userns = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "security"), "userns");
    if (!userns)
        return;
    for (size_t i = 0; i < n; i++)
        if (userns_mount_is_layered(mounts[i].options)) {
            cJSON_DeleteItemFromObjectCaseSensitive(userns, "upper_host_ids");
            cJSON_AddBoolToObject(userns, "upper_host_ids", 1);
            return;
        }
}

/* What a layer of a container in a user namespace stores for a host id it holds. */
#define UNMAPPED_ID 65534

struct shift_back {
    struct layer_pack_owners owners; /* first: what the caller frees */
    struct id_map uid, gid;
};

static uint32_t shift_id(const struct id_map *map, uint32_t host_id)
{
    int64_t id = id_map_to_container(map, host_id);
    return id < 0 ? UNMAPPED_ID : (uint32_t)id;
}

static uint32_t shift_uid(const void *ctx, uint32_t host_id)
{
    return shift_id(&((const struct shift_back *)ctx)->uid, host_id);
}

static uint32_t shift_gid(const void *ctx, uint32_t host_id)
{
    return shift_id(&((const struct shift_back *)ctx)->gid, host_id);
}

int container_userns_pack_owners(const cJSON *rec, struct layer_pack_owners **ret,
                                 struct error **err)
{
    const cJSON *userns = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "security"), "userns");
    if (!cJSON_IsTrue(cJSON_GetObjectItem(userns, "upper_host_ids"))) {
        *ret = NULL;
        return 0;
    }
    _cleanup_free_ struct shift_back *s = calloc(1, sizeof(*s));
    if (!s)
        return error_set(err, ENOMEM, "user namespace ids");
    int r;
    if ((r = id_map_from_json(cJSON_GetObjectItem(userns, "uid_map"), &s->uid, "uid_map", err)) <
            0 ||
        (r = id_map_from_json(cJSON_GetObjectItem(userns, "gid_map"), &s->gid, "gid_map", err)) < 0)
        return error_prefix(err, "the container's user namespace");
    s->owners = (struct layer_pack_owners){.uid = shift_uid, .gid = shift_gid, .ctx = s};
    *ret = &TAKE_PTR(s)->owners;
    return 0;
}
