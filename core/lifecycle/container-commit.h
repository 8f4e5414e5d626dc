/*
 * Container verbs of storage drivers' ABI 1.1 operations: commit (a
 * container's changes as a new image) and filesystem snapshots of a
 * container's writable layer.
 */
#ifndef BERTH_CONTAINER_COMMIT_H
#define BERTH_CONTAINER_COMMIT_H

#include <cjson/cJSON.h>

#include "image/layer-changes.h"
#include "lifecycle/engine.h"
#include "lifecycle/storage-calls.h"

struct commit_options {
    const char *container; /* name, id or unique id prefix */
    const char *image_ref; /* NAME[:TAG] */
    const char *message;   /* -m, may be NULL */
    const char *author;    /* --author, may be NULL */
};

/*
 * Finds REF and takes its record lock unless a running berth holds it
 * (commit, snapshots, cp): *RET_FD is the lock's descriptor, or -1 when the
 * container runs; *RET_REC is the record, reloaded under the lock when it
 * was taken.
 */
int container_find_and_lock(struct engine *e, const char *ref, cJSON **ret_rec, int *ret_fd,
                            struct error **err);

/*
 * Commits the container (running or not) as image IMAGE_REF. Stores the new
 * image id in *RET_ID (caller frees). On failure nothing is stored.
 */
int container_commit(struct engine *e, const struct commit_options *o, char **ret_id,
                     struct error **err);

/*
 * The changes of the container (running or not) against its image, as
 * docker diff lists them (image/layer-changes.h); free with
 * layer_changes_free.
 */
int container_diff(struct engine *e, const char *ref, struct layer_change **ret, size_t *ret_n,
                   struct error **err);

/* save, restore (the container must not be running) or remove snapshot
 * NAME of container REF. */
int container_snapshot(struct engine *e, enum storage_snapshot_op op, const char *ref,
                       const char *name, struct error **err);
/* The container's snapshots as the driver's JSON array (caller frees). */
int container_snapshot_list(struct engine *e, const char *ref, char **ret_json, struct error **err);

#endif
