/*
 * The parent's side: one clone() into all the namespaces at once, the start
 * handshake, waiting with signal forwarding, killing by (pid, start time).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "runtime.h"
#include "runtime-internal.h"
#include "terminal.h"
#include "util/cleanup.h"
#include "util/proc-path.h"

static int exit_status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return EXIT_BERTH_ERROR;
}

static int reap(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

unsigned long long process_start_time(pid_t pid)
{
    char path[64], buf[1024];
    if (proc_pid_path(pid, "stat", path, sizeof(path)) < 0)
        return 0;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* comm may hold spaces and parentheses: count fields from the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    /* Field 3 (state) follows ") "; starttime is field 22. */
    for (int field = 2; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (!p)
        return 0;
    return strtoull(p + 1, NULL, 10);
}

int runtime_create(const char *bundle_dir, struct container_process *ret, struct error **err)
{
    _cleanup_oci_config_ struct oci_config *cfg = NULL;
    int r = oci_config_load(bundle_dir, &cfg, err);
    if (r < 0)
        return r;
    /* Made and limited before the clone, joined once the child is ready; gone on failure. */
    __attribute__((cleanup(cgroup_destroyp))) const struct cgroup_spec *cgroup = NULL;
    if (cfg->cgroup) {
        if ((r = cgroup_create(cfg->cgroup, err)) < 0)
            return r;
        cgroup = cfg->cgroup;
    }

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return error_set(err, errno, "socketpair");
    _cleanup_close_ int parent_fd = sv[0];
    int child_fd = sv[1];

    /*
     * A fork-like clone (no CLONE_VM, no new stack): the child gets its own
     * copy of memory, which keeps ASan and glibc sane, and is already pid 1 of
     * its namespace, so there is no second fork. The caller is
     * single-threaded here (plugins start no threads), so no lock is held by
     * a thread that does not exist in the child.
     */
    /*
     * A user namespace cannot join a network namespace the host's owns: the
     * child is cloned from inside it instead, and berth steps back out.
     */
    _cleanup_close_ int own_netns = -1;
    if ((cfg->clone_flags & CLONE_NEWUSER) && cfg->netns_path) {
        _cleanup_close_ int target = open(cfg->netns_path, O_RDONLY | O_CLOEXEC);
        if (target < 0)
            return error_set(err, errno, "open network namespace '%s'", cfg->netns_path);
        own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (own_netns < 0 || setns(target, CLONE_NEWNET) < 0)
            return error_set(err, errno, "join network namespace '%s'", cfg->netns_path);
        cfg->netns_joined = 1;
    }
    pid_t pid =
        (pid_t)syscall(SYS_clone, (unsigned long)cfg->clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0) {
        close(parent_fd);
        container_init(cfg, child_fd);
    }
    int clone_errno = errno;
    close(child_fd);
    if (own_netns >= 0 && setns(own_netns, CLONE_NEWNET) < 0) {
        /* berth must not go on in the container's network namespace. */
        if (pid > 0) {
            kill(pid, SIGKILL);
            reap(pid);
        }
        return error_set(err, errno, "return to berth's network namespace");
    }
    if (pid < 0)
        return error_set(err, clone_errno, "clone");
    if (cfg->clone_flags & CLONE_NEWUSER) {
        struct error *ns_err = NULL;
        if (userns_parent_setup(cfg, pid, parent_fd, &ns_err) < 0) {
            kill(pid, SIGKILL);
            reap(pid);
            *err = ns_err;
            return error_code(ns_err);
        }
    }
    /*
     * Joined at once, long before the go: a cgroup migration waits for an RCU
     * grace period (about 5 ms on v1 here), which so overlaps the child's setup
     * instead of adding to it. A child already dead (ESRCH) reports why below.
     */
    if (cgroup) {
        struct error *cg_err = NULL;
        if (cgroup_enter(cgroup, pid, &cg_err) < 0 && cg_err->errnum != ESRCH) {
            kill(pid, SIGKILL);
            reap(pid);
            *err = cg_err;
            return error_code(cg_err);
        }
        error_free(&cg_err);
    }

    struct sync_msg msg;
    /* With process.terminal the pty master comes first (terminal.h). */
    _cleanup_close_ int terminal = -1;
    int fd;
    while ((r = terminal_fd_recv(parent_fd, &msg, &fd)) == 1 && msg.kind == SYNC_TERMINAL &&
           terminal < 0 && fd >= 0) {
        terminal = fd;
        terminal_resize(terminal);
    }
    if (r == 1 && fd >= 0)
        close(fd);
    if (r == 1 && msg.kind == SYNC_READY) {
        cgroup = NULL; /* the container's now: the stop path removes it */
        ret->pid = pid;
        ret->start_time = process_start_time(pid);
        ret->sync_fd = TAKE_FD(parent_fd);
        ret->terminal_fd = TAKE_FD(terminal);
        return 0;
    }

    int st = reap(pid);
    if (r == 1 && msg.kind == SYNC_SETUP_ERROR) {
        error_set(err, 0, "%s", msg.text);
        (*err)->errnum = msg.errnum > 0 ? msg.errnum : EINVAL;
        return error_code(*err);
    }
    if (r < 0)
        return error_set(err, -r, "read from the container process");
    if (st >= 0 && WIFSIGNALED(st))
        return error_set(err, EIO, "container process killed by signal %d during setup",
                         WTERMSIG(st));
    return error_set(err, EIO, "container process exited during setup (status %d)",
                     st >= 0 ? exit_status_of(st) : -1);
}

