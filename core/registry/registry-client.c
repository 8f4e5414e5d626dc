/* The distribution API client (registry-client.h). */
#include "registry/registry-client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "registry/curl-lazy.h"
#include "registry/www-authenticate.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/sha256.h"
#include "util/human-units.h"

#define RESPONSE_MAX (8 * 1024 * 1024)
#define HEADER_VALUE_MAX 4096
#define RETRY_MAX 5
#define RETRY_BASE_MS 200
#define RETRY_CAP_MS 5000
#define PARALLEL_MAX 4
/* Writeback of a blob is started every this many bytes, so that the fsync
 * before its rename has little left to wait for. */
#define WRITEBACK_BYTES (8LL * 1024 * 1024)
/* curl's receive buffer for blobs: fewer, larger writes than its 16 KiB default. */
#define BLOB_BUFFER_BYTES (256L * 1024)

struct registry_client {
    char *host;
    bool insecure;
    char *username;
    char *password;
    const char *scheme; /* "https" or "http", once pinged */
    struct auth_challenge challenge;
    char *token; /* bearer token for TOKEN_SCOPE */
    char *token_scope;
    unsigned token_generation; /* bumped by every token fetched */
};

void registry_response_clear(struct registry_response *r)
{
    free(r->body);
    free(r->content_type);
    free(r->docker_digest);
    free(r->location);
    *r = (struct registry_response){0};
}

static void secure_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void registry_client_free(struct registry_client *c)
{
    if (!c)
        return;
    free(c->host);
    secure_free(c->username);
    secure_free(c->password);
    secure_free(c->token);
    free(c->token_scope);
    auth_challenge_clear(&c->challenge);
    free(c);
}

int registry_client_new(const struct registry_options *o, struct registry_client **ret,
                        struct error **err)
{
    int r = curl_lazy_load(err);
    if (r < 0)
        return r;
    struct registry_client *c = calloc(1, sizeof(*c));
    if (!c)
        return error_set(err, ENOMEM, "registry client");
    c->host = strdup(o->host);
    c->insecure = o->insecure;
    c->username = o->username ? strdup(o->username) : NULL;
    c->password = o->password ? strdup(o->password) : NULL;
    if (!c->host || (o->username && !c->username) || (o->password && !c->password)) {
        registry_client_free(c);
        return error_set(err, ENOMEM, "registry client");
    }
    *ret = c;
    return 0;
}

/* ---- one HTTP exchange ---- */

struct exchange {
    struct registry_response *resp;
    char *www_auth;
    bool too_big;
};

static char *header_value(const char *line, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    if (len <= nlen + 1 || strncasecmp(line, name, nlen) || line[nlen] != ':')
        return NULL;
    const char *v = line + nlen + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if ((size_t)(end - v) > HEADER_VALUE_MAX)
        return NULL;
    return strndup(v, (size_t)(end - v));
}

static void set_header(char **slot, char *v)
{
    if (v) {
        free(*slot);
        *slot = v;
    }
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    struct exchange *x = ud;
    size_t len = size * n;
    /* A new response (after a redirect or a 100): forget the previous one's headers. */
    if (len > 5 && !strncmp(line, "HTTP/", 5)) {
        free(x->resp->content_type);
        free(x->resp->docker_digest);
        free(x->resp->location);
        free(x->www_auth);
        x->resp->content_type = x->resp->docker_digest = x->resp->location = x->www_auth = NULL;
    }
    set_header(&x->resp->content_type, header_value(line, len, "Content-Type"));
    set_header(&x->resp->docker_digest, header_value(line, len, "Docker-Content-Digest"));
    set_header(&x->resp->location, header_value(line, len, "Location"));
    set_header(&x->www_auth, header_value(line, len, "WWW-Authenticate"));
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct exchange *x = ud;
    size_t len = size * n;
    struct registry_response *r = x->resp;
    if (r->body_len + len > RESPONSE_MAX) {
        x->too_big = true;
        return 0;
    }
    char *grown = realloc(r->body, r->body_len + len + 1);
    if (!grown)
        return 0;
    memcpy(grown + r->body_len, data, len);
    r->body = grown;
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return len;
}

static void curl_cleanupp(CURL **h)
{
    if (*h)
        curl_easy_cleanup(*h);
}

