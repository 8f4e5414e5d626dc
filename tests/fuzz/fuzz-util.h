/*
 * Helpers shared by the libFuzzer targets: one private directory under /tmp
 * per process (removed at exit), input copies as NUL-terminated strings, and
 * small file helpers. Everything a target writes stays under that directory.
 */
#ifndef BERTH_FUZZ_UTIL_H
#define BERTH_FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* No core headers here: the plugin targets compile plugin sources, whose
 * own cleanup helpers would clash with the core's. */

/* Aborts with a message: libFuzzer then saves the input as a crash. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char fuzz_dir_path[512];

static int fuzz_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) < 0 && errno != ENOENT) {
        fprintf(stderr, "fuzz: cannot remove '%s': %m\n", path);
        return -1;
    }
    return 0;
}

/* Removes PATH and everything below it, never following a symlink or
 * crossing a mount point. */
static inline int fuzz_rm_rf_quiet(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void fuzz_dir_remove(void)
{
    if (fuzz_dir_path[0])
        (void)fuzz_rm_rf_quiet(fuzz_dir_path);
}

/* The process's private directory, made on first use, under $TMPDIR:
 * scripts/fuzz.sh points it into its own work directory, which goes even
 * when a crash skips the atexit removal. */
static inline const char *fuzz_dir(void)
{
    if (!fuzz_dir_path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/berth-fuzz-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fuzz_dir_path)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_dir_remove);
    }
    return fuzz_dir_path;
}

/* A NUL-terminated copy of the input (an embedded NUL ends the string early,
 * as it would for any C caller). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_ASSERT(s);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static inline void fuzz_write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FUZZ_ASSERT(fd >= 0);
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        FUZZ_ASSERT(n > 0);
        p += n;
        size -= (size_t)n;
    }
    FUZZ_ASSERT(close(fd) == 0);
}

static inline void fuzz_rm_rf(const char *path)
{
    FUZZ_ASSERT(fuzz_rm_rf_quiet(path) == 0);
}

/* The number of entries of DIR besides "." and "..", and the name of the
 * last one seen in RET_NAME (when not NULL, at least 256 bytes). */
static inline size_t fuzz_dir_entries(const char *dir, char *ret_name)
{
    DIR *d = opendir(dir);
    FUZZ_ASSERT(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (ret_name)
            snprintf(ret_name, 256, "%s", de->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* Splits the input at the first "\n---\n" (or returns it all as the first
 * part and "" as the second). Both parts are fresh strings. */
static inline void fuzz_split(const uint8_t *data, size_t size, char **ret_a, char **ret_b)
{
    static const char sep[] = "\n---\n";
    const uint8_t *m = memmem(data, size, sep, sizeof(sep) - 1);
    if (!m) {
        *ret_a = fuzz_strndup(data, size);
        *ret_b = fuzz_strndup(data, 0);
        return;
    }
    size_t a = (size_t)(m - data);
    *ret_a = fuzz_strndup(data, a);
    *ret_b = fuzz_strndup(m + sizeof(sep) - 1, size - a - (sizeof(sep) - 1));
}

#endif
