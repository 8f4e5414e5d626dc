/* Command-line security options -> the validated "security" object (security-opts.h). */
#include "runtime/security-opts.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/runtime-internal.h"
#include "runtime/seccomp.h"
#include "runtime/userns-opts.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"

/* CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP
 */
const uint64_t security_default_caps = UINT64_C(0x800405fb);

/* What berth itself may give: its permitted set (a VM's root may lack CAP_SYS_RESOURCE). */
static uint64_t held_caps(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return ~UINT64_C(0);
    return (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
}

/* "ALL": every capability berth knows (capabilities.c's table) and holds. */
static uint64_t all_caps(void)
{
    uint64_t set = 0;
    for (int cap = 0; capability_name(cap); cap++)
        set |= UINT64_C(1) << cap;
    return set & held_caps();
}

int security_caps_apply(uint64_t *set, char *const *names, int add, struct error **err)
{
    for (char *const *n = names; n && *n; n++) {
        if (strcasecmp(*n, "ALL") == 0 || strcasecmp(*n, "CAP_ALL") == 0) {
            *set = add ? all_caps() : 0;
            continue;
        }
        int cap = capability_from_name(*n);
        if (cap < 0)
            return error_set_plain(err, EINVAL, "unknown capability '%s'", *n);
        if (add)
            *set |= UINT64_C(1) << cap;
        else
            *set &= ~(UINT64_C(1) << cap);
    }
    return 0;
}

int security_sysctl_parse(const char *kv, int host_network, char **ret_key, char **ret_value,
                          struct error **err)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return error_set_plain(err, EINVAL, "sysctl '%s': not KEY=VALUE", kv);
    _cleanup_free_ char *key = strndup(kv, (size_t)(eq - kv));
    if (!key)
        return error_set(err, ENOMEM, "sysctl");
    if (!sysctl_is_namespaced(key))
        return error_set_plain(err, EINVAL,
                               "sysctl '%s': not a namespaced sysctl (allowed: net.*, "
                               "fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*, "
                               "kernel.domainname)",
                               key);
    if (host_network && strncmp(key, "net.", 4) == 0)
        return error_set_plain(err, EINVAL, "sysctl '%s': not with --network host", key);
    if (strchr(eq + 1, '\n'))
        return error_set_plain(err, EINVAL, "sysctl '%s': value holds a newline", key);
    char *value = strdup(eq + 1);
    if (!value)
        return error_set(err, ENOMEM, "sysctl");
    *ret_key = TAKE_PTR(key);
    *ret_value = value;
    return 0;
}

static int parse_limit(const char *s, size_t len, uint64_t *ret)
{
    if ((len == 9 && strncmp(s, "unlimited", 9) == 0) || (len == 2 && strncmp(s, "-1", 2) == 0)) {
        *ret = RLIM_INFINITY;
        return 0;
    }
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *ret = v;
    return 0;
}

int security_ulimit_parse(const char *s, int *ret_resource, uint64_t *ret_soft, uint64_t *ret_hard,
                          struct error **err)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return error_set_plain(err, EINVAL, "ulimit '%s': not NAME=SOFT[:HARD]", s);
    _cleanup_free_ char *name = strndup(s, (size_t)(eq - s));
    if (!name)
        return error_set(err, ENOMEM, "ulimit");
    int res = rlimit_from_name(name);
    if (res < 0)
        return error_set_plain(err, EINVAL, "ulimit '%s': unknown limit '%s'", s, name);
    const char *v = eq + 1;
    const char *colon = strchr(v, ':');
    uint64_t soft = 0, hard = 0;
    if (parse_limit(v, colon ? (size_t)(colon - v) : strlen(v), &soft) < 0 ||
        (colon && parse_limit(colon + 1, strlen(colon + 1), &hard) < 0))
        return error_set_plain(err, EINVAL, "ulimit '%s': not a number or 'unlimited'", s);
    if (!colon)
        hard = soft;
    if (soft > hard)
        return error_set_plain(err, EINVAL, "ulimit '%s': soft limit above the hard limit", s);
    struct rlimit cur;
    if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY && hard > cur.rlim_max)
        return error_set_plain(err, EPERM,
                               "ulimit '%s': hard limit above the current %llu (raising it "
                               "needs CAP_SYS_RESOURCE, which containers do not get)",
                               s, (unsigned long long)cur.rlim_max);
    *ret_resource = res;
    *ret_soft = soft;
    *ret_hard = hard;
    return 0;
}

