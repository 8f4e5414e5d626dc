#include "util/proc-path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

/* 1: /proc numbers pids as this process does; 0: it is an outer namespace's
 * (this process shows there, under another number); -errno: it shows no
 * /proc/self at all. Asked once per process: a fork keeps the namespace. */
static int proc_is_ours(void)
{
    static pid_t asked_by;
    static int answer;
    if (asked_by == getpid())
        return answer;
    char buf[32];
    ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
    if (n <= 0) {
        answer = -ESRCH;
    } else {
        buf[n] = '\0';
        answer = strtol(buf, NULL, 10) == (long)getpid();
    }
    asked_by = getpid();
    return answer;
}

/* PID as /proc numbers it, read from the fdinfo of a pidfd. */
static pid_t shown_pid(pid_t pid)
{
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return -errno;
    char path[64], text[512];
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    if (n <= 0)
        return n < 0 ? -errno : -EIO;
    text[n] = '\0';
    const char *p = strstr(text, "\nPid:");
    /* 0: not in that namespace; -1: exited. */
    long shown = p ? strtol(p + 5, NULL, 10) : 0;
    return shown > 0 ? (pid_t)shown : -ESRCH;
}

int proc_pid_path(pid_t pid, const char *file, char *buf, size_t len)
{
    int ours = proc_is_ours();
    if (ours < 0)
        return ours;
    pid_t shown = ours ? pid : shown_pid(pid);
    if (shown < 0)
        return shown;
    int n = snprintf(buf, len, "/proc/%d/%s", (int)shown, file);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
