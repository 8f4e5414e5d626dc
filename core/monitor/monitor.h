/*
 * The monitor of a detached container (conmon's role, without a daemon): a
 * process forked from the berth that runs `run -d` or `start`, double-forked
 * and setsid'ed so that it outlives that berth. It is the parent of the
 * container's first process (the runtime is created from it), holds the
 * container's record lock for the container's whole life, copies the
 * container's stdout and stderr from pipes into the json-file log and to
 * attached clients, reaps the container, records its exit status and OOM
 * kill, routes the stop through the plugins, and restarts it under the
 * restart policy with back-off. See docs/monitor.md.
 *
 * This layer knows nothing of records or plugins: the lifecycle hands it
 * callbacks.
 */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include <sys/types.h>

#include "monitor/monitor-options.h"
#include "util/error.h"

struct monitor_callbacks {
    void *ctx;
    /* Creates and starts the container; its stdin, stdout and stderr are the
     * monitor's descriptors 0, 1 and 2 at the time of the call. *RET_TTY_FD:
     * the pty master when the container has a terminal, else -1. On failure
     * the callback has rolled its steps back. */
    int (*start)(void *ctx, pid_t *ret_pid, int *ret_tty_fd, struct error **err);
    /* The container exited: the stop transaction. With RESTARTING the
     * container stays (state "restarting") for another start. */
    void (*stopped)(void *ctx, int exit_status, int oom_killed, int restarting);
    /* A container waiting to restart will not: a restart failed (EXIT_STATUS
     * is the failure's) or the user stopped it during the back-off. */
    void (*gave_up)(void *ctx, int exit_status);
    /* The container's cgroup directory, or NULL (for OOM kills). */
    const char *(*cgroup_path)(void *ctx);
    /* The monitor's last act: run dir removed, record lock released. */
    void (*finish)(void *ctx);
};

struct monitor_config {
    const char *log_path; /* the json-file log */
    struct log_options log;
    struct restart_policy restart;
    const char *run_dir; /* holds the attach socket */
    int open_stdin;      /* -i without -t: a pipe to the container's stdin, fed by attach */
};

/*
 * Forks the monitor. Returns in the calling berth once the container's first
 * start succeeded (0) or failed (the error, with the start's steps rolled
 * back by the monitor). In the monitor it never returns.
 */
int monitor_spawn(const struct monitor_config *cfg, const struct monitor_callbacks *cb,
                  struct error **err);

/* Name of the attach socket in the container's run dir. */
#define MONITOR_ATTACH_SOCKET "attach"

/* Frames on the attach socket, monitor to client: a header then LEN bytes. */
struct attach_frame_header {
    unsigned char stream; /* 1 stdout, 2 stderr */
    unsigned char pad[3];
    unsigned int len;
};

/* OOM kills so far in the cgroup at PATH (v2 memory.events oom_kill, v1
 * memory.oom_control oom_kill); 0 when unknown. */
long long monitor_oom_kills(const char *cgroup_path);

/* Drops from memory what an idle monitor does not use: freed heap, and the
 * resident pages of file mappings that hold no private copy (they fault back
 * in from the page cache when touched). */
void monitor_trim_memory(void);

#endif