int runtime_start(struct container_process *proc, struct error **err)
{
    if (proc->sync_fd < 0)
        return error_set(err, EALREADY, "start container process %d", (int)proc->pid);
    _cleanup_close_ int fd = proc->sync_fd;
    proc->sync_fd = -1;

    int r = sync_send(fd, SYNC_GO, 0, 0, NULL);
    struct sync_msg msg;
    /* Even when the send failed the child may have left a message. */
    int got = sync_recv(fd, &msg);
    if (got == 0 && r == 0)
        return 0; /* the exec closed the child's end */
    if (got == 1 && msg.kind == SYNC_EXEC_ERROR) {
        reap(proc->pid);
        error_set_status(err, msg.status, 0, "%s", msg.text);
        (*err)->errnum = msg.errnum > 0 ? msg.errnum : EINVAL;
        return error_code(*err);
    }
    if (r < 0)
        return error_set(err, -r, "start container process %d", (int)proc->pid);
    return error_set(err, EPROTO, "start container process %d: unexpected message", (int)proc->pid);
}

int runtime_wait(struct container_process *proc, int *ret_exit_status, struct error **err)
{
    static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    sigset_t set, old;
    sigemptyset(&set);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
        sigaddset(&set, forwarded[i]);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
        return error_set(err, errno, "block signals");

    /*
     * With the signals blocked, a SIGCHLD is never lost: check first, then
     * sleep in sigwaitinfo until either the child changes or a signal for it
     * arrives. No polling, no handler.
     */
    int status = -1, r = 0;
    for (;;) {
        int st;
        pid_t w = waitpid(proc->pid, &st, WNOHANG);
        if (w == proc->pid) {
            status = exit_status_of(st);
            break;
        }
        if (w < 0 && errno != EINTR) {
            r = error_set(err, errno, "wait for container process %d", (int)proc->pid);
            break;
        }
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0 || sig == SIGCHLD)
            continue;
        kill(proc->pid, sig);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (r < 0)
        return r;
    if (proc->sync_fd >= 0) {
        close(proc->sync_fd);
        proc->sync_fd = -1;
    }
    *ret_exit_status = status;
    return 0;
}

void runtime_kill_if_alive(pid_t pid, unsigned long long start_time)
{
    if (pid <= 0 || start_time == 0)
        return;
    /* A pidfd pins the process: the start-time check cannot race a pid reuse. */
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return;
    if (process_start_time(pid) != start_time)
        return;
    if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
        return;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}
