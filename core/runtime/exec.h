/*
 * Running one more process in a running container (berth exec): it joins
 * every namespace of the container's first process, its cgroup, its root,
 * and gets the same capabilities, no_new_privs and security filter as the
 * container's process from BUNDLE/config.json.
 */
#ifndef BERTH_RUNTIME_EXEC_H
#define BERTH_RUNTIME_EXEC_H

#include <sys/ioctl.h>
#include <sys/types.h>

#include "runtime.h"

struct exec_spec {
    char **args;       /* NULL-terminated, args[0] looked up in the container's PATH */
    char **env;        /* "K=V" over the container's env (same key: this wins); may be NULL */
    const char *cwd;   /* absolute; NULL: the container's */
    const char *user;  /* "uid[:gid]" or "name[:group]"; NULL: the container's */
    int terminal;      /* a pty made in the container; its master comes back */
    struct winsize ws; /* the pty's first size (zero: none) */
    int stdin_null;    /* stdin from /dev/null rather than berth's */
    int stdio_null;    /* stdin, stdout and stderr from/to /dev/null (detached) */
    const char *const *cgroups; /* NULL-terminated cgroup directories to join; may be NULL */
};

/*
 * Starts SPEC in the container whose first process is PID with START_TIME
 * (refused with ESRCH when that process is gone), from the container's
 * BUNDLE_DIR/config.json. Two forks: the first joins the cgroups and the
 * namespaces (one setns on a pidfd, atomic), the second is made with
 * CLONE_PARENT so that it is in the container's pid namespace and yet
 * berth's child, which waits for it with runtime_wait or terminal_relay.
 * Returns once the command was exec'd: RET->pid (on the host) and
 * RET->terminal_fd (the pty master, or -1); RET->sync_fd is -1. An exec that
 * fails carries exit status 127 or 126, as runtime_start.
 */
int runtime_exec(const char *bundle_dir, pid_t pid, unsigned long long start_time,
                 const struct exec_spec *spec, struct container_process *ret, struct error **err);

#endif
