/* BUNDLE/config.json -> struct oci_config: the subset of the spec berth runs. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "runtime-internal.h"
#include "runtime/userns-map.h"
#include "seccomp.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static void mounts_free(struct oci_mount *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].type);
        free(m[i].source);
        free(m[i].destination);
        free(m[i].data);
    }
    free(m);
}

static void strv_free(char **v)
{
    strvfreep(&v);
}

void oci_config_free(struct oci_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->rootfs);
    strv_free(cfg->args);
    strv_free(cfg->env);
    free(cfg->cwd);
    free(cfg->additional_gids);
    free(cfg->user);
    free(cfg->uid_map);
    free(cfg->gid_map);
    free(cfg->hostname);
    free(cfg->netns_path);
    mounts_free(cfg->mounts, cfg->n_mounts);
    mounts_free(cfg->rootfs_mounts, cfg->n_rootfs_mounts);
    strv_free(cfg->masked_paths);
    strv_free(cfg->readonly_paths);
    cgroup_spec_free(cfg->cgroup);
    seccomp_profile_free(cfg->seccomp);
    free(cfg->seccomp_bpf);
    for (size_t i = 0; cfg->devices && i < cfg->n_devices; i++)
        free(cfg->devices[i].path);
    free(cfg->devices);
    strv_free(cfg->sysctl);
    free(cfg->rlimits);
    free(cfg);
}

static int dup_string(const cJSON *parent, const char *key, char **ret, struct error **err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (!j || cJSON_IsNull(j))
        return 0;
    if (!cJSON_IsString(j))
        return error_set(err, EINVAL, "'%s' is not a string", key);
    char *s = strdup(j->valuestring);
    if (!s)
        return error_set(err, ENOMEM, "'%s'", key);
    free(*ret);
    *ret = s;
    return 0;
}

/* A JSON array of strings -> NULL-terminated vector (empty if absent). */
static int string_vector(const cJSON *parent, const char *key, char ***ret, struct error **err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (a && !cJSON_IsArray(a))
        return error_set(err, EINVAL, "'%s' is not an array", key);
    int n = a ? cJSON_GetArraySize(a) : 0;
    _cleanup_strv_ char **v = calloc((size_t)n + 1, sizeof(char *));
    if (!v)
        return error_set(err, ENOMEM, "'%s'", key);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (!cJSON_IsString(e))
            return error_set(err, EINVAL, "'%s' holds a non-string", key);
        if (!(v[i++] = strdup(e->valuestring)))
            return error_set(err, ENOMEM, "'%s'", key);
    }
    *ret = TAKE_PTR(v);
    return 0;
}

static int id_value(const cJSON *parent, const char *key, unsigned int *ret, struct error **err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (!j)
        return 0;
    if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > (double)UINT_MAX - 1)
        return error_set(err, EINVAL, "'%s' is not a valid id", key);
    *ret = (unsigned int)j->valuedouble;
    return 0;
}

static int cap_set(const cJSON *caps, const char *key, uint64_t *ret, struct error **err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(caps, key);
    uint64_t set = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (!cJSON_IsString(e))
            return error_set(err, EINVAL, "capabilities '%s' holds a non-string", key);
        int cap = capability_from_name(e->valuestring);
        if (cap < 0)
            return error_set(err, EINVAL, "unknown capability '%s'", e->valuestring);
        set |= UINT64_C(1) << cap;
    }
    *ret = set;
    return 0;
}

static int parse_mounts(const cJSON *a, struct oci_mount **ret, size_t *ret_n, struct error **err)
{
    if (a && !cJSON_IsArray(a))
        return error_set(err, EINVAL, "'mounts' is not an array");
    size_t n = a ? (size_t)cJSON_GetArraySize(a) : 0;
    struct oci_mount *m = calloc(n ? n : 1, sizeof(*m));
    if (!m)
        return error_set(err, ENOMEM, "mounts");
    size_t i = 0;
    const cJSON *e;
    int r = 0;
    cJSON_ArrayForEach(e, a)
    {
        struct oci_mount *cur = &m[i++];
        if ((r = dup_string(e, "destination", &cur->destination, err)) < 0 ||
            (r = dup_string(e, "type", &cur->type, err)) < 0 ||
            (r = dup_string(e, "source", &cur->source, err)) < 0)
            break;
        if (!cur->destination || cur->destination[0] != '/') {
            r = error_set(err, EINVAL, "mount destination '%s' is not absolute",
                          cur->destination ? cur->destination : "");
            break;
        }
        if (!cur->type && !(cur->type = strdup("bind"))) {
            r = error_set(err, ENOMEM, "mounts");
            break;
        }
        _cleanup_strv_ char **opts = NULL;
        if ((r = string_vector(e, "options", &opts, err)) < 0)
            break;
        size_t nopts = 0;
        while (opts[nopts])
            nopts++;
        if ((r = mount_options_parse(cur, (const char *const *)opts, nopts, err)) < 0)
            break;
    }
    if (r < 0) {
        mounts_free(m, n);
        return r;
    }
    *ret = m;
    *ret_n = n;
    return 0;
}

