/*
 * Bringing images into the store: import (a root file system tarball
 * becomes a one-layer image) and load (an OCI image layout, as `berth load`
 * and pull hand it over), both staged and committed as every write is
 * (image-store-write.c).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/docker-archive.h"
#include "image/image-ref.h"
#include "image/image-store-internal.h"
#include "image/layer-check.h"
#include "image/layer-unpack.h"
#include "image/load-progress.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/sha256.h"
#include "util/time-spec.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_INDEX_DEPTH 4

static const char *layer_media_type(const char *path)
{
    unsigned char magic[4] = {0};
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic)) {
        if (magic[0] == 0x1f && magic[1] == 0x8b)
            return MT_LAYER "+gzip";
        if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
            return MT_LAYER "+zstd";
    }
    return MT_LAYER;
}

int image_store_import(struct image_store *s, const char *tar_path, const char *ref, char **ret_id,
                       struct error **err)
{
    _cleanup_free_ char *name = image_ref_normalize(ref);
    if (!name || strchr(name, '@'))
        return error_set(err, 0, "invalid image name '%s'", ref);
    _cleanup_(op_end) struct op op = {.fd = -1};
    int r = op_begin(s, &op, err);
    if (r < 0)
        return r;

    /* Verify the copy, not the original: it cannot change under us. */
    char layer_digest[DIGEST_STR_LEN + 1], diff_id[DIGEST_STR_LEN + 1];
    long long layer_size;
    char *layer_path = NULL;
    r = op_stage_file(&op, tar_path, false, layer_digest, &layer_size, &layer_path, err);
    if (r < 0)
        return r;
    if (op_add_blob(&op, layer_digest, layer_path, layer_size) < 0) {
        free(layer_path);
        return error_set(err, ENOMEM, "import");
    }
    r = layer_verify(layer_path, diff_id, err);
    if (r < 0)
        return error_prefix(err, "'%s'", tar_path);
    const char *media_type = layer_media_type(layer_path);

    _cleanup_free_ char *created = rfc3339_now();
    _cleanup_json_ cJSON *config = cJSON_CreateObject();
    if (!created || !config)
        return error_set(err, ENOMEM, "import");
    cJSON_AddStringToObject(config, "created", created);
    cJSON_AddStringToObject(config, "architecture", store_host_arch());
    cJSON_AddStringToObject(config, "os", "linux");
    cJSON *cc = cJSON_AddObjectToObject(config, "config");
    cJSON *env = cJSON_AddArrayToObject(cc, "Env");
    cJSON_AddItemToArray(env, cJSON_CreateString(DEFAULT_PATH));
    cJSON *rootfs = cJSON_AddObjectToObject(config, "rootfs");
    cJSON_AddStringToObject(rootfs, "type", "layers");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(rootfs, "diff_ids"), cJSON_CreateString(diff_id));
    cJSON *hist = cJSON_CreateObject();
    cJSON_AddStringToObject(hist, "created", created);
    cJSON_AddStringToObject(hist, "created_by", "berth image import");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(config, "history"), hist);
    _cleanup_free_ char *config_text = cJSON_PrintUnformatted(config);
    char config_digest[DIGEST_STR_LEN + 1];
    long long config_size;
    if (!config_text)
        return error_set(err, ENOMEM, "import");
    r = op_stage_text(&op, config_text, config_digest, &config_size, err);
    if (r < 0)
        return r;

    _cleanup_json_ cJSON *manifest = cJSON_CreateObject();
    if (!manifest)
        return error_set(err, ENOMEM, "import");
    cJSON_AddNumberToObject(manifest, "schemaVersion", 2);
    cJSON_AddStringToObject(manifest, "mediaType", MT_MANIFEST);
    cJSON_AddItemToObject(manifest, "config",
                          store_descriptor_new(MT_CONFIG, config_digest, config_size));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(manifest, "layers"),
                         store_descriptor_new(media_type, layer_digest, layer_size));
    _cleanup_free_ char *manifest_text = cJSON_PrintUnformatted(manifest);
    if (!manifest_text)
        return error_set(err, ENOMEM, "import");
    struct new_ref nr = {.name = name};
    r = op_stage_text(&op, manifest_text, nr.digest, &nr.size, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *id = strdup(config_digest);
    if (!id)
        return error_set(err, ENOMEM, "import");
    r = op_commit(s, &op, &nr, 1, err);
    if (r < 0)
        return r;
    *ret_id = TAKE_PTR(id);
    return 0;
}

