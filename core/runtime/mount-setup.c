/*
 * The container's mounts, all made inside its own mount namespace: the
 * storage driver's rootfs mounts, the OCI mounts, pivot_root, then the
 * read-only root, masked and read-only paths.
 *
 * Mount targets inside the rootfs are resolved with openat2(RESOLVE_IN_ROOT)
 * and mounted through /proc/self/fd/N, so that a symlink planted in an image
 * ("/proc -> /etc" or "/dev -> /../../host") can never put a mount outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "runtime.h"
#include "util/cleanup.h"
#include "util/openat2.h"

#define FD_PATH_MAX 32

static int openat2_in_root(int rootfd, const char *path, int flags)
{
    return openat2_resolve(rootfd, path, flags | O_CLOEXEC,
                           RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int open_in_root(int rootfd, const char *path, int create, int last_is_file, int *ret_fd,
                 struct error **err)
{
    while (*path == '/')
        path++;
    if (!*path)
        path = ".";
    int fd = openat2_in_root(rootfd, path, O_PATH);
    if (fd >= 0) {
        *ret_fd = fd;
        return 0;
    }
    if (errno != ENOENT || !create)
        return error_set(err, errno, "open '/%s' in the rootfs", path);

    /* Walk down, creating what is missing; each step resolves again in the root. */
    _cleanup_free_ char *prefix = malloc(strlen(path) + 1);
    if (!prefix)
        return error_set(err, ENOMEM, "open '/%s'", path);
    size_t n = 0;
    for (const char *c = path; *c; c++)
        if (*c != '/' || (n > 0 && prefix[n - 1] != '/'))
            prefix[n++] = *c;
    while (n > 0 && prefix[n - 1] == '/')
        n--;
    prefix[n] = '\0';

    _cleanup_close_ int parent = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0)
        return error_set(err, errno, "open the rootfs");
    char *name = prefix;
    for (;;) {
        char *slash = strchr(name, '/');
        if (slash)
            *slash = '\0';
        int cur = openat2_in_root(rootfd, prefix, O_PATH);
        if (cur < 0 && errno == ENOENT && strcmp(name, "..") != 0 && strcmp(name, ".") != 0) {
            int r;
            if (!slash && last_is_file) {
                r = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           0644);
                if (r >= 0)
                    close(r);
            } else {
                r = mkdirat(parent, name, 0755);
            }
            if (r < 0 && errno != EEXIST)
                return error_set(err, errno, "create '/%s' in the rootfs", prefix);
            cur = openat2_in_root(rootfd, prefix, O_PATH);
        }
        if (cur < 0)
            return error_set(err, errno, "open '/%s' in the rootfs", prefix);
        if (!slash) {
            *ret_fd = cur;
            return 0;
        }
        close(parent);
        parent = cur;
        *slash = '/';
        name = slash + 1;
    }
}

static void fd_path(char buf[FD_PATH_MAX], int fd)
{
    snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/*
 * Splits S at unescaped SEP in place, dropping the backslashes that escape;
 * returns the next piece or NULL. As overlayfs escapes ',' and ':'.
 */
char *split_escaped(char **s, char sep)
{
    char *start = *s;
    if (!start)
        return NULL;
    char *w = start;
    for (char *r = start;; r++) {
        if (*r == '\\' && r[1]) {
            *w++ = *++r;
            continue;
        }
        if (*r == sep || !*r) {
            *s = *r ? r + 1 : NULL;
            *w = '\0';
            return start;
        }
        *w++ = *r;
    }
}

static unsigned int mount_attr_from_flags(unsigned long flags)
{
    unsigned int a = 0;
    if (flags & MS_RDONLY)
        a |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID)
        a |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV)
        a |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC)
        a |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NOATIME)
        a |= MOUNT_ATTR_NOATIME;
    if (flags & MS_STRICTATIME)
        a |= MOUNT_ATTR_STRICTATIME;
    if (flags & MS_NODIRATIME)
        a |= MOUNT_ATTR_NODIRATIME;
    return a;
}

/*
 * mount(2) takes at most a page of data, too little for an overlay of many
 * layers; fsconfig takes one option, and one "lowerdir+" layer, at a time.
 */