int security_device_parse(const char *s, cJSON **ret, struct error **err)
{
    _cleanup_free_ char *copy = strdup(s);
    if (!copy)
        return error_set(err, ENOMEM, "device");
    char *host = copy, *path = NULL, *perms = NULL;
    char *c1 = strchr(copy, ':');
    if (c1) {
        *c1 = '\0';
        char *c2 = strchr(c1 + 1, ':');
        if (c2) {
            *c2 = '\0';
            path = c1 + 1;
            perms = c2 + 1;
        } else if (c1[1] == '/') {
            path = c1 + 1;
        } else {
            perms = c1 + 1;
        }
    }
    if (!path || !*path)
        path = host;
    if (!perms || !*perms)
        perms = (char *)"rwm";
    if (host[0] != '/')
        return error_set_plain(err, EINVAL, "device '%s': host path must be absolute", s);
    if (path[0] != '/' || strstr(path, "/../") || strcmp(path, "/") == 0 ||
        (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
        return error_set_plain(err, EINVAL, "device '%s': container path must be absolute", s);
    if (strspn(perms, "rwm") != strlen(perms) || strlen(perms) > 3)
        return error_set_plain(err, EINVAL, "device '%s': permissions are a subset of 'rwm'", s);
    struct stat st;
    if (stat(host, &st) < 0)
        return error_set(err, errno, "device '%s'", host);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        return error_set_plain(err, EINVAL, "device '%s': not a character or block device", host);
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return error_set(err, ENOMEM, "device");
    cJSON_AddStringToObject(d, "path", path);
    cJSON_AddStringToObject(d, "type", S_ISBLK(st.st_mode) ? "b" : "c");
    cJSON_AddNumberToObject(d, "major", major(st.st_rdev));
    cJSON_AddNumberToObject(d, "minor", minor(st.st_rdev));
    cJSON_AddNumberToObject(d, "fileMode", st.st_mode & 07777);
    cJSON_AddNumberToObject(d, "uid", st.st_uid);
    cJSON_AddNumberToObject(d, "gid", st.st_gid);
    cJSON_AddStringToObject(d, "access", perms);
    /* With a user namespace the node is this one, bound (security_oci_apply). */
    cJSON_AddStringToObject(d, "hostPath", host);
    *ret = d;
    return 0;
}

/* seccomp=…, no-new-privileges[=true]; the LSM ones are accepted as no-ops (berth uses none). */
static int security_opt(const char *opt, cJSON *sec, struct error **err)
{
    const char *sep = strpbrk(opt, "=:");
    size_t klen = sep ? (size_t)(sep - opt) : strlen(opt);
    const char *value = sep ? sep + 1 : NULL;
    if (klen == 17 && strncmp(opt, "no-new-privileges", 17) == 0) {
        if (!value || strcmp(value, "true") == 0)
            return 0; /* always on */
        return error_set_plain(err, EINVAL, "security option '%s': berth always sets no_new_privs",
                               opt);
    }
    if ((klen == 8 && strncmp(opt, "apparmor", 8) == 0 && value &&
         strcmp(value, "unconfined") == 0) ||
        (klen == 5 && strncmp(opt, "label", 5) == 0 && value && strcmp(value, "disable") == 0))
        return 0;
    if (klen == 7 && strncmp(opt, "seccomp", 7) == 0 && value && *value) {
        cJSON_DeleteItemFromObjectCaseSensitive(sec, "seccomp");
        if (strcmp(value, "unconfined") == 0) {
            cJSON_AddStringToObject(sec, "seccomp", "unconfined");
            return 0;
        }
        _cleanup_free_ char *text = NULL;
        int r = read_file(value, &text, NULL, err);
        if (r < 0)
            return error_prefix(err, "seccomp profile");
        _cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;
        if ((r = seccomp_profile_parse(text, &p, err)) < 0 ||
            (r = seccomp_profile_check(p, err)) < 0)
            return error_prefix(err, "'%s'", value);
        cJSON *j = cJSON_Parse(text);
        if (!j)
            return error_set(err, ENOMEM, "seccomp profile");
        cJSON_AddItemToObject(sec, "seccomp", j);
        return 0;
    }
    return error_set_plain(err, EINVAL,
                           "unknown security option '%s' (seccomp=PROFILE.json|unconfined, "
                           "no-new-privileges)",
                           opt);
}

int security_options_build(const struct security_request *req, cJSON **ret, struct error **err)
{
    static const struct security_request none = {0};
    if (!req)
        req = &none;
    _cleanup_json_ cJSON *sec = cJSON_CreateObject();
    if (!sec)
        return error_set(err, ENOMEM, "security options");
    int r;
    cJSON_AddBoolToObject(sec, "privileged", req->privileged ? 1 : 0);

    /* docker's order: drops, then adds; "ALL" in either starts from all or none. */
    uint64_t caps = req->privileged ? all_caps() : security_default_caps;
    if ((r = security_caps_apply(&caps, req->cap_drop, 0, err)) < 0 ||
        (r = security_caps_apply(&caps, req->cap_add, 1, err)) < 0)
        return r;
    uint64_t missing = caps & ~held_caps();
    for (int cap = 0; cap < 64; cap++)
        if (missing & (UINT64_C(1) << cap))
            return error_set_plain(err, EPERM, "capability '%s': berth does not hold it",
                                   capability_name(cap) ? capability_name(cap) : "?");
    cJSON *capv = cJSON_AddArrayToObject(sec, "capabilities");
    for (int cap = 0; cap < 64; cap++)
        if ((caps & (UINT64_C(1) << cap)) && capability_name(cap))
            cJSON_AddItemToArray(capv, cJSON_CreateString(capability_name(cap)));

    cJSON_AddStringToObject(sec, "seccomp", "default");
    for (char **o = req->security_opt; o && *o; o++)
        if ((r = security_opt(*o, sec, err)) < 0)
            return r;
    if (req->privileged) {
        cJSON_DeleteItemFromObjectCaseSensitive(sec, "seccomp");
        cJSON_AddStringToObject(sec, "seccomp", "unconfined");
    }

    cJSON *devs = cJSON_AddArrayToObject(sec, "devices");
    for (char **d = req->devices; d && *d; d++) {
        cJSON *dev = NULL;
        if ((r = security_device_parse(*d, &dev, err)) < 0)
            return r;
        cJSON_AddItemToArray(devs, dev);
    }
    cJSON *sysctl = cJSON_AddObjectToObject(sec, "sysctl");
    for (char **s = req->sysctls; s && *s; s++) {
        _cleanup_free_ char *key = NULL, *value = NULL;
        if ((r = security_sysctl_parse(*s, req->share_host_network, &key, &value, err)) < 0)
            return r;
        cJSON_DeleteItemFromObjectCaseSensitive(sysctl, key);
        cJSON_AddStringToObject(sysctl, key, value);
    }
    cJSON *lims = cJSON_AddArrayToObject(sec, "rlimits");
    for (char **u = req->ulimits; u && *u; u++) {
        int res = 0;
        uint64_t soft = 0, hard = 0;
        if ((r = security_ulimit_parse(*u, &res, &soft, &hard, err)) < 0)
            return r;
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "type", rlimit_name(res));
        cJSON_AddNumberToObject(l, "soft", (double)soft);
        cJSON_AddNumberToObject(l, "hard", (double)hard);
        cJSON_AddItemToArray(lims, l);
    }
    if ((r = userns_options_build(req->userns, req->uidmaps, req->gidmaps,
                                  req->subid_user ? req->subid_user : USERNS_DEFAULT_USER, sec,
                                  err)) < 0)
        return r;
    /* --privileged means host root. */
    if (cJSON_GetObjectItemCaseSensitive(sec, "userns") && req->privileged)
        return error_set_plain(err, EINVAL, "--privileged: not with a user namespace");
    *ret = TAKE_PTR(sec);
    return 0;
}

static void replace_item(cJSON *obj, const char *key, cJSON *item)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, item);
}

