/* Unit tests for core/util/chunk-pipe.c: order, back-pressure, failure, abort. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/chunk-pipe.h"

struct sink {
    unsigned char *got;
    size_t len;
    size_t calls;
    size_t fail_after; /* fail once this many bytes were taken; 0: never */
    int slow;          /* sleep a little per call: the producer must wait */
};

static int consume(void *ud, const void *data, size_t len)
{
    struct sink *s = ud;
    s->calls++;
    if (s->slow) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    if (s->fail_after && s->len + len > s->fail_after)
        return -EPROTO;
    memcpy(s->got + s->len, data, len);
    s->len += len;
    return 0;
}

static void run(size_t cap, size_t total, size_t chunk, int slow)
{
    unsigned char *src = malloc(total);
    assert_non_null(src);
    for (size_t i = 0; i < total; i++)
        src[i] = (unsigned char)(i * 131 + i / 977);
    struct sink s = {.got = malloc(total), .slow = slow};
    assert_non_null(s.got);
    struct chunk_pipe *p = NULL;
    assert_int_equal(chunk_pipe_start(cap, consume, &s, &p), 0);
    for (size_t off = 0; off < total; off += chunk) {
        size_t n = total - off < chunk ? total - off : chunk;
        assert_int_equal(chunk_pipe_write(p, src + off, n), 0);
        assert_true(chunk_pipe_pending(p) <= cap);
    }
    assert_int_equal(chunk_pipe_finish(p), 0);
    assert_int_equal(s.len, total);
    assert_memory_equal(s.got, src, total);
    free(src);
    free(s.got);
}

static void test_order(void **state)
{
    (void)state;
    run(1 << 20, 5 << 20, 16384, 0);
    /* Chunks larger than the ring and not dividing it: wrap-around everywhere. */
    run(1000, 100000, 777, 0);
    run(4096, 50000, 10000, 1);
    run(64, 3, 1, 0);
    run(64, 0, 1, 0);
}

static void test_failure(void **state)
{
    (void)state;
    size_t total = 200000;
    unsigned char *src = calloc(1, total);
    struct sink s = {.got = malloc(total), .fail_after = 50000};
    struct chunk_pipe *p = NULL;
    assert_int_equal(chunk_pipe_start(4096, consume, &s, &p), 0);
    int r = 0;
    for (size_t off = 0; off < total && r == 0; off += 1000)
        r = chunk_pipe_write(p, src + off, 1000);
    /* The failure reaches the producer, at a write or at finish, never lost. */
    int f = chunk_pipe_finish(p);
    assert_true(r == -EPROTO || f == -EPROTO);
    assert_int_equal(f, -EPROTO);
    assert_true(s.len <= 50000);
    free(src);
    free(s.got);
}

static void test_abort(void **state)
{
    (void)state;
    unsigned char data[5000] = {0};
    struct sink s = {.got = malloc(1 << 20), .slow = 1};
    struct chunk_pipe *p = NULL;
    assert_int_equal(chunk_pipe_start(8192, consume, &s, &p), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(chunk_pipe_write(p, data, sizeof(data)), 0);
    chunk_pipe_abort(p);
    chunk_pipe_abort(NULL);
    assert_true(s.len <= 20 * sizeof(data));
    free(s.got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_failure),
        cmocka_unit_test(test_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
