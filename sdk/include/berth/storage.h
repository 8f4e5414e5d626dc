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
 * by the host and valid during the call only. STATE is what init stored.
 * Everything here is ABI 1.0 unless it says "added in ABI 1.1".
 *
 * Order of calls for one image and one container: has_layer/add_layer for
 * each layer bottom up (image pull or import), then per container prepare
 * (create and every start), release (every stop), remove (delete); diff
 * and the snapshot operations between them; remove_layer when no image
 * uses a layer; gc after a crash and from `berth system gc`. A required
 * member (has_layer, add_layer, prepare, remove, gc) must not be NULL.
 */
#ifndef BERTH_STORAGE_H
#define BERTH_STORAGE_H

#include <berth/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One image layer, identified as the OCI image spec does (ABI 1.0). */
struct berth_layer_ref {
    uint32_t size;
    const char *diff_id;         /* "sha256:…" of the uncompressed layer tar */
    const char *chain_id;        /* "sha256:…" identity of this layer on top of its parents */
    const char *parent_chain_id; /* chain id of the layer below, NULL for the base */
};

/* add_layer: unpack one layer so that later prepares can use it (ABI 1.0). */
struct berth_layer_request {
    uint32_t size;
    struct berth_layer_ref layer;
    const char *tar_path; /* the layer blob: tar, tar+gzip or tar+zstd */
};

/* A mount the runtime performs inside the container, in order (ABI 1.0).
 * The strings are the plugin's and need only live until add_mount returns
 * (the host copies them). Options the runtime understands besides
 * mount(8)'s: "bind"/"rbind" (a bind mount of SOURCE), "ro". */
struct berth_mount {
    uint32_t size;
    const char *type;    /* filesystem type as mount(2) takes it, or "bind" */
    const char *source;  /* host path or a filesystem-specific source */
    const char *target;  /* path inside the container; "/" is the root */
    const char *options; /* comma-separated, as mount(8) takes them; may be NULL */
};

/* prepare: make the container's writable layer on top of LAYERS (ABI 1.0). */
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
 * prepare's result (ABI 1.0; volume mount uses it too): the driver calls
 * add_mount() once per mount, the root ("/") first. The host copies every
 * string. add_mount returns 0, -EINVAL (no type or target) or -ENOMEM; on
 * failure the operation should return that value.
 */
struct berth_storage_prepare_result {
    uint32_t size;
    void *host_ctx;
    int (*add_mount)(void *host_ctx, const struct berth_mount *mount);
};

/* release and remove name only the container (ABI 1.0). */
struct berth_storage_container_request {
    uint32_t size;
    const char *container_id;
};

/*
 * diff (added in ABI 1.1): write the container's changes against its image
 * as an OCI layer tar (uncompressed) at TAR_PATH, which the driver creates.
 * Deletions are ".wh.NAME" entries, a directory whose lower content is
 * hidden has a ".wh..wh..opq" entry; owners, modes, xattrs, hardlinks and
 * symlinks are kept. berth_services.pack_layer does the packing for a
 * driver that can present its changes as an overlay-style directory.
 */
struct berth_storage_diff_request {
    uint32_t size;
    const char *container_id;
    const struct berth_layer_ref *layers; /* the container's image, bottom first */
    uint32_t n_layers;
    const char *tar_path; /* to create; its directory exists */
};

/*
 * snapshot_save, snapshot_restore, snapshot_remove (added in ABI 1.1): a
 * named filesystem snapshot of a container's writable layer. NAME is
 * [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 bytes (checked by the host).
 * The host calls restore only on a container that is not running.
 * Snapshots go with the container (remove).
 */
struct berth_storage_snapshot_request {
    uint32_t size;
    const char *container_id;
    const char *name;
};

struct berth_storage_ops {
    uint32_t size; /* sizeof(struct berth_storage_ops) */

    /* Returns 1 if the layer is present and complete, 0 if not, or -errno.
     * RES is NULL. Must not change anything. */
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
     * container (restart) reuses the writable layer. May assume every layer
     * in REQ is present (has_layer said 1). Mounts nothing on the host. On
     * failure it leaves no new writable layer behind (the host also calls
     * remove when rolling back).
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
     * image layer not in REQ->layer_ids, and whatever a crash left half
     * made. Runs with no container of the plugin starting or stopping. */
    int (*gc)(void *state, const struct berth_gc_request *req, void *res, struct berth_error *err);

    /* Describes the driver (backing filesystem, paths, counts) as a JSON
     * object through RES->put (`berth info`). REQ is NULL. May be NULL. */
    int (*info)(void *state, const void *req, struct berth_text_result *res,
                struct berth_error *err);

    /* Added in ABI 1.1: writes the container's changes as a layer tar (see
     * struct berth_storage_diff_request). Announce BERTH_CAP_DIFF. */
    int (*diff)(void *state, const struct berth_storage_diff_request *req, void *res,
                struct berth_error *err);
    /* Added in ABI 1.1: saves the container's writable layer as NAME;
     * -EEXIST if NAME exists. Announce BERTH_CAP_SNAPSHOTS. */
    int (*snapshot_save)(void *state, const struct berth_storage_snapshot_request *req, void *res,
                         struct berth_error *err);
    /* Added in ABI 1.1: makes snapshot NAME the container's writable layer
     * again (the container is stopped); -ENOENT if there is no NAME. */
    int (*snapshot_restore)(void *state, const struct berth_storage_snapshot_request *req,
                            void *res, struct berth_error *err);
    /* Added in ABI 1.1: removes snapshot NAME; -ENOENT if there is none. */
    int (*snapshot_remove)(void *state, const struct berth_storage_snapshot_request *req, void *res,
                           struct berth_error *err);
    /* Added in ABI 1.1: the container's snapshots as a JSON array of
     * {"name": TEXT, "created": UNIX_SECONDS}, oldest first, through RES->put.
     * REQ's name is NULL. */
    int (*snapshot_list)(void *state, const struct berth_storage_snapshot_request *req,
                         struct berth_text_result *res, struct berth_error *err);
};

#ifdef __cplusplus
}
#endif

#endif
