/*
 * Commit: the new layer is compressed here (gzip without a timestamp, so the
 * same tar gives the same blob), then an OCI image layout is written in the
 * commit's directory — the new blobs, the parent's layer blobs as symlinks
 * to the store, a config, a manifest and an index naming REF — and handed
 * to image_store_load, which verifies every digest and diff_id and commits
 * blobs and name under the store lock, or nothing.
 */
#include "image/image-commit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "image/archive-lazy.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/lock.h"
#include "util/sha256.h"
#include "util/time-spec.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define ANNOT_REF_NAME "org.opencontainers.image.ref.name"
#define COMMIT_BLOCK (128 * 1024)

int commit_dir_new(const char *root, struct commit_dir *ret, struct error **err)
{
    *ret = (struct commit_dir){.fd = -1};
    _cleanup_free_ char *tmp = xasprintf("%s/images/tmp", root);
    int r = mkdir_p(tmp, 0700, err);
    if (r < 0)
        return r;
    int fd = mkdtemp_locked(tmp, "commit", &ret->path, err);
    if (fd < 0)
        return fd;
    ret->fd = fd;
    return 0;
}

void commit_dir_end(struct commit_dir *d)
{
    rmdir_locked(d->path, d->fd);
    *d = (struct commit_dir){.fd = -1};
}

int image_commit_check_ref(const char *ref)
{
    _cleanup_free_ char *name = image_ref_normalize(ref);
    return name && !strchr(name, '@') ? 0 : -EINVAL;
}

/* Compresses TAR into OUT_PATH; computes the tar's digest (the diff_id). */
static int gzip_layer(const char *tar, const char *out_path, char *ret_diff_id, struct error **err)
{
    int r = archive_lazy_load(err);
    if (r < 0)
        return r;
    _cleanup_close_ int in = open(tar, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return error_set(err, errno, "open '%s'", tar);
    _cleanup_close_ int out = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return error_set(err, errno, "create '%s'", out_path);
    _cleanup_free_ char *buf = malloc(COMMIT_BLOCK);
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    struct sha256_ctx *h = sha256_new();
    if (!buf || !a || !e || !h) {
        r = error_set(err, ENOMEM, "compress layer");
        goto out;
    }
    /* No timestamp nor file name in the gzip header: the same tar always
     * gives the same blob. */
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
        archive_write_set_format_raw(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(a, out) != ARCHIVE_OK) {
        r = error_set(err, EIO, "compress layer: %s", archive_error_string(a) ?: "libarchive");
        goto out;
    }
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_pathname(e, "layer.tar");
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        r = error_set(err, EIO, "compress layer: %s", archive_error_string(a) ?: "libarchive");
        goto out;
    }
    for (;;) {
        ssize_t n = read(in, buf, COMMIT_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = error_set(err, errno, "read '%s'", tar);
            goto out;
        }
        if (n == 0)
            break;
        sha256_update(h, buf, (size_t)n);
        if (archive_write_data(a, buf, (size_t)n) != n) {
            r = error_set(err, EIO, "compress layer: %s", archive_error_string(a) ?: "libarchive");
            goto out;
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        r = error_set(err, EIO, "compress layer: %s", archive_error_string(a) ?: "libarchive");
        goto out;
    }
    if (fsync(out) < 0)
        r = error_set(err, errno, "write '%s'", out_path);
out:
    if (h) {
        char digest[DIGEST_STR_LEN + 1];
        sha256_finish(h, digest);
        if (r == 0)
            memcpy(ret_diff_id, digest, sizeof(digest));
    }
    if (e)
        archive_entry_free(e);
    if (a)
        archive_write_free(a);
    return r;
}

/* Writes TEXT as the blob it names in BLOBS; returns its digest and size. */
static int put_blob(const char *blobs, const char *text, char *ret_digest, long long *ret_size,
                    struct error **err)
{
    size_t len = strlen(text);
    sha256_buffer(text, len, ret_digest);
    _cleanup_free_ char *path = xasprintf("%s/%s", blobs, ret_digest + 7);
    *ret_size = (long long)len;
    return write_file_atomic(path, text, len, 0600, err);
}

static cJSON *descriptor(const char *media_type, const char *digest, long long size)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "mediaType", media_type);
    cJSON_AddStringToObject(d, "digest", digest);
    cJSON_AddNumberToObject(d, "size", (double)size);
    return d;
}

