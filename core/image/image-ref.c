/* Image reference parsing (image-ref.h): docker's grammar, familiar names. */
#include "image/image-ref.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"

#define REF_INPUT_MAX 1024

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex64(const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* docker's path-component: alnum runs joined by '.', '_', '__' or runs of '-'. */
static bool valid_path_component(const char *s, size_t len)
{
    if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
        return false;
    for (size_t i = 0; i < len;) {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        if (s[i] == '.') {
            j = i + 1;
        } else if (s[i] == '_') {
            j = i + 1 + (s[i + 1] == '_');
        } else if (s[i] == '-') {
            while (j < len && s[j] == '-')
                j++;
        } else {
            return false;
        }
        if (j >= len || !is_lower_alnum(s[j]))
            return false;
        i = j;
    }
    return true;
}

/* A domain: DNS labels (letters, digits, '-') joined by '.', then an optional :PORT. */
static bool valid_domain(const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    size_t host_len = colon ? (size_t)(colon - s) : len;
    if (host_len == 0)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < host_len; i++) {
        char c = s[i];
        bool alnum = is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (alnum || (c == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    if (label == 0 || s[host_len - 1] == '-')
        return false;
    if (colon) {
        size_t plen = len - host_len - 1;
        if (plen == 0 || plen > 5)
            return false;
        for (size_t i = host_len + 1; i < len; i++)
            if (s[i] < '0' || s[i] > '9')
                return false;
    }
    return true;
}

static bool valid_tag(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool word =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!word && (i == 0 || (c != '.' && c != '-')))
            return false;
    }
    return true;
}

void image_ref_clear(struct image_ref *ref)
{
    free(ref->domain);
    free(ref->path);
    free(ref->tag);
    free(ref->digest);
    *ref = (struct image_ref){0};
}

static int invalid(struct error **err, const char *s, const char *why)
{
    return error_set_plain(err, EINVAL, "invalid reference format '%s': %s", s, why);
}

int image_ref_parse(const char *s, struct image_ref *ret, struct error **err)
{
    if (!s || !*s)
        return error_set_plain(err, EINVAL, "invalid reference format: empty");
    if (strlen(s) > REF_INPUT_MAX)
        return error_set_plain(err, EINVAL, "invalid reference format: too long");
    _cleanup_free_ char *copy = strdup(s);
    if (!copy)
        return error_set(err, ENOMEM, "parse reference");
    char *digest = strchr(copy, '@');
    if (digest) {
        *digest++ = '\0';
        if (!digest_is_valid(digest))
            return invalid(err, s, "digest is not sha256:<64 hex>");
    }
    char *last_slash = strrchr(copy, '/');
    char *tag = strrchr(last_slash ? last_slash : copy, ':');
    if (tag) {
        *tag++ = '\0';
        if (!valid_tag(tag))
            return invalid(err, s, "bad tag");
    }
    size_t name_len = strlen(copy);
    if (name_len == 0)
        return invalid(err, s, "no repository name");
    /* A bare 64-hex name would be indistinguishable from an image id. */
    if (is_hex64(copy, name_len))
        return invalid(err, s, "a repository name cannot be 64 hex digits");
    const char *path = copy;
    _cleanup_free_ char *domain = NULL;
    const char *slash = strchr(copy, '/');
    if (slash) {
        size_t len = (size_t)(slash - copy);
        if (memchr(copy, '.', len) || memchr(copy, ':', len) ||
            (len == 9 && !memcmp(copy, "localhost", 9))) {
            if (!valid_domain(copy, len))
                return invalid(err, s, "bad registry host");
            domain = strndup(copy, len);
            path = slash + 1;
        }
    }
    if (!domain) {
        for (const char *c = copy; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                return invalid(err, s, "repository name must be lowercase");
    }
    for (const char *p = path;;) {
        const char *end = strchrnul(p, '/');
        if (!valid_path_component(p, (size_t)(end - p)))
            return invalid(err, s, "bad repository name");
        if (!*end)
            break;
        p = end + 1;
    }
    _cleanup_free_ char *full_path = NULL;
    if (!domain) {
        domain = strdup(IMAGE_REF_DEFAULT_DOMAIN);
        full_path = strchr(path, '/') ? strdup(path) : xasprintf("library/%s", path);
    } else {
        /* docker's index.docker.io alias, and library/ for one-component Hub names. */
        if (!strcmp(domain, "index.docker.io")) {
            free(domain);
            domain = strdup(IMAGE_REF_DEFAULT_DOMAIN);
        }
        if (domain && !strcmp(domain, IMAGE_REF_DEFAULT_DOMAIN) && !strchr(path, '/'))
            full_path = xasprintf("library/%s", path);
        else
            full_path = strdup(path);
    }
    if (!domain || !full_path)
        return error_set(err, ENOMEM, "parse reference");
    if (strlen(domain) + 1 + strlen(full_path) > IMAGE_REF_NAME_MAX)
        return invalid(err, s, "repository name longer than 255 characters");
    struct image_ref r = {.qualified = path != copy};
    r.domain = TAKE_PTR(domain);
    r.path = TAKE_PTR(full_path);
    r.tag = tag ? strdup(tag) : digest ? NULL : strdup("latest");
    r.digest = digest ? strdup(digest) : NULL;
    if ((!r.tag && !digest) || (digest && !r.digest)) {
        image_ref_clear(&r);
        return error_set(err, ENOMEM, "parse reference");
    }
    *ret = r;
    return 0;
}

/* Whether the first component of PATH would be read back as a registry host. */
static bool looks_like_domain(const char *path)
{
    size_t len = strcspn(path, "/");
    return path[len] == '/' && (memchr(path, '.', len) || memchr(path, ':', len) ||
                                (len == 9 && !memcmp(path, "localhost", 9)));
}

char *image_ref_familiar_repo(const struct image_ref *ref)
{
    if (!strcmp(ref->domain, IMAGE_REF_DEFAULT_DOMAIN)) {
        /* library/ goes, unless what remains would read as an image id. */
        if (!strncmp(ref->path, "library/", 8) && !strchr(ref->path + 8, '/') &&
            !is_hex64(ref->path + 8, strlen(ref->path + 8)))
            return strdup(ref->path + 8);
        /* docker.io/docker.io/x stays whole: "docker.io/x" would name
         * docker.io/library/x, another image (found by fuzz-image-ref). */
        if (looks_like_domain(ref->path))
            return xasprintf("%s/%s", ref->domain, ref->path);
        return strdup(ref->path);
    }
    return xasprintf("%s/%s", ref->domain, ref->path);
}

char *image_ref_familiar(const struct image_ref *ref)
{
    _cleanup_free_ char *repo = image_ref_familiar_repo(ref);
    if (!repo)
        return NULL;
    if (ref->tag && ref->digest)
        return xasprintf("%s:%s@%s", repo, ref->tag, ref->digest);
    if (ref->digest)
        return xasprintf("%s@%s", repo, ref->digest);
    return xasprintf("%s:%s", repo, ref->tag);
}

char *image_ref_normalize(const char *s)
{
    struct image_ref r;
    struct error *ignored = NULL;
    if (image_ref_parse(s, &r, &ignored) < 0) {
        error_free(&ignored);
        return NULL;
    }
    char *out = image_ref_familiar(&r);
    image_ref_clear(&r);
    return out;
}
