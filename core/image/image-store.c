/*
 * The image store: ROOT/images/{blobs/sha256/HEX, index.json, lock, tmp/}.
 *
 * Every write follows one pattern so that a failure or a crash leaves the
 * store as it was: the slow part (copying, hashing, verifying layers) runs
 * in a private directory under tmp/ without the lock; then, under the lock,
 * the verified blobs are renamed into blobs/ and index.json is replaced
 * atomically. If the index cannot be written, the blobs just added are
 * unlinked again. A temporary directory is flock()ed by its owner, so the
 * next writer can tell a crashed one's leftovers from a running one's.
 */
#include "image/image-store.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "image/docker-archive.h"
#include "image/image-ref.h"
#include "image/layer-check.h"
#include "image/layer-unpack.h"
#include "image/load-progress.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/lock.h"
#include "util/sha256.h"

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define ANNOT_REF_NAME "org.opencontainers.image.ref.name"
#define ANNOT_CONTAINERD_NAME "io.containerd.image.name"
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define COPY_BLOCK (128 * 1024)
#define MAX_INDEX_DEPTH 4

struct image_store {
    char *dir;       /* absolute ROOT/images */
    char *blobs_dir; /* DIR/blobs/sha256 */
    char *index_path;
    char *lock_path;
    char *tmp_dir;
    FILE *progress; /* load's progress lines, or NULL */
};

static void cjson_deletep(cJSON **j)
{
    if (*j)
        cJSON_Delete(*j);
}
#define _cleanup_json_ _cleanup_(cjson_deletep)

static int not_found(struct error **err, const char *ref)
{
    error_set(err, 0, "image '%s' not found", ref);
    (*err)->errnum = ENOENT;
    return -ENOENT;
}

static bool is_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* ---- small helpers ---- */

static char *blob_path(const struct image_store *s, const char *digest)
{
    return xasprintf("%s/%s", s->blobs_dir, digest + 7);
}

static const char *host_arch(void)
{
    static const struct {
        const char *uname, *oci;
    } map[] = {{"x86_64", "amd64"},    {"aarch64", "arm64"}, {"armv7l", "arm"},
               {"armv6l", "arm"},      {"i686", "386"},      {"i386", "386"},
               {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"}};
    static char machine[sizeof(((struct utsname *)0)->machine)];
    struct utsname u;
    if (uname(&u) < 0)
        return "amd64";
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (!strcmp(u.machine, map[i].uname))
            return map[i].oci;
    snprintf(machine, sizeof(machine), "%s", u.machine);
    return machine;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A NULL-terminated copy of a JSON array of strings; NULL if absent or not one. */
static char **json_strv(const cJSON *arr)
{
    if (!cJSON_IsArray(arr))
        return NULL;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    char **v = calloc(n + 1, sizeof(*v));
    if (!v)
        return NULL;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            continue;
        v[i] = strdup(it->valuestring);
        if (!v[i]) {
            strvfreep(&v);
            return NULL;
        }
        i++;
    }
    return v;
}

/* Parses RFC 3339 ("2024-01-02T03:04:05.123Z", "+01:00" offsets); 0 if not. */
static long long parse_rfc3339(const char *s)
{
    if (!s)
        return 0;
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return 0;
    long long t = (long long)timegm(&tm);
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    int hh, mm;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2)
        t += (*p == '+' ? -1 : 1) * (hh * 3600LL + mm * 60LL);
    return t;
}

static bool json_size(const cJSON *desc, long long *ret)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(desc, "size");
    if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 9007199254740992.0 ||
        it->valuedouble != (double)(long long)it->valuedouble)
        return false;
    *ret = (long long)it->valuedouble;
    return true;
}

static cJSON *descriptor_new(const char *media_type, const char *digest, long long size)
{
    cJSON *d = cJSON_CreateObject();
    if (!d)
        abort();
    cJSON_AddStringToObject(d, "mediaType", media_type);
    cJSON_AddStringToObject(d, "digest", digest);
    cJSON_AddNumberToObject(d, "size", (double)size);
    return d;
}

static bool is_layer_media_type(const char *mt);

int image_layer_media_type_ok(const char *mt)
{
    return mt && is_layer_media_type(mt);
}

