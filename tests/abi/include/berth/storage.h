/* SPDX-License-Identifier: MIT */
/*
 * Storage drivers (BERTH_KIND_STORAGE): they keep unpacked image layers and
 * each container's writable layer, and describe the mounts that make a
 * container's root filesystem. A storage driver never mounts anything on the
 * host: berth's runtime performs the mounts inside the container's own mount
 * namespace, so the root filesystem exists only while the container does.
 *
 * Every operation returns 0 or a negative errno and, on failure, may describe
 * it with berth_services.set_error(ERR, ...). Strings in requests are owned
 * by the host and valid during the call only.
 */
#ifndef BERTH_STORAGE_H
#define BERTH_STORAGE_H

#include <berth/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One image layer, identified as the OCI image spec does. */
struct berth_layer_ref {
    uint32_t size;
    const char *diff_id;         /* "sha256:…" of the uncompressed layer tar */
    const char *chain_id;        /* "sha256:…" identity of this layer on top of its parents */
    const char *parent_chain_id; /* chain id of the layer below, NULL for the base */
};

/* add_layer: unpack one layer so that later prepares can use it. */
struct berth_layer_request {
    uint32_t size;
    struct berth_layer_ref layer;
    const char *tar_path; /* the layer blob: tar, tar+gzip or tar+zstd */
};

/* A mount the runtime performs inside the container, in order. */
struct berth_mount {
    uint32_t size;
    const char *type;    /* filesystem type as mount(2) takes it, or "bind" */
    const char *source;  /* host path or a filesystem-specific source */
    const char *target;  /* path inside the container; "/" is the root */
    const char *options; /* comma-separated, as mount(8) takes them; may be NULL */
};

/* prepare: make the container's writable layer on top of LAYERS. */
struct berth_storage_prepare_request {
    uint32_t size;
    const char *container_id;
    const struct berth_layer_ref *layers; /* bottom first; n_layers may be 0 */
    uint32_t n_layers;
    uint32_t read_only; /* non-zero: the root must be mounted read-only */
    /* Per-container options as a JSON object, "{}" if none. The host sets
     * "transient": true for a container removed when it exits (run --rm):
     * the driver may then skip durability (overlay mounts "volatile"). */
    const char *options_json;
};

/*
 * prepare's result: the driver calls add_mount() once per mount, the root
 * ("/") first. The host copies every string.
 */
struct berth_storage_prepare_result {
    uint32_t size;
    void *host_ctx;
    int (*add_mount)(void *host_ctx, const struct berth_mount *mount);
};

/* release and remove name only the container. */
struct berth_storage_container_request {
    uint32_t size;
    const char *container_id;
};

struct berth_storage_ops {
    uint32_t size; /* sizeof(struct berth_storage_ops) */

    /* Returns 1 if the layer is present and complete, 0 if not, or -errno.
     * RES may be NULL. */
    int (*has_layer)(void *state, const struct berth_layer_ref *req, void *res,
                     struct berth_error *err);
    /*
     * Unpacks a layer whose parent (if any) is already present. Must be
     * atomic: after a failure or a crash nothing of the layer is visible to
     * has_layer. Idempotent: adding a present layer returns 0.
     */
    int (*add_layer)(void *state, const struct berth_layer_request *req, void *res,
                     struct berth_error *err);
    /* Removes a layer no image uses any more; absent is not an error. */
    int (*remove_layer)(void *state, const struct berth_layer_ref *req, void *res,
                        struct berth_error *err);

    /*
     * Creates the container's writable layer if it does not exist and reports
     * the mounts of its root filesystem. Calling it again for the same
     * container (restart) reuses the writable layer.
     */
    int (*prepare)(void *state, const struct berth_storage_prepare_request *req,
                   struct berth_storage_prepare_result *res, struct berth_error *err);
    /* The container stopped: drop anything held for its running time. The
     * writable layer stays. Idempotent. */
    int (*release)(void *state, const struct berth_storage_container_request *req, void *res,
                   struct berth_error *err);
    /* The container is deleted: remove its writable layer. Idempotent. */
    int (*remove)(void *state, const struct berth_storage_container_request *req, void *res,
                  struct berth_error *err);

    /* Removes every container layer not in REQ->container_ids and every
     * image layer not in REQ->layer_ids. */
    int (*gc)(void *state, const struct berth_gc_request *req, void *res, struct berth_error *err);

    /* Describes the driver (backing filesystem, paths, counts) as a JSON
     * object through RES->put. */
    int (*info)(void *state, const void *req, struct berth_text_result *res,
                struct berth_error *err);
};

#ifdef __cplusplus
}
#endif

#endif
