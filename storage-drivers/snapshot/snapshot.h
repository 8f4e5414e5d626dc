/* SPDX-License-Identifier: MIT */
/*
 * The snapshot storage driver's private declarations. Only the files of this
 * driver include it; like any plugin it sees nothing of berth but <berth/…>.
 *
 * State directory layout (services->state_dir):
 *
 *   layers/KEY               the full tree of an image up to one layer, KEY
 *                            from the layer's CHAIN id: a btrfs subvolume
 *                            (read-only) or a plain directory
 *   layers/tmp-KEY-XXXXXXXX  a layer being built (renamed into place)
 *   containers/ID/rootfs     the container's writable snapshot or copy
 *   containers/ID/tmp-rootfs a container root being made
 *   trash/PID-XXXXXXXX       whatever is being deleted, renamed here first
 *   probe-*                  the reflink probe of init, if a crash left it
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <berth/fsutil.h>
#include <berth/storage.h>

/* How layers and containers are made; chosen once at init. */
enum snapshot_mode {
    MODE_BTRFS,   /* subvolumes and snapshots: O(1) per layer and container */
    MODE_REFLINK, /* a tree walk that clones file extents (FICLONE) */
    MODE_COPY,    /* a tree walk that copies data, keeping holes */
};

struct snapshot {
    const struct berth_services *services;
    int state_fd; /* the state dir, O_DIRECTORY */
    enum snapshot_mode mode;
};

const char *mode_name(enum snapshot_mode mode);

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

/* snapshot-layers.c */
/* "sha256:HEX" → "HEX"; "ALGO:HEX" → "ALGO-HEX". Returns 0 or -EINVAL. */
int layer_key(const char *id, char ret_key[static LAYER_KEY_MAX]);
/* The key of REF: its chain id, or its diff id for a base layer without one
 * (the OCI chain id of a base layer is its diff id). */
int layer_ref_key(const struct berth_layer_ref *ref, char ret_key[static LAYER_KEY_MAX]);
/* Takes the lock that guards layers/KEY against removal and concurrent
 * builds. */
int lock_layer(struct snapshot *sn, const char *key, int *ret_token);
void unlock_layer(struct snapshot *sn, int token);
/* 1 if layers/KEY is present (complete), 0 if not, or -errno. */
int layer_present(struct snapshot *sn, const char *key);
/* Makes DIR_FD/NAME a new writable tree holding the content of SRC_FD (a
 * layer), or an empty root (0755 root:root) when SRC_FD is -1: a snapshot
 * in btrfs mode, else a copy. Used for layers and containers alike. */
int make_tree_from(struct snapshot *sn, int src_fd, int dir_fd, const char *name);
int snapshot_has_layer(void *state, const struct berth_layer_ref *req, void *res,
                       struct berth_error *err);
int snapshot_add_layer(void *state, const struct berth_layer_request *req, void *res,
                       struct berth_error *err);
int snapshot_remove_layer(void *state, const struct berth_layer_ref *req, void *res,
                          struct berth_error *err);
/* gc of layers/: keeps a layer whose chain id is in the request. Describes
 * its first failure in ERR unless ERR is NULL. */
int layers_gc(struct snapshot *sn, const struct berth_gc_request *req, struct berth_error *err);

/* snapshot-containers.c */
int container_id_valid(const char *id);
int snapshot_prepare(void *state, const struct berth_storage_prepare_request *req,
                     struct berth_storage_prepare_result *res, struct berth_error *err);
int snapshot_release(void *state, const struct berth_storage_container_request *req, void *res,
                     struct berth_error *err);
int snapshot_remove(void *state, const struct berth_storage_container_request *req, void *res,
                    struct berth_error *err);
int containers_gc(struct snapshot *sn, const struct berth_gc_request *req, struct berth_error *err);

/* tree-diff.c: the container's changes against its top layer, packed by
 * berth_services.pack_layer (ABI 1.1). */
int snapshot_diff(void *state, const struct berth_storage_diff_request *req, void *res,
                  struct berth_error *err);

/* snapshot-fs-snapshots.c: containers/ID/snapshots/NAME/tree (ABI 1.1). */
int snapshot_fs_save(void *state, const struct berth_storage_snapshot_request *req, void *res,
                     struct berth_error *err);
int snapshot_fs_restore(void *state, const struct berth_storage_snapshot_request *req, void *res,
                        struct berth_error *err);
int snapshot_fs_remove(void *state, const struct berth_storage_snapshot_request *req, void *res,
                       struct berth_error *err);
int snapshot_fs_list(void *state, const struct berth_storage_snapshot_request *req,
                     struct berth_text_result *res, struct berth_error *err);

/* btrfs-ops.c: subvolumes through the kernel's ioctls, no btrfs-progs. */
#define BTRFS_MAGIC_NUMBER 0x9123683EUL
/* 1 if FD is the root directory of a btrfs subvolume, 0 if not, or -errno. */
int btrfs_is_subvolume(int fd);
/* Creates an empty subvolume DIR_FD/NAME. */
int btrfs_subvol_create(int dir_fd, const char *name);
/* Snapshots the subvolume SRC_FD as DIR_FD/NAME, read-only if READONLY. */
int btrfs_snapshot(int src_fd, int dir_fd, const char *name, int readonly);
/* Sets or clears the read-only flag of the subvolume FD. */
int btrfs_set_readonly(int fd, int readonly);
/* Deletes the subvolume DIR_FD/NAME with every subvolume nested in it
 * (a container may have made some). Absent is not an error. */
int btrfs_subvol_delete(int dir_fd, const char *name);

/* berth_tree_remove's options here: a btrfs subvolume met on the way (at the
 * top or nested; a container may make some) is deleted with its ioctl. */
extern const struct berth_remove_options subvolume_removal;

#endif