static void slist_freep(struct curl_slist **l)
{
    if (*l)
        curl_slist_free_all(*l);
}

static void common_options(const struct registry_client *c, CURL *h)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled transfer (under 1 byte/s for 30 s) counts as a timeout and is retried. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "identity");
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static bool transient_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static bool transient_status(long status)
{
    return status == 429 || (status >= 500 && status <= 599 && status != 501);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long backoff_ms(int attempt)
{
    long ms = RETRY_BASE_MS << (attempt < 10 ? attempt : 10);
    return ms > RETRY_CAP_MS ? RETRY_CAP_MS : ms;
}

/* What to authenticate one exchange with. */
struct auth {
    const char *bearer;   /* token, or NULL */
    const char *username; /* Basic, or NULL */
    const char *password;
};

/*
 * One exchange with retries of transient failures. *RET_WWW_AUTH gets the
 * challenge of a 401 (caller frees).
 */
/* A request body: DATA/LEN in memory, or LEN bytes of FD from OFFSET (FD >= 0). */
struct body {
    const void *data;
    long long len;
    int fd;
    long long offset;
    long long left; /* while streaming */
    bool read_failed;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    size_t want = size * n;
    if ((long long)want > b->left)
        want = (size_t)b->left;
    if (want == 0)
        return 0;
    ssize_t got;
    do
        got = read(b->fd, buf, want);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        b->read_failed = true;
        return CURL_READFUNC_ABORT;
    }
    b->left -= got;
    return (size_t)got;
}

static int exchange_body(const struct registry_client *c, const char *method, const char *url,
                         const struct auth *auth, const char *const *headers, struct body *body,
                         struct registry_response *ret, char **ret_www_auth, struct error **err);

static int exchange(const struct registry_client *c, const char *method, const char *url,
                    const struct auth *auth, const char *const *headers, const void *data,
                    size_t len, struct registry_response *ret, char **ret_www_auth,
                    struct error **err)
{
    struct body b = {.data = data, .len = (long long)len, .fd = -1};
    return exchange_body(c, method, url, auth, headers, &b, ret, ret_www_auth, err);
}

static int exchange_body(const struct registry_client *c, const char *method, const char *url,
                         const struct auth *auth, const char *const *headers, struct body *body,
                         struct registry_response *ret, char **ret_www_auth, struct error **err)
{
    for (int attempt = 0;; attempt++) {
        _cleanup_(curl_cleanupp) CURL *h = curl_easy_init();
        _cleanup_(slist_freep) struct curl_slist *hl = NULL;
        if (!h)
            return error_set(err, ENOMEM, "%s %s", method, url);
        common_options(c, h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        for (const char *const *hp = headers; hp && *hp; hp++)
            hl = curl_slist_append(hl, *hp);
        _cleanup_free_ char *bearer = NULL;
        if (auth && auth->bearer) {
            bearer = xasprintf("Authorization: Bearer %s", auth->bearer);
            hl = curl_slist_append(hl, bearer);
            explicit_bzero(bearer, strlen(bearer));
        } else if (auth && auth->username) {
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERNAME, auth->username);
            curl_easy_setopt(h, CURLOPT_PASSWORD, auth->password ? auth->password : "");
        }
        if (!strcmp(method, "HEAD")) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(method, "GET")) {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
            if (body->fd >= 0) {
                /* Streamed from the file; rewound for every attempt. */
                if (lseek(body->fd, body->offset, SEEK_SET) < 0)
                    return error_set(err, errno, "%s %s: seek", method, url);
                body->left = body->len;
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(h, CURLOPT_READDATA, body);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body->len);
            } else {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data ? body->data : "");
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
            }
        }
        /* An empty Expect: saves a round trip on uploads. */
        hl = curl_slist_append(hl, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        struct registry_response resp = {0};
        struct exchange x = {.resp = &resp};
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
        if (bearer)
            explicit_bzero(bearer, strlen(bearer));
        if (rc == CURLE_OK && !transient_status(resp.status)) {
            if (!resp.body && !(resp.body = strdup("")))
                rc = CURLE_OUT_OF_MEMORY;
            if (rc == CURLE_OK) {
                *ret = resp;
                if (ret_www_auth)
                    *ret_www_auth = x.www_auth;
                else
                    free(x.www_auth);
                return 0;
            }
        }
        long status = resp.status;
        registry_response_clear(&resp);
        free(x.www_auth);
        if (body->read_failed)
            return error_set_plain(err, EIO, "%s %s: reading the upload failed", method, url);
        if (x.too_big)
            return error_set_plain(err, EFBIG, "%s %s: response larger than %d bytes", method, url,
                                   RESPONSE_MAX);
        bool retry = rc == CURLE_OK ? transient_status(status) : transient_curl_error(rc);
        if (!retry || attempt + 1 >= RETRY_MAX) {
            if (rc == CURLE_OK)
                return error_set_plain(err, EIO, "%s %s: HTTP %ld after %d attempts", method, url,
                                       status, attempt + 1);
            return error_set_plain(err, EIO, "%s %s: %s", method, url, curl_easy_strerror(rc));
        }
        sleep_ms(backoff_ms(attempt));
    }
}

