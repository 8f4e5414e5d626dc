#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

static int lock_common(const char *path, int flags, struct error **err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return error_set(err, errno, "open lock '%s'", path);
    while (flock(fd, LOCK_EX | flags) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return -EWOULDBLOCK;
        return error_set(err, e, "lock '%s'", path);
    }
    return fd;
}

int lock_path(const char *path, struct error **err)
{
    return lock_common(path, 0, err);
}

int try_lock_path(const char *path, struct error **err)
{
    return lock_common(path, LOCK_NB, err);
}

int try_lock_at(int dir_fd, const char *name)
{
    int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

void unlock_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}
