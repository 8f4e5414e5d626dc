/*
 * The container's cgroup: where it goes (layout detection, berth's own
 * cgroup from /proc/self/cgroup, mount points from /proc/self/mountinfo),
 * making and removing it, joining, freezing, reading it. The controller
 * files themselves are written by cgroup-v1.c and cgroup-v2.c.
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define DEFAULT_PARENT_NAME "berth"

/* v1 controllers a container joins; cpuset only when a cpuset is asked. */
static const char *const v1_controllers[] = {"memory", "pids",    "cpu",     "cpuacct",
                                             "blkio",  "freezer", "devices", "cpuset"};

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void cgroup_limits_clear(struct cgroup_limits *l)
{
    free(l->cpuset_cpus);
    free(l->devices);
    memset(l, 0, sizeof(*l));
}

int cgroup_limits_empty(const struct cgroup_limits *l)
{
    return !l->memory && !l->memory_swap && !l->cpu_quota && !l->cpu_shares && !l->cpuset_cpus &&
           !l->pids_limit;
}

void cgroup_spec_free(struct cgroup_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_dirs; i++) {
        free(s->dirs[i].controller);
        free(s->dirs[i].path);
    }
    free(s->dirs);
    cgroup_limits_clear(&s->limits);
    free(s);
}

const char *cgroup_mode_name(enum cgroup_mode m)
{
    return m == CGROUP_MODE_V2 ? "v2" : m == CGROUP_MODE_V1 ? "v1" : "none";
}

/* Whether the comma-separated LIST holds WORD. */
static int list_has(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *end = strchrnul(p, ',');
        if ((size_t)(end - p) == n && !strncmp(p, word, n))
            return 1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

enum cgroup_mode cgroup_detect(void)
{
    static int cached = -1;
    if (cached >= 0)
        return (enum cgroup_mode)cached;
    struct statfs sf;
    int mounted = statfs(CGROUP_ROOT, &sf) == 0;
    if (mounted && sf.f_type == CGROUP2_SUPER_MAGIC)
        cached = CGROUP_MODE_V2;
    else if (mounted && sf.f_type == TMPFS_MAGIC)
        cached = CGROUP_MODE_V1; /* v1 controllers beneath, maybe a v2 "unified" beside */
    else
        cached = CGROUP_MODE_NONE;
    return (enum cgroup_mode)cached;
}

/* One cgroup mount: its mount point, the hierarchy path it shows, and its controllers. */
struct cg_mount {
    char mountpoint[PATH_MAX];
    char root[PATH_MAX];
    char options[256];
};

/*
 * /proc/self/mountinfo and /proc/self/cgroup, read once per process: a
 * container's cgroup looks both up for each of its controllers.
 */
static FILE *open_cached(const char *path, char **cache, size_t *len)
{
    if (!*cache) {
        struct error *local = NULL;
        if (read_file(path, cache, len, &local) < 0) {
            error_free(&local);
            return NULL;
        }
    }
    return fmemopen(*cache, *len, "r");
}

static FILE *open_mountinfo(void)
{
    static char *cache;
    static size_t len;
    return open_cached("/proc/self/mountinfo", &cache, &len);
}

static FILE *open_self_cgroup(void)
{
    static char *cache;
    static size_t len;
    return open_cached("/proc/self/cgroup", &cache, &len);
}

/* The mount of CONTROLLER (v1), or of the unified hierarchy (CONTROLLER NULL). */
static int find_mount(const char *controller, struct cg_mount *ret)
{
    _cleanup_fclose_ FILE *f = open_mountinfo();
    if (!f)
        return -ENOENT;
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char root[PATH_MAX], mp[PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mp) != 2)
            continue;
        const char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        char fstype[32], source[256], opts[256] = "";
        if (sscanf(sep + 3, "%31s %255s %255s", fstype, source, opts) < 2)
            continue;
        if (controller ? strcmp(fstype, "cgroup") || !list_has(opts, controller)
                       : strcmp(fstype, "cgroup2"))
            continue;
        if (strncmp(mp, CGROUP_ROOT, strlen(CGROUP_ROOT)))
            continue; /* a bind elsewhere (a container's view): not ours */
        snprintf(ret->mountpoint, sizeof(ret->mountpoint), "%s", mp);
        snprintf(ret->root, sizeof(ret->root), "%s", root);
        snprintf(ret->options, sizeof(ret->options), "%s", opts);
        return 0;
    }
    return -ENOENT;
}