/* ---- authentication ---- */

static char *base_url(const struct registry_client *c)
{
    return xasprintf("%s://%s", c->scheme, c->host);
}

/* GET /v2/: picks the scheme and learns the challenge. */
static int ping(struct registry_client *c, struct error **err)
{
    if (c->scheme)
        return 0;
    const char *schemes[] = {"https", "http"};
    struct error *first = NULL;
    for (size_t i = 0; i < (c->insecure ? 2u : 1u); i++) {
        c->scheme = schemes[i];
        _cleanup_free_ char *url = xasprintf("%s://%s/v2/", c->scheme, c->host);
        struct registry_response resp = {0};
        _cleanup_free_ char *www = NULL;
        struct error *e = NULL;
        int r = exchange(c, "GET", url, NULL, NULL, NULL, 0, &resp, &www, &e);
        if (r < 0) {
            if (!first)
                first = e;
            else
                error_free(&e);
            continue;
        }
        long status = resp.status;
        registry_response_clear(&resp);
        error_free(&first);
        if (status == 401) {
            if (!www)
                return error_set_plain(err, EPROTO,
                                       "registry '%s': 401 without a WWW-Authenticate challenge",
                                       c->host);
            r = auth_challenge_parse(www, strlen(www), &c->challenge, err);
            if (r < 0)
                return error_prefix(err, "registry '%s'", c->host);
        } else if (status < 200 || status > 299) {
            return error_set_plain(err, EPROTO, "registry '%s': /v2/ answered HTTP %ld", c->host,
                                   status);
        }
        return 0;
    }
    c->scheme = NULL;
    *err = first;
    return error_code(first);
}

/* Fetches a bearer token for SCOPE (may be NULL) from the challenge's realm. */
static int fetch_token(struct registry_client *c, const char *scope, struct error **err)
{
    if (c->token && ((!scope && !c->token_scope) ||
                     (scope && c->token_scope && !strcmp(scope, c->token_scope))))
        return 0;
    const char *realm = c->challenge.realm;
    if (strncmp(realm, "https://", 8) && strncmp(realm, "http://", 7))
        return error_set_plain(err, EPROTO, "registry '%s': token realm is not an http(s) URL",
                               c->host);
    _cleanup_(curl_cleanupp) CURL *h = curl_easy_init();
    if (!h)
        return error_set(err, ENOMEM, "token");
    _cleanup_free_ char *query = strdup("");
    const char *params[][2] = {{"service", c->challenge.service}, {"scope", scope}};
    for (size_t i = 0; i < 2; i++) {
        if (!params[i][1])
            continue;
        char *esc = curl_easy_escape(h, params[i][1], 0);
        if (!esc)
            return error_set(err, ENOMEM, "token");
        char *q = xasprintf("%s%s%s=%s", query, *query ? "&" : "", params[i][0], esc);
        curl_free(esc);
        free(query);
        query = q;
    }
    _cleanup_free_ char *url =
        xasprintf("%s%s%s", realm, *query ? (strchr(realm, '?') ? "&" : "?") : "", query);
    struct auth a = {.username = c->username, .password = c->password};
    struct registry_response resp = {0};
    int r = exchange(c, "GET", url, c->username ? &a : NULL, NULL, NULL, 0, &resp, NULL, err);
    if (r < 0)
        return error_prefix(err, "registry '%s': get token", c->host);
    long status = resp.status;
    _cleanup_json_ cJSON *j = status == 200 ? cJSON_Parse(resp.body) : NULL;
    registry_response_clear(&resp);
    if (status == 401 || status == 403)
        return error_set_plain(err, EACCES, "registry '%s': authentication failed (HTTP %ld)",
                               c->host, status);
    if (status != 200)
        return error_set_plain(err, EPROTO, "registry '%s': token server answered HTTP %ld",
                               c->host, status);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
    if (!cJSON_IsString(t))
        t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    if (!cJSON_IsString(t) || !*t->valuestring || strlen(t->valuestring) > 64 * 1024 ||
        strpbrk(t->valuestring, "\r\n"))
        return error_set_plain(err, EPROTO, "registry '%s': token server sent no valid token",
                               c->host);
    secure_free(c->token);
    free(c->token_scope);
    c->token = strdup(t->valuestring);
    explicit_bzero(t->valuestring, strlen(t->valuestring));
    c->token_scope = scope ? strdup(scope) : NULL;
    c->token_generation++;
    if (!c->token || (scope && !c->token_scope))
        return error_set(err, ENOMEM, "token");
    return 0;
}

