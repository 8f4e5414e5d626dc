/*
 * Control groups of containers: detection of the layout (cgroup v2 unified,
 * or v1 controllers with or without a v2 mount beside them: "hybrid"), the
 * container's cgroup under a parent, its limits (OCI linux.resources),
 * joining, freezing, statistics and removal. docs/cgroups.md.
 *
 * A container's cgroup is a set of directories: one per v1 controller (the
 * same directory for co-mounted controllers), or one on v2.
 */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

enum cgroup_mode {
    CGROUP_MODE_NONE = 0, /* no cgroup file system found */
    CGROUP_MODE_V1 = 1,   /* v1 controllers (a v2 mount beside them is ignored) */
    CGROUP_MODE_V2 = 2,   /* the unified hierarchy alone */
};

/*
 * One rule of the devices cgroup (OCI linux.resources.devices), applied in
 * order: v1 writes it to devices.allow or devices.deny; v2 compiles the list
 * into a BPF_CGROUP_DEVICE program (cgroup-v2.c).
 */
struct cgroup_device_rule {
    int allow;
    char type;            /* 'a' (all), 'c' or 'b' */
    int64_t major, minor; /* -1: any */
    char access[4];       /* a subset of "rwm" */
};

/* The limits berth sets; zero fields are not set. */
struct cgroup_limits {
    int64_t memory;      /* bytes */
    int64_t memory_swap; /* memory + swap, bytes; -1 unlimited */
    int64_t cpu_quota;   /* µs per cpu_period */
    uint64_t cpu_period; /* µs (100000 when a quota is set) */
    uint64_t cpu_shares; /* v1 weight, 2..262144; v2 gets cpu.weight from it */
    char *cpuset_cpus;   /* "0-1,3" */
    int64_t pids_limit;  /* -1 unlimited */
    /* The devices rules (not a "limit" for cgroup_limits_empty: no controller is required). */
    struct cgroup_device_rule *devices;
    size_t n_devices;
};

struct cgroup_dir {
    char *controller; /* v1: "memory"…; v2: "" */
    char *path;       /* the directory, absolute (/sys/fs/cgroup/…) */
};

struct cgroup_spec {
    enum cgroup_mode mode;
    struct cgroup_dir *dirs;
    size_t n_dirs;
    int remove_parent; /* the parent is berth's default one: remove it once empty */
    struct cgroup_limits limits;
};

void cgroup_spec_free(struct cgroup_spec *s);
static inline void cgroup_spec_freep(struct cgroup_spec **s)
{
    cgroup_spec_free(*s);
}
#define _cleanup_cgroup_spec_ __attribute__((cleanup(cgroup_spec_freep)))

/* The layout of this machine (detected once: statfs of /sys/fs/cgroup). */
enum cgroup_mode cgroup_detect(void);
const char *cgroup_mode_name(enum cgroup_mode m);

/*
 * The cgroup NAME under PARENT (a cgroup path relative to each hierarchy's
 * root, leading "/" optional; NULL: berth's own cgroup of each hierarchy, as
 * /proc/self/cgroup says, + "/berth") for LIMITS (copied). On v1 each
 * controller berth uses gets a directory; cpuset only when a cpuset is asked.
 * Nothing is made yet. A limit with no controller to hold it is an error.
 */
int cgroup_resolve(const char *parent, const char *name, const struct cgroup_limits *limits,
                   struct cgroup_spec **ret, struct error **err);

/* Makes the directories and writes the limits; on failure removes what it made. */
int cgroup_create(const struct cgroup_spec *s, struct error **err);
/* Moves PID into every directory. */
int cgroup_enter(const struct cgroup_spec *s, pid_t pid, struct error **err);
/*
 * Thaws, waits (up to about 2 s) until no process is left, removes the
 * directories (and the default parent if it is empty). Missing ones are fine.
 */