/* ---- load ---- */

struct loader {
    struct image_store *store;
    struct op *op;
    const char *layout;
    bool move; /* the layout is our extracted copy: blobs may be moved */
    /* Blobs of an owned layout that its owner verified (a pull). */
    const struct image_verified_blob *pre;
    size_t n_pre;
    /* The store's images, read once when a layer the store has is met. */
    struct image **have;
    size_t n_have;
    bool have_read;
    struct load_progress progress;
    /* Layers verified so far (an image named twice is read once): digest, diff_id. */
    struct verified_layer {
        char digest[DIGEST_STR_LEN + 1];
        char diff_id[DIGEST_STR_LEN + 1];
    } * verified;
    size_t n_verified;
    struct new_ref *refs;
    size_t n_refs;
};

/* What the layout's owner verified of blob DIGEST, or NULL. */
static const struct image_verified_blob *loader_pre(const struct loader *l, const char *digest)
{
    for (size_t i = 0; l->move && i < l->n_pre; i++)
        if (l->pre[i].digest && !strcmp(l->pre[i].digest, digest))
            return &l->pre[i];
    return NULL;
}

/*
 * The size of blob DIGEST at SRC if it needs no hashing: the owner of the
 * layout verified it, or SRC is a hard link of the store's own file of
 * DIGEST (a pull links what the store has: it was verified when it came
 * in). -1 otherwise.
 */
