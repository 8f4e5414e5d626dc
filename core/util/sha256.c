#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <dlfcn.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sha256_ctx {
    EVP_MD_CTX *md;
};

/*
 * libcrypto is loaded on first use: linked, its load and CPU probing cost
 * every berth process about a millisecond here, though most never hash.
 */
static struct {
    void *handle;
    __typeof__(EVP_MD_CTX_new) *md_ctx_new;
    __typeof__(EVP_MD_CTX_free) *md_ctx_free;
    __typeof__(EVP_sha256) *sha256;
    __typeof__(EVP_DigestInit_ex) *init;
    __typeof__(EVP_DigestUpdate) *update;
    __typeof__(EVP_DigestFinal_ex) *final;
} crypto;

static void crypto_load(void)
{
    if (crypto.handle)
        return;
    void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "berth: cannot load libcrypto.so.3: %s\n", dlerror());
        abort();
    }
    *(void **)&crypto.md_ctx_new = dlsym(h, "EVP_MD_CTX_new");
    *(void **)&crypto.md_ctx_free = dlsym(h, "EVP_MD_CTX_free");
    *(void **)&crypto.sha256 = dlsym(h, "EVP_sha256");
    *(void **)&crypto.init = dlsym(h, "EVP_DigestInit_ex");
    *(void **)&crypto.update = dlsym(h, "EVP_DigestUpdate");
    *(void **)&crypto.final = dlsym(h, "EVP_DigestFinal_ex");
    if (!crypto.md_ctx_new || !crypto.md_ctx_free || !crypto.sha256 || !crypto.init ||
        !crypto.update || !crypto.final) {
        fprintf(stderr, "berth: libcrypto.so.3 lacks the EVP digest functions\n");
        abort();
    }
    crypto.handle = h;
}

struct sha256_ctx *sha256_new(void)
{
    struct sha256_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    crypto_load();
    c->md = crypto.md_ctx_new();
    if (!c->md || crypto.init(c->md, crypto.sha256(), NULL) != 1)
        abort();
    return c;
}

void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
    crypto.update(ctx->md, data, len);
}

void sha256_finish(struct sha256_ctx *ctx, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    /* A digest of another length would leave OUT short of DIGEST_STR_LEN. */
    if (crypto.final(ctx->md, md, &n) != 1 || 7 + 2 * n != DIGEST_STR_LEN)
        abort();
    crypto.md_ctx_free(ctx->md);
    free(ctx);
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < n; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[7 + 2 * i + 1] = hex[md[i] & 0xf];
    }
    out[DIGEST_STR_LEN] = '\0';
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
