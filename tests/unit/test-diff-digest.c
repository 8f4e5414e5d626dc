/* Unit tests for core/image/diff-digest.c: the diff_id of a blob pushed in chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "image/diff-digest.h"
#include "util/sha256.h"

struct buf {
    unsigned char *p;
    size_t len;
};

static void buf_free(struct buf *b)
{
    free(b->p);
    *b = (struct buf){0};
}

static void buf_append(struct buf *b, const void *data, size_t len)
{
    b->p = realloc(b->p, b->len + len + 1);
    assert_non_null(b->p);
    memcpy(b->p + b->len, data, len);
    b->len += len;
}

/* LEN bytes that compress somewhat, as a tar does: text with repeats and noise. */
static struct buf sample(size_t len, unsigned seed)
{
    struct buf b = {0};
    b.p = malloc(len + 1);
    assert_non_null(b.p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        b.p[i] = (x >> 16) % 7 == 0 ? (unsigned char)(x >> 8) : (unsigned char)("layer "[i % 6]);
    }
    b.len = len;
    return b;
}

static struct buf gzip_of(const struct buf *in)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    struct buf out = {0};
    out.p = malloc(deflateBound(&z, in->len) + 64);
    assert_non_null(out.p);
    z.next_in = in->p;
    z.avail_in = (uInt)in->len;
    z.next_out = out.p;
    z.avail_out = (uInt)deflateBound(&z, in->len) + 64;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = z.total_out;
    deflateEnd(&z);
    return out;
}

static struct buf zstd_of(const struct buf *in)
{
    struct buf out = {0};
    size_t cap = ZSTD_compressBound(in->len);
    out.p = malloc(cap);
    assert_non_null(out.p);
    out.len = ZSTD_compress(out.p, cap, in->p, in->len, 3);
    assert_false(ZSTD_isError(out.len));
    return out;
}

static void sha(const struct buf *b, char *out)
{
    sha256_buffer(b->p, b->len, out);
}

/* Hash on a thread of its own (1) or inline (0): both must give the same. */
static int hash_thread;

/* Pushes BLOB in chunks of CHUNK bytes; returns finish's result, the digest in OUT. */
static int digest_of(enum diff_gzip_backend be, const struct buf *blob, size_t chunk, char *out)
{
    struct diff_digest *d = NULL;
    struct error *err = NULL;
    assert_int_equal(diff_digest_load(be, &err), 0);
    assert_int_equal(diff_digest_new(be, hash_thread, &d, &err), 0);
    int r = 0;
    for (size_t off = 0; off < blob->len && r == 0; off += chunk) {
        size_t n = blob->len - off < chunk ? blob->len - off : chunk;
        r = diff_digest_update(d, blob->p + off, n, &err);
    }
    if (r == 0)
        r = diff_digest_finish(d, out, &err);
    if (r < 0) {
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "stream"));
    }
    error_free(&err);
    diff_digest_free(d);
    return r;
}

static const size_t chunks[] = {1, 3, 4, 5, 4096, 100000, 1u << 30};

static void check_all_chunks(enum diff_gzip_backend be, const struct buf *blob, const char *want)
{
    for (hash_thread = 0; hash_thread < 2; hash_thread++)
        for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
            /* Byte by byte only on small blobs: it is slow. */
            if (chunks[i] < 16 && blob->len > 200000)
                continue;
            char got[DIGEST_STR_LEN + 1] = "";
            assert_int_equal(digest_of(be, blob, chunks[i], got), 0);
            assert_string_equal(got, want);
        }
    hash_thread = 1; /* the failure cases below: with the thread, as a pull runs them */
}

