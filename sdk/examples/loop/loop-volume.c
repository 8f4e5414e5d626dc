/* SPDX-License-Identifier: MIT */
/*
 * loop: a volume driver whose volumes are fixed-size ext4 image files.
 *
 *   berth volume create --driver loop --opt size=64m data
 *   berth run -v data:/data busybox dd if=/dev/zero of=/data/big   # ENOSPC at 64 MiB
 *
 * An example of the SDK (sdk/examples/README.md): copy it, rename it, change
 * it. What it shows:
 *
 *  - a volume driver never mounts on the host. mount() attaches the image
 *    to a loop device and *reports* an ext4 mount of that device; berth's
 *    runtime performs it inside the container's own mount namespace, so the
 *    filesystem disappears with the container even if berth is killed;
 *  - per-volume state in the plugin's state dir, guarded by the host's named
 *    locks (services->lock), so concurrent berth commands are safe;
 *  - undo that is idempotent (unmount, remove) and a gc that finds what a
 *    crash left behind;
 *  - running a helper program (mke2fs) from a plugin: fork + exec + waitpid,
 *    every descriptor O_CLOEXEC so the child inherits nothing of berth.
 *
 * State, below services->state_dir:
 *
 *   volumes/NAME/disk.img      the ext4 image (sparse: only written blocks use space)
 *   volumes/NAME/size          its size in bytes, as text
 *   volumes/NAME/users/ID      one empty file per container that has it mounted
 *   volumes/.new-NAME          a volume being created (renamed into place when complete)
 *
 * One loop device per volume, shared by every container that mounts it
 * (two ext4 mounts of two devices backed by one file would corrupt it). It
 * is attached by the first mount and detached by the last unmount. The
 * device is found again from the image by asking the kernel (sysfs
 * backing_file), so no device name is stored: after a reboot nothing stale
 * remains.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/loop.h>

#include <cjson/cJSON.h>

#include <berth/fsutil.h>
#include <berth/volume.h>

#define DEFAULT_SIZE (64ull << 20) /* without size= */
#define MIN_SIZE (4ull << 20)      /* mke2fs needs some room for its metadata */

struct loopvol {
    const struct berth_services *s; /* valid until fini */
    char *dir;                      /* STATE_DIR/volumes */
};

/* ---- small helpers ---------------------------------------------------- */

/* snprintf into a path buffer. Names are checked (at most 128 bytes), so
 * a path only gets too long with an absurd state dir: it is then cut, and
 * the open that follows fails. */
BERTH_PRINTF(3, 4) static void pathf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The set_error shorthand every operation uses: one call, then return -errno. */
#define FAIL(lv, err, errnum, ...) ((lv)->s->set_error((err), (errnum), __VA_ARGS__), -(errnum))

static int valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 128 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= 'A' && name[i] <= 'Z') &&
            !(name[i] >= '0' && name[i] <= '9') && !strchr("_.-", name[i]))
            return 0;
    return 1;
}

/* "64m", "1g", "1048576" (1024-based suffixes k, m, g). */
static int parse_size(const char *text, unsigned long long *ret)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text)
        return -EINVAL;
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || v > (ULLONG_MAX >> shift))
        return -EINVAL;
    *ret = v << shift;
    return 0;
}

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t n = strlen(text);
    int r = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -EIO;
    close(fd);
    return r;
}

/* Removes DIR and everything below it (the SDK's fsutil helper: it never
 * follows a symlink or enters a mount, whatever a container left there). */
static void remove_tree(const char *dir)
{
    berth_tree_remove(AT_FDCWD, dir, NULL);
}

