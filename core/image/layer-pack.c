/*
 * Packing a directory into an OCI layer tar. Used for commit: a storage
 * driver presents its container's changes as a directory in the union
 * filesystem format (an upper dir as it is, or one a driver builds) and the
 * host turns it into a layer that is the same bytes whoever made it. The walk uses *at() calls
 * from directory descriptors and never follows a symlink; each level holds
 * one descriptor, so the depth is bounded by the descriptor limit.
 */
#include "image/layer-pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/archive-lazy.h"
#include "util/cleanup.h"
#include "util/kernel-fs.h"
#include "util/fs-util.h"

#define PACK_BLOCK ((size_t)128 * 1024)
#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_NAME ".wh..wh..opq"
/* The union filesystem format's xattr namespaces (the kernel's overlayfs). */
#define UNION_XATTR_TRUSTED "trusted.overlay."
#define UNION_XATTR_USER "user.overlay."

enum pack_node layer_pack_node(mode_t mode, dev_t rdev, unsigned whiteout_mode)
{
    if (S_ISSOCK(mode))
        return PACK_NODE_SKIP;
    if (whiteout_mode == LAYER_PACK_CHARDEV && S_ISCHR(mode) && major(rdev) == 0 &&
        minor(rdev) == 0)
        return PACK_NODE_WHITEOUT;
    return PACK_NODE_ENTRY;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum pack_xattr layer_pack_xattr(const char *name, const void *value, size_t len, int is_dir,
                                 unsigned whiteout_mode)
{
    if (whiteout_mode != LAYER_PACK_CHARDEV)
        return PACK_XATTR_KEEP;
    const char *rest = NULL;
    if (has_prefix(name, UNION_XATTR_TRUSTED))
        rest = name + strlen(UNION_XATTR_TRUSTED);
    else if (has_prefix(name, UNION_XATTR_USER))
        rest = name + strlen(UNION_XATTR_USER);
    if (!rest)
        return PACK_XATTR_KEEP;
    /* "y" is opaque; "x" (6.7+) only says the dir may hold xwhiteouts. */
    if (!strcmp(rest, "opaque"))
        return is_dir && len == 1 && *(const char *)value == 'y' ? PACK_XATTR_OPAQUE
                                                                 : PACK_XATTR_DROP;
    if (!strcmp(rest, "redirect") || !strcmp(rest, "metacopy"))
        return PACK_XATTR_REFUSE;
    return PACK_XATTR_DROP; /* origin, impure, nlink, upper, uuid… */
}

/* The kernel's layouts (linux/capability.h, linux/posix_acl_xattr.h), little-endian. */
#define XATTR_CAPABILITY "security.capability"
#define XATTR_ACL_ACCESS "system.posix_acl_access"
#define XATTR_ACL_DEFAULT "system.posix_acl_default"
#define CAP_REVISION_MASK 0xff000000u
#define CAP_REVISION_2 0x02000000u
#define CAP_REVISION_3 0x03000000u
#define CAP_SIZE_2 20u /* magic, 2 × (permitted, inheritable) */
#define CAP_SIZE_3 24u /* the same and the root uid */
#define ACL_VERSION 2u
#define ACL_HEADER_SIZE 4u
#define ACL_ENTRY_SIZE 8u /* le16 tag, le16 perm, le32 id */
#define ACL_TAG_USER 0x02u
#define ACL_TAG_GROUP 0x08u

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

size_t layer_pack_xattr_owners(const char *name, void *value, size_t len,
                               const struct layer_pack_owners *owners)
{
    unsigned char *v = value;
    if (!owners)
        return len;
    if (!strcmp(name, XATTR_CAPABILITY)) {
        if (len != CAP_SIZE_3 || (get_le32(v) & CAP_REVISION_MASK) != CAP_REVISION_3)
            return len;
        uint32_t root = owners->uid(owners->ctx, get_le32(v + CAP_SIZE_2));
        if (root != 0) {
            put_le32(v + CAP_SIZE_2, root);
            return len;
        }
        put_le32(v, (get_le32(v) & ~CAP_REVISION_MASK) | CAP_REVISION_2);
        return CAP_SIZE_2;
    }
    if (strcmp(name, XATTR_ACL_ACCESS) && strcmp(name, XATTR_ACL_DEFAULT))
        return len;
    if (len < ACL_HEADER_SIZE || (len - ACL_HEADER_SIZE) % ACL_ENTRY_SIZE ||
        get_le32(v) != ACL_VERSION)
        return len;
    for (size_t off = ACL_HEADER_SIZE; off < len; off += ACL_ENTRY_SIZE) {
        unsigned tag = (unsigned)v[off] | (unsigned)v[off + 1] << 8;
        if (tag == ACL_TAG_USER)
            put_le32(v + off + 4, owners->uid(owners->ctx, get_le32(v + off + 4)));
        else if (tag == ACL_TAG_GROUP)
            put_le32(v + off + 4, owners->gid(owners->ctx, get_le32(v + off + 4)));
    }
    return len;
}

struct seen_link {
    dev_t dev;
    ino_t ino;
    char *path;
};

struct packer {
    struct archive *a;
    struct archive_entry *e;
    unsigned wmode;
    const struct layer_pack_owners *owners; /* NULL: the ids on disk */
    struct seen_link *links;
    size_t n_links;
    char *buf;
    size_t n_entries;
    bool copy;   /* berth cp: any name, and the top entry under another name */
    bool one_fs; /* berth export: nothing below another file system than TOP_DEV */
    dev_t top_dev;
    char path[PATH_MAX]; /* of the directory being walked, "" or "a/b/" */
};

static int archive_fail(struct packer *p, const char *what, struct error **err)
{
    int e = archive_errno(p->a);
    return error_set(err, e > 0 ? e : EIO, "%s '%s': %s", what, p->path,
                     archive_error_string(p->a) ?: "archive error");
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The names in DFD, sorted bytewise. */
static int read_names(int dfd, char ***ret, size_t *ret_n, struct error **err)
{
    int fd = dup(dfd);
    if (fd < 0)
        return error_set(err, errno, "dup");
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return error_set(err, errno, "read directory");
    }
    rewinddir(d);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int r = 0;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **g = realloc(names, cap * sizeof(*g));
            if (!g) {
                r = -ENOMEM;
                break;
            }
            names = g;
        }
        if (!(names[n] = strdup(de->d_name))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (r < 0) {
        names_free(names, n);
        return error_set(err, -r, "read directory");
    }
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    *ret = names;
    *ret_n = n;
    return 0;
}

/* The xattrs of DFD/NAME, sorted, as a NUL-separated list. */
static int list_xattrs(const char *proc_path, char **ret, ssize_t *ret_len)
{
    *ret = NULL;
    *ret_len = 0;
    for (;;) {
        ssize_t len = llistxattr(proc_path, NULL, 0);
        if (len < 0)
            return errno == ENOTSUP ? 0 : -errno;
        if (len == 0)
            return 0;
        char *names = malloc((size_t)len);
        if (!names)
            return -ENOMEM;
        ssize_t got = llistxattr(proc_path, names, (size_t)len);
        if (got >= 0) {
            *ret = names;
            *ret_len = got;
            return 0;
        }
        free(names);
        if (errno != ERANGE)
            return -errno;
    }
}

/* Adds the xattrs of the node (sorted) to the entry; sets *RET_OPAQUE. */
static int add_xattrs(struct packer *p, int dfd, const char *name, int is_dir, int *ret_opaque,
                      struct error **err)
{
    char proc_path[PATH_MAX];
    snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d/%s", dfd, name);
    _cleanup_free_ char *names = NULL;
    ssize_t len;
    int r = list_xattrs(proc_path, &names, &len);
    if (r < 0)
        return error_set(err, -r, "list xattrs of '%s%s'", p->path, name);
    size_t n = 0;
    for (char *x = names; x && x < names + len; x += strlen(x) + 1)
        n++;
    _cleanup_free_ char **sorted = calloc(n + 1, sizeof(*sorted));
    if (!sorted)
        return error_set(err, ENOMEM, "xattrs");
    n = 0;
    for (char *x = names; x && x < names + len; x += strlen(x) + 1)
        sorted[n++] = x;
    if (n > 1)
        qsort(sorted, n, sizeof(*sorted), cmp_names);
    *ret_opaque = 0;
    char *val = NULL;
    for (size_t i = 0; i < n; i++) {
        ssize_t vlen = lgetxattr(proc_path, sorted[i], NULL, 0);
        if (vlen < 0 && errno == ENODATA)
            continue;
        if (vlen < 0) {
            r = error_set(err, errno, "read xattr '%s' of '%s%s'", sorted[i], p->path, name);
            break;
        }
        free(val);
        val = malloc((size_t)vlen + 1);
        if (!val) {
            r = error_set(err, ENOMEM, "xattrs");
            break;
        }
        vlen = lgetxattr(proc_path, sorted[i], val, (size_t)vlen);
        if (vlen < 0) {
            r = error_set(err, errno, "read xattr '%s' of '%s%s'", sorted[i], p->path, name);
            break;
        }
        switch (layer_pack_xattr(sorted[i], val, (size_t)vlen, is_dir, p->wmode)) {
        case PACK_XATTR_KEEP:
            archive_entry_xattr_add_entry(
                p->e, sorted[i], val,
                layer_pack_xattr_owners(sorted[i], val, (size_t)vlen, p->owners));
            break;
        case PACK_XATTR_DROP:
            break;
        case PACK_XATTR_OPAQUE:
            *ret_opaque = 1;
            break;
        case PACK_XATTR_REFUSE:
            r = error_set(err, ENOTSUP,
                          "'%s%s' has the union filesystem xattr '%s': a renamed directory or a "
                          "metadata-only copy cannot be packed (mount with "
                          "redirect_dir=off,metacopy=off)",
                          p->path, name, sorted[i]);
            break;
        }
        if (r < 0)
            break;
    }
    free(val);
    return r;
}

static int write_header(struct packer *p, struct error **err)
{
    if (archive_write_header(p->a, p->e) != ARCHIVE_OK)
        return archive_fail(p, "write header of", err);
    p->n_entries++;
    return 0;
}

/* A whiteout (or opaque marker) NAME in the current directory. */
static int write_marker(struct packer *p, const char *marker, const char *name, struct error **err)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s%s%s", p->path, marker, name) >= sizeof(path))
        return error_set(err, ENAMETOOLONG, "'%s%s'", p->path, name);
    archive_entry_clear(p->e);
    archive_entry_set_pathname(p->e, path);
    archive_entry_set_filetype(p->e, AE_IFREG);
    archive_entry_set_perm(p->e, 0);
    archive_entry_set_uid(p->e, 0);
    archive_entry_set_gid(p->e, 0);
    archive_entry_set_mtime(p->e, 0, 0);
    archive_entry_set_size(p->e, 0);
    return write_header(p, err);
}

