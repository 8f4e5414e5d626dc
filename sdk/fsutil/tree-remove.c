/* SPDX-License-Identifier: MIT */
/*
 * berth_tree_remove and the trash (berth/fsutil.h). A tree a container wrote
 * is hostile: it may be deeper than any descriptor limit, hold symlinks
 * pointing anywhere, root-owned mode-000 directories (overlay's work dirs)
 * or, on btrfs, subvolumes the container made. So the walk holds only the
 * current directory open, climbs back through "..", checking each step
 * against the inode it came from, never opens a symlink or a mount point,
 * and lets the driver delete a directory its own way (a btrfs subvolume with
 * its ioctl, far faster than unlinking its files one by one).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <berth/fsutil.h>

#include "fsutil-internal.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

struct frame {
    dev_t dev;
    ino_t ino;
    char *name; /* the directory's name in its parent */
};

static void frames_free(struct frame *frames, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(frames[i].name);
    free(frames);
}

static int is_mount_root(int fd)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &stx) < 0)
        return -errno;
    return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
           (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/*
 * Opens DIR_FD/NAME as a directory without following a symlink, making it
 * readable and writable first if it is not (we own what we delete). Returns
 * the descriptor, 0 if OPTS' delete_dir deleted it, -EBUSY for a mount point
 * or another device, or -errno.
 */
static int open_child_dir(int dir_fd, const char *name, dev_t root_dev,
                          const struct berth_remove_options *opts, struct stat *ret_st)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
        /* Without CAP_DAC_OVERRIDE a mode-000 directory cannot be opened. */
        if (fchmodat(dir_fd, name, 0700, AT_SYMLINK_NOFOLLOW) < 0)
            return -EACCES;
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return -errno;
    struct stat st;
    int m = fstat(fd, &st) < 0 ? -errno : is_mount_root(fd);
    if (m != 0) {
        close(fd);
        return m < 0 ? m : -EBUSY;
    }
    if (opts && opts->delete_dir) {
        int r = opts->delete_dir(opts->ctx, dir_fd, name, fd);
        if (r != 0) {
            close(fd);
            return r < 0 ? r : 0;
        }
    }
    if (root_dev != 0 && st.st_dev != root_dev) {
        close(fd);
        return -EBUSY;
    }
    /* Entries can only be unlinked from a writable directory. */
    if ((st.st_mode & 0700) != 0700 && fchmod(fd, (st.st_mode & 07777) | 0700) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    *ret_st = st;
    return fd;
}

static int push(struct frame **frames, size_t *n, size_t *cap, const struct stat *st,
                const char *name)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct frame *f = realloc(*frames, ncap * sizeof(*f));
        if (!f)
            return -ENOMEM;
        *frames = f;
        *cap = ncap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    (*frames)[(*n)++] = (struct frame){.dev = st->st_dev, .ino = st->st_ino, .name = copy};
    return 0;
}

int berth_tree_remove(int dir_fd, const char *name, const struct berth_remove_options *opts)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;

    int fd = open_child_dir(dir_fd, name, 0, opts, &st);
    if (fd <= 0)
        return fd == -ENOENT ? 0 : fd;
    const dev_t root_dev = st.st_dev;
    struct frame *frames = NULL;
    size_t n = 0, cap = 0;
    int r = push(&frames, &n, &cap, &st, name);
    if (r < 0) {
        close(fd);
        return r;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        r = -errno;
        close(fd);
        goto out;
    }

    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            unsigned char type = de->d_type;
            if (type == DT_UNKNOWN) {
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                    if (errno == ENOENT)
                        continue;
                    r = -errno;
                    goto out;
                }
                type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
            }
            if (type != DT_DIR) {
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                    r = -errno;
                    goto out;
                }
                continue;
            }
            int child = open_child_dir(dirfd(d), de->d_name, root_dev, opts, &st);
            if (child == 0 || child == -ENOENT)
                continue; /* deleted by delete_dir, or by someone else */
            if (child < 0) {
                r = child;
                goto out;
            }
            r = push(&frames, &n, &cap, &st, de->d_name);
            if (r < 0) {
                close(child);
                goto out;
            }
            closedir(d);
            d = fdopendir(child);
            if (!d) {
                r = -errno;
                close(child);
                goto out;
            }
            continue;
        }
        if (errno != 0) {
            r = -errno;
            goto out;
        }

        /* The current directory is empty: remove it from its parent. */
        if (n == 1) {
            closedir(d);
            d = NULL;
            r = unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
            goto out;
        }
        int parent = openat(dirfd(d), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0) {
            /* Another remover deleted the tree under us: it finishes. */
            r = errno == ENOENT ? 0 : -errno;
            goto out;
        }
        if (fstat(parent, &st) < 0 || st.st_dev != frames[n - 2].dev ||
            st.st_ino != frames[n - 2].ino) {
            /* Moved while we walked: stop rather than delete elsewhere. */
            close(parent);
            r = -ESTALE;
            goto out;
        }
        closedir(d);
        d = NULL;
        /* ENOTEMPTY: something appeared meanwhile; the rescan finds it. */
        if (unlinkat(parent, frames[n - 1].name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
            errno != ENOTEMPTY) {
            r = -errno;
            close(parent);
            goto out;
        }
        free(frames[--n].name);
        d = fdopendir(parent);
        if (!d) {
            r = -errno;
            close(parent);
            goto out;
        }
    }

out:
    if (d)
        closedir(d);
    frames_free(frames, n);
    return r;
}

static int trash_name(char ret[static BERTH_TRASH_NAME_MAX])
{
    uint64_t rnd;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -errno;
    snprintf(ret, BERTH_TRASH_NAME_MAX, "trash/%d-%016" PRIx64, (int)getpid(), rnd);
    return 0;
}

int berth_trash_move(int state_fd, int dir_fd, const char *name,
                     char ret_name[static BERTH_TRASH_NAME_MAX])
{
    char dest[BERTH_TRASH_NAME_MAX];
    for (int tries = 0;; tries++) {
        int r = trash_name(dest);
        if (r < 0)
            return r;
        /* A subvolume moves like a directory: same filesystem, one rename. */
        if (renameat2(dir_fd, name, state_fd, dest, RENAME_NOREPLACE) == 0)
            break;
        if (errno == ENOENT)
            return 0;
        if (errno != EEXIST || tries > 8)
            return -errno;
    }
    /* No fsync: should a power cut bring the entry back under its old name,
     * the driver's gc removes it, since no record names it any more; a sync
     * here would cost every rm. */
    memcpy(ret_name, dest, sizeof(dest));
    return 1;
}

int berth_trash_remove(int state_fd, int dir_fd, const char *name,
                       const struct berth_remove_options *opts)
{
    char dest[BERTH_TRASH_NAME_MAX];
    int r = berth_trash_move(state_fd, dir_fd, name, dest);
    if (r <= 0)
        return r;
    return berth_tree_remove(state_fd, dest, opts);
}

int berth_trash_gc(int state_fd, const struct berth_remove_options *opts)
{
    int fd = openat(state_fd, "trash", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        /* An entry a live process is deleting is left to it; our own pid's
         * entries are leftovers, since we remove nothing meanwhile. */
        long pid = strtol(de->d_name, NULL, 10);
        if (pid > 0 && pid != getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            continue;
        int q = berth_tree_remove(dirfd(d), de->d_name, opts);
        if (q < 0 && r == 0)
            r = q;
    }
    closedir(d);
    return r;
}