static int count_users(const char *vdir)
{
    char path[PATH_MAX];
    pathf(path, sizeof(path), "%s/users", vdir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Runs mke2fs on IMAGE; the child gets /dev/null as stdin/stdout. */
static int make_ext4(struct loopvol *lv, const char *image, struct berth_error *err)
{
    static const char *const candidates[] = {"/usr/sbin/mke2fs", "/sbin/mke2fs"};
    const char *tool = NULL;
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (access(candidates[i], X_OK) == 0)
            tool = candidates[i];
    if (!tool)
        return FAIL(lv, err, ENOENT, "mke2fs not found (install e2fsprogs)");

    pid_t pid = fork();
    if (pid < 0)
        return FAIL(lv, err, errno, "fork");
    if (pid == 0) {
        /* In the child only async-signal-safe calls until exec. */
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        /* -F: it is a file, not a block device; -m 0: no blocks reserved
         * for root, so the limit is the same for everyone; lazy init off
         * so that no kernel thread writes the image after unmount. */
        execl(tool, "mke2fs", "-q", "-F", "-t", "ext4", "-m", "0", "-E",
              "lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0", image, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return FAIL(lv, err, errno, "wait for mke2fs");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return FAIL(lv, err, EIO, "mke2fs of '%s' failed (status %d)", image, status);
    return 0;
}

/* ---- loop devices ----------------------------------------------------- */

/*
 * Finds the loop device whose backing file is IMAGE: writes "/dev/loopN"
 * into DEV and returns 1, or returns 0 when the image is not attached.
 */
static int find_loop(const char *image_path, char *dev, size_t devlen)
{
    /* The kernel shows the path it resolved at attach time. */
    char image[PATH_MAX];
    if (!realpath(image_path, image))
        return 0;
    DIR *d = opendir("/sys/block");
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (strncmp(e->d_name, "loop", 4) != 0)
            continue;
        char path[PATH_MAX], backing[PATH_MAX];
        pathf(path, sizeof(path), "/sys/block/%s/loop/backing_file", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* not bound */
        ssize_t n = read(fd, backing, sizeof(backing) - 1);
        close(fd);
        if (n <= 0)
            continue;
        backing[n] = '\0';
        if (backing[n - 1] == '\n')
            backing[n - 1] = '\0';
        if (strcmp(backing, image) == 0) {
            snprintf(dev, devlen, "/dev/%s", e->d_name);
            found = 1;
        }
    }
    closedir(d);
    return found;
}

/* Attaches IMAGE to a free loop device with one LOOP_CONFIGURE (Linux 5.8). */
static int attach_loop(struct loopvol *lv, const char *image, char *dev, size_t devlen,
                       struct berth_error *err)
{
    int file = open(image, O_RDWR | O_CLOEXEC);
    if (file < 0)
        return FAIL(lv, err, errno, "open '%s'", image);
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        int e = errno;
        close(file);
        return FAIL(lv, err, e, "open /dev/loop-control");
    }
    int r = -EBUSY;
    /* Another process may take the free device between GET_FREE and
     * CONFIGURE: then try the next one. */
    for (int attempt = 0; attempt < 16 && r == -EBUSY; attempt++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            r = -errno;
            break;
        }
        snprintf(dev, devlen, "/dev/loop%d", n);
        int fd = open(dev, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            r = -errno;
            break;
        }
        struct loop_config cfg = {.fd = (unsigned)file, .block_size = 0};
        snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", image);
        r = ioctl(fd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
        close(fd);
    }
    close(ctl);
    close(file);
    if (r < 0)
        return FAIL(lv, err, -r, "attach '%s' to a loop device", image);
    return 0;
}

/*
 * Makes DEV, found bound to our image, usable for one more mount. The
 * mount namespace of a container that just exited is torn down
 * asynchronously, so its ext4 may still hold the device after unmount
 * asked to detach it: the kernel then only marked it "autoclear" (detach
 * when the last user goes). Clearing that mark keeps the device for the
 * new mount. Returns 0, or -ENXIO when the device is already on its way
 * out (the caller waits for it to go and attaches a fresh one).
 */
static int keep_loop(const char *dev)
{
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -ENXIO;
    struct loop_info64 info;
    int r = 0;
    if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0) {
        r = -ENXIO;
    } else if (info.lo_flags & LO_FLAGS_AUTOCLEAR) {
        info.lo_flags &= ~(uint32_t)LO_FLAGS_AUTOCLEAR;
        if (ioctl(fd, LOOP_SET_STATUS64, &info) < 0)
            r = -ENXIO;
    }
    close(fd);
    return r;
}

/* Waits (up to 5 s) until IMAGE is bound to no loop device. */
static void wait_unbound(const char *image)
{
    char dev[64];
    for (int i = 0; i < 500 && find_loop(image, dev, sizeof(dev)); i++) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Detaches DEV. If a mount still holds it the kernel detaches it when the
 * last one goes (LOOP_CLR_FD then only sets autoclear). */
static int detach_loop(const char *dev)
{
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int r = ioctl(fd, LOOP_CLR_FD) < 0 && errno != ENXIO ? -errno : 0;
    close(fd);
    return r;
}

/* Detaches the volume's device if no container uses it any more. */
static int detach_if_unused(const char *vdir)
{
    char image[PATH_MAX], dev[64];
    if (count_users(vdir) > 0)
        return 0;
    pathf(image, sizeof(image), "%s/disk.img", vdir);
    if (!find_loop(image, dev, sizeof(dev)))
        return 0;
    return detach_loop(dev);
}

/* ---- init and fini ---------------------------------------------------- */

static int loop_init(const struct berth_services *services, void **ret_state)
{
    struct loopvol *lv = calloc(1, sizeof(*lv));
    if (!lv)
        return -ENOMEM;
    lv->s = services;
    if (asprintf(&lv->dir, "%s/volumes", services->state_dir) < 0) {
        free(lv);
        return -ENOMEM;
    }
    if (mkdir(lv->dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        free(lv->dir);
        free(lv);
        return -e;
    }
    *ret_state = lv;
    return 0;
}

static void loop_fini(void *state)
{
    struct loopvol *lv = state;
    if (!lv)
        return;
    free(lv->dir);
    free(lv);
}

/* Holds the volume's lock for the rest of the calling scope's use. */
static int lock_volume(struct loopvol *lv, const char *name, int *ret_token,
                       struct berth_error *err)
{
    char lock[140];
    pathf(lock, sizeof(lock), "v-%s", name);
    int r = lv->s->lock(lv->s->host, lock, ret_token);
    if (r < 0)
        return FAIL(lv, err, -r, "lock volume '%s'", name);
    return 0;
}

/* ---- operations ------------------------------------------------------- */

/* create: an image of size= bytes with a fresh ext4 in it. The volume is
 * built under .new-NAME and renamed into place, so a crash never leaves
 * half a volume where mount would find it. Creating an existing volume is
 * a no-op (the host compares options). */
static int loop_create(void *state, const struct berth_volume_request *req, void *res,
                       struct berth_error *err)
{
    struct loopvol *lv = state;
    (void)res;
    if (!valid_name(req->volume_name))
        return FAIL(lv, err, EINVAL, "invalid volume name '%s'", req->volume_name);

    unsigned long long size = DEFAULT_SIZE;
    cJSON *opts = cJSON_Parse(req->options_json ? req->options_json : "{}");
    if (!cJSON_IsObject(opts)) {
        cJSON_Delete(opts);
        return FAIL(lv, err, EINVAL, "options are not a JSON object");
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, opts)
    {
        if (strcmp(o->string, "size") != 0) {
            lv->s->set_error(err, EINVAL, "unknown option '%s' (the loop driver takes size=)",
                             o->string);
            cJSON_Delete(opts);
            return -EINVAL;
        }
        if (!cJSON_IsString(o) || parse_size(o->valuestring, &size) < 0 || size < MIN_SIZE) {
            lv->s->set_error(err, EINVAL, "size=%s: want a size of at least 4m, like 64m or 1g",
                             cJSON_IsString(o) ? o->valuestring : "?");
            cJSON_Delete(opts);
            return -EINVAL;
        }
    }
    cJSON_Delete(opts);

    int token, r;
    if ((r = lock_volume(lv, req->volume_name, &token, err)) < 0)
        return r;
    char vdir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX], text[32];
    pathf(vdir, sizeof(vdir), "%s/%s", lv->dir, req->volume_name);
    pathf(tmp, sizeof(tmp), "%s/.new-%s", lv->dir, req->volume_name);
    if (access(vdir, F_OK) == 0) {
        lv->s->unlock(lv->s->host, token);
        return 0;
    }
    remove_tree(tmp); /* a crashed earlier attempt */
    if (mkdir(tmp, 0700) < 0) {
        r = FAIL(lv, err, errno, "mkdir '%s'", tmp);
        goto out;
    }
    pathf(path, sizeof(path), "%s/users", tmp);
    if (mkdir(path, 0700) < 0) {
        r = FAIL(lv, err, errno, "mkdir '%s'", path);
        goto out;
    }
    pathf(path, sizeof(path), "%s/disk.img", tmp);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = FAIL(lv, err, errno, "create '%s'", path);
        goto out;
    }
    r = ftruncate(fd, (off_t)size) < 0 ? -errno : 0; /* sparse */
    close(fd);
    if (r < 0) {
        r = FAIL(lv, err, -r, "size '%s' to %llu bytes", path, size);
        goto out;
    }
    if ((r = make_ext4(lv, path, err)) < 0)
        goto out;
    pathf(path, sizeof(path), "%s/size", tmp);
    snprintf(text, sizeof(text), "%llu\n", size);
    if ((r = write_text(path, text)) < 0) {
        r = FAIL(lv, err, -r, "write '%s'", path);
        goto out;
    }
    if (rename(tmp, vdir) < 0)
        r = FAIL(lv, err, errno, "rename '%s'", tmp);
out:
    if (r < 0)
        remove_tree(tmp);
    lv->s->unlock(lv->s->host, token);
    return r;
}

/* remove: refused while a container has the volume mounted; absent is fine. */
static int loop_remove(void *state, const struct berth_volume_request *req, void *res,
                       struct berth_error *err)
{
    struct loopvol *lv = state;
    (void)res;
    if (!valid_name(req->volume_name))
        return 0;
    int token, r;
    if ((r = lock_volume(lv, req->volume_name, &token, err)) < 0)
        return r;
    char vdir[PATH_MAX];
    pathf(vdir, sizeof(vdir), "%s/%s", lv->dir, req->volume_name);
    if (count_users(vdir) > 0) {
        r = FAIL(lv, err, EBUSY, "volume '%s' is in use", req->volume_name);
    } else {
        detach_if_unused(vdir);
        remove_tree(vdir);
        r = access(vdir, F_OK) == 0 ? FAIL(lv, err, EIO, "could not remove '%s'", vdir) : 0;
    }
    lv->s->unlock(lv->s->host, token);
    return r;
}

/*
 * mount: record the user first, attach the device if this is the first
 * user, then report the mount. The runtime mounts it; nothing is mounted here.
 */
static int loop_mount(void *state, const struct berth_volume_request *req,
                      struct berth_storage_prepare_result *res, struct berth_error *err)
{
    struct loopvol *lv = state;
    if (!valid_name(req->volume_name) || !req->container_id || !valid_name(req->container_id) ||
        !req->target || req->target[0] != '/')
        return FAIL(lv, err, EINVAL, "mount of volume '%s': bad request",
                    req->volume_name ? req->volume_name : "?");
    int token, r;
    if ((r = lock_volume(lv, req->volume_name, &token, err)) < 0)
        return r;
    char vdir[PATH_MAX], user[PATH_MAX], image[PATH_MAX], dev[64];
    pathf(vdir, sizeof(vdir), "%s/%s", lv->dir, req->volume_name);
    pathf(image, sizeof(image), "%s/disk.img", vdir);
    pathf(user, sizeof(user), "%s/users/%s", vdir, req->container_id);
    if (access(image, F_OK) < 0) {
        r = FAIL(lv, err, ENOENT, "no volume '%s'", req->volume_name);
        goto out;
    }
    int fd = open(user, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = FAIL(lv, err, errno, "record user '%s'", user);
        goto out;
    }
    close(fd);
    if (find_loop(image, dev, sizeof(dev)) && keep_loop(dev) < 0)
        wait_unbound(image); /* being detached right now: let it finish */
    if (!find_loop(image, dev, sizeof(dev)) &&
        (r = attach_loop(lv, image, dev, sizeof(dev), err)) < 0) {
        unlink(user);
        goto out;
    }
    struct berth_mount m = {
        .size = sizeof(m),
        .type = "ext4",
        .source = dev,
        .target = req->target,
        .options = req->read_only ? "ro,nosuid,nodev" : "nosuid,nodev",
    };
    r = res->add_mount(res->host_ctx, &m);
    if (r < 0) {
        lv->s->set_error(err, -r, "report the mount of volume '%s'", req->volume_name);
        unlink(user);
        detach_if_unused(vdir);
    }
out:
    lv->s->unlock(lv->s->host, token);
    return r;
}

/* unmount: the container is gone (its mount namespace with it). Idempotent. */
static int loop_unmount(void *state, const struct berth_volume_request *req, void *res,
                        struct berth_error *err)
{
    struct loopvol *lv = state;
    (void)res;
    if (!valid_name(req->volume_name) || !req->container_id || !valid_name(req->container_id))
        return 0;
    int token, r;
    if ((r = lock_volume(lv, req->volume_name, &token, err)) < 0)
        return r;
    char vdir[PATH_MAX], user[PATH_MAX];
    pathf(vdir, sizeof(vdir), "%s/%s", lv->dir, req->volume_name);
    pathf(user, sizeof(user), "%s/users/%s", vdir, req->container_id);
    unlink(user);
    r = detach_if_unused(vdir);
    if (r < 0)
        lv->s->set_error(err, -r, "detach the loop device of volume '%s'", req->volume_name);
    lv->s->unlock(lv->s->host, token);
    return r;
}

static int loop_inspect(void *state, const struct berth_volume_request *req,
                        struct berth_text_result *res, struct berth_error *err)
{
    struct loopvol *lv = state;
    if (!valid_name(req->volume_name))
        return FAIL(lv, err, EINVAL, "invalid volume name");
    char vdir[PATH_MAX], path[PATH_MAX], dev[64], text[32] = "0";
    pathf(vdir, sizeof(vdir), "%s/%s", lv->dir, req->volume_name);
    pathf(path, sizeof(path), "%s/size", vdir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FAIL(lv, err, ENOENT, "no volume '%s'", req->volume_name);
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    pathf(path, sizeof(path), "%s/disk.img", vdir);
    int attached = find_loop(path, dev, sizeof(dev));

    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", req->volume_name);
    cJSON_AddStringToObject(o, "driver", "loop");
    cJSON_AddStringToObject(o, "image", path);
    cJSON_AddNumberToObject(o, "size_limit", (double)strtoull(text, NULL, 10));
    if (attached)
        cJSON_AddStringToObject(o, "device", dev);
    else
        cJSON_AddNullToObject(o, "device");
    cJSON_AddNumberToObject(o, "users", count_users(vdir));
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json)
        return FAIL(lv, err, ENOMEM, "inspect");
    int r = res->put(res->host_ctx, json); /* the host copies the text */
    free(json);
    return r;
}

static int in_list(const char *const *list, uint32_t n, const char *s)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/*
 * gc: drop users that are not containers any more (a crash between mount
 * and unmount), detach what then has no user, remove half-made volumes,
 * and, when the host passes the list of volumes (object_ids non-NULL),
 * remove the volumes it does not know.
 */
static int loop_gc(void *state, const struct berth_gc_request *req, void *res,
                   struct berth_error *err)
{
    struct loopvol *lv = state;
    (void)res;
    DIR *d = opendir(lv->dir);
    if (!d)
        return FAIL(lv, err, errno, "open '%s'", lv->dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        char vdir[PATH_MAX];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        pathf(vdir, sizeof(vdir), "%s/%s", lv->dir, e->d_name);
        if (strncmp(e->d_name, ".new-", 5) == 0) {
            int token;
            if (lock_volume(lv, e->d_name + 5, &token, err) < 0)
                continue;
            remove_tree(vdir);
            lv->s->unlock(lv->s->host, token);
            continue;
        }
        if (!valid_name(e->d_name))
            continue;
        int token;
        if (lock_volume(lv, e->d_name, &token, err) < 0)
            continue;
        char users[PATH_MAX];
        pathf(users, sizeof(users), "%s/users", vdir);
        DIR *u = opendir(users);
        if (u) {
            struct dirent *ue;
            while ((ue = readdir(u)))
                if (ue->d_name[0] != '.' &&
                    !in_list(req->container_ids, req->n_container_ids, ue->d_name))
                    unlinkat(dirfd(u), ue->d_name, 0);
            closedir(u);
        }
        detach_if_unused(vdir);
        if (req->object_ids && !in_list(req->object_ids, req->n_object_ids, e->d_name) &&
            count_users(vdir) == 0)
            remove_tree(vdir);
        lv->s->unlock(lv->s->host, token);
    }
    closedir(d);
    return 0;
}

static const struct berth_volume_ops loop_ops = {
    .size = sizeof(struct berth_volume_ops),
    .create = loop_create,
    .remove = loop_remove,
    .mount = loop_mount,
    .unmount = loop_unmount,
    .inspect = loop_inspect,
    .gc = loop_gc,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_VOLUME, "loop", "1.0", "fixed-size ext4 image volumes", 0, loop_init,
                    loop_fini, &loop_ops)
