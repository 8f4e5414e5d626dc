/*
 * Filling a new, empty volume with what the image has at its mount point,
 * as docker does. The image's tree exists only in the container's mount
 * namespace, so the runtime does it there, just before the volume's bind
 * mount covers that directory.
 *
 * The image is untrusted: every step is relative to a descriptor and never
 * follows a symlink (symlinks are copied as symlinks), and nothing is
 * created except with O_EXCL/mkdirat below the volume's directory.
 * Hardlinks become separate copies and extended attributes are not copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "util/cleanup.h"

/* Deeper image trees are refused rather than exhausting descriptors. */
#define COPY_MAX_DEPTH 128

static int copy_data(int in, int out)
{
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n == 0)
            return 0;
        if (n > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
            return -errno;
        break;
    }
    /* Across filesystems on older kernels, or a filesystem without it. */
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            off += w;
        }
    }
}

/* Owner first: chown clears set-id bits that the mode then restores. */
static int copy_attrs_fd(int fd, const struct stat *st)
{
    if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
        return -errno;
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    return futimens(fd, ts) < 0 ? -errno : 0;
}

static int copy_tree(int src, int dst, int depth, struct error **err);

static int copy_entry(int src, int dst, const char *name, int depth, struct error **err)
{
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return error_set(err, errno, "stat '%s'", name);
    int r = 0;
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR: {
        if (mkdirat(dst, name, 0700) < 0)
            return error_set(err, errno, "mkdir '%s'", name);
        _cleanup_close_ int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
            return error_set(err, errno, "open '%s'", name);
        if ((r = copy_tree(s, d, depth + 1, err)) < 0)
            return error_prefix(err, "%s", name);
        if ((r = copy_attrs_fd(d, &st)) < 0)
            return error_set(err, -r, "set owner and mode of '%s'", name);
        return 0;
    }
    case S_IFREG: {
        _cleanup_close_ int s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0)
            return error_set(err, errno, "open '%s'", name);
        _cleanup_close_ int d =
            openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (d < 0)
            return error_set(err, errno, "create '%s'", name);
        if ((r = copy_data(s, d)) < 0)
            return error_set(err, -r, "copy '%s'", name);
        if ((r = copy_attrs_fd(d, &st)) < 0)
            return error_set(err, -r, "set owner and mode of '%s'", name);
        return 0;
    }
    case S_IFLNK: {
        char target[4096];
        ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
        if (n < 0)
            return error_set(err, errno, "readlink '%s'", name);
        target[n] = '\0';
        if (symlinkat(target, dst, name) < 0)
            return error_set(err, errno, "symlink '%s'", name);
        r = fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
        break;
    }
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0)
            return error_set(err, errno, "mknod '%s'", name);
        r = fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
        if (r == 0)
            r = fchmodat(dst, name, st.st_mode & 07777, 0);
        break;
    default:
        return 0;
    }
    if (r < 0)
        return error_set(err, errno, "set owner of '%s'", name);
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

static int copy_tree(int src, int dst, int depth, struct error **err)
{
    if (depth > COPY_MAX_DEPTH)
        return error_set(err, ELOOP, "deeper than %d directories", COPY_MAX_DEPTH);
    int fd = dup(src);
    if (fd < 0)
        return error_set(err, errno, "dup");
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return error_set(err, errno, "read directory");
    }
    struct dirent *de;
    int r;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
            (r = copy_entry(src, dst, de->d_name, depth, err)) < 0)
            return r;
    return 0;
}

static int dir_is_empty(int fd)
{
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    _cleanup_closedir_ DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -ENOMEM;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            return 0;
    return 1;
}

int volume_copy_up(int target_fd, const char *volume_dir, struct error **err)
{
    return volume_copy_up_at(target_fd, -1, volume_dir, err);
}

int volume_copy_up_at(int target_fd, int volume_fd, const char *volume_dir, struct error **err)
{
    struct stat st;
    if (fstat(target_fd, &st) < 0)
        return error_set(err, errno, "copy up into '%s'", volume_dir);
    if (!S_ISDIR(st.st_mode))
        return 0;
    _cleanup_close_ int src = openat(target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_close_ int dst =
        volume_fd >= 0 ? openat(volume_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                       : open(volume_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0 || dst < 0)
        return error_set(err, errno, "copy up into '%s'", volume_dir);
    /* Only a volume nobody wrote to yet: its content is never overwritten. */
    int r = dir_is_empty(dst);
    if (r <= 0)
        return r < 0 ? error_set(err, -r, "copy up into '%s'", volume_dir) : 0;
    if ((r = dir_is_empty(src)) != 0)
        return r < 0 ? error_set(err, -r, "copy up into '%s'", volume_dir) : 0;
    if ((r = copy_tree(src, dst, 0, err)) < 0)
        return error_prefix(err, "copy the image's content into volume '%s'", volume_dir);
    /* The volume's root takes the image directory's owner and mode, as docker's. */
    if ((r = copy_attrs_fd(dst, &st)) < 0)
        return error_set(err, -r, "set owner and mode of '%s'", volume_dir);
    return 0;
}