/* The credentials for a request on REPO. */
static int authorize(struct registry_client *c, const char *repo, bool push, struct auth *ret,
                     struct error **err)
{
    *ret = (struct auth){0};
    int r = ping(c, err);
    if (r < 0)
        return r;
    if (c->challenge.scheme == AUTH_SCHEME_BASIC) {
        ret->username = c->username;
        ret->password = c->password;
    } else if (c->challenge.scheme == AUTH_SCHEME_BEARER) {
        _cleanup_free_ char *scope =
            repo ? xasprintf("repository:%s:%s", repo, push ? "pull,push" : "pull") : NULL;
        r = fetch_token(c, scope, err);
        if (r < 0)
            return r;
        ret->bearer = c->token;
    }
    return 0;
}

static char *request_url(const struct registry_client *c, const char *path)
{
    if (!strncmp(path, "https://", 8) || !strncmp(path, "http://", 7))
        return strdup(path);
    _cleanup_free_ char *base = base_url(c);
    if (path[0] == '/')
        return xasprintf("%s%s", base, path);
    return xasprintf("%s/v2/%s", base, path);
}

/* Authorizes, sends, and turns a 401 the authentication could not avoid into an error. */
static int request_body(struct registry_client *c, const char *method, const char *path,
                        const char *repo, int push, const char *const *headers, struct body *body,
                        struct registry_response *ret, struct error **err)
{
    struct auth a;
    int r = authorize(c, repo, push, &a, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *url = request_url(c, path);
    if (!url)
        return error_set(err, ENOMEM, "request");
    struct registry_response resp = {0};
    r = exchange_body(c, method, url, &a, headers, body, &resp, NULL, err);
    if (r < 0)
        return r;
    if (resp.status == 401) {
        registry_response_clear(&resp);
        return error_set_plain(err, EACCES, "%s %s: unauthorized: authentication required", method,
                               url);
    }
    *ret = resp;
    return 0;
}

int registry_request(struct registry_client *c, const char *method, const char *path,
                     const char *repo, int push, const char *const *headers, const void *body,
                     size_t body_len, struct registry_response *ret, struct error **err)
{
    struct body b = {.data = body, .len = (long long)body_len, .fd = -1};
    return request_body(c, method, path, repo, push, headers, &b, ret, err);
}

int registry_request_fd(struct registry_client *c, const char *method, const char *path,
                        const char *repo, int push, const char *const *headers, int fd,
                        long long offset, long long len, struct registry_response *ret,
                        struct error **err)
{
    struct body b = {.len = len, .fd = fd, .offset = offset};
    return request_body(c, method, path, repo, push, headers, &b, ret, err);
}

int registry_check_login(struct registry_client *c, struct error **err)
{
    int r = ping(c, err);
    if (r < 0)
        return r;
    if (c->challenge.scheme == AUTH_SCHEME_NONE)
        return 0; /* the registry asks for nothing: any credentials do */
    struct auth a;
    r = authorize(c, NULL, false, &a, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *url = request_url(c, "");
    struct registry_response resp = {0};
    r = exchange(c, "GET", url, &a, NULL, NULL, 0, &resp, NULL, err);
    if (r < 0)
        return r;
    long status = resp.status;
    registry_response_clear(&resp);
    if (status == 401 || status == 403)
        return error_set_plain(err, EACCES, "registry '%s': authentication failed (HTTP %ld)",
                               c->host, status);
    if (status < 200 || status > 299)
        return error_set_plain(err, EPROTO, "registry '%s': /v2/ answered HTTP %ld", c->host,
                               status);
    return 0;
}

/* ---- parallel blob downloads ---- */

enum xfer_state { X_PENDING, X_RUNNING, X_WAIT_RETRY, X_DONE };

struct xfer {
    struct registry_blob *blob;
    enum xfer_state state;
    CURL *h;
    struct curl_slist *headers;
    int lock_fd;
    int fd; /* DEST.partial */
    char *lock_path;
    char *partial;
    struct sha256_ctx *sha;
    int attempt;
    long long retry_at_ms;
    long status;
    bool status_known;
    bool discard;  /* body of an error response */
    bool overflow; /* more bytes than the descriptor says */
    bool write_failed;
    bool reauthed;             /* a 401 already made us fetch a new token once */
    unsigned token_generation; /* of the token this transfer was started with */
    long long written_back;    /* writeback started up to here */
};

static void xfer_restart_hash(struct xfer *x)
{
    if (x->sha) {
        char junk[DIGEST_STR_LEN + 1];
        sha256_finish(x->sha, junk);
    }
    x->sha = sha256_new();
}

static size_t on_blob_data(char *data, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (!x->status_known) {
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
        x->status_known = true;
        if (x->status == 200 && x->blob->done > 0) {
            /* The server ignored our Range: start over. */
            if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0) {
                x->write_failed = true;
                return 0;
            }
            x->blob->done = 0;
            x->written_back = 0;
            xfer_restart_hash(x);
        } else if (x->status != 200 && x->status != 206) {
            x->discard = true;
        }
    }
    if (x->discard)
        return len;
    if (x->blob->done + (long long)len > x->blob->size) {
        x->overflow = true;
        return 0;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(x->fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            x->write_failed = true;
            return 0;
        }
        off += (size_t)w;
    }
    sha256_update(x->sha, data, len);
    x->blob->done += (long long)len;
    if (x->blob->done - x->written_back >= WRITEBACK_BYTES) {
        /* Only starts the writeback; never waits for it. */
        (void)sync_file_range(x->fd, x->written_back, x->blob->done - x->written_back,
                              SYNC_FILE_RANGE_WRITE);
        x->written_back = x->blob->done;
    }
    return len;
}

static void xfer_release(struct xfer *x, bool keep_partial)
{
    if (x->h)
        curl_easy_cleanup(x->h);
    x->h = NULL;
    if (x->headers)
        curl_slist_free_all(x->headers);
    x->headers = NULL;
    if (x->fd >= 0)
        close(x->fd);
    x->fd = -1;
    if (x->partial && !keep_partial && x->lock_fd >= 0)
        unlink(x->partial);
    if (x->lock_fd >= 0)
        close(x->lock_fd);
    x->lock_fd = -1;
    if (x->sha) {
        char junk[DIGEST_STR_LEN + 1];
        sha256_finish(x->sha, junk);
        x->sha = NULL;
    }
}

/*
 * Takes DEST.lock without blocking. Returns 1 when locked, 0 when another
 * process holds it. The lock file may be unlinked by its holder (cleanup),
 * so a lock on a file no longer at the path is retried.
 */
static int xfer_lock(struct xfer *x, struct error **err)
{
    for (;;) {
        int fd = open(x->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return error_set(err, errno, "open '%s'", x->lock_path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return 0;
            return error_set(err, e, "lock '%s'", x->lock_path);
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(x->lock_path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            x->lock_fd = fd;
            return 1;
        }
        close(fd);
    }
}

static int xfer_start(struct registry_client *c, CURLM *m, const char *repo, const struct auth *a,
                      struct xfer *x, struct error **err)
{
    CURL *h = curl_easy_init();
    if (!h)
        return error_set(err, ENOMEM, "download");
    x->h = h;
    common_options(c, h);
    _cleanup_free_ char *base = base_url(c);
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", base, repo, x->blob->digest);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (a->bearer) {
        _cleanup_free_ char *hdr = xasprintf("Authorization: Bearer %s", a->bearer);
        x->headers = curl_slist_append(x->headers, hdr);
        explicit_bzero(hdr, strlen(hdr));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
    } else if (a->username) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, a->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, a->password ? a->password : "");
    }
    if (x->blob->done > 0) {
        _cleanup_free_ char *range = xasprintf("%lld-", x->blob->done);
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    }
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, BLOB_BUFFER_BYTES);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_blob_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    x->token_generation = c->token_generation;
    x->status_known = x->discard = false;
    x->status = 0;
    if (curl_multi_add_handle(m, h) != CURLM_OK)
        return error_set(err, ENOMEM, "download");
    x->state = X_RUNNING;
    return 0;
}