static int mount_fsconfig(const struct oci_mount *m, const char *target, struct error **err)
{
    _cleanup_close_ int fsfd = fsopen(m->type, FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return error_set(err, errno, "fsopen '%s'", m->type);
    if (m->source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", m->source, 0) < 0)
        return error_set(err, errno, "fsconfig source '%s'", m->source);
    _cleanup_free_ char *data = strdup(m->data);
    if (!data)
        return error_set(err, ENOMEM, "mount '%s'", m->destination);
    char *rest = data, *opt;
    while ((opt = split_escaped(&rest, ','))) {
        if (!*opt)
            continue;
        char *eq = strchr(opt, '=');
        if (!eq) {
            if (fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0) < 0)
                return error_set(err, errno, "fsconfig '%s'", opt);
            continue;
        }
        *eq = '\0';
        char *value = eq + 1;
        if (strcmp(opt, "lowerdir") == 0) {
            char *layers = value, *layer;
            while ((layer = split_escaped(&layers, ':')))
                if (*layer && fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", layer, 0) < 0)
                    return error_set(err, errno, "fsconfig lowerdir+ '%s'", layer);
            continue;
        }
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, opt, value, 0) < 0)
            return error_set(err, errno, "fsconfig '%s'", opt);
    }
    if ((m->flags & MS_RDONLY) && fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
        return error_set(err, errno, "fsconfig 'ro'");
    if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return error_set(err, errno, "create '%s' file system", m->type);
    _cleanup_close_ int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, mount_attr_from_flags(m->flags));
    if (mfd < 0)
        return error_set(err, errno, "fsmount '%s'", m->type);
    if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return error_set(err, errno, "move mount");
    return 0;
}

