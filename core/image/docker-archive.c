/*
 * docker-archive → OCI image layout, in the private directory the archive
 * was extracted to. The OCI loader then verifies everything as for any
 * layout (digests, diff_ids, layer entries), so this file only has to find
 * the files safely and describe them.
 */
#include "image/docker-archive.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image-store.h"
#include "image/layer-unpack.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define ANNOT_REF_NAME "org.opencontainers.image.ref.name"

static void cjson_deletep(cJSON **j)
{
    cJSON_Delete(*j);
}
#define _cleanup_json_ _cleanup_(cjson_deletep)

void docker_archive_entries_free(struct docker_archive_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].config);
        strvfreep(&e[i].repo_tags);
        strvfreep(&e[i].layers);
    }
    free(e);
}

static int check_path(const char *p, const char *what, struct error **err)
{
    if (!p || !*p || layer_check_entry_name(p) < 0)
        return error_set(err, 0, "manifest.json: %s path '%s' leaves the archive", what,
                         p ? p : "(none)");
    return 0;
}

/* A JSON array of strings as a NULL-terminated vector; NULL member → empty. */
static int strv_from(const cJSON *arr, bool allow_missing, char ***ret, size_t *ret_n)
{
    if (!arr || cJSON_IsNull(arr)) {
        if (!allow_missing)
            return -EINVAL;
        arr = NULL;
    } else if (!cJSON_IsArray(arr)) {
        return -EINVAL;
    }
    int n = arr ? cJSON_GetArraySize(arr) : 0;
    _cleanup_strv_ char **v = calloc((size_t)n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsString(s))
            return -EINVAL;
        if (!(v[i] = strdup(s->valuestring)))
            return -ENOMEM;
    }
    *ret = TAKE_PTR(v);
    if (ret_n)
        *ret_n = (size_t)n;
    return 0;
}

int docker_archive_parse(const char *text, struct docker_archive_entry **ret_entries, size_t *ret_n,
                         struct error **err)
{
    _cleanup_json_ cJSON *j = cJSON_Parse(text);
    if (!cJSON_IsArray(j))
        return error_set(err, 0, "manifest.json: not a JSON array");
    int n = cJSON_GetArraySize(j);
    if (n == 0)
        return error_set(err, 0, "manifest.json lists no image");
    struct docker_archive_entry *e = calloc((size_t)n, sizeof(*e));
    if (!e)
        return error_set(err, ENOMEM, "manifest.json");
    int r = 0;
    for (int i = 0; i < n && r == 0; i++) {
        const cJSON *o = cJSON_GetArrayItem(j, i);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "Config");
        if (!cJSON_IsObject(o) || !cJSON_IsString(c)) {
            r = error_set(err, 0, "manifest.json: entry %d has no Config", i);
            break;
        }
        if ((r = check_path(c->valuestring, "config", err)) < 0)
            break;
        if (!(e[i].config = strdup(c->valuestring))) {
            r = error_set(err, ENOMEM, "manifest.json");
            break;
        }
        int s =
            strv_from(cJSON_GetObjectItemCaseSensitive(o, "RepoTags"), true, &e[i].repo_tags, NULL);
        if (s < 0) {
            r = error_set(err, s == -ENOMEM ? ENOMEM : 0, "manifest.json: entry %d: bad RepoTags",
                          i);
            break;
        }
        for (char **t = e[i].repo_tags; *t && r == 0; t++) {
            _cleanup_free_ char *norm = image_ref_normalize(*t);
            if (!norm || strchr(norm, '@'))
                r = error_set(err, 0, "manifest.json: invalid image name '%s'", *t);
        }
        if (r < 0)
            break;
        s = strv_from(cJSON_GetObjectItemCaseSensitive(o, "Layers"), false, &e[i].layers,
                      &e[i].n_layers);
        if (s < 0) {
            r = error_set(err, s == -ENOMEM ? ENOMEM : 0, "manifest.json: entry %d: bad Layers", i);
            break;
        }
        for (char **l = e[i].layers; *l && r == 0; l++)
            r = check_path(*l, "layer", err);
    }
    if (r < 0) {
        docker_archive_entries_free(e, (size_t)n);
        return r;
    }
    *ret_entries = e;
    *ret_n = (size_t)n;
    return 0;
}