static int parse_namespaces(const cJSON *linux_, struct oci_config *cfg, struct error **err)
{
    static const struct {
        const char *name;
        int flag;
    } types[] = {
        {"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC},
        {"uts", CLONE_NEWUTS},   {"mount", CLONE_NEWNS},    {"cgroup", CLONE_NEWCGROUP},
        {"user", CLONE_NEWUSER}, {"time", CLONE_NEWTIME},
    };
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(linux_, "namespaces"))
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "path");
        if (!cJSON_IsString(t))
            return error_set(err, EINVAL, "namespace without a type");
        int flag = 0;
        for (size_t i = 0; i < ARRAY_SIZE(types); i++)
            if (strcmp(t->valuestring, types[i].name) == 0)
                flag = types[i].flag;
        if (!flag)
            return error_set(err, EINVAL, "unknown namespace type '%s'", t->valuestring);
        if (flag == CLONE_NEWTIME ||
            (flag == CLONE_NEWUSER && cJSON_IsString(p) && p->valuestring[0]))
            return error_set(err, EOPNOTSUPP, "namespace '%s'", t->valuestring);
        if (cJSON_IsString(p) && p->valuestring[0]) {
            if (flag != CLONE_NEWNET)
                return error_set(err, EOPNOTSUPP, "joining a '%s' namespace", t->valuestring);
            free(cfg->netns_path);
            if (!(cfg->netns_path = strdup(p->valuestring)))
                return error_set(err, ENOMEM, "namespaces");
            continue;
        }
        cfg->clone_flags |= flag;
    }
    if (!(cfg->clone_flags & CLONE_NEWNS))
        return error_set(err, EINVAL, "a mount namespace is required");
    cfg->new_netns = (cfg->clone_flags & CLONE_NEWNET) != 0;
    if (!(cfg->clone_flags & CLONE_NEWUSER))
        return 0;
    /* Root of the container must exist: the child becomes uid 0 and gid 0 of it. */
    static const char *const keys[] = {"uidMappings", "gidMappings"};
    struct id_map **maps[] = {&cfg->uid_map, &cfg->gid_map};
    for (size_t i = 0; i < 2; i++) {
        if (!(*maps[i] = calloc(1, sizeof(struct id_map))))
            return error_set(err, ENOMEM, "%s", keys[i]);
        int r = id_map_from_json(cJSON_GetObjectItemCaseSensitive(linux_, keys[i]), *maps[i],
                                 keys[i], err);
        if (r < 0)
            return r;
        if (id_map_to_host(*maps[i], 0) < 0)
            return error_set_plain(err, EINVAL, "%s: a user namespace needs id 0 mapped", keys[i]);
    }
    return 0;
}

