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
     * A child makes the namespace (unshare() in berth itself would move
     * berth into it) and binds it onto the file itself, as `ip netns add`
     * does; the mount is in the mount namespace it shares with berth. It
     * names its namespace through /proc/self: /proc/CHILD-PID would be
     * another process's where /proc belongs to an outer pid namespace
     * (berth run in `unshare --pid --fork` without --mount-proc), and the
     * container would get that process's network, the host's perhaps.
     * /proc/self resolves to the caller in any /proc that shows it.
     */
    int status[2];
    if (pipe2(status, O_CLOEXEC) < 0) {
        int e = errno;
        unlink(path);
        return error_set(err, e, "network namespace: pipe");
    }
    pid_t pid = fork();
    int r = pid < 0 ? -errno : 0;
    if (pid == 0) {
        close(status[0]);
        r = unshare(CLONE_NEWNET) < 0 ? -errno : 0;
        if (r == 0)
            r = loopback_up();
        if (r == 0 && mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
            r = -errno;
        _exit(write(status[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
    }
    close(status[1]);
    if (r == 0 && read(status[0], &r, sizeof(r)) != sizeof(r))
        r = -EIO;
    close(status[0]);
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        umount2(path, MNT_DETACH);
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
