/* SPDX-License-Identifier: MIT */
/*
 * The diff of a container (ABI 1.1, for commit). The container's root is a
 * full tree, so its changes are found by walking it beside the image's top
 * layer (diff-classify.c decides per node) and written as an overlay-style
 * change directory, containers/ID/.diff: changed and new nodes copied
 * (reflinked where the filesystem can), deletions as character devices 0/0,
 * directories made anew marked with trusted.overlay.opaque. The host's
 * pack_layer then packs it exactly as it packs overlay's upper dir, so the
 * same change gives the same layer bytes with either driver.
 *
 * Like overlay's copy-up, a changed node's parent directories are in the
 * layer with their current metadata. Each level of the walk holds three
 * descriptors (container, layer, change dir).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/fs.h>

#include "diff-classify.h"
#include "snapshot.h"

#define DIFF_BUF (128 * 1024)
#define DIFF_DIR ".diff"

struct diff_link {
    dev_t dev;
    ino_t ino;
    char *path; /* relative to the change dir */
};

struct differ {
    int same_inodes;
    int droot; /* the change dir */
    struct diff_link *links;
    size_t n_links;
    char *buf_a, *buf_b;
    char path[PATH_MAX]; /* the directory being walked, "" or "a/b/" */
};

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_names(int dfd, char ***ret, size_t *ret_n)
{
    *ret = NULL;
    *ret_n = 0;
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **g = realloc(v, cap * sizeof(*g));
            if (!g) {
                r = -ENOMEM;
                break;
            }
            v = g;
        }
        if (!(v[n] = strdup(de->d_name))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (r < 0) {
        names_free(v, n);
        return r;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_names);
    *ret = v;
    *ret_n = n;
    return 0;
}

static int has_name(char *const *v, size_t n, const char *name)
{
    return n > 0 && bsearch(&name, v, n, sizeof(*v), cmp_names) != NULL;
}

/* --- xattrs (through /proc/self/fd/DIR/NAME: devices and symlinks too) ------ */

static void node_path(char out[PATH_MAX], int dfd, const char *name)
{
    snprintf(out, PATH_MAX, "/proc/self/fd/%d/%s", dfd, name);
}

/* The sorted NUL-separated xattr names of PATH in *RET (NULL if none). */
static int xattr_names(const char *path, char **ret, ssize_t *ret_len)
{
    *ret = NULL;
    *ret_len = 0;
    for (;;) {
        ssize_t len = llistxattr(path, NULL, 0);
        if (len < 0)
            return errno == ENOTSUP ? 0 : -errno;
        if (len == 0)
            return 0;
        char *v = malloc((size_t)len);
        if (!v)
            return -ENOMEM;
        ssize_t got = llistxattr(path, v, (size_t)len);
        if (got >= 0) {
            *ret = v;
            *ret_len = got;
            return 0;
        }
        free(v);
        if (errno != ERANGE)
            return -errno;
    }
}

static int xattr_value(const char *path, const char *name, char **ret, ssize_t *ret_len)
{
    ssize_t len = lgetxattr(path, name, NULL, 0);
    if (len < 0)
        return -errno;
    char *v = malloc((size_t)len + 1);
    if (!v)
        return -ENOMEM;
    len = lgetxattr(path, name, v, (size_t)len);
    if (len < 0) {
        free(v);
        return -errno;
    }
    *ret = v;
    *ret_len = len;
    return 0;
}

/* 1 if every xattr of A is on B with the same value and B has no other. */
static int xattrs_equal(const char *a, const char *b)
{
    _cleanup_free_ char *na = NULL, *nb = NULL;
    ssize_t la, lb;
    int r = xattr_names(a, &na, &la);
    if (r < 0)
        return r;
    r = xattr_names(b, &nb, &lb);
    if (r < 0)
        return r;
    size_t ca = 0, cb = 0;
    for (char *x = na; x && x < na + la; x += strlen(x) + 1)
        ca++;
    for (char *x = nb; x && x < nb + lb; x += strlen(x) + 1)
        cb++;
    if (ca != cb)
        return 0;
    for (char *x = na; x && x < na + la; x += strlen(x) + 1) {
        _cleanup_free_ char *va = NULL, *vb = NULL;
        ssize_t sa = 0, sb = 0;
        if (xattr_value(a, x, &va, &sa) < 0)
            return 0;
        /* Two empty values are equal without a memcmp (which takes no NULL). */
        if (xattr_value(b, x, &vb, &sb) < 0 || sa != sb ||
            (sa > 0 && memcmp(va, vb, (size_t)sa) != 0))
            return 0;
    }
    return 1;
}

