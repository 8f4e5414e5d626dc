/* A registry's WWW-Authenticate challenge and the auth file's base64: untrusted strings. */
#include "fuzz-util.h"
#include "registry/auth-file.h"
#include "registry/www-authenticate.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Not NUL-terminated on purpose: the parser takes a length. */
    struct auth_challenge c;
    struct error *err = NULL;
    if (auth_challenge_parse((const char *)data, size, &c, &err) == 0) {
        FUZZ_ASSERT(c.scheme == AUTH_SCHEME_BASIC || c.scheme == AUTH_SCHEME_BEARER);
        FUZZ_ASSERT(c.scheme != AUTH_SCHEME_BEARER || c.realm);
        auth_challenge_clear(&c);
    } else {
        FUZZ_ASSERT(err && err->msg);
        error_free(&err);
    }
    _cleanup_free_ char *s = fuzz_strndup(data, size);
    size_t n;
    _cleanup_free_ char *dec = base64_decode(s, &n);
    if (dec) {
        /* What decodes encodes back to the same text. */
        _cleanup_free_ char *enc = base64_encode(dec, n);
        FUZZ_ASSERT(enc && !strcmp(enc, s));
    }
    return 0;
}
