/* berth cp (container-copy.h). */
#include "lifecycle/container-copy.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/layer-pack.h"
#include "image/layer-unpack.h"
#include "lifecycle/container-commit.h"
#include "lifecycle/container-mounts.h"
#include "lifecycle/plugin-calls.h"
#include "runtime/runtime.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/kernel-fs.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/openat2.h"
#include "util/proc-path.h"

/* As the kernel's own limit on symlinks in one path. */
#define MAX_LINK_HOPS 40

int copy_path_split(const char *path, char **ret_dir, char **ret_name, int *ret_contents,
                    int *ret_slash)
{
    size_t n = path ? strlen(path) : 0;
    if (n == 0)
        return -EINVAL;
    *ret_slash = path[n - 1] == '/';
    *ret_contents = !strcmp(path, ".") || (n >= 2 && !strcmp(path + n - 2, "/."));
    _cleanup_free_ char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    char *last = strrchr(p, '/');
    const char *base = last ? last + 1 : p;
    char *dir, *name;
    if (!strcmp(p, "/") || !strcmp(base, ".") || !strcmp(base, "..")) {
        dir = strdup(p);
        name = strdup(".");
    } else {
        dir = !last ? strdup(".") : last == p ? strdup("/") : strndup(p, (size_t)(last - p));
        name = strdup(base);
    }
    if (!dir || !name) {
        free(dir);
        free(name);
        return -ENOMEM;
    }
    *ret_dir = dir;
    *ret_name = name;
    return 0;
}

/* Where one side's paths resolve: inside a container's root, or the host's. */
struct side {
    int root;    /* the container's root, or AT_FDCWD */
    int in_root; /* resolve as if ROOT were "/", never leaving it */
};

