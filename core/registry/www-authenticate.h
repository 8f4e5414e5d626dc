/*
 * The WWW-Authenticate challenge of a registry (RFC 7235):
 *   Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"
 *   Basic realm="Registry Realm"
 * Untrusted input: parsed strictly, bounded, fuzzed (tests/fuzz/fuzz-www-authenticate.c).
 */
#ifndef BERTH_WWW_AUTHENTICATE_H
#define BERTH_WWW_AUTHENTICATE_H

#include <stddef.h>

#include "util/error.h"

enum auth_scheme { AUTH_SCHEME_NONE, AUTH_SCHEME_BASIC, AUTH_SCHEME_BEARER };

struct auth_challenge {
    enum auth_scheme scheme;
    char *realm;   /* may be NULL */
    char *service; /* may be NULL */
    char *scope;   /* may be NULL */
};

/* Parses the header value TEXT (LEN bytes, not NUL-terminated needed). Only
 * the first challenge is used; an unknown scheme is an error. */
int auth_challenge_parse(const char *text, size_t len, struct auth_challenge *ret,
                         struct error **err);
void auth_challenge_clear(struct auth_challenge *c);

#endif
