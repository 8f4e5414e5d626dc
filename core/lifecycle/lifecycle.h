/*
 * The router: every container transaction (create, start, stop, remove) is a
 * sequence of steps; each finished step appends its undo to the container's
 * journal (RUNROOT/containers/ID/journal) while the container's record lock
 * is held. A failing step rolls the finished ones back newest first; a berth
 * killed mid-way leaves the journal for the next command to roll back.
 * Hook plugins see every step as an event and may refuse the pre-phase ones.
 */
#ifndef BERTH_LIFECYCLE_H
#define BERTH_LIFECYCLE_H

#include <cjson/cJSON.h>

#include "lifecycle/engine.h"

struct cgroup_limits;

struct create_options {
    const char *image_ref;
    const char *name;           /* NULL: a random one */
    const char *storage_driver; /* NULL: the default */
    const char *network;        /* "none" or "host"; NULL = "none" */
    int auto_remove;            /* --rm */
    /* The process: each may be NULL to take the image's. */
    char **args; /* overrides the image's cmd */
    char **env;  /* added to the image's env, overriding same keys */
    const char *cwd;
    const char *user;
    const char *hostname;
    const char *entrypoint; /* --entrypoint: replaces the image's and drops its cmd; "" none */
    /* /etc/resolv.conf and /etc/hosts (lifecycle/etc-files.h); each may be NULL. */
    char **dns, **dns_search, **dns_options; /* --dns, --dns-search, --dns-option */
    char **extra_hosts;                      /* --add-host HOST:IP */
    char **labels;                           /* --label KEY[=VALUE] */
    /* Storage of the container's data: each NULL-terminated, may be NULL. */
    char **volumes;     /* -v SOURCE:TARGET[:OPTIONS] */
    char **mount_specs; /* --mount type=…,source=…,target=…[,readonly] */
    char **tmpfs;       /* --tmpfs TARGET[:OPTIONS] */
    int read_only;      /* --read-only root filesystem */
    /* Network (with a network other than none/host). */
    char **publish; /* -p [HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO] or -p CONTAINERPORT */
    const char *ip; /* --ip */
    /* --privileged, --cap-add/--cap-drop, --security-opt, --device, --sysctl,
     * --ulimit (runtime/security-opts.h); NULL: the defaults. */
    const struct security_request *security;
    /* Resources (runtime/cgroup.h): each may be NULL for none / the default. */
    const struct cgroup_limits *limits; /* --memory, --cpus, … */
    const char *cgroup_parent;          /* --cgroup-parent */
    int no_cgroup;                      /* --cgroups disabled: stay in berth's cgroup */

    int tty;         /* -t: the process gets a pty (OCI process.terminal) */
    int interactive; /* -i: with -t, berth's stdin goes to the pty */
    /* Detached containers (core/monitor/, docs/monitor.md). */
    const char *restart;     /* --restart no|on-failure[:N]|always|unless-stopped */
    const char *stop_signal; /* --stop-signal, NULL = SIGTERM */
    const char *log_opts;    /* --log-opt max-size=…,max-file=N (repeats joined by ',') */
    int init;                /* --init: berth-init is the container's pid 1 */
};

/* Creates a container (state "created"); prints nothing. *RET_ID: caller frees. */
int container_create(struct engine *e, const struct create_options *o, char **ret_id,
                     struct error **err);
/* Starts REF attached: runs it to its end, returns its exit status. */
int container_start_attached(struct engine *e, const char *ref, int *ret_exit_status,
                             struct error **err);
/* create + start attached as one transaction: a failure leaves nothing. */
int container_run(struct engine *e, const struct create_options *o, int *ret_exit_status,
                  struct error **err);
/* create + start with a monitor that outlives berth (run -d): returns once
 * the process runs. *RET_ID: caller frees. */
int container_run_detached(struct engine *e, const struct create_options *o, char **ret_id,
                           struct error **err);
/* Starts REF (created or exited) under a monitor, as run -d does. */
int container_start_detached(struct engine *e, const char *ref, struct error **err);
/* Removes REF; a running one only with FORCE (it is killed first). */
int container_remove(struct engine *e, const char *ref, int force, struct error **err);
/* Rolls back what dead berth processes left, then asks every plugin's gc. */
int engine_gc(struct engine *e, struct error **err);

/* Recovers containers whose owning berth died (called by engine_open). */
void lifecycle_recover(struct engine *e);

#endif