static int parse_process(const cJSON *root, struct oci_config *cfg, struct error **err)
{
    const cJSON *process = cJSON_GetObjectItemCaseSensitive(root, "process");
    if (!cJSON_IsObject(process))
        return error_set(err, EINVAL, "no 'process'");
    int r;
    if ((r = string_vector(process, "args", &cfg->args, err)) < 0 ||
        (r = string_vector(process, "env", &cfg->env, err)) < 0 ||
        (r = dup_string(process, "cwd", &cfg->cwd, err)) < 0)
        return r;
    if (!cfg->args[0])
        return error_set(err, EINVAL, "'process.args' is empty");
    if (!cfg->cwd && !(cfg->cwd = strdup("/")))
        return error_set(err, ENOMEM, "cwd");

    const cJSON *user = cJSON_GetObjectItemCaseSensitive(process, "user");
    if ((r = id_value(user, "uid", &cfg->uid, err)) < 0 ||
        (r = id_value(user, "gid", &cfg->gid, err)) < 0)
        return r;
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(user, "additionalGids");
    int nadd = cJSON_GetArraySize(add);
    if (nadd > 0) {
        if (!(cfg->additional_gids = calloc((size_t)nadd, sizeof(gid_t))))
            return error_set(err, ENOMEM, "additionalGids");
        const cJSON *e;
        cJSON_ArrayForEach(e, add)
        {
            unsigned int gid = 0;
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > (double)UINT_MAX - 1)
                return error_set(err, EINVAL, "'additionalGids' holds a non-id");
            gid = (unsigned int)e->valuedouble;
            cfg->additional_gids[cfg->n_additional_gids++] = gid;
        }
    }

    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(process, "capabilities");
    if ((r = cap_set(caps, "bounding", &cfg->cap_bounding, err)) < 0 ||
        (r = cap_set(caps, "effective", &cfg->cap_effective, err)) < 0 ||
        (r = cap_set(caps, "permitted", &cfg->cap_permitted, err)) < 0 ||
        (r = cap_set(caps, "inheritable", &cfg->cap_inheritable, err)) < 0 ||
        (r = cap_set(caps, "ambient", &cfg->cap_ambient, err)) < 0)
        return r;
    cfg->no_new_privs = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(process, "noNewPrivileges"));
    cfg->terminal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(process, "terminal"));
    return 0;
}

/* linux.seccomp, linux.devices, linux.sysctl, process.rlimits (docs/security.md). */
static int parse_security(const cJSON *root, const cJSON *linux_, struct oci_config *cfg,
                          struct error **err)
{
    int r;
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(linux_, "seccomp");
    if (sec && !cJSON_IsNull(sec)) {
        /* The same parser as --security-opt seccomp=FILE: one code path. */
        _cleanup_free_ char *text = cJSON_PrintUnformatted(sec);
        if (!text)
            return error_set(err, ENOMEM, "linux.seccomp");
        if ((r = seccomp_profile_parse(text, &cfg->seccomp, err)) < 0)
            return error_prefix(err, "linux.seccomp");
        /* The same filter compiled at create; any mismatch and the child compiles. */
        const cJSON *bpf = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(root, "org.berth.seccomp"), "bpf");
        if (cJSON_IsString(bpf) &&
            seccomp_bpf_read(bpf->valuestring, text, &cfg->seccomp_bpf, &cfg->seccomp_bpf_len) < 0)
            cfg->seccomp_bpf = NULL;
    }

    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(linux_, "devices");
    int n = cJSON_IsArray(devs) ? cJSON_GetArraySize(devs) : 0;
    if (n > 0 && !(cfg->devices = calloc((size_t)n, sizeof(*cfg->devices))))
        return error_set(err, ENOMEM, "linux.devices");
    const cJSON *e;
    cJSON_ArrayForEach(e, (n > 0 ? devs : NULL))
    {
        struct oci_device *d = &cfg->devices[cfg->n_devices++];
        unsigned int major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        if ((r = dup_string(e, "path", &d->path, err)) < 0 ||
            (r = id_value(e, "major", &major, err)) < 0 ||
            (r = id_value(e, "minor", &minor, err)) < 0 ||
            (r = id_value(e, "fileMode", &mode, err)) < 0 ||
            (r = id_value(e, "uid", &uid, err)) < 0 || (r = id_value(e, "gid", &gid, err)) < 0)
            return error_prefix(err, "linux.devices");
        if (!d->path || d->path[0] != '/' || !cJSON_IsString(t) ||
            (strcmp(t->valuestring, "c") != 0 && strcmp(t->valuestring, "u") != 0 &&
             strcmp(t->valuestring, "b") != 0))
            return error_set_plain(err, EINVAL,
                                   "linux.devices: a device needs a path and type c or b");
        d->type = t->valuestring[0] == 'b' ? 'b' : 'c';
        d->major = major;
        d->minor = minor;
        d->mode = (mode_t)(mode & 07777);
        d->uid = uid;
        d->gid = gid;
    }

    const cJSON *sysctl = cJSON_GetObjectItemCaseSensitive(linux_, "sysctl");
    n = cJSON_IsObject(sysctl) ? cJSON_GetArraySize(sysctl) : 0;
    if (!(cfg->sysctl = calloc((size_t)n + 1, sizeof(char *))))
        return error_set(err, ENOMEM, "linux.sysctl");
    int i = 0;
    cJSON_ArrayForEach(e, (n > 0 ? sysctl : NULL))
    {
        if (!cJSON_IsString(e) || !sysctl_is_namespaced(e->string))
            return error_set_plain(err, EINVAL, "linux.sysctl: '%s' is not a namespaced sysctl",
                                   e->string ? e->string : "");
        cfg->sysctl[i++] = xasprintf("%s=%s", e->string, e->valuestring);
    }

    const cJSON *lims = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "process"), "rlimits");
    n = cJSON_IsArray(lims) ? cJSON_GetArraySize(lims) : 0;
    if (n > 0 && !(cfg->rlimits = calloc((size_t)n, sizeof(*cfg->rlimits))))
        return error_set(err, ENOMEM, "process.rlimits");
    cJSON_ArrayForEach(e, (n > 0 ? lims : NULL))
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *soft = cJSON_GetObjectItemCaseSensitive(e, "soft");
        const cJSON *hard = cJSON_GetObjectItemCaseSensitive(e, "hard");
        int res = cJSON_IsString(t) ? rlimit_from_name(t->valuestring) : -1;
        if (res < 0 || !cJSON_IsNumber(soft) || !cJSON_IsNumber(hard) || soft->valuedouble < 0 ||
            hard->valuedouble < 0)
            return error_set_plain(err, EINVAL, "process.rlimits: bad entry");
        struct oci_rlimit *l = &cfg->rlimits[cfg->n_rlimits++];
        l->resource = res;
        /* 2^64 and above (RLIM_INFINITY in JSON) saturate. */
        l->soft =
            soft->valuedouble >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)soft->valuedouble;
        l->hard =
            hard->valuedouble >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)hard->valuedouble;
    }
    return 0;
}

