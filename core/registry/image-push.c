#include "registry/image-push.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/image-ref.h"
#include "registry/auth-file.h"
#include "registry/registry-client.h"
#include "registry/registry-config.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"
#include "util/human-units.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCTET_STREAM "Content-Type: application/octet-stream"

static void clientp_free(struct registry_client **c)
{
    registry_client_free(*c);
}

static void wipe_free(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
    }
}

static void responsep_clear(struct registry_response *r)
{
    registry_response_clear(r);
}

/* "HTTP 400 (BLOB_UPLOAD_INVALID: blob upload invalid)" from a registry answer. */
static int http_error(const struct registry_response *resp, const char *what, struct error **err)
{
    const char *code = "", *msg = "";
    cJSON *j = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "errors"), 0);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e0, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e0, "message");
    if (cJSON_IsString(c))
        code = c->valuestring;
    if (cJSON_IsString(m))
        msg = m->valuestring;
    int errnum = resp->status == 401 || resp->status == 403 ? EACCES : EIO;
    int r = *code ? error_set_plain(err, errnum, "%s: HTTP %ld (%.60s: %.100s)", what, resp->status,
                                    code, msg)
                  : error_set_plain(err, errnum, "%s: HTTP %ld", what, resp->status);
    cJSON_Delete(j);
    return r;
}
#ifdef __clang_analyzer__
/* Always < 0, as error_set_plain (util/error.h says why the analyzer is told):
 * it stops inlining a few calls deep, and would then follow a failed
 * "start upload" as a success without a location. */
#define http_error(...) ERROR_NEGATIVE_((http_error)(__VA_ARGS__))
#endif

/* LOCATION with "digest=DIGEST" added to its query. */
static char *with_digest(const char *location, const char *digest)
{
    return xasprintf("%s%ssha256%%3A%s", location,
                     strchr(location, '?') ? "&digest=" : "?digest=", digest + 7);
}

static int read_at(int fd, char *buf, size_t len, off_t off, const char *digest, struct error **err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return error_set(err, n < 0 ? errno : EIO, "read blob '%s'", digest);
        got += (size_t)n;
    }
    return 0;
}

static int start_upload(struct registry_client *c, const char *repo, const char *digest,
                        char **ret_location, struct error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/blobs/uploads/", repo);
    _cleanup_(responsep_clear) struct registry_response resp = {0};
    int r = registry_request(c, "POST", path, repo, 1, NULL, "", 0, &resp, err);
    if (r < 0)
        return r;
    if (resp.status != 202 || !resp.location) {
        _cleanup_free_ char *what = xasprintf("start upload of '%s'", digest);
        return http_error(&resp, what, err);
    }
    *ret_location = TAKE_PTR(resp.location);
    return 0;
}

/* Uploads one blob (FD, SIZE bytes); returns how many requests it took. */
static int upload_blob(struct registry_client *c, const char *repo, const char *digest, int fd,
                       long long size, long long chunk, struct error **err)
{
    _cleanup_free_ char *location = NULL;
    int r = start_upload(c, repo, digest, &location, err);
    if (r < 0)
        return r;
    bool chunked = size > chunk;
    size_t bufsize = (size_t)(chunked ? chunk : size);
    _cleanup_free_ char *buf = malloc(bufsize ? bufsize : 1);
    if (!buf)
        return error_set(err, ENOMEM, "push blob '%s'", digest);
    long long off = 0;
    while (chunked && off < size) {
        size_t n = (size_t)(size - off < chunk ? size - off : chunk);
        r = read_at(fd, buf, n, (off_t)off, digest, err);
        if (r < 0)
            return r;
        _cleanup_free_ char *range =
            xasprintf("Content-Range: %lld-%lld", off, off + (long long)n - 1);
        const char *headers[] = {OCTET_STREAM, range, NULL};
        _cleanup_(responsep_clear) struct registry_response resp = {0};
        r = registry_request(c, "PATCH", location, repo, 1, headers, buf, n, &resp, err);
        if (r < 0)
            return r;
        if (resp.status != 202 || !resp.location) {
            _cleanup_free_ char *what = xasprintf("upload chunk of '%s' at %lld", digest, off);
            return http_error(&resp, what, err);
        }
        free(location);
        location = TAKE_PTR(resp.location);
        off += (long long)n;
    }
    size_t body_len = 0;
    if (!chunked) {
        r = read_at(fd, buf, (size_t)size, 0, digest, err);
        if (r < 0)
            return r;
        body_len = (size_t)size;
    }
    _cleanup_free_ char *url = with_digest(location, digest);
    const char *headers[] = {OCTET_STREAM, NULL};
    _cleanup_(responsep_clear) struct registry_response resp = {0};
    r = registry_request(c, "PUT", url, repo, 1, headers, buf, body_len, &resp, err);
    if (r < 0)
        return r;
    if (resp.status != 201) {
        _cleanup_free_ char *what = xasprintf("finish upload of '%s'", digest);
        return http_error(&resp, what, err);
    }
    return 0;
}

