/* SPDX-License-Identifier: MIT */
/*
 * The overlay storage driver's private declarations. Only the files of this
 * driver include it; like any plugin it sees nothing of berth but <berth/…>.
 *
 * State directory layout (services->state_dir):
 *
 *   layers/KEY/diff        a layer's unpacked content, KEY from its diff id
 *   layers/KEY/link        the short name of the layer under l/
 *   layers/KEY/chains      chain ids that use this layer, one per line
 *   layers/tmp-KEY-XXXXXX  a layer being unpacked (renamed into place)
 *   l/SHORT -> ../layers/KEY/diff   short paths, so lowerdir= stays short
 *   containers/ID/{upper,work}      each container's writable layer
 *   empty/                 the lower dir of a container with no layer
 *   trash/PID-XXXXXX       whatever is being deleted, renamed here first
 */
#ifndef OVERLAY_H
#define OVERLAY_H

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <berth/fsutil.h>
#include <berth/storage.h>

struct overlay {
    const struct berth_services *services;
    int state_fd;        /* the state dir, O_DIRECTORY */
    int has_index_param; /* the kernel knows overlay's index= option */
};

/* Cleanup attributes: the SDK has none and plugins may not use the core's. */
static inline void freep(void *p)
{
    free(*(void **)p);
}
static inline void closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
static inline void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))

/* Longest layer key: "sha512-" and 128 hex digits, with room to spare. */
#define LAYER_KEY_MAX 160
/* Short names under l/ start at this many hex digits and grow on a clash. */
#define SHORT_NAME_MIN 12

/* Small-file helpers (small-files.c): read a whole file (at most 1 MiB)
 * as a NUL-terminated string; write one atomically (temp, fsync, rename). */
int read_text_at(int dir_fd, const char *path, char **ret);
int write_text_at(int dir_fd, const char *name, const char *text);
/* A digest-like id: non-empty, at most 255 bytes of [A-Za-z0-9:+._=-]. */
int id_text_valid(const char *id);

/* overlay-layers.c */
int layer_key(const char *diff_id, char ret_key[static LAYER_KEY_MAX]);
/* Reads layers/KEY/link into RET_SHORT; returns 0, -ENOENT if the layer is
 * not complete, or another -errno. */
int layer_short_name(struct overlay *ov, const char *key, char ret_short[static LAYER_KEY_MAX]);
int layer_has_chain(struct overlay *ov, const char *key, const char *chain_id);
int overlay_has_layer(void *state, const struct berth_layer_ref *req, void *res,
                      struct berth_error *err);
int overlay_add_layer(void *state, const struct berth_layer_request *req, void *res,
                      struct berth_error *err);
int overlay_remove_layer(void *state, const struct berth_layer_ref *req, void *res,
                         struct berth_error *err);
/* gc of layers/ and l/: keeps a layer whose diff id or any chain id is in
 * the request. Like containers_gc, describes its first failure in ERR unless
 * ERR is NULL (an earlier part of gc already failed). */
int layers_gc(struct overlay *ov, const struct berth_gc_request *req, struct berth_error *err);

/* overlay-containers.c */
int container_id_valid(const char *id);
int overlay_prepare(void *state, const struct berth_storage_prepare_request *req,
                    struct berth_storage_prepare_result *res, struct berth_error *err);
int overlay_release(void *state, const struct berth_storage_container_request *req, void *res,
                    struct berth_error *err);
int overlay_remove(void *state, const struct berth_storage_container_request *req, void *res,
                   struct berth_error *err);
int containers_gc(struct overlay *ov, const struct berth_gc_request *req, struct berth_error *err);

/* overlay-diff.c: the upper dir packed as a layer (berth_services.pack_layer). */
int overlay_diff(void *state, const struct berth_storage_diff_request *req, void *res,
                 struct berth_error *err);

/* overlay-snapshots.c: containers/ID/snapshots/NAME/upper, copies of the
 * upper dir (whiteouts and opaque xattrs included). */
int overlay_snapshot_save(void *state, const struct berth_storage_snapshot_request *req, void *res,
                          struct berth_error *err);
int overlay_snapshot_restore(void *state, const struct berth_storage_snapshot_request *req,
                             void *res, struct berth_error *err);
int overlay_snapshot_remove(void *state, const struct berth_storage_snapshot_request *req,
                            void *res, struct berth_error *err);
int overlay_snapshot_list(void *state, const struct berth_storage_snapshot_request *req,
                          struct berth_text_result *res, struct berth_error *err);

#endif