/* berth's own cgroup in the hierarchy of CONTROLLER (NULL: the unified one). */
static int own_cgroup(const char *controller, char *buf, size_t len)
{
    _cleanup_fclose_ FILE *f = open_self_cgroup();
    if (!f)
        return -ENOENT;
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        int match = controller ? list_has(c1 + 1, controller) : (c1[1] == '\0' && line[0] == '0');
        if (match) {
            snprintf(buf, len, "%s", c2 + 1);
            return 0;
        }
    }
    return -ENOENT;
}

/* MOUNT's directory for the hierarchy path CGPATH. */
static char *dir_for(const struct cg_mount *m, const char *cgpath)
{
    size_t rl = strlen(m->root);
    const char *rel = cgpath;
    if (strcmp(m->root, "/") && !strncmp(cgpath, m->root, rl) &&
        (cgpath[rl] == '/' || cgpath[rl] == '\0'))
        rel = cgpath + rl;
    while (*rel == '/')
        rel++;
    return *rel ? xasprintf("%s/%s", m->mountpoint, rel) : strdup(m->mountpoint);
}

static int parent_valid(const char *p)
{
    for (const char *c = p; *c;) {
        while (*c == '/')
            c++;
        const char *end = strchrnul(c, '/');
        if ((end - c == 2 && !strncmp(c, "..", 2)) || (end - c == 1 && *c == '.'))
            return 0;
        c = end;
    }
    return 1;
}

