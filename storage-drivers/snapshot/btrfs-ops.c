/* SPDX-License-Identifier: MIT */
/*
 * btrfs subvolumes through the kernel's ioctls (<linux/btrfs.h>): creating
 * one, snapshotting one, flipping its read-only flag and deleting one with
 * whatever subvolumes a container nested inside it. The driver never runs
 * btrfs-progs: a plugin must not depend on a tool being installed, and the
 * ioctls are the stable interface those tools use themselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>

#include "snapshot.h"

/* Subvolumes nested deeper than this are refused rather than recursed. */
#define NESTING_MAX 64

int btrfs_is_subvolume(int fd)
{
    struct statfs sfs;
    struct stat st;
    if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
        return -errno;
    /* The root directory of every subvolume has this inode number. */
    return (unsigned long)sfs.f_type == BTRFS_MAGIC_NUMBER && S_ISDIR(st.st_mode) &&
           st.st_ino == BTRFS_FIRST_FREE_OBJECTID;
}

static int set_name(char *dst, size_t cap, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= cap || strchr(name, '/'))
        return -EINVAL;
    memcpy(dst, name, len + 1);
    return 0;
}

int btrfs_subvol_create(int dir_fd, const char *name)
{
    struct btrfs_ioctl_vol_args args;
    memset(&args, 0, sizeof(args));
    int r = set_name(args.name, sizeof(args.name), name);
    if (r < 0)
        return r;
    return ioctl(dir_fd, BTRFS_IOC_SUBVOL_CREATE, &args) < 0 ? -errno : 0;
}

int btrfs_snapshot(int src_fd, int dir_fd, const char *name, int readonly)
{
    struct btrfs_ioctl_vol_args_v2 args;
    memset(&args, 0, sizeof(args));
    int r = set_name(args.name, sizeof(args.name), name);
    if (r < 0)
        return r;
    args.fd = src_fd;
    args.flags = readonly ? BTRFS_SUBVOL_RDONLY : 0;
    return ioctl(dir_fd, BTRFS_IOC_SNAP_CREATE_V2, &args) < 0 ? -errno : 0;
}

int btrfs_set_readonly(int fd, int readonly)
{
    uint64_t flags;
    if (ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &flags) < 0)
        return -errno;
    flags = readonly ? flags | BTRFS_SUBVOL_RDONLY : flags & ~(uint64_t)BTRFS_SUBVOL_RDONLY;
    return ioctl(fd, BTRFS_IOC_SUBVOL_SETFLAGS, &flags) < 0 ? -errno : 0;
}

/* The tree id of the subvolume FD is in (allowed without privileges for
 * this one object id). */
static int subvol_id(int fd, uint64_t *ret_id)
{
    struct btrfs_ioctl_ino_lookup_args args;
    memset(&args, 0, sizeof(args));
    args.objectid = BTRFS_FIRST_FREE_OBJECTID;
    if (ioctl(fd, BTRFS_IOC_INO_LOOKUP, &args) < 0)
        return -errno;
    *ret_id = args.treeid;
    return 0;
}

/* The ids of the subvolumes directly inside PARENT: the ROOT_REF items of
 * the root tree keyed by PARENT (needs CAP_SYS_ADMIN). */
