/*
 * berth push: the blobs of a local image (config, then layers) go to the
 * registry — each one the registry already has (HEAD) is skipped; the
 * others are uploaded monolithically (POST, then PUT with the bytes) or, when
 * larger than the chunk size, in chunks (POST, PATCH… with Content-Range,
 * then PUT) — and last the manifest, byte for byte as stored, so every
 * digest stays the same and a pushed image pulled back is the same image.
 * Memory use is bounded by the chunk size.
 */
#ifndef BERTH_IMAGE_PUSH_H
#define BERTH_IMAGE_PUSH_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "image/image-store.h"
#include "util/error.h"

#define PUSH_CHUNK_DEFAULT (16LL * 1024 * 1024)

struct push_options {
    const cJSON *registries; /* the config file's "registries", or NULL */
    const char *authfile;    /* --authfile, or NULL (auth-file.h) */
    int tls_verify;          /* 1 default; 0: --tls-verify=false */
    long long chunk_size;    /* blobs above it go in chunks of it; <= 0: default */
    FILE *progress;          /* one line per blob, or NULL */
};

/*
 * Pushes the local image SRC to DEST (a reference with a tag; NULL: SRC
 * itself). Stores the manifest digest in *RET_DIGEST and its size in
 * *RET_SIZE.
 */
int image_push(struct image_store *store, const char *src, const char *dest,
               const struct push_options *o, char **ret_digest, long long *ret_size,
               struct error **err);

#endif
