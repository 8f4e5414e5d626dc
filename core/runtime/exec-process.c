/*
 * berth exec: a process joins a running container. berth forks an
 * intermediate that joins the cgroups, then every namespace at once with
 * setns() on a pidfd of the container's first process (pinned, so a reused
 * pid is never joined), and clones the process with CLONE_PARENT: it is in
 * the container's pid namespace yet berth's own child, so berth waits for it
 * and forwards signals to it as for `run`. The process then gets what
 * container_init gave the first process: user, capabilities, working
 * directory, no_new_privs, the security filter, a pty if asked.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "runtime-internal.h"
#include "seccomp.h"
#include "terminal.h"
#include "util/cleanup.h"
#include "util/proc-path.h"

#define JOINED_NAMESPACES                                                                          \
    (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP)

static int reap(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

/* A user namespace can only be joined when it is not already ours. */
static int user_ns_differs(pid_t pid)
{
    char path[64];
    struct stat theirs, ours;
    if (proc_pid_path(pid, "ns/user", path, sizeof(path)) < 0 || stat(path, &theirs) < 0 ||
        stat("/proc/self/ns/user", &ours) < 0)
        return 0;
    return theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev;
}

static int join_cgroups(const char *const *cgroups, struct error **err)
{
    for (size_t i = 0; cgroups && cgroups[i]; i++) {
        _cleanup_free_ char *procs = NULL;
        if (asprintf(&procs, "%s/cgroup.procs", cgroups[i]) < 0)
            return error_set(err, ENOMEM, "cgroup");
        _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
        /* "0" is the writer itself, in v1 and v2 alike. */
        if (fd < 0 || write(fd, "0", 1) != 1)
            return error_set(err, errno, "join cgroup '%s'", cgroups[i]);
    }
    return 0;
}

/* The container's env with SPEC's on top, key by key. */
static int merge_env(struct oci_config *cfg, char **extra, struct error **err)
{
    size_t n = 0, m = 0;
    while (cfg->env && cfg->env[n])
        n++;
    while (extra && extra[m])
        m++;
    char **v = calloc(n + m + 1, sizeof(char *));
    if (!v)
        return error_set(err, ENOMEM, "env");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(cfg->env[i], '=');
        size_t klen = eq ? (size_t)(eq - cfg->env[i]) : strlen(cfg->env[i]);
        int overridden = 0;
        for (size_t j = 0; j < m; j++)
            if (!strncmp(extra[j], cfg->env[i], klen) && extra[j][klen] == '=')
                overridden = 1;
        if (!overridden)
            v[k++] = cfg->env[i];
        else
            free(cfg->env[i]);
    }
    for (size_t j = 0; j < m; j++)
        if (!(v[k++] = strdup(extra[j]))) {
            free(cfg->env);
            cfg->env = v;
            return error_set(err, ENOMEM, "env");
        }
    free(cfg->env);
    cfg->env = v;
    return 0;
}

/* What SPEC changes in the container's process. */
static int apply_spec(struct oci_config *cfg, const struct exec_spec *spec, struct error **err)
{
    char **args = NULL;
    size_t n = 0;
    while (spec->args[n])
        n++;
    args = calloc(n + 1, sizeof(char *));
    if (!args)
        return error_set(err, ENOMEM, "args");
    for (size_t i = 0; i < n; i++)
        if (!(args[i] = strdup(spec->args[i]))) {
            strvfreep(&args);
            return error_set(err, ENOMEM, "args");
        }
    strvfreep(&cfg->args);
    cfg->args = args;
    int r = merge_env(cfg, spec->env, err);
    if (r < 0)
        return r;
    if (spec->cwd) {
        free(cfg->cwd);
        if (!(cfg->cwd = strdup(spec->cwd)))
            return error_set(err, ENOMEM, "cwd");
    }
    if (spec->user) {
        free(cfg->user);
        if (!(cfg->user = strdup(spec->user)))
            return error_set(err, ENOMEM, "user");
        cfg->uid = 0;
        cfg->gid = 0;
        free(cfg->additional_gids);
        cfg->additional_gids = NULL;
        cfg->n_additional_gids = 0;
    }
    return 0;
}

/*
 * The privileges the container's first process ends with, in the same
 * order as container_init: no_new_privs, then the container's seccomp
 * filter (seccomp.h), last of all because it may forbid the calls made
 * before it.
 */
static int finish_privileges(const struct oci_config *cfg, struct error **err)
{
    if (cfg->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return error_set(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    return seccomp_apply_from_config(cfg, err);
}

/* The process itself, in the container's namespaces: never returns. */
_Noreturn static void exec_child(struct oci_config *cfg, const struct exec_spec *spec, int sync_fd)
{
    struct error *err = NULL;
    int r = user_resolve(cfg, &err);
    if (r == 0 && cfg->terminal)
        r = terminal_setup_in_container(sync_fd, cfg->uid, &spec->ws, &err);
    if (r == 0)
        r = rlimits_apply(cfg, &err);
    if (r == 0)
        r = capabilities_apply(cfg, &err);
    if (r == 0 && chdir(cfg->cwd) < 0)
        r = error_set(&err, errno, "chdir '%s'", cfg->cwd);
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (r == 0)
        r = finish_privileges(cfg, &err);
    if (r < 0) {
        sync_send(sync_fd, SYNC_SETUP_ERROR, err ? err->errnum : EINVAL, 0,
                  err && err->msg ? err->msg : "exec setup failed");
        _exit(EXIT_BERTH_ERROR);
    }

    r = exec_command(cfg);
    const char *file = cfg->args[0];
    char text[sizeof(((struct sync_msg *)0)->text)];
    int status = EXIT_CANNOT_INVOKE;
    if (r == -ENOENT && !strchr(file, '/')) {
        snprintf(text, sizeof(text), "exec '%s': executable file not found in $PATH", file);
        status = EXIT_NOT_FOUND;
    } else {
        if (r == -ENOENT)
            status = EXIT_NOT_FOUND;
        snprintf(text, sizeof(text), "exec '%s': %s", file, strerror(-r));
    }
    sync_send(sync_fd, SYNC_EXEC_ERROR, -r, status, text);
    _exit(status);
}

static void reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL) {
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = SIG_DFL;
            sigaction(sig, &sa, NULL);
        }
    }
}

