/* The record's side of --userns=auto (container-userns.h). */
#include "lifecycle/container-userns.h"

#include <errno.h>
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