static bool is_layer_media_type(const char *mt)
{
    static const char *const ok[] = {
        MT_LAYER,
        MT_LAYER "+gzip", // NOLINT(bugprone-suspicious-missing-comma): joined on purpose
        MT_LAYER "+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
        if (!strcmp(mt, ok[i]))
            return true;
    return false;
}

/* ---- open ---- */

void image_store_free(struct image_store *s)
{
    if (!s)
        return;
    free(s->dir);
    free(s->blobs_dir);
    free(s->index_path);
    free(s->lock_path);
    free(s->tmp_dir);
    free(s);
}

static void image_store_freep(struct image_store **s)
{
    image_store_free(*s);
}

static char *empty_index_text(void)
{
    _cleanup_json_ cJSON *j = cJSON_CreateObject();
    if (!j)
        abort();
    cJSON_AddNumberToObject(j, "schemaVersion", 2);
    cJSON_AddStringToObject(j, "mediaType", MT_INDEX);
    cJSON_AddItemToObject(j, "manifests", cJSON_CreateArray());
    return cJSON_Print(j);
}

int image_store_open(const char *root, struct image_store **ret, struct error **err)
{
    int r = mkdir_p(root, 0711, err);
    if (r < 0)
        return error_prefix(err, "open image store");
    _cleanup_free_ char *abs_root = realpath(root, NULL);
    if (!abs_root)
        return error_set(err, errno, "open image store: '%s'", root);
    _cleanup_(image_store_freep) struct image_store *s = calloc(1, sizeof(*s));
    if (!s)
        return error_set(err, ENOMEM, "open image store");
    s->dir = xasprintf("%s/images", abs_root);
    s->blobs_dir = xasprintf("%s/blobs/sha256", s->dir);
    s->index_path = xasprintf("%s/index.json", s->dir);
    s->lock_path = xasprintf("%s/lock", s->dir);
    s->tmp_dir = xasprintf("%s/tmp", s->dir);
    if (mkdir_p(s->blobs_dir, 0700, err) < 0 || mkdir_p(s->tmp_dir, 0700, err) < 0)
        return error_prefix(err, "open image store");
    if (!path_exists(s->index_path)) {
        int fd = lock_path(s->lock_path, err);
        if (fd < 0)
            return error_prefix(err, "open image store");
        r = 0;
        if (!path_exists(s->index_path)) {
            _cleanup_free_ char *text = empty_index_text();
            r = write_file_atomic(s->index_path, text, strlen(text), 0600, err);
        }
        unlock_fd(fd);
        if (r < 0)
            return error_prefix(err, "open image store");
    }
    *ret = TAKE_PTR(s);
    return 0;
}

/* ---- the index ---- */

static int read_json_file(const char *path, cJSON **ret, struct error **err)
{
    _cleanup_free_ char *text = NULL;
    int r = read_file(path, &text, NULL, err);
    if (r < 0)
        return r;
    cJSON *j = cJSON_Parse(text);
    if (!j)
        return error_set(err, 0, "'%s': malformed JSON", path);
    *ret = j;
    return 0;
}

static int read_index(struct image_store *s, cJSON **ret, struct error **err)
{
    cJSON *j = NULL;
    int r = read_json_file(s->index_path, &j, err);
    if (r < 0)
        return r;
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "manifests"))) {
        cJSON_Delete(j);
        return error_set(err, 0, "'%s': no manifests array", s->index_path);
    }
    *ret = j;
    return 0;
}

static int write_index(struct image_store *s, cJSON *index, struct error **err)
{
    _cleanup_free_ char *text = cJSON_Print(index);
    if (!text)
        return error_set(err, ENOMEM, "write '%s'", s->index_path);
    return write_file_atomic(s->index_path, text, strlen(text), 0600, err);
}

static const char *descriptor_name(const cJSON *desc)
{
    return json_str(cJSON_GetObjectItemCaseSensitive(desc, "annotations"), ANNOT_REF_NAME);
}

/* One image as the index knows it: a manifest and the names pointing to it. */
struct entry {
    char *manifest_digest;
    char *config_digest;
    char **names; /* NULL-terminated */
    size_t n_names;
};

static void entries_free(struct entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].manifest_digest);
        free(e[i].config_digest);
        strvfreep(&e[i].names);
    }
    free(e);
}

static int read_blob_json(struct image_store *s, const char *digest, cJSON **ret, char **ret_text,
                          long long *ret_size, struct error **err)
{
    if (!digest_is_valid(digest))
        return error_set(err, 0, "invalid digest '%s'", digest);
    _cleanup_free_ char *path = blob_path(s, digest);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = read_file(path, &text, &len, err);
    if (r < 0)
        return r;
    cJSON *j = cJSON_Parse(text);
    if (!j)
        return error_set(err, 0, "blob '%s': malformed JSON", digest);
    *ret = j;
    if (ret_text)
        *ret_text = TAKE_PTR(text);
    if (ret_size)
        *ret_size = (long long)len;
    return 0;
}