static int copy_xattrs(const char *src, const char *dst)
{
    _cleanup_free_ char *names = NULL;
    ssize_t len;
    int r = xattr_names(src, &names, &len);
    for (char *x = names; r == 0 && x && x < names + len; x += strlen(x) + 1) {
        _cleanup_free_ char *v = NULL;
        ssize_t vlen = 0;
        r = xattr_value(src, x, &v, &vlen);
        if (r == -ENODATA) {
            r = 0;
            continue;
        }
        if (r == 0 && lsetxattr(dst, x, v, (size_t)vlen, 0) < 0)
            r = -errno;
    }
    return r;
}

/* --- content ------------------------------------------------------------------ */

/* 1 if the regular files or symlinks CFD/NAME and PFD/NAME hold the same. */
static int content_equal(struct differ *df, int cfd, int pfd, const char *name,
                         const struct stat *st)
{
    if (S_ISLNK(st->st_mode)) {
        char a[PATH_MAX], b[PATH_MAX];
        ssize_t la = readlinkat(cfd, name, a, sizeof(a));
        ssize_t lb = readlinkat(pfd, name, b, sizeof(b));
        if (la < 0 || lb < 0)
            return -errno;
        return la == lb && memcmp(a, b, (size_t)la) == 0;
    }
    _cleanup_close_ int a = openat(cfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    _cleanup_close_ int b = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (a < 0 || b < 0)
        return -errno;
    for (;;) {
        ssize_t na = read(a, df->buf_a, DIFF_BUF);
        if (na < 0)
            return -errno;
        size_t got = 0;
        while (got < (size_t)na) {
            ssize_t nb = read(b, df->buf_b + got, (size_t)na - got);
            if (nb < 0)
                return -errno;
            if (nb == 0)
                return 0;
            got += (size_t)nb;
        }
        if (memcmp(df->buf_a, df->buf_b, (size_t)na) != 0)
            return 0;
        if (na == 0) {
            char c;
            return read(b, &c, 1) == 0;
        }
    }
}

/* --- emitting nodes into the change dir ------------------------------------------ */

static int set_meta_path(const char *src, const char *dst, const struct stat *st, int xattrs)
{
    if (lchown(dst, st->st_uid, st->st_gid) < 0)
        return -errno;
    if (xattrs) {
        int r = copy_xattrs(src, dst);
        if (r < 0)
            return r;
    }
    if (!S_ISLNK(st->st_mode) && chmod(dst, st->st_mode & 07777) < 0)
        return -errno;
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    return utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int copy_data(struct differ *df, int in, int out)
{
    if (ioctl(out, FICLONE, in) == 0)
        return 0;
    for (;;) {
        ssize_t n = read(in, df->buf_a, DIFF_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, df->buf_a + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return -errno;
            off += w;
        }
    }
}

static int remember_link(struct differ *df, const struct stat *st, const char *name)
{
    struct diff_link *g = realloc(df->links, (df->n_links + 1) * sizeof(*g));
    if (!g)
        return -ENOMEM;
    df->links = g;
    char *p = NULL;
    if (asprintf(&p, "%s%s", df->path, name) < 0)
        return -ENOMEM;
    g[df->n_links++] = (struct diff_link){.dev = st->st_dev, .ino = st->st_ino, .path = p};
    return 0;
}

static const char *seen_link(struct differ *df, const struct stat *st)
{
    for (size_t i = 0; i < df->n_links; i++)
        if (df->links[i].dev == st->st_dev && df->links[i].ino == st->st_ino)
            return df->links[i].path;
    return NULL;
}

/* Copies the non-directory CFD/NAME into DFD/NAME with its metadata. */
static int emit_node(struct differ *df, int cfd, int dfd, const char *name, const struct stat *st)
{
    char src[PATH_MAX], dst[PATH_MAX];
    node_path(src, cfd, name);
    node_path(dst, dfd, name);
    if (S_ISREG(st->st_mode)) {
        const char *first = st->st_nlink > 1 ? seen_link(df, st) : NULL;
        if (first)
            return linkat(df->droot, first, dfd, name, 0) < 0 ? -errno : 0;
        _cleanup_close_ int in = openat(cfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
            return -errno;
        _cleanup_close_ int out =
            openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
            return -errno;
        int r = copy_data(df, in, out);
        if (r == 0)
            r = set_meta_path(src, dst, st, 1);
        if (r == 0 && st->st_nlink > 1)
            r = remember_link(df, st, name);
        return r;
    }
    if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(cfd, name, target, sizeof(target) - 1);
        if (n < 0)
            return -errno;
        target[n] = '\0';
        if (symlinkat(target, dfd, name) < 0)
            return -errno;
        return set_meta_path(src, dst, st, 1);
    }
    if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode)) {
        if (mknodat(dfd, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
            return -errno;
        return set_meta_path(src, dst, st, 1);
    }
    return 0; /* a socket: no layer can hold it */
}

static int diff_dir(struct differ *df, int cfd, int pfd, int dfd);

/* DFD/NAME as a directory copy of CFD/NAME's changes (PFD -1: all of it). */
static int emit_dir(struct differ *df, int cfd, int pfd, int dfd, const char *name,
                    const struct stat *st, int opaque, int meta_changed)
{
    if (mkdirat(dfd, name, 0700) < 0)
        return -errno;
    _cleanup_close_ int c = openat(cfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int use_parent = pfd >= 0 && !opaque;
    _cleanup_close_ int p =
        !use_parent ? -1 : openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int d = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (c < 0 || d < 0 || (use_parent && p < 0))
        return -errno;
    size_t saved = strlen(df->path);
    if ((size_t)snprintf(df->path + saved, sizeof(df->path) - saved, "%s/", name) >=
        sizeof(df->path) - saved)
        return -ENAMETOOLONG;
    int r = diff_dir(df, c, p, d);
    df->path[saved] = '\0';
    if (r < 0)
        return r;
    if (r == 0 && !opaque && !meta_changed)
        return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
    char src[PATH_MAX], dst[PATH_MAX];
    node_path(src, cfd, name);
    node_path(dst, dfd, name);
    if (opaque && fsetxattr(d, "trusted.overlay.opaque", "y", 1, 0) < 0)
        return -errno;
    /* Last: the entries made above changed its mtime. */
    r = set_meta_path(src, dst, st, 1);
    return r < 0 ? r : 1;
}

/* One node of the container's directory CFD against PFD (-1: no parent). */
static int diff_node(struct differ *df, int cfd, int pfd, int dfd, const char *name)
{
    struct stat cs, ps;
    if (fstatat(cfd, name, &cs, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno; /* gone while we walk */
    int in_parent = pfd >= 0 && fstatat(pfd, name, &ps, AT_SYMLINK_NOFOLLOW) == 0;
    if (!in_parent) {
        if (S_ISDIR(cs.st_mode))
            return emit_dir(df, cfd, -1, dfd, name, &cs, 0, 1);
        int r = emit_node(df, cfd, dfd, name, &cs);
        return r < 0 ? r : 1;
    }
    enum diff_class k = diff_classify(&cs, &ps, df->same_inodes);
    char a[PATH_MAX], b[PATH_MAX];
    node_path(a, cfd, name);
    node_path(b, pfd, name);
    if (k == DIFF_CHECK_CONTENT) {
        int eq = content_equal(df, cfd, pfd, name, &cs);
        if (eq < 0)
            return eq;
        k = eq ? DIFF_CHECK_XATTRS : DIFF_CHANGED;
    }
    if (k == DIFF_CHECK_XATTRS) {
        int eq = xattrs_equal(a, b);
        if (eq < 0)
            return eq;
        k = eq ? DIFF_SAME : DIFF_CHANGED;
    }
    if (S_ISDIR(cs.st_mode))
        /* A directory made where the layer had another type, or (btrfs) a
         * new inode: overlay marks such a directory opaque. */
        return emit_dir(df, cfd, pfd, dfd, name, &cs, k == DIFF_REPLACED, k != DIFF_SAME);
    if (k == DIFF_SAME)
        return 0;
    int r = emit_node(df, cfd, dfd, name, &cs);
    return r < 0 ? r : 1;
}

/* Returns 1 if DFD got anything, 0 if not, or -errno. */
static int diff_dir(struct differ *df, int cfd, int pfd, int dfd)
{
    char **cn = NULL, **pn = NULL;
    size_t nc = 0, np = 0;
    int r = read_names(cfd, &cn, &nc);
    if (r == 0 && pfd >= 0)
        r = read_names(pfd, &pn, &np);
    if (r < 0)
        goto out;
    if (pfd >= 0) {
        size_t surviving = 0;
        for (size_t i = 0; i < nc; i++)
            surviving += has_name(pn, np, cn[i]);
        if (diff_dir_opaque(np, surviving, df->same_inodes)) {
            /* Everything below was deleted and made again: one opaque
             * marker instead of a whiteout per entry, as overlay does. */
            if (fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0) {
                r = -errno;
                goto out;
            }
            pfd = -1;
            r = 1;
        }
    }
    int changed = r;
    for (size_t i = 0; i < nc; i++) {
        r = diff_node(df, cfd, pfd, dfd, cn[i]);
        if (r < 0)
            goto out;
        changed |= r;
    }
    for (size_t i = 0; pfd >= 0 && i < np; i++) {
        if (has_name(cn, nc, pn[i]))
            continue;
        if (mknodat(dfd, pn[i], S_IFCHR | 0600, makedev(0, 0)) < 0) {
            r = -errno;
            goto out;
        }
        changed = 1;
    }
    r = changed;
out:
    names_free(cn, nc);
    names_free(pn, np);
    return r;
}

/* Opens the image's top layer (-1 for an image without layers) and takes
 * its lock, which keeps remove_layer and gc away while we read it. */
static int open_layer_root(struct snapshot *sn, const struct berth_storage_diff_request *req,
                           int *ret_fd, int *ret_token, struct berth_error *err)
{
    const struct berth_services *s = sn->services;
    *ret_fd = -1;
    *ret_token = -1;
    if (req->n_layers == 0)
        return 0;
    char key[LAYER_KEY_MAX];
    if (!req->layers || layer_ref_key(&req->layers[req->n_layers - 1], key) < 0) {
        s->set_error(err, EINVAL, "invalid top layer of container '%s'", req->container_id);
        return -EINVAL;
    }
    int r = lock_layer(sn, key, ret_token);
    if (r < 0) {
        s->set_error(err, -r, "lock layer '%s'", key);
        return r;
    }
    char path[LAYER_KEY_MAX + 16];
    snprintf(path, sizeof(path), "layers/%s", key);
    *ret_fd = openat(sn->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*ret_fd < 0) {
        r = -errno;
        unlock_layer(sn, *ret_token);
        *ret_token = -1;
        s->set_error(err, -r, "layer 'layers/%s' is not present", key);
        return r;
    }
    return 0;
}

int snapshot_diff(void *state, const struct berth_storage_diff_request *req, void *res,
                  struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    (void)res;
    if (!req || !container_id_valid(req->container_id) || !req->tar_path) {
        s->set_error(err, EINVAL, "invalid diff request for container '%s'",
                     req && req->container_id ? req->container_id : "(null)");
        return -EINVAL;
    }
    if (s->size < offsetof(struct berth_services, pack_layer) + sizeof(s->pack_layer) ||
        !s->pack_layer) {
        s->set_error(err, ENOTSUP, "diff needs berth 1.1's pack_layer service");
        return -ENOTSUP;
    }
    char path[160];
    snprintf(path, sizeof(path), "containers/%s", req->container_id);
    _cleanup_close_ int ctr_fd =
        openat(sn->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int root_fd =
        ctr_fd < 0 ? -1 : openat(ctr_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root_fd < 0) {
        int r = -errno;
        s->set_error(err, -r, "container '%s' has no root", req->container_id);
        return r;
    }
    _cleanup_close_ int layer_fd = -1;
    int token = -1;
    int r = open_layer_root(sn, req, &layer_fd, &token, err);
    if (r < 0)
        return r;
    struct differ df = {.same_inodes = sn->mode == MODE_BTRFS, .droot = -1};
    df.buf_a = malloc(DIFF_BUF);
    df.buf_b = malloc(DIFF_BUF);
    if (!df.buf_a || !df.buf_b)
        r = -ENOMEM;
    if (r == 0)
        r = berth_tree_remove(ctr_fd, DIFF_DIR, &subvolume_removal);
    if (r == 0 && mkdirat(ctr_fd, DIFF_DIR, 0700) < 0)
        r = -errno;
    if (r == 0) {
        df.droot = openat(ctr_fd, DIFF_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (df.droot < 0)
            r = -errno;
    }
    if (r == 0)
        r = diff_dir(&df, root_fd, layer_fd, df.droot);
    if (token >= 0)
        unlock_layer(sn, token);
    if (r < 0) {
        s->set_error(err, -r, "compare container '%s' with its image at '%s'", req->container_id,
                     df.path[0] ? df.path : "/");
    } else {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/%s/%s", s->state_dir, path, DIFF_DIR) < 0) {
            r = -ENOMEM;
            s->set_error(err, ENOMEM, "diff of container '%s'", req->container_id);
        } else {
            r = s->pack_layer(s->host, dir, req->tar_path, BERTH_WHITEOUT_CHARDEV, err);
        }
    }
    if (df.droot >= 0)
        close(df.droot);
    berth_tree_remove(ctr_fd, DIFF_DIR, &subvolume_removal);
    for (size_t i = 0; i < df.n_links; i++)
        free(df.links[i].path);
    free(df.links);
    free(df.buf_a);
    free(df.buf_b);
    return r < 0 ? r : 0;
}
