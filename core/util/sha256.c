#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sha256_ctx {
    EVP_MD_CTX *md;
};

struct sha256_ctx *sha256_new(void)
{
    struct sha256_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->md = EVP_MD_CTX_new();
    if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
        abort();
    return c;
}

void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
    EVP_DigestUpdate(ctx->md, data, len);
}

void sha256_finish(struct sha256_ctx *ctx, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx->md, md, &n);
    EVP_MD_CTX_free(ctx->md);
    free(ctx);
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void sha256_buffer(const void *data, size_t len, char *out)
{
    struct sha256_ctx *c = sha256_new();
    sha256_update(c, data, len);
    sha256_finish(c, out);
}

int sha256_file(const char *path, char *out, struct error **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "open '%s'", path);
    struct sha256_ctx *c = sha256_new();
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            char dummy[DIGEST_STR_LEN + 1];
            sha256_finish(c, dummy);
            return error_set(err, e, "read '%s'", path);
        }
        if (n == 0)
            break;
        sha256_update(c, buf, (size_t)n);
    }
    close(fd);
    sha256_finish(c, out);
    return 0;
}

int digest_is_valid(const char *s)
{
    if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != DIGEST_STR_LEN)
        return 0;
    for (const char *p = s + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}