/* The hierarchy path of the cgroup NAME under PARENT for CONTROLLER. */
static int leaf_path(const char *parent, const char *controller, const char *name, char *buf,
                     size_t len)
{
    if (parent) {
        int n = snprintf(buf, len, "%s%s/%s", parent[0] == '/' ? "" : "/", parent, name);
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
    }
    char own[PATH_MAX];
    int r = own_cgroup(controller, own, sizeof(own));
    if (r < 0)
        return r;
    int n = snprintf(buf, len, "%s/" DEFAULT_PARENT_NAME "/%s", strcmp(own, "/") ? own : "", name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int add_dir(struct cgroup_spec *s, const char *controller, char *path)
{
    struct cgroup_dir *grown = realloc(s->dirs, (s->n_dirs + 1) * sizeof(*grown));
    if (!grown || !path) {
        free(path);
        if (grown)
            s->dirs = grown;
        return -ENOMEM;
    }
    s->dirs = grown;
    s->dirs[s->n_dirs].controller = strdup(controller);
    s->dirs[s->n_dirs].path = path;
    s->n_dirs++;
    return 0;
}

static int copy_limits(struct cgroup_limits *dst, const struct cgroup_limits *src)
{
    *dst = *src;
    dst->cpuset_cpus = NULL;
    dst->devices = NULL;
    if (src->cpuset_cpus && !(dst->cpuset_cpus = strdup(src->cpuset_cpus)))
        return -ENOMEM;
    if (src->n_devices) {
        dst->devices = calloc(src->n_devices, sizeof(*dst->devices));
        if (!dst->devices)
            return -ENOMEM;
        memcpy(dst->devices, src->devices, src->n_devices * sizeof(*dst->devices));
    }
    return 0;
}

/* Which controller each set limit needs, for the refusal when it is missing. */
static const char *needed_by(const struct cgroup_limits *l, const char *controller)
{
    if (!strcmp(controller, "memory") && (l->memory || l->memory_swap))
        return l->memory ? "--memory" : "--memory-swap";
    if (!strcmp(controller, "cpu") && (l->cpu_quota || l->cpu_shares))
        return l->cpu_quota ? "--cpus" : "--cpu-shares";
    if (!strcmp(controller, "pids") && l->pids_limit)
        return "--pids-limit";
    if (!strcmp(controller, "cpuset") && l->cpuset_cpus)
        return "--cpuset-cpus";
    return NULL;
}

int cgroup_resolve(const char *parent, const char *name, const struct cgroup_limits *limits,
                   struct cgroup_spec **ret, struct error **err)
{
    if (parent && (!*parent || !parent_valid(parent)))
        return error_set_plain(err, EINVAL, "cgroup parent '%s': not a valid cgroup path", parent);
    _cleanup_cgroup_spec_ struct cgroup_spec *s = calloc(1, sizeof(*s));
    if (!s || copy_limits(&s->limits, limits) < 0)
        return error_set(err, ENOMEM, "cgroup");
    s->mode = cgroup_detect();
    s->remove_parent = parent == NULL;
    char path[PATH_MAX];
    struct cg_mount m;
    int r;
    if (s->mode == CGROUP_MODE_NONE) {
        if (!cgroup_limits_empty(limits))
            return error_set_plain(err, EOPNOTSUPP,
                                   "no cgroup file system at '" CGROUP_ROOT "': limits need one");
        *ret = NULL;
        return 0;
    }
    if (s->mode == CGROUP_MODE_V2) {
        if ((r = find_mount(NULL, &m)) < 0 ||
            (r = leaf_path(parent, NULL, name, path, sizeof(path))) < 0)
            return error_set(err, -r, "cgroup v2: find berth's cgroup");
        if ((r = add_dir(s, "", dir_for(&m, path))) < 0)
            return error_set(err, -r, "cgroup");
        *ret = TAKE_PTR(s);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++) {
        const char *c = v1_controllers[i];
        const char *need = needed_by(limits, c);
        if (!strcmp(c, "cpuset") && !need)
            continue;
        if (find_mount(c, &m) < 0 || leaf_path(parent, c, name, path, sizeof(path)) < 0) {
            if (need)
                return error_set_plain(err, EOPNOTSUPP,
                                       "%s: the cgroup v1 controller '%s' is not mounted", need, c);
            continue;
        }
        if ((r = add_dir(s, c, dir_for(&m, path))) < 0)
            return error_set(err, -r, "cgroup");
    }
    if (s->n_dirs == 0) {
        *ret = NULL;
        return 0;
    }
    *ret = TAKE_PTR(s);
    return 0;
}

const char *cgroup_dir_of(const struct cgroup_spec *s, const char *controller)
{
    for (size_t i = 0; s && i < s->n_dirs; i++)
        if (s->mode == CGROUP_MODE_V2 || !strcmp(s->dirs[i].controller, controller))
            return s->dirs[i].path;
    return NULL;
}

/* Whether dirs[I] repeats an earlier directory (co-mounted controllers). */
static int seen_before(const struct cgroup_spec *s, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(s->dirs[j].path, s->dirs[i].path))
            return 1;
    return 0;
}

int cgroup_write(const char *dir, const char *file, const char *value, struct error **err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return err ? error_set(err, errno, "open '%s'", path) : -errno;
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    if (n != (ssize_t)len)
        return err ? error_set(err, n < 0 ? errno : EIO, "write '%s' to '%s'", value, path)
                   : (n < 0 ? -errno : -EIO);
    return 0;
}

static int read_small(const char *dir, const char *file, char *buf, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, len - 1);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return (int)n;
}

int cgroup_read_u64(const char *dir, const char *file, uint64_t *ret)
{
    char buf[64];
    int r = read_small(dir, file, buf, sizeof(buf));
    if (r < 0)
        return r;
    if (!strncmp(buf, "max", 3)) {
        *ret = UINT64_MAX;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* mkdir PATH, making missing parents (each prepared for its controller). */
static int make_dir(const struct cgroup_spec *s, const char *controller, const char *path,
                    int depth, struct error **err)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        if (mkdir(path, 0755) == 0)
            break;
        if (errno == EEXIST)
            return 0;
        if (errno != ENOENT || depth > 64)
            return error_set(err, errno, "mkdir '%s'", path);
        /* The parent is missing (or was just removed by another berth): make it. */
        _cleanup_free_ char *parent = strdup(path);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (!slash || slash == parent)
            return error_set(err, ENOENT, "mkdir '%s'", path);
        *slash = '\0';
        int r = make_dir(s, controller, parent, depth + 1, err);
        if (r < 0)
            return r;
    }
    if (s->mode == CGROUP_MODE_V1)
        return cgroup_v1_prepare_dir(controller, path, err);
    return 0;
}

