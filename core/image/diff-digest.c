/* A layer's diff_id while its blob streams in (diff-digest.h). */
#include "image/diff-digest.h"

#include <dlfcn.h>
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "image/gzip-header.h"
#include "util/chunk-pipe.h"
#include "util/cleanup.h"
#include "util/sha256.h"

/* Decompressed bytes are hashed in chunks of this size. */
#define OUT_BLOCK (256 * 1024)
/* Deflate's window: what a match may copy from. */
#define HISTORY (32 * 1024)
/* Input handed to ISA-L at a time. */
#define INPUT_MAX ((size_t)1 << 30)
/* What the hashing thread may lag behind the decoder. */
#define HASH_PIPE_BYTES (4 * 1024 * 1024)

/* ---- the libraries, loaded on first use (as libarchive and libcurl are) ---- */

static struct {
    void *isal;
    __typeof__(isal_inflate_init) *isal_init;
    __typeof__(isal_inflate_reset) *isal_reset;
    __typeof__(isal_inflate) *isal_inflate;
    void *z;
    __typeof__(inflateInit2_) *z_init2;
    __typeof__(inflate) *z_inflate;
    __typeof__(inflateReset) *z_reset;
    __typeof__(inflateEnd) *z_end;
    void *zstd;
    __typeof__(ZSTD_createDCtx) *zstd_create;
    __typeof__(ZSTD_freeDCtx) *zstd_free;
    __typeof__(ZSTD_decompressStream) *zstd_decompress;
    __typeof__(ZSTD_isError) *zstd_is_error;
    __typeof__(ZSTD_getErrorName) *zstd_error_name;
} lib;

#define RESOLVE(h, slot, name) (*(void **)&(slot) = dlsym((h), (name))) != NULL

static void load_isal(void)
{
    if (lib.isal)
        return;
    /* The soname of Debian 12's libisal2. */
    void *h = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    if (RESOLVE(h, lib.isal_init, "isal_inflate_init") &&
        RESOLVE(h, lib.isal_reset, "isal_inflate_reset") &&
        RESOLVE(h, lib.isal_inflate, "isal_inflate"))
        lib.isal = h;
    else
        dlclose(h);
}

static void load_zlib(void)
{
    if (lib.z)
        return;
    void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    if (RESOLVE(h, lib.z_init2, "inflateInit2_") && RESOLVE(h, lib.z_inflate, "inflate") &&
        RESOLVE(h, lib.z_reset, "inflateReset") && RESOLVE(h, lib.z_end, "inflateEnd"))
        lib.z = h;
    else
        dlclose(h);
}

static void load_zstd(void)
{
    if (lib.zstd)
        return;
    void *h = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    if (RESOLVE(h, lib.zstd_create, "ZSTD_createDCtx") &&
        RESOLVE(h, lib.zstd_free, "ZSTD_freeDCtx") &&
        RESOLVE(h, lib.zstd_decompress, "ZSTD_decompressStream") &&
        RESOLVE(h, lib.zstd_is_error, "ZSTD_isError") &&
        RESOLVE(h, lib.zstd_error_name, "ZSTD_getErrorName"))
        lib.zstd = h;
    else
        dlclose(h);
}

int diff_digest_load(enum diff_gzip_backend backend, struct error **err)
{
    if (backend != DIFF_GZIP_ZLIB)
        load_isal();
    if (backend != DIFF_GZIP_ISAL && !(backend == DIFF_GZIP_BEST && lib.isal))
        load_zlib();
    /* zstd is looked for now, before any thread; its absence matters only for a zstd layer. */
    load_zstd();
    if (backend == DIFF_GZIP_ISAL && !lib.isal)
        return error_set_plain(err, ENOENT, "load libisal.so.2: %s", dlerror());
    if (backend == DIFF_GZIP_ZLIB && !lib.z)
        return error_set_plain(err, ENOENT, "load libz.so.1: %s", dlerror());
    if (!lib.isal && !lib.z)
        return error_set_plain(err, ENOENT, "load a gzip decoder (libisal.so.2 or libz.so.1)");
    return 0;
}

void diff_digest_unload(void)
{
    void *handles[] = {lib.isal, lib.z, lib.zstd};
    for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
        if (handles[i])
            dlclose(handles[i]);
    memset(&lib, 0, sizeof(lib));
}