/* The parent's config with the new layer and a history entry. */
static cJSON *make_config(const struct image_commit *c, const char *diff_id, const char *created)
{
    cJSON *config = c->parent->config_json ? cJSON_Parse(c->parent->config_json) : NULL;
    if (!config)
        config = cJSON_CreateObject();
    if (!config)
        return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(config, "created");
    cJSON_AddStringToObject(config, "created", created);
    if (c->author) {
        cJSON_DeleteItemFromObjectCaseSensitive(config, "author");
        cJSON_AddStringToObject(config, "author", c->author);
    }
    cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(config, "rootfs");
    if (!cJSON_IsObject(rootfs)) {
        cJSON_DeleteItemFromObjectCaseSensitive(config, "rootfs");
        rootfs = cJSON_AddObjectToObject(config, "rootfs");
        cJSON_AddStringToObject(rootfs, "type", "layers");
    }
    cJSON *diffs = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
    if (!cJSON_IsArray(diffs)) {
        cJSON_DeleteItemFromObjectCaseSensitive(rootfs, "diff_ids");
        diffs = cJSON_AddArrayToObject(rootfs, "diff_ids");
        for (size_t i = 0; i < c->parent->n_layers; i++)
            cJSON_AddItemToArray(diffs, cJSON_CreateString(c->parent->layers[i].diff_id));
    }
    cJSON_AddItemToArray(diffs, cJSON_CreateString(diff_id));
    cJSON *history = cJSON_GetObjectItemCaseSensitive(config, "history");
    if (!cJSON_IsArray(history)) {
        cJSON_DeleteItemFromObjectCaseSensitive(config, "history");
        history = cJSON_AddArrayToObject(config, "history");
    }
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "created", created);
    cJSON_AddStringToObject(h, "created_by", c->created_by ? c->created_by : "berth commit");
    if (c->author)
        cJSON_AddStringToObject(h, "author", c->author);
    if (c->message)
        cJSON_AddStringToObject(h, "comment", c->message);
    cJSON_AddItemToArray(history, h);
    return config;
}

