/*
 * Safe layer extraction. libarchive only parses the stream; every file
 * system object is made here with *at() calls relative to a directory
 * descriptor that was opened without following any symlink below the
 * destination, so a hostile layer cannot write outside it whatever the
 * order of its entries. Parents are resolved with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) (one syscall, enforced by the kernel) and cached, as
 * tars list the entries of one directory together; on kernels without
 * openat2, or to name the offending component, a component-by-component
 * O_NOFOLLOW walk does the same.
 */
#include "image/layer-unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/archive-lazy.h"
#include "image/layer-stream.h"
#include "util/cleanup.h"
#include "util/openat2.h"
#include "util/strset.h"
#include "util/sha256.h"

#define WH_PREFIX ".wh."
#define WH_PREFIX_LEN 4
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"
/* libarchive's read granularity: large enough that an uncompressed layer is
 * read with few syscalls, small enough to stay in cache. */
#define READ_BLOCK (128 * 1024)

static void archive_freep(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_freep)

/* ---- entry names ---- */

/*
 * Normalizes NAME into OUT (at least strlen(NAME)+1 bytes): drops empty and
 * "." components and a trailing '/'. Returns 0, or -EINVAL for an absolute
 * path, a ".." component or an empty name. OUT may be "" for the root.
 */
static int normalize_name(const char *name, char *out)
{
    if (!name || !*name || name[0] == '/')
        return -EINVAL;
    size_t o = 0;
    const char *p = name;
    while (*p) {
        const char *end = strchrnul(p, '/');
        size_t len = (size_t)(end - p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return -EINVAL;
        if (len > 0 && !(len == 1 && p[0] == '.')) {
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, p, len);
            o += len;
        }
        p = *end ? end + 1 : end;
    }
    out[o] = '\0';
    return 0;
}

char *layer_entry_name(const char *name)
{
    char *out = name ? malloc(strlen(name) + 1) : NULL;
    if (out && normalize_name(name, out) < 0) {
        free(out);
        out = NULL;
    }
    return out;
}

int layer_check_entry_name(const char *name)
{
    if (!name)
        return -EINVAL;
    _cleanup_free_ char *buf = malloc(strlen(name) + 1);
    if (!buf)
        return -ENOMEM;
    return normalize_name(name, buf);
}

char *layer_copy_rename(const char *path, const char *top, const char *as)
{
    const char *rest = path;
    if (strcmp(top, ".") != 0) {
        size_t n = strlen(top);
        if (strncmp(path, top, n) != 0 || (path[n] != '\0' && path[n] != '/'))
            return NULL;
        rest = path[n] ? path + n + 1 : "";
    }
    if (!strcmp(as, "."))
        return strdup(rest);
    char *s = NULL;
    if (asprintf(&s, "%s%s%s", as, *rest ? "/" : "", rest) < 0)
        return NULL;
    return s;
}

/* Length of the parent part of normalized PATH ("a/b/c" → 3, "c" → 0). */
static size_t parent_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) : 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- the unpacker ---- */

struct dir_meta {
    char *path;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    struct timespec times[2];
};

struct unpacker {
    const char *entry; /* the raw name of the entry being handled, for errors */
    unsigned whiteout_mode;
    int root_fd;
    uid_t euid;
    gid_t egid;
    mode_t umask;
    gid_t root_gid;   /* what a file created at the top gets as group */
    gid_t parent_gid; /* the same for the parent of the current entry */
    bool have_openat2;

    /* The last resolved parent directory: entries come grouped by directory. */
    char *cache_path;
    int cache_fd;
    gid_t cache_gid; /* what a file created in it gets as group */

    /* APPLY mode: every path this layer has put (and its ancestors), so that
     * an opaque marker removes only what lower layers left. */
    struct strset touched;

    struct dir_meta *dirs;
    size_t n_dirs, cap_dirs;

    /* berth cp (layer_unpack_copy): the first path component TOP becomes AS
     * ("." for either: the copied directory itself), every owner becomes
     * OWNER_UID:OWNER_GID when FORCE_OWNER, and an existing directory is
     * never replaced by a non-directory nor the reverse. */
    bool copy;
    char *top, *as;
    bool force_owner;
    uid_t owner_uid;
    gid_t owner_gid;
};

static void cache_drop(struct unpacker *u)
{
    if (u->cache_fd >= 0 && u->cache_fd != u->root_fd)
        close(u->cache_fd);
    u->cache_fd = -1;
    free(u->cache_path);
    u->cache_path = NULL;
}

static void unpacker_done(struct unpacker *u)
{
    cache_drop(u);
    if (u->root_fd >= 0)
        close(u->root_fd);
    strset_done(&u->touched);
    for (size_t i = 0; i < u->n_dirs; i++)
        free(u->dirs[i].path);
    free(u->dirs);
    free(u->top);
    free(u->as);
}