static int push_blob(struct image_store *store, struct registry_client *c, const char *repo,
                     const char *digest, long long chunk, FILE *progress, struct error **err)
{
    _cleanup_free_ char *path = image_store_blob(store, digest);
    if (!path)
        return error_set_plain(err, ENOENT, "blob '%s' is missing from the store", digest);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return error_set(err, errno, "open blob '%s'", digest);
    _cleanup_free_ char *head = xasprintf("%s/blobs/%s", repo, digest);
    _cleanup_(responsep_clear) struct registry_response resp = {0};
    int r = registry_request(c, "HEAD", head, repo, 1, NULL, NULL, 0, &resp, err);
    if (r < 0)
        return r;
    char total[32];
    format_bytes((double)st.st_size, total, sizeof(total));
    if (resp.status == 200) {
        if (progress)
            fprintf(progress, "%.12s: Layer already exists %9s\n", digest + 7, total);
        return 0;
    }
    if (resp.status != 404) {
        _cleanup_free_ char *what = xasprintf("check blob '%s'", digest);
        return http_error(&resp, what, err);
    }
    long long start = monotonic_ms();
    if (progress) {
        fprintf(progress, "%.12s: Pushing %9s", digest + 7, total);
        fflush(progress);
    }
    r = upload_blob(c, repo, digest, fd, (long long)st.st_size, chunk, err);
    if (progress) {
        double secs = (double)(monotonic_ms() - start) / 1000.0;
        char speed[32];
        format_bytes(secs > 0 ? (double)st.st_size / secs : (double)st.st_size, speed,
                     sizeof(speed));
        fprintf(progress, r < 0 ? "\r\033[2K%.12s: Failed\n" : "\r\033[2K%.12s: Pushed  %9s %s/s\n",
                digest + 7, total, speed);
    }
    return r;
}

static int push_manifest(struct image_store *store, struct registry_client *c, const char *repo,
                         const char *reference, const char *digest, long long *ret_size,
                         struct error **err)
{
    _cleanup_free_ char *path = image_store_blob(store, digest);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (!path)
        return error_set_plain(err, ENOENT, "manifest '%s' is missing from the store", digest);
    int r = read_file(path, &text, &len, err);
    if (r < 0)
        return r;
    cJSON *j = cJSON_ParseWithLength(text, len);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "mediaType");
    _cleanup_free_ char *ct =
        xasprintf("Content-Type: %s", cJSON_IsString(mt) ? mt->valuestring : MT_OCI_MANIFEST);
    cJSON_Delete(j);
    const char *headers[] = {ct, NULL};
    _cleanup_free_ char *url = xasprintf("%s/manifests/%s", repo, reference);
    _cleanup_(responsep_clear) struct registry_response resp = {0};
    r = registry_request(c, "PUT", url, repo, 1, headers, text, len, &resp, err);
    if (r < 0)
        return r;
    if (resp.status != 201) {
        _cleanup_free_ char *what = xasprintf("push manifest '%s'", digest);
        return http_error(&resp, what, err);
    }
    if (resp.docker_digest && strcmp(resp.docker_digest, digest))
        return error_set_plain(err, EPROTO, "registry stored manifest '%s' as '%s'", digest,
                               resp.docker_digest);
    *ret_size = (long long)len;
    return 0;
}

int image_push(struct image_store *store, const char *src, const char *dest,
               const struct push_options *o, char **ret_digest, long long *ret_size,
               struct error **err)
{
    _cleanup_(image_freep) struct image *img = NULL;
    int r = image_store_resolve(store, src, &img, err);
    if (r < 0)
        return r;
    _cleanup_(image_ref_clear) struct image_ref ref = {0};
    r = image_ref_parse(dest ? dest : src, &ref, err);
    if (r < 0)
        return r;
    if (!ref.tag && !ref.digest)
        return error_set_plain(err, EINVAL, "'%s': no tag to push to", dest ? dest : src);
    if (ref.digest && strcmp(ref.digest, img->manifest_digest))
        return error_set_plain(err, EINVAL, "'%s': the image's manifest is '%s'", dest ? dest : src,
                               img->manifest_digest);
    const char *dflt = registry_config_default(o->registries);
    const char *domain = ref.qualified ? ref.domain : dflt;
    /* As pull: "library/" is Docker Hub's; another default registry has none. */
    const char *repo = ref.path;
    if (!ref.qualified && strcmp(dflt, IMAGE_REF_DEFAULT_DOMAIN) &&
        !strncmp(ref.path, "library/", 8))
        repo = ref.path + 8;
    const char *host = registry_endpoint(domain);
    _cleanup_free_ char *authfile = auth_file_path(o->authfile);
    _cleanup_(wipe_free) char *user = NULL;
    _cleanup_(wipe_free) char *pass = NULL;
    r = auth_file_get(authfile, domain, &user, &pass, err);
    if (r < 0)
        return r;
    struct registry_options ro = {
        .host = host,
        .insecure = !o->tls_verify || registry_config_insecure(o->registries, host),
        .username = user,
        .password = pass,
    };
    _cleanup_(clientp_free) struct registry_client *c = NULL;
    r = registry_client_new(&ro, &c, err);
    if (r < 0)
        return r;
    long long chunk = o->chunk_size > 0 ? o->chunk_size : PUSH_CHUNK_DEFAULT;
    for (size_t i = 0; i < img->n_layers; i++) {
        r = push_blob(store, c, repo, img->layers[i].digest, chunk, o->progress, err);
        if (r < 0)
            return r;
    }
    /* The config last but one, the manifest last: a registry may check both. */
    r = push_blob(store, c, repo, img->id, chunk, o->progress, err);
    if (r < 0)
        return r;
    long long size = 0;
    r = push_manifest(store, c, repo, ref.tag ? ref.tag : ref.digest, img->manifest_digest, &size,
                      err);
    if (r < 0)
        return r;
    _cleanup_free_ char *digest = strdup(img->manifest_digest);
    if (!digest)
        return error_set(err, ENOMEM, "push");
    *ret_digest = TAKE_PTR(digest);
    *ret_size = size;
    return 0;
}