static void remove_dirs(const struct cgroup_spec *s)
{
    for (size_t i = 0; i < s->n_dirs; i++)
        rmdir(s->dirs[i].path);
}

int cgroup_create(const struct cgroup_spec *s, struct error **err)
{
    int r = 0;
    if (s->mode == CGROUP_MODE_V2) {
        const char *dir = s->dirs[0].path;
        _cleanup_free_ char *parent = strdup(dir);
        if (!parent)
            return error_set(err, ENOMEM, "cgroup");
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        struct cg_mount m;
        if (find_mount(NULL, &m) < 0)
            return error_set_plain(err, ENOENT, "cgroup v2: no unified mount");
        if ((r = make_dir(s, "", parent, 0, err)) < 0)
            return error_prefix(err, "cgroup");
        if ((r = cgroup_v2_enable_controllers(m.mountpoint, parent, &s->limits, err)) < 0)
            return r;
        if ((r = make_dir(s, "", dir, 0, err)) < 0)
            return error_prefix(err, "cgroup");
        r = cgroup_v2_apply(s, err);
    } else {
        for (size_t i = 0; i < s->n_dirs && r == 0; i++)
            if (!seen_before(s, i))
                r = make_dir(s, s->dirs[i].controller, s->dirs[i].path, 0, err);
        if (r < 0)
            error_prefix(err, "cgroup");
        else
            r = cgroup_v1_apply(s, err);
    }
    if (r < 0)
        remove_dirs(s);
    return r;
}

int cgroup_enter(const struct cgroup_spec *s, pid_t pid, struct error **err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    for (size_t i = 0; i < s->n_dirs; i++) {
        if (seen_before(s, i))
            continue;
        int r = cgroup_write(s->dirs[i].path, "cgroup.procs", buf, err);
        if (r < 0)
            return error_prefix(err, "join cgroup");
    }
    return 0;
}

int cgroup_is_frozen(const struct cgroup_spec *s)
{
    char buf[256];
    if (s->mode == CGROUP_MODE_V2) {
        int r = read_small(s->dirs[0].path, "cgroup.events", buf, sizeof(buf));
        if (r < 0)
            return r;
        return strstr(buf, "frozen 1") != NULL;
    }
    const char *dir = cgroup_dir_of(s, "freezer");
    if (!dir)
        return -EOPNOTSUPP;
    int r = read_small(dir, "freezer.state", buf, sizeof(buf));
    if (r < 0)
        return r;
    return !strncmp(buf, "FROZEN", 6);
}

int cgroup_freeze(const struct cgroup_spec *s, int frozen, struct error **err)
{
    const char *dir, *file, *value;
    if (s->mode == CGROUP_MODE_V2) {
        dir = s->dirs[0].path;
        file = "cgroup.freeze";
        value = frozen ? "1" : "0";
    } else {
        dir = cgroup_dir_of(s, "freezer");
        if (!dir)
            return error_set_plain(err, EOPNOTSUPP,
                                   "the cgroup v1 controller 'freezer' is "
                                   "not mounted");
        file = "freezer.state";
        value = frozen ? "FROZEN" : "THAWED";
    }
    int r = cgroup_write(dir, file, value, err);
    if (r < 0)
        return r;
    /* v1 passes through FREEZING; v2 reports in cgroup.events. Wait up to 2 s. */
    for (int i = 0; i < 200; i++) {
        int f = cgroup_is_frozen(s);
        if (f < 0)
            return error_set(err, -f, "read the freezer state of '%s'", dir);
        if (f == frozen)
            return 0;
        if (s->mode == CGROUP_MODE_V1 && frozen)
            cgroup_write(dir, file, value, NULL); /* v1 asks to retry a partial freeze */
        sleep_ms(10);
    }
    return error_set_plain(err, ETIMEDOUT, "cgroup '%s' did not %s in time", dir,
                           frozen ? "freeze" : "thaw");
}

