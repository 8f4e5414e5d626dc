/* SPDX-License-Identifier: MIT */
/*
 * berth_tree_copy (berth/fsutil.h). Storage drivers copy trees where the
 * filesystem cannot share them: the snapshot driver's copy mode (a layer or a
 * container is a full copy of the tree below it), the overlay driver's
 * container snapshots (the upper dir, whiteouts and opaque xattrs). A copy
 * must be the same tree to the container: owners, modes with setuid and
 * setgid, times, xattrs (file capabilities live in security.capability),
 * hardlinks, symlinks, device nodes, fifos and sockets, and the holes of
 * sparse files (or a 10 GiB sparse image in a layer would cost 10 GiB per
 * container).
 *
 * Data moves by FICLONE first where the filesystem shares extents (xfs with
 * reflink, bcachefs…: O(extents), no data written), else by copy_file_range
 * over the data ranges that SEEK_DATA/SEEK_HOLE report, else by read/write.
 *
 * The walk is iterative and holds the current source and destination
 * directories only: it remembers each ancestor's readdir position (telldir)
 * and climbs back through "..", checking each step against the inode it came
 * from, so a deep tree costs memory, not descriptors or stack.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/fs.h>

#include <berth/fsutil.h>

#include "fsutil-internal.h"

#define COPY_BUF_SIZE (128 * 1024)

/* A file with several links, by source identity, and where its first copy
 * went (relative to the destination root). */
struct link_entry {
    dev_t dev;
    ino_t ino;
    char *path;
};

struct link_map {
    struct link_entry *slots;
    size_t cap, n;
};

/* An ancestor of the directory being copied. */
struct frame {
    struct stat src_st; /* taken before its entries were read: the times to restore */
    dev_t dst_dev;
    ino_t dst_ino;
    long pos;        /* readdir position after the child we descended into */
    size_t path_len; /* length of its destination path */
};

struct copier {
    const struct berth_copy_options *opts;
    int dst_root;
    struct link_map links;
    char *path; /* the current destination directory, relative to dst_root */
    size_t path_len, path_cap;
    char *buf;         /* for read/write when copy_file_range cannot */
    int no_copy_range; /* copy_file_range refused once: stop trying */
};

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = ((uint64_t)ino * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)dev * 0xC2B2AE3D27D4EB4Full);
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct link_entry *link_find(struct link_map *m, dev_t dev, ino_t ino)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = link_hash(dev, ino, m->cap);; i = (i + 1) & (m->cap - 1)) {
        struct link_entry *e = &m->slots[i];
        if (!e->path)
            return NULL;
        if (e->dev == dev && e->ino == ino)
            return e;
    }
}

static int link_add(struct link_map *m, dev_t dev, ino_t ino, char *path)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct link_entry *slots = calloc(ncap, sizeof(*slots));
        if (!slots)
            return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            struct link_entry *e = &m->slots[i];
            if (!e->path)
                continue;
            size_t j = link_hash(e->dev, e->ino, ncap);
            while (slots[j].path)
                j = (j + 1) & (ncap - 1);
            slots[j] = *e;
        }
        free(m->slots);
        m->slots = slots;
        m->cap = ncap;
    }
    size_t i = link_hash(dev, ino, m->cap);
    while (m->slots[i].path)
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = (struct link_entry){.dev = dev, .ino = ino, .path = path};
    m->n++;
    return 0;
}

static void link_map_free(struct link_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].path);
    free(m->slots);
}

/* PATH of the current directory + "/" + NAME, malloc'd. */
static char *entry_path(const struct copier *c, const char *name)
{
    char *s = NULL;
    if (asprintf(&s, "%.*s%s%s", (int)c->path_len, c->path ? c->path : "", c->path_len ? "/" : "",
                 name) < 0)
        return NULL;
    return s;
}

static int path_push(struct copier *c, const char *name)
{
    size_t n = strlen(name), need = c->path_len + (c->path_len ? 1 : 0) + n + 1;
    if (need > c->path_cap) {
        size_t cap = c->path_cap ? c->path_cap : 256;
        while (cap < need)
            cap *= 2;
        char *p = realloc(c->path, cap);
        if (!p)
            return -ENOMEM;
        c->path = p;
        c->path_cap = cap;
    }
    if (c->path_len)
        c->path[c->path_len++] = '/';
    memcpy(c->path + c->path_len, name, n + 1);
    c->path_len += n;
    return 0;
}

/* --- xattrs ------------------------------------------------------------------ */

/* A file whose xattrs are reached through a descriptor, or through
 * /proc/self/fd/N for an O_PATH descriptor of a device node or fifo (which
 * must not be opened for real). */
