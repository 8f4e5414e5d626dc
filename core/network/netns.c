#include "network/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"

static int loopback_up(void)
{
    _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct ifreq ifr = {0};
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return -errno;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int netns_create(const char *path, struct error **err)
{
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0)
        return error_set(err, errno, "create network namespace file '%s'", path);
    close(fd);
    /*
     * A child makes the namespace: unshare() in berth itself would move
     * berth into it. The child waits on a pipe until the parent has bound
     * /proc/CHILD/ns/net onto the file, then exits.
     */
    int to_child[2], to_parent[2];
    if (pipe2(to_child, O_CLOEXEC) < 0 || pipe2(to_parent, O_CLOEXEC) < 0) {
        int e = errno;
        unlink(path);
        return error_set(err, e, "network namespace: pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(to_child[0]);
        close(to_child[1]);
        close(to_parent[0]);
        close(to_parent[1]);
        unlink(path);
        return error_set(err, e, "network namespace: fork");
    }
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        int r = unshare(CLONE_NEWNET) < 0 ? -errno : 0;
        if (r == 0)
            r = loopback_up();
        if (write(to_parent[1], &r, sizeof(r)) != sizeof(r))
            _exit(1);
        char c;
        if (read(to_child[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    int r = 0;
    if (read(to_parent[0], &r, sizeof(r)) != sizeof(r))
        r = -EIO;
    if (r == 0) {
        char src[64];
        snprintf(src, sizeof(src), "/proc/%d/ns/net", (int)pid);
        if (mount(src, path, NULL, MS_BIND, NULL) < 0)
            r = -errno;
    }
    close(to_child[1]);
    close(to_parent[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        unlink(path);
        return error_set(err, -r, "make network namespace '%s'", path);
    }
    return 0;
}

int netns_remove(const char *path, struct error **err)
{
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return error_set(err, errno, "unmount network namespace '%s'", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return error_set(err, errno, "remove network namespace file '%s'", path);
    return 0;
}