static void test_plain(void **state)
{
    (void)state;
    struct buf t = sample(300000, 1);
    char want[DIGEST_STR_LEN + 1];
    sha(&t, want);
    check_all_chunks(DIFF_GZIP_BEST, &t, want);
    /* Shorter than any magic number, and empty. */
    struct buf s = {0};
    buf_append(&s, "ab", 2);
    sha(&s, want);
    check_all_chunks(DIFF_GZIP_BEST, &s, want);
    struct buf e = {0};
    char got[DIGEST_STR_LEN + 1];
    assert_int_equal(digest_of(DIFF_GZIP_BEST, &e, 1, got), 0);
    assert_string_equal(got,
                        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    buf_free(&t);
    buf_free(&s);
}

static void gzip_cases(enum diff_gzip_backend be)
{
    struct buf t1 = sample(1500000, 2), t2 = sample(70000, 3);
    struct buf g1 = gzip_of(&t1), g2 = gzip_of(&t2);
    char want[DIGEST_STR_LEN + 1], got[DIGEST_STR_LEN + 1];
    sha(&t1, want);
    check_all_chunks(be, &g1, want);

    /* Two members: the digest of both outputs, as libarchive unpacks both. */
    struct buf both = {0}, all = {0};
    buf_append(&both, g1.p, g1.len);
    buf_append(&both, g2.p, g2.len);
    buf_append(&all, t1.p, t1.len);
    buf_append(&all, t2.p, t2.len);
    sha(&all, want);
    check_all_chunks(be, &both, want);

    /* Truncated: in the middle, and just before the trailer's last byte. */
    struct buf cut = {.p = g1.p, .len = g1.len / 2};
    assert_true(digest_of(be, &cut, 4096, got) < 0);
    cut.len = g1.len - 1;
    assert_true(digest_of(be, &cut, 4096, got) < 0);

    /* Bytes after the last member. */
    struct buf tail = {0};
    buf_append(&tail, g2.p, g2.len);
    buf_append(&tail, "garbage!", 8);
    assert_true(digest_of(be, &tail, 4096, got) < 0);
    assert_true(digest_of(be, &tail, 1u << 30, got) < 0);

    /* A changed checksum (the CRC in the trailer), and changed data. */
    struct buf bad = {0};
    buf_append(&bad, g2.p, g2.len);
    bad.p[bad.len - 6] ^= 0x40;
    assert_true(digest_of(be, &bad, 4096, got) < 0);
    memcpy(bad.p, g2.p, g2.len);
    bad.p[bad.len / 2] ^= 0x01;
    assert_true(digest_of(be, &bad, 4096, got) < 0);

    /* A reserved FLG bit (0x20..0x80), in the first member and in the
     * second, which zlib and libarchive refuse (ISA-L would not), with the
     * header split across chunks of every size. */
    for (unsigned bit = 0x20; bit <= 0x80; bit <<= 1) {
        memcpy(bad.p, g2.p, g2.len);
        bad.p[3] |= (unsigned char)bit;
        for (size_t chunk = 1; chunk <= 5; chunk++)
            assert_true(digest_of(be, &bad, chunk, got) < 0);
        struct buf second = {0};
        buf_append(&second, g1.p, g1.len);
        buf_append(&second, bad.p, bad.len);
        assert_true(digest_of(be, &second, 3, got) < 0);
        assert_true(digest_of(be, &second, 4096, got) < 0);
        buf_free(&second);
    }

    buf_free(&t1);
    buf_free(&t2);
    buf_free(&g1);
    buf_free(&g2);
    buf_free(&both);
    buf_free(&all);
    buf_free(&tail);
    buf_free(&bad);
}

static void test_gzip_isal(void **state)
{
    (void)state;
    gzip_cases(DIFF_GZIP_ISAL);
}

static void test_gzip_zlib(void **state)
{
    (void)state;
    gzip_cases(DIFF_GZIP_ZLIB);
}

static void test_zstd(void **state)
{
    (void)state;
    struct buf t1 = sample(900000, 4), t2 = sample(5000, 5);
    struct buf z1 = zstd_of(&t1), z2 = zstd_of(&t2);
    char want[DIGEST_STR_LEN + 1], got[DIGEST_STR_LEN + 1];
    sha(&t1, want);
    check_all_chunks(DIFF_GZIP_BEST, &z1, want);
    struct buf both = {0}, all = {0};
    buf_append(&both, z1.p, z1.len);
    buf_append(&both, z2.p, z2.len);
    buf_append(&all, t1.p, t1.len);
    buf_append(&all, t2.p, t2.len);
    sha(&all, want);
    check_all_chunks(DIFF_GZIP_BEST, &both, want);
    struct buf cut = {.p = z1.p, .len = z1.len - 3};
    assert_true(digest_of(DIFF_GZIP_BEST, &cut, 4096, got) < 0);
    struct buf tail = {0};
    buf_append(&tail, z2.p, z2.len);
    buf_append(&tail, "garbage!", 8);
    assert_true(digest_of(DIFF_GZIP_BEST, &tail, 4096, got) < 0);
    buf_free(&t1);
    buf_free(&t2);
    buf_free(&z1);
    buf_free(&z2);
    buf_free(&both);
    buf_free(&all);
    buf_free(&tail);
}

/* gzip of IN with every optional header field, FHCRC included (zlib writes it). */
static struct buf gzip_with_header(const struct buf *in, bool hcrc)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    static unsigned char extra[] = "an extra field of 26 bytes";
    gz_header h = {.text = 1,
                   .extra = extra,
                   .extra_len = sizeof(extra) - 1,
                   .name = (Bytef *)"layer.tar",
                   .comment = (Bytef *)"a comment",
                   .hcrc = hcrc};
    assert_int_equal(deflateSetHeader(&z, &h), Z_OK);
    struct buf out = {0};
    out.p = malloc(deflateBound(&z, in->len) + 256);
    assert_non_null(out.p);
    z.next_in = in->p;
    z.avail_in = (uInt)in->len;
    z.next_out = out.p;
    z.avail_out = (uInt)deflateBound(&z, in->len) + 256;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = z.total_out;
    deflateEnd(&z);
    return out;
}

