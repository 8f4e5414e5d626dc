/* SPDX-License-Identifier: MIT */
/* The driver's few metadata files (a layer's link and chains): read whole,
 * replaced atomically so a reader never sees half of one. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "overlay.h"

#define SMALL_FILE_MAX (1u << 20)

int read_text_at(int dir_fd, const char *path, char **ret)
{
    _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 256, len = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= SMALL_FILE_MAX)
                return -EFBIG;
            char *nbuf = realloc(buf, cap * 2);
            if (!nbuf)
                return -ENOMEM;
            buf = nbuf;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (strlen(buf) != len)
        return -EBADMSG; /* a NUL inside: not ours */
    *ret = buf;
    buf = NULL;
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int write_text_at(int dir_fd, const char *name, const char *text)
{
    uint32_t rnd;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -errno;
    char tmp[64];
    snprintf(tmp, sizeof(tmp), ".%s.%08" PRIx32, name, rnd);
    int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int r = write_all(fd, text, strlen(text));
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
        r = -errno;
    if (r < 0) {
        unlinkat(dir_fd, tmp, 0);
        return r;
    }
    fsync(dir_fd);
    return 0;
}

int id_text_valid(const char *id)
{
    if (!id || !*id || strlen(id) > 255)
        return 0;
    for (const char *p = id; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:+._=-", *p))
            return 0;
    return 1;
}