int docker_archive_detect(const char *dir)
{
    _cleanup_free_ char *p = xasprintf("%s/manifest.json", dir);
    return path_exists(p);
}

/*
 * Finds the archive file REL inside DIR (resolving docker's symlinks
 * between layer directories, but never out of DIR), checks it is a regular
 * file, links it as blobs/sha256/HEX and returns its digest and size.
 */
static int add_blob(const char *dir, const char *real_dir, const char *rel, char *ret_digest,
                    long long *ret_size, struct error **err)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
    char real[PATH_MAX];
    if (!realpath(p, real))
        return error_set(err, errno, "'%s' named in manifest.json", rel);
    size_t rl = strlen(real_dir);
    if (strncmp(real, real_dir, rl) || real[rl] != '/')
        return error_set(err, 0, "'%s' named in manifest.json leaves the archive", rel);
    struct stat st;
    if (lstat(real, &st) < 0)
        return error_set(err, errno, "'%s'", rel);
    if (!S_ISREG(st.st_mode))
        return error_set(err, 0, "'%s' named in manifest.json is not a regular file", rel);
    int r = sha256_file(real, ret_digest, err);
    if (r < 0)
        return error_prefix(err, "'%s'", rel);
    _cleanup_free_ char *dst = xasprintf("%s/blobs/sha256/%s", dir, ret_digest + 7);
    if (strcmp(dst, real) && link(real, dst) < 0 && errno != EEXIST)
        return error_set(err, errno, "link '%s'", rel);
    *ret_size = (long long)st.st_size;
    return 0;
}

static const char *media_type_of(const char *path)
{
    unsigned char m[4] = {0};
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && read(fd, m, sizeof(m)) == (ssize_t)sizeof(m)) {
        if (m[0] == 0x1f && m[1] == 0x8b)
            return MT_LAYER "+gzip";
        if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
            return MT_LAYER "+zstd";
    }
    return MT_LAYER;
}

static cJSON *descriptor(const char *mt, const char *digest, long long size)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "mediaType", mt);
    cJSON_AddStringToObject(d, "digest", digest);
    cJSON_AddNumberToObject(d, "size", (double)size);
    return d;
}

/*
 * docker 25+: the manifest its OCI layout has for CONFIG_DIGEST (a
 * duplicate of the top-level descriptor), so the manifest digest survives
 * a save/load round trip. NULL if none.
 */
static cJSON *oci_manifest_for(const char *dir, const cJSON *index, const char *config_digest)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(index, "manifests"))
    {
        const cJSON *dg = cJSON_GetObjectItemCaseSensitive(d, "digest");
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(d, "mediaType");
        if (!cJSON_IsString(dg) || !digest_is_valid(dg->valuestring) || !cJSON_IsString(mt) ||
            (strcmp(mt->valuestring, MT_MANIFEST) && strcmp(mt->valuestring, MT_DOCKER_MANIFEST)))
            continue;
        _cleanup_free_ char *p = xasprintf("%s/blobs/sha256/%s", dir, dg->valuestring + 7);
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct error *ignored = NULL;
        if (read_file(p, &text, &len, &ignored) < 0) {
            error_free(&ignored);
            continue;
        }
        _cleanup_json_ cJSON *m = cJSON_Parse(text);
        const cJSON *cd = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(m, "config"), "digest");
        if (cJSON_IsString(cd) && !strcmp(cd->valuestring, config_digest)) {
            cJSON *copy = cJSON_Duplicate(d, 1);
            cJSON_DeleteItemFromObjectCaseSensitive(copy, "annotations");
            return copy;
        }
    }
    return NULL;
}

static int write_text(const char *dir, const char *name, const char *text, struct error **err)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
    return write_file_atomic(p, text, strlen(text), 0600, err);
}