static int entry_error(struct unpacker *u, struct error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int entry_error(struct unpacker *u, struct error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(err, errnum, fmt, ap);
    va_end(ap);
    return error_prefix(err, "layer entry '%s'", u->entry);
}

/*
 * Opens directory PATH (normalized, relative) below the root, following no
 * symlink, creating missing components with mode 0755 when CREATE. The
 * walk names the component at fault in the error.
 */
static int walk_dir(struct unpacker *u, const char *path, bool create, struct error **err)
{
    _cleanup_close_ int cur = dup(u->root_fd);
    if (cur < 0)
        return entry_error(u, err, errno, "dup");
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return entry_error(u, err, ENOMEM, "resolve");
    char *p = copy;
    while (*p) {
        char *slash = strchrnul(p, '/');
        bool last = *slash == '\0';
        *slash = '\0';
        int fd;
        for (int attempt = 0;; attempt++) {
            fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0 || errno != ENOENT || !create || attempt > 0)
                break;
            if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST)
                return entry_error(u, err, errno, "mkdir '%s'", copy);
        }
        if (fd < 0) {
            int e = errno;
            struct stat st;
            if ((e == ELOOP || e == ENOTDIR) && fstatat(cur, p, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISLNK(st.st_mode))
                    return entry_error(u, err, 0, "path goes through symlink '%s'", copy);
                return entry_error(u, err, 0, "'%s' is not a directory", copy);
            }
            return entry_error(u, err, e, "open '%s'", copy);
        }
        closep(&cur);
        cur = fd;
        if (!last)
            *slash = '/';
        p = last ? slash : slash + 1;
    }
    return TAKE_FD(cur);
}

static int open_beneath(struct unpacker *u, const char *path, bool create, struct error **err)
{
    if (u->have_openat2) {
        int fd = openat2_resolve(u->root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (fd >= 0)
            return fd;
        if (errno == ENOSYS || errno == EPERM) /* EPERM: seccomp filters that predate it */
            u->have_openat2 = false;
    }
    return walk_dir(u, path, create, err);
}

/* Marks PATH[0..LEN) and all its ancestors as put by this layer. */
static int touch_path(struct unpacker *u, const char *path, size_t len)
{
    while (len > 0) {
        if (strset_has(&u->touched, path, len))
            return 0;
        if (strset_add(&u->touched, path, len) < 0)
            return -ENOMEM;
        const char *slash = memrchr(path, '/', len);
        len = slash ? (size_t)(slash - path) : 0;
    }
    return 0;
}

/* Returns a borrowed descriptor of the parent directory of normalized PATH. */
static int parent_fd(struct unpacker *u, const char *path, struct error **err)
{
    size_t plen = parent_len(path);
    if (plen == 0) {
        u->parent_gid = u->root_gid;
        return u->root_fd;
    }
    if (u->cache_path && strlen(u->cache_path) == plen && !memcmp(u->cache_path, path, plen)) {
        u->parent_gid = u->cache_gid;
        return u->cache_fd;
    }
    cache_drop(u);
    _cleanup_free_ char *dir = strndup(path, plen);
    if (!dir)
        return entry_error(u, err, ENOMEM, "resolve");
    int fd = open_beneath(u, dir, true, err);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return entry_error(u, err, e, "stat '%s'", dir);
    }
    /* A setgid directory gives its group to what is created in it. */
    u->cache_gid = (st.st_mode & S_ISGID) ? st.st_gid : u->egid;
    if (u->whiteout_mode == LAYER_WHITEOUT_APPLY && touch_path(u, dir, plen) < 0) {
        close(fd);
        return entry_error(u, err, ENOMEM, "resolve");
    }
    u->cache_path = TAKE_PTR(dir);
    u->cache_fd = fd;
    u->parent_gid = u->cache_gid;
    return fd;
}

/* Removes NAME in DIRFD and everything below it, never following symlinks. */
static int remove_at(int dfd, const char *name)
{
    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -errno;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int r = remove_at(dirfd(d), de->d_name);
        if (r < 0)
            return r;
    }
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