/* ---- the stream ---- */

enum kind { K_UNKNOWN, K_NONE, K_GZIP_ISAL, K_GZIP_ZLIB, K_ZSTD };

struct diff_digest {
    enum kind kind;
    enum diff_gzip_backend backend;
    struct sha256_ctx *hash;      /* NULL with a sink */
    struct chunk_pipe *hash_pipe; /* or NULL: HASH is updated here */
    diff_sink_fn sink;            /* or NULL: the bytes are hashed */
    void *sink_ud;
    unsigned char magic[4];
    size_t n_magic;
    /* A compressed stream is complete between members/frames, not inside one. */
    bool in_member;
    /* The current gzip member's header (ISA-L only; zlib checks it itself). */
    struct gzip_header_scan header;
    bool failed;
    unsigned char *out;
    struct inflate_state *isal;
    z_stream *z;
    ZSTD_DCtx *zstd;
};

const char *diff_digest_compression(const struct diff_digest *d)
{
    switch (d->kind) {
    case K_NONE:
        return "none";
    case K_GZIP_ISAL:
    case K_GZIP_ZLIB:
        return "gzip";
    case K_ZSTD:
        return "zstd";
    default:
        return NULL;
    }
}

void diff_digest_free(struct diff_digest *d)
{
    if (!d)
        return;
    chunk_pipe_abort(d->hash_pipe);
    if (d->hash) {
        char junk[DIGEST_STR_LEN + 1];
        sha256_finish(d->hash, junk);
    }
    if (d->z) {
        lib.z_end(d->z);
        free(d->z);
    }
    if (d->zstd)
        lib.zstd_free(d->zstd);
    free(d->isal);
    free(d->out);
    free(d);
}

static int hash_consume(void *ud, const void *data, size_t len)
{
    sha256_update(ud, data, len);
    return 0;
}

int diff_digest_new(enum diff_gzip_backend backend, int hash_thread, struct diff_digest **ret,
                    struct error **err)
{
    struct diff_digest *d = calloc(1, sizeof(*d));
    if (!d || !(d->out = calloc(1, HISTORY + OUT_BLOCK))) {
        free(d);
        return error_set(err, ENOMEM, "diff_id");
    }
    d->backend = backend;
    d->hash = sha256_new();
    if (hash_thread) {
        int r = chunk_pipe_start(HASH_PIPE_BYTES, hash_consume, d->hash, &d->hash_pipe);
        if (r < 0) {
            diff_digest_free(d);
            return error_set(err, -r, "diff_id: start the hashing thread");
        }
    }
    *ret = d;
    return 0;
}

int diff_digest_new_sink(enum diff_gzip_backend backend, diff_sink_fn sink, void *userdata,
                         struct diff_digest **ret, struct error **err)
{
    struct diff_digest *d = calloc(1, sizeof(*d));
    if (!d || !(d->out = calloc(1, HISTORY + OUT_BLOCK))) {
        free(d);
        return error_set(err, ENOMEM, "decompress");
    }
    d->backend = backend;
    d->sink = sink;
    d->sink_ud = userdata;
    *ret = d;
    return 0;
}

/* The decompressed bytes, to the sink or the hash (here or on its thread). */
static int hash_out(struct diff_digest *d, const void *data, size_t len, struct error **err)
{
    if (len == 0)
        return 0;
    if (d->sink) {
        int r = d->sink(d->sink_ud, data, len);
        if (r < 0) {
            d->failed = true;
            return error_set(err, -r, "decompressed stream");
        }
    } else if (d->hash_pipe) {
        (void)chunk_pipe_write(d->hash_pipe, data, len); /* hashing never fails */
    } else {
        sha256_update(d->hash, data, len);
    }
    return 0;
}

static int fail(struct diff_digest *d, struct error **err, const char *what, const char *why)
{
    d->failed = true;
    return error_set_plain(err, EPROTO, "%s stream: %s", what, why);
}

