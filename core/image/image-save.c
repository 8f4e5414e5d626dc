/*
 * The archive is written in one pass: oci-layout, every blob once (config,
 * layers, manifest of each image, shared blobs deduplicated), index.json,
 * and for docker-archive manifest.json and repositories. Blobs are opened
 * before anything is written, so an image removed meanwhile still saves
 * whole (the open descriptors keep the files).
 */
#include "image/image-save.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive-lazy.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define ANNOT_REF_NAME "org.opencontainers.image.ref.name"
#define COPY_BLOCK (256 * 1024)

static void cjson_deletep(cJSON **j)
{
    cJSON_Delete(*j);
}
#define _cleanup_json_ _cleanup_(cjson_deletep)

struct blob {
    char digest[DIGEST_STR_LEN + 1];
    int fd;
    long long size;
};

struct saver {
    struct image_store *store;
    struct blob *blobs;
    size_t n_blobs;
    cJSON *index_manifests;
    cJSON *docker_manifest;
    cJSON *repositories;
};

static void saver_done(struct saver *s)
{
    for (size_t i = 0; i < s->n_blobs; i++)
        if (s->blobs[i].fd >= 0)
            close(s->blobs[i].fd);
    free(s->blobs);
    cJSON_Delete(s->index_manifests);
    cJSON_Delete(s->docker_manifest);
    cJSON_Delete(s->repositories);
}

static int add_blob(struct saver *s, const char *digest, struct error **err)
{
    for (size_t i = 0; i < s->n_blobs; i++)
        if (!strcmp(s->blobs[i].digest, digest))
            return 0;
    _cleanup_free_ char *path = image_store_blob_path(s->store, digest);
    if (!path)
        return error_set(err, 0, "invalid digest '%s'", digest);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return error_set(err, errno, "blob '%s'", digest);
    struct blob *n = realloc(s->blobs, (s->n_blobs + 1) * sizeof(*n));
    if (!n)
        return error_set(err, ENOMEM, "save");
    s->blobs = n;
    memcpy(n[s->n_blobs].digest, digest, DIGEST_STR_LEN + 1);
    n[s->n_blobs].fd = TAKE_FD(fd);
    n[s->n_blobs].size = (long long)st.st_size;
    s->n_blobs++;
    return 0;
}

/* The manifest's own mediaType (docker schema 2 or OCI) for its descriptor. */
static char *manifest_media_type(struct saver *s, const char *digest)
{
    _cleanup_free_ char *path = image_store_blob_path(s->store, digest);
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct error *ignored = NULL;
    if (!path || read_file(path, &text, &len, &ignored) < 0) {
        error_free(&ignored);
        return strdup(MT_MANIFEST);
    }
    _cleanup_json_ cJSON *m = cJSON_Parse(text);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(m, "mediaType");
    return strdup(cJSON_IsString(mt) ? mt->valuestring : MT_MANIFEST);
}

static void repositories_add(cJSON *repos, const char *name, const char *id)
{
    _cleanup_free_ char *repo = strdup(name);
    if (!repo)
        return;
    char *slash = strrchr(repo, '/');
    char *colon = strrchr(slash ? slash : repo, ':');
    if (!colon)
        return;
    *colon = '\0';
    cJSON *r = cJSON_GetObjectItemCaseSensitive(repos, repo);
    if (!r)
        r = cJSON_AddObjectToObject(repos, repo);
    if (!cJSON_GetObjectItemCaseSensitive(r, colon + 1))
        cJSON_AddStringToObject(r, colon + 1, id + 7);
}

static int add_image(struct saver *s, const char *ref, struct error **err)
{
    struct image *img = NULL;
    int r = image_store_resolve(s->store, ref, &img, err);
    if (r < 0)
        return r;
    _cleanup_strv_ char **names = NULL;
    _cleanup_free_ char *norm = image_ref_normalize(ref);
    bool by_name = false;
    for (char **n = img->names; norm && *n; n++)
        by_name |= !strcmp(*n, norm);
    size_t nn = 0;
    while (img->names[nn])
        nn++;
    names = calloc(nn + 1, sizeof(*names));
    if (names && by_name) {
        names[0] = TAKE_PTR(norm);
    } else if (names) {
        for (size_t i = 0; i < nn; i++)
            if (!(names[i] = strdup(img->names[i])))
                break;
    }
    _cleanup_free_ char *mt = manifest_media_type(s, img->manifest_digest);
    if (!names || !mt) {
        image_free(img);
        return error_set(err, ENOMEM, "save");
    }
    r = add_blob(s, img->id, err);
    for (size_t i = 0; r == 0 && i < img->n_layers; i++)
        r = add_blob(s, img->layers[i].digest, err);
    if (r == 0)
        r = add_blob(s, img->manifest_digest, err);
    if (r < 0) {
        image_free(img);
        return error_prefix(err, "image '%s'", ref);
    }
    long long msize = s->blobs[s->n_blobs - 1].size;
    for (size_t i = 0; i < s->n_blobs; i++)
        if (!strcmp(s->blobs[i].digest, img->manifest_digest))
            msize = s->blobs[i].size;
    for (char **n = names; *n || n == names; n++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "mediaType", mt);
        cJSON_AddStringToObject(d, "digest", img->manifest_digest);
        cJSON_AddNumberToObject(d, "size", (double)msize);
        if (*n)
            cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "annotations"), ANNOT_REF_NAME, *n);
        cJSON_AddItemToArray(s->index_manifests, d);
        if (!*n)
            break;
        repositories_add(s->repositories, *n, img->id);
    }
    cJSON *e = cJSON_CreateObject();
    _cleanup_free_ char *cpath = xasprintf("blobs/sha256/%s", img->id + 7);
    cJSON_AddStringToObject(e, "Config", cpath);
    cJSON *tags = cJSON_AddArrayToObject(e, "RepoTags");
    for (char **n = names; *n; n++)
        cJSON_AddItemToArray(tags, cJSON_CreateString(*n));
    cJSON *layers = cJSON_AddArrayToObject(e, "Layers");
    for (size_t i = 0; i < img->n_layers; i++) {
        _cleanup_free_ char *lp = xasprintf("blobs/sha256/%s", img->layers[i].digest + 7);
        cJSON_AddItemToArray(layers, cJSON_CreateString(lp));
    }
    cJSON_AddItemToArray(s->docker_manifest, e);
    image_free(img);
    return 0;
}