/* One image of manifest.json → its manifest descriptor (unnamed). */
static int convert_entry(const char *dir, const char *real_dir, const cJSON *old_index,
                         const struct docker_archive_entry *e, cJSON **ret, struct error **err)
{
    char config_digest[DIGEST_STR_LEN + 1];
    long long config_size;
    int r = add_blob(dir, real_dir, e->config, config_digest, &config_size, err);
    if (r < 0)
        return r;
    cJSON *kept = old_index ? oci_manifest_for(dir, old_index, config_digest) : NULL;
    if (kept) {
        *ret = kept;
        return 0;
    }
    _cleanup_json_ cJSON *m = cJSON_CreateObject();
    if (!m)
        return error_set(err, ENOMEM, "docker archive");
    cJSON_AddNumberToObject(m, "schemaVersion", 2);
    cJSON_AddStringToObject(m, "mediaType", MT_MANIFEST);
    cJSON_AddItemToObject(m, "config", descriptor(MT_CONFIG, config_digest, config_size));
    cJSON *layers = cJSON_AddArrayToObject(m, "layers");
    for (size_t i = 0; i < e->n_layers; i++) {
        char digest[DIGEST_STR_LEN + 1];
        long long size;
        r = add_blob(dir, real_dir, e->layers[i], digest, &size, err);
        if (r < 0)
            return r;
        _cleanup_free_ char *bp = xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
        cJSON_AddItemToArray(layers, descriptor(media_type_of(bp), digest, size));
    }
    _cleanup_free_ char *text = cJSON_PrintUnformatted(m);
    if (!text)
        return error_set(err, ENOMEM, "docker archive");
    char digest[DIGEST_STR_LEN + 1];
    sha256_buffer(text, strlen(text), digest);
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest + 7);
    r = write_text(dir, name, text, err);
    if (r < 0)
        return r;
    *ret = descriptor(MT_MANIFEST, digest, (long long)strlen(text));
    return 0;
}

int docker_archive_to_layout(const char *dir, struct error **err)
{
    _cleanup_free_ char *mpath = xasprintf("%s/manifest.json", dir);
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file(mpath, &text, &len, err);
    if (r < 0)
        return r;
    struct docker_archive_entry *entries = NULL;
    size_t n = 0;
    r = docker_archive_parse(text, &entries, &n, err);
    if (r < 0)
        return r;
    char real_dir[PATH_MAX];
    _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", dir);
    _cleanup_free_ char *old_index_path = xasprintf("%s/index.json", dir);
    _cleanup_free_ char *old_text = NULL;
    _cleanup_json_ cJSON *old_index = NULL;
    struct error *ignored = NULL;
    if (read_file(old_index_path, &old_text, &len, &ignored) == 0)
        old_index = cJSON_Parse(old_text);
    error_free(&ignored);
    _cleanup_json_ cJSON *index = cJSON_CreateObject();
    if (!realpath(dir, real_dir))
        r = error_set(err, errno, "'%s'", dir);
    else if (!index)
        r = error_set(err, ENOMEM, "docker archive");
    else
        r = mkdir_p(blobs, 0700, err);
    cJSON *manifests = NULL;
    if (r == 0) {
        cJSON_AddNumberToObject(index, "schemaVersion", 2);
        cJSON_AddStringToObject(index, "mediaType", MT_INDEX);
        manifests = cJSON_AddArrayToObject(index, "manifests");
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        cJSON *d = NULL;
        r = convert_entry(dir, real_dir, old_index, &entries[i], &d, err);
        if (r < 0)
            break;
        if (!entries[i].repo_tags[0]) {
            cJSON_AddItemToArray(manifests, d);
            continue;
        }
        for (char **t = entries[i].repo_tags; *t; t++) {
            cJSON *named = cJSON_Duplicate(d, 1);
            cJSON *a = cJSON_AddObjectToObject(named, "annotations");
            cJSON_AddStringToObject(a, ANNOT_REF_NAME, *t);
            cJSON_AddItemToArray(manifests, named);
        }
        cJSON_Delete(d);
    }
    docker_archive_entries_free(entries, n);
    if (r < 0)
        return error_prefix(err, "docker archive");
    _cleanup_free_ char *index_text = cJSON_PrintUnformatted(index);
    if (!index_text)
        return error_set(err, ENOMEM, "docker archive");
    r = write_text(dir, "index.json", index_text, err);
    if (r == 0)
        r = write_text(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", err);
    return r;
}