int cgroup_destroy(const struct cgroup_spec *s, struct error **err)
{
    if (!s)
        return 0;
    /* Frozen processes cannot die (v1): thaw first, ignoring a missing freezer. */
    if (cgroup_is_frozen(s) == 1)
        cgroup_freeze(s, 0, NULL);
    int r = 0;
    for (size_t i = 0; i < s->n_dirs; i++) {
        if (seen_before(s, i))
            continue;
        const char *dir = s->dirs[i].path;
        /* A pid namespace's last processes may still be exiting: wait for them. */
        int done = 0;
        for (int attempt = 0; attempt < 200 && !done; attempt++) {
            if (rmdir(dir) == 0 || errno == ENOENT)
                done = 1;
            else if (errno == EBUSY)
                sleep_ms(10);
            else
                break;
        }
        if (!done && r == 0)
            r = error_set(err, errno, "remove cgroup '%s'", dir);
        if (done && s->remove_parent) {
            _cleanup_free_ char *parent = strdup(dir);
            char *slash = parent ? strrchr(parent, '/') : NULL;
            if (slash) {
                *slash = '\0';
                slash = strrchr(parent, '/');
                if (slash && !strcmp(slash + 1, DEFAULT_PARENT_NAME))
                    rmdir(parent); /* fails while other containers use it: fine */
            }
        }
    }
    return r;
}

