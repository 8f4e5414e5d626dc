/* SPDX-License-Identifier: MIT */
/*
 * Volume drivers (BERTH_KIND_VOLUME) keep named persistent volumes and, like
 * storage drivers, describe mounts instead of performing them on the host.
 * Everything here is ABI 1.0. Every operation returns 0 or a negative errno
 * (described once with berth_services.set_error); strings in requests are
 * the host's, valid during the call. The host owns a volume's existence
 * (its record, labels, which containers use it); the driver owns its
 * content. Order: create, then mount/unmount once per container start and
 * stop (any number of containers at once), remove; gc after a crash.
 * create, remove, mount and gc must not be NULL.
 *
 * sdk/examples/loop/loop-volume.c is a complete volume driver.
 */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <berth/storage.h>

#ifdef __cplusplus
extern "C" {
#endif

struct berth_volume_request {
    uint32_t size;
    const char *volume_name;  /* [a-zA-Z0-9][a-zA-Z0-9_.-]*, checked by the host */
    const char *options_json; /* driver options, "{}" if none */
    const char *container_id; /* mount/unmount: the container; NULL otherwise */
    const char *target;       /* mount: path inside the container */
    uint32_t read_only;       /* mount: non-zero for read-only */
};

struct berth_volume_ops {
    uint32_t size; /* sizeof(struct berth_volume_ops) */
    /* Makes the volume from REQ->options_json (the driver checks them and
     * refuses what it does not know with -EINVAL). Creating one that exists
     * returns 0 (the host compares driver and options). Atomic: after a
     * failure or a crash nothing of the volume is visible. */
    int (*create)(void *state, const struct berth_volume_request *req, void *res,
                  struct berth_error *err);
    /* Deletes the volume and its content. -EBUSY while a container has it
     * mounted; absent is 0. */
    int (*remove)(void *state, const struct berth_volume_request *req, void *res,
                  struct berth_error *err);
    /* Reports through RES->add_mount the mounts that attach the volume at
     * req->target for req->container_id (read-only if req->read_only). The
     * runtime performs them in the container's mount namespace; the
     * driver mounts nothing on the host. Anything it sets up for the
     * container (a device, a user record) is undone by unmount. */
    int (*mount)(void *state, const struct berth_volume_request *req,
                 struct berth_storage_prepare_result *res, struct berth_error *err);
    /* The container stopped (its mounts are gone with its namespace):
     * undo what mount set up for it. Idempotent, succeeds for an unknown
     * volume or container. May be NULL. */
    int (*unmount)(void *state, const struct berth_volume_request *req, void *res,
                   struct berth_error *err);
    /* Describes a volume (mountpoint, size, options) as a JSON object
     * through RES->put; berth adds labels and containers. May be NULL. */
    int (*inspect)(void *state, const struct berth_volume_request *req,
                   struct berth_text_result *res, struct berth_error *err);
    /* Drops what mount holds for containers not in REQ->container_ids;
     * when REQ->object_ids is not NULL, removes the volumes not in it. */
    int (*gc)(void *state, const struct berth_gc_request *req, void *res, struct berth_error *err);
};

#ifdef __cplusplus
}
#endif

#endif
