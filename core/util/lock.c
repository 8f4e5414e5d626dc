#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs-util.h"

/* NAME (relative to DIR_FD), made if missing, opened and flock'ed: the
 * descriptor, or -errno with *RET_STEP naming the step that failed. */
static int open_locked(int dir_fd, const char *name, int flags, const char **ret_step)
{
    int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        *ret_step = "open lock";
        return -errno;
    }
    while (flock(fd, LOCK_EX | flags) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        *ret_step = "lock";
        return -e;
    }
    return fd;
}

static int lock_common(const char *path, int flags, struct error **err)
{
    const char *step = NULL;
    int fd = open_locked(AT_FDCWD, path, flags, &step);
    if (fd >= 0 || fd == -EWOULDBLOCK)
        return fd;
    return error_set(err, -fd, "%s '%s'", step, path);
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
    const char *step = NULL;
    return open_locked(dir_fd, name, LOCK_NB, &step);
}

void unlock_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

int mkdtemp_locked(const char *parent, const char *prefix, char **ret_path, struct error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s-XXXXXX", parent, prefix);
    if (!mkdtemp(dir))
        return error_set(err, errno, "make temporary directory in '%s'", parent);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        rmdir(dir);
        return error_set(err, e, "lock '%s'", dir);
    }
    *ret_path = TAKE_PTR(dir);
    return fd;
}

void rmdir_locked(char *path, int fd)
{
    if (path) {
        struct error *ignored = NULL;
        rm_rf(path, &ignored);
        error_free(&ignored);
        free(path);
    }
    if (fd >= 0)
        close(fd);
}