int cgroup_destroy(const struct cgroup_spec *s, struct error **err);
/* For a cleanup attribute: destroys *S unless the owner cleared the pointer. */
static inline void cgroup_destroyp(const struct cgroup_spec **s)
{
    if (*s)
        cgroup_destroy(*s, NULL);
}
/* FROZEN (1) or THAWED (0), waiting until the kernel reports it done. */
int cgroup_freeze(const struct cgroup_spec *s, int frozen, struct error **err);
/* 1 if frozen, 0 if not, negative errno. */
int cgroup_is_frozen(const struct cgroup_spec *s);

struct cgroup_stats {
    int has_cpu, has_memory, has_pids, has_blkio;
    uint64_t cpu_usage_ns;
    uint64_t memory_usage;
    uint64_t memory_limit; /* 0: none */
    uint64_t pids_current;
    uint64_t pids_limit; /* 0: none */
    uint64_t blk_read, blk_write;
};
int cgroup_read_stats(const struct cgroup_spec *s, struct cgroup_stats *ret, struct error **err);
/* The processes in the cgroup, in the order the kernel lists them. */
int cgroup_list_pids(const struct cgroup_spec *s, pid_t **ret, size_t *ret_n, struct error **err);

/*
 * The OCI form: linux.resources from the limits and, in the top-level
 * extension "org.berth.cgroup", {"mode", "path", "remove_parent"}.
 * cgroup_spec_to_oci adds both to ROOT (a config.json object);
 * cgroup_spec_from_oci reads them back (*RET = NULL when there is none).
 */
int cgroup_spec_to_oci(const struct cgroup_spec *s, cJSON *root);
int cgroup_spec_from_oci(const cJSON *root, struct cgroup_spec **ret, struct error **err);
/* "path" alone: a string on v2, an object {controller: dir} on v1. */
cJSON *cgroup_path_to_json(const struct cgroup_spec *s);
/* From mode name, path (as cgroup_path_to_json) and remove_parent; no limits. */
int cgroup_spec_from_path(const char *mode, const cJSON *path, int remove_parent,
                          struct cgroup_spec **ret, struct error **err);

/* linux.resources <-> limits. */
cJSON *cgroup_limits_to_oci(const struct cgroup_limits *l);
int cgroup_limits_from_oci(const cJSON *resources, struct cgroup_limits *ret, struct error **err);
void cgroup_limits_clear(struct cgroup_limits *l);
int cgroup_limits_empty(const struct cgroup_limits *l);

/* "c 1:3 rwm", "a *:* rwm": the v1 devices.allow/devices.deny line of R. */
void cgroup_device_rule_format(const struct cgroup_device_rule *r, char *buf, size_t len);

/* What cgroup.c shares with cgroup-v1.c and cgroup-v2.c. */
int cgroup_write(const char *dir, const char *file, const char *value, struct error **err);
int cgroup_read_u64(const char *dir, const char *file, uint64_t *ret);
int cgroup_v1_apply(const struct cgroup_spec *s, struct error **err);
int cgroup_v1_prepare_dir(const char *controller, const char *dir, struct error **err);
int cgroup_v1_stats(const struct cgroup_spec *s, struct cgroup_stats *st);
int cgroup_v2_apply(const struct cgroup_spec *s, struct error **err);
/* --cpu-shares (v1, 2..262144) as cpu.weight (v2, 1..10000), as runc converts. */
uint64_t cgroup_v2_shares_to_weight(uint64_t shares);
int cgroup_v2_enable_controllers(const char *root, const char *dir, const struct cgroup_limits *l,
                                 struct error **err);
/* The rule list as a BPF_CGROUP_DEVICE program attached to DIR (cgroup-v2-devices.c). */
int cgroup_v2_devices_apply(const char *dir, const struct cgroup_limits *l, struct error **err);
int cgroup_v2_stats(const struct cgroup_spec *s, struct cgroup_stats *st);
const char *cgroup_dir_of(const struct cgroup_spec *s, const char *controller);

#endif
