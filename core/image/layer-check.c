/* Deferred diff_id checks of pulled layers (layer-check.h). */
#include "image/layer-check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/diff-digest.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"

#define UNCHECKED "unchecked\n"
#define READ_BLOCK (1024 * 1024)

static char *record_path(const char *images_dir, const char *digest)
{
    return xasprintf("%s/layer-check/%s", images_dir, digest + 7);
}

int layer_check_state(const char *images_dir, const char *digest, char *ret_diff_id,
                      struct error **err)
{
    if (!digest_is_valid(digest))
        return error_set(err, EINVAL, "layer check: invalid digest '%s'", digest);
    _cleanup_free_ char *path = record_path(images_dir, digest);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct error *rerr = NULL;
    int r = read_file(path, &text, &len, &rerr);
    if (r < 0) {
        bool missing = r == -ENOENT;
        if (missing) {
            error_free(&rerr);
            return LAYER_CHECK_TRUSTED;
        }
        *err = rerr;
        return r;
    }
    if (!strcmp(text, UNCHECKED))
        return LAYER_CHECK_UNCHECKED;
    if (len == DIGEST_STR_LEN + 1 && text[DIGEST_STR_LEN] == '\n') {
        text[DIGEST_STR_LEN] = '\0';
        if (digest_is_valid(text)) {
            if (ret_diff_id)
                memcpy(ret_diff_id, text, DIGEST_STR_LEN + 1);
            return LAYER_CHECK_KNOWN;
        }
    }
    /* A record we did not write whole: check the layer again. */
    return LAYER_CHECK_UNCHECKED;
}

static int write_record(const char *images_dir, const char *digest, const char *text,
                        struct error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/layer-check", images_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return error_set(err, errno, "layer check: create '%s'", dir);
    _cleanup_free_ char *path = record_path(images_dir, digest);
    return write_file_atomic(path, text, strlen(text), 0600, err);
}

int layer_check_mark_unchecked(const char *images_dir, const char *digest, struct error **err)
{
    int r = layer_check_state(images_dir, digest, NULL, err);
    if (r < 0)
        return r;
    /* No record (checked at entry) is made unchecked too: the claim of the
     * image being added was not compared with anything. */
    if (r != LAYER_CHECK_TRUSTED)
        return 0;
    return write_record(images_dir, digest, UNCHECKED, err);
}

int layer_check_record(const char *images_dir, const char *digest, const char *diff_id,
                       struct error **err)
{
    char text[DIGEST_STR_LEN + 2];
    if (!digest_is_valid(digest) || !digest_is_valid(diff_id))
        return error_set(err, EINVAL, "layer check: invalid digest");
    memcpy(text, diff_id, DIGEST_STR_LEN);
    text[DIGEST_STR_LEN] = '\n';
    text[DIGEST_STR_LEN + 1] = '\0';
    return write_record(images_dir, digest, text, err);
}

void layer_check_forget(const char *images_dir, const char *digest)
{
    if (!digest_is_valid(digest))
        return;
    _cleanup_free_ char *path = record_path(images_dir, digest);
    unlink(path);
}

/* The diff_id of the blob at PATH: decompressed and hashed on two threads. */
static int compute_diff_id(const char *path, char *ret_diff_id, struct error **err)
{
    int r = diff_digest_load(DIFF_GZIP_BEST, err);
    if (r < 0)
        return r;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "open '%s'", path);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    _cleanup_free_ char *buf = malloc(READ_BLOCK);
    if (!buf)
        return error_set(err, ENOMEM, "layer check");
    struct diff_digest *d = NULL;
    r = diff_digest_new(DIFF_GZIP_BEST, 1, &d, err);
    if (r < 0)
        return r;
    for (;;) {
        ssize_t n = read(fd, buf, READ_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = error_set(err, errno, "read '%s'", path);
            break;
        }
        if (n == 0) {
            r = diff_digest_finish(d, ret_diff_id, err);
            break;
        }
        r = diff_digest_update(d, buf, (size_t)n, err);
        if (r < 0)
            break;
    }
    diff_digest_free(d);
    return r;
}

int layer_check_ensure(const char *images_dir, const char *blob_path, const char *digest,
                       const char *claimed_diff_id, struct error **err)
{
    char diff_id[DIGEST_STR_LEN + 1];
    int r = layer_check_state(images_dir, digest, diff_id, err);
    if (r < 0)
        return r;
    if (r == LAYER_CHECK_TRUSTED)
        return 0;
    if (r == LAYER_CHECK_UNCHECKED) {
        r = compute_diff_id(blob_path, diff_id, err);
        if (r < 0)
            return error_prefix(err, "layer '%s'", digest);
        /* What was found is the blob's own truth, whichever image claims
         * what: recorded before the comparison. */
        r = layer_check_record(images_dir, digest, diff_id, err);
        if (r < 0)
            return r;
    }
    if (strcmp(diff_id, claimed_diff_id))
        return error_set(err, 0, "layer '%s': uncompressed digest '%s', config says '%s'", digest,
                         diff_id, claimed_diff_id);
    return 0;
}
