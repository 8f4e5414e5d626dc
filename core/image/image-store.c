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
#include "image/image-store-internal.h"

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
#include "util/json-util.h"
#include "util/fs-util.h"
#include "util/lock.h"
#include "util/sha256.h"

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

char *store_blob_path(const struct image_store *s, const char *digest)
{
    return xasprintf("%s/%s", s->blobs_dir, digest + 7);
}

const char *store_host_arch(void)
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

cJSON *store_descriptor_new(const char *media_type, const char *digest, long long size)
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

int store_read_json_file(const char *path, cJSON **ret, struct error **err)
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

int store_read_index(struct image_store *s, cJSON **ret, struct error **err)
{
    cJSON *j = NULL;
    int r = store_read_json_file(s->index_path, &j, err);
    if (r < 0)
        return r;
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "manifests"))) {
        cJSON_Delete(j);
        return error_set(err, 0, "'%s': no manifests array", s->index_path);
    }
    *ret = j;
    return 0;
}

int store_write_index(struct image_store *s, cJSON *index, struct error **err)
{
    _cleanup_free_ char *text = cJSON_Print(index);
    if (!text)
        return error_set(err, ENOMEM, "write '%s'", s->index_path);
    return write_file_atomic(s->index_path, text, strlen(text), 0600, err);
}

const char *store_descriptor_name(const cJSON *desc)
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
    _cleanup_free_ char *path = store_blob_path(s, digest);
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
        const char *name = store_descriptor_name(d);
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
        il->blob_path = store_blob_path(s, digest);
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

int store_lock(struct image_store *s, struct error **err)
{
    int fd = lock_path(s->lock_path, err);
    return fd < 0 ? error_prefix(err, "image store") : fd;
}

int store_lock_index(struct image_store *s, cJSON **ret_index, struct error **err)
{
    _cleanup_close_ int lock = store_lock(s, err);
    if (lock < 0)
        return lock;
    int r = store_read_index(s, ret_index, err);
    return r < 0 ? r : TAKE_FD(lock);
}

int image_store_resolve(struct image_store *s, const char *ref, struct image **ret,
                        struct error **err)
{
    _cleanup_json_ cJSON *index = NULL;
    _cleanup_close_ int lock = store_lock_index(s, &index, err);
    if (lock < 0)
        return lock;
    struct entry *e = NULL;
    size_t n = 0;
    int r = collect_entries(s, index, &e, &n, err);
    if (r < 0)
        return r;
    bool by_name;
    int i = find_entry(e, n, ref, &by_name, NULL, err);
    r = i >= 0 ? image_from_entry(s, &e[i], ret, err) : i;
    entries_free(e, n);
    return r;
}

int image_store_list(struct image_store *s, struct image ***ret, size_t *ret_n, struct error **err)
{
    _cleanup_json_ cJSON *index = NULL;
    _cleanup_close_ int lock = store_lock_index(s, &index, err);
    if (lock < 0)
        return lock;
    struct entry *e = NULL;
    size_t n = 0;
    int r = collect_entries(s, index, &e, &n, err);
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

const char *image_store_dir(const struct image_store *s)
{
    return s->dir;
}

char *image_store_blob(const struct image_store *s, const char *digest)
{
    if (!digest_is_valid(digest))
        return NULL;
    char *p = store_blob_path(s, digest);
    if (!path_exists(p)) {
        free(p);
        return NULL;
    }
    return p;
}

/* ---- tag ---- */

void image_store_set_progress(struct image_store *s, FILE *out)
{
    s->progress = out;
}

char *image_store_blob_path(const struct image_store *s, const char *digest)
{
    return digest_is_valid(digest) ? store_blob_path(s, digest) : NULL;
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
    _cleanup_free_ char *path = store_blob_path(s, img->manifest_digest);
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
    _cleanup_json_ cJSON *index = NULL;
    _cleanup_close_ int lock = store_lock_index(s, &index, err);
    if (lock < 0)
        return lock;
    struct entry *e = NULL;
    size_t n = 0;
    int r = collect_entries(s, index, &e, &n, err);
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
            const char *dn = store_descriptor_name(d);
            if (dn && !strcmp(dn, name))
                cJSON_DeleteItemFromArray(manifests, i);
        }
        r = store_write_index(s, index, err);
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
    r = store_write_index(s, index, err);
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