static int subvol_children(int fd, uint64_t parent, uint64_t **ret_ids, size_t *ret_n)
{
    struct btrfs_ioctl_search_args args;
    memset(&args, 0, sizeof(args));
    struct btrfs_ioctl_search_key *sk = &args.key;
    sk->tree_id = BTRFS_ROOT_TREE_OBJECTID;
    sk->min_objectid = sk->max_objectid = parent;
    sk->min_type = sk->max_type = BTRFS_ROOT_REF_KEY;
    sk->max_offset = UINT64_MAX;
    sk->max_transid = UINT64_MAX;

    uint64_t *ids = NULL;
    size_t n = 0;
    for (;;) {
        sk->nr_items = 4096;
        if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, &args) < 0) {
            int r = -errno;
            free(ids);
            return r;
        }
        if (sk->nr_items == 0)
            break;
        size_t off = 0;
        uint64_t last = 0;
        for (uint32_t i = 0; i < sk->nr_items; i++) {
            struct btrfs_ioctl_search_header sh;
            if (off + sizeof(sh) > sizeof(args.buf))
                break;
            /* Items are packed: copy the header out rather than cast. */
            memcpy(&sh, args.buf + off, sizeof(sh));
            off += sizeof(sh) + sh.len;
            last = sh.offset;
            if (sh.objectid != parent || sh.type != BTRFS_ROOT_REF_KEY)
                continue;
            uint64_t *grown = realloc(ids, (n + 1) * sizeof(*ids));
            if (!grown) {
                free(ids);
                return -ENOMEM;
            }
            ids = grown;
            ids[n++] = sh.offset;
        }
        if (last == UINT64_MAX)
            break;
        sk->min_offset = last + 1;
    }
    *ret_ids = ids;
    *ret_n = n;
    return 0;
}

static int destroy_by_id(int fd, uint64_t id, int depth);

static int destroy_children(int fd, uint64_t parent, int depth)
{
    if (depth > NESTING_MAX)
        return -ELOOP;
    uint64_t *ids = NULL;
    size_t n = 0;
    int r = subvol_children(fd, parent, &ids, &n);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = destroy_by_id(fd, ids[i], depth + 1);
    free(ids);
    return r;
}

/* Deletes the subvolume ID, children first; FD is anything on the same
 * filesystem (SPEC_BY_ID needs CAP_SYS_ADMIN and Linux 5.7). */
static int destroy_by_id(int fd, uint64_t id, int depth)
{
    int r = destroy_children(fd, id, depth);
    if (r < 0)
        return r;
    struct btrfs_ioctl_vol_args_v2 args;
    memset(&args, 0, sizeof(args));
    args.flags = BTRFS_SUBVOL_SPEC_BY_ID;
    args.subvolid = id;
    if (ioctl(fd, BTRFS_IOC_SNAP_DESTROY_V2, &args) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

static int destroy_by_name(int dir_fd, const char *name)
{
    struct btrfs_ioctl_vol_args_v2 args;
    memset(&args, 0, sizeof(args));
    int r = set_name(args.name, sizeof(args.name), name);
    if (r < 0)
        return r;
    if (ioctl(dir_fd, BTRFS_IOC_SNAP_DESTROY_V2, &args) == 0)
        return 0;
    if (errno != ENOTTY && errno != EOPNOTSUPP)
        return -errno;
    /* Kernels before 5.7 know only the first version. */
    struct btrfs_ioctl_vol_args v1;
    memset(&v1, 0, sizeof(v1));
    memcpy(v1.name, args.name, strlen(args.name) + 1);
    return ioctl(dir_fd, BTRFS_IOC_SNAP_DESTROY, &v1) < 0 ? -errno : 0;
}

int btrfs_subvol_delete(int dir_fd, const char *name)
{
    _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int r = btrfs_is_subvolume(fd);
    if (r <= 0)
        return r < 0 ? r : -EINVAL;
    /* The common case: nothing nested, one ioctl. */
    r = destroy_by_name(dir_fd, name);
    if (r != -ENOTEMPTY)
        return r == -ENOENT ? 0 : r;
    /* A subvolume holding others cannot go first: delete them by id. */
    uint64_t id = 0;
    r = subvol_id(fd, &id);
    if (r == 0)
        r = destroy_children(fd, id, 0);
    if (r == 0)
        r = destroy_by_name(dir_fd, name);
    return r == -ENOENT ? 0 : r;
}

static int delete_if_subvolume(void *ctx, int dir_fd, const char *name, int fd)
{
    (void)ctx;
    if (btrfs_is_subvolume(fd) <= 0)
        return 0;
    int r = btrfs_subvol_delete(dir_fd, name);
    return r < 0 ? r : 1;
}

const struct berth_remove_options subvolume_removal = {.delete_dir = delete_if_subvolume};
