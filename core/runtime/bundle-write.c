/* run_spec -> BUNDLE/config.json (OCI runtime-spec 1.0.2) and BUNDLE/rootfs. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroup.h"
#include "runtime.h"
#include "runtime-internal.h"
#include "security-opts.h"
#include "util/cleanup.h"

/* podman's defaults (containers/common pkg/config), so images behave alike. */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
    "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
    "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT",
};

static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/dev/block",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
    "/sys/fs/selinux",
};

static const char *const readonly_paths[] = {
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static void json_freep(cJSON **j)
{
    cJSON_Delete(*j);
}
#define _cleanup_json_ _cleanup_(json_freep)

static cJSON *string_array(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* "a,b,c" -> ["a","b","c"]; an empty or NULL string gives []. */
static cJSON *split_options(const char *options)
{
    cJSON *a = cJSON_CreateArray();
    if (!a || !options)
        return a;
    _cleanup_free_ char *copy = strdup(options);
    if (!copy) {
        cJSON_Delete(a);
        return NULL;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(a, cJSON_CreateString(tok));
    return a;
}

static int has_option(const char *options, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = options; p && *p;) {
        const char *end = strchrnul(p, ',');
        if ((size_t)(end - p) == n && strncmp(p, opt, n) == 0)
            return 1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static cJSON *mount_object(const char *type, const char *source, const char *dest,
                           const char *options, int oci)
{
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return NULL;
    cJSON_AddStringToObject(m, "destination", dest);
    cJSON_AddStringToObject(m, "type", type);
    cJSON_AddStringToObject(m, "source", source ? source : type);
    cJSON *opts = split_options(options);
    /* Other OCI runtimes only bind when the options say so. */
    if (oci && opts && strcmp(type, "bind") == 0 && !has_option(options, "bind") &&
        !has_option(options, "rbind"))
        cJSON_AddItemToArray(opts, cJSON_CreateString("rbind"));
    cJSON_AddItemToObject(m, "options", opts);
    return m;
}

static int is_number(const char *s, size_t len)
{
    if (len == 0 || len > 10)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Numeric ids go where the spec puts them; names wait for the container's /etc. */
static void add_user(cJSON *root, cJSON *process, const char *user)
{
    unsigned long uid = 0, gid = 0;
    int by_name = 0;
    if (user && *user) {
        const char *colon = strchr(user, ':');
        size_t ulen = colon ? (size_t)(colon - user) : strlen(user);
        if (is_number(user, ulen))
            uid = strtoul(user, NULL, 10);
        else
            by_name = 1;
        if (colon && is_number(colon + 1, strlen(colon + 1)))
            gid = strtoul(colon + 1, NULL, 10);
        else
            by_name = 1; /* a group name, or the uid's primary group from /etc/passwd */
    }
    cJSON *u = cJSON_AddObjectToObject(process, "user");
    cJSON_AddNumberToObject(u, "uid", (double)uid);
    cJSON_AddNumberToObject(u, "gid", (double)gid);
    if (by_name) {
        cJSON *ext = cJSON_AddObjectToObject(root, BERTH_EXT_PROCESS);
        cJSON_AddStringToObject(ext, "user", user);
    }
}

static cJSON *build_config(const struct run_spec *spec)
{
    _cleanup_json_ cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "ociVersion", "1.0.2");

    cJSON *process = cJSON_AddObjectToObject(root, "process");
    cJSON_AddBoolToObject(process, "terminal", spec->terminal ? 1 : 0);
    add_user(root, process, spec->user);
    cJSON_AddItemToObject(process, "args",
                          string_array((const char *const *)spec->args, strv_len(spec->args)));
    cJSON_AddItemToObject(process, "env",
                          string_array((const char *const *)spec->env, strv_len(spec->env)));
    cJSON_AddStringToObject(process, "cwd", spec->cwd ? spec->cwd : "/");
    cJSON *caps = cJSON_AddObjectToObject(process, "capabilities");
    cJSON_AddItemToObject(caps, "bounding", string_array(default_caps, ARRAY_SIZE(default_caps)));
    cJSON_AddItemToObject(caps, "effective", string_array(default_caps, ARRAY_SIZE(default_caps)));
    cJSON_AddItemToObject(caps, "permitted", string_array(default_caps, ARRAY_SIZE(default_caps)));
    cJSON_AddItemToObject(caps, "inheritable", cJSON_CreateArray());
    cJSON_AddItemToObject(caps, "ambient", cJSON_CreateArray());
    cJSON_AddBoolToObject(process, "noNewPrivileges", 1);

    cJSON *r = cJSON_AddObjectToObject(root, "root");
    cJSON_AddStringToObject(r, "path", "rootfs");
    cJSON_AddBoolToObject(r, "readonly", spec->read_only_root ? 1 : 0);
    if (spec->hostname)
        cJSON_AddStringToObject(root, "hostname", spec->hostname);

    cJSON *mounts = cJSON_AddArrayToObject(root, "mounts");
    static const struct {
        const char *dest, *type, *options;
    } base[] = {
        {"/proc", "proc", "nosuid,noexec,nodev"},
        {"/dev", "tmpfs", "nosuid,noexec,strictatime,mode=755,size=65536k"},
        {"/dev/pts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"},
        {"/dev/shm", "tmpfs", "nosuid,noexec,nodev,mode=1777,size=65536k"},
        {"/dev/mqueue", "mqueue", "nosuid,noexec,nodev"},
        {"/sys", "sysfs", "nosuid,noexec,nodev,ro"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(base); i++)
        cJSON_AddItemToArray(
            mounts, mount_object(base[i].type, base[i].type, base[i].dest, base[i].options, 1));
    for (size_t i = 0; i < spec->n_extra_mounts; i++) {
        const struct mount_entry *e = &spec->extra_mounts[i];
        cJSON_AddItemToArray(mounts, mount_object(e->type, e->source, e->target, e->options, 1));
    }

    cJSON *linux_ = cJSON_AddObjectToObject(root, "linux");
    cJSON *ns = cJSON_AddArrayToObject(linux_, "namespaces");
    static const char *const ns_types[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
    for (size_t i = 0; i < ARRAY_SIZE(ns_types); i++) {
        int is_net = strcmp(ns_types[i], "network") == 0;
        if (is_net && spec->share_host_network)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", ns_types[i]);
        if (is_net && spec->netns_path)
            cJSON_AddStringToObject(o, "path", spec->netns_path);
        cJSON_AddItemToArray(ns, o);
    }
    cJSON_AddItemToObject(linux_, "maskedPaths",
                          string_array(masked_paths, ARRAY_SIZE(masked_paths)));
    cJSON_AddItemToObject(linux_, "readonlyPaths",
                          string_array(readonly_paths, ARRAY_SIZE(readonly_paths)));
    if (spec->cgroup)
        cgroup_spec_to_oci(spec->cgroup, root);

    cJSON *ext = cJSON_AddObjectToObject(root, BERTH_EXT_ROOTFS);
    cJSON *rmounts = cJSON_AddArrayToObject(ext, "mounts");
    for (size_t i = 0; i < spec->n_rootfs_mounts; i++) {
        const struct mount_entry *e = &spec->rootfs_mounts[i];
        cJSON_AddItemToArray(rmounts, mount_object(e->type, e->source, e->target, e->options, 0));
    }
    return TAKE_PTR(root);
}

/*
 * A filesystem that a storage or volume driver reported on a block device
 * (a loop-attached image) is mounted by the container's init, which by
 * then may be in the container's devices cgroup: allow that device, read
 * and write but not mknod, or the mount fails with EPERM. Only the
 * devices of the container's own mounts; no node of them is made in /dev.
 */
static void allow_mount_devices(cJSON *root, const cJSON *mounts)
{
    cJSON *rules = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "linux"),
                                         "resources"),
        "devices");
    const cJSON *m;
    if (!cJSON_IsArray(rules))
        return;
    cJSON_ArrayForEach(m, mounts)
    {
        const char *source = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "source"));
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "type"));
        struct stat st;
        if (!source || source[0] != '/' || (type && !strcmp(type, "bind")) ||
            stat(source, &st) < 0 || !S_ISBLK(st.st_mode))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "allow", 1);
        cJSON_AddStringToObject(o, "type", "b");
        cJSON_AddNumberToObject(o, "major", major(st.st_rdev));
        cJSON_AddNumberToObject(o, "minor", minor(st.st_rdev));
        cJSON_AddStringToObject(o, "access", "rw");
        cJSON_AddItemToArray(rules, o);
    }
}