static cJSON *object_child(cJSON *obj, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(c) ? c : cJSON_AddObjectToObject(obj, key);
}

/* Every character and block device of the host's /dev, for --privileged (as docker does). */
static void host_devices(const char *dir, int depth, cJSON *devs)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
        if (depth == 0 && (strcmp(de->d_name, "pts") == 0 || strcmp(de->d_name, "shm") == 0 ||
                           strcmp(de->d_name, "mqueue") == 0 ||
                           strcmp(de->d_name, "console") == 0 || strcmp(de->d_name, "ptmx") == 0))
            continue;
        struct stat st;
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 3) {
            host_devices(path, depth + 1, devs);
            continue;
        }
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "path", path);
        cJSON_AddStringToObject(e, "type", S_ISBLK(st.st_mode) ? "b" : "c");
        cJSON_AddNumberToObject(e, "major", major(st.st_rdev));
        cJSON_AddNumberToObject(e, "minor", minor(st.st_rdev));
        cJSON_AddNumberToObject(e, "fileMode", st.st_mode & 07777);
        cJSON_AddNumberToObject(e, "uid", st.st_uid);
        cJSON_AddNumberToObject(e, "gid", st.st_gid);
        cJSON_AddItemToArray(devs, e);
    }
}

static int seccomp_for(const cJSON *choice, uint64_t caps, cJSON **ret, struct error **err)
{
    *ret = NULL;
    if (cJSON_IsString(choice) && strcmp(choice->valuestring, "unconfined") == 0)
        return 0;
    _cleanup_free_ char *text = NULL;
    const char *json = seccomp_default_profile_json;
    if (cJSON_IsObject(choice)) {
        if (!(text = cJSON_PrintUnformatted(choice)))
            return error_set(err, ENOMEM, "seccomp");
        json = text;
    }
    _cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;
    int r = seccomp_profile_parse(json, &p, err);
    if (r < 0)
        return r;
    return seccomp_profile_to_oci(p, caps, ret, err);
}

