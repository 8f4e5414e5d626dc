/* SPDX-License-Identifier: MIT */
/*
 * Small helpers of the "local" volume driver: names, the flat JSON it is
 * given and gives back (a plugin links nothing but libc), sizes, and
 * deleting a tree a container wrote.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "local.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

int volume_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 128 || !isalnum((unsigned char)name[0]) || strstr(name, ".."))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
            return 0;
    return 1;
}

int container_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]))
            return 0;
    return 1;
}

void kv_free(struct kv *kv, int n)
{
    for (int i = 0; kv && i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Reads a JSON string at *P (at its opening quote); only the escapes a
 * printer of option text produces are needed, \uXXXX below 0x80 included. */
static char *parse_string(const char **p)
{
    const char *s = *p;
    if (*s++ != '"')
        return NULL;
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    while (*s && *s != '"') {
        char c = *s++;
        if (c == '\\') {
            char e = *s++;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                c = e;
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    if (!isxdigit((unsigned char)s[i])) {
                        free(out);
                        return NULL;
                    }
                    v = v * 16 + (unsigned)(isdigit((unsigned char)s[i])
                                                ? s[i] - '0'
                                                : (tolower((unsigned char)s[i]) - 'a' + 10));
                }
                s += 4;
                if (v == 0 || v >= 0x80) {
                    free(out);
                    return NULL;
                }
                c = (char)v;
                break;
            }
            default:
                free(out);
                return NULL;
            }
        }
        out[n++] = c;
    }
    if (*s != '"') {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *p = s + 1;
    return out;
}

int kv_parse_json(const char *json, struct kv **ret)
{
    const char *p = skip_ws(json ? json : "{}");
    struct kv *kv = NULL;
    int n = 0;
    if (*p++ != '{')
        return -EINVAL;
    p = skip_ws(p);
    if (*p == '}')
        goto done;
    for (;;) {
        struct kv *grown = realloc(kv, (size_t)(n + 1) * sizeof(*kv));
        if (!grown)
            goto fail;
        kv = grown;
        kv[n].key = parse_string(&p);
        kv[n].value = NULL;
        n++;
        if (!kv[n - 1].key)
            goto fail;
        p = skip_ws(p);
        if (*p++ != ':')
            goto fail;
        p = skip_ws(p);
        if (!(kv[n - 1].value = parse_string(&p)))
            goto fail;
        p = skip_ws(p);
        if (*p == ',') {
            p = skip_ws(p + 1);
            continue;
        }
        if (*p == '}')
            break;
        goto fail;
    }
done:
    p = skip_ws(p + 1);
    if (*p)
        goto fail;
    *ret = kv;
    return n;
fail:
    kv_free(kv, n);
    return -EINVAL;
}

static int buf_append(char **buf, size_t *len, const char *s, size_t n)
{
    char *grown = realloc(*buf, *len + n + 1);
    if (!grown)
        return -ENOMEM;
    memcpy(grown + *len, s, n);
    *len += n;
    grown[*len] = '\0';
    *buf = grown;
    return 0;
}

int buf_printf(char **buf, size_t *len, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof(small))
        return buf_append(buf, len, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int r = buf_append(buf, len, big, (size_t)n);
    free(big);
    return r;
}

int json_put_string(char **buf, size_t *len, const char *text)
{
    int r = buf_append(buf, len, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)text; r == 0 && *c; c++) {
        if (*c == '"' || *c == '\\') {
            char esc[2] = {'\\', (char)*c};
            r = buf_append(buf, len, esc, 2);
        } else if (*c < 0x20) {
            r = buf_printf(buf, len, "\\u%04x", *c);
        } else {
            r = buf_append(buf, len, (const char *)c, 1);
        }
    }
    return r ? r : buf_append(buf, len, "\"", 1);
}

int parse_size(const char *text, uint64_t *ret)
{
    if (!text || !isdigit((unsigned char)*text))
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno)
        return -EINVAL;
    unsigned shift = 0;
    switch (tolower((unsigned char)*end)) {
    case 'k':
        shift = 10;
        break;
    case 'm':
        shift = 20;
        break;
    case 'g':
        shift = 30;
        break;
    case 't':
        shift = 40;
        break;
    case 'b':
    case '\0':
        break;
    default:
        return -EINVAL;
    }
    if (shift)
        end++;
    /* An optional "b", "ib" or "iB" after the unit ("10MB", "10MiB"). */
    if (shift && tolower((unsigned char)*end) == 'i')
        end++;
    if (tolower((unsigned char)*end) == 'b')
        end++;
    if (*end || v == 0 || v > (UINT64_MAX >> shift))
        return -EINVAL;
    *ret = (uint64_t)v << shift;
    return 0;
}