/* Groups the index's descriptors by manifest, in first-seen order. */
static int collect_entries(struct image_store *s, const cJSON *index, struct entry **ret,
                           size_t *ret_n, struct error **err)
{
    const cJSON *manifests = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    size_t cap = (size_t)cJSON_GetArraySize(manifests) + 1, n = 0;
    struct entry *e = calloc(cap, sizeof(*e));
    if (!e)
        return error_set(err, ENOMEM, "read image index");
    const cJSON *d;
    cJSON_ArrayForEach(d, manifests)
    {
        const char *digest = json_str(d, "digest");
        if (!digest_is_valid(digest))
            continue;
        size_t i;
        for (i = 0; i < n; i++)
            if (!strcmp(e[i].manifest_digest, digest))
                break;
        if (i == n) {
            e[n].manifest_digest = strdup(digest);
            e[n].names = calloc(cap, sizeof(char *));
            if (!e[n].manifest_digest || !e[n].names) {
                entries_free(e, n + 1);
                return error_set(err, ENOMEM, "read image index");
            }
            _cleanup_json_ cJSON *m = NULL;
            int r = read_blob_json(s, digest, &m, NULL, NULL, err);
            if (r < 0) {
                entries_free(e, n + 1);
                return error_prefix(err, "read manifest");
            }
            const char *cfg = json_str(cJSON_GetObjectItemCaseSensitive(m, "config"), "digest");
            if (!digest_is_valid(cfg)) {
                entries_free(e, n + 1);
                return error_set(err, 0, "manifest '%s': no valid config digest", digest);
            }
            e[n].config_digest = strdup(cfg);
            if (!e[n].config_digest) {
                entries_free(e, n + 1);
                return error_set(err, ENOMEM, "read image index");
            }
            n++;
        }
        const char *name = descriptor_name(d);
        if (name) {
            e[i].names[e[i].n_names] = strdup(name);
            if (!e[i].names[e[i].n_names]) {
                entries_free(e, n);
                return error_set(err, ENOMEM, "read image index");
            }
            e[i].n_names++;
        }
    }
    *ret = e;
    *ret_n = n;
    return 0;
}

/*
 * Finds the entry REF names: a full id ("sha256:HEX" or HEX), a name, or a
 * unique id prefix of at least 4 hex digits. *RET_BY_NAME tells whether it
 * matched as a name (removal then only untags). Returns the index or < 0.
 */
static int find_entry(const struct entry *e, size_t n, const char *ref, bool *ret_by_name,
                      char **ret_name, struct error **err)
{
    const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
    size_t hlen = strlen(hex);
    bool hexish = hlen >= 4 && hlen <= 64 && is_hex(hex, hlen);
    if (hexish && hlen == 64)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(e[i].config_digest + 7, hex)) {
                *ret_by_name = false;
                return (int)i;
            }
    if (hex == ref) {
        _cleanup_free_ char *name = image_ref_normalize(ref);
        if (name)
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < e[i].n_names; k++)
                    if (!strcmp(e[i].names[k], name)) {
                        *ret_by_name = true;
                        if (ret_name)
                            *ret_name = TAKE_PTR(name);
                        return (int)i;
                    }
    }
    if (hexish && hlen < 64) {
        int found = -1;
        for (size_t i = 0; i < n; i++) {
            if (strncmp(e[i].config_digest + 7, hex, hlen))
                continue;
            if (found >= 0 && strcmp(e[found].config_digest, e[i].config_digest))
                return error_set(err, 0, "image id prefix '%s' is ambiguous", ref);
            if (found < 0)
                found = (int)i;
        }
        if (found >= 0) {
            *ret_by_name = false;
            return found;
        }
    }
    return not_found(err, ref);
}

/* ---- images ---- */

void image_layers_free(struct image_layer *layers, size_t n)
{
    if (!layers)
        return;
    for (size_t i = 0; i < n; i++) {
        free(layers[i].digest);
        free(layers[i].diff_id);
        free(layers[i].chain_id);
        free(layers[i].media_type);
        free(layers[i].blob_path);
    }
    free(layers);
}

void image_free(struct image *img)
{
    if (!img)
        return;
    free(img->id);
    free(img->manifest_digest);
    strvfreep(&img->names);
    image_layers_free(img->layers, img->n_layers);
    strvfreep(&img->env);
    strvfreep(&img->entrypoint);
    strvfreep(&img->cmd);
    free(img->working_dir);
    free(img->user);
    free(img->config_json);
    free(img);
}

void image_list_free(struct image **imgs, size_t n)
{
    if (!imgs)
        return;
    for (size_t i = 0; i < n; i++)
        image_free(imgs[i]);
    free(imgs);
}