static long long pre_size(const struct loader *l, const char *src, const char *digest)
{
    const struct image_verified_blob *v = loader_pre(l, digest);
    if (v)
        return v->size;
    if (!l->move || !l->pre)
        return -1;
    _cleanup_free_ char *own = store_blob_path(l->store, digest);
    struct stat a, b;
    if (lstat(src, &a) == 0 && stat(own, &b) == 0 && S_ISREG(a.st_mode) && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return (long long)a.st_size;
    return -1;
}

/*
 * The diff_id of layer DIGEST as the store knows it: checked since it came
 * in (layer-check.h), or as the images of the store list it when it came
 * in checked (load, import, commit), so that a layer the store has needs
 * no second decompression. Only for pulls (L->pre). Writes "" if the store
 * does not know it (no such blob, or a pull's blob not checked yet).
 */
static int store_diff_id(struct loader *l, const char *digest, char *ret, struct error **err)
{
    *ret = '\0';
    if (!l->pre || !l->move)
        return 0;
    _cleanup_free_ char *own = image_store_blob(l->store, digest);
    if (!own)
        return 0;
    int state = layer_check_state(l->store->dir, digest, ret, err);
    if (state != LAYER_CHECK_TRUSTED)
        return state < 0 ? state : 0;
    if (!l->have_read) {
        int r = image_store_list(l->store, &l->have, &l->n_have, err);
        if (r < 0)
            return r;
        l->have_read = true;
    }
    for (size_t i = 0; i < l->n_have; i++)
        for (size_t k = 0; k < l->have[i]->n_layers; k++)
            if (!strcmp(l->have[i]->layers[k].digest, digest) &&
                digest_is_valid(l->have[i]->layers[k].diff_id)) {
                memcpy(ret, l->have[i]->layers[k].diff_id, DIGEST_STR_LEN + 1);
                return 0;
            }
    return 0;
}

static int load_json_blob(struct loader *l, const cJSON *desc, const char *what, cJSON **ret,
                          struct error **err)
{
    const char *digest = json_str(desc, "digest");
    long long size = -1;
    if (!digest_is_valid(digest))
        return error_set(err, 0, "%s: invalid or unsupported digest '%s'", what,
                         digest ? digest : "(none)");
    if (cJSON_GetObjectItemCaseSensitive(desc, "size") && !json_size(desc, &size))
        return error_set(err, 0, "%s '%s': invalid size", what, digest);
    _cleanup_free_ char *src = xasprintf("%s/blobs/sha256/%s", l->layout, digest + 7);
    const char *staged;
    int r =
        op_stage_blob(l->op, src, l->move, pre_size(l, src, digest), digest, size, &staged, err);
    if (r < 0)
        return error_prefix(err, "%s", what);
    _cleanup_json_ cJSON *j = NULL;
    r = store_read_json_file(staged, &j, err);
    if (r < 0)
        return error_prefix(err, "%s '%s'", what, digest);
    if (!cJSON_IsObject(j))
        return error_set(err, 0, "%s '%s': not a JSON object", what, digest);
    /* The descriptor's media type and the document's must agree (OCI). */
    const char *dmt = json_str(desc, "mediaType"), *jmt = json_str(j, "mediaType");
    if (dmt && jmt && strcmp(dmt, jmt))
        return error_set(err, 0, "%s '%s': media type '%s', descriptor says '%s'", what, digest,
                         jmt, dmt);
    *ret = TAKE_PTR(j);
    return 0;
}

static int load_manifest(struct loader *l, const cJSON *desc, const char *name, struct error **err)
{
    _cleanup_json_ cJSON *m = NULL, *c = NULL;
    int r = load_json_blob(l, desc, "manifest", &m, err);
    if (r < 0)
        return r;
    const char *digest = json_str(desc, "digest");
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(m, "schemaVersion");
    if (!cJSON_IsNumber(sv) || sv->valuedouble != 2)
        return error_set(err, 0, "manifest '%s': schemaVersion is not 2", digest);
    const cJSON *cdesc = cJSON_GetObjectItemCaseSensitive(m, "config");
    const char *cmt = json_str(cdesc, "mediaType");
    if (!cJSON_IsObject(cdesc) || !cmt || (strcmp(cmt, MT_CONFIG) && strcmp(cmt, MT_DOCKER_CONFIG)))
        return error_set(err, 0, "manifest '%s': unsupported config media type '%s'", digest,
                         cmt ? cmt : "(none)");
    r = load_json_blob(l, cdesc, "image config", &c, err);
    if (r < 0)
        return r;
    const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(c, "rootfs");
    const cJSON *diffs = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
    const char *rtype = json_str(rootfs, "type");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m, "layers");
    if (!rtype || strcmp(rtype, "layers") || !cJSON_IsArray(diffs))
        return error_set(err, 0, "image config '%s': no rootfs of type 'layers'",
                         json_str(cdesc, "digest"));
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) != cJSON_GetArraySize(diffs))
        return error_set(err, 0, "manifest '%s': %d layers, its config lists %d diff_ids", digest,
                         cJSON_GetArraySize(layers), cJSON_GetArraySize(diffs));
    for (int i = 0; i < cJSON_GetArraySize(layers); i++) {
        const cJSON *ld = cJSON_GetArrayItem(layers, i);
        const cJSON *diff = cJSON_GetArrayItem(diffs, i);
        const char *lmt = json_str(ld, "mediaType");
        const char *ldigest = json_str(ld, "digest");
        long long size;
        if (!image_layer_media_type_ok(lmt))
            return error_set(err, 0, "manifest '%s': unsupported layer media type '%s'", digest,
                             lmt ? lmt : "(none)");
        if (!digest_is_valid(ldigest) || !json_size(ld, &size))
            return error_set(err, 0, "manifest '%s': layer %d: invalid digest or size", digest, i);
        if (!cJSON_IsString(diff) || !digest_is_valid(diff->valuestring))
            return error_set(err, 0, "image config: diff_id %d is invalid", i);
        _cleanup_free_ char *src = xasprintf("%s/blobs/sha256/%s", l->layout, ldigest + 7);
        const char *staged;
        long long t0 = load_progress_now();
        r = op_stage_blob(l->op, src, l->move, pre_size(l, src, ldigest), ldigest, size, &staged,
                          err);
        if (r < 0)
            return error_prefix(err, "layer");
        char diff_id[DIGEST_STR_LEN + 1] = "";
        for (size_t k = 0; k < l->n_verified && !*diff_id; k++)
            if (!strcmp(l->verified[k].digest, ldigest))
                memcpy(diff_id, l->verified[k].diff_id, sizeof(diff_id));
        bool unchecked = false;
        if (!*diff_id) {
            r = store_diff_id(l, ldigest, diff_id, err);
            /* A pull leaves what the store does not know to the first
             * unpack (layer-check.h). */
            if (r == 0 && !*diff_id && l->pre && l->move)
                unchecked = true;
            else if (r == 0 && !*diff_id)
                r = layer_verify(staged, diff_id, err);
            if (r < 0)
                return error_prefix(err, "layer '%s'", ldigest);
            op_note_layer(l->op, ldigest, unchecked ? NULL : diff_id);
            if (unchecked)
                continue;
            struct verified_layer *v =
                realloc(l->verified, (l->n_verified + 1) * sizeof(*l->verified));
            if (!v)
                return error_set(err, ENOMEM, "load");
            l->verified = v;
            memcpy(v[l->n_verified].digest, ldigest, DIGEST_STR_LEN + 1);
            memcpy(v[l->n_verified].diff_id, diff_id, DIGEST_STR_LEN + 1);
            l->n_verified++;
            load_progress_step(&l->progress, "verified", ldigest, size, t0, 1);
        }
        if (strcmp(diff_id, diff->valuestring))
            return error_set(err, 0, "layer '%s': uncompressed digest '%s', config says '%s'",
                             ldigest, diff_id, diff->valuestring);
    }
    struct new_ref *n = realloc(l->refs, (l->n_refs + 1) * sizeof(*n));
    if (!n)
        return error_set(err, ENOMEM, "load");
    l->refs = n;
    struct new_ref *nr = &n[l->n_refs];
    *nr = (struct new_ref){0};
    memcpy(nr->digest, digest, DIGEST_STR_LEN + 1);
    if (!json_size(desc, &nr->size))
        nr->size = 0;
    const struct staged *st = op_find_blob(l->op, digest);
    nr->size = st ? st->size : nr->size;
    if (name && !(nr->name = strdup(name)))
        return error_set(err, ENOMEM, "load");
    l->n_refs++;
    return 0;
}

