/*
 * Writes to the image store: each runs in a private directory under tmp/
 * without the lock (copying, hashing, verifying), then, under the lock,
 * op_commit renames the verified blobs into blobs/ and replaces index.json;
 * see image-store.c.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image-store-internal.h"
#include "image/layer-check.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/lock.h"
#include "util/sha256.h"

#define COPY_BLOCK (128 * 1024)

void op_end(struct op *op)
{
    rmdir_locked(op->dir, op->fd);
    for (size_t i = 0; i < op->n_blobs; i++)
        free(op->blobs[i].path);
    free(op->blobs);
    *op = (struct op){.fd = -1};
}

/* Under the store lock: removes what crashed writers left behind. */
static void sweep_tmp(struct image_store *s)
{
    _cleanup_closedir_ DIR *d = opendir(s->tmp_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *p = xasprintf("%s/%s", s->tmp_dir, de->d_name);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
            continue; /* a live writer */
        struct error *ignored = NULL;
        rm_rf(p, &ignored);
        error_free(&ignored);
    }
    /* write_file_atomic's temporaries of a crashed index writer. */
    _cleanup_closedir_ DIR *top = opendir(s->dir);
    while (top && (de = readdir(top)))
        if (!strncmp(de->d_name, "index.json.tmp.", 15))
            unlinkat(dirfd(top), de->d_name, 0);
}

int op_begin(struct image_store *s, struct op *op, struct error **err)
{
    *op = (struct op){.fd = -1};
    _cleanup_close_ int lock = store_lock(s, err);
    if (lock < 0)
        return lock;
    sweep_tmp(s);
    /* Created and flocked under the store lock, so no sweep sees it unlocked. */
    int fd = mkdtemp_locked(s->tmp_dir, "op", &op->dir, err);
    if (fd < 0)
        return fd;
    op->fd = fd;
    return 0;
}

const struct staged *op_find_blob(const struct op *op, const char *digest)
{
    for (size_t i = 0; i < op->n_blobs; i++)
        if (!strcmp(op->blobs[i].digest, digest))
            return &op->blobs[i];
    return NULL;
}

int op_add_blob(struct op *op, const char *digest, char *path, long long size)
{
    struct staged *n = realloc(op->blobs, (op->n_blobs + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    op->blobs = n;
    memcpy(n[op->n_blobs].digest, digest, DIGEST_STR_LEN + 1);
    n[op->n_blobs].path = path;
    n[op->n_blobs].size = size;
    n[op->n_blobs].diff_id[0] = '\0';
    n[op->n_blobs].unchecked = false;
    op->n_blobs++;
    return 0;
}

void op_note_layer(struct op *op, const char *digest, const char *diff_id)
{
    for (size_t i = 0; i < op->n_blobs; i++)
        if (!strcmp(op->blobs[i].digest, digest)) {
            if (diff_id)
                memcpy(op->blobs[i].diff_id, diff_id, DIGEST_STR_LEN + 1);
            op->blobs[i].unchecked = !diff_id;
        }
}

int op_stage_file(struct op *op, const char *src, bool move, char *ret_digest, long long *ret_size,
                  char **ret_path, struct error **err)
{
    _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | (move ? O_NOFOLLOW : 0));
    if (in < 0)
        return error_set(err, errno, "open '%s'", src);
    struct stat st;
    if (fstat(in, &st) < 0)
        return error_set(err, errno, "stat '%s'", src);
    if (!S_ISREG(st.st_mode))
        return error_set(err, 0, "'%s' is not a regular file", src);
    _cleanup_free_ char *dst = NULL;
    _cleanup_close_ int out = -1;
    if (!move) {
        dst = xasprintf("%s/blob-%zu", op->dir, op->n_blobs);
        out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
            return error_set(err, errno, "create '%s'", dst);
    }
    _cleanup_free_ char *buf = malloc(COPY_BLOCK);
    if (!buf)
        return error_set(err, ENOMEM, "copy '%s'", src);
    struct sha256_ctx *h = sha256_new();
    long long total = 0;
    int r = 0;
    for (;;) {
        ssize_t n = read(in, buf, COPY_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = error_set(err, errno, "read '%s'", src);
            break;
        }
        if (n == 0)
            break;
        sha256_update(h, buf, (size_t)n);
        total += n;
        for (ssize_t off = 0; out >= 0 && off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                r = error_set(err, errno, "write '%s'", dst);
                break;
            }
            off += w;
        }
        if (r < 0)
            break;
    }
    char digest[DIGEST_STR_LEN + 1];
    sha256_finish(h, digest);
    if (r < 0)
        return r;
    /* One fsync per blob (not per file of a layer): the index will point at it. */
    if (out >= 0 && (fsync(out) < 0 || close(TAKE_FD(out)) < 0))
        return error_set(err, errno, "write '%s'", dst);
    memcpy(ret_digest, digest, sizeof(digest));
    *ret_size = total;
    *ret_path = move ? strdup(src) : TAKE_PTR(dst);
    if (!*ret_path)
        return error_set(err, ENOMEM, "copy '%s'", src);
    return 0;
}

