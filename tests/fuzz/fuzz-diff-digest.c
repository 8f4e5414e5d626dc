/*
 * A layer blob as a registry sends it (image/diff-digest.c): the input is
 * the blob after one control byte, pushed in chunks of the size that byte
 * picks. The two gzip decoders (ISA-L and zlib) must agree: both refuse
 * the stream, or both accept it with the same diff_id.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "image/diff-digest.h"
#include "util/sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int digest(enum diff_gzip_backend backend, const uint8_t *data, size_t size, size_t chunk,
                  char out[DIGEST_STR_LEN + 1])
{
    struct error *err = NULL;
    struct diff_digest *d = NULL;
    int r = diff_digest_new(backend, 0, &d, &err);
    for (size_t off = 0; r == 0 && off < size; off += chunk)
        r = diff_digest_update(d, data + off, size - off < chunk ? size - off : chunk, &err);
    if (r == 0)
        r = diff_digest_finish(d, out, &err);
    diff_digest_free(d);
    error_free(&err);
    return r < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int loaded = -1;
    if (loaded < 0) {
        struct error *err = NULL;
        loaded = diff_digest_load(DIFF_GZIP_ISAL, &err) == 0 &&
                 diff_digest_load(DIFF_GZIP_ZLIB, &err) == 0;
        error_free(&err);
    }
    if (!loaded || size < 1)
        return 0;
    static const size_t chunks[] = {1, 2, 3, 7, 64, 4096, 65536, (size_t)-1};
    size_t chunk = chunks[data[0] & 7];
    char a[DIGEST_STR_LEN + 1] = "", b[DIGEST_STR_LEN + 1] = "";
    int ra = digest(DIFF_GZIP_ISAL, data + 1, size - 1, chunk, a);
    int rb = digest(DIFF_GZIP_ZLIB, data + 1, size - 1, chunk, b);
    if (ra != rb || (ra == 0 && strcmp(a, b) != 0))
        abort(); /* the decoders disagree on what this layer is */
    return 0;
}
