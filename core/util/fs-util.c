#include "fs-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

char *xasprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    return s;
}

int mkdir_p(const char *path, mode_t mode, struct error **err)
{
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return error_set(err, ENOMEM, "mkdir '%s'", path);
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            return error_set(err, errno, "mkdir '%s'", copy);
        *p = '/';
    }
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
        return error_set(err, errno, "mkdir '%s'", copy);
    return 0;
}

static int rm_rf_at(int parent_fd, const char *name, dev_t dev, struct error **err)
{
    struct stat st;
    if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return error_set(err, errno, "stat '%s'", name);
    }
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev)
            return error_set(err, EBUSY, "remove '%s': a mount point", name);
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return error_set(err, errno, "open '%s'", name);
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
            close(fd);
            return error_set(err, errno, "open '%s'", name);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            int r = rm_rf_at(dirfd(d), de->d_name, dev, err);
            if (r < 0)
                return error_prefix(err, "'%s'", name);
        }
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return error_set(err, errno, "rmdir '%s'", name);
        return 0;
    }
    if (unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT)
        return error_set(err, errno, "unlink '%s'", name);
    return 0;
}

int rm_rf(const char *path, struct error **err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : error_set(err, errno, "stat '%s'", path);
    int r = rm_rf_at(AT_FDCWD, path, st.st_dev, err);
    if (r < 0)
        return error_prefix(err, "remove '%s'", path);
    return 0;
}

int fsync_parent(const char *path)
{
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    _cleanup_close_ int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return fsync(fd) < 0 ? -errno : 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct error **err)
{
    return write_file_atomic_flags(path, data, len, mode, 0, err);
}

int write_file_atomic_flags(const char *path, const void *data, size_t len, mode_t mode, int flags,
                            struct error **err)
{
    _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return error_set(err, errno, "write '%s'", path);
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return error_set(err, e, "write '%s'", path);
        }
        p += n;
        left -= (size_t)n;
    }
    if ((!(flags & WRITE_NO_SYNC) && fsync(fd) < 0) || close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return error_set(err, e, "write '%s'", path);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return error_set(err, e, "rename into '%s'", path);
    }
    /* The file's data are synced before the rename, so a reader sees the old
     * or the new record, whole. The directory is not synced: after a power
     * cut the old version may come back, which recovery handles, and a sync
     * per record would double the cost of every state change. */
    return 0;
}

int read_file(const char *path, char **ret_data, size_t *ret_len, struct error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "read '%s'", path);
    size_t cap = 4096, len = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return error_set(err, ENOMEM, "read '%s'", path);
    for (;;) {
        if (len + 1 >= cap) {
            char *n = realloc(buf, cap * 2);
            if (!n)
                return error_set(err, ENOMEM, "read '%s'", path);
            buf = n;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return error_set(err, errno, "read '%s'", path);
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    if (ret_len)
        *ret_len = len;
    *ret_data = TAKE_PTR(buf);
    return 0;
}

int path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