/* Clears the way for a new non-directory NAME in DIRFD. */
static int replace_existing(struct unpacker *u, int dfd, const char *name, struct error **err)
{
    struct stat st;
    if (u->copy && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        return entry_error(u, err, EISDIR, "cannot overwrite directory '%s' with a non-directory",
                           name);
    int r = remove_at(dfd, name);
    if (r < 0)
        return entry_error(u, err, -r, "replace existing");
    /* A removed directory may be the cached parent or its ancestor. */
    if (dfd != u->cache_fd)
        cache_drop(u);
    return 0;
}

/* Clears the way unless the directory descriptor in use is the cached one. */
static void invalidate_cache_unless(struct unpacker *u, int dfd)
{
    if (dfd != u->cache_fd)
        cache_drop(u);
}

/*
 * Attributes of objects that have no descriptor of their own (symlinks,
 * device nodes, directories) go through /proc/self/fd/DIRFD/NAME: the
 * parent is pinned by its descriptor and the last component is not
 * followed by the l*xattr calls.
 */
static int set_xattrs(struct unpacker *u, struct archive_entry *ae, int fd, int dfd,
                      const char *name, bool is_link, struct error **err)
{
    if (archive_entry_xattr_reset(ae) == 0)
        return 0;
    char proc_path[PATH_MAX];
    if (fd < 0 && snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d/%s", dfd, name) >=
                      (int)sizeof(proc_path))
        return entry_error(u, err, ENAMETOOLONG, "set xattrs");
    const char *xname;
    const void *value;
    size_t size;
    while (archive_entry_xattr_next(ae, &xname, &value, &size) == ARCHIVE_OK) {
        /* The overlay's own attributes are the store's to set: a layer that
         * brought redirects or opaque markers could reshape the merge. */
        if (!strncmp(xname, "trusted.overlay.", 16))
            continue;
        int r = fd >= 0 ? fsetxattr(fd, xname, value, size, 0)
                        : lsetxattr(proc_path, xname, value, size, 0);
        if (r < 0) {
            /* The kernel refuses user.* on symlinks; tar does not fail either. */
            if (is_link && (errno == EPERM || errno == ENOTSUP))
                continue;
            return entry_error(u, err, errno, "set xattr '%s'", xname);
        }
    }
    return 0;
}

static int set_owner(struct unpacker *u, struct archive_entry *ae, int fd, int dfd,
                     const char *name, struct error **err)
{
    uid_t uid = u->force_owner ? u->owner_uid : (uid_t)archive_entry_uid(ae);
    gid_t gid = u->force_owner ? u->owner_gid : (gid_t)archive_entry_gid(ae);
    /* A new object already has our uid and the parent's group: save the call. */
    if (uid == u->euid && gid == u->parent_gid)
        return 0;
    int r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
    if (r < 0) {
        /* Unprivileged callers keep their own ids, as tar does for them. */
        if ((errno == EPERM || errno == EINVAL) && u->euid != 0)
            return 0;
        return entry_error(u, err, errno, "chown to %u:%u", (unsigned)uid, (unsigned)gid);
    }
    return 0;
}

static void entry_times(struct archive_entry *ae, struct timespec times[2])
{
    times[1].tv_sec = archive_entry_mtime(ae);
    times[1].tv_nsec = archive_entry_mtime_nsec(ae);
    if (archive_entry_atime_is_set(ae)) {
        times[0].tv_sec = archive_entry_atime(ae);
        times[0].tv_nsec = archive_entry_atime_nsec(ae);
    } else {
        times[0] = times[1];
    }
}

/* Whether mode bits must be set explicitly after creation and chown. */
static bool needs_chmod(const struct unpacker *u, mode_t mode)
{
    return (mode & 07000) || (mode & 0777 & u->umask);
}

static int write_data(struct unpacker *u, struct archive *a, struct archive_entry *ae, int fd,
                      struct error **err)
{
    int64_t end = 0;
    for (;;) {
        const void *buf;
        size_t size;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &size, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return entry_error(u, err, 0, "read: %s", archive_error_string(a));
        /* pwrite: sparse entries come with holes between blocks. */
        const char *p = buf;
        while (size > 0) {
            ssize_t n = pwrite(fd, p, size, (off_t)off);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return entry_error(u, err, errno, "write");
            }
            p += n;
            off += n;
            size -= (size_t)n;
        }
        if (off > end)
            end = off;
    }
    if (archive_entry_size_is_set(ae) && archive_entry_size(ae) > end &&
        ftruncate(fd, (off_t)archive_entry_size(ae)) < 0)
        return entry_error(u, err, errno, "truncate");
    return 0;
}

static int make_file(struct unpacker *u, struct archive *a, struct archive_entry *ae, int dfd,
                     const char *name, struct error **err)
{
    mode_t mode = archive_entry_perm(ae) & 07777;
    _cleanup_close_ int fd = -1;
    for (int attempt = 0;; attempt++) {
        fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
        if (fd >= 0)
            break;
        if (errno != EEXIST || attempt > 0)
            return entry_error(u, err, errno, "create");
        int r = replace_existing(u, dfd, name, err);
        if (r < 0)
            return r;
    }
    int r = write_data(u, a, ae, fd, err);
    if (r < 0)
        return r;
    /* chown clears set-id bits and security.capability: mode and xattrs after it. */
    r = set_owner(u, ae, fd, dfd, name, err);
    if (r < 0)
        return r;
    if (needs_chmod(u, mode) && fchmod(fd, mode) < 0)
        return entry_error(u, err, errno, "chmod");
    r = set_xattrs(u, ae, fd, dfd, name, false, err);
    if (r < 0)
        return r;
    struct timespec times[2];
    entry_times(ae, times);
    if (futimens(fd, times) < 0)
        return entry_error(u, err, errno, "set times");
    if (close(TAKE_FD(fd)) < 0)
        return entry_error(u, err, errno, "close");
    return 0;
}

