/* SPDX-License-Identifier: MIT */
/*
 * Small helpers of the "local" volume driver: names, the flat JSON it is
 * given and gives back (a plugin links nothing but libc), sizes, and
 * deleting a tree a container wrote.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "local.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

int volume_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 128 || !isalnum((unsigned char)name[0]) || strstr(name, ".."))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
            return 0;
    return 1;
}

int container_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]))
            return 0;
    return 1;
}

void kv_free(struct kv *kv, int n)
{
    for (int i = 0; kv && i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Reads a JSON string at *P (at its opening quote); only the escapes a
 * printer of option text produces are needed, \uXXXX below 0x80 included. */
static char *parse_string(const char **p)
{
    const char *s = *p;
    if (*s++ != '"')
        return NULL;
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    while (*s && *s != '"') {
        char c = *s++;
        if (c == '\\') {
            char e = *s++;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                c = e;
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    if (!isxdigit((unsigned char)s[i])) {
                        free(out);
                        return NULL;
                    }
                    v = v * 16 + (unsigned)(isdigit((unsigned char)s[i])
                                                ? s[i] - '0'
                                                : (tolower((unsigned char)s[i]) - 'a' + 10));
                }
                s += 4;
                if (v == 0 || v >= 0x80) {
                    free(out);
                    return NULL;
                }
                c = (char)v;
                break;
            }
            default:
                free(out);
                return NULL;
            }
        }
        out[n++] = c;
    }
    if (*s != '"') {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *p = s + 1;
    return out;
}

int kv_parse_json(const char *json, struct kv **ret)
{
    const char *p = skip_ws(json ? json : "{}");
    struct kv *kv = NULL;
    int n = 0;
    if (*p++ != '{')
        return -EINVAL;
    p = skip_ws(p);
    if (*p == '}')
        goto done;
    for (;;) {
        struct kv *grown = realloc(kv, (size_t)(n + 1) * sizeof(*kv));
        if (!grown)
            goto fail;
        kv = grown;
        kv[n].key = parse_string(&p);
        kv[n].value = NULL;
        n++;
        if (!kv[n - 1].key)
            goto fail;
        p = skip_ws(p);
        if (*p++ != ':')
            goto fail;
        p = skip_ws(p);
        if (!(kv[n - 1].value = parse_string(&p)))
            goto fail;
        p = skip_ws(p);
        if (*p == ',') {
            p = skip_ws(p + 1);
            continue;
        }
        if (*p == '}')
            break;
        goto fail;
    }
done:
    p = skip_ws(p + 1);
    if (*p)
        goto fail;
    *ret = kv;
    return n;
fail:
    kv_free(kv, n);
    return -EINVAL;
}

static int buf_append(char **buf, size_t *len, const char *s, size_t n)
{
    char *grown = realloc(*buf, *len + n + 1);
    if (!grown)
        return -ENOMEM;
    memcpy(grown + *len, s, n);
    *len += n;
    grown[*len] = '\0';
    *buf = grown;
    return 0;
}

int buf_printf(char **buf, size_t *len, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof(small))
        return buf_append(buf, len, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int r = buf_append(buf, len, big, (size_t)n);
    free(big);
    return r;
}

int json_put_string(char **buf, size_t *len, const char *text)
{
    int r = buf_append(buf, len, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)text; r == 0 && *c; c++) {
        if (*c == '"' || *c == '\\') {
            char esc[2] = {'\\', (char)*c};
            r = buf_append(buf, len, esc, 2);
        } else if (*c < 0x20) {
            r = buf_printf(buf, len, "\\u%04x", *c);
        } else {
            r = buf_append(buf, len, (const char *)c, 1);
        }
    }
    return r ? r : buf_append(buf, len, "\"", 1);
}