static int write_data(struct packer *p, int dfd, const char *name, off_t size, struct error **err)
{
    _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return error_set(err, errno, "open '%s%s'", p->path, name);
    off_t done = 0;
    while (done < size) {
        size_t want = (size_t)(size - done) < PACK_BLOCK ? (size_t)(size - done) : PACK_BLOCK;
        ssize_t n = read(fd, p->buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return error_set(err, errno, "read '%s%s'", p->path, name);
        if (n == 0) {
            /* Shrank while we read: pad with zeros to the size in the header. */
            memset(p->buf, 0, want);
            n = (ssize_t)want;
        }
        if (archive_write_data(p->a, p->buf, (size_t)n) < 0)
            return archive_fail(p, "write data of", err);
        done += n;
    }
    return 0;
}

static const char *seen_link(struct packer *p, const struct stat *st)
{
    for (size_t i = 0; i < p->n_links; i++)
        if (p->links[i].dev == st->st_dev && p->links[i].ino == st->st_ino)
            return p->links[i].path;
    return NULL;
}

static int remember_link(struct packer *p, const struct stat *st, const char *path)
{
    struct seen_link *g = realloc(p->links, (p->n_links + 1) * sizeof(*g));
    if (!g)
        return -ENOMEM;
    p->links = g;
    g[p->n_links] = (struct seen_link){.dev = st->st_dev, .ino = st->st_ino, .path = strdup(path)};
    if (!g[p->n_links].path)
        return -ENOMEM;
    p->n_links++;
    return 0;
}

static int pack_dir(struct packer *p, int dfd, struct error **err);

/* NAME in DFD, as AS in the tar (AS is NAME but at the top of a copy). */
static int pack_node(struct packer *p, int dfd, const char *name, const char *as,
                     struct error **err)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return error_set(err, errno, "stat '%s%s'", p->path, name);
    switch (layer_pack_node(st.st_mode, st.st_rdev, p->wmode)) {
    case PACK_NODE_SKIP:
        return 0;
    case PACK_NODE_WHITEOUT:
        return write_marker(p, WHITEOUT_PREFIX, name, err);
    case PACK_NODE_ENTRY:
        break;
    }
    if (!p->copy && !strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)))
        return error_set(err, EINVAL,
                         "'%s%s': a file name starting with '.wh.' cannot be in a layer", p->path,
                         name);
    char path[PATH_MAX];
    bool is_dir = S_ISDIR(st.st_mode);
    /* A mount point of another file system: itself, empty. */
    bool foreign = p->one_fs && st.st_dev != p->top_dev;
    if (foreign && S_ISREG(st.st_mode))
        st.st_size = 0;
    if ((size_t)snprintf(path, sizeof(path), "%s%s%s", p->path, as, is_dir ? "/" : "") >=
        sizeof(path))
        return error_set(err, ENAMETOOLONG, "'%s%s'", p->path, name);
    archive_entry_clear(p->e);
    archive_entry_set_pathname(p->e, path);
    archive_entry_set_perm(p->e, st.st_mode & 07777);
    archive_entry_set_uid(p->e, p->owners ? p->owners->uid(p->owners->ctx, st.st_uid) : st.st_uid);
    archive_entry_set_gid(p->e, p->owners ? p->owners->gid(p->owners->ctx, st.st_gid) : st.st_gid);
    archive_entry_set_mtime(p->e, st.st_mtim.tv_sec, 0);
    int opaque = 0;
    int r = add_xattrs(p, dfd, name, is_dir, &opaque, err);
    if (r < 0)
        return r;
    const char *link_to = NULL;
    if (S_ISREG(st.st_mode)) {
        archive_entry_set_filetype(p->e, AE_IFREG);
        if (st.st_nlink > 1) {
            link_to = seen_link(p, &st);
            if (!link_to && remember_link(p, &st, path) < 0)
                return error_set(err, ENOMEM, "hardlinks");
        }
        if (link_to) {
            archive_entry_set_hardlink(p->e, link_to);
            archive_entry_set_size(p->e, 0);
        } else {
            archive_entry_set_size(p->e, st.st_size);
        }
    } else if (is_dir) {
        archive_entry_set_filetype(p->e, AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
        if (n < 0)
            return error_set(err, errno, "read link '%s'", path);
        target[n] = '\0';
        archive_entry_set_filetype(p->e, AE_IFLNK);
        archive_entry_set_symlink(p->e, target);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        archive_entry_set_filetype(p->e, S_ISCHR(st.st_mode) ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdev(p->e, st.st_rdev);
    } else if (S_ISFIFO(st.st_mode)) {
        archive_entry_set_filetype(p->e, AE_IFIFO);
    }
    r = write_header(p, err);
    if (r < 0)
        return r;
    if (S_ISREG(st.st_mode) && !link_to && st.st_size > 0)
        return write_data(p, dfd, name, st.st_size, err);
    if (!is_dir)
        return 0;

    size_t saved = strlen(p->path);
    snprintf(p->path + saved, sizeof(p->path) - saved, "%s/", as);
    if (opaque && (r = write_marker(p, "", OPAQUE_NAME, err)) < 0)
        return r;
    _cleanup_close_ int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
        r = error_set(err, errno, "open '%s'", p->path);
    else if (!foreign && !(p->copy && fd_on_kernel_fs(sub))) /* a running one's /proc: empty */
        r = pack_dir(p, sub, err);
    p->path[saved] = '\0';
    return r;
}

static int pack_dir(struct packer *p, int dfd, struct error **err)
{
    char **names = NULL;
    size_t n = 0;
    int r = read_names(dfd, &names, &n, err);
    if (r < 0)
        return error_prefix(err, "'%s'", p->path);
    for (size_t i = 0; i < n && r == 0; i++)
        r = pack_node(p, dfd, names[i], names[i], err);
    names_free(names, n);
    return r;
}

/* P's archive writing to OUT: ustar where it suffices, PAX records only
 * for what needs them (xattrs, long names), no time or pid in any header,
 * no padding of the last block (an empty layer is the usual 1024 zero bytes). */
static int packer_open(struct packer *p, int out, struct error **err)
{
    p->a = archive_write_new();
    p->e = archive_entry_new();
    p->buf = malloc(PACK_BLOCK);
    if (!p->a || !p->e || !p->buf)
        return error_set(err, ENOMEM, "pack");
    if (archive_write_set_format_pax_restricted(p->a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(p->a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(p->a, out) != ARCHIVE_OK)
        return archive_fail(p, "open", err);
    return 0;
}

static void packer_done(struct packer *p)
{
    if (p->a)
        archive_write_free(p->a);
    if (p->e)
        archive_entry_free(p->e);
    free(p->buf);
    for (size_t i = 0; i < p->n_links; i++)
        free(p->links[i].path);
    free(p->links);
}

int layer_pack(const char *dir, const char *tar_path, unsigned whiteout_mode,
               const struct layer_pack_owners *owners, size_t *ret_n_entries, struct error **err)
{
    if (whiteout_mode != LAYER_PACK_PLAIN && whiteout_mode != LAYER_PACK_CHARDEV)
        return error_set(err, EINVAL, "pack layer: unknown whiteout mode %u", whiteout_mode);
    int r = archive_lazy_load(err);
    if (r < 0)
        return r;
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return error_set(err, errno, "open '%s'", dir);
    int out = open(tar_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return error_set(err, errno, "create '%s'", tar_path);
    struct packer p = {.wmode = whiteout_mode, .owners = owners};
    r = packer_open(&p, out, err);
    if (r == 0)
        r = pack_dir(&p, dfd, err);
    if (r == 0 && archive_write_close(p.a) != ARCHIVE_OK)
        r = archive_fail(&p, "finish", err);
    if (r == 0 && fsync(out) < 0)
        r = error_set(err, errno, "write '%s'", tar_path);
    packer_done(&p);
    if (close(out) < 0 && r == 0)
        r = error_set(err, errno, "write '%s'", tar_path);
    if (r < 0) {
        unlink(tar_path);
        return error_prefix(err, "pack '%s'", dir);
    }
    if (ret_n_entries)
        *ret_n_entries = p.n_entries;
    return 0;
}

static int pack_copy(int dir_fd, const char *name, const char *as, int out_fd, bool one_fs,
                     struct error **err)
{
    int r = archive_lazy_load(err);
    if (r < 0)
        return r;
    struct packer p = {.wmode = LAYER_PACK_PLAIN, .copy = true, .one_fs = one_fs};
    struct stat top;
    if (one_fs && fstatat(dir_fd, name, &top, AT_SYMLINK_NOFOLLOW) < 0)
        return error_set(err, errno, "stat '%s'", name);
    p.top_dev = one_fs ? top.st_dev : 0;
    r = packer_open(&p, out_fd, err);
    if (r == 0)
        r = pack_node(&p, dir_fd, name, as, err);
    if (r == 0 && archive_write_close(p.a) != ARCHIVE_OK)
        r = archive_fail(&p, "finish", err);
    packer_done(&p);
    return r;
}

int layer_pack_copy(int dir_fd, const char *name, const char *as, int out_fd, struct error **err)
{
    return pack_copy(dir_fd, name, as, out_fd, false, err);
}

int layer_pack_copy_one_fs(int dir_fd, const char *name, const char *as, int out_fd,
                           struct error **err)
{
    return pack_copy(dir_fd, name, as, out_fd, true, err);
}