int cgroup_list_pids(const struct cgroup_spec *s, pid_t **ret, size_t *ret_n, struct error **err)
{
    const char *dir = s->mode == CGROUP_MODE_V2 ? s->dirs[0].path : cgroup_dir_of(s, "pids");
    if (!dir && s->n_dirs)
        dir = s->dirs[0].path;
    if (!dir)
        return error_set_plain(err, ENOENT, "no cgroup");
    _cleanup_free_ char *path = xasprintf("%s/cgroup.procs", dir);
    _cleanup_free_ char *text = NULL;
    int r = read_file(path, &text, NULL, err);
    if (r < 0)
        return r;
    pid_t *v = NULL;
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(text, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
        pid_t *grown = realloc(v, (n + 1) * sizeof(*v));
        if (!grown) {
            free(v);
            return error_set(err, ENOMEM, "cgroup.procs");
        }
        v = grown;
        v[n++] = (pid_t)atoi(tok);
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int cgroup_read_stats(const struct cgroup_spec *s, struct cgroup_stats *ret, struct error **err)
{
    memset(ret, 0, sizeof(*ret));
    int r = s->mode == CGROUP_MODE_V2 ? cgroup_v2_stats(s, ret) : cgroup_v1_stats(s, ret);
    if (r < 0)
        return error_set(err, -r, "read cgroup statistics");
    return 0;
}

/* --- JSON forms ------------------------------------------------------------ */

cJSON *cgroup_limits_to_oci(const struct cgroup_limits *l)
{
    cJSON *res = cJSON_CreateObject();
    if (l->memory || l->memory_swap) {
        cJSON *m = cJSON_AddObjectToObject(res, "memory");
        if (l->memory)
            cJSON_AddNumberToObject(m, "limit", (double)l->memory);
        if (l->memory_swap)
            cJSON_AddNumberToObject(m, "swap", (double)l->memory_swap);
    }
    if (l->cpu_quota || l->cpu_shares || l->cpuset_cpus) {
        cJSON *c = cJSON_AddObjectToObject(res, "cpu");
        if (l->cpu_shares)
            cJSON_AddNumberToObject(c, "shares", (double)l->cpu_shares);
        if (l->cpu_quota) {
            cJSON_AddNumberToObject(c, "quota", (double)l->cpu_quota);
            cJSON_AddNumberToObject(c, "period", (double)(l->cpu_period ? l->cpu_period : 100000));
        }
        if (l->cpuset_cpus)
            cJSON_AddStringToObject(c, "cpus", l->cpuset_cpus);
    }
    if (l->pids_limit) {
        cJSON *p = cJSON_AddObjectToObject(res, "pids");
        cJSON_AddNumberToObject(p, "limit", (double)l->pids_limit);
    }
    if (l->n_devices) {
        cJSON *devs = cJSON_AddArrayToObject(res, "devices");
        for (size_t i = 0; i < l->n_devices; i++) {
            const struct cgroup_device_rule *d = &l->devices[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddBoolToObject(o, "allow", d->allow);
            if (d->type != 'a')
                cJSON_AddItemToObject(o, "type",
                                      cJSON_CreateStringReference(d->type == 'b' ? "b" : "c"));
            if (d->major >= 0)
                cJSON_AddNumberToObject(o, "major", (double)d->major);
            if (d->minor >= 0)
                cJSON_AddNumberToObject(o, "minor", (double)d->minor);
            cJSON_AddStringToObject(o, "access", d->access);
            cJSON_AddItemToArray(devs, o);
        }
    }
    return res;
}

static int num(const cJSON *obj, const char *key, double min, double *ret, struct error **err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j)
        return 0;
    if (!cJSON_IsNumber(j) || j->valuedouble < min || j->valuedouble > 9.2e18)
        return error_set_plain(err, EINVAL, "linux.resources: '%s' is not a valid number", key);
    *ret = j->valuedouble;
    return 1;
}

void cgroup_device_rule_format(const struct cgroup_device_rule *r, char *buf, size_t len)
{
    char major[24] = "*", minor[24] = "*";
    if (r->major >= 0)
        snprintf(major, sizeof(major), "%lld", (long long)r->major);
    if (r->minor >= 0)
        snprintf(minor, sizeof(minor), "%lld", (long long)r->minor);
    if (r->type == 'a' && r->major < 0 && r->minor < 0)
        snprintf(buf, len, "a *:* %s", r->access);
    else
        snprintf(buf, len, "%c %s:%s %s", r->type, major, minor, r->access);
}

/* linux.resources.devices: [{allow, type?, major?, minor?, access?}]. */
static int device_rules_from_oci(const cJSON *devs, struct cgroup_limits *l, struct error **err)
{
    int n = cJSON_IsArray(devs) ? cJSON_GetArraySize(devs) : 0;
    if (n == 0)
        return 0;
    if (!(l->devices = calloc((size_t)n, sizeof(*l->devices))))
        return error_set(err, ENOMEM, "linux.resources.devices");
    const cJSON *e;
    cJSON_ArrayForEach(e, devs)
    {
        struct cgroup_device_rule *d = &l->devices[l->n_devices++];
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type"));
        const char *access = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "access"));
        d->allow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "allow"));
        d->type = 'a';
        if (type && strcmp(type, "a"))
            d->type = type[0];
        if (type && (strlen(type) != 1 || !strchr("acbu", type[0])))
            return error_set_plain(err, EINVAL, "linux.resources.devices: type '%s'", type);
        if (d->type == 'u')
            d->type = 'c';
        if (!access)
            access = "rwm";
        size_t k = 0;
        for (const char *a = access; *a; a++) {
            if (!strchr("rwm", *a) || k >= 3 || memchr(d->access, *a, k))
                return error_set_plain(err, EINVAL, "linux.resources.devices: access '%s'", access);
            d->access[k++] = *a;
        }
        if (k == 0)
            return error_set_plain(err, EINVAL, "linux.resources.devices: empty access");
        const char *keys[] = {"major", "minor"};
        int64_t *vals[] = {&d->major, &d->minor};
        for (size_t i = 0; i < 2; i++) {
            const cJSON *j = cJSON_GetObjectItemCaseSensitive(e, keys[i]);
            *vals[i] = -1;
            if (!j || cJSON_IsNull(j) || (cJSON_IsNumber(j) && j->valuedouble == -1))
                continue;
            if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 4294967295.0 ||
                j->valuedouble != (double)(int64_t)j->valuedouble)
                return error_set_plain(err, EINVAL, "linux.resources.devices: bad '%s'", keys[i]);
            *vals[i] = (int64_t)j->valuedouble;
        }
    }
    return 0;
}

int cgroup_limits_from_oci(const cJSON *res, struct cgroup_limits *ret, struct error **err)
{
    struct cgroup_limits l = {0};
    double v = 0;
    int r;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(res, "memory");
    if ((r = num(m, "limit", 1, &v, err)) < 0)
        return r;
    if (r)
        l.memory = (int64_t)v;
    if ((r = num(m, "swap", -1, &v, err)) < 0)
        return r;
    if (r)
        l.memory_swap = (int64_t)v;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(res, "cpu");
    if ((r = num(c, "shares", 2, &v, err)) < 0)
        return r;
    if (r)
        l.cpu_shares = (uint64_t)v;
    if ((r = num(c, "quota", 1, &v, err)) < 0)
        return r;
    if (r)
        l.cpu_quota = (int64_t)v;
    if ((r = num(c, "period", 1000, &v, err)) < 0)
        return r;
    if (r)
        l.cpu_period = (uint64_t)v;
    const char *cpus = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "cpus"));
    if (cpus && *cpus && !(l.cpuset_cpus = strdup(cpus)))
        return error_set(err, ENOMEM, "linux.resources");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(res, "pids");
    if ((r = num(p, "limit", -1, &v, err)) < 0) {
        cgroup_limits_clear(&l);
        return r;
    }
    if (r)
        l.pids_limit = (int64_t)v;
    if ((r = device_rules_from_oci(cJSON_GetObjectItemCaseSensitive(res, "devices"), &l, err)) <
        0) {
        cgroup_limits_clear(&l);
        return r;
    }
    *ret = l;
    return 0;
}