int parse_size(const char *text, uint64_t *ret)
{
    if (!text || !isdigit((unsigned char)*text))
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno)
        return -EINVAL;
    unsigned shift = 0;
    switch (tolower((unsigned char)*end)) {
    case 'k':
        shift = 10;
        break;
    case 'm':
        shift = 20;
        break;
    case 'g':
        shift = 30;
        break;
    case 't':
        shift = 40;
        break;
    case 'b':
    case '\0':
        break;
    default:
        return -EINVAL;
    }
    if (shift)
        end++;
    /* An optional "b", "ib" or "iB" after the unit ("10MB", "10MiB"). */
    if (shift && tolower((unsigned char)*end) == 'i')
        end++;
    if (tolower((unsigned char)*end) == 'b')
        end++;
    if (*end || v == 0 || v > (UINT64_MAX >> shift))
        return -EINVAL;
    *ret = (uint64_t)v << shift;
    return 0;
}

/* Opens DIR_FD/NAME as a directory: no symlink, no mount point, same device. */
static int open_subdir(int dir_fd, const char *name, dev_t dev, struct stat *ret_st)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES && fchmodat(dir_fd, name, 0700, 0) == 0)
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MODE, &stx) < 0 ||
        ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) ||
        fstat(fd, ret_st) < 0 || (dev && ret_st->st_dev != dev)) {
        close(fd);
        return -EBUSY;
    }
    /* Entries can only be unlinked from a writable directory. */
    if ((ret_st->st_mode & 0700) != 0700)
        fchmod(fd, (ret_st->st_mode & 07777) | 0700);
    return fd;
}

/*
 * Depth-first with one directory open at a time: after emptying a child the
 * walk climbs back through "..", checking it arrives at the inode it left,
 * so a tree deeper than any descriptor limit is no problem and a directory
 * swapped for a symlink meanwhile is noticed.
 */
int remove_tree(int dir_fd, const char *name)
{
    struct stat st = {0};
    int fd = open_subdir(dir_fd, name, 0, &st);
    if (fd == -ENOENT)
        return 0;
    if (fd == -ENOTDIR || fd == -ELOOP)
        return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
    if (fd < 0)
        return fd;
    dev_t dev = st.st_dev;
    struct stat *path = NULL; /* the inodes from the top down to the current dir's parent */
    size_t depth = 0;
    int r = 0;
    for (;;) {
        /* A new open file description: a dup would share (and keep) the offset. */
        int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
            if (dup_fd >= 0)
                close(dup_fd);
            r = -ENOMEM;
            break;
        }
        struct dirent *de;
        int descended = 0;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            if (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT)
                continue;
            if (errno != EISDIR) {
                r = -errno;
                break;
            }
            struct stat cst;
            int child = open_subdir(fd, de->d_name, dev, &cst);
            if (child < 0) {
                r = child;
                break;
            }
            struct stat *grown = realloc(path, (depth + 1) * sizeof(*path));
            if (!grown) {
                close(child);
                r = -ENOMEM;
                break;
            }
            path = grown;
            fstat(fd, &path[depth++]);
            close(fd);
            fd = child;
            descended = 1;
            break;
        }
        closedir(d);
        if (r < 0)
            break;
        if (descended)
            continue;
        /* fd is empty: climb to its parent and remove it there. */
        if (depth == 0)
            break;
        struct stat here;
        fstat(fd, &here);
        int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat pst;
        if (parent < 0 || fstat(parent, &pst) < 0 || pst.st_ino != path[depth - 1].st_ino ||
            pst.st_dev != path[depth - 1].st_dev) {
            if (parent >= 0)
                close(parent);
            r = -ESTALE;
            break;
        }
        close(fd);
        fd = parent;
        depth--;
        /* Find the emptied child by inode: its name is not kept. */
        int pd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *pdir = pd >= 0 ? fdopendir(pd) : NULL;
        if (!pdir) {
            if (pd >= 0)
                close(pd);
            r = -ENOMEM;
            break;
        }
        while ((de = readdir(pdir)))
            if (de->d_ino == here.st_ino && strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                if (unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                    r = -errno;
                break;
            }
        closedir(pdir);
        if (r < 0)
            break;
    }
    free(path);
    close(fd);
    if (r < 0)
        return r;
    return unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}
