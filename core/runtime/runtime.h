/*
 * The runtime: runs a container process from an OCI bundle
 * (BUNDLE/config.json) in new mount, pid, uts, ipc, net and cgroup
 * namespaces. The root filesystem's mounts come from the storage driver and
 * are listed in config.json under the top-level extension key
 * "org.berth.rootfs" ({"mounts":[{type,source,destination,options[]}]}),
 * performed inside the container's mount namespace onto root.path.
 */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <sys/types.h>

#include "util/error.h"

struct cgroup_spec;

struct mount_entry {
    char *type;
    char *source;
    char *target;  /* inside the container, "/" for the root */
    char *options; /* comma-separated, may be NULL */
};

/* What berth asks the runtime to run; becomes config.json. */
struct run_spec {
    char **args;      /* NULL-terminated, args[0] is the command */
    char **env;       /* NULL-terminated "K=V" */
    const char *cwd;  /* absolute, "/" if NULL */
    const char *user; /* "uid[:gid]" or "name[:group]" resolved in the container; NULL = root */
    const char *hostname;
    int read_only_root;
    int share_host_network; /* --network host: no new network namespace */
    int terminal;           /* process.terminal: a pty made in the container (terminal.h) */
    const char *netns_path; /* join this network namespace file instead of a new one */
    const struct mount_entry *rootfs_mounts;
    size_t n_rootfs_mounts;
    const struct mount_entry *extra_mounts; /* volumes, binds, tmpfs: after the root */
    size_t n_extra_mounts;
    /* The record's "security" object (runtime/security-opts.h); NULL: the defaults. */
    const struct cJSON *security;
    /* Compiled seccomp filters shared by containers (RUNROOT/seccomp); NULL: none. */
    const char *seccomp_cache_dir;
    const struct cgroup_spec *cgroup; /* linux.resources and the cgroup (cgroup.h); NULL: none */
};

/* Writes BUNDLE_DIR/config.json (and makes BUNDLE_DIR/rootfs). */
int bundle_write(const char *bundle_dir, const struct run_spec *spec, struct error **err);

struct container_process {
    pid_t pid;                     /* on the host */
    unsigned long long start_time; /* /proc/PID/stat field 22, to recognise it later */
    int sync_fd;                   /* the parent's end of the start handshake, -1 when done */
    int terminal_fd;               /* the pty master with process.terminal, else -1 (terminal.h) */
};

/*
 * Creates the container process from BUNDLE_DIR: namespaces, mounts,
 * pivot_root, /proc, /sys, /dev, masks, hostname, user, capabilities,
 * no_new_privs — everything but the exec, which waits for runtime_start.
 * A setup failure in the child is returned here as an error.
 */
int runtime_create(const char *bundle_dir, struct container_process *ret, struct error **err);
/*
 * Lets the process exec its command. If the exec fails the error says why
 * and carries exit status 127 (not found) or 126 (cannot be run).
 */
int runtime_start(struct container_process *proc, struct error **err);
/*
 * Waits for the process, forwarding SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2 and SIGWINCH to it. Stores the exit status as a shell
 * reports it (code, or 128+signal).
 */
int runtime_wait(struct container_process *proc, int *ret_exit_status, struct error **err);
/* Kills the process (SIGKILL) if PID still has START_TIME; waits if it is our child. */
void runtime_kill_if_alive(pid_t pid, unsigned long long start_time);
/* Start time of PID from /proc (0 if it does not exist). */
unsigned long long process_start_time(pid_t pid);

/*
 * berth cp on a container that does not run: in the caller's own mount
 * namespace (made private here), ROOT (the storage driver's "/") at DIR and
 * the EXTRA mounts (volumes, binds; tmpfs left out) inside it, as the
 * container would see them. Stores a descriptor of the root in *RET_ROOTFD.
 */
int mounts_setup_copy_view(const struct mount_entry *root, const struct mount_entry *extra,
                           size_t n_extra, const char *dir, int *ret_rootfd, struct error **err);

/*
 * Re-executes berth from a sealed in-memory copy of its binary (as crun's
 * cloned_binary.c), so that a container can never write to the host's
 * berth through /proc/self/exe. Returns 0 when already running sealed;
 * otherwise only returns on failure.
 */
int sealed_binary_ensure(int argc, char **argv, struct error **err);

#endif
