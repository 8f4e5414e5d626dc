/* SPDX-License-Identifier: MIT */
/*
 * The pure decisions of the snapshot driver's diff (tree-diff.c), apart so
 * that unit tests can compile them alone: how a path of the container
 * compares with the same path of the image's top layer.
 */
#ifndef SNAPSHOT_DIFF_CLASSIFY_H
#define SNAPSHOT_DIFF_CLASSIFY_H

#include <stddef.h>
#include <sys/stat.h>

enum diff_class {
    DIFF_SAME,          /* unchanged: not in the layer */
    DIFF_CHECK_XATTRS,  /* metadata equal: unchanged unless the xattrs differ */
    DIFF_CHECK_CONTENT, /* metadata equal but mtimes too coarse to trust:
                         * compare the content (data or link target) and xattrs */
    DIFF_CHANGED,       /* in the layer, same type */
    DIFF_REPLACED,      /* in the layer, another type (or a new directory) */
};

/*
 * Compares the container's node C with the layer's node P (both lstat'ed).
 * SAME_INODES is set where the container is a snapshot of the layer (btrfs):
 * an inode number and ctime that both match prove the node untouched, and a
 * directory with another inode number was deleted and made again.
 */
enum diff_class diff_classify(const struct stat *c, const struct stat *p, int same_inodes);

/*
 * Whether a directory present in both trees must be marked opaque (its lower
 * content hidden) rather than listing a whiteout per deleted entry. With
 * SAME_INODES the directory's classification already said so (REPLACED);
 * otherwise a directory that had N_PARENT entries of which none survives
 * (by name) in the container is taken as deleted and made again, which is
 * what overlay records for `rm -rf D; mkdir D`.
 */
int diff_dir_opaque(size_t n_parent, size_t n_surviving, int same_inodes);

#endif