/*
 * Deny everything, then allow the minimal /dev (devices.c) and the pty
 * devices, as docker's default list minus its "c *:* m"/"b *:* m": no node
 * of a device the container was not given can be made, even with CAP_MKNOD.
 */
static int given(const cJSON *devices, const char *type, int major, int minor)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, devices)
    {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "type"));
        const cJSON *ma = cJSON_GetObjectItemCaseSensitive(d, "major");
        const cJSON *mi = cJSON_GetObjectItemCaseSensitive(d, "minor");
        if (t && !strcmp(t, type) && cJSON_IsNumber(ma) && ma->valueint == major &&
            cJSON_IsNumber(mi) && mi->valueint == minor)
            return 1;
    }
    return 0;
}

/* A --device with the numbers of a default one (/dev/null:/dev/foo:r) replaces its rule. */
static void default_device_rules(cJSON *rules, const cJSON *devices)
{
    static const struct {
        const char *type;
        int major, minor; /* -1: any */
    } allowed[] = {
        {"c", 1, 3}, {"c", 1, 5}, {"c", 1, 7}, {"c", 1, 8},    {"c", 1, 9},
        {"c", 5, 0}, {"c", 5, 1}, {"c", 5, 2}, {"c", 136, -1}, {"c", 10, 200},
    };
    cJSON *deny = cJSON_CreateObject();
    cJSON_AddBoolToObject(deny, "allow", 0);
    cJSON_AddStringToObject(deny, "access", "rwm");
    cJSON_AddItemToArray(rules, deny);
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
        if (allowed[i].minor >= 0 &&
            given(devices, allowed[i].type, allowed[i].major, allowed[i].minor))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "allow", 1);
        cJSON_AddStringToObject(o, "type", allowed[i].type);
        cJSON_AddNumberToObject(o, "major", allowed[i].major);
        if (allowed[i].minor >= 0)
            cJSON_AddNumberToObject(o, "minor", allowed[i].minor);
        cJSON_AddStringToObject(o, "access", "rwm");
        cJSON_AddItemToArray(rules, o);
    }
}

