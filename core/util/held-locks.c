#include "held-locks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs-util.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * One line of /proc/locks (fs/locks.c, lock_get_status):
 *   "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
 *   "1: -> FLOCK  ADVISORY  WRITE 1235 08:01:5678 0 EOF"   (a waiter)
 * The device's major and minor are hex, the inode decimal.
 */
static int parse_line(const char *line, dev_t dev, uint64_t *ret_inode)
{
    if (strstr(line, " -> "))
        return 0;
    char id[32], type[32], kind[32], mode[32];
    long pid;
    unsigned maj, min;
    uint64_t ino;
    if (sscanf(line, "%31s %31s %31s %31s %ld %x:%x:%" SCNu64, id, type, kind, mode, &pid, &maj,
               &min, &ino) != 8)
        return 0;
    if (makedev(maj, min) != dev)
        return 0;
    *ret_inode = ino;
    return 1;
}

int held_locks_parse(const char *text, dev_t dev, struct held_locks *ret)
{
    struct held_locks l = {0};
    size_t cap = 0;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[256];
        uint64_t ino;
        if (len < sizeof(line)) {
            memcpy(line, p, len);
            line[len] = '\0';
            if (parse_line(line, dev, &ino)) {
                if (l.n == cap) {
                    size_t ncap = cap ? cap * 2 : 64;
                    uint64_t *grown = realloc(l.inodes, ncap * sizeof(*grown));
                    if (!grown) {
                        free(l.inodes);
                        return -ENOMEM;
                    }
                    l.inodes = grown;
                    cap = ncap;
                }
                l.inodes[l.n++] = ino;
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    if (l.n)
        qsort(l.inodes, l.n, sizeof(*l.inodes), cmp_u64);
    *ret = l;
    return 0;
}

int held_locks_load(dev_t dev, struct held_locks *ret)
{
    char *text = NULL;
    struct error *err = NULL;
    int r = read_file("/proc/locks", &text, NULL, &err);
    error_free(&err);
    if (r < 0)
        return r;
    r = held_locks_parse(text, dev, ret);
    free(text);
    return r;
}

int held_locks_has(const struct held_locks *l, uint64_t inode)
{
    return l->n && bsearch(&inode, l->inodes, l->n, sizeof(*l->inodes), cmp_u64) != NULL;
}

void held_locks_free(struct held_locks *l)
{
    if (!l)
        return;
    free(l->inodes);
    l->inodes = NULL;
    l->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int held_locks_names(const char *dir, const char *suffix, char ***ret, size_t *ret_n)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct stat st;
    if (fstat(dirfd(d), &st) < 0)
        return -errno;
    struct held_locks held = {0};
    int r = held_locks_load(st.st_dev, &held);
    if (r < 0)
        return r;
    size_t slen = strlen(suffix), n = 0, cap = 0;
    char **names = NULL;
    int checked = 0;
    struct dirent *de;
    r = 0;
    while (r == 0 && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= slen || strcmp(de->d_name + len - slen, suffix) != 0)
            continue;
        if (!checked) {
            /* Some file systems (overlayfs) may report other inode numbers
             * in a directory than stat does: then this filter is off. */
            struct stat fst;
            if (fstatat(dirfd(d), de->d_name, &fst, AT_SYMLINK_NOFOLLOW) == 0 &&
                (fst.st_ino != de->d_ino || fst.st_dev != st.st_dev))
                r = -EXDEV;
            checked = 1;
            if (r < 0)
                break;
        }
        if (!held_locks_has(&held, de->d_ino))
            continue;
        if (n + 1 >= cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **grown = realloc(names, ncap * sizeof(*grown));
            if (!grown) {
                r = -ENOMEM;
                break;
            }
            names = grown;
            cap = ncap;
        }
        names[n] = strndup(de->d_name, len - slen);
        if (!names[n]) {
            r = -ENOMEM;
            break;
        }
        names[++n] = NULL;
    }
    held_locks_free(&held);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return r;
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    *ret = names ? names : calloc(1, sizeof(char *));
    *ret_n = n;
    return *ret ? 0 : -ENOMEM;
}

int held_locks_names_has(char *const *names, size_t n, const char *name)
{
    return n && bsearch(&name, names, n, sizeof(*names), cmp_str) != NULL;
}
