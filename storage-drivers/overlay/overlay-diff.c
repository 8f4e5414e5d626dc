/* SPDX-License-Identifier: MIT */
/*
 * The diff of a container (ABI 1.1, for commit): overlay's upper dir already
 * is the change set in overlay's own whiteout format (character devices 0/0
 * and the trusted.overlay.opaque xattr), so the host's pack_layer turns it
 * into an OCI layer as it is. The driver mounts with redirect_dir and
 * metacopy at the kernel's defaults, off on Debian; pack_layer refuses an
 * upper dir that uses either, as it would not be the whole diff.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "overlay.h"

int overlay_diff(void *state, const struct berth_storage_diff_request *req, void *res,
                 struct berth_error *err)
{
    struct overlay *ov = state;
    const struct berth_services *s = ov->services;
    (void)res;
    if (!req || !container_id_valid(req->container_id) || !req->tar_path) {
        s->set_error(err, EINVAL, "invalid diff request for container '%s'",
                     req && req->container_id ? req->container_id : "(null)");
        return -EINVAL;
    }
    if (s->size < offsetof(struct berth_services, pack_layer) + sizeof(s->pack_layer) ||
        !s->pack_layer) {
        s->set_error(err, ENOTSUP, "diff needs berth 1.1's pack_layer service");
        return -ENOTSUP;
    }
    char path[160];
    snprintf(path, sizeof(path), "containers/%s/upper", req->container_id);
    struct stat st;
    int r = fstatat(ov->state_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno
            : !S_ISDIR(st.st_mode)                                    ? -ENOTDIR
                                                                      : 0;
    if (r < 0) {
        s->set_error(err, -r, "container '%s' has no writable layer", req->container_id);
        return r;
    }
    _cleanup_free_ char *upper = NULL;
    if (asprintf(&upper, "%s/%s", s->state_dir, path) < 0) {
        s->set_error(err, ENOMEM, "diff of container '%s'", req->container_id);
        return -ENOMEM;
    }
    return s->pack_layer(s->host, upper, req->tar_path, BERTH_WHITEOUT_CHARDEV, err);
}
