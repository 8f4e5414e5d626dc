/* cgroup v1 (and hybrid): one directory per controller, the v1 file names. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

/* A new cpuset cgroup has no CPUs and no memory nodes: take the parent's. */
int cgroup_v1_prepare_dir(const char *controller, const char *dir, struct error **err)
{
    if (strcmp(controller, "cpuset"))
        return 0;
    _cleanup_free_ char *parent = strdup(dir);
    char *slash = parent ? strrchr(parent, '/') : NULL;
    if (!slash)
        return error_set(err, ENOMEM, "cpuset");
    *slash = '\0';
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *path = xasprintf("%s/%s", parent, files[i]);
        _cleanup_free_ char *value = NULL;
        struct error *local = NULL;
        if (read_file(path, &value, NULL, &local) < 0) {
            error_free(&local);
            continue;
        }
        value[strcspn(value, "\n")] = '\0';
        if (!*value)
            continue;
        int r = cgroup_write(dir, files[i], value, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int write_i64(const char *dir, const char *file, int64_t v, struct error **err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return cgroup_write(dir, file, buf, err);
}

int cgroup_v1_apply(const struct cgroup_spec *s, struct error **err)
{
    const struct cgroup_limits *l = &s->limits;
    const char *mem = cgroup_dir_of(s, "memory");
    const char *cpu = cgroup_dir_of(s, "cpu");
    const char *pids = cgroup_dir_of(s, "pids");
    const char *cpuset = cgroup_dir_of(s, "cpuset");
    int r;
    if (l->memory && (r = write_i64(mem, "memory.limit_in_bytes", l->memory, err)) < 0)
        return error_prefix(err, "--memory");
    if (l->memory_swap) {
        _cleanup_free_ char *memsw = xasprintf("%s/memory.memsw.limit_in_bytes", mem);
        if (!path_exists(memsw))
            return error_set_plain(err, EOPNOTSUPP,
                                   "--memory-swap: swap accounting is off in this kernel "
                                   "(no memory.memsw.limit_in_bytes)");
        if ((r = write_i64(mem, "memory.memsw.limit_in_bytes", l->memory_swap, err)) < 0)
            return error_prefix(err, "--memory-swap");
    }
    if (l->cpu_shares && (r = write_i64(cpu, "cpu.shares", (int64_t)l->cpu_shares, err)) < 0)
        return error_prefix(err, "--cpu-shares");
    if (l->cpu_quota) {
        int64_t period = l->cpu_period ? (int64_t)l->cpu_period : 100000;
        if ((r = write_i64(cpu, "cpu.cfs_period_us", period, err)) < 0 ||
            (r = write_i64(cpu, "cpu.cfs_quota_us", l->cpu_quota, err)) < 0)
            return error_prefix(err, "--cpus");
    }
    if (l->cpuset_cpus && (r = cgroup_write(cpuset, "cpuset.cpus", l->cpuset_cpus, err)) < 0)
        return error_prefix(err, "--cpuset-cpus");
    /* Deny-all first (a rule of the list), then each allow: the v1 semantics of the OCI list. */
    const char *devices = cgroup_dir_of(s, "devices");
    for (size_t i = 0; devices && i < l->n_devices; i++) {
        char rule[80];
        cgroup_device_rule_format(&l->devices[i], rule, sizeof(rule));
        if ((r = cgroup_write(devices, l->devices[i].allow ? "devices.allow" : "devices.deny", rule,
                              err)) < 0)
            return error_prefix(err, "devices cgroup");
    }
    if (l->pids_limit) {
        r = l->pids_limit < 0 ? cgroup_write(pids, "pids.max", "max", err)
                              : write_i64(pids, "pids.max", l->pids_limit, err);
        if (r < 0)
            return error_prefix(err, "--pids-limit");
    }
    return 0;
}

/* The value of KEY in a "key value" file such as memory.stat. */
static int stat_field(const char *dir, const char *file, const char *key, uint64_t *ret)
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

int cgroup_v1_stats(const struct cgroup_spec *s, struct cgroup_stats *st)
{
    const char *dir;
    uint64_t v;
    if ((dir = cgroup_dir_of(s, "cpuacct")) && cgroup_read_u64(dir, "cpuacct.usage", &v) == 0) {
        st->has_cpu = 1;
        st->cpu_usage_ns = v;
    }
    if ((dir = cgroup_dir_of(s, "memory")) &&
        cgroup_read_u64(dir, "memory.usage_in_bytes", &v) == 0) {
        st->has_memory = 1;
        uint64_t inactive = 0;
        /* As docker: the page cache the kernel can drop at once is not "used". */
        if (stat_field(dir, "memory.stat", "total_inactive_file", &inactive) == 0 && inactive < v)
            v -= inactive;
        st->memory_usage = v;
        if (cgroup_read_u64(dir, "memory.limit_in_bytes", &v) == 0 && v < (UINT64_C(1) << 62))
            st->memory_limit = v;
    }
    if ((dir = cgroup_dir_of(s, "pids")) && cgroup_read_u64(dir, "pids.current", &v) == 0) {
        st->has_pids = 1;
        st->pids_current = v;
        if (cgroup_read_u64(dir, "pids.max", &v) == 0 && v != UINT64_MAX)
            st->pids_limit = v;
    }
    if ((dir = cgroup_dir_of(s, "blkio"))) {
        _cleanup_free_ char *path = xasprintf("%s/blkio.throttle.io_service_bytes", dir);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[256];
        while (f && fgets(line, sizeof(line), f)) {
            char dev[64], op[32];
            unsigned long long n;
            if (sscanf(line, "%63s %31s %llu", dev, op, &n) != 3)
                continue;
            if (!strcmp(op, "Read"))
                st->blk_read += n;
            else if (!strcmp(op, "Write"))
                st->blk_write += n;
        }
        st->has_blkio = f != NULL;
    }
    return 0;
}