/*
 * The kernel makes no device node in a user namespace: the host's node is
 * bound onto the container path instead, as podman does rootless, and the
 * devices cgroup rule still decides what may be done with it. Read-only
 * without "w" (a read-only mount does not stop writes to a device: the
 * cgroup does). The node keeps its host owner and mode.
 */
static void device_bind(cJSON *config, const cJSON *dev)
{
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dev, "path"));
    const char *host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dev, "hostPath"));
    const char *access = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dev, "access"));
    if (!path)
        return;
    cJSON *mounts = cJSON_GetObjectItemCaseSensitive(config, "mounts");
    if (!cJSON_IsArray(mounts))
        mounts = cJSON_AddArrayToObject(config, "mounts");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "destination", path);
    cJSON_AddStringToObject(m, "type", "bind");
    cJSON_AddStringToObject(m, "source", host ? host : path);
    const char *opts[] = {"bind", "nosuid", "noexec",
                          strchr(access ? access : "rwm", 'w') ? "rw" : "ro"};
    cJSON_AddItemToObject(m, "options", cJSON_CreateStringArray(opts, (int)ARRAY_SIZE(opts)));
    cJSON_AddItemToArray(mounts, m);
}

int security_oci_apply(cJSON *config, const cJSON *sec, const char *cache_dir, struct error **err)
{
    cJSON *process = object_child(config, "process");
    cJSON *linux_ = object_child(config, "linux");
    int privileged = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sec, "privileged"));

    uint64_t caps = security_default_caps;
    const cJSON *capv = cJSON_GetObjectItemCaseSensitive(sec, "capabilities");
    if (cJSON_IsArray(capv)) {
        caps = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, capv)
        {
            int cap = cJSON_IsString(c) ? capability_from_name(c->valuestring) : -1;
            if (cap < 0)
                return error_set_plain(err, EINVAL, "unknown capability in the record");
            caps |= UINT64_C(1) << cap;
        }
        cJSON *caps_obj = object_child(process, "capabilities");
        static const char *const sets[] = {"bounding", "effective", "permitted"};
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
            replace_item(caps_obj, sets[i], cJSON_Duplicate(capv, 1));
    }

    cJSON *filter = NULL;
    int r = seccomp_for(cJSON_GetObjectItemCaseSensitive(sec, "seccomp"), caps, &filter, err);
    if (r < 0)
        return r;
    if (filter) {
        replace_item(linux_, "seccomp", filter);
        _cleanup_free_ char *bpf = NULL;
        struct error *cache_err = NULL;
        /* Without the cache (a read-only run dir…) the runtime compiles: slower, same filter. */
        if (cache_dir && seccomp_bpf_cache(cache_dir, filter, &bpf, &cache_err) == 0)
            replace_item(object_child(config, "org.berth.seccomp"), "bpf", cJSON_CreateString(bpf));
        error_free(&cache_err);
    }

    cJSON *devs = cJSON_CreateArray();
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(sec, "devices"))
        cJSON_AddItemToArray(devs, cJSON_Duplicate(d, 1));
    cJSON *rules = cJSON_GetObjectItemCaseSensitive(object_child(linux_, "resources"), "devices");
    if (!cJSON_IsArray(rules))
        rules = cJSON_AddArrayToObject(object_child(linux_, "resources"), "devices");
    if (!privileged)
        default_device_rules(rules, cJSON_GetObjectItemCaseSensitive(sec, "devices"));
    if (privileged) {
        host_devices("/dev", 0, devs);
        cJSON *all = cJSON_CreateObject();
        cJSON_AddBoolToObject(all, "allow", 1);
        cJSON_AddStringToObject(all, "access", "rwm");
        cJSON_AddItemToArray(rules, all);
        cJSON_DeleteItemFromObjectCaseSensitive(linux_, "maskedPaths");
        cJSON_DeleteItemFromObjectCaseSensitive(linux_, "readonlyPaths");
        /* /sys read-write, as docker's --privileged. */
        cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(config, "mounts"))
        {
            const cJSON *dest = cJSON_GetObjectItemCaseSensitive(m, "destination");
            cJSON *opts = cJSON_GetObjectItemCaseSensitive(m, "options");
            if (!cJSON_IsString(dest) || strcmp(dest->valuestring, "/sys") != 0)
                continue;
            for (int i = cJSON_GetArraySize(opts) - 1; i >= 0; i--) {
                const cJSON *o = cJSON_GetArrayItem(opts, i);
                if (cJSON_IsString(o) && strcmp(o->valuestring, "ro") == 0)
                    cJSON_DeleteItemFromArray(opts, i);
            }
        }
    }
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(sec, "devices"))
    {
        /* The devices cgroup's allow rule, for the cgroup code to apply. */
        cJSON *rule = cJSON_CreateObject();
        cJSON_AddBoolToObject(rule, "allow", 1);
        cJSON_AddItemToObject(rule, "type",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(d, "type"), 1));
        cJSON_AddItemToObject(rule, "major",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(d, "major"), 1));
        cJSON_AddItemToObject(rule, "minor",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(d, "minor"), 1));
        /* "m" too: the runtime makes the node after joining the cgroup. */
        const char *access = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "access"));
        char perms[4] = "";
        size_t k = 0;
        for (const char *a = access ? access : "rwm"; *a && k < 2; a++)
            if (*a != 'm')
                perms[k++] = *a;
        perms[k] = 'm';
        cJSON_AddStringToObject(rule, "access", perms);
        cJSON_AddItemToArray(rules, rule);
    }
    const cJSON *userns = cJSON_GetObjectItemCaseSensitive(sec, "userns");
    cJSON *dev;
    if (userns) {
        cJSON_ArrayForEach(dev, devs) device_bind(config, dev);
        cJSON_Delete(devs);
        devs = cJSON_CreateArray();
    }
    /* runc refuses "access" in linux.devices: keep it in the cgroup rule only. */
    cJSON_ArrayForEach(dev, devs)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(dev, "access");
        cJSON_DeleteItemFromObjectCaseSensitive(dev, "hostPath");
    }
    if (cJSON_GetArraySize(devs) > 0)
        replace_item(linux_, "devices", devs);
    else
        cJSON_Delete(devs);
    if (cJSON_GetArraySize(rules) == 0) {
        cJSON *res = cJSON_GetObjectItemCaseSensitive(linux_, "resources");
        cJSON_DeleteItemFromObjectCaseSensitive(res, "devices");
        if (cJSON_GetArraySize(res) == 0)
            cJSON_DeleteItemFromObjectCaseSensitive(linux_, "resources");
    }

    if ((r = userns_oci_apply(config, userns, err)) < 0)
        return r;
    const cJSON *sysctl = cJSON_GetObjectItemCaseSensitive(sec, "sysctl");
    if (cJSON_GetArraySize(sysctl) > 0)
        replace_item(linux_, "sysctl", cJSON_Duplicate(sysctl, 1));
    const cJSON *lims = cJSON_GetObjectItemCaseSensitive(sec, "rlimits");
    if (cJSON_GetArraySize(lims) > 0)
        replace_item(process, "rlimits", cJSON_Duplicate(lims, 1));
    return 0;
}
