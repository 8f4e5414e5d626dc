/*
 * A layer blob decompressed on a thread of its own, read through a pipe:
 * the unpacker's tar reader (libarchive) then spends its core on the files
 * while the other core inflates, with ISA-L (about three times zlib's
 * speed here, which libarchive would use) or zlib, or libzstd: the decoder
 * of diff-digest.h, strict as it is.
 */
#ifndef BERTH_LAYER_STREAM_H
#define BERTH_LAYER_STREAM_H

#include <stdbool.h>

#include "util/error.h"

struct layer_stream;

/*
 * Starts decompressing the blob at PATH (gzip, zstd, or bytes that are
 * neither, passed as they are); *RET_FD is the read end of a pipe that
 * carries the decompressed bytes, owned by the stream. Returns 0 or a
 * negative errno (-ENOENT when no decoder library loads: the caller may
 * read PATH itself).
 */
int layer_stream_open(const char *path, struct layer_stream **ret, int *ret_fd, struct error **err);

/*
 * Ends the stream: reads and drops what the reader left (the padding after
 * a tar's end marker), joins the thread, closes the pipe and frees S.
 * Returns 0, or the decoder's error when the blob did not decompress to
 * its end (a bad or truncated stream, bytes after it, a read error). With
 * ABANDON (the reader failed) the decoder is stopped instead; a failure of
 * its own before that (the reason the reader failed) is still returned.
 * Accepts NULL.
 */
int layer_stream_close(struct layer_stream *s, bool abandon, struct error **err);

#endif