/* chain(L0) = diff0; chain(Ln) = sha256(chain(Ln-1) + " " + diffn), per the OCI spec. */
static char *chain_id(const char *parent_chain, const char *diff_id)
{
    if (!parent_chain)
        return strdup(diff_id);
    _cleanup_free_ char *text = xasprintf("%s %s", parent_chain, diff_id);
    char out[DIGEST_STR_LEN + 1];
    sha256_buffer(text, strlen(text), out);
    return strdup(out);
}

static int image_from_entry(struct image_store *s, const struct entry *en, struct image **ret,
                            struct error **err)
{
    _cleanup_json_ cJSON *m = NULL, *c = NULL;
    _cleanup_free_ char *config_text = NULL;
    long long config_size = 0;
    int r = read_blob_json(s, en->manifest_digest, &m, NULL, NULL, err);
    if (r < 0)
        return error_prefix(err, "manifest");
    r = read_blob_json(s, en->config_digest, &c, &config_text, &config_size, err);
    if (r < 0)
        return error_prefix(err, "image config");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m, "layers");
    const cJSON *diffs =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "rootfs"), "diff_ids");
    if (!cJSON_IsArray(layers) || !cJSON_IsArray(diffs) ||
        cJSON_GetArraySize(layers) != cJSON_GetArraySize(diffs))
        return error_set(err, 0, "image '%s': manifest and config disagree on layers",
                         en->config_digest);

    _cleanup_(image_freep) struct image *img = calloc(1, sizeof(*img));
    if (!img)
        return error_set(err, ENOMEM, "image");
    img->id = strdup(en->config_digest);
    img->manifest_digest = strdup(en->manifest_digest);
    img->names = calloc(en->n_names + 1, sizeof(char *));
    if (!img->id || !img->manifest_digest || !img->names)
        return error_set(err, ENOMEM, "image");
    for (size_t i = 0; i < en->n_names; i++)
        if (!(img->names[i] = strdup(en->names[i])))
            return error_set(err, ENOMEM, "image");
    size_t n = (size_t)cJSON_GetArraySize(layers);
    img->layers = calloc(n + 1, sizeof(*img->layers));
    if (!img->layers)
        return error_set(err, ENOMEM, "image");
    img->size = config_size;
    const char *parent = NULL;
    for (size_t i = 0; i < n; i++) {
        const cJSON *l = cJSON_GetArrayItem(layers, (int)i);
        const char *digest = json_str(l, "digest");
        const cJSON *diff = cJSON_GetArrayItem(diffs, (int)i);
        const char *mt = json_str(l, "mediaType");
        long long size = 0;
        if (!digest_is_valid(digest) || !cJSON_IsString(diff) ||
            !digest_is_valid(diff->valuestring) || !json_size(l, &size))
            return error_set(err, 0, "image '%s': layer %zu is malformed", en->config_digest, i);
        struct image_layer *il = &img->layers[i];
        img->n_layers = i + 1;
        il->digest = strdup(digest);
        il->diff_id = strdup(diff->valuestring);
        il->chain_id = chain_id(parent, diff->valuestring);
        il->media_type = strdup(mt ? mt : MT_LAYER);
        il->blob_path = blob_path(s, digest);
        if (!il->digest || !il->diff_id || !il->chain_id || !il->media_type)
            return error_set(err, ENOMEM, "image");
        parent = il->chain_id;
        img->size += size;
    }
    img->created = parse_rfc3339(json_str(c, "created"));
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(c, "config");
    img->env = json_strv(cJSON_GetObjectItemCaseSensitive(cfg, "Env"));
    img->entrypoint = json_strv(cJSON_GetObjectItemCaseSensitive(cfg, "Entrypoint"));
    img->cmd = json_strv(cJSON_GetObjectItemCaseSensitive(cfg, "Cmd"));
    const char *wd = json_str(cfg, "WorkingDir");
    const char *user = json_str(cfg, "User");
    if (wd && *wd)
        img->working_dir = strdup(wd);
    if (user && *user)
        img->user = strdup(user);
    img->config_json = TAKE_PTR(config_text);
    *ret = TAKE_PTR(img);
    return 0;
}

/* Readers take the lock too: a manifest may not vanish between index and blob. */
static int lock_store(struct image_store *s, struct error **err)
{
    int fd = lock_path(s->lock_path, err);
    return fd < 0 ? error_prefix(err, "image store") : fd;
}

