/* A bounded byte pipe with a consumer thread (chunk-pipe.h). */
#include "util/chunk-pipe.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The consumer takes at most this much at once, so that the producer gets room back early. */
#define TAKE_MAX (1024 * 1024)

struct chunk_pipe {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* data added, data taken, closed or aborted */
    unsigned char *ring;
    size_t cap;
    size_t head; /* where the next byte is written */
    size_t used; /* bytes written and not yet released by the consumer */
    bool closed;
    bool aborted;
    int failure; /* the consumer's first failure */
    chunk_consume_fn consume;
    void *userdata;
};

static void *consumer(void *arg)
{
    struct chunk_pipe *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->used == 0 && !p->closed && !p->aborted)
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->aborted || p->used == 0)
            break;
        size_t tail = (p->head + p->cap - p->used) % p->cap;
        size_t n = p->used;
        if (n > p->cap - tail)
            n = p->cap - tail; /* up to the end of the ring; the rest next time */
        if (n > TAKE_MAX)
            n = TAKE_MAX;
        int failed = p->failure;
        pthread_mutex_unlock(&p->lock);
        /* The span stays counted in USED while it is read: the producer cannot overwrite it. */
        int r = failed ? 0 : p->consume(p->userdata, p->ring + tail, n);
        pthread_mutex_lock(&p->lock);
        if (r < 0 && !p->failure)
            p->failure = r;
        p->used -= n;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int chunk_pipe_start(size_t capacity, chunk_consume_fn consume, void *userdata,
                     struct chunk_pipe **ret)
{
    struct chunk_pipe *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->ring = malloc(capacity);
    if (!p->ring) {
        free(p);
        return -ENOMEM;
    }
    p->cap = capacity;
    p->consume = consume;
    p->userdata = userdata;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    int r = pthread_create(&p->thread, NULL, consumer, p);
    if (r != 0) {
        pthread_cond_destroy(&p->changed);
        pthread_mutex_destroy(&p->lock);
        free(p->ring);
        free(p);
        return -r;
    }
    *ret = p;
    return 0;
}

int chunk_pipe_write(struct chunk_pipe *p, const void *data, size_t len)
{
    const unsigned char *src = data;
    pthread_mutex_lock(&p->lock);
    while (len > 0 && !p->failure) {
        while (p->used == p->cap && !p->failure)
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->failure)
            break;
        size_t n = p->cap - p->used;
        if (n > p->cap - p->head)
            n = p->cap - p->head;
        if (n > len)
            n = len;
        /* Under the lock: a download's chunk is small, the copy short. */
        memcpy(p->ring + p->head, src, n);
        p->head = (p->head + n) % p->cap;
        p->used += n;
        src += n;
        len -= n;
        pthread_cond_broadcast(&p->changed);
    }
    int r = p->failure;
    pthread_mutex_unlock(&p->lock);
    return r;
}

size_t chunk_pipe_pending(struct chunk_pipe *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->used;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* After the thread was joined. */
static void pipe_free(struct chunk_pipe *p)
{
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    free(p->ring);
    free(p);
}

int chunk_pipe_finish(struct chunk_pipe *p)
{
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    /* The consumer leaves once the pipe is empty and closed. */
    pthread_join(p->thread, NULL);
    int r = p->failure;
    pipe_free(p);
    return r;
}

void chunk_pipe_abort(struct chunk_pipe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->aborted = true;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pipe_free(p);
}