static int record_dir(struct unpacker *u, const char *path, struct archive_entry *ae)
{
    if (u->n_dirs == u->cap_dirs) {
        size_t ncap = u->cap_dirs ? u->cap_dirs * 2 : 64;
        struct dir_meta *n = realloc(u->dirs, ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        u->dirs = n;
        u->cap_dirs = ncap;
    }
    struct dir_meta *d = &u->dirs[u->n_dirs];
    d->path = strdup(path);
    if (!d->path)
        return -ENOMEM;
    d->mode = archive_entry_perm(ae) & 07777;
    d->uid = u->force_owner ? u->owner_uid : (uid_t)archive_entry_uid(ae);
    d->gid = u->force_owner ? u->owner_gid : (gid_t)archive_entry_gid(ae);
    entry_times(ae, d->times);
    u->n_dirs++;
    return 0;
}

static int make_dir(struct unpacker *u, struct archive_entry *ae, const char *path, int dfd,
                    const char *name, struct error **err)
{
    /* 0700 until the end: owner, mode and times of directories are set once
     * all their children exist, as each child creation bumps the mtime. */
    if (mkdirat(dfd, name, 0700) < 0) {
        if (errno != EEXIST)
            return entry_error(u, err, errno, "mkdir");
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return entry_error(u, err, errno, "stat");
        if (!S_ISDIR(st.st_mode)) {
            if (u->copy)
                return entry_error(u, err, ENOTDIR,
                                   "cannot overwrite non-directory '%s' with a directory", name);
            int r = replace_existing(u, dfd, name, err);
            if (r < 0)
                return r;
            if (mkdirat(dfd, name, 0700) < 0)
                return entry_error(u, err, errno, "mkdir");
        }
    }
    int r = set_xattrs(u, ae, -1, dfd, name, false, err);
    if (r < 0)
        return r;
    if (record_dir(u, path, ae) < 0)
        return entry_error(u, err, ENOMEM, "mkdir");
    return 0;
}

static int finish_node(struct unpacker *u, struct archive_entry *ae, int dfd, const char *name,
                       bool is_link, struct error **err)
{
    int r = set_owner(u, ae, -1, dfd, name, err);
    if (r < 0)
        return r;
    mode_t mode = archive_entry_perm(ae) & 07777;
    /* fchmodat follows symlinks, but the node was made by us a moment ago. */
    if (!is_link && needs_chmod(u, mode) && fchmodat(dfd, name, mode, 0) < 0)
        return entry_error(u, err, errno, "chmod");
    r = set_xattrs(u, ae, -1, dfd, name, is_link, err);
    if (r < 0)
        return r;
    struct timespec times[2];
    entry_times(ae, times);
    if (utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_error(u, err, errno, "set times");
    return 0;
}

static int make_symlink(struct unpacker *u, struct archive_entry *ae, int dfd, const char *name,
                        struct error **err)
{
    /* The target is not checked: it is only ever resolved inside the
     * container, and nothing here follows a symlink. */
    const char *target = archive_entry_symlink(ae);
    if (!target)
        return entry_error(u, err, 0, "symlink without a target");
    for (int attempt = 0;; attempt++) {
        if (symlinkat(target, dfd, name) == 0)
            break;
        if (errno != EEXIST || attempt > 0)
            return entry_error(u, err, errno, "symlink");
        int r = replace_existing(u, dfd, name, err);
        if (r < 0)
            return r;
    }
    return finish_node(u, ae, dfd, name, true, err);
}

static int make_node(struct unpacker *u, struct archive_entry *ae, int dfd, const char *name,
                     struct error **err)
{
    mode_t mode = archive_entry_filetype(ae) | (archive_entry_perm(ae) & 0777);
    for (int attempt = 0;; attempt++) {
        if (mknodat(dfd, name, mode, archive_entry_rdev(ae)) == 0)
            break;
        if (errno != EEXIST || attempt > 0)
            return entry_error(u, err, errno, "mknod");
        int r = replace_existing(u, dfd, name, err);
        if (r < 0)
            return r;
    }
    return finish_node(u, ae, dfd, name, false, err);
}

static int make_hardlink(struct unpacker *u, const char *path, const char *raw_target, int dfd,
                         const char *name, struct error **err)
{
    _cleanup_free_ char *target = malloc(strlen(raw_target) + 1);
    if (!target)
        return entry_error(u, err, ENOMEM, "hardlink");
    if (normalize_name(raw_target, target) < 0 || !*target)
        return entry_error(u, err, 0, "hardlink target '%s' leaves the layer", raw_target);
    if (u->top) {
        char *renamed = layer_copy_rename(target, u->top, u->as);
        if (!renamed || !*renamed) {
            free(renamed);
            return entry_error(u, err, 0, "hardlink target '%s' is not in the copy", raw_target);
        }
        free(target);
        target = renamed;
    }
    if (!strcmp(target, path))
        return 0;
    size_t tplen = parent_len(target);
    _cleanup_close_ int own_fd = -1;
    int tfd;
    if (tplen == 0)
        tfd = u->root_fd;
    else if (tplen == parent_len(path) && !memcmp(target, path, tplen))
        tfd = dfd;
    else {
        target[tplen] = '\0';
        own_fd = open_beneath(u, target, false, err);
        target[tplen] = '/';
        if (own_fd < 0)
            return error_prefix(err, "hardlink target '%s'", raw_target);
        tfd = own_fd;
    }
    /* Without AT_SYMLINK_FOLLOW a symlink target is linked itself, not followed. */
    for (int attempt = 0;; attempt++) {
        if (linkat(tfd, base_name(target), dfd, name, 0) == 0)
            break;
        if (errno != EEXIST || attempt > 0)
            return entry_error(u, err, errno, "hardlink to '%s'", raw_target);
        /* TFD stays valid: it is the root, DFD (never dropped here) or our own. */
        int r = replace_existing(u, dfd, name, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Builds "DIR/NAME" (or "NAME" at the top) from the first DIRLEN bytes of PATH. */
static char *join_key(const char *path, size_t dirlen, const char *name)
{
    if (dirlen == 0)
        return strdup(name);
    char *s = NULL;
    if (asprintf(&s, "%.*s/%s", (int)dirlen, path, name) < 0)
        return NULL;
    return s;
}

/*
 * APPLY mode opaque directory: removes everything below DIRFD that lower
 * layers left, keeping what this layer has already put there (OCI: an
 * opaque whiteout hides the lower siblings only).
 */
static int empty_lower(struct unpacker *u, int dfd, const char *dirpath, struct error **err)
{
    /* A fresh open file description: the cached descriptor's offset stays. */
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return entry_error(u, err, errno, "open '%s'", dirpath);
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return entry_error(u, err, e, "open '%s'", dirpath);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        _cleanup_free_ char *key = join_key(dirpath, strlen(dirpath), de->d_name);
        if (!key)
            return entry_error(u, err, ENOMEM, "opaque");
        if (!strset_has(&u->touched, key, strlen(key))) {
            int r = remove_at(dirfd(d), de->d_name);
            if (r < 0)
                return entry_error(u, err, -r, "remove '%s'", key);
            continue;
        }
        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            if (errno == ENOTDIR || errno == ELOOP)
                continue; /* a file of this layer */
            return entry_error(u, err, errno, "open '%s'", key);
        }
        int r = empty_lower(u, sub, key, err);
        close(sub);
        if (r < 0)
            return r;
    }
    return 0;
}

static int do_whiteout(struct unpacker *u, struct archive_entry *ae, const char *path,
                       const char *base, struct error **err)
{
    int dfd = parent_fd(u, path, err);
    if (dfd < 0)
        return dfd;
    size_t plen = parent_len(path);

    if (!strcmp(base, WH_OPAQUE)) {
        if (u->whiteout_mode == LAYER_WHITEOUT_CHARDEV) {
            if (fsetxattr(dfd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
                return entry_error(u, err, errno, "set opaque marker");
            return 0;
        }
        _cleanup_free_ char *dir = strndup(path, plen);
        if (!dir)
            return entry_error(u, err, ENOMEM, "opaque");
        int r = empty_lower(u, dfd, dir, err);
        invalidate_cache_unless(u, dfd);
        return r;
    }
    if (!strncmp(base, WH_META_PREFIX, strlen(WH_META_PREFIX)))
        return 0; /* other aufs metadata (.wh..wh.plnk…): not part of the tree */

    const char *name = base + WH_PREFIX_LEN;
    if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
        return entry_error(u, err, 0, "invalid whiteout");

    if (u->whiteout_mode == LAYER_WHITEOUT_CHARDEV) {
        for (int attempt = 0;; attempt++) {
            if (mknodat(dfd, name, S_IFCHR, makedev(0, 0)) == 0)
                break;
            if (errno != EEXIST || attempt > 0)
                return entry_error(u, err, errno, "make whiteout '%s'", name);
            int r = replace_existing(u, dfd, name, err);
            if (r < 0)
                return r;
        }
        return set_owner(u, ae, -1, dfd, name, err);
    }

    _cleanup_free_ char *key = join_key(path, plen, name);
    if (!key)
        return entry_error(u, err, ENOMEM, "whiteout");
    /* A whiteout hides lower content only; this layer's own entry stays. */
    if (strset_has(&u->touched, key, strlen(key)))
        return 0;
    int r = remove_at(dfd, name);
    if (r < 0)
        return entry_error(u, err, -r, "remove '%s'", key);
    invalidate_cache_unless(u, dfd);
    return 0;
}

/* AE's name, normalized (malloc'd), or NULL with the error set; U->entry is
 * the raw one. */
static char *entry_path(struct unpacker *u, struct archive_entry *ae, struct error **err)
{
    const char *raw = archive_entry_pathname(ae);
    u->entry = raw ? raw : "";
    char *path = malloc(strlen(u->entry) + 1);
    if (!path) {
        entry_error(u, err, ENOMEM, "extract");
        return NULL;
    }
    if (normalize_name(u->entry, path) < 0) {
        free(path);
        entry_error(u, err, 0, "path leaves the layer");
        return NULL;
    }
    return path;
}

static int extract_entry(struct unpacker *u, struct archive *a, struct archive_entry *ae,
                         struct error **err)
{
    _cleanup_free_ char *path = entry_path(u, ae, err);
    if (!path)
        return error_code(*err);
    if (u->top) {
        char *renamed = layer_copy_rename(path, u->top, u->as);
        if (!renamed)
            return entry_error(u, err, 0, "not below '%s', the copy's top", u->top);
        free(path);
        path = renamed;
    }
    if (!*path)
        return 0; /* "./": the layer root is the caller's directory, as containerd does */

    const char *base = base_name(path);
    if (u->whiteout_mode != 0 && !strncmp(base, WH_PREFIX, WH_PREFIX_LEN))
        return do_whiteout(u, ae, path, base, err);

    int dfd = parent_fd(u, path, err);
    if (dfd < 0)
        return dfd;
    if (u->whiteout_mode == LAYER_WHITEOUT_APPLY && touch_path(u, path, strlen(path)) < 0)
        return entry_error(u, err, ENOMEM, "extract");

    const char *hardlink = archive_entry_hardlink(ae);
    if (hardlink)
        return make_hardlink(u, path, hardlink, dfd, base, err);

    switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
        return make_file(u, a, ae, dfd, base, err);
    case AE_IFDIR:
        return make_dir(u, ae, path, dfd, base, err);
    case AE_IFLNK:
        return make_symlink(u, ae, dfd, base, err);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        return make_node(u, ae, dfd, base, err);
    case AE_IFSOCK:
        return 0; /* sockets are not content, as tar skips them */
    default:
        return entry_error(u, err, 0, "unsupported entry type 0%o",
                           (unsigned)archive_entry_filetype(ae));
    }
}

static int finish_dirs(struct unpacker *u, struct error **err)
{
    for (size_t i = 0; i < u->n_dirs; i++) {
        struct dir_meta *d = &u->dirs[i];
        u->entry = d->path;
        struct error *local = NULL;
        _cleanup_close_ int fd = open_beneath(u, d->path, false, &local);
        if (fd < 0) {
            int e = local ? local->errnum : 0;
            /* Whited out or replaced by a later entry: nothing to finish. */
            if (e == 0 || e == ENOENT || e == ENOTDIR || e == ELOOP) {
                error_free(&local);
                continue;
            }
            *err = local;
            return -e;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
            return entry_error(u, err, errno, "stat");
        if ((st.st_uid != d->uid || st.st_gid != d->gid) && fchown(fd, d->uid, d->gid) < 0 &&
            !((errno == EPERM || errno == EINVAL) && u->euid != 0))
            return entry_error(u, err, errno, "chown to %u:%u", (unsigned)d->uid, (unsigned)d->gid);
        if ((st.st_mode & 07777) != d->mode && fchmod(fd, d->mode) < 0)
            return entry_error(u, err, errno, "chmod");
        if (futimens(fd, d->times) < 0)
            return entry_error(u, err, errno, "set times");
    }
    return 0;
}

/* Only the compressions OCI layers use, all built into libarchive:
 * support_filter_all would run external programs (lrzip, lzop…) for others. */
static int add_filters(struct archive *a)
{
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
        archive_read_support_filter_xz(a) != ARCHIVE_OK)
        return -ENOTSUP;
    return 0;
}

/*
 * Every entry of A, opened with OPENED (archive_read_open_*'s result), into
 * U's root; with T (berth cp), the first entry chooses the root. WHAT names
 * the archive in errors.
 */
static int extract_all(struct unpacker *u, struct archive *a, int opened, const char *what,
                       const struct layer_copy_target *t, struct error **err);

int layer_unpack(const char *tar_path, const char *dest_dir, unsigned whiteout_mode,
                 struct error **err)
{
    /* Mode 0 (internal): whiteout names are ordinary files, for OCI archives. */
    if (whiteout_mode > LAYER_WHITEOUT_APPLY)
        return error_set(err, EINVAL, "unpack '%s': whiteout mode %u", tar_path, whiteout_mode);
    if (archive_lazy_load(err) < 0)
        return error_code(*err);

    struct unpacker u = {.whiteout_mode = whiteout_mode,
                         .root_fd = -1,
                         .cache_fd = -1,
                         .have_openat2 = true,
                         .euid = geteuid(),
                         .egid = getegid()};
    int r;
    _cleanup_archive_ struct archive *a = NULL;
    struct layer_stream *stream = NULL;
    char what[PATH_MAX + 2];
    snprintf(what, sizeof(what), "'%s'", tar_path);
    u.root_fd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (u.root_fd < 0) {
        r = error_set(err, errno, "open '%s'", dest_dir);
        goto out;
    }
    struct stat st;
    if (fstat(u.root_fd, &st) < 0) {
        r = error_set(err, errno, "stat '%s'", dest_dir);
        goto out;
    }
    u.root_gid = (st.st_mode & S_ISGID) ? st.st_gid : u.egid;
    u.umask = umask(0);
    umask(u.umask);

    a = archive_read_new();
    if (!a || add_filters(a) < 0 || archive_read_support_format_tar(a) != ARCHIVE_OK) {
        r = error_set(err, ENOMEM, "read '%s'", tar_path);
        goto out;
    }
    /* Decompressed on another core when a decoder loads; else libarchive
     * decompresses the file itself (its filters stay on for the stream:
     * xz, and a layer compressed twice, are as before). */
    int stream_fd = -1;
    struct error *serr = NULL;
    int sr = layer_stream_open(tar_path, &stream, &stream_fd, &serr);
    if (sr == -ENOENT) {
        error_free(&serr);
    } else if (sr < 0) {
        *err = serr;
        r = sr;
        goto out;
    }
    r = extract_all(&u, a,
                    stream ? archive_read_open_fd(a, stream_fd, READ_BLOCK)
                           : archive_read_open_filename(a, tar_path, READ_BLOCK),
                    what, NULL, err);
out:
    if (stream) {
        /* The decoder's failure is the cause of the reader's (a stream cut
         * short), and fails an unpack that read the tar to its end marker. */
        sr = layer_stream_close(stream, r < 0, &serr);
        if (sr < 0) {
            error_free(err);
            *err = serr;
            error_prefix(err, "read '%s'", tar_path);
            r = sr;
        }
    }
    unpacker_done(&u);
    return r;
}

/* ---- verification ---- */

struct verify_stream {
    struct archive *raw; /* the decompressed bytes */
    struct sha256_ctx *hash;
    char buf[READ_BLOCK];
    const char *failure; /* set when the raw stream failed */
};

static la_ssize_t verify_read(struct archive *a, void *opaque, const void **ret_buf)
{
    struct verify_stream *v = opaque;
    la_ssize_t n = archive_read_data(v->raw, v->buf, sizeof(v->buf));
    if (n < 0) {
        v->failure = archive_error_string(v->raw);
        archive_set_error(a, EIO, "%s", v->failure ? v->failure : "read error");
        return -1;
    }
    sha256_update(v->hash, v->buf, (size_t)n);
    *ret_buf = v->buf;
    return n;
}

/* Fails if a proper prefix of normalized PATH is a symlink the layer made. */
static int check_no_symlink_prefix(const struct strset *links, const char *path, const char *what,
                                   const char *entry, struct error **err)
{
    if (links->cap == 0)
        return 0;
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/'))
        if (strset_has(links, path, (size_t)(s - path)))
            return error_set(err, 0, "layer entry '%s': %s goes through symlink '%.*s'", entry,
                             what, (int)(s - path), path);
    return 0;
}

static int verify_entry(struct strset *links, struct archive_entry *ae, struct error **err)
{
    const char *raw = archive_entry_pathname(ae);
    if (!raw)
        raw = "";
    _cleanup_free_ char *path = malloc(strlen(raw) + 1);
    if (!path)
        return error_set(err, ENOMEM, "verify");
    if (normalize_name(raw, path) < 0)
        return error_set(err, 0, "layer entry '%s': path leaves the layer", raw);
    if (!*path)
        return 0;
    int r = check_no_symlink_prefix(links, path, "path", raw, err);
    if (r < 0)
        return r;
    const char *base = base_name(path);
    if (!strncmp(base, WH_PREFIX, WH_PREFIX_LEN) &&
        strncmp(base, WH_META_PREFIX, strlen(WH_META_PREFIX))) {
        const char *name = base + WH_PREFIX_LEN;
        if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
            return error_set(err, 0, "layer entry '%s': invalid whiteout", raw);
        return 0;
    }
    bool is_link = archive_entry_filetype(ae) == AE_IFLNK;
    const char *hardlink = archive_entry_hardlink(ae);
    if (hardlink) {
        _cleanup_free_ char *target = malloc(strlen(hardlink) + 1);
        if (!target)
            return error_set(err, ENOMEM, "verify");
        if (normalize_name(hardlink, target) < 0 || !*target)
            return error_set(err, 0, "layer entry '%s': hardlink target '%s' leaves the layer", raw,
                             hardlink);
        r = check_no_symlink_prefix(links, target, "hardlink target", raw, err);
        if (r < 0)
            return r;
        /* A hardlink to a symlink is one more symlink. */
        is_link = strset_has(links, target, strlen(target));
    }
    if (is_link) {
        if (strset_add(links, path, strlen(path)) < 0)
            return error_set(err, ENOMEM, "verify");
    } else {
        strset_del(links, path, strlen(path));
    }
    return 0;
}

int layer_verify(const char *tar_path, char *ret_diff_id, struct error **err)
{
    if (archive_lazy_load(err) < 0)
        return error_code(*err);
    /* One decompression: the raw reader yields the tar stream, which is
     * hashed as the tar reader pulls it through verify_read. */
    _cleanup_free_ struct verify_stream *v = calloc(1, sizeof(*v));
    if (!v)
        return error_set(err, ENOMEM, "verify '%s'", tar_path);
    _cleanup_archive_ struct archive *raw = archive_read_new();
    _cleanup_archive_ struct archive *tar = archive_read_new();
    if (!raw || !tar || add_filters(raw) < 0 ||
        archive_read_support_format_raw(raw) != ARCHIVE_OK ||
        archive_read_support_format_tar(tar) != ARCHIVE_OK)
        return error_set(err, ENOMEM, "verify '%s'", tar_path);
    if (archive_read_open_filename(raw, tar_path, READ_BLOCK) != ARCHIVE_OK)
        return error_set(err, archive_errno(raw) > 0 ? archive_errno(raw) : 0, "read '%s': %s",
                         tar_path, archive_error_string(raw));
    struct archive_entry *ae;
    int ar = archive_read_next_header(raw, &ae);
    if (ar == ARCHIVE_EOF)
        return error_set(err, 0, "read '%s': empty file", tar_path);
    if (ar < ARCHIVE_WARN)
        return error_set(err, 0, "read '%s': %s", tar_path, archive_error_string(raw));

    v->raw = raw;
    v->hash = sha256_new();
    struct strset links = {0};
    int r = 0;
    if (archive_read_open(tar, v, NULL, verify_read, NULL) != ARCHIVE_OK) {
        r = error_set(err, 0, "read '%s': %s", tar_path, archive_error_string(tar));
        goto out;
    }
    for (;;) {
        ar = archive_read_next_header(tar, &ae);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar < ARCHIVE_WARN) {
            r = error_set(err, 0, "read '%s': %s", tar_path, archive_error_string(tar));
            goto out;
        }
        r = verify_entry(&links, ae, err);
        if (r < 0)
            goto out;
    }
    /* The digest covers the whole stream, padding after the end marker too. */
    for (;;) {
        la_ssize_t n = archive_read_data(raw, v->buf, sizeof(v->buf));
        if (n == 0)
            break;
        if (n < 0) {
            r = error_set(err, 0, "read '%s': %s", tar_path, archive_error_string(raw));
            goto out;
        }
        sha256_update(v->hash, v->buf, (size_t)n);
    }
out:
    strset_done(&links);
    char digest[DIGEST_STR_LEN + 1];
    sha256_finish(v->hash, digest);
    if (r == 0)
        memcpy(ret_diff_id, digest, sizeof(digest));
    return r;
}

/* The first entry names the copy's top: its first component, or "." for
 * a tar of a directory's contents ("./", "./a"…). */
static int choose_root(struct unpacker *u, struct archive_entry *ae,
                       const struct layer_copy_target *t, struct error **err)
{
    _cleanup_free_ char *path = entry_path(u, ae, err);
    if (!path)
        return error_code(*err);
    int r;
    char *slash = strchr(path, '/');
    if (slash)
        *slash = '\0';
    int is_dir = slash || !*path || archive_entry_filetype(ae) == AE_IFDIR;
    const char *top = *path ? path : ".";
    int dir_fd = -1;
    const char *as = NULL;
    r = t->choose(t->ctx, top, is_dir, &dir_fd, &as, err);
    if (r < 0)
        return r;
    u->root_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
    if (u->root_fd < 0)
        return error_set(err, errno, "extract");
    if (as && (!(u->top = strdup(top)) || !(u->as = strdup(as))))
        return error_set(err, ENOMEM, "extract");
    struct stat st;
    if (fstat(u->root_fd, &st) < 0)
        return error_set(err, errno, "stat the destination");
    u->root_gid = (st.st_mode & S_ISGID) ? st.st_gid : u->egid;
    return 0;
}

int layer_unpack_copy(int tar_fd, const struct layer_copy_target *t, struct error **err)
{
    if (archive_lazy_load(err) < 0)
        return error_code(*err);
    struct unpacker u = {.root_fd = -1,
                         .cache_fd = -1,
                         .have_openat2 = true,
                         .euid = geteuid(),
                         .egid = getegid(),
                         .copy = true,
                         .force_owner = t->force_owner,
                         .owner_uid = t->uid,
                         .owner_gid = t->gid};
    u.umask = umask(0);
    umask(u.umask);
    int r = 0;
    _cleanup_archive_ struct archive *a = archive_read_new();
    if (!a || add_filters(a) < 0 || archive_read_support_format_tar(a) != ARCHIVE_OK) {
        r = error_set(err, ENOMEM, "read the copy");
        goto out;
    }
    r = extract_all(&u, a, archive_read_open_fd(a, tar_fd, READ_BLOCK), "the copy", t, err);
out:
    unpacker_done(&u);
    return r;
}

static int extract_all(struct unpacker *u, struct archive *a, int opened, const char *what,
                       const struct layer_copy_target *t, struct error **err)
{
    if (opened != ARCHIVE_OK)
        return error_set(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "read %s: %s", what,
                         archive_error_string(a));
    for (;;) {
        struct archive_entry *ae;
        int ar = archive_read_next_header(a, &ae);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar < ARCHIVE_WARN)
            return error_set(err, 0, "read %s: %s", what, archive_error_string(a));
        int r;
        if (t && u->root_fd < 0 && (r = choose_root(u, ae, t, err)) < 0)
            return r;
        if ((r = extract_entry(u, a, ae, err)) < 0)
            return r;
    }
    if (u->root_fd < 0)
        return error_set(err, ENOENT, "nothing to copy: the archive is empty");
    return finish_dirs(u, err);
}