struct xfile {
    int fd;
    int by_path;
    char path[48];
};

static void xfile_init(struct xfile *x, int fd, int by_path)
{
    x->fd = fd;
    x->by_path = by_path;
    snprintf(x->path, sizeof(x->path), "/proc/self/fd/%d", fd);
}

static ssize_t x_list(const struct xfile *x, char *buf, size_t size)
{
    return x->by_path ? listxattr(x->path, buf, size) : flistxattr(x->fd, buf, size);
}

static ssize_t x_get(const struct xfile *x, const char *name, void *buf, size_t size)
{
    return x->by_path ? getxattr(x->path, name, buf, size) : fgetxattr(x->fd, name, buf, size);
}

static int x_set(const struct xfile *x, const char *name, const void *val, size_t size)
{
    return x->by_path ? setxattr(x->path, name, val, size, 0)
                      : fsetxattr(x->fd, name, val, size, 0);
}

static int copy_xattrs(const struct xfile *src, const struct xfile *dst)
{
    _cleanup_free_ char *names = NULL;
    ssize_t len;
    for (;;) {
        len = x_list(src, NULL, 0);
        if (len < 0)
            return errno == ENOTSUP ? 0 : -errno;
        if (len == 0)
            return 0;
        free(names);
        names = malloc((size_t)len);
        if (!names)
            return -ENOMEM;
        len = x_list(src, names, (size_t)len);
        if (len >= 0)
            break;
        if (errno != ERANGE) /* grew meanwhile: ask again */
            return -errno;
    }
    _cleanup_free_ char *val = NULL;
    size_t val_cap = 0;
    for (char *n = names; n < names + len; n += strlen(n) + 1) {
        ssize_t vlen = x_get(src, n, NULL, 0);
        if (vlen < 0) {
            if (errno == ENODATA)
                continue;
            return -errno;
        }
        if ((size_t)vlen + 1 > val_cap) {
            free(val);
            val_cap = (size_t)vlen + 1;
            val = malloc(val_cap);
            if (!val)
                return -ENOMEM;
        }
        vlen = x_get(src, n, val, val_cap);
        if (vlen < 0)
            return errno == ENODATA ? 0 : -errno;
        if (x_set(dst, n, val, (size_t)vlen) < 0)
            return -errno;
    }
    return 0;
}

/* --- metadata ---------------------------------------------------------------- */

/*
 * Owner, xattrs, mode, times of DST (an open descriptor) from SRC. The order
 * matters: chown clears setuid, setgid and security.capability, so the mode
 * and the xattrs come after it; the times come last, as everything before
 * changes ctime or mtime.
 */
static int meta_fd(int src_fd, int dst_fd, const struct stat *st)
{
    struct xfile xs, xd;
    xfile_init(&xs, src_fd, 0);
    xfile_init(&xd, dst_fd, 0);
    if (fchown(dst_fd, st->st_uid, st->st_gid) < 0)
        return -errno;
    int r = copy_xattrs(&xs, &xd);
    if (r < 0)
        return r;
    if (fchmod(dst_fd, st->st_mode & 07777) < 0)
        return -errno;
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    return futimens(dst_fd, ts) < 0 ? -errno : 0;
}