/*
 * Stages the caller's own file SRC, which the caller verified to be the
 * blob DIGEST of VERIFIED_SIZE bytes, without reading it again.
 */
static int stage_verified(const char *src, long long verified_size, char *ret_digest,
                          const char *digest, long long *ret_size, char **ret_path,
                          struct error **err)
{
    struct stat st;
    if (lstat(src, &st) < 0)
        return error_set(err, errno, "stat '%s'", src);
    if (!S_ISREG(st.st_mode))
        return error_set(err, 0, "'%s' is not a regular file", src);
    if ((long long)st.st_size != verified_size)
        return error_set(err, 0, "blob '%s': size %lld, verified as %lld", digest,
                         (long long)st.st_size, verified_size);
    if (!(*ret_path = strdup(src)))
        return error_set(err, ENOMEM, "stage blob");
    memcpy(ret_digest, digest, DIGEST_STR_LEN + 1);
    *ret_size = verified_size;
    return 0;
}

int op_stage_blob(struct op *op, const char *src, bool move, long long verified_size,
                  const char *expected, long long expected_size, const char **ret_path,
                  struct error **err)
{
    const struct staged *have = op_find_blob(op, expected);
    if (have) {
        if (expected_size >= 0 && have->size != expected_size)
            return error_set(err, 0, "blob '%s': size %lld, descriptor says %lld", expected,
                             have->size, expected_size);
        *ret_path = have->path;
        return 0;
    }
    char digest[DIGEST_STR_LEN + 1];
    long long size;
    char *path = NULL;
    int r = move && verified_size >= 0
                ? stage_verified(src, verified_size, digest, expected, &size, &path, err)
                : op_stage_file(op, src, move, digest, &size, &path, err);
    if (r < 0)
        return r;
    if (strcmp(digest, expected)) {
        if (!move)
            unlink(path);
        free(path);
        return error_set(err, 0, "blob '%s': content has digest '%s'", expected, digest);
    }
    if (expected_size >= 0 && size != expected_size) {
        if (!move)
            unlink(path);
        free(path);
        return error_set(err, 0, "blob '%s': size %lld, descriptor says %lld", expected, size,
                         expected_size);
    }
    if (op_add_blob(op, digest, path, size) < 0) {
        free(path);
        return error_set(err, ENOMEM, "stage blob");
    }
    *ret_path = path;
    return 0;
}

int op_stage_text(struct op *op, const char *text, char *ret_digest, long long *ret_size,
                  struct error **err)
{
    char digest[DIGEST_STR_LEN + 1];
    size_t len = strlen(text);
    sha256_buffer(text, len, digest);
    if (!op_find_blob(op, digest)) {
        char *path = xasprintf("%s/blob-%zu", op->dir, op->n_blobs);
        int r = write_file_atomic(path, text, len, 0600, err);
        if (r < 0 || op_add_blob(op, digest, path, (long long)len) < 0) {
            free(path);
            return r < 0 ? r : error_set(err, ENOMEM, "stage blob");
        }
    }
    memcpy(ret_digest, digest, sizeof(digest));
    *ret_size = (long long)len;
    return 0;
}

