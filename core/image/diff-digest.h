/*
 * The diff_id of a layer blob computed as the blob streams in: the bytes
 * are pushed in chunks of any size (as a download delivers them),
 * decompressed on the way (gzip, zstd, or none, told by the stream's magic
 * bytes as libarchive tells them when the layer is unpacked) and the
 * decompressed stream is hashed: a layer's diff_id is checked so before
 * its first unpack (layer-check.h). The same decoder, given a sink instead
 * of the hash, feeds the unpacker (layer-unpack.c).
 *
 * gzip goes through ISA-L's inflate (libisal.so.2, about three times
 * zlib's speed here) and falls back to zlib when ISA-L cannot be loaded;
 * zstd through libzstd. All are loaded on first use (diff_digest_load).
 *
 * The decoder is strict where decoders could disagree: concatenated gzip
 * members and zstd frames are all decoded (as libarchive and Go's gzip do),
 * a bad checksum, a truncated stream and bytes after the last gzip member
 * are errors, so that the digest is always that of the very bytes the
 * layer unpacks to.
 */
#ifndef BERTH_DIFF_DIGEST_H
#define BERTH_DIFF_DIGEST_H

#include <stddef.h>

#include "util/error.h"

struct diff_digest;

/* Which gzip decoder to use: the fastest that loads, or one (unit tests). */
enum diff_gzip_backend {
    DIFF_GZIP_BEST = 0,
    DIFF_GZIP_ISAL,
    DIFF_GZIP_ZLIB,
};

/* Loads the decompression libraries (once). Call before starting threads. */
int diff_digest_load(enum diff_gzip_backend backend, struct error **err);

/* Unloads them, with no stream alive; the next diff_digest_load loads them again. */
void diff_digest_unload(void);

/*
 * A new digest computation; diff_digest_load must have succeeded. With
 * HASH_THREAD, the decompressed bytes are hashed on a thread of their own
 * (util/chunk-pipe.h): inflating and hashing a large layer then take two
 * cores instead of adding up on one.
 */
int diff_digest_new(enum diff_gzip_backend backend, int hash_thread, struct diff_digest **ret,
                    struct error **err);

/* Where diff_digest_new_sink sends the decompressed bytes, in order; a
 * negative errno stops the stream (diff_digest_update fails with it). */
typedef int (*diff_sink_fn)(void *userdata, const void *data, size_t len);

/* A decoder without the hash: the decompressed bytes go to SINK instead.
 * diff_digest_finish then writes no digest (RET_DIFF_ID may be NULL). */
int diff_digest_new_sink(enum diff_gzip_backend backend, diff_sink_fn sink, void *userdata,
                         struct diff_digest **ret, struct error **err);

/* Pushes LEN more bytes of the blob. An error is final: the stream is not valid. */
int diff_digest_update(struct diff_digest *d, const void *data, size_t len, struct error **err);

/*
 * Ends the stream: fails if it is truncated (a compressed stream that did
 * not end). Writes "sha256:…" of the decompressed bytes into RET_DIFF_ID
 * (DIGEST_STR_LEN + 1 bytes).
 */
int diff_digest_finish(struct diff_digest *d, char *ret_diff_id, struct error **err);

/* Accepts NULL. */
void diff_digest_free(struct diff_digest *d);

/* "gzip", "zstd" or "none" once the first bytes were seen; NULL before. */
const char *diff_digest_compression(const struct diff_digest *d);

#endif