int image_commit(struct image_store *store, const struct commit_dir *dir,
                 const struct image_commit *c, char **ret_id, char *ret_diff_id, struct error **err)
{
    _cleanup_free_ char *name = image_ref_normalize(c->ref);
    if (!name || strchr(name, '@'))
        return error_set_plain(err, EINVAL, "invalid image name '%s'", c->ref);
    _cleanup_free_ char *layout = xasprintf("%s/layout", dir->path);
    _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", layout);
    int r = mkdir_p(blobs, 0700, err);
    if (r < 0)
        return r;

    /* The layer: compressed beside the layout, renamed to its digest. */
    _cleanup_free_ char *gz = xasprintf("%s/layer.tar.gz", dir->path);
    char diff_id[DIGEST_STR_LEN + 1], layer_digest[DIGEST_STR_LEN + 1];
    r = gzip_layer(c->layer_tar, gz, diff_id, err);
    if (r < 0)
        return r;
    r = sha256_file(gz, layer_digest, err);
    if (r < 0)
        return r;
    struct stat st;
    if (stat(gz, &st) < 0)
        return error_set(err, errno, "stat '%s'", gz);
    long long layer_size = (long long)st.st_size;
    _cleanup_free_ char *layer_blob = xasprintf("%s/%s", blobs, layer_digest + 7);
    if (rename(gz, layer_blob) < 0)
        return error_set(err, errno, "rename '%s'", gz);

    /* The parent's layers: links to the store's blobs. */
    _cleanup_json_ cJSON *manifest = cJSON_CreateObject();
    if (!manifest)
        return error_set(err, ENOMEM, "commit");
    cJSON_AddNumberToObject(manifest, "schemaVersion", 2);
    cJSON_AddStringToObject(manifest, "mediaType", MT_MANIFEST);
    cJSON *mlayers = cJSON_CreateArray();
    for (size_t i = 0; i < c->parent->n_layers; i++) {
        const struct image_layer *l = &c->parent->layers[i];
        if (stat(l->blob_path, &st) < 0)
            return error_set(err, errno, "layer '%s' of the image", l->digest);
        _cleanup_free_ char *dst = xasprintf("%s/%s", blobs, l->digest + 7);
        if (symlink(l->blob_path, dst) < 0 && errno != EEXIST)
            return error_set(err, errno, "link '%s'", dst);
        cJSON_AddItemToArray(mlayers, descriptor(l->media_type, l->digest, (long long)st.st_size));
    }
    cJSON_AddItemToArray(mlayers, descriptor(MT_LAYER_GZIP, layer_digest, layer_size));

    _cleanup_free_ char *created = rfc3339_now();
    _cleanup_json_ cJSON *config = created ? make_config(c, diff_id, created) : NULL;
    _cleanup_free_ char *config_text = config ? cJSON_PrintUnformatted(config) : NULL;
    if (!config_text) {
        cJSON_Delete(mlayers);
        return error_set(err, ENOMEM, "commit");
    }
    char config_digest[DIGEST_STR_LEN + 1], manifest_digest[DIGEST_STR_LEN + 1];
    long long config_size, manifest_size;
    r = put_blob(blobs, config_text, config_digest, &config_size, err);
    if (r < 0) {
        cJSON_Delete(mlayers);
        return r;
    }
    cJSON_AddItemToObject(manifest, "config", descriptor(MT_CONFIG, config_digest, config_size));
    cJSON_AddItemToObject(manifest, "layers", mlayers);
    _cleanup_free_ char *manifest_text = cJSON_PrintUnformatted(manifest);
    if (!manifest_text)
        return error_set(err, ENOMEM, "commit");
    r = put_blob(blobs, manifest_text, manifest_digest, &manifest_size, err);
    if (r < 0)
        return r;

    _cleanup_json_ cJSON *index = cJSON_CreateObject();
    if (!index)
        return error_set(err, ENOMEM, "commit");
    cJSON_AddNumberToObject(index, "schemaVersion", 2);
    cJSON_AddStringToObject(index, "mediaType", MT_INDEX);
    cJSON *md = descriptor(MT_MANIFEST, manifest_digest, manifest_size);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "annotations"), ANNOT_REF_NAME, name);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(index, "manifests"), md);
    _cleanup_free_ char *index_text = cJSON_PrintUnformatted(index);
    if (!index_text)
        return error_set(err, ENOMEM, "commit");
    _cleanup_free_ char *index_path = xasprintf("%s/index.json", layout);
    _cleanup_free_ char *layout_path = xasprintf("%s/oci-layout", layout);
    static const char layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    r = write_file_atomic(index_path, index_text, strlen(index_text), 0600, err);
    if (r == 0)
        r = write_file_atomic(layout_path, layout_text, strlen(layout_text), 0600, err);
    if (r < 0)
        return r;

    _cleanup_strv_ char **names = NULL;
    r = image_store_load(store, layout, &names, err);
    if (r < 0)
        return r;
    char *id = strdup(config_digest);
    if (!id)
        return error_set(err, ENOMEM, "commit");
    *ret_id = id;
    if (ret_diff_id)
        memcpy(ret_diff_id, diff_id, sizeof(diff_id));
    return 0;
}
