/* SPDX-License-Identifier: MIT */
/*
 * The "local" volume driver (docker's name for its default one): a volume is
 * a directory in the driver's state dir, handed to the runtime as a bind
 * mount; a size limit is a project quota where the filesystem enforces them
 * (local-quota.c). Which containers use a volume is kept as one file per
 * container, so that remove can refuse a volume in use and gc can drop the
 * entries of containers that no longer exist. docs/drivers/volume.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "local.h"

#define DRIVER_NAME "local"
#define PROJID_FIRST 2000000u /* clear of ids people hand out by hand */

/* Per-volume metadata, kept in volumes/NAME/meta. */
struct meta {
    long long created; /* ms since the epoch */
    uint64_t size;     /* bytes, 0 = no limit */
    uint32_t projid;   /* 0 = none */
};

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Reads DIR_FD/NAME (at most 64 KiB) into a NUL-terminated buffer. */
static int read_text(int dir_fd, const char *name, char **ret)
{
    _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 65536, len = 0;
    _cleanup_free_ char *buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap)
            return -EFBIG;
    }
    buf[len] = '\0';
    *ret = buf;
    buf = NULL;
    return 0;
}

/* Writes a new file DIR_FD/NAME and fsyncs it (it is renamed into place
 * with its directory later). */
static int write_new(int dir_fd, const char *name, const char *text, mode_t mode)
{
    _cleanup_close_ int fd =
        openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        off += (size_t)n;
    }
    return fsync(fd) < 0 ? -errno : 0;
}

static int meta_read(int vol_fd, struct meta *m)
{
    _cleanup_free_ char *text = NULL;
    memset(m, 0, sizeof(*m));
    int r = read_text(vol_fd, "meta", &text);
    if (r < 0)
        return r;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!strncmp(line, "created=", 8))
            m->created = strtoll(line + 8, NULL, 10);
        else if (!strncmp(line, "size=", 5))
            m->size = strtoull(line + 5, NULL, 10);
        else if (!strncmp(line, "projid=", 7))
            m->projid = (uint32_t)strtoul(line + 7, NULL, 10);
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int with_lock(struct local *lv, const char *what, const char *name, int *ret_token)
{
    char lock_name[300];
    if ((size_t)snprintf(lock_name, sizeof(lock_name), "%s-%s", what, name) >= sizeof(lock_name))
        return -ENAMETOOLONG;
    return lv->services->lock(lv->services->host, lock_name, ret_token);
}

static void unlock(struct local *lv, int token)
{
    lv->services->unlock(lv->services->host, token);
}

/* Hands out the next project id (a counter in the state dir, under a lock). */
static int next_projid(struct local *lv, uint32_t *ret)
{
    int token;
    int r = lv->services->lock(lv->services->host, "projid", &token);
    if (r < 0)
        return r;
    _cleanup_free_ char *text = NULL;
    uint32_t id = PROJID_FIRST;
    if (read_text(lv->state_fd, "next-projid", &text) == 0) {
        unsigned long v = strtoul(text, NULL, 10);
        if (v >= PROJID_FIRST && v < UINT32_MAX)
            id = (uint32_t)v;
    }
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu32 "\n", id + 1);
    unlinkat(lv->state_fd, "next-projid.tmp", 0);
    r = write_new(lv->state_fd, "next-projid.tmp", buf, 0600);
    if (r == 0 && renameat(lv->state_fd, "next-projid.tmp", lv->state_fd, "next-projid") < 0)
        r = -errno;
    unlock(lv, token);
    if (r == 0)
        *ret = id;
    return r;
}