cJSON *cgroup_path_to_json(const struct cgroup_spec *s)
{
    if (s->mode == CGROUP_MODE_V2)
        return cJSON_CreateString(s->dirs[0].path);
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < s->n_dirs; i++)
        cJSON_AddStringToObject(o, s->dirs[i].controller, s->dirs[i].path);
    return o;
}

int cgroup_spec_from_path(const char *mode, const cJSON *path, int remove_parent,
                          struct cgroup_spec **ret, struct error **err)
{
    _cleanup_cgroup_spec_ struct cgroup_spec *s = calloc(1, sizeof(*s));
    if (!s)
        return error_set(err, ENOMEM, "cgroup");
    s->remove_parent = remove_parent;
    int r = 0;
    if (mode && !strcmp(mode, "v2") && cJSON_IsString(path)) {
        s->mode = CGROUP_MODE_V2;
        r = add_dir(s, "", strdup(path->valuestring));
    } else if (mode && !strcmp(mode, "v1") && cJSON_IsObject(path)) {
        s->mode = CGROUP_MODE_V1;
        const cJSON *e;
        cJSON_ArrayForEach(e, path)
        {
            if (!cJSON_IsString(e) || r < 0)
                continue;
            r = add_dir(s, e->string, strdup(e->valuestring));
        }
    } else {
        return error_set_plain(err, EINVAL, "invalid cgroup path (mode '%s')", mode ? mode : "");
    }
    if (r < 0)
        return error_set(err, -r, "cgroup");
    for (size_t i = 0; i < s->n_dirs; i++)
        if (strncmp(s->dirs[i].path, CGROUP_ROOT "/", strlen(CGROUP_ROOT) + 1) ||
            strstr(s->dirs[i].path, "/../"))
            return error_set_plain(err, EINVAL, "cgroup path '%s' is not under " CGROUP_ROOT,
                                   s->dirs[i].path);
    *ret = TAKE_PTR(s);
    return 0;
}

int cgroup_spec_to_oci(const struct cgroup_spec *s, cJSON *root)
{
    cJSON *linux_ = cJSON_GetObjectItemCaseSensitive(root, "linux");
    if (!linux_)
        linux_ = cJSON_AddObjectToObject(root, "linux");
    cJSON_AddItemToObject(linux_, "resources", cgroup_limits_to_oci(&s->limits));
    cJSON *ext = cJSON_AddObjectToObject(root, "org.berth.cgroup");
    cJSON_AddStringToObject(ext, "mode", cgroup_mode_name(s->mode));
    cJSON_AddItemToObject(ext, "path", cgroup_path_to_json(s));
    cJSON_AddBoolToObject(ext, "remove_parent", s->remove_parent);
    return 0;
}

int cgroup_spec_from_oci(const cJSON *root, struct cgroup_spec **ret, struct error **err)
{
    *ret = NULL;
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(root, "org.berth.cgroup");
    if (!ext)
        return 0;
    _cleanup_cgroup_spec_ struct cgroup_spec *s = NULL;
    int r = cgroup_spec_from_path(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ext, "mode")),
        cJSON_GetObjectItemCaseSensitive(ext, "path"),
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ext, "remove_parent")), &s, err);
    if (r < 0)
        return error_prefix(err, "'org.berth.cgroup'");
    const cJSON *linux_ = cJSON_GetObjectItemCaseSensitive(root, "linux");
    r = cgroup_limits_from_oci(cJSON_GetObjectItemCaseSensitive(linux_, "resources"), &s->limits,
                               err);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(s);
    return 0;
}