static int parse(const cJSON *root, const char *bundle_dir, struct oci_config *cfg,
                 struct error **err)
{
    int r = parse_process(root, cfg, err);
    if (r < 0)
        return r;

    const cJSON *jroot = cJSON_GetObjectItemCaseSensitive(root, "root");
    _cleanup_free_ char *root_path = NULL;
    if ((r = dup_string(jroot, "path", &root_path, err)) < 0)
        return r;
    if (!root_path)
        return error_set(err, EINVAL, "no 'root.path'");
    cfg->rootfs =
        root_path[0] == '/' ? TAKE_PTR(root_path) : xasprintf("%s/%s", bundle_dir, root_path);
    cfg->root_readonly = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(jroot, "readonly"));

    if ((r = dup_string(root, "hostname", &cfg->hostname, err)) < 0)
        return r;
    if ((r = parse_mounts(cJSON_GetObjectItemCaseSensitive(root, "mounts"), &cfg->mounts,
                          &cfg->n_mounts, err)) < 0)
        return r;

    const cJSON *linux_ = cJSON_GetObjectItemCaseSensitive(root, "linux");
    if ((r = parse_namespaces(linux_, cfg, err)) < 0 ||
        (r = string_vector(linux_, "maskedPaths", &cfg->masked_paths, err)) < 0 ||
        (r = string_vector(linux_, "readonlyPaths", &cfg->readonly_paths, err)) < 0 ||
        (r = parse_security(root, linux_, cfg, err)) < 0)
        return r;

    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(root, BERTH_EXT_ROOTFS);
    if ((r = parse_mounts(cJSON_GetObjectItemCaseSensitive(ext, "mounts"), &cfg->rootfs_mounts,
                          &cfg->n_rootfs_mounts, err)) < 0)
        return error_prefix(err, "'%s'", BERTH_EXT_ROOTFS);
    ext = cJSON_GetObjectItemCaseSensitive(root, BERTH_EXT_PROCESS);
    if ((r = dup_string(ext, "user", &cfg->user, err)) < 0)
        return error_prefix(err, "'%s'", BERTH_EXT_PROCESS);
    if ((r = cgroup_spec_from_oci(root, &cfg->cgroup, err)) < 0)
        return r;
    return 0;
}

int oci_config_load(const char *bundle_dir, struct oci_config **ret, struct error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/config.json", bundle_dir);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = read_file(path, &text, &len, err);
    if (r < 0)
        return r;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root)
        return error_set(err, EINVAL, "parse '%s'", path);
    _cleanup_oci_config_ struct oci_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg) {
        cJSON_Delete(root);
        return error_set(err, ENOMEM, "load '%s'", path);
    }
    cfg->rootfs_fd = -1;
    r = parse(root, bundle_dir, cfg, err);
    cJSON_Delete(root);
    if (r < 0)
        return error_prefix(err, "'%s'", path);
    *ret = TAKE_PTR(cfg);
    return 0;
}