static void index_drop_name(cJSON *manifests, const char *name, const char *keep_digest)
{
    for (int i = cJSON_GetArraySize(manifests) - 1; i >= 0; i--) {
        cJSON *d = cJSON_GetArrayItem(manifests, i);
        const char *dn = store_descriptor_name(d);
        if (!dn || strcmp(dn, name) || !strcmp(json_str(d, "digest") ?: "", keep_digest))
            continue;
        _cleanup_free_ char *digest = strdup(json_str(d, "digest") ?: "");
        cJSON *size = cJSON_DetachItemFromObjectCaseSensitive(d, "size");
        cJSON_DeleteItemFromArray(manifests, i);
        /* Re-tagging moves the name; the old image stays, unnamed, as
         * docker's dangling images do: a container may still use it. */
        bool other = false;
        const cJSON *o;
        cJSON_ArrayForEach(o, manifests) other |= !strcmp(json_str(o, "digest") ?: "", digest);
        if (!other && digest_is_valid(digest)) {
            cJSON *nd = store_descriptor_new(MT_MANIFEST, digest, 0);
            if (cJSON_IsNumber(size))
                cJSON_ReplaceItemInObject(nd, "size", cJSON_Duplicate(size, 1));
            cJSON_AddItemToArray(manifests, nd);
        }
        cJSON_Delete(size);
    }
}

static bool index_has(const cJSON *manifests, const char *digest, const char *name)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, manifests)
    {
        if (strcmp(json_str(d, "digest") ?: "", digest))
            continue;
        const char *dn = store_descriptor_name(d);
        if (name ? (dn && !strcmp(dn, name)) : true)
            return true;
    }
    return false;
}

static void index_add(cJSON *manifests, const struct new_ref *ref)
{
    if (index_has(manifests, ref->digest, ref->name))
        return;
    if (ref->name) {
        index_drop_name(manifests, ref->name, ref->digest);
        /* A named descriptor replaces the manifest's unnamed one. */
        for (int i = cJSON_GetArraySize(manifests) - 1; i >= 0; i--) {
            cJSON *d = cJSON_GetArrayItem(manifests, i);
            if (!store_descriptor_name(d) && !strcmp(json_str(d, "digest") ?: "", ref->digest))
                cJSON_DeleteItemFromArray(manifests, i);
        }
    }
    cJSON *d = store_descriptor_new(MT_MANIFEST, ref->digest, ref->size);
    if (ref->name) {
        cJSON *a = cJSON_AddObjectToObject(d, "annotations");
        cJSON_AddStringToObject(a, ANNOT_REF_NAME, ref->name);
    }
    cJSON_AddItemToArray(manifests, d);
}

int op_commit(struct image_store *s, struct op *op, const struct new_ref *refs, size_t n_refs,
              struct error **err)
{
    _cleanup_json_ cJSON *index = NULL;
    _cleanup_close_ int lock = store_lock_index(s, &index, err);
    if (lock < 0)
        return lock;
    int r = 0;
    _cleanup_free_ char **added = calloc(op->n_blobs + 1, sizeof(*added));
    if (!added)
        return error_set(err, ENOMEM, "commit");
    size_t n_added = 0;
    /* Layer records before the blobs: a blob is never in the store
     * unchecked without saying so (layer-check.h). */
    for (size_t i = 0; i < op->n_blobs && r == 0; i++) {
        const struct staged *b = &op->blobs[i];
        if (b->unchecked) {
            r = layer_check_mark_unchecked(s->dir, b->digest, err);
        } else if (b->diff_id[0]) {
            /* Checked here: an unchecked record of the same blob learns it. */
            int state = layer_check_state(s->dir, b->digest, NULL, err);
            if (state < 0)
                r = state;
            else if (state == LAYER_CHECK_UNCHECKED)
                r = layer_check_record(s->dir, b->digest, b->diff_id, err);
        }
    }
    for (size_t i = 0; i < op->n_blobs && r == 0; i++) {
        char *dst = store_blob_path(s, op->blobs[i].digest);
        if (path_exists(dst)) {
            free(dst); /* content-addressed: the one we have is the same */
            continue;
        }
        if (rename(op->blobs[i].path, dst) < 0) {
            r = error_set(err, errno, "store blob '%s'", op->blobs[i].digest);
            free(dst);
            break;
        }
        added[n_added++] = dst;
    }
    if (r == 0) {
        if (n_added > 0)
            fsync_parent(added[0]);
        cJSON *manifests = cJSON_GetObjectItemCaseSensitive(index, "manifests");
        for (size_t i = 0; i < n_refs; i++)
            index_add(manifests, &refs[i]);
        r = store_write_index(s, index, err);
    }
    for (size_t i = 0; i < n_added; i++) {
        if (r < 0)
            unlink(added[i]);
        free(added[i]);
    }
    return r;
}
