/*
 * A client of the OCI distribution API (one registry host), on libcurl
 * (loaded lazily: registry/curl-lazy.h).
 *
 * Authentication is handled inside: the first request pings /v2/; a 401's
 * WWW-Authenticate challenge selects Basic (the credentials given) or the
 * Bearer token flow (a token for the request's scope, fetched from the
 * realm with the credentials if any, anonymously otherwise, and cached).
 * Credentials only live in this process's memory: never in argv, the
 * environment, a log line or an error message.
 *
 * Transient failures (5xx, a dropped connection, a timeout) are retried
 * with exponential back-off (RETRY_MAX attempts); blob downloads resume
 * with a Range request.
 */
#ifndef BERTH_REGISTRY_CLIENT_H
#define BERTH_REGISTRY_CLIENT_H

#include <stddef.h>

#include "util/error.h"
#include "util/sha256.h"

struct registry_client;

struct registry_options {
    const char *host;     /* "127.0.0.1:5000", "registry-1.docker.io" (the API endpoint) */
    int insecure;         /* allow plain http and unverified TLS */
    const char *username; /* NULL: anonymous */
    const char *password;
};

/* Copies everything from OPTS; connects lazily. */
int registry_client_new(const struct registry_options *opts, struct registry_client **ret,
                        struct error **err);
void registry_client_free(struct registry_client *c);

struct registry_response {
    long status;
    char *body; /* NUL-terminated, BODY_LEN bytes before it */
    size_t body_len;
    char *content_type;  /* or NULL */
    char *docker_digest; /* Docker-Content-Digest, or NULL */
    char *location;      /* Location, or NULL */
};
void registry_response_clear(struct registry_response *r);

/*
 * Sends METHOD ("GET", "HEAD", "PUT", "POST", "PATCH") to PATH, which is
 * either relative to /v2/ ("library/busybox/manifests/latest") or an
 * absolute URL or absolute path returned by the registry in a Location
 * header. REPO (e.g. "library/busybox") sets the token scope; PUSH asks for
 * "pull,push". HEADERS is NULL or a NULL-terminated list of "Name: value";
 * BODY/BODY_LEN is sent for PUT/POST/PATCH. A response up to 8 MiB is kept
 * in *RET (caller clears), whatever its status; transport failures and an
 * authentication the registry refuses are errors.
 */
int registry_request(struct registry_client *c, const char *method, const char *path,
                     const char *repo, int push, const char *const *headers, const void *body,
                     size_t body_len, struct registry_response *ret, struct error **err);

/*
 * registry_request with the body streamed from FD: LEN bytes from OFFSET
 * (pread-like: FD's position is moved). For blob uploads (PUT, PATCH) too
 * big for memory; the file is re-read from OFFSET on each retry.
 */
int registry_request_fd(struct registry_client *c, const char *method, const char *path,
                        const char *repo, int push, const char *const *headers, int fd,
                        long long offset, long long len, struct registry_response *ret,
                        struct error **err);

/* Checks the credentials given to registry_client_new (for login). */
int registry_check_login(struct registry_client *c, struct error **err);

struct registry_blob {
    const char *digest; /* "sha256:…" */
    long long size;     /* from the descriptor */
    const char *dest;   /* final path: written only once verified */
    const char *also;   /* or NULL: if this path exists, the blob is there already
                           (the store's copy, committed by a concurrent pull) */
    /* Filled in: */
    long long done; /* bytes downloaded (progress) */
    int finished;
    int fetched; /* this call downloaded and verified it (not another pull) */
};

/* Called from the download loop, at most ~10 times a second, and once per blob at its end. */
typedef void (*registry_progress_fn)(void *userdata, const struct registry_blob *blobs, size_t n);

/*
 * Downloads the blobs of REPO in parallel (up to 4 at a time) to their DEST
 * paths. Each is streamed into DEST.partial, hashed on the way, and renamed
 * to DEST only when its size and digest match (a layer's diff_id is
 * checked before its first unpack: image/layer-check.h). DEST.lock is flock()ed while
 * a blob downloads, so that concurrent pulls of the same blob wait for one
 * another; a DEST (or ALSO) that exists is taken as done. On failure no DEST.partial
 * remains.
 */
int registry_fetch_blobs(struct registry_client *c, const char *repo, struct registry_blob *blobs,
                         size_t n, registry_progress_fn progress, void *userdata,
                         struct error **err);

#endif