int image_store_resolve(struct image_store *s, const char *ref, struct image **ret,
                        struct error **err)
{
    _cleanup_close_ int lock = lock_store(s, err);
    if (lock < 0)
        return lock;
    _cleanup_json_ cJSON *index = NULL;
    int r = read_index(s, &index, err);
    if (r < 0)
        return r;
    struct entry *e = NULL;
    size_t n = 0;
    r = collect_entries(s, index, &e, &n, err);
    if (r < 0)
        return r;
    bool by_name;
    int i = find_entry(e, n, ref, &by_name, NULL, err);
    if (i >= 0)
        r = image_from_entry(s, &e[i], ret, err);
    else
        r = i;
    entries_free(e, n);
    return r;
}

int image_store_list(struct image_store *s, struct image ***ret, size_t *ret_n, struct error **err)
{
    _cleanup_close_ int lock = lock_store(s, err);
    if (lock < 0)
        return lock;
    _cleanup_json_ cJSON *index = NULL;
    int r = read_index(s, &index, err);
    if (r < 0)
        return r;
    struct entry *e = NULL;
    size_t n = 0;
    r = collect_entries(s, index, &e, &n, err);
    if (r < 0)
        return r;
    struct image **imgs = calloc(n + 1, sizeof(struct image *));
    if (!imgs) {
        entries_free(e, n);
        return error_set(err, ENOMEM, "list images");
    }
    for (size_t i = 0; i < n; i++) {
        r = image_from_entry(s, &e[i], &imgs[i], err);
        if (r < 0) {
            image_list_free(imgs, i);
            entries_free(e, n);
            return r;
        }
    }
    entries_free(e, n);
    *ret = imgs;
    *ret_n = n;
    return 0;
}

int image_store_all_chain_ids(struct image_store *s, char ***ret_ids, size_t *ret_n,
                              struct error **err)
{
    struct image **imgs = NULL;
    size_t n = 0;
    int r = image_store_list(s, &imgs, &n, err);
    if (r < 0)
        return r;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += imgs[i]->n_layers;
    char **ids = calloc(total + 1, sizeof(*ids));
    if (!ids) {
        image_list_free(imgs, n);
        return error_set(err, ENOMEM, "list layers");
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < imgs[i]->n_layers; j++) {
            const char *id = imgs[i]->layers[j].chain_id;
            bool dup = false;
            for (size_t x = 0; x < k && !dup; x++)
                dup = !strcmp(ids[x], id);
            if (!dup)
                ids[k++] = strdup(id);
        }
    image_list_free(imgs, n);
    for (size_t x = 0; x < k; x++)
        if (!ids[x]) {
            strvfreep(&ids);
            return error_set(err, ENOMEM, "list layers");
        }
    *ret_ids = ids;
    *ret_n = k;
    return 0;
}

/* ---- writes: temporary directories and staged blobs ---- */

/* A writer's private directory under tmp/, flocked while it lives. */
struct op {
    char *dir;
    int fd;
    /* Blobs verified and waiting in DIR for the commit. */
    struct staged {
        char digest[DIGEST_STR_LEN + 1];
        char *path;
        long long size;
        /* A layer: its diff_id as checked here, or "" (not a layer, or
         * UNCHECKED: a pull left its diff_id to the first unpack). */
        char diff_id[DIGEST_STR_LEN + 1];
        bool unchecked;
    } * blobs;
    size_t n_blobs;
};