static unsigned long statvfs_flags(const char *path)
{
    struct statvfs s;
    unsigned long f = 0;
    if (statvfs(path, &s) < 0)
        return 0;
    if (s.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (s.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (s.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (s.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (s.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (s.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

/*
 * The new mount at TARGET (TOP is how to reach its top: a mount made through
 * /proc/self/fd/N is not reachable through N itself). A bind's flags need a
 * remount; propagation is a separate call.
 */
static int mount_after(const struct oci_mount *m, const char *top, struct error **err)
{
    unsigned long flags = m->flags & ~MS_REMOUNT;
    if (m->bind && (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                             MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME))) {
        if (mount(NULL, top, NULL, MS_BIND | MS_REMOUNT | flags | statvfs_flags(top), NULL) < 0)
            return error_set(err, errno, "remount '%s'", m->destination);
    }
    if (m->propagation && mount(NULL, top, NULL, m->propagation, NULL) < 0)
        return error_set(err, errno, "set propagation of '%s'", m->destination);
    return 0;
}

static int mount_at(const struct oci_mount *m, const char *target, struct error **err)
{
    /* Made by berth outside the user namespace (userns-setup.c): attach it. */
    if (m->detached_fd >= 0) {
        if (move_mount(m->detached_fd, "", AT_FDCWD, target,
                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0)
            return error_set(err, errno, "attach the mount of '%s' made by berth",
                             m->source ? m->source : m->type);
        return 0;
    }
    if (m->bind) {
        unsigned long f = MS_BIND | (m->recursive ? MS_REC : 0);
        if (mount(m->source, target, NULL, f, NULL) < 0)
            return error_set(err, errno, "bind '%s'", m->source ? m->source : "");
        return 0;
    }
    const char *data = m->data;
    if (data && strlen(data) >= (size_t)sysconf(_SC_PAGESIZE) - 1)
        return mount_fsconfig(m, target, err);
    unsigned long flags = m->flags & ~MS_REMOUNT;
    if (mount(m->source, target, m->type, flags, data) < 0)
        return error_set(err, errno, "mount '%s'", m->type);
    return 0;
}

static int need_after(const struct oci_mount *m)
{
    return m->propagation || (m->bind && (m->flags & ~MS_REMOUNT));
}

/* Mounts M onto DESTINATION inside ROOTFD, creating the target safely. */
static int mount_in_root(int rootfd, const struct oci_mount *m, struct error **err)
{
    int file = 0;
    if (m->bind && m->source) {
        struct stat st;
        if ((m->detached_fd >= 0 ? fstat(m->detached_fd, &st) : stat(m->source, &st)) < 0)
            return error_set(err, errno, "bind source '%s'", m->source);
        file = !S_ISDIR(st.st_mode);
    }
    _cleanup_close_ int fd = -1;
    int r = open_in_root(rootfd, m->destination, 1, file, &fd, err);
    if (r < 0)
        return r;
    if (m->copy_up && m->bind && m->source && !file &&
        (r = volume_copy_up_at(fd, m->detached_fd, m->source, err)) < 0)
        return r;
    char path[FD_PATH_MAX];
    fd_path(path, fd);
    r = mount_at(m, path, err);
    if (r < 0 && strcmp(m->type, "sysfs") == 0 && (*err)->errnum == EPERM) {
        /* Without our own network namespace sysfs may be refused: bind the host's. */
        error_free(err);
        struct oci_mount bind = *m;
        bind.bind = 1;
        bind.recursive = 1;
        bind.source = (char *)"/sys";
        r = mount_at(&bind, path, err);
        if (r >= 0) {
            _cleanup_close_ int top = -1;
            if ((r = open_in_root(rootfd, m->destination, 0, 0, &top, err)) < 0)
                return r;
            fd_path(path, top);
            return mount_after(&bind, path, err);
        }
    }
    if (r < 0)
        return r;
    if (!need_after(m))
        return 0;
    _cleanup_close_ int top = -1;
    if ((r = open_in_root(rootfd, m->destination, 0, 0, &top, err)) < 0)
        return r;
    fd_path(path, top);
    return mount_after(m, path, err);
}

int mounts_setup_rootfs(const struct oci_config *cfg, int *ret_rootfd, struct error **err)
{
    /* Nothing we mount may propagate back to the host; its unmounts still reach us. */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return error_set(err, errno, "make '/' a slave mount");

    int r;
    int have_root = 0;
    _cleanup_close_ int rootfd = -1;
    for (size_t i = 0; i < cfg->n_rootfs_mounts; i++) {
        const struct oci_mount *m = &cfg->rootfs_mounts[i];
        if (strcmp(m->destination, "/") != 0)
            continue;
        if (m->detached_fd >= 0 && cfg->rootfs_fd >= 0) {
            /* By descriptor: the bundle's path is not ours to walk in a user namespace. */
            char top[FD_PATH_MAX];
            if (move_mount(m->detached_fd, "", cfg->rootfs_fd, "",
                           MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return error_set(err, errno, "rootfs mount '/': attach the idmapped mount");
            fd_path(top, m->detached_fd);
            if ((r = mount_after(m, top, err)) < 0)
                return error_prefix(err, "rootfs mount '/'");
            if (rootfd >= 0)
                close(rootfd);
            rootfd = openat(m->detached_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (rootfd < 0)
                return error_set(err, errno, "open the rootfs mount");
        } else if ((r = mount_at(m, cfg->rootfs, err)) < 0 ||
                   (r = mount_after(m, cfg->rootfs, err)) < 0) {
            return error_prefix(err, "rootfs mount '/'");
        }
        have_root = 1;
    }
    /* pivot_root needs the new root to be a mount point. */
    if (!have_root && cfg->rootfs_fd >= 0) {
        _cleanup_close_ int tree =
            (int)syscall(SYS_open_tree, cfg->rootfs_fd, "",
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0 || move_mount(tree, "", cfg->rootfs_fd, "",
                                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            return error_set(err, errno, "bind rootfs '%s'", cfg->rootfs);
        rootfd = openat(tree, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else if (!have_root && mount(cfg->rootfs, cfg->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
        return error_set(err, errno, "bind rootfs '%s'", cfg->rootfs);
    }
    if (rootfd < 0 && cfg->rootfs_fd < 0)
        rootfd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return error_set(err, errno, "open rootfs '%s'", cfg->rootfs);
    for (size_t i = 0; i < cfg->n_rootfs_mounts; i++) {
        const struct oci_mount *m = &cfg->rootfs_mounts[i];
        if (strcmp(m->destination, "/") == 0)
            continue;
        if ((r = mount_in_root(rootfd, m, err)) < 0)
            return error_prefix(err, "rootfs mount '%s'", m->destination);
    }
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        const struct oci_mount *m = &cfg->mounts[i];
        if (strcmp(m->destination, "/") == 0)
            return error_set(err, EINVAL, "mount onto '/': use root.path");
        if ((r = mount_in_root(rootfd, m, err)) < 0)
            return error_prefix(err, "mount '%s'", m->destination);
    }
    *ret_rootfd = TAKE_FD(rootfd);
    return 0;
}

int mounts_pivot_root(int rootfd, struct error **err)
{
    /*
     * pivot_root(".", ".") stacks the old root under the new one at "/";
     * detaching it leaves no path to the host's tree and needs no directory
     * in the image to park it in (crun and runc do the same).
     */
    if (fchdir(rootfd) < 0)
        return error_set(err, errno, "chdir to the rootfs");
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return error_set(err, errno, "pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
        return error_set(err, errno, "detach the old root");
    if (chdir("/") < 0)
        return error_set(err, errno, "chdir '/'");
    return 0;
}

static int remount_readonly(const char *path, unsigned long extra, struct error **err)
{
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra | statvfs_flags(path),
              NULL) < 0)
        return error_set(err, errno, "remount '%s' read-only", path);
    return 0;
}

static int mask_path(const char *path, struct error **err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return error_set(err, errno, "mask '%s'", path);
    }
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            return error_set(err, errno, "mask '%s'", path);
        return 0;
    }
    if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
        return error_set(err, errno, "mask '%s'", path);
    /* Read-only as podman's, keeping the nosuid/noexec of /dev. */
    return remount_readonly(path, 0, err);
}

static int readonly_path(const char *path, struct error **err)
{
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == ENOENT)
            return 0;
        return error_set(err, errno, "bind '%s'", path);
    }
    return remount_readonly(path, 0, err);
}

/*
 * After pivot_root the old root is gone, so no path can lead out of the
 * container and plain paths are safe.
 */
int mounts_finish(const struct oci_config *cfg, struct error **err)
{
    int r;
    if (cfg->root_readonly && (r = remount_readonly("/", 0, err)) < 0)
        return r;
    for (char **p = cfg->masked_paths; p && *p; p++)
        if ((r = mask_path(*p, err)) < 0)
            return r;
    for (char **p = cfg->readonly_paths; p && *p; p++)
        if ((r = readonly_path(*p, err)) < 0)
            return r;
    return 0;
}

/* One entry of the storage or volume plugins as the runtime's mount. */
static int oci_mount_from_entry(const struct mount_entry *e, struct oci_mount *m,
                                struct error **err)
{
    *m = (struct oci_mount){.detached_fd = -1};
    m->type = (char *)(e->type ? e->type : "bind");
    m->source = e->source;
    m->destination = e->target;
    _cleanup_free_ char *copy = e->options ? strdup(e->options) : NULL;
    const char *optv[64];
    size_t n = 0;
    char *save = NULL;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && n < ARRAY_SIZE(optv);
         tok = strtok_r(NULL, ",", &save))
        optv[n++] = tok;
    int r = mount_options_parse(m, optv, n, err);
    m->copy_up = 0; /* a copy never fills a volume from the image */
    return r;
}

int mounts_setup_copy_view(const struct mount_entry *root, const struct mount_entry *extra,
                           size_t n_extra, const char *dir, int *ret_rootfd, struct error **err)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return error_set(err, errno, "make '/' a private mount");
    struct oci_mount m;
    int r = oci_mount_from_entry(root, &m, err);
    if (r == 0 && (r = mount_at(&m, dir, err)) == 0)
        r = mount_after(&m, dir, err);
    free(m.data);
    if (r < 0)
        return error_prefix(err, "the root filesystem");
    _cleanup_close_ int rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return error_set(err, errno, "open '%s'", dir);
    for (size_t i = 0; i < n_extra; i++) {
        if (extra[i].type && !strcmp(extra[i].type, "tmpfs"))
            continue; /* exists only while the container runs */
        if ((r = oci_mount_from_entry(&extra[i], &m, err)) == 0)
            r = mount_in_root(rootfd, &m, err);
        free(m.data);
        if (r < 0)
            return error_prefix(err, "mount '%s'", extra[i].target);
    }
    *ret_rootfd = TAKE_FD(rootfd);
    return 0;
}
