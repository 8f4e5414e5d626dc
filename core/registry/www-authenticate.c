/* WWW-Authenticate challenge parsing (www-authenticate.h). */
#include "registry/www-authenticate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHALLENGE_MAX 4096
#define PARAM_VALUE_MAX 2048

static bool is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ows(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
}

void auth_challenge_clear(struct auth_challenge *c)
{
    free(c->realm);
    free(c->service);
    free(c->scope);
    *c = (struct auth_challenge){0};
}

static int bad(struct error **err, const char *why)
{
    return error_set_plain(err, EPROTO, "malformed WWW-Authenticate header: %s", why);
}

/* Reads a token or a quoted-string value at *P into a new string. */
static int read_value(const char **p, const char *end, char **ret, struct error **err)
{
    char *out = malloc(PARAM_VALUE_MAX + 1);
    if (!out)
        return error_set(err, ENOMEM, "parse WWW-Authenticate");
    size_t n = 0;
    if (*p < end && **p == '"') {
        (*p)++;
        for (;;) {
            if (*p >= end) {
                free(out);
                return bad(err, "unterminated quoted string");
            }
            char c = *(*p)++;
            if (c == '"')
                break;
            if (c == '\\') {
                if (*p >= end) {
                    free(out);
                    return bad(err, "unterminated quoted string");
                }
                c = *(*p)++;
            }
            if ((unsigned char)c < 0x20 || c == 0x7f || n >= PARAM_VALUE_MAX) {
                free(out);
                return bad(err, n >= PARAM_VALUE_MAX ? "value too long" : "control character");
            }
            out[n++] = c;
        }
    } else {
        while (*p < end && is_token_char(**p) && n < PARAM_VALUE_MAX)
            out[n++] = *(*p)++;
        if (n == 0) {
            free(out);
            return bad(err, "empty parameter value");
        }
    }
    out[n] = '\0';
    *ret = out;
    return 0;
}

int auth_challenge_parse(const char *text, size_t len, struct auth_challenge *ret,
                         struct error **err)
{
    if (len > CHALLENGE_MAX)
        return bad(err, "too long");
    const char *p = text, *end = text + len;
    skip_ows(&p, end);
    const char *scheme = p;
    while (p < end && is_token_char(*p))
        p++;
    size_t slen = (size_t)(p - scheme);
    struct auth_challenge c = {0};
    if (slen == 5 && !strncasecmp(scheme, "Basic", 5))
        c.scheme = AUTH_SCHEME_BASIC;
    else if (slen == 6 && !strncasecmp(scheme, "Bearer", 6))
        c.scheme = AUTH_SCHEME_BEARER;
    else
        return bad(err, "unsupported scheme");
    bool first = true;
    for (;;) {
        skip_ows(&p, end);
        if (p >= end)
            break;
        if (!first) {
            if (*p != ',') {
                auth_challenge_clear(&c);
                return bad(err, "expected ','");
            }
            p++;
            skip_ows(&p, end);
            if (p >= end)
                break;
        }
        first = false;
        const char *name = p;
        while (p < end && is_token_char(*p))
            p++;
        size_t nlen = (size_t)(p - name);
        skip_ows(&p, end);
        if (nlen == 0 || p >= end || *p != '=') {
            auth_challenge_clear(&c);
            return bad(err, "expected NAME=VALUE");
        }
        p++;
        skip_ows(&p, end);
        char *value = NULL;
        int r = read_value(&p, end, &value, err);
        if (r < 0) {
            auth_challenge_clear(&c);
            return r;
        }
        char **slot = NULL;
        if (nlen == 5 && !strncasecmp(name, "realm", 5))
            slot = &c.realm;
        else if (nlen == 7 && !strncasecmp(name, "service", 7))
            slot = &c.service;
        else if (nlen == 5 && !strncasecmp(name, "scope", 5))
            slot = &c.scope;
        if (slot) {
            free(*slot); /* a repeated parameter: the last one wins */
            *slot = value;
        } else {
            free(value);
        }
    }
    if (c.scheme == AUTH_SCHEME_BEARER && !c.realm) {
        auth_challenge_clear(&c);
        return bad(err, "Bearer challenge without realm");
    }
    *ret = c;
    return 0;
}
