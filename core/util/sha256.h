/* SHA-256 digests as OCI writes them: "sha256:" and 64 lowercase hex. */
#ifndef BERTH_SHA256_H
#define BERTH_SHA256_H

#include <stddef.h>

#include "error.h"

#define DIGEST_STR_LEN (7 + 64) /* "sha256:" + hex, without NUL */

struct sha256_ctx;

struct sha256_ctx *sha256_new(void);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Writes "sha256:<hex>" into OUT (at least DIGEST_STR_LEN+1 bytes) and frees CTX. */
void sha256_finish(struct sha256_ctx *ctx, char *out);
/* Digest of a whole file. */
int sha256_file(const char *path, char *out, struct error **err);
/* Digest of a buffer. */
void sha256_buffer(const void *data, size_t len, char *out);
/* 1 if S is "sha256:" followed by exactly 64 lowercase hex digits. */
int digest_is_valid(const char *s);

#endif
