/* cgroup v2: one directory in the unified hierarchy, controllers delegated. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

/*
 * Whether LEVEL itself holds processes (its cgroup.procs is not empty). An
 * unreadable file counts as holding some: nothing is enabled there then.
 */
static int holds_processes(const char *level)
{
    _cleanup_free_ char *path = xasprintf("%s/cgroup.procs", level);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return 1;
    return fgetc(f) != EOF;
}

/*
 * Enables the controllers the limits need in cgroup.subtree_control of every
 * level from the root down to DIR (the container's parent). A level holding
 * processes cannot delegate (the "no internal processes" rule): then only a
 * missing controller that a limit needs is an error. Such a level is not even
 * tried: the kernel would take the threaded controllers (cpu, cpuset, pids)
 * there and make the level a thread root, under which no process may then
 * join a domain cgroup such as the container's (EOPNOTSUPP). The root is
 * exempt from the rule.
 */
int cgroup_v2_enable_controllers(const char *root, const char *dir, const struct cgroup_limits *l,
                                 struct error **err)
{
    const struct {
        const char *name;
        int needed;
    } wanted[] = {
        {"memory", l->memory || l->memory_swap},
        {"cpu", l->cpu_quota || l->cpu_shares},
        {"pids", l->pids_limit != 0},
        {"cpuset", l->cpuset_cpus != NULL},
        {"io", 0},
    };
    size_t rl = strlen(root);
    if (strncmp(dir, root, rl))
        return error_set_plain(err, EINVAL, "cgroup '%s' is not under '%s'", dir, root);
    char level[PATH_MAX];
    snprintf(level, sizeof(level), "%s", root);
    const char *rest = dir + rl;
    for (;;) {
        int busy = strcmp(level, root) != 0 && holds_processes(level);
        for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
            char word[32];
            snprintf(word, sizeof(word), "+%s", wanted[i].name);
            int r = busy ? -EBUSY : cgroup_write(level, "cgroup.subtree_control", word, NULL);
            if (r < 0 && wanted[i].needed)
                return error_set(err, -r,
                                 "cgroup v2: cannot enable the '%s' controller in '%s' (it "
                                 "holds processes or the controller is not available; choose "
                                 "another --cgroup-parent)",
                                 wanted[i].name, level);
        }
        while (*rest == '/')
            rest++;
        if (!*rest)
            return 0;
        const char *end = strchrnul(rest, '/');
        size_t len = strlen(level);
        snprintf(level + len, sizeof(level) - len, "/%.*s", (int)(end - rest), rest);
        rest = end;
    }
}

uint64_t cgroup_v2_shares_to_weight(uint64_t shares)
{
    /* runc's conversion: shares 2..262144 onto weight 1..10000. */
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

static int write_i64(const char *dir, const char *file, int64_t v, struct error **err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return cgroup_write(dir, file, buf, err);
}

int cgroup_v2_apply(const struct cgroup_spec *s, struct error **err)
{
    const struct cgroup_limits *l = &s->limits;
    const char *dir = s->dirs[0].path;
    int r;
    if (l->memory && (r = write_i64(dir, "memory.max", l->memory, err)) < 0)
        return error_prefix(err, "--memory");
    if (l->memory_swap) {
        /* v2 limits swap alone; OCI's swap is memory + swap. */
        if (l->memory_swap < 0)
            r = cgroup_write(dir, "memory.swap.max", "max", err);
        else if (l->memory && l->memory_swap >= l->memory)
            r = write_i64(dir, "memory.swap.max", l->memory_swap - l->memory, err);
        else
            r = error_set_plain(err, EINVAL, "must be at least --memory");
        if (r < 0)
            return error_prefix(err, "--memory-swap");
    }
    if (l->cpu_shares) {
        uint64_t weight = cgroup_v2_shares_to_weight(l->cpu_shares);
        if ((r = write_i64(dir, "cpu.weight", (int64_t)weight, err)) < 0)
            return error_prefix(err, "--cpu-shares");
    }
    if (l->cpu_quota) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%" PRId64 " %" PRIu64, l->cpu_quota,
                 l->cpu_period ? l->cpu_period : 100000);
        if ((r = cgroup_write(dir, "cpu.max", buf, err)) < 0)
            return error_prefix(err, "--cpus");
    }
    if (l->cpuset_cpus && (r = cgroup_write(dir, "cpuset.cpus", l->cpuset_cpus, err)) < 0)
        return error_prefix(err, "--cpuset-cpus");
    if ((r = cgroup_v2_devices_apply(dir, l, err)) < 0)
        return error_prefix(err, "devices cgroup");
    if (l->pids_limit) {
        r = l->pids_limit < 0 ? cgroup_write(dir, "pids.max", "max", err)
                              : write_i64(dir, "pids.max", l->pids_limit, err);
        if (r < 0)
            return error_prefix(err, "--pids-limit");
    }
    return 0;
}

static int key_value(const char *dir, const char *file, const char *key, uint64_t *ret)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char name[128];
    unsigned long long v;
    while (fscanf(f, "%127s %llu", name, &v) == 2)
        if (!strcmp(name, key)) {
            *ret = v;
            return 0;
        }
    return -ENOENT;
}

int cgroup_v2_stats(const struct cgroup_spec *s, struct cgroup_stats *st)
{
    const char *dir = s->dirs[0].path;
    uint64_t v = 0; /* the analyzer cannot tell -errno from fopen is < 0 */
    if (key_value(dir, "cpu.stat", "usage_usec", &v) == 0) {
        st->has_cpu = 1;
        st->cpu_usage_ns = v * 1000;
    }
    if (cgroup_read_u64(dir, "memory.current", &v) == 0) {
        st->has_memory = 1;
        uint64_t inactive = 0;
        if (key_value(dir, "memory.stat", "inactive_file", &inactive) == 0 && inactive < v)
            v -= inactive;
        st->memory_usage = v;
        if (cgroup_read_u64(dir, "memory.max", &v) == 0 && v != UINT64_MAX)
            st->memory_limit = v;
    }
    if (cgroup_read_u64(dir, "pids.current", &v) == 0) {
        st->has_pids = 1;
        st->pids_current = v;
        if (cgroup_read_u64(dir, "pids.max", &v) == 0 && v != UINT64_MAX)
            st->pids_limit = v;
    }
    _cleanup_free_ char *path = xasprintf("%s/io.stat", dir);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        char *save = NULL;
        for (char *tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
            if (!strncmp(tok, "rbytes=", 7))
                st->blk_read += strtoull(tok + 7, NULL, 10);
            else if (!strncmp(tok, "wbytes=", 7))
                st->blk_write += strtoull(tok + 7, NULL, 10);
        }
    }
    st->has_blkio = f != NULL;
    return 0;
}