/* The same for a node that cannot be opened (device, fifo, socket). */
static int meta_node(int src_dir, int dst_dir, const char *name, const struct stat *st)
{
    if (fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    _cleanup_close_ int s = openat(src_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int d = openat(dst_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0 || d < 0)
        return -errno;
    struct xfile xs, xd;
    xfile_init(&xs, s, 1);
    xfile_init(&xd, d, 1);
    int r = copy_xattrs(&xs, &xd);
    if (r < 0)
        return r;
    if (fchmodat(dst_dir, name, st->st_mode & 07777, 0) < 0)
        return -errno;
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    return utimensat(dst_dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* --- data -------------------------------------------------------------------- */

static int copy_range(struct copier *c, int in, int out, off_t off, off_t len)
{
    while (len > 0 && !c->no_copy_range) {
        loff_t ioff = off, ooff = off;
        size_t chunk = len > (off_t)(1 << 30) ? (size_t)1 << 30 : (size_t)len;
        ssize_t n = copy_file_range(in, &ioff, out, &ooff, chunk, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
                return -errno;
            c->no_copy_range = 1;
            break;
        }
        if (n == 0)
            return 0; /* the source shrank */
        off += n;
        len -= n;
    }
    if (len > 0 && !c->buf && !(c->buf = malloc(COPY_BUF_SIZE)))
        return -ENOMEM;
    while (len > 0) {
        ssize_t n = pread(in, c->buf, len > COPY_BUF_SIZE ? COPY_BUF_SIZE : (size_t)len, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return 0;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = pwrite(out, c->buf + done, (size_t)(n - done), off + done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            done += w;
        }
        off += n;
        len -= n;
    }
    return 0;
}

/* Copies only the data ranges: holes stay holes. */
static int copy_data(struct copier *c, int in, int out, off_t size)
{
    for (off_t off = 0; off < size;) {
        off_t data = lseek(in, off, SEEK_DATA), hole;
        if (data < 0) {
            if (errno == ENXIO)
                break; /* only a hole is left */
            if (errno != EINVAL && errno != EOPNOTSUPP)
                return -errno;
            data = off; /* no hole support: all data */
            hole = size;
        } else {
            hole = lseek(in, data, SEEK_HOLE);
            if (hole < 0)
                return -errno;
        }
        if (data >= size)
            break;
        if (hole > size)
            hole = size;
        int r = copy_range(c, in, out, data, hole - data);
        if (r < 0)
            return r;
        off = hole;
    }
    /* Extends over a trailing hole without writing it. */
    return ftruncate(out, size) < 0 ? -errno : 0;
}

static int copy_file(struct copier *c, int src_dir, int dst_dir, const char *name,
                     const struct stat *st)
{
    _cleanup_close_ int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -errno;
    struct stat now;
    if (fstat(in, &now) < 0)
        return -errno;
    if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
        return -ESTALE; /* replaced since we looked */
    _cleanup_close_ int out =
        openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return -errno;
    int cloned = 0;
    if (c->opts && c->opts->reflink && st->st_size > 0) {
        if (ioctl(out, FICLONE, in) == 0)
            cloned = 1;
        else if (errno != EOPNOTSUPP && errno != EXDEV && errno != EINVAL && errno != ENOTTY)
            return -errno;
    }
    if (!cloned) {
        int r = copy_data(c, in, out, st->st_size);
        if (r < 0)
            return r;
    }
    return meta_fd(in, out, st);
}

static int copy_symlink(int src_dir, int dst_dir, const char *name, const struct stat *st)
{
    size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : PATH_MAX;
    _cleanup_free_ char *target = malloc(cap);
    if (!target)
        return -ENOMEM;
    ssize_t n = readlinkat(src_dir, name, target, cap);
    if (n < 0)
        return -errno;
    if ((size_t)n >= cap)
        return -ESTALE; /* grew since we looked */
    target[n] = '\0';
    if (symlinkat(target, dst_dir, name) < 0)
        return -errno;
    /* xattrs of symlinks are not copied: the user namespace is refused on
     * them and images carry none in the others. */
    if (fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    return utimensat(dst_dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Copies one entry that is not a directory. */
static int copy_entry(struct copier *c, int src_dir, int dst_dir, const char *name,
                      const struct stat *st)
{
    int shared = st->st_nlink > 1;
    if (shared) {
        struct link_entry *e = link_find(&c->links, st->st_dev, st->st_ino);
        if (e) {
            if (linkat(c->dst_root, e->path, dst_dir, name, 0) == 0)
                return 0;
            /* Too many links or too long a path: a copy keeps the content. */
            if (errno != EMLINK && errno != ENAMETOOLONG)
                return -errno;
            shared = 0;
        }
    }
    int r;
    switch (st->st_mode & S_IFMT) {
    case S_IFREG:
        r = copy_file(c, src_dir, dst_dir, name, st);
        break;
    case S_IFLNK:
        r = copy_symlink(src_dir, dst_dir, name, st);
        break;
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        if (mknodat(dst_dir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
            return -errno;
        r = meta_node(src_dir, dst_dir, name, st);
        break;
    default:
        return -EINVAL;
    }
    if (r < 0 || !shared)
        return r;
    char *path = entry_path(c, name);
    if (!path)
        return -ENOMEM;
    r = link_add(&c->links, st->st_dev, st->st_ino, path);
    if (r < 0)
        free(path);
    return r;
}

/* --- the walk ---------------------------------------------------------------- */

static int open_dir(int dir_fd, const char *name)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Opens ".." of FD and checks it is the directory we came from. */
static int open_parent(int fd, dev_t dev, ino_t ino)
{
    int p = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p < 0)
        return -errno;
    struct stat st;
    if (fstat(p, &st) < 0 || st.st_dev != dev || st.st_ino != ino) {
        close(p);
        return -ESTALE; /* moved while we walked: stop rather than write elsewhere */
    }
    return p;
}

static int walk(struct copier *c, DIR **dp, int *dfdp, const struct stat *root_st)
{
    struct frame *frames = NULL;
    size_t n = 0, cap = 0;
    struct stat cur = *root_st;
    int r = 0;

    for (;;) {
        DIR *d = *dp;
        errno = 0;
        struct dirent *de = readdir(d);
        if (de) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            struct stat st;
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                break;
            }
            if (!S_ISDIR(st.st_mode)) {
                r = copy_entry(c, dirfd(d), *dfdp, de->d_name, &st);
                if (r < 0)
                    break;
                continue;
            }
            /* Made writable for us; its own mode comes when it is done. */
            if (mkdirat(*dfdp, de->d_name, 0700) < 0) {
                r = -errno;
                break;
            }
            int s = open_dir(dirfd(d), de->d_name);
            if (s < 0) {
                r = s;
                break;
            }
            int t = open_dir(*dfdp, de->d_name);
            struct stat sst, dst;
            if (t < 0 || fstat(s, &sst) < 0 || fstat(t, &dst) < 0) {
                r = t < 0 ? t : -errno;
                close(s);
                if (t >= 0)
                    close(t);
                break;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 32;
                struct frame *f = realloc(frames, ncap * sizeof(*f));
                if (!f) {
                    close(s);
                    close(t);
                    r = -ENOMEM;
                    break;
                }
                frames = f;
                cap = ncap;
            }
            struct stat parent_dst;
            if (fstat(*dfdp, &parent_dst) < 0) {
                r = -errno;
                close(s);
                close(t);
                break;
            }
            frames[n++] = (struct frame){.src_st = cur,
                                         .dst_dev = parent_dst.st_dev,
                                         .dst_ino = parent_dst.st_ino,
                                         .pos = telldir(d),
                                         .path_len = c->path_len};
            r = path_push(c, de->d_name);
            DIR *nd = r == 0 ? fdopendir(s) : NULL;
            if (!nd) {
                r = r < 0 ? r : -errno;
                close(s);
                close(t);
                break;
            }
            closedir(d);
            close(*dfdp);
            *dp = nd;
            *dfdp = t;
            cur = st;
            continue;
        }
        if (errno != 0) {
            r = -errno;
            break;
        }

        /* This directory is complete: give it its own metadata. */
        r = meta_fd(dirfd(d), *dfdp, &cur);
        if (r < 0 || n == 0)
            break;
        const struct frame *f = &frames[--n];
        int ps = open_parent(dirfd(d), f->src_st.st_dev, f->src_st.st_ino);
        if (ps < 0) {
            r = ps;
            break;
        }
        int pt = open_parent(*dfdp, f->dst_dev, f->dst_ino);
        if (pt < 0) {
            close(ps);
            r = pt;
            break;
        }
        DIR *pd = fdopendir(ps);
        if (!pd) {
            r = -errno;
            close(ps);
            close(pt);
            break;
        }
        seekdir(pd, f->pos);
        closedir(d);
        close(*dfdp);
        *dp = pd;
        *dfdp = pt;
        cur = f->src_st;
        c->path_len = f->path_len;
        if (c->path)
            c->path[c->path_len] = '\0';
    }
    free(frames);
    return r;
}

int berth_tree_copy(int src_fd, int dir_fd, const char *name, const struct berth_copy_options *opts)
{
    struct stat root;
    if (fstat(src_fd, &root) < 0)
        return -errno;
    if (!S_ISDIR(root.st_mode))
        return -ENOTDIR;
    if (mkdirat(dir_fd, name, 0700) < 0)
        return -errno;
    int s = openat(src_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s < 0)
        return -errno;
    DIR *d = fdopendir(s);
    if (!d) {
        close(s);
        return -ENOMEM;
    }
    int t = open_dir(dir_fd, name);
    if (t < 0) {
        closedir(d);
        return t;
    }
    struct copier c = {.opts = opts, .dst_root = t};
    /* The walk moves its own descriptors; it needs one that stays. */
    c.dst_root = fcntl(t, F_DUPFD_CLOEXEC, 3);
    int r = c.dst_root < 0 ? -errno : walk(&c, &d, &t, &root);
    closedir(d);
    close(t);
    if (c.dst_root >= 0)
        close(c.dst_root);
    link_map_free(&c.links);
    free(c.path);
    free(c.buf);
    return r;
}

int berth_reflink_supported(int dir_fd)
{
    /* Unnamed files: nothing to clean up, even after a crash. */
    _cleanup_close_ int a = openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    _cleanup_close_ int b = openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (a < 0 || b < 0)
        return errno == EOPNOTSUPP || errno == EISDIR ? 0 : -errno;
    static const char block[4096] = {1};
    if (write(a, block, sizeof(block)) != (ssize_t)sizeof(block))
        return -EIO;
    if (ioctl(b, FICLONE, a) == 0)
        return 1;
    return errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL || errno == ENOTTY ? 0 : -errno;
}