static int archive_fail(struct archive *a, const char *what, struct error **err)
{
    int e = archive_errno(a);
    return error_set(err, e > 0 ? e : 0, "write %s: %s", what, archive_error_string(a) ?: "");
}

static int write_header(struct archive *a, const char *name, unsigned type, long long size,
                        struct error **err)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return error_set(err, ENOMEM, "save");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
    /* Fixed times and owners: the same images make the same archive. */
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    return r == ARCHIVE_OK ? 0 : archive_fail(a, name, err);
}

static int write_text(struct archive *a, const char *name, const char *text, struct error **err)
{
    size_t len = strlen(text);
    int r = write_header(a, name, AE_IFREG, (long long)len, err);
    if (r < 0)
        return r;
    if (archive_write_data(a, text, len) != (la_ssize_t)len)
        return archive_fail(a, name, err);
    return 0;
}

static int write_blob(struct archive *a, const struct blob *b, char *buf, struct error **err)
{
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", b->digest + 7);
    int r = write_header(a, name, AE_IFREG, b->size, err);
    if (r < 0)
        return r;
    long long left = b->size;
    off_t off = 0;
    while (left > 0) {
        ssize_t n = pread(b->fd, buf, left < COPY_BLOCK ? (size_t)left : COPY_BLOCK, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return error_set(err, n < 0 ? errno : EIO, "read blob '%s'", b->digest);
        if (archive_write_data(a, buf, (size_t)n) != n)
            return archive_fail(a, name, err);
        left -= n;
        off += n;
    }
    return 0;
}

static void archive_write_freep(struct archive **a)
{
    if (*a)
        archive_write_free(*a);
}

static char *print_json(cJSON *j)
{
    return cJSON_PrintUnformatted(j);
}

int image_store_save(struct image_store *store, char *const *refs, size_t n,
                     enum image_save_format format, int out_fd, struct error **err)
{
    int r = archive_lazy_load(err);
    if (r < 0)
        return r;
    _cleanup_(saver_done) struct saver s = {
        .store = store,
        .index_manifests = cJSON_CreateArray(),
        .docker_manifest = cJSON_CreateArray(),
        .repositories = cJSON_CreateObject(),
    };
    if (!s.index_manifests || !s.docker_manifest || !s.repositories)
        return error_set(err, ENOMEM, "save");
    for (size_t i = 0; i < n; i++) {
        r = add_image(&s, refs[i], err);
        if (r < 0)
            return r;
    }
    _cleanup_json_ cJSON *index = cJSON_CreateObject();
    if (!index)
        return error_set(err, ENOMEM, "save");
    cJSON_AddNumberToObject(index, "schemaVersion", 2);
    cJSON_AddStringToObject(index, "mediaType", MT_INDEX);
    cJSON_AddItemToObject(index, "manifests", TAKE_PTR(s.index_manifests));
    _cleanup_free_ char *index_text = print_json(index);
    _cleanup_free_ char *manifest_text = print_json(s.docker_manifest);
    _cleanup_free_ char *repos_text = print_json(s.repositories);
    _cleanup_free_ char *buf = malloc(COPY_BLOCK);
    if (!index_text || !manifest_text || !repos_text || !buf)
        return error_set(err, ENOMEM, "save");

    _cleanup_(archive_write_freep) struct archive *a = archive_write_new();
    if (!a)
        return error_set(err, ENOMEM, "save");
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(a, out_fd) != ARCHIVE_OK)
        return archive_fail(a, "archive", err);
    r = write_text(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", err);
    if (r == 0)
        r = write_header(a, "blobs", AE_IFDIR, 0, err);
    if (r == 0)
        r = write_header(a, "blobs/sha256", AE_IFDIR, 0, err);
    for (size_t i = 0; r == 0 && i < s.n_blobs; i++)
        r = write_blob(a, &s.blobs[i], buf, err);
    if (r == 0)
        r = write_text(a, "index.json", index_text, err);
    if (r == 0 && format == IMAGE_SAVE_DOCKER_ARCHIVE) {
        r = write_text(a, "manifest.json", manifest_text, err);
        if (r == 0)
            r = write_text(a, "repositories", repos_text, err);
    }
    if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
        r = archive_fail(a, "archive", err);
    return r;
}
