/* SPDX-License-Identifier: MIT */
/*
 * Filesystem helpers for storage and volume drivers: libberth-fsutil.a, a
 * static library shipped with the SDK (pkg-config berth-fsutil, CMake target
 * BerthPlugin::fsutil). It is linked into the plugin, so nothing of it
 * crosses the plugin boundary and it is not part of the plugin ABI: a plugin
 * built against one version keeps working with every berth of the same ABI
 * major. Its symbols stay hidden in the plugin (built -fvisibility=hidden
 * and kept local by the SDK's version script).
 *
 * Added with SDK 1.1. Every function is safe to call from any thread on
 * distinct trees, allocates only what it frees before returning, keeps no
 * global state, and opens every descriptor O_CLOEXEC.
 */
#ifndef BERTH_FSUTIL_H
#define BERTH_FSUTIL_H

#ifdef __cplusplus
extern "C" {
#endif

/* How berth_tree_copy moves file data. */
struct berth_copy_options {
    /* Non-zero: try FICLONE per file before copying data (see
     * berth_reflink_supported); a file the clone refuses is copied. */
    int reflink;
};

/*
 * Copies the directory SRC_FD and everything below it to DIR_FD/NAME, which
 * must not exist. The copy is the same tree to a container: owners, modes
 * (setuid, setgid, sticky), times, every xattr (security.capability and
 * trusted.overlay.* included), hardlinks (as hardlinks), symlinks, device
 * nodes (overlay whiteouts), fifos, sockets, and the holes of sparse files.
 * The root gets SRC_FD's own mode, owner and times. The walk is iterative and
 * holds a bounded number of descriptors at any depth; it never follows a
 * symlink. OPTS may be NULL (plain copy).
 *
 * Returns 0 or a negative errno. On failure DIR_FD/NAME may be half made:
 * build under a temporary name and rename it into place on success.
 */
int berth_tree_copy(int src_fd, int dir_fd, const char *name,
                    const struct berth_copy_options *opts);

/*
 * Whether the filesystem holding the directory DIR_FD clones file extents
 * with FICLONE (btrfs, xfs with reflink, bcachefs): 1 yes, 0 no, or a
 * negative errno if that could not be found out. Leaves nothing behind
 * (it probes with two unnamed O_TMPFILE files).
 */
int berth_reflink_supported(int dir_fd);

/* How berth_tree_remove treats the directories it meets. */
struct berth_remove_options {
    /*
     * Optional. Called for each directory the walk is about to enter (the
     * top one included; never a symlink or a mount point), with FD open on
     * DIR_FD/NAME (read only; the walk closes it). Returns 1 after deleting
     * DIR_FD/NAME itself (a btrfs subvolume with its ioctl, say), 0 to let
     * the walk empty and remove it, or a negative errno to stop the walk.
     */
    int (*delete_dir)(void *ctx, int dir_fd, const char *name, int fd);
    void *ctx; /* passed to delete_dir */
};

/*
 * Deletes DIR_FD/NAME and everything below it, at any depth with a few
 * descriptors: never follows a symlink, never enters a mount point or
 * another filesystem (-EBUSY), makes a directory it cannot open or empty
 * (mode 000, as overlay's work dirs) accessible first. A directory moved
 * while the walk is inside it stops the walk (-ESTALE) rather than deleting
 * elsewhere. Absent is not an error; a file or symlink NAME is unlinked.
 * OPTS may be NULL. Returns 0 or a negative errno.
 */
int berth_tree_remove(int dir_fd, const char *name, const struct berth_remove_options *opts);

/* Size of a trash entry's name, "trash/PID-RANDOM" and its terminator. */
#define BERTH_TRASH_NAME_MAX 64

/*
 * The trash: deleting a big tree takes time, and a crash halfway must not
 * leave half a layer under its old name. berth_trash_move renames
 * DIR_FD/NAME (same filesystem) to STATE_FD/trash/PID-RANDOM, which must
 * exist as a directory; returns 1 and that path (relative to STATE_FD) in
 * RET_NAME, 0 if NAME is absent, or a negative errno.
 */
int berth_trash_move(int state_fd, int dir_fd, const char *name,
                     char ret_name[static BERTH_TRASH_NAME_MAX]);
/* berth_trash_move, then berth_tree_remove of the trash entry. */
int berth_trash_remove(int state_fd, int dir_fd, const char *name,
                       const struct berth_remove_options *opts);
/*
 * Removes the entries of STATE_FD/trash/ whose process is gone (a crash's
 * leftovers; the calling process's own entries count as leftovers, so call
 * it while removing nothing else). Absent trash/ is not an error. Returns 0
 * or the first negative errno, after trying every entry.
 */
int berth_trash_gc(int state_fd, const struct berth_remove_options *opts);

#ifdef __cplusplus
}
#endif

#endif
