/* The auth file (auth-file.h). */
#include "registry/auth-file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        /* A last group of one or two bytes is padded with '='. */
        char c3 = '=', c4 = '=';
        if (i + 1 < len)
            c3 = b64[(v >> 6) & 63];
        if (i + 2 < len)
            c4 = b64[v & 63];
        out[o++] = c3;
        out[o++] = c4;
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

char *base64_decode(const char *text, size_t *ret_len)
{
    size_t len = strlen(text);
    if (len % 4)
        return NULL;
    char *out = malloc(len / 4 * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        bool last = i + 4 == len;
        for (int k = 0; k < 4; k++) {
            v[k] = b64_value(text[i + k]);
            if (v[k] < 0 &&
                !(last && k >= 2 && text[i + k] == '=' && (k == 3 || text[i + 3] == '='))) {
                free(out);
                return NULL;
            }
        }
        /* Canonical only: the bits padding drops must be zero. */
        if ((v[3] < 0 && v[2] >= 0 && (v[2] & 3)) || (v[2] < 0 && (v[1] & 15))) {
            free(out);
            return NULL;
        }
        uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
                     ((uint32_t)(v[2] < 0 ? 0 : v[2]) << 6) | (uint32_t)(v[3] < 0 ? 0 : v[3]);
        out[o++] = (char)(w >> 16);
        if (v[2] >= 0)
            out[o++] = (char)(w >> 8);
        if (v[3] >= 0)
            out[o++] = (char)w;
    }
    out[o] = '\0';
    if (ret_len)
        *ret_len = o;
    return out;
}

char *auth_file_path(const char *flag)
{
    if (flag && *flag)
        return strdup(flag);
    const char *env = getenv("REGISTRY_AUTH_FILE");
    if (env && *env)
        return strdup(env);
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg == '/')
        return xasprintf("%s/berth/auth.json", xdg);
    const char *home = getenv("HOME");
    return xasprintf("%s/.config/berth/auth.json", home && *home == '/' ? home : "/root");
}

static void wipe_free(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
    }
}

static int read_auths(const char *path, bool missing_ok, cJSON **ret, struct error **err)
{
    _cleanup_(wipe_free) char *text = NULL;
    struct error *local = NULL;
    int r = read_file(path, &text, NULL, &local);
    if (r == -ENOENT && missing_ok) {
        error_free(&local);
        *ret = cJSON_CreateObject();
        return *ret ? 0 : error_set(err, ENOMEM, "auth file");
    }
    if (r < 0) {
        *err = local;
        return r;
    }
    cJSON *j = cJSON_Parse(text);
    const cJSON *auths = cJSON_GetObjectItemCaseSensitive(j, "auths");
    if (!cJSON_IsObject(j) || (auths && !cJSON_IsObject(auths))) {
        cJSON_Delete(j);
        return error_set_plain(err, EINVAL, "auth file '%s': not a JSON object with \"auths\"",
                               path);
    }
    *ret = j;
    return 0;
}

/* Docker Hub is known by several names in auth files. */
static const char *const hub_names[] = {"docker.io", "https://index.docker.io/v1/",
                                        "index.docker.io", "registry-1.docker.io", NULL};

static bool is_hub(const char *registry)
{
    for (const char *const *n = hub_names; *n; n++)
        if (!strcmp(*n, registry))
            return true;
    return false;
}

int auth_file_get(const char *path, const char *registry, char **ret_user, char **ret_password,
                  struct error **err)
{
    _cleanup_json_ cJSON *j = NULL;
    int r = read_auths(path, true, &j, err);
    if (r < 0)
        return r;
    const cJSON *auths = cJSON_GetObjectItemCaseSensitive(j, "auths");
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(auths, registry);
    for (const char *const *n = hub_names; !entry && is_hub(registry) && *n; n++)
        entry = cJSON_GetObjectItemCaseSensitive(auths, *n);
    const char *enc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "auth"));
    if (!enc) {
        *ret_user = *ret_password = NULL;
        return 0;
    }
    _cleanup_(wipe_free) char *dec = base64_decode(enc, NULL);
    char *colon = dec ? strchr(dec, ':') : NULL;
    if (!colon)
        return error_set_plain(err, EINVAL, "auth file '%s': invalid \"auth\" for '%s'", path,
                               registry);
    *colon = '\0';
    char *user = strdup(dec), *pass = strdup(colon + 1);
    if (!user || !pass) {
        free(user);
        free(pass);
        return error_set(err, ENOMEM, "auth file");
    }
    *ret_user = user;
    *ret_password = pass;
    return 0;
}

static int write_auths(const char *path, const cJSON *j, struct error **err)
{
    _cleanup_free_ char *dir_copy = strdup(path);
    if (!dir_copy)
        return error_set(err, ENOMEM, "auth file");
    int r = mkdir_p(dirname(dir_copy), 0700, err);
    if (r < 0)
        return r;
    _cleanup_(wipe_free) char *text = cJSON_Print(j);
    if (!text)
        return error_set(err, ENOMEM, "auth file");
    return write_file_atomic(path, text, strlen(text), 0600, err);
}

int auth_file_set(const char *path, const char *registry, const char *user, const char *password,
                  struct error **err)
{
    _cleanup_json_ cJSON *j = NULL;
    int r = read_auths(path, true, &j, err);
    if (r < 0)
        return r;
    cJSON *auths = cJSON_GetObjectItemCaseSensitive(j, "auths");
    if (!auths && !(auths = cJSON_AddObjectToObject(j, "auths")))
        return error_set(err, ENOMEM, "auth file");
    _cleanup_(wipe_free) char *pair = xasprintf("%s:%s", user, password);
    _cleanup_(wipe_free) char *enc = base64_encode(pair, strlen(pair));
    cJSON *entry = cJSON_CreateObject();
    if (!enc || !entry || !cJSON_AddStringToObject(entry, "auth", enc)) {
        cJSON_Delete(entry);
        return error_set(err, ENOMEM, "auth file");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(auths, registry);
    cJSON_AddItemToObject(auths, registry, entry);
    r = write_auths(path, j, err);
    /* cJSON keeps its own copy of the encoded secret: wipe it too. */
    char *kept = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "auth"));
    if (kept)
        explicit_bzero(kept, strlen(kept));
    return r;
}

int auth_file_remove(const char *path, const char *registry, struct error **err)
{
    _cleanup_json_ cJSON *j = NULL;
    int r = read_auths(path, true, &j, err);
    if (r < 0)
        return r;
    cJSON *auths = cJSON_GetObjectItemCaseSensitive(j, "auths");
    if (!cJSON_GetObjectItemCaseSensitive(auths, registry))
        return error_set_plain(err, ENOENT, "not logged in to '%s'", registry);
    cJSON_DeleteItemFromObjectCaseSensitive(auths, registry);
    return write_auths(path, j, err);
}