static int load_descriptor(struct loader *l, const cJSON *desc, const char *name, int depth,
                           struct error **err);

static int load_index(struct loader *l, const cJSON *index, const char *name, int depth,
                      struct error **err)
{
    const cJSON *manifests = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    if (!cJSON_IsArray(manifests))
        return error_set(err, 0, "index has no manifests array");
    if (depth == 0) {
        const cJSON *d;
        cJSON_ArrayForEach(d, manifests)
        {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(d, "annotations");
            const char *raw = json_str(a, ANNOT_CONTAINERD_NAME);
            if (!raw)
                raw = json_str(a, ANNOT_REF_NAME);
            _cleanup_free_ char *norm = NULL;
            if (raw && !(norm = image_ref_normalize(raw)))
                return error_set(err, 0, "invalid image name '%s' in index", raw);
            int r = load_descriptor(l, d, norm, depth + 1, err);
            if (r < 0)
                return r;
        }
        return 0;
    }
    /* A nested index: one manifest for this host's platform, else the first. */
    const char *arch = store_host_arch();
    const cJSON *pick = NULL, *d;
    cJSON_ArrayForEach(d, manifests)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "platform");
        const char *os = json_str(p, "os"), *a = json_str(p, "architecture");
        if (os && a && !strcmp(os, "linux") && !strcmp(a, arch)) {
            pick = d;
            break;
        }
    }
    if (!pick)
        pick = cJSON_GetArrayItem(manifests, 0);
    if (!pick)
        return error_set(err, 0, "nested index lists no manifest");
    return load_descriptor(l, pick, name, depth + 1, err);
}

static int load_descriptor(struct loader *l, const cJSON *desc, const char *name, int depth,
                           struct error **err)
{
    if (depth > MAX_INDEX_DEPTH)
        return error_set(err, 0, "indexes nested too deeply");
    const char *mt = json_str(desc, "mediaType");
    if (mt && (!strcmp(mt, MT_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST)))
        return load_manifest(l, desc, name, err);
    if (mt && strcmp(mt, MT_INDEX) && strcmp(mt, MT_DOCKER_LIST))
        return error_set(err, 0, "'%s': unsupported media type '%s'", json_str(desc, "digest"), mt);
    _cleanup_json_ cJSON *j = NULL;
    int r = load_json_blob(l, desc, "index", &j, err);
    if (r < 0)
        return r;
    /* No media type on the descriptor: the document says what it is. */
    if (!mt && cJSON_GetObjectItemCaseSensitive(j, "config"))
        return load_manifest(l, desc, name, err);
    return load_index(l, j, name, depth, err);
}