static void op_end(struct op *op)
{
    if (op->dir) {
        struct error *ignored = NULL;
        rm_rf(op->dir, &ignored);
        error_free(&ignored);
        free(op->dir);
    }
    if (op->fd >= 0)
        close(op->fd);
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

static int op_begin(struct image_store *s, struct op *op, struct error **err)
{
    *op = (struct op){.fd = -1};
    _cleanup_close_ int lock = lock_store(s, err);
    if (lock < 0)
        return lock;
    sweep_tmp(s);
    /* Created and flocked under the store lock, so no sweep sees it unlocked. */
    _cleanup_free_ char *dir = xasprintf("%s/op-XXXXXX", s->tmp_dir);
    if (!mkdtemp(dir))
        return error_set(err, errno, "make temporary directory in '%s'", s->tmp_dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        rmdir(dir);
        return error_set(err, e, "lock '%s'", dir);
    }
    op->dir = TAKE_PTR(dir);
    op->fd = fd;
    return 0;
}

static const struct staged *op_find_blob(const struct op *op, const char *digest)
{
    for (size_t i = 0; i < op->n_blobs; i++)
        if (!strcmp(op->blobs[i].digest, digest))
            return &op->blobs[i];
    return NULL;
}

static int op_add_blob(struct op *op, const char *digest, char *path, long long size)
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

/* Notes what was learnt of staged layer DIGEST's diff_id (see struct staged). */
static void op_note_layer(struct op *op, const char *digest, const char *diff_id)
{
    for (size_t i = 0; i < op->n_blobs; i++)
        if (!strcmp(op->blobs[i].digest, digest)) {
            if (diff_id)
                memcpy(op->blobs[i].diff_id, diff_id, DIGEST_STR_LEN + 1);
            op->blobs[i].unchecked = !diff_id;
        }
}

/*
 * Copies SRC into the operation directory (or, when MOVE, hashes it in
 * place, as it is already ours), computing its digest and size. SRC must be
 * a regular file; MOVE sources are opened without following a symlink.
 */
static int stage_file(struct op *op, const char *src, bool move, char *ret_digest,
                      long long *ret_size, char **ret_path, struct error **err)
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

/*
 * Stages SRC as the blob EXPECTED (with size EXPECTED_SIZE unless < 0),
 * verified: hashed here, or, when VERIFIED_SIZE >= 0 and SRC is the
 * caller's own (MOVE), by the caller as it wrote the file.
 */
static int stage_blob(struct op *op, const char *src, bool move, long long verified_size,
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
                : stage_file(op, src, move, digest, &size, &path, err);
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

/* Stages an in-memory JSON document as a blob; returns its digest and size. */
static int stage_text(struct op *op, const char *text, char *ret_digest, long long *ret_size,
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

/* A manifest to add to the index on commit, with its name (or none). */
struct new_ref {
    char digest[DIGEST_STR_LEN + 1];
    long long size;
    char *name;
};

static void index_drop_name(cJSON *manifests, const char *name, const char *keep_digest)
{
    for (int i = cJSON_GetArraySize(manifests) - 1; i >= 0; i--) {
        cJSON *d = cJSON_GetArrayItem(manifests, i);
        const char *dn = descriptor_name(d);
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
            cJSON *nd = descriptor_new(MT_MANIFEST, digest, 0);
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
        const char *dn = descriptor_name(d);
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
            if (!descriptor_name(d) && !strcmp(json_str(d, "digest") ?: "", ref->digest))
                cJSON_DeleteItemFromArray(manifests, i);
        }
    }
    cJSON *d = descriptor_new(MT_MANIFEST, ref->digest, ref->size);
    if (ref->name) {
        cJSON *a = cJSON_AddObjectToObject(d, "annotations");
        cJSON_AddStringToObject(a, ANNOT_REF_NAME, ref->name);
    }
    cJSON_AddItemToArray(manifests, d);
}

/* Under the lock: blobs into place, then the index; undone on failure. */
static int op_commit(struct image_store *s, struct op *op, const struct new_ref *refs,
                     size_t n_refs, struct error **err)
{
    _cleanup_close_ int lock = lock_store(s, err);
    if (lock < 0)
        return lock;
    _cleanup_json_ cJSON *index = NULL;
    int r = read_index(s, &index, err);
    if (r < 0)
        return r;
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
        char *dst = blob_path(s, op->blobs[i].digest);
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
        r = write_index(s, index, err);
    }
    for (size_t i = 0; i < n_added; i++) {
        if (r < 0)
            unlink(added[i]);
        free(added[i]);
    }
    return r;
}

/* ---- import ---- */

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

static char *now_rfc3339(void)
{
    time_t t = time(NULL);
    struct tm tm;
    char buf[64];
    gmtime_r(&t, &tm);
    (void)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(buf);
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
    r = stage_file(&op, tar_path, false, layer_digest, &layer_size, &layer_path, err);
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

    _cleanup_free_ char *created = now_rfc3339();
    _cleanup_json_ cJSON *config = cJSON_CreateObject();
    if (!created || !config)
        return error_set(err, ENOMEM, "import");
    cJSON_AddStringToObject(config, "created", created);
    cJSON_AddStringToObject(config, "architecture", host_arch());
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
    r = stage_text(&op, config_text, config_digest, &config_size, err);
    if (r < 0)
        return r;

    _cleanup_json_ cJSON *manifest = cJSON_CreateObject();
    if (!manifest)
        return error_set(err, ENOMEM, "import");
    cJSON_AddNumberToObject(manifest, "schemaVersion", 2);
    cJSON_AddStringToObject(manifest, "mediaType", MT_MANIFEST);
    cJSON_AddItemToObject(manifest, "config",
                          descriptor_new(MT_CONFIG, config_digest, config_size));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(manifest, "layers"),
                         descriptor_new(media_type, layer_digest, layer_size));
    _cleanup_free_ char *manifest_text = cJSON_PrintUnformatted(manifest);
    if (!manifest_text)
        return error_set(err, ENOMEM, "import");
    struct new_ref nr = {.name = name};
    r = stage_text(&op, manifest_text, nr.digest, &nr.size, err);
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
    _cleanup_free_ char *own = blob_path(l->store, digest);
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
    int r = stage_blob(l->op, src, l->move, pre_size(l, src, digest), digest, size, &staged, err);
    if (r < 0)
        return error_prefix(err, "%s", what);
    _cleanup_json_ cJSON *j = NULL;
    r = read_json_file(staged, &j, err);
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
        if (!lmt || !is_layer_media_type(lmt))
            return error_set(err, 0, "manifest '%s': unsupported layer media type '%s'", digest,
                             lmt ? lmt : "(none)");
        if (!digest_is_valid(ldigest) || !json_size(ld, &size))
            return error_set(err, 0, "manifest '%s': layer %d: invalid digest or size", digest, i);
        if (!cJSON_IsString(diff) || !digest_is_valid(diff->valuestring))
            return error_set(err, 0, "image config: diff_id %d is invalid", i);
        _cleanup_free_ char *src = xasprintf("%s/blobs/sha256/%s", l->layout, ldigest + 7);
        const char *staged;
        long long t0 = load_progress_now();
        r = stage_blob(l->op, src, l->move, pre_size(l, src, ldigest), ldigest, size, &staged, err);
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
    const char *arch = host_arch();
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

const char *image_store_dir(const struct image_store *s)
{
    return s->dir;
}

char *image_store_blob(const struct image_store *s, const char *digest)
{
    if (!digest_is_valid(digest))
        return NULL;
    char *p = blob_path(s, digest);
    if (!path_exists(p)) {
        free(p);
        return NULL;
    }
    return p;
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
    r = read_json_file(layout_file, &layout, err);
    if (r < 0)
        return error_prefix(err, "'%s' is not an OCI image layout", path);
    const char *version = json_str(layout, "imageLayoutVersion");
    if (!version || strncmp(version, "1.", 2))
        return error_set(err, 0, "'%s': unsupported imageLayoutVersion '%s'", path,
                         version ? version : "(none)");
    r = read_json_file(index_file, &index, err);
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
            if (sb && read_json_file(sb->path, &m, err) == 0)
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

/* ---- tag ---- */

void image_store_set_progress(struct image_store *s, FILE *out)
{
    s->progress = out;
}

char *image_store_blob_path(const struct image_store *s, const char *digest)
{
    return digest_is_valid(digest) ? blob_path(s, digest) : NULL;
}

int image_store_tag(struct image_store *s, const char *src, const char *target, struct error **err)
{
    _cleanup_free_ char *name = image_ref_normalize(target);
    if (!name || strchr(name, '@'))
        return error_set(err, 0, "invalid image name '%s'", target);
    _cleanup_(image_freep) struct image *img = NULL;
    int r = image_store_resolve(s, src, &img, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = blob_path(s, img->manifest_digest);
    struct stat st;
    if (stat(path, &st) < 0)
        return error_set(err, errno, "manifest '%s'", img->manifest_digest);
    struct new_ref nr = {.size = (long long)st.st_size, .name = name};
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): the + 1 copies the NUL
    memcpy(nr.digest, img->manifest_digest, DIGEST_STR_LEN + 1);
    /* No blob to add: the commit only rewrites the index, under the lock. */
    struct op op = {.fd = -1};
    r = op_commit(s, &op, &nr, 1, err);
    op_end(&op);
    return r;
}

/* ---- remove ---- */

static int layer_copy(struct image_layer *dst, const struct image_layer *src)
{
    dst->digest = strdup(src->digest);
    dst->diff_id = strdup(src->diff_id);
    dst->chain_id = strdup(src->chain_id);
    dst->media_type = strdup(src->media_type);
    dst->blob_path = strdup(src->blob_path);
    return dst->digest && dst->diff_id && dst->chain_id && dst->media_type && dst->blob_path
               ? 0
               : -ENOMEM;
}

/* Deletes the layer records (layer-check.h) of blobs the store lost. */
static void sweep_layer_checks(struct image_store *s)
{
    _cleanup_free_ char *dir = xasprintf("%s/layer-check", s->dir);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        /* Other names are records being written (write_file_atomic). */
        if (strlen(de->d_name) != 64)
            continue;
        _cleanup_free_ char *blob = xasprintf("%s/%s", s->blobs_dir, de->d_name);
        if (!path_exists(blob))
            unlinkat(dirfd(d), de->d_name, 0);
    }
}

/* Deletes every blob no remaining image references (also what a crash
 * between blob rename and index write left). Under the lock. */
static void sweep_blobs(struct image_store *s, struct image **keep, size_t n_keep)
{
    _cleanup_closedir_ DIR *d = opendir(s->blobs_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strlen(de->d_name) != 64)
            continue;
        char digest[DIGEST_STR_LEN + 1];
        memcpy(digest, "sha256:", 7);
        memcpy(digest + 7, de->d_name, 64);
        digest[DIGEST_STR_LEN] = '\0';
        bool used = false;
        for (size_t i = 0; i < n_keep && !used; i++) {
            used = !strcmp(keep[i]->id, digest) || !strcmp(keep[i]->manifest_digest, digest);
            for (size_t j = 0; j < keep[i]->n_layers && !used; j++)
                used = !strcmp(keep[i]->layers[j].digest, digest);
        }
        if (!used) {
            unlinkat(dirfd(d), de->d_name, 0);
            layer_check_forget(s->dir, digest);
        }
    }
    sweep_layer_checks(s);
}