static int side_open(const struct side *s, const char *path, int flags)
{
    if (!s->in_root)
        return openat(s->root, path, flags | O_CLOEXEC);
    return openat2_resolve(s->root, path, flags | O_CLOEXEC,
                           RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* The copy's source: PATH and all below it as a tar on OUT_FD. */
static int produce(const struct side *s, const char *path, int follow, int one_fs, int out_fd,
                   struct error **err)
{
    _cleanup_free_ char *dir = NULL, *name = NULL;
    int contents, slash;
    if (copy_path_split(path, &dir, &name, &contents, &slash) < 0)
        return error_set_plain(err, EINVAL, "invalid path '%s'", path);
    /* The top entry keeps the name given, also when it is a link followed. */
    _cleanup_free_ char *as = strdup(contents || !strcmp(name, ".") ? "." : name);
    if (!as)
        return error_set(err, ENOMEM, "'%s'", path);
    _cleanup_close_ int dfd = side_open(s, dir, O_PATH | O_DIRECTORY);
    if (dfd < 0)
        return error_set(err, errno, "'%s'", path);
    struct stat st;
    for (int hops = 0;; hops++) {
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return error_set(err, errno, "'%s'", path);
        if (!follow || !S_ISLNK(st.st_mode))
            break;
        if (hops == MAX_LINK_HOPS)
            return error_set(err, ELOOP, "'%s'", path);
        char target[PATH_MAX];
        ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
        if (n <= 0)
            return error_set(err, n < 0 ? errno : ENOENT, "'%s'", path);
        target[n] = '\0';
        /* Again from the root: a link's target resolves inside it too. */
        _cleanup_free_ char *next =
            target[0] == '/' ? strdup(target) : xasprintf("%s/%s", dir, target);
        free(dir);
        free(name);
        dir = name = NULL;
        if (!next || copy_path_split(next, &dir, &name, &contents, &slash) < 0)
            return error_set_plain(err, EINVAL, "invalid link target '%s'", target);
        closep(&dfd);
        if ((dfd = side_open(s, dir, O_PATH | O_DIRECTORY)) < 0)
            return error_set(err, errno, "'%s' (through link '%s')", path, target);
    }
    if (!S_ISDIR(st.st_mode) && (!strcmp(as, ".") || slash))
        return error_set(err, ENOTDIR, "'%s'", path);
    _cleanup_close_ int src = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0)
        return error_set(err, errno, "'%s'", path);
    if (fd_on_kernel_fs(src))
        return error_set_plain(err, EPERM,
                               "'%s' is on a kernel file system (proc, sysfs…): "
                               "not copied",
                               path);
    return one_fs ? layer_pack_copy_one_fs(dfd, name, as, out_fd, err)
                  : layer_pack_copy(dfd, name, as, out_fd, err);
}

/* The copy's destination, chosen when the first entry shows what comes. */
struct dest {
    const struct side *s;
    const char *path;
    int as_is; /* a tar of the user's: extracted into PATH, a directory */
    int fd;
    char *as;
};

static int choose_dest(void *ctx, const char *top, int is_dir, int *ret_fd, const char **ret_as,
                       struct error **err)
{
    struct dest *d = ctx;
    _cleanup_free_ char *dir = NULL, *name = NULL;
    int contents, slash;
    if (copy_path_split(d->path, &dir, &name, &contents, &slash) < 0)
        return error_set_plain(err, EINVAL, "invalid path '%s'", d->path);
    struct stat st;
    _cleanup_close_ int at = side_open(d->s, d->path, O_PATH);
    int exists = at >= 0 && fstat(at, &st) == 0;
    if (!exists && errno != ENOENT)
        return error_set(err, errno, "'%s'", d->path);
    if (d->as_is || !strcmp(name, ".") || (exists && S_ISDIR(st.st_mode))) {
        /* Into the directory PATH, under the source's own name. */
        if (!exists)
            return error_set(err, ENOENT, "'%s'", d->path);
        if (!S_ISDIR(st.st_mode))
            return error_set(err, ENOTDIR, "'%s'", d->path);
        d->fd = side_open(d->s, d->path, O_RDONLY | O_DIRECTORY);
        /* The user's tar may hold several trees: each goes in as named. */
        d->as = d->as_is ? NULL : strdup(top);
    } else {
        /* PATH itself: made, or a file replaced. */
        if (exists && is_dir)
            return error_set_plain(err, ENOTDIR, "cannot copy a directory to '%s', a file",
                                   d->path);
        if (!exists && slash && !is_dir)
            return error_set_plain(err, ENOENT, "directory '%s' does not exist", d->path);
        d->fd = side_open(d->s, dir, O_RDONLY | O_DIRECTORY);
        if (d->fd < 0 && errno == ENOENT)
            return error_set_plain(err, ENOENT, "directory '%s' does not exist", dir);
        d->as = strdup(name);
    }
    if (d->fd < 0)
        return error_set(err, errno, "'%s'", d->path);
    if (fd_on_kernel_fs(d->fd))
        return error_set_plain(err, EPERM,
                               "'%s' is on a kernel file system (proc, sysfs…): "
                               "nothing is written there",
                               d->path);
    if (!d->as && !d->as_is)
        return error_set(err, ENOMEM, "'%s'", d->path);
    *ret_fd = d->fd;
    *ret_as = d->as;
    return 0;
}

/* The copy's destination: the tar on IN_FD below PATH. */
static int consume(const struct side *s, const char *path, int as_is, int force_owner, unsigned uid,
                   unsigned gid, int in_fd, struct error **err)
{
    struct dest d = {.s = s, .path = path, .as_is = as_is, .fd = -1};
    struct layer_copy_target t = {
        .choose = choose_dest, .ctx = &d, .force_owner = force_owner, .uid = uid, .gid = gid};
    int r = layer_unpack_copy(in_fd, &t, err);
    if (d.fd >= 0)
        close(d.fd);
    free(d.as);
    /* The reader stops at the end marker; the writer may still pad the last
     * record, and must not fail on a pipe closed under it. */
    char buf[4096];
    for (ssize_t n = 1; r == 0 && n != 0;)
        if ((n = read(in_fd, buf, sizeof(buf))) < 0 && errno != EINTR)
            break;
    return r;
}

/* What the container's side needs, opened or prepared by berth before the fork. */
struct container_view {
    int root;   /* the first process's root (a running container), or -1 */
    int userns; /* its user namespace when not ours, or -1 */
    const struct mount_list *mounts, *extra; /* a container that does not run */
    const char *dir;                         /* where they are mounted */
};

static int container_side(const struct container_view *v, const struct copy_request *c, int io_fd,
                          struct error **err)
{
    _cleanup_close_ int own_root = -1;
    int root = v->root;
    if (root < 0) {
        if (unshare(CLONE_NEWNS) < 0)
            return error_set(err, errno, "unshare the mount namespace");
        int r = mounts_setup_copy_view(&v->mounts->items[0], v->extra->items, v->extra->n, v->dir,
                                       &own_root, err);
        if (r < 0)
            return r;
        root = own_root;
    }
    if (v->userns >= 0) {
        /* As the container's root: its files' owners, and an idmapped root's writes. */
        if (setns(v->userns, CLONE_NEWUSER) < 0)
            return error_set(err, errno, "join the container's user namespace");
        (void)setgroups(0, NULL); /* refused where the namespace denies it: no groups then */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
            return error_set(err, errno, "become the container's root");
    }
    struct side s = {.root = root, .in_root = 1};
    if (!c->into_container)
        return produce(&s, c->container_path, c->follow_link, c->root_only, io_fd, err);
    return consume(&s, c->container_path, !c->host_path, !c->archive, 0, 0, io_fd, err);
}

/* The child's error, one "ERRNO MESSAGE" record on FD. */
static void send_error(int fd, const struct error *err)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "%d %s", err ? err->errnum : EIO,
                     err && err->msg ? err->msg : "failed");
    if (n > 0)
        (void)!write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static int recv_error(int fd, struct error **err)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *msg = NULL;
    long errnum = strtol(buf, &msg, 10);
    return error_set_plain(err, (int)errnum, "%s", msg && *msg == ' ' ? msg + 1 : buf);
}

