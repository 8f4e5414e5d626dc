/*
 * What the cloned child does, in order: join a network namespace if asked,
 * mount the rootfs and the OCI mounts, make /dev, bring up lo, set the
 * hostname, pivot_root, mask, become the user with the configured
 * capabilities, close inherited descriptors, report ready, wait for the go,
 * then exec. It is pid 1 of the container: there is no second fork.
 *
 * Every failure goes back to the parent as text over the sync socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "seccomp.h"
#include "terminal.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int join_netns(const char *path, struct error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "open network namespace '%s'", path);
    if (setns(fd, CLONE_NEWNET) < 0)
        return error_set(err, errno, "join network namespace '%s'", path);
    return 0;
}

/* Only the sync socket and stdio survive; nothing of the host's leaks in. */
static void close_inherited(int sync_fd)
{
    if (sync_fd > 3)
        close_range(3, (unsigned int)sync_fd - 1, 0);
    close_range((unsigned int)(sync_fd >= 3 ? sync_fd + 1 : 3), ~0U, 0);
}

/* The caller may block or ignore signals for itself; exec keeps both. */
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

/* The container's compiled seccomp filter, between setup and exec. */
static struct seccomp_filter_ctx *seccomp_filter;

static int setup(struct oci_config *cfg, int sync_fd, struct error **err)
{
    int r;
    /* Until exec, nothing in the container may ptrace us or read our memory. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    close_inherited(sync_fd);
    reset_signals();
    /* Device nodes and mount points get exactly the modes asked for. */
    mode_t saved_umask = umask(0);

    if (cfg->clone_flags & CLONE_NEWUSER) {
        if ((r = userns_child_wait(cfg, sync_fd, err)) < 0)
            return r;
    } else if (cfg->netns_path && (r = join_netns(cfg->netns_path, err)) < 0) {
        return r;
    }

    _cleanup_close_ int rootfd = -1;
    if ((r = mounts_setup_rootfs(cfg, &rootfd, err)) < 0)
        return r;
    if ((r = devices_setup(rootfd, err)) < 0)
        return r;
    if ((r = devices_create(rootfd, cfg, err)) < 0)
        return r;
    if (cfg->new_netns && (r = loopback_up(err)) < 0)
        return r;
    if (cfg->hostname && cfg->hostname[0]) {
        if (!(cfg->clone_flags & CLONE_NEWUTS))
            return error_set(err, EINVAL, "a hostname needs a uts namespace");
        if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
            return error_set(err, errno, "sethostname '%s'", cfg->hostname);
    }
    if ((r = mounts_pivot_root(rootfd, err)) < 0)
        return r;
    /* /proc/sys is still writable here; mounts_finish makes it read-only. */
    if ((r = sysctl_apply(cfg, err)) < 0)
        return r;
    if ((r = mounts_finish(cfg, err)) < 0)
        return r;

    if ((r = user_resolve(cfg, err)) < 0)
        return r;
    /* As root still (the slave goes to the user), in the container's devpts. */
    if (cfg->terminal && (r = terminal_setup_in_container(sync_fd, cfg->uid, NULL, err)) < 0)
        return r;
    struct stat st;
    if (stat(cfg->cwd, &st) < 0 && errno == ENOENT && (r = mkdir_p(cfg->cwd, 0755, err)) < 0)
        return error_prefix(err, "cwd");
    umask(saved_umask);
    if ((r = rlimits_apply(cfg, err)) < 0)
        return r;
    if ((r = capabilities_apply(cfg, err)) < 0)
        return r;
    if (chdir(cfg->cwd) < 0)
        return error_set(err, errno, "chdir '%s'", cfg->cwd);
    if (cfg->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return error_set(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    /* Compiled now, loaded after GO: the filter is the last thing before execve. */
    if (cfg->seccomp && !cfg->seccomp_bpf &&
        (r = seccomp_filter_build(cfg->seccomp, cfg->cap_bounding, &seccomp_filter, err)) < 0)
        return r;
    /* Whatever setup opened and still holds (none should) dies at exec. */
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    return 0;
}

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);
    for (char **e = env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* execvpe's search, with the container's PATH rather than ours. */
int exec_command(struct oci_config *cfg)
{
    const char *file = cfg->args[0];
    if (strchr(file, '/')) {
        execve(file, cfg->args, cfg->env);
        return -errno;
    }
    const char *path = env_get(cfg->env, "PATH");
    if (!path)
        path = DEFAULT_PATH;
    int saw_eacces = 0;
    size_t flen = strlen(file);
    for (const char *p = path;;) {
        const char *end = strchrnul(p, ':');
        size_t dlen = (size_t)(end - p);
        char buf[PATH_MAX];
        if (dlen + flen + 2 <= sizeof(buf)) {
            /* An empty element means the current directory. */
            if (dlen) {
                memcpy(buf, p, dlen);
                buf[dlen++] = '/';
            }
            memcpy(buf + dlen, file, flen + 1);
            execve(buf, cfg->args, cfg->env);
            switch (errno) {
            case EACCES:
                saw_eacces = 1;
                break;
            case ENOENT:
            case ENOTDIR:
            case ESTALE:
            case ENODEV:
            case ETIMEDOUT:
            case ENAMETOOLONG:
                break;
            default:
                return -errno;
            }
        }
        if (!*end)
            break;
        p = end + 1;
    }
    return saw_eacces ? -EACCES : -ENOENT;
}

_Noreturn void container_init(struct oci_config *cfg, int sync_fd)
{
    struct error *err = NULL;
    if (setup(cfg, sync_fd, &err) < 0) {
        sync_send(sync_fd, SYNC_SETUP_ERROR, err ? err->errnum : EINVAL, 0,
                  err && err->msg ? err->msg : "container setup failed");
        _exit(EXIT_BERTH_ERROR);
    }
    if (sync_send(sync_fd, SYNC_READY, 0, 0, NULL) < 0)
        _exit(EXIT_BERTH_ERROR);
    struct sync_msg msg;
    /* End of file: the parent is gone, so is the reason to run. */
    if (sync_recv(sync_fd, &msg) <= 0 || msg.kind != SYNC_GO)
        _exit(EXIT_BERTH_ERROR);

    if (seccomp_filter || cfg->seccomp_bpf) {
        struct error *serr = NULL;
        if ((cfg->seccomp_bpf ? seccomp_bpf_load(cfg->seccomp_bpf, cfg->seccomp_bpf_len, &serr)
                              : seccomp_filter_load(seccomp_filter, &serr)) < 0) {
            sync_send(sync_fd, SYNC_EXEC_ERROR, serr->errnum, EXIT_BERTH_ERROR, serr->msg);
            _exit(EXIT_BERTH_ERROR);
        }
    }
    int r = exec_command(cfg);
    const char *file = cfg->args[0];
    char text[sizeof(msg.text)];
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