static int start_gzip(struct diff_digest *d, struct error **err)
{
    if (lib.isal && d->backend != DIFF_GZIP_ZLIB) {
        d->isal = calloc(1, sizeof(*d->isal));
        if (!d->isal)
            return error_set(err, ENOMEM, "diff_id");
        lib.isal_init(d->isal);
        d->isal->crc_flag = ISAL_GZIP;
        d->kind = K_GZIP_ISAL;
        return 0;
    }
    if (!lib.z)
        return fail(d, err, "gzip", "no gzip decoder loaded");
    d->z = calloc(1, sizeof(*d->z));
    if (!d->z)
        return error_set(err, ENOMEM, "diff_id");
    /* 16 + 15: a gzip wrapper, the largest window. */
    if (lib.z_init2(d->z, 16 + MAX_WBITS, ZLIB_VERSION, (int)sizeof(*d->z)) != Z_OK) {
        free(d->z);
        d->z = NULL;
        return error_set(err, ENOMEM, "diff_id: zlib");
    }
    d->kind = K_GZIP_ZLIB;
    return 0;
}

static int start(struct diff_digest *d, struct error **err)
{
    const unsigned char *m = d->magic;
    uint32_t le = d->n_magic == 4 ? (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
                                        (uint32_t)m[3] << 24
                                  : 0;
    if (d->n_magic >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        return start_gzip(d, err);
    /* A zstd frame, or a skippable frame before one. */
    if (le == 0xFD2FB528u || (le & 0xFFFFFFF0u) == 0x184D2A50u) {
        if (!lib.zstd)
            return fail(d, err, "zstd", "libzstd.so.1 could not be loaded");
        d->zstd = lib.zstd_create();
        if (!d->zstd)
            return error_set(err, ENOMEM, "diff_id: zstd");
        d->kind = K_ZSTD;
        return 0;
    }
    d->kind = K_NONE;
    return 0;
}

/*
 * gzip through ISA-L: the member's header is parsed here (gzip-header.h)
 * and ISA-L decodes the deflate data and checks the trailer.
 */
static int feed_isal(struct diff_digest *d, const unsigned char *in, size_t len, struct error **err)
{
    struct inflate_state *s = d->isal;
    const unsigned char *p = in;
    size_t left = len;
    for (;;) {
        if (!d->in_member) {
            if (left == 0)
                return 0;
            /* Another member follows (or bytes that must be one). */
            lib.isal_reset(s);
            s->crc_flag = ISAL_GZIP_NO_HDR_VER;
            d->in_member = true;
            /* Nothing of the member before is history of this one. */
            memset(d->out, 0, HISTORY);
            gzip_header_scan_start(&d->header);
        }
        if (!gzip_header_scan_done(&d->header)) {
            size_t used = 0;
            const char *why = gzip_header_scan(&d->header, p, left, &used);
            if (why)
                return fail(d, err, "gzip", why);
            p += used;
            left -= used;
            if (!gzip_header_scan_done(&d->header))
                return 0;
        }
        /* ISA-L may copy a match from up to HISTORY bytes before next_out
         * even across calls: those bytes are kept there, the member's own
         * last output, so that it never reads outside the buffer (it did,
         * for a hostile stream: fuzz-diff-digest). */
        unsigned char *out = d->out + HISTORY;
        /* ISA-L counts input in 32 bits. */
        size_t take = left > INPUT_MAX ? INPUT_MAX : left;
        s->next_in = (uint8_t *)p;
        s->avail_in = (uint32_t)take;
        s->next_out = out;
        s->avail_out = OUT_BLOCK;
        int r = lib.isal_inflate(s);
        size_t produced = OUT_BLOCK - s->avail_out;
        p = s->next_in;
        left = left - take + s->avail_in;
        if (r == ISAL_INCORRECT_CHECKSUM)
            return fail(d, err, "gzip", "checksum mismatch");
        if (r < 0)
            return fail(d, err, "gzip", "invalid compressed data");
        int hr = hash_out(d, out, produced, err);
        if (hr < 0)
            return hr;
        memmove(d->out, d->out + produced, HISTORY);
        if (s->block_state == ISAL_BLOCK_FINISH)
            d->in_member = false;
        else if (left == 0 && produced < OUT_BLOCK)
            return 0;
    }
}

static int feed_zlib(struct diff_digest *d, const unsigned char *in, size_t len, struct error **err)
{
    z_stream *z = d->z;
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)len;
    for (;;) {
        if (!d->in_member) {
            if (z->avail_in == 0)
                return 0;
            if (lib.z_reset(z) != Z_OK)
                return fail(d, err, "gzip", "reset failed");
            d->in_member = true;
        }
        z->next_out = d->out;
        z->avail_out = OUT_BLOCK;
        int r = lib.z_inflate(z, Z_NO_FLUSH);
        size_t produced = OUT_BLOCK - z->avail_out;
        if (r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_STREAM_ERROR || r == Z_MEM_ERROR)
            return fail(d, err, "gzip", z->msg ? z->msg : "invalid compressed data");
        int hr = hash_out(d, d->out, produced, err);
        if (hr < 0)
            return hr;
        /* Done with this input: all of it consumed with room to spare, or
         * no progress possible (Z_BUF_ERROR) until more comes. */
        if (r == Z_STREAM_END)
            d->in_member = false;
        else if ((z->avail_in == 0 && produced < OUT_BLOCK) || (r == Z_BUF_ERROR && produced == 0))
            return 0;
    }
}

static int feed_zstd(struct diff_digest *d, const unsigned char *in, size_t len, struct error **err)
{
    ZSTD_inBuffer ib = {in, len, 0};
    for (;;) {
        ZSTD_outBuffer ob = {d->out, OUT_BLOCK, 0};
        size_t r = lib.zstd_decompress(d->zstd, &ob, &ib);
        if (lib.zstd_is_error(r))
            return fail(d, err, "zstd", lib.zstd_error_name(r));
        int hr = hash_out(d, d->out, ob.pos, err);
        if (hr < 0)
            return hr;
        /* 0: a frame is complete and flushed. */
        d->in_member = r != 0;
        if (ib.pos == ib.size && ob.pos < ob.size)
            return 0;
    }
}

static int feed(struct diff_digest *d, const unsigned char *in, size_t len, struct error **err)
{
    if (len == 0)
        return 0;
    switch (d->kind) {
    case K_NONE:
        return hash_out(d, in, len, err);
    case K_GZIP_ISAL:
        return feed_isal(d, in, len, err);
    case K_GZIP_ZLIB:
        return feed_zlib(d, in, len, err);
    case K_ZSTD:
        return feed_zstd(d, in, len, err);
    default:
        return error_set_plain(err, EINVAL, "diff_id: stream not started");
    }
}

int diff_digest_update(struct diff_digest *d, const void *data, size_t len, struct error **err)
{
    if (d->failed)
        return error_set_plain(err, EPROTO, "diff_id: the stream already failed");
    const unsigned char *p = data;
    if (d->kind == K_UNKNOWN) {
        /* The first four bytes tell the compression. */
        while (len > 0 && d->n_magic < sizeof(d->magic)) {
            d->magic[d->n_magic++] = *p++;
            len--;
        }
        if (d->n_magic < sizeof(d->magic))
            return 0;
        int r = start(d, err);
        if (r < 0)
            return r;
        r = feed(d, d->magic, d->n_magic, err);
        if (r < 0)
            return r;
    }
    return feed(d, p, len, err);
}

int diff_digest_finish(struct diff_digest *d, char *ret_diff_id, struct error **err)
{
    if (d->failed)
        return error_set_plain(err, EPROTO, "diff_id: the stream already failed");
    if (d->kind == K_UNKNOWN) {
        /* Shorter than a magic number: whatever it is, it is not compressed. */
        int r = start(d, err);
        if (r == 0)
            r = feed(d, d->magic, d->n_magic, err);
        if (r < 0)
            return r;
    }
    if (d->kind == K_ZSTD && d->in_member) {
        /* Output the decoder still holds, then the frame must be complete. */
        int r = feed_zstd(d, (const unsigned char *)"", 0, err);
        if (r < 0)
            return r;
    }
    if (d->in_member)
        return fail(d, err, diff_digest_compression(d), "truncated");
    if (d->hash_pipe)
        (void)chunk_pipe_finish(TAKE_PTR(d->hash_pipe)); /* every byte hashed */
    if (d->hash) {
        sha256_finish(d->hash, ret_diff_id);
        d->hash = NULL;
    }
    return 0;
}