int bundle_write(const char *bundle_dir, const struct run_spec *spec, struct error **err)
{
    if (!spec->args || !spec->args[0])
        return error_set(err, EINVAL, "bundle '%s': no command", bundle_dir);

    _cleanup_json_ cJSON *root = build_config(spec);
    /* Capabilities, seccomp, devices, sysctls, rlimits, --privileged. */
    if (root && security_oci_apply(root, spec->security, spec->seccomp_cache_dir, err) < 0)
        return error_prefix(err, "bundle '%s'", bundle_dir);
    if (root) {
        allow_mount_devices(root, cJSON_GetObjectItemCaseSensitive(root, "mounts"));
        allow_mount_devices(
            root, cJSON_GetObjectItemCaseSensitive(
                      cJSON_GetObjectItemCaseSensitive(root, BERTH_EXT_ROOTFS), "mounts"));
    }
    _cleanup_free_ char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    if (!text)
        return error_set(err, ENOMEM, "bundle '%s': build config.json", bundle_dir);

    _cleanup_close_ int dirfd = open(bundle_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return error_set(err, errno, "open bundle '%s'", bundle_dir);
    if (mkdirat(dirfd, "rootfs", 0755) < 0 && errno != EEXIST)
        return error_set(err, errno, "mkdir '%s/rootfs'", bundle_dir);

    /*
     * No fsync: the bundle lives in the run dir, is rewritten for every
     * create and is worthless after a crash, and fsync costs milliseconds.
     */
    _cleanup_close_ int fd =
        openat(dirfd, "config.json", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return error_set(err, errno, "create '%s/config.json'", bundle_dir);
    size_t len = strlen(text);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return error_set(err, errno, "write '%s/config.json'", bundle_dir);
        }
        off += (size_t)n;
    }
    return 0;
}
