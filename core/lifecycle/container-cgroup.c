/* The record's side of a container's cgroup (container-cgroup.h). */
#include "lifecycle/container-cgroup.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lifecycle/undo.h"
#include "store/container-store.h"
#include "util/cleanup.h"

int container_cgroup_options(cJSON *rec, const struct cgroup_limits *l, const char *parent,
                             int no_cgroup, struct error **err)
{
    if (no_cgroup) {
        if ((l && !cgroup_limits_empty(l)) || parent)
            return error_set_plain(err, EINVAL,
                                   "--cgroups disabled: limits and --cgroup-parent need a cgroup");
        cJSON_AddBoolToObject(rec, "no_cgroup", 1);
        return 0;
    }
    if (parent && (!*parent || strstr(parent, "..")))
        return error_set_plain(err, EINVAL, "--cgroup-parent '%s': not a valid cgroup path",
                               parent);
    if (parent)
        rec_set_str(rec, "cgroup_parent", parent);
    if (!l || cgroup_limits_empty(l))
        return 0;
    if (l->memory_swap > 0 && !l->memory)
        return error_set_plain(err, EINVAL, "--memory-swap needs --memory");
    if (l->memory_swap > 0 && l->memory_swap < l->memory)
        return error_set_plain(err, EINVAL,
                               "--memory-swap must be at least --memory (it counts both)");
    if (l->memory && l->memory < 6LL * 1024 * 1024)
        return error_set_plain(err, EINVAL, "--memory: the minimum is 6m");
    if (l->cpu_quota) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t period = l->cpu_period ? l->cpu_period : 100000;
        if (ncpu > 0 && (uint64_t)l->cpu_quota > period * (uint64_t)ncpu)
            return error_set_plain(err, EINVAL, "--cpus: this machine has %ld CPU(s)", ncpu);
        if (l->cpu_quota < 1000)
            return error_set_plain(err, EINVAL, "--cpus: the minimum is 0.01");
    }
    if (l->cpu_shares && (l->cpu_shares < 2 || l->cpu_shares > 262144))
        return error_set_plain(err, EINVAL, "--cpu-shares: from 2 to 262144");
    cJSON_AddItemToObject(rec, "resources", cgroup_limits_to_oci(l));
    return 0;
}

int container_cgroup_prepare(const char *id, cJSON *rec, struct cgroup_spec **ret,
                             struct error **err)
{
    if (cJSON_IsTrue(cJSON_GetObjectItem(rec, "no_cgroup"))) {
        *ret = NULL;
        return 0;
    }
    struct cgroup_limits limits = {0};
    int r = cgroup_limits_from_oci(cJSON_GetObjectItem(rec, "resources"), &limits, err);
    if (r < 0)
        return r;
    char name[80];
    snprintf(name, sizeof(name), "berth-%s", id);
    struct cgroup_spec *s = NULL;
    r = cgroup_resolve(rec_str(rec, "cgroup_parent"), name, &limits, &s, err);
    cgroup_limits_clear(&limits);
    if (r < 0)
        return r;
    cJSON_DeleteItemFromObject(rec, "cgroup_mode");
    cJSON_DeleteItemFromObject(rec, "cgroup_path");
    cJSON_DeleteItemFromObject(rec, "cgroup_remove_parent");
    if (s) {
        rec_set_str(rec, "cgroup_mode", cgroup_mode_name(s->mode));
        cJSON_AddItemToObject(rec, "cgroup_path", cgroup_path_to_json(s));
        cJSON_AddBoolToObject(rec, "cgroup_remove_parent", s->remove_parent);
    }
    *ret = s;
    return 0;
}

cJSON *container_cgroup_undo(const struct cgroup_spec *s)
{
    cJSON *u = undo_entry("cgroup-remove");
    cJSON_AddStringToObject(u, "cgroup_mode", cgroup_mode_name(s->mode));
    cJSON_AddItemToObject(u, "cgroup_path", cgroup_path_to_json(s));
    cJSON_AddBoolToObject(u, "cgroup_remove_parent", s->remove_parent);
    return u;
}

int container_cgroup_load(const cJSON *rec, struct cgroup_spec **ret, struct error **err)
{
    *ret = NULL;
    const cJSON *path = cJSON_GetObjectItem(rec, "cgroup_path");
    if (!path)
        return 0;
    return cgroup_spec_from_path(rec_str(rec, "cgroup_mode"), path,
                                 cJSON_IsTrue(cJSON_GetObjectItem(rec, "cgroup_remove_parent")),
                                 ret, err);
}

int container_cgroup_remove_entry(const cJSON *entry, struct error **err)
{
    _cleanup_cgroup_spec_ struct cgroup_spec *s = NULL;
    int r = container_cgroup_load(entry, &s, err);
    if (r < 0 || !s)
        return r;
    return cgroup_destroy(s, err);
}

void container_cgroup_thaw(const cJSON *rec)
{
    _cleanup_cgroup_spec_ struct cgroup_spec *s = NULL;
    struct error *local = NULL;
    if (container_cgroup_load(rec, &s, &local) == 0 && s && cgroup_is_frozen(s) == 1)
        cgroup_freeze(s, 0, &local);
    error_free(&local);
}