static int load_layout(struct image_store *s, const char *path, bool owned,
                       const struct image_verified_blob *pre, size_t n_pre, char ***ret_names,
                       struct error **err);

int image_store_load(struct image_store *s, const char *path, char ***ret_names, struct error **err)
{
    return load_layout(s, path, false, NULL, 0, ret_names, err);
}

int image_store_load_owned(struct image_store *s, const char *dir,
                           const struct image_verified_blob *verified, size_t n_verified,
                           char ***ret_names, struct error **err)
{
    return load_layout(s, dir, true, verified, n_verified, ret_names, err);
}

static int load_layout(struct image_store *s, const char *path, bool owned,
                       const struct image_verified_blob *pre, size_t n_pre, char ***ret_names,
                       struct error **err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return error_set(err, errno, "'%s'", path);
    _cleanup_(op_end) struct op op = {.fd = -1};
    int r = op_begin(s, &op, err);
    if (r < 0)
        return r;
    struct loader l = {
        .store = s, .op = &op, .layout = path, .move = owned, .pre = pre, .n_pre = n_pre};
    load_progress_start(&l.progress, s->progress);
    _cleanup_free_ char *extracted = NULL;
    if (!S_ISDIR(st.st_mode)) {
        extracted = xasprintf("%s/layout", op.dir);
        if (mkdir(extracted, 0700) < 0)
            return error_set(err, errno, "mkdir '%s'", extracted);
        /* The same rules as a layer; whiteout names are not special here. */
        r = layer_unpack(path, extracted, 0, err);
        if (r < 0)
            return error_prefix(err, "'%s'", path);
        load_progress_step(&l.progress, "extracted", path, (long long)st.st_size,
                           l.progress.start_ns, 0);
        l.layout = extracted;
        l.move = true;
        l.n_pre = 0; /* what a caller verified is not this copy */
        if (docker_archive_detect(extracted)) {
            r = docker_archive_to_layout(extracted, err);
            if (r < 0)
                return error_prefix(err, "'%s'", path);
        }
    }
    _cleanup_free_ char *layout_file = xasprintf("%s/oci-layout", l.layout);
    _cleanup_free_ char *index_file = xasprintf("%s/index.json", l.layout);
    _cleanup_json_ cJSON *layout = NULL, *index = NULL;
    r = store_read_json_file(layout_file, &layout, err);
    if (r < 0)
        return error_prefix(err, "'%s' is not an OCI image layout", path);
    const char *version = json_str(layout, "imageLayoutVersion");
    if (!version || strncmp(version, "1.", 2))
        return error_set(err, 0, "'%s': unsupported imageLayoutVersion '%s'", path,
                         version ? version : "(none)");
    r = store_read_json_file(index_file, &index, err);
    if (r < 0)
        return error_prefix(err, "'%s'", path);

    r = load_index(&l, index, NULL, 0, err);
    if (r == 0 && l.n_refs == 0)
        r = error_set(err, 0, "'%s': the index lists no image", path);
    _cleanup_strv_ char **names = NULL;
    if (r == 0) {
        names = calloc(l.n_refs + 1, sizeof(*names));
        if (!names)
            r = error_set(err, ENOMEM, "load");
    }
    for (size_t i = 0; r == 0 && i < l.n_refs; i++) {
        if (l.refs[i].name) {
            names[i] = strdup(l.refs[i].name);
        } else {
            /* Unnamed: report the image id, the config digest of the manifest. */
            _cleanup_json_ cJSON *m = NULL;
            const struct staged *sb = op_find_blob(&op, l.refs[i].digest);
            if (sb && store_read_json_file(sb->path, &m, err) == 0)
                names[i] =
                    strdup(json_str(cJSON_GetObjectItemCaseSensitive(m, "config"), "digest") ?: "");
            else
                r = -EINVAL;
        }
        if (r == 0 && !names[i])
            r = error_set(err, ENOMEM, "load");
    }
    if (r == 0)
        r = op_commit(s, &op, l.refs, l.n_refs, err);
    if (r == 0)
        load_progress_end(&l.progress);
    for (size_t i = 0; i < l.n_refs; i++)
        free(l.refs[i].name);
    free(l.refs);
    free(l.verified);
    image_list_free(l.have, l.n_have);
    if (r < 0)
        return r;
    *ret_names = TAKE_PTR(names);
    return 0;
}