/*
 * Header fields, and the header CRC, which ISA-L does not check itself:
 * both decoders accept a right one and refuse a wrong one, in any chunks.
 */
static void test_gzip_header_fields(void **state)
{
    (void)state;
    struct buf t = sample(50000, 7);
    char want[DIGEST_STR_LEN + 1], got[DIGEST_STR_LEN + 1];
    sha(&t, want);
    const enum diff_gzip_backend backends[] = {DIFF_GZIP_ISAL, DIFF_GZIP_ZLIB};
    for (int hcrc = 0; hcrc < 2; hcrc++) {
        struct buf g = gzip_with_header(&t, hcrc);
        assert_int_equal(g.p[3] & 0x02, hcrc ? 0x02 : 0);
        for (size_t b = 0; b < 2; b++)
            check_all_chunks(backends[b], &g, want);
        if (hcrc) {
            /* The header CRC follows the NUL of the comment, before the deflate data. */
            unsigned char *comment = memmem(g.p, g.len, "a comment", 10);
            assert_non_null(comment);
            comment[10] ^= 0x01;
            for (size_t b = 0; b < 2; b++)
                for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
                    assert_true(digest_of(backends[b], &g, chunks[c], got) < 0);
        }
        buf_free(&g);
    }
    buf_free(&t);
}

/*
 * A hostile stream fuzz-diff-digest found: its matches reach back beyond
 * what ISA-L had written into the caller's buffer in that call. ISA-L read
 * outside the buffer (the result changed from run to run); now the bytes
 * before it are the member's own, and the stream is refused every time, as
 * zlib refuses it.
 */
static void test_gzip_isal_lookback(void **state)
{
    (void)state;
    static const unsigned char crash[] = {
        0x1f, 0x8b, 0x08, 0x1f, 0x8b, 0x08, 0x00, 0x52, 0x93, 0x0b, 0x6b, 0x00, 0x52, 0x93, 0x0b,
        0x6b, 0x02, 0xff, 0x00, 0x55, 0x61, 0x49, 0xcf, 0x4b, 0x0d, 0x02, 0x8b, 0x08, 0x00, 0x52,
        0x93, 0x0b, 0x6b, 0x02, 0xff, 0xcb, 0xcf, 0xff, 0x37, 0x0e, 0x6b, 0x93, 0x0b, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x44, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x6b, 0x02, 0xff, 0xcb, 0xcf,
        0xf2, 0x55, 0x30, 0xb0, 0x00, 0x49, 0x61, 0xac, 0x29, 0x04, 0x00, 0x00, 0x00, 0x1f, 0x8b,
        0x08, 0x00, 0x52, 0x93, 0x0b, 0x6b, 0x02, 0xff, 0x00, 0x55, 0x61, 0x49, 0xcf, 0x4b, 0x00,
        0xcb, 0x8f, 0x23, 0x38, 0x1f, 0x8b, 0x08, 0x00, 0x52, 0x93, 0x0b, 0x6b, 0x02, 0xff, 0xcb,
        0xcf, 0x4b, 0x55, 0x00, 0x00, 0x49, 0x61, 0xac, 0x23, 0x04, 0x00, 0x00, 0x00};
    struct buf b = {.p = (unsigned char *)crash, .len = sizeof(crash)};
    char got[DIGEST_STR_LEN + 1];
    for (int run = 0; run < 3; run++)
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            assert_true(digest_of(DIFF_GZIP_ISAL, &b, chunks[c], got) < 0);
            assert_true(digest_of(DIFF_GZIP_ZLIB, &b, chunks[c], got) < 0);
        }
}

static void test_compression_name(void **state)
{
    (void)state;
    struct buf t = sample(1000, 6);
    struct buf g = gzip_of(&t);
    struct diff_digest *d = NULL;
    struct error *err = NULL;
    assert_int_equal(diff_digest_load(DIFF_GZIP_BEST, &err), 0);
    assert_int_equal(diff_digest_new(DIFF_GZIP_BEST, 1, &d, &err), 0);
    assert_null(diff_digest_compression(d));
    assert_int_equal(diff_digest_update(d, g.p, g.len, &err), 0);
    assert_string_equal(diff_digest_compression(d), "gzip");
    diff_digest_free(d);
    buf_free(&t);
    buf_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_gzip_isal),
        cmocka_unit_test(test_gzip_zlib),
        cmocka_unit_test(test_gzip_header_fields),
        cmocka_unit_test(test_gzip_isal_lookback),
        cmocka_unit_test(test_zstd),
        cmocka_unit_test(test_compression_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