/* Begins a pending blob: its lock, then its partial file. Returns 1 when started or done. */
static int xfer_begin(struct registry_client *c, CURLM *m, const char *repo, const struct auth *a,
                      struct xfer *x, struct error **err)
{
    int r = xfer_lock(x, err);
    if (r <= 0)
        return r;
    if (path_exists(x->blob->dest) || (x->blob->also && path_exists(x->blob->also))) {
        /* Another pull finished it while we waited. */
        x->blob->done = x->blob->size;
        x->blob->finished = 1;
        x->state = X_DONE;
        xfer_release(x, true);
        return 1;
    }
    x->fd = open(x->partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (x->fd < 0)
        return error_set(err, errno, "create '%s'", x->partial);
    x->blob->done = 0;
    x->written_back = 0;
    xfer_restart_hash(x);
    r = xfer_start(c, m, repo, a, x, err);
    return r < 0 ? r : 1;
}

/*
 * A transfer ended with RC: verify and move into place, schedule a retry, or
 * fail. Returns 1 (retry scheduled) when a 401 asks for new credentials.
 */
static int xfer_finish(struct xfer *x, CURLM *m, CURLcode rc, struct error **err)
{
    curl_multi_remove_handle(m, x->h);
    curl_easy_cleanup(x->h);
    x->h = NULL;
    if (x->headers)
        curl_slist_free_all(x->headers);
    x->headers = NULL;
    const char *d = x->blob->digest;
    if (x->overflow)
        return error_set_plain(err, EPROTO, "blob '%s': more data than the %lld bytes expected", d,
                               x->blob->size);
    if (x->write_failed)
        return error_set(err, errno, "write '%s'", x->partial);
    bool ok_status = x->status == 200 || x->status == 206;
    bool retry = rc != CURLE_OK ? transient_curl_error(rc) : transient_status(x->status);
    if (retry && x->attempt + 1 < RETRY_MAX) {
        x->retry_at_ms = monotonic_ms() + backoff_ms(x->attempt);
        x->attempt++;
        x->state = X_WAIT_RETRY;
        return 0;
    }
    if (rc != CURLE_OK)
        return error_set_plain(err, EIO, "blob '%s': %s", d, curl_easy_strerror(rc));
    if (x->status == 401 && !x->reauthed) {
        /* A bearer token may expire during a long pull: the caller fetches a new one. */
        x->reauthed = true;
        x->retry_at_ms = monotonic_ms();
        x->state = X_WAIT_RETRY;
        return 1;
    }
    if (x->status == 401 || x->status == 403)
        return error_set_plain(err, EACCES, "blob '%s': unauthorized (HTTP %ld)", d, x->status);
    if (x->status == 404)
        return error_set_plain(err, ENOENT, "blob '%s': not found in the registry", d);
    if (!ok_status)
        return error_set_plain(err, EIO, "blob '%s': HTTP %ld", d, x->status);
    if (x->blob->done != x->blob->size)
        return error_set_plain(err, EPROTO, "blob '%s': truncated: %lld of %lld bytes", d,
                               x->blob->done, x->blob->size);
    char got[DIGEST_STR_LEN + 1];
    sha256_finish(x->sha, got);
    x->sha = NULL;
    if (strcmp(got, d))
        return error_set_plain(err, EPROTO, "blob '%s': content has digest '%s'", d, got);
    if (fsync(x->fd) < 0 || close(x->fd) < 0) {
        x->fd = -1;
        return error_set(err, errno, "write '%s'", x->partial);
    }
    x->fd = -1;
    if (rename(x->partial, x->blob->dest) < 0)
        return error_set(err, errno, "rename '%s'", x->partial);
    x->blob->finished = 1;
    x->blob->fetched = 1;
    x->state = X_DONE;
    xfer_release(x, true);
    return 0;
}

static void curlm_cleanupp(CURLM **m)
{
    if (*m)
        curl_multi_cleanup(*m);
}

int registry_fetch_blobs(struct registry_client *c, const char *repo, struct registry_blob *blobs,
                         size_t n, registry_progress_fn progress, void *userdata,
                         struct error **err)
{
    if (n == 0)
        return 0;
    struct auth a;
    int r = authorize(c, repo, false, &a, err);
    if (r < 0)
        return r;
    _cleanup_(curlm_cleanupp) CURLM *m = curl_multi_init();
    _cleanup_free_ struct xfer *xs = calloc(n, sizeof(*xs));
    if (!m || !xs)
        return error_set(err, ENOMEM, "download");
    for (size_t i = 0; i < n; i++) {
        xs[i] = (struct xfer){.blob = &blobs[i], .lock_fd = -1, .fd = -1};
        xs[i].lock_path = xasprintf("%s.lock", blobs[i].dest);
        xs[i].partial = xasprintf("%s.partial", blobs[i].dest);
        blobs[i].done = 0;
        blobs[i].finished = 0;
        blobs[i].fetched = 0;
        if (path_exists(blobs[i].dest)) {
            blobs[i].done = blobs[i].size;
            blobs[i].finished = 1;
            xs[i].state = X_DONE;
        }
    }
    long long last_progress = 0;
    for (;;) {
        size_t running = 0, left = 0;
        for (size_t i = 0; i < n; i++) {
            left += xs[i].state != X_DONE;
            running += xs[i].state == X_RUNNING;
        }
        if (left == 0)
            break;
        long long now = monotonic_ms();
        for (size_t i = 0; i < n && r >= 0 && running < PARALLEL_MAX; i++) {
            struct xfer *x = &xs[i];
            if (x->state == X_PENDING) {
                int b = xfer_begin(c, m, repo, &a, x, err);
                if (b < 0)
                    r = b;
                else if (b > 0 && x->state == X_RUNNING)
                    running++;
            } else if (x->state == X_WAIT_RETRY && now >= x->retry_at_ms) {
                r = xfer_start(c, m, repo, &a, x, err);
                if (r >= 0)
                    running++;
            }
        }
        if (r < 0)
            break;
        int still = 0;
        if (curl_multi_perform(m, &still) != CURLM_OK) {
            r = error_set_plain(err, EIO, "download: curl multi failed");
            break;
        }
        CURLMsg *msg;
        int queued;
        while (r >= 0 && (msg = curl_multi_info_read(m, &queued))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct xfer *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            r = xfer_finish(x, m, msg->data.result, err);
            if (r > 0 && c->challenge.scheme == AUTH_SCHEME_BEARER &&
                x->token_generation == c->token_generation) {
                /* Running transfers keep their copy of the old header; a
                 * transfer that started before a renewal just retries. */
                secure_free(c->token);
                c->token = NULL;
                r = authorize(c, repo, false, &a, err);
            } else if (r > 0) {
                r = 0;
                a.bearer = c->token;
            }
            if (progress)
                progress(userdata, blobs, n);
        }
        if (r < 0)
            break;
        if (progress && now - last_progress >= 100) {
            progress(userdata, blobs, n);
            last_progress = now;
        }
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (xs[i].h)
            curl_multi_remove_handle(m, xs[i].h);
        xfer_release(&xs[i], false);
        free(xs[i].lock_path);
        free(xs[i].partial);
    }
    if (r == 0 && progress)
        progress(userdata, blobs, n);
    return r;
}
