/* SPDX-License-Identifier: MIT */
/*
 * Volume drivers (BERTH_KIND_VOLUME) keep named persistent volumes and, like
 * storage drivers, describe mounts instead of performing them on the host.
 */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <berth/storage.h>

#ifdef __cplusplus
extern "C" {
#endif

struct berth_volume_request {
    uint32_t size;
    const char *volume_name;
    const char *options_json; /* driver options, "{}" if none */
    const char *container_id; /* mount/unmount: the container; NULL otherwise */
    const char *target;       /* mount: path inside the container */
    uint32_t read_only;       /* mount: non-zero for read-only */
};

struct berth_volume_ops {
    uint32_t size; /* sizeof(struct berth_volume_ops) */
    int (*create)(void *state, const struct berth_volume_request *req, void *res,
                  struct berth_error *err);
    int (*remove)(void *state, const struct berth_volume_request *req, void *res,
                  struct berth_error *err);
    /* Reports the mounts that attach the volume at req->target. */
    int (*mount)(void *state, const struct berth_volume_request *req,
                 struct berth_storage_prepare_result *res, struct berth_error *err);
    int (*unmount)(void *state, const struct berth_volume_request *req, void *res,
                   struct berth_error *err);
    /* Describes a volume (mountpoint, size, options) as a JSON object. */
    int (*inspect)(void *state, const struct berth_volume_request *req,
                   struct berth_text_result *res, struct berth_error *err);
    /* Removes anything held for volumes not in REQ->object_ids. */
    int (*gc)(void *state, const struct berth_gc_request *req, void *res, struct berth_error *err);
};

#ifdef __cplusplus
}
#endif

#endif
