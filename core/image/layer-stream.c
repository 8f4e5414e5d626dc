/* A layer blob decompressed on a thread into a pipe (layer-stream.h). */
#include "image/layer-stream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "image/diff-digest.h"
#include "util/cleanup.h"

/* Compressed bytes read at a time, and the pipe's size asked for. */
#define READ_BLOCK (1024 * 1024)
#define PIPE_BYTES (1024 * 1024)

struct layer_stream {
    pthread_t thread;
    int in_fd; /* the blob */
    int wfd;   /* the pipe's write end: the thread's */
    int rfd;   /* its read end: the reader's */
    atomic_bool stop;
    struct diff_digest *dec;
    struct error *err; /* the thread's; read once it is joined */
    int r;
};

static int to_pipe(void *ud, const void *data, size_t len)
{
    struct layer_stream *s = ud;
    const char *p = data;
    while (len > 0) {
        if (atomic_load(&s->stop))
            return -ECANCELED;
        ssize_t w = write(s->wfd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void *decode_main(void *arg)
{
    struct layer_stream *s = arg;
    char *buf = malloc(READ_BLOCK);
    s->r = buf ? 0 : error_set(&s->err, ENOMEM, "decompress");
    while (s->r == 0) {
        ssize_t n = read(s->in_fd, buf, READ_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            s->r = error_set(&s->err, errno, "read layer");
        else if (n == 0)
            break;
        else
            s->r = diff_digest_update(s->dec, buf, (size_t)n, &s->err);
    }
    if (s->r == 0)
        s->r = diff_digest_finish(s->dec, NULL, &s->err);
    free(buf);
    /* The reader sees the end of the stream. */
    close(s->wfd);
    s->wfd = -1;
    return NULL;
}

static void stream_free(struct layer_stream *s)
{
    if (s->in_fd >= 0)
        close(s->in_fd);
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->rfd >= 0)
        close(s->rfd);
    diff_digest_free(s->dec);
    error_free(&s->err);
    free(s);
}

int layer_stream_open(const char *path, struct layer_stream **ret, int *ret_fd, struct error **err)
{
    int r = diff_digest_load(DIFF_GZIP_BEST, err);
    if (r < 0)
        return r;
    struct layer_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return error_set(err, ENOMEM, "decompress");
    s->in_fd = s->wfd = s->rfd = -1;
    atomic_init(&s->stop, false);
    s->in_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->in_fd < 0) {
        r = error_set(err, errno, "open '%s'", path);
        stream_free(s);
        return r;
    }
    posix_fadvise(s->in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        r = error_set(err, errno, "pipe");
        stream_free(s);
        return r;
    }
    s->rfd = fds[0];
    s->wfd = fds[1];
    /* Fewer wake-ups; the default 64 KiB works too. */
    (void)fcntl(s->wfd, F_SETPIPE_SZ, PIPE_BYTES);
    r = diff_digest_new_sink(DIFF_GZIP_BEST, to_pipe, s, &s->dec, err);
    if (r < 0) {
        stream_free(s);
        return r;
    }
    int e = pthread_create(&s->thread, NULL, decode_main, s);
    if (e != 0) {
        r = error_set(err, e, "start the decompressing thread");
        stream_free(s);
        return r;
    }
    *ret = s;
    *ret_fd = s->rfd;
    return 0;
}

int layer_stream_close(struct layer_stream *s, bool abandon, struct error **err)
{
    if (!s)
        return 0;
    /* Abandoned, the thread stops at its next write; either way draining
     * lets it write until it is done. */
    if (abandon)
        atomic_store(&s->stop, true);
    char junk[64 * 1024];
    for (;;) {
        ssize_t n = read(s->rfd, junk, sizeof(junk));
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
    }
    pthread_join(s->thread, NULL);
    int r = abandon && s->r == -ECANCELED ? 0 : s->r;
    if (r < 0)
        *err = TAKE_PTR(s->err);
    stream_free(s);
    return r;
}