/* The intermediate: joins, clones the process, reports its pid, exits. */
_Noreturn static void exec_intermediate(struct oci_config *cfg, const struct exec_spec *spec,
                                        pid_t target, int pidfd, int sync_fd)
{
    struct error *err = NULL;
    int r = 0;
    /* Nothing in the container may ptrace or read berth's memory until the exec. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    reset_signals();
    if (spec->stdin_null || spec->stdio_null) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0) {
            r = error_set(&err, errno, "open '/dev/null'");
        } else {
            for (int i = 0; i < (spec->stdio_null ? 3 : 1); i++)
                if (null != i)
                    dup2(null, i);
            if (null > 2)
                close(null);
        }
    }
    if (r == 0)
        r = join_cgroups(spec->cgroups, &err);
    int flags = JOINED_NAMESPACES | (user_ns_differs(target) ? CLONE_NEWUSER : 0);
    if (r == 0 && setns(pidfd, flags) < 0)
        r = error_set(&err, errno, "join the namespaces of process %d", (int)target);
    close(pidfd);
    /* After setns(CLONE_NEWNS) the root and cwd are the namespace's: the container's root. */
    if (r == 0 && chdir("/") < 0)
        r = error_set(&err, errno, "chdir '/'");
    if (r < 0) {
        sync_send(sync_fd, SYNC_SETUP_ERROR, err ? err->errnum : EINVAL, 0,
                  err && err->msg ? err->msg : "exec: join failed");
        _exit(EXIT_BERTH_ERROR);
    }
    pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)CLONE_PARENT, NULL, NULL, NULL, 0);
    if (child == 0)
        exec_child(cfg, spec, sync_fd);
    if (child < 0) {
        int e = errno;
        error_set(&err, e, "clone into the container's pid namespace");
        sync_send(sync_fd, SYNC_SETUP_ERROR, e, 0, err->msg);
        _exit(EXIT_BERTH_ERROR);
    }
    sync_send(sync_fd, SYNC_PID, 0, (int)child, NULL);
    _exit(0);
}

int runtime_exec(const char *bundle_dir, pid_t pid, unsigned long long start_time,
                 const struct exec_spec *spec, struct container_process *ret, struct error **err)
{
    _cleanup_oci_config_ struct oci_config *cfg = NULL;
    int r = oci_config_load(bundle_dir, &cfg, err);
    if (r < 0)
        return r;
    if ((r = apply_spec(cfg, spec, err)) < 0)
        return r;
    cfg->terminal = spec->terminal;

    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0 || process_start_time(pid) != start_time)
        return error_set_plain(err, ESRCH, "process %d is gone", (int)pid);

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return error_set(err, errno, "socketpair");
    _cleanup_close_ int parent_fd = sv[0];
    int child_fd = sv[1];
    pid_t mid = fork();
    if (mid == 0) {
        close(parent_fd);
        /* Only stdio, the sync socket and the pidfd go on. */
        int keep_lo = child_fd < pidfd ? child_fd : pidfd;
        int keep_hi = child_fd < pidfd ? pidfd : child_fd;
        if (keep_lo > 3)
            close_range(3, (unsigned int)keep_lo - 1, 0);
        if (keep_hi > keep_lo + 1)
            close_range((unsigned int)keep_lo + 1, (unsigned int)keep_hi - 1, 0);
        close_range((unsigned int)keep_hi + 1, ~0U, 0);
        exec_intermediate(cfg, spec, pid, pidfd, child_fd);
    }
    int fork_errno = errno;
    close(child_fd);
    if (mid < 0)
        return error_set(err, fork_errno, "fork");

    /* Messages until end of file: the intermediate exited and the process exec'd. */
    pid_t child = -1;
    _cleanup_close_ int terminal = -1;
    struct sync_msg msg, failure = {.kind = 0};
    int fd, got;
    /* Both sides send before they exit: an error is followed by end of file too. */
    while ((got = terminal_fd_recv(parent_fd, &msg, &fd)) > 0) {
        if (msg.kind == SYNC_PID)
            child = (pid_t)msg.status;
        else if (msg.kind == SYNC_TERMINAL && fd >= 0 && terminal < 0)
            terminal = TAKE_FD(fd);
        else if ((msg.kind == SYNC_SETUP_ERROR || msg.kind == SYNC_EXEC_ERROR) && !failure.kind)
            failure = msg;
        if (fd >= 0)
            close(fd);
    }
    reap(mid);
    if (failure.kind) {
        msg = failure;
        if (child > 0)
            reap(child);
        if (msg.kind == SYNC_EXEC_ERROR)
            error_set_status(err, msg.status, 0, "%s", msg.text);
        else
            error_set(err, 0, "%s", msg.text);
        (*err)->errnum = msg.errnum > 0 ? msg.errnum : EINVAL;
        return error_code(*err);
    }
    if (got < 0)
        return error_set(err, -got, "read from the exec process");
    if (child <= 0)
        return error_set(err, EIO, "the exec process did not start");
    ret->pid = child;
    ret->start_time = process_start_time(child);
    ret->sync_fd = -1;
    ret->terminal_fd = TAKE_FD(terminal);
    return 0;
}