int image_store_remove(struct image_store *s, const char *ref, struct image_layer **ret_freed,
                       size_t *ret_n_freed, struct error **err)
{
    _cleanup_close_ int lock = lock_store(s, err);
    if (lock < 0)
        return lock;
    _cleanup_json_ cJSON *index = NULL;
    int r = read_index(s, &index, err);
    if (r < 0)
        return r;
    struct entry *e = NULL;
    size_t n = 0;
    r = collect_entries(s, index, &e, &n, err);
    if (r < 0)
        return r;
    struct image **keep = calloc(n + 1, sizeof(struct image *));
    struct image **gone = calloc(n + 1, sizeof(struct image *));
    struct image_layer *freed = NULL;
    size_t n_keep = 0, n_gone = 0, n_freed = 0;
    bool by_name = false;
    _cleanup_free_ char *name = NULL;
    if (!keep || !gone) {
        r = error_set(err, ENOMEM, "remove image");
        goto out;
    }
    int found = find_entry(e, n, ref, &by_name, &name, err);
    if (found < 0) {
        r = found;
        goto out;
    }
    cJSON *manifests = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    if (by_name && e[found].n_names > 1) {
        /* Untag only: the image keeps its other names and its layers. */
        for (int i = cJSON_GetArraySize(manifests) - 1; i >= 0; i--) {
            cJSON *d = cJSON_GetArrayItem(manifests, i);
            const char *dn = descriptor_name(d);
            if (dn && !strcmp(dn, name))
                cJSON_DeleteItemFromArray(manifests, i);
        }
        r = write_index(s, index, err);
        goto out;
    }
    /* By id every manifest with that config goes; by its last name, the one. */
    for (size_t i = 0; i < n; i++) {
        bool remove =
            by_name ? (size_t)found == i : !strcmp(e[i].config_digest, e[found].config_digest);
        struct image **list = remove ? gone : keep;
        size_t *count = remove ? &n_gone : &n_keep;
        r = image_from_entry(s, &e[i], &list[*count], err);
        if (r < 0)
            goto out;
        (*count)++;
        if (!remove)
            continue;
        for (int k = cJSON_GetArraySize(manifests) - 1; k >= 0; k--)
            if (!strcmp(json_str(cJSON_GetArrayItem(manifests, k), "digest") ?: "",
                        e[i].manifest_digest))
                cJSON_DeleteItemFromArray(manifests, k);
    }
    /* Layers (by chain id) that no remaining image stacks any more. */
    size_t cap = 0;
    for (size_t i = 0; i < n_gone; i++)
        cap += gone[i]->n_layers;
    freed = calloc(cap + 1, sizeof(*freed));
    if (!freed) {
        r = error_set(err, ENOMEM, "remove image");
        goto out;
    }
    for (size_t i = 0; i < n_gone; i++)
        for (size_t j = 0; j < gone[i]->n_layers; j++) {
            const struct image_layer *l = &gone[i]->layers[j];
            bool used = false;
            for (size_t k = 0; k < n_keep && !used; k++)
                for (size_t x = 0; x < keep[k]->n_layers && !used; x++)
                    used = !strcmp(keep[k]->layers[x].chain_id, l->chain_id);
            for (size_t k = 0; k < n_freed && !used; k++)
                used = !strcmp(freed[k].chain_id, l->chain_id);
            if (used)
                continue;
            if (layer_copy(&freed[n_freed++], l) < 0) {
                r = error_set(err, ENOMEM, "remove image");
                goto out;
            }
        }
    r = write_index(s, index, err);
    if (r < 0)
        goto out;
    sweep_blobs(s, keep, n_keep);
out:
    image_list_free(keep, n_keep);
    image_list_free(gone, n_gone);
    entries_free(e, n);
    if (r < 0) {
        image_layers_free(freed, n_freed);
        return r;
    }
    *ret_freed = freed;
    *ret_n_freed = n_freed;
    return 0;
}
