/* SPDX-License-Identifier: MIT */
/*
 * How the snapshot driver's diff compares two nodes, in the manner of
 * containerd's continuity (fs.Changes): type, mode, owner, size, device and
 * mtime decide; when the mtimes carry no nanoseconds (a filesystem or a tar
 * with one-second resolution) equal mtimes prove nothing and the content is
 * compared. Directories compare by metadata only: their entries are
 * compared one by one.
 */
#include "diff-classify.h"

enum diff_class diff_classify(const struct stat *c, const struct stat *p, int same_inodes)
{
    if ((c->st_mode & S_IFMT) != (p->st_mode & S_IFMT))
        return DIFF_REPLACED;
    if (same_inodes && c->st_ino != p->st_ino)
        return S_ISDIR(c->st_mode) ? DIFF_REPLACED : DIFF_CHANGED;
    if (same_inodes && c->st_ctim.tv_sec == p->st_ctim.tv_sec &&
        c->st_ctim.tv_nsec == p->st_ctim.tv_nsec)
        return DIFF_SAME;
    if ((c->st_mode & 07777) != (p->st_mode & 07777) || c->st_uid != p->st_uid ||
        c->st_gid != p->st_gid)
        return DIFF_CHANGED;
    if ((S_ISCHR(c->st_mode) || S_ISBLK(c->st_mode)) && c->st_rdev != p->st_rdev)
        return DIFF_CHANGED;
    if (c->st_mtim.tv_sec != p->st_mtim.tv_sec || c->st_mtim.tv_nsec != p->st_mtim.tv_nsec)
        return DIFF_CHANGED;
    if (S_ISDIR(c->st_mode))
        return DIFF_CHECK_XATTRS;
    if (S_ISREG(c->st_mode) && c->st_size != p->st_size)
        return DIFF_CHANGED;
    if (S_ISREG(c->st_mode) || S_ISLNK(c->st_mode))
        return c->st_mtim.tv_nsec == 0 ? DIFF_CHECK_CONTENT : DIFF_CHECK_XATTRS;
    return DIFF_CHECK_XATTRS;
}

int diff_dir_opaque(size_t n_parent, size_t n_surviving, int same_inodes)
{
    return !same_inodes && n_parent > 0 && n_surviving == 0;
}
