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

#ifdef __cplusplus
}
#endif

#endif