/* Runs the container's side in a child and the host's here, joined by a pipe. */
static int run_copy(const struct container_view *v, const struct copy_request *c,
                    struct error **err)
{
    int data[2] = {-1, -1}, errp[2] = {-1, -1};
    if (c->host_path && pipe2(data, O_CLOEXEC) < 0)
        return error_set(err, errno, "pipe");
    if (pipe2(errp, O_CLOEXEC) < 0) {
        int e = errno;
        closep(&data[0]);
        closep(&data[1]);
        return error_set(err, e, "pipe");
    }
    /* The child's io: its end of the pipe, or the caller's tar (stdin, stdout, a file). */
    int child_io = !c->host_path ? c->tar_fd : c->into_container ? data[0] : data[1];
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        closep(&data[0]);
        closep(&data[1]);
        closep(&errp[0]);
        closep(&errp[1]);
        return error_set(err, e, "fork");
    }
    if (pid == 0) {
        close(errp[0]);
        if (c->host_path)
            close(c->into_container ? data[1] : data[0]);
        struct error *local = NULL;
        int r = container_side(v, c, child_io, &local);
        if (r < 0)
            send_error(errp[1], local);
        _exit(r < 0 ? 1 : 0);
    }
    closep(&errp[1]);
    int r = 0;
    struct error *host_err = NULL;
    if (c->host_path) {
        int mine = c->into_container ? data[1] : data[0];
        closep(c->into_container ? &data[0] : &data[1]);
        struct side host = {.root = AT_FDCWD, .in_root = 0};
        void (*old)(int) = signal(SIGPIPE, SIG_IGN);
        if (c->into_container)
            r = produce(&host, c->host_path, c->follow_link, 0, mine, &host_err);
        else
            r = consume(&host, c->host_path, 0, !c->archive, (unsigned)getuid(), (unsigned)getgid(),
                        mine, &host_err);
        closep(&data[0]);
        closep(&data[1]);
        (void)signal(SIGPIPE, old);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    struct error *child_err = NULL;
    int cr = recv_error(errp[0], &child_err);
    close(errp[0]);
    /* A side that failed first makes the other fail on the pipe: the cause is its error. */
    if (cr < 0) {
        error_free(&host_err);
        *err = child_err;
        return cr;
    }
    if (r < 0) {
        *err = host_err;
        return r;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return error_set_plain(err, EIO, "the copy's process in the container failed");
    return 0;
}

/* A running container: its first process's root and user namespace, checked to be its. */
static int open_running(const cJSON *rec, const char *ref, struct container_view *v,
                        struct error **err)
{
    pid_t pid = (pid_t)rec_int(rec, "pid", 0);
    unsigned long long start = (unsigned long long)rec_int(rec, "pid_start", 0);
    char path[80], self[80];
    if (pid <= 0 || proc_pid_path(pid, "root", path, sizeof(path)) < 0 ||
        (v->root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return error_set_plain(err, ESRCH, "container '%s' is not running", ref);
    struct stat theirs, ours;
    if (proc_pid_path(pid, "ns/user", path, sizeof(path)) == 0 &&
        proc_pid_path(getpid(), "ns/user", self, sizeof(self)) == 0 && stat(path, &theirs) == 0 &&
        stat(self, &ours) == 0 && theirs.st_ino != ours.st_ino &&
        (v->userns = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return error_set(err, errno, "open the user namespace of container '%s'", ref);
    /* After the opens: a pid reused meanwhile is not the container's. */
    if (start == 0 || process_start_time(pid) != start)
        return error_set_plain(err, ESRCH, "container '%s' is not running", ref);
    return 0;
}

/*
 * A container in a user namespace whose writable layer holds host ids
 * (an overlay over idmapped layers, container-userns.h): mounted here
 * without those idmaps, its image's files and its own would show different
 * owners, and what cp wrote would belong to no one in the container.
 */
static int upper_holds_host_ids(const cJSON *rec)
{
    const cJSON *userns = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "security"), "userns");
    return cJSON_IsTrue(cJSON_GetObjectItem(userns, "upper_host_ids"));
}

static int is_running(const cJSON *rec)
{
    const char *state = rec_str(rec, "state");
    return state && (!strcmp(state, "running") || !strcmp(state, "paused"));
}

int container_copy(struct engine *e, const struct copy_request *c, struct error **err)
{
    _cleanup_json_ cJSON *rec = NULL;
    int lock_fd = -1;
    int r = container_find_and_lock(e, c->container, &rec, &lock_fd, err);
    if (r < 0)
        return r;
    struct container_view v = {.root = -1, .userns = -1};
    struct mount_list mounts = {0}, extra = {0};
    struct plugin *p = NULL;
    const char *id = rec_str(rec, "id");
    _cleanup_free_ char *dir = NULL;
    int prepared = 0, attached = 0;
    if (lock_fd < 0 || is_running(rec)) {
        /* Its berth holds the lock: the container runs, or is on its way. */
        if (!is_running(rec))
            r = error_set_plain(err, EBUSY, "container '%s' is busy: try again", c->container);
        else
            r = open_running(rec, c->container, &v, err);
    } else if (upper_holds_host_ids(rec)) {
        r = error_set_plain(err, ENOTSUP,
                            "container '%s' has a user namespace and is not running: its files "
                            "are only seen as it sees them while it runs (start it first)",
                            c->container);
    } else {
        r = storage_find(e->plugins, rec_str(rec, "storage_driver") ?: "", &p, err);
        if (r == 0 && (r = storage_prepare(p, id, cJSON_GetObjectItem(rec, "layers"), 0, 0, &mounts,
                                           err)) == 0)
            prepared = 1;
        if (r == 0 && mounts.n == 0)
            r = error_set_plain(err, EIO, "storage driver '%s' gave no root filesystem",
                                p->desc->name);
        /* export: the root file system alone, without the volumes on it. */
        if (r == 0 && !c->root_only && (r = container_mounts_attach(e, id, rec, &extra, err)) == 0)
            attached = 1;
        if (r == 0) {
            dir = xasprintf("%s/cp-%s.XXXXXX", e->globals->runroot, id);
            if (!mkdtemp(dir))
                r = error_set(err, errno, "make '%s'", dir);
        }
        v.mounts = &mounts;
        v.extra = &extra;
        v.dir = dir;
    }
    if (r == 0)
        r = run_copy(&v, c, err);
    if (dir && rmdir(dir) < 0 && errno != ENOENT)
        log_warning("remove '%s': %s", dir, strerror(errno));
    struct error *local = NULL;
    if (attached && container_mounts_detach(e, id, rec, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    if (prepared && storage_release(p, id, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    mount_list_clear(&mounts);
    mount_list_clear(&extra);
    if (v.root >= 0)
        close(v.root);
    if (v.userns >= 0)
        close(v.userns);
    unlock_fd(lock_fd);
    return r;
}