static int local_init(const struct berth_services *services, void **ret_state)
{
    if (!services ||
        services->size < offsetof(struct berth_services, unlock) + sizeof(services->unlock))
        return -ENOTSUP;
    struct local *lv = calloc(1, sizeof(*lv));
    if (!lv)
        return -ENOMEM;
    lv->services = services;
    lv->volumes_fd = -1;
    lv->state_fd = open(services->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = lv->state_fd < 0 ? -errno : 0;
    if (r == 0 && mkdirat(lv->state_fd, "volumes", 0711) < 0 && errno != EEXIST)
        r = -errno;
    if (r == 0) {
        lv->volumes_fd = openat(lv->state_fd, "volumes", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lv->volumes_fd < 0)
            r = -errno;
    }
    if (r < 0) {
        services->log(services->host, BERTH_LOG_ERROR, DRIVER_NAME ": set up state dir '%s': %s",
                      services->state_dir, strerror(-r));
        if (lv->state_fd >= 0)
            close(lv->state_fd);
        free(lv);
        return r;
    }
    *ret_state = lv;
    return 0;
}

static void local_fini(void *state)
{
    struct local *lv = state;
    if (!lv)
        return;
    close(lv->volumes_fd);
    close(lv->state_fd);
    free(lv);
}

static int check_name(struct local *lv, const char *name, struct berth_error *err)
{
    if (volume_name_valid(name))
        return 0;
    lv->services->set_error(err, 0, "invalid volume name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                            name ? name : "");
    return -EINVAL;
}

/* Fills the new volume directory TMP_FD (not yet in place). */
static int fill_new_volume(struct local *lv, int tmp_fd, const char *options_json, uint64_t size,
                           struct berth_error *err)
{
    const struct berth_services *s = lv->services;
    if (mkdirat(tmp_fd, "_data", 0755) < 0 || mkdirat(tmp_fd, "users", 0700) < 0) {
        s->set_error(err, errno, "make the volume directory");
        return -errno;
    }
    struct meta m = {.created = now_ms(), .size = size};
    if (size) {
        int r = next_projid(lv, &m.projid);
        _cleanup_close_ int data_fd =
            openat(tmp_fd, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (r == 0 && data_fd < 0)
            r = -errno;
        if (r == 0)
            r = project_quota_set(data_fd, m.projid, size);
        if (r < 0) {
            s->set_error(err, -r, "set a project quota of %" PRIu64 " bytes", size);
            return r;
        }
    }
    char meta[128];
    snprintf(meta, sizeof(meta), "created=%lld\nsize=%" PRIu64 "\nprojid=%" PRIu32 "\n", m.created,
             m.size, m.projid);
    int r = write_new(tmp_fd, "meta", meta, 0600);
    if (r == 0)
        r = write_new(tmp_fd, "options.json", options_json ? options_json : "{}", 0600);
    if (r == 0 && fsync(tmp_fd) < 0)
        r = -errno;
    if (r < 0)
        s->set_error(err, -r, "write the volume's metadata");
    return r;
}

static int local_create(void *state, const struct berth_volume_request *req, void *res,
                        struct berth_error *err)
{
    (void)res;
    struct local *lv = state;
    const struct berth_services *s = lv->services;
    int r = check_name(lv, req->volume_name, err);
    if (r < 0)
        return r;
    struct kv *opts = NULL;
    int n = kv_parse_json(req->options_json, &opts);
    if (n < 0) {
        s->set_error(err, 0, "volume options are not a JSON object of strings");
        return -EINVAL;
    }
    uint64_t size = 0;
    for (int i = 0; i < n && r == 0; i++) {
        if (strcmp(opts[i].key, "size")) {
            s->set_error(err, 0,
                         "unknown option '%s' for volume driver '" DRIVER_NAME "' (it knows: size)",
                         opts[i].key);
            r = -EINVAL;
        } else if (parse_size(opts[i].value, &size) < 0) {
            s->set_error(err, 0,
                         "invalid size '%s': use a number with an optional unit "
                         "k, m, g or t (1024-based)",
                         opts[i].value);
            r = -EINVAL;
        }
    }
    kv_free(opts, n);
    if (r < 0)
        return r;
    if (size) {
        r = project_quota_enforced(lv->volumes_fd);
        if (r <= 0) {
            /* Never silently ignored: a limit the user relies on must hold. */
            s->set_error(err, r < 0 ? -r : 0,
                         "size= needs project quotas on the filesystem of '%s/volumes' (ext4 "
                         "with the quota,prjquota features, or xfs with prjquota)",
                         s->state_dir);
            return r < 0 ? r : -EOPNOTSUPP;
        }
    }

    int token;
    if ((r = with_lock(lv, "v", req->volume_name, &token)) < 0) {
        s->set_error(err, -r, "lock volume '%s'", req->volume_name);
        return r;
    }
    struct stat st;
    if (fstatat(lv->volumes_fd, req->volume_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        /* Creating an existing volume is a no-op: the core owns the records. */
        unlock(lv, token);
        return 0;
    }
    /* Built aside and renamed into place: a crash never leaves half a volume. */
    char tmp[300];
    snprintf(tmp, sizeof(tmp), ".tmp-%ld-%s", (long)getpid(), req->volume_name);
    berth_tree_remove(lv->volumes_fd, tmp, NULL);
    if (mkdirat(lv->volumes_fd, tmp, 0711) < 0) {
        r = -errno;
        s->set_error(err, errno, "make '%s/volumes/%s'", s->state_dir, tmp);
        unlock(lv, token);
        return r;
    }
    {
        _cleanup_close_ int tmp_fd =
            openat(lv->volumes_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmp_fd < 0) {
            r = -errno;
            s->set_error(err, errno, "open '%s/volumes/%s'", s->state_dir, tmp);
        } else {
            r = fill_new_volume(lv, tmp_fd, req->options_json, size, err);
        }
    }
    if (r == 0 && renameat(lv->volumes_fd, tmp, lv->volumes_fd, req->volume_name) < 0) {
        r = -errno;
        s->set_error(err, errno, "rename the new volume into place");
    }
    if (r < 0)
        berth_tree_remove(lv->volumes_fd, tmp, NULL);
    else
        fsync(lv->volumes_fd);
    unlock(lv, token);
    return r;
}

/* Fills *RET with a NULL-terminated list of the container ids using VOL_FD. */
static int list_users(int vol_fd, char ***ret, size_t *ret_n)
{
    *ret = NULL;
    *ret_n = 0;
    int fd = openat(vol_fd, "users", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    struct dirent *de;
    char **v = NULL;
    size_t n = 0;
    int r = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char **grown = realloc(v, (n + 2) * sizeof(*v));
        if (!grown || !(grown[n] = strdup(de->d_name))) {
            v = grown ? grown : v;
            r = -ENOMEM;
            break;
        }
        v = grown;
        v[++n] = NULL;
    }
    closedir(d);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

static void strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

static int open_volume(struct local *lv, const char *name)
{
    int fd = openat(lv->volumes_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Deletes the volume NAME: out of place first, then its tree and quota. */
static int delete_volume(struct local *lv, const char *name)
{
    struct meta m = {0};
    {
        _cleanup_close_ int vol_fd = open_volume(lv, name);
        if (vol_fd == -ENOENT)
            return 0;
        if (vol_fd >= 0)
            meta_read(vol_fd, &m);
    }
    char trash[300];
    snprintf(trash, sizeof(trash), ".trash-%ld-%s", (long)getpid(), name);
    berth_tree_remove(lv->volumes_fd, trash, NULL);
    if (renameat(lv->volumes_fd, name, lv->volumes_fd, trash) < 0)
        return errno == ENOENT ? 0 : -errno;
    int r = berth_tree_remove(lv->volumes_fd, trash, NULL);
    if (m.projid)
        project_quota_clear(lv->volumes_fd, m.projid);
    return r;
}

static int local_remove(void *state, const struct berth_volume_request *req, void *res,
                        struct berth_error *err)
{
    (void)res;
    struct local *lv = state;
    const struct berth_services *s = lv->services;
    int r = check_name(lv, req->volume_name, err);
    if (r < 0)
        return r;
    int token;
    if ((r = with_lock(lv, "v", req->volume_name, &token)) < 0) {
        s->set_error(err, -r, "lock volume '%s'", req->volume_name);
        return r;
    }
    char **users = NULL;
    size_t n_users = 0;
    {
        _cleanup_close_ int vol_fd = open_volume(lv, req->volume_name);
        if (vol_fd >= 0)
            r = list_users(vol_fd, &users, &n_users);
    }
    if (r == 0 && n_users > 0) {
        s->set_error(err, 0, "volume '%s' is in use by container %.12s%s", req->volume_name,
                     users[0], n_users > 1 ? " and others" : "");
        r = -EBUSY;
    } else if (r < 0) {
        s->set_error(err, -r, "read the users of volume '%s'", req->volume_name);
    } else if ((r = delete_volume(lv, req->volume_name)) < 0) {
        s->set_error(err, -r, "delete volume '%s'", req->volume_name);
    }
    strv_free(users);
    unlock(lv, token);
    return r;
}

static int local_mount(void *state, const struct berth_volume_request *req,
                       struct berth_storage_prepare_result *res, struct berth_error *err)
{
    struct local *lv = state;
    const struct berth_services *s = lv->services;
    int r = check_name(lv, req->volume_name, err);
    if (r < 0)
        return r;
    if (!container_id_valid(req->container_id) || !req->target || req->target[0] != '/') {
        s->set_error(err, 0,
                     "mount of volume '%s': a container id and an absolute target "
                     "are needed",
                     req->volume_name);
        return -EINVAL;
    }
    int token;
    if ((r = with_lock(lv, "v", req->volume_name, &token)) < 0) {
        s->set_error(err, -r, "lock volume '%s'", req->volume_name);
        return r;
    }
    _cleanup_close_ int vol_fd = open_volume(lv, req->volume_name);
    if (vol_fd < 0) {
        unlock(lv, token);
        if (vol_fd == -ENOENT) {
            s->set_error(err, 0, "no such volume '%s'", req->volume_name);
            return -ENOENT;
        }
        s->set_error(err, -vol_fd, "open volume '%s'", req->volume_name);
        return vol_fd;
    }
    /* Recorded before the mount is reported: remove must never see it unused
     * while a container may have it mounted. */
    _cleanup_close_ int users_fd =
        openat(vol_fd, "users", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int ufd = users_fd < 0 ? -1
                           : openat(users_fd, req->container_id,
                                    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (ufd < 0) {
        r = -errno;
        unlock(lv, token);
        s->set_error(err, -r, "record the use of volume '%s'", req->volume_name);
        return r;
    }
    close(ufd);
    unlock(lv, token);

    size_t len = strlen(s->state_dir) + strlen(req->volume_name) + 32;
    _cleanup_free_ char *source = malloc(len);
    if (!source)
        return -ENOMEM;
    snprintf(source, len, "%s/volumes/%s/_data", s->state_dir, req->volume_name);
    struct berth_mount m = {
        .size = sizeof(m),
        .type = "bind",
        .source = source,
        .target = req->target,
        .options = req->read_only ? "rbind,ro" : "rbind",
    };
    r = res->add_mount(res->host_ctx, &m);
    if (r < 0)
        s->set_error(err, -r, "report the mount of volume '%s'", req->volume_name);
    return r;
}

static int local_unmount(void *state, const struct berth_volume_request *req, void *res,
                         struct berth_error *err)
{
    (void)res;
    (void)err;
    struct local *lv = state;
    /* Idempotent: an unknown volume or container has nothing to drop. */
    if (!volume_name_valid(req->volume_name) || !container_id_valid(req->container_id))
        return 0;
    _cleanup_close_ int vol_fd = open_volume(lv, req->volume_name);
    if (vol_fd < 0)
        return 0;
    _cleanup_close_ int users_fd =
        openat(vol_fd, "users", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (users_fd >= 0 && unlinkat(users_fd, req->container_id, 0) < 0 && errno != ENOENT) {
        int r = -errno;
        lv->services->set_error(err, errno, "drop container %.12s from volume '%s'",
                                req->container_id, req->volume_name);
        return r;
    }
    return 0;
}

static int local_inspect(void *state, const struct berth_volume_request *req,
                         struct berth_text_result *res, struct berth_error *err)
{
    struct local *lv = state;
    const struct berth_services *s = lv->services;
    int r = check_name(lv, req->volume_name, err);
    if (r < 0)
        return r;
    _cleanup_close_ int vol_fd = open_volume(lv, req->volume_name);
    if (vol_fd < 0) {
        s->set_error(err, 0, "no such volume '%s' in driver '" DRIVER_NAME "'", req->volume_name);
        return vol_fd;
    }
    struct meta m;
    _cleanup_free_ char *options = NULL;
    if ((r = meta_read(vol_fd, &m)) < 0 || (r = read_text(vol_fd, "options.json", &options)) < 0) {
        s->set_error(err, -r, "read the metadata of volume '%s'", req->volume_name);
        return r;
    }
    struct kv *kv = NULL;
    int n = kv_parse_json(options, &kv); /* re-printed, so only valid JSON goes out */
    char **users = NULL;
    size_t n_users = 0;
    list_users(vol_fd, &users, &n_users);

    _cleanup_free_ char *out = NULL;
    size_t len = 0;
    buf_printf(&out, &len, "{\"name\":");
    json_put_string(&out, &len, req->volume_name);
    buf_printf(&out, &len, ",\"driver\":\"" DRIVER_NAME "\",\"mountpoint\":");
    _cleanup_free_ char *mp = malloc(strlen(s->state_dir) + strlen(req->volume_name) + 32);
    if (mp) {
        (void)sprintf(mp, "%s/volumes/%s/_data", s->state_dir, req->volume_name);
        json_put_string(&out, &len, mp);
    }
    buf_printf(&out, &len, ",\"created\":%lld,\"options\":{", m.created);
    for (int i = 0; i < n; i++) {
        if (i)
            buf_printf(&out, &len, ",");
        json_put_string(&out, &len, kv[i].key);
        buf_printf(&out, &len, ":");
        json_put_string(&out, &len, kv[i].value);
    }
    buf_printf(&out, &len, "},\"size_limit\":%" PRIu64 ",\"quota\":\"%s\",\"users\":[", m.size,
               m.size ? "project" : "none");
    for (size_t i = 0; i < n_users; i++) {
        if (i)
            buf_printf(&out, &len, ",");
        json_put_string(&out, &len, users[i]);
    }
    r = buf_printf(&out, &len, "]}");
    kv_free(kv, n);
    strv_free(users);
    if (r < 0 || !out || !mp) {
        s->set_error(err, ENOMEM, "describe volume '%s'", req->volume_name);
        return -ENOMEM;
    }
    return res->put(res->host_ctx, out);
}

static int in_set(const char *const *set, uint32_t n, const char *s)
{
    for (uint32_t i = 0; set && i < n; i++)
        if (set[i] && !strcmp(set[i], s))
            return 1;
    return 0;
}

/* Drops the use entries of VOL_FD's containers that no longer exist. */
static void gc_users(int vol_fd, const struct berth_gc_request *req)
{
    char **users = NULL;
    size_t n = 0;
    if (list_users(vol_fd, &users, &n) < 0)
        return;
    _cleanup_close_ int users_fd =
        openat(vol_fd, "users", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    for (size_t i = 0; users_fd >= 0 && i < n; i++)
        if (!in_set(req->container_ids, req->n_container_ids, users[i]))
            unlinkat(users_fd, users[i], 0);
    strv_free(users);
}

/* ".tmp-PID-NAME" or ".trash-PID-NAME" whose PID is gone. */
static int is_stale_scratch(const char *name)
{
    const char *p = !strncmp(name, ".tmp-", 5)     ? name + 5
                    : !strncmp(name, ".trash-", 7) ? name + 7
                                                   : NULL;
    if (!p)
        return 0;
    long pid = strtol(p, NULL, 10);
    return pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

static int local_gc(void *state, const struct berth_gc_request *req, void *res,
                    struct berth_error *err)
{
    (void)res;
    struct local *lv = state;
    int fd = openat(lv->volumes_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        lv->services->set_error(err, errno, "read '%s/volumes'", lv->services->state_dir);
        return -EIO;
    }
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        if (name[0] == '.') {
            if (is_stale_scratch(name))
                berth_tree_remove(lv->volumes_fd, name, NULL);
            continue;
        }
        if (!volume_name_valid(name))
            continue;
        int token;
        if (with_lock(lv, "v", name, &token) < 0)
            continue;
        /* Volumes are persistent: only a core that names the ones it knows
         * (object_ids set, possibly empty) can have others removed. */
        int q;
        if (req->object_ids && !in_set(req->object_ids, req->n_object_ids, name)) {
            if ((q = delete_volume(lv, name)) < 0 && r == 0) {
                lv->services->set_error(err, -q, "delete unknown volume '%s'", name);
                r = q;
            }
        } else {
            _cleanup_close_ int vol_fd = open_volume(lv, name);
            if (vol_fd >= 0)
                gc_users(vol_fd, req);
        }
        unlock(lv, token);
    }
    closedir(d);
    return r;
}

static const struct berth_volume_ops local_ops = {
    .size = sizeof(struct berth_volume_ops),
    .create = local_create,
    .remove = local_remove,
    .mount = local_mount,
    .unmount = local_unmount,
    .inspect = local_inspect,
    .gc = local_gc,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_VOLUME, DRIVER_NAME, "0.1.0",
                    "named persistent volumes: directories bind-mounted into containers, size "
                    "limits by project quota",
                    0, local_init, local_fini, &local_ops)
