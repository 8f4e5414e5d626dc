/* berth pull (image-pull.h). */
#include "registry/image-pull.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "image/image-ref.h"
#include "registry/auth-file.h"
#include "registry/registry-client.h"
#include "registry/registry-config.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/sha256.h"
#include "util/human-units.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define ACCEPT_HEADER                                                                              \
    "Accept: " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_LIST
#define BLOB_SIZE_MAX (1LL << 40)

void pull_host_platform(const char **ret_os, const char **ret_arch, const char **ret_variant)
{
    static struct utsname u;
    uname(&u);
    *ret_os = "linux";
    *ret_variant = NULL;
    if (!strcmp(u.machine, "x86_64"))
        *ret_arch = "amd64";
    else if (!strcmp(u.machine, "aarch64"))
        *ret_arch = "arm64", *ret_variant = "v8";
    else if (!strncmp(u.machine, "armv7", 5))
        *ret_arch = "arm", *ret_variant = "v7";
    else if (!strncmp(u.machine, "armv6", 5))
        *ret_arch = "arm", *ret_variant = "v6";
    else if (!strcmp(u.machine, "i686") || !strcmp(u.machine, "i386"))
        *ret_arch = "386";
    else if (!strcmp(u.machine, "ppc64le"))
        *ret_arch = "ppc64le";
    else if (!strcmp(u.machine, "s390x"))
        *ret_arch = "s390x";
    else if (!strcmp(u.machine, "riscv64"))
        *ret_arch = "riscv64";
    else
        *ret_arch = u.machine;
}

static void clientp_free(struct registry_client **c)
{
    registry_client_free(*c);
}

static void wipe_free(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
    }
}

/* The media type of a manifest response: Content-Type unless generic, else the document's. */
static const char *manifest_media_type(const struct registry_response *resp, const cJSON *j,
                                       char *buf, size_t bufsz)
{
    const char *mt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "mediaType"));
    if (resp->content_type) {
        size_t n = strcspn(resp->content_type, "; ");
        if (n < bufsz) {
            memcpy(buf, resp->content_type, n);
            buf[n] = '\0';
            if (strcmp(buf, "application/json") && strcmp(buf, "text/plain") &&
                strcmp(buf, "application/octet-stream"))
                return buf;
        }
    }
    if (mt)
        return mt;
    if (cJSON_GetObjectItemCaseSensitive(j, "manifests"))
        return MT_OCI_INDEX;
    if (cJSON_GetObjectItemCaseSensitive(j, "config"))
        return MT_OCI_MANIFEST;
    return "(none)";
}

static bool is_index(const char *mt)
{
    return !strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST);
}

static bool is_manifest(const char *mt)
{
    return !strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST);
}

struct fetched {
    struct registry_response resp;
    cJSON *json;
    char digest[DIGEST_STR_LEN + 1];
    char media_type[256];
};

static void fetched_clear(struct fetched *f)
{
    registry_response_clear(&f->resp);
    if (f->json)
        cJSON_Delete(f->json);
    f->json = NULL;
}

/* GET the manifest REFERENCE (a tag or digest) of REPO, checked against WANT_DIGEST if given. */
static int fetch_manifest(struct registry_client *c, const char *repo, const char *reference,
                          const char *want_digest, long long want_size, struct fetched *f,
                          struct error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/manifests/%s", repo, reference);
    const char *headers[] = {ACCEPT_HEADER, NULL};
    int r = registry_request(c, "GET", path, repo, 0, headers, NULL, 0, &f->resp, err);
    if (r < 0)
        return r;
    long st = f->resp.status;
    if (st == 404)
        return error_set_plain(err, ENOENT, "manifest '%s' of '%s' not found", reference, repo);
    if (st == 401 || st == 403)
        return error_set_plain(err, EACCES, "access to '%s' denied (HTTP %ld)", repo, st);
    if (st != 200)
        return error_set_plain(err, EIO, "manifest '%s' of '%s': HTTP %ld", reference, repo, st);
    sha256_buffer(f->resp.body, f->resp.body_len, f->digest);
    if (want_digest && strcmp(want_digest, f->digest))
        return error_set_plain(err, EPROTO, "manifest '%s': content has digest '%s'", want_digest,
                               f->digest);
    if (want_size >= 0 && (long long)f->resp.body_len != want_size)
        return error_set_plain(err, EPROTO, "manifest '%s': %zu bytes, descriptor says %lld",
                               f->digest, f->resp.body_len, want_size);
    f->json = cJSON_ParseWithLength(f->resp.body, f->resp.body_len);
    if (!cJSON_IsObject(f->json))
        return error_set_plain(err, EPROTO, "manifest '%s' of '%s': malformed JSON", reference,
                               repo);
    char buf[256];
    const char *mt = manifest_media_type(&f->resp, f->json, buf, sizeof(buf));
    if (!is_index(mt) && !is_manifest(mt))
        return error_set_plain(err, EPROTO,
                               "manifest '%s' of '%s': unsupported media type '%.100s'", reference,
                               repo, mt);
    snprintf(f->media_type, sizeof(f->media_type), "%s", mt);
    return 0;
}

static bool descriptor(const cJSON *d, const char **ret_digest, long long *ret_size,
                       const char **ret_mt)
{
    const char *digest = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "digest"));
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(d, "size");
    if (!digest_is_valid(digest) || !cJSON_IsNumber(size) || size->valuedouble < 0 ||
        size->valuedouble > (double)BLOB_SIZE_MAX ||
        size->valuedouble != (double)(long long)size->valuedouble)
        return false;
    *ret_digest = digest;
    *ret_size = (long long)size->valuedouble;
    if (ret_mt)
        *ret_mt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "mediaType"));
    return true;
}

/* Picks the manifest for OS/ARCH[/VARIANT] from an index. */
static int pick_platform(const cJSON *index, const char *os, const char *arch, const char *variant,
                         const cJSON **ret, struct error **err)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    if (!cJSON_IsArray(ms))
        return error_set_plain(err, EPROTO, "index has no manifests array");
    const cJSON *d, *loose = NULL;
    cJSON_ArrayForEach(d, ms)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "platform");
        const char *pos = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "os"));
        const char *parch =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "architecture"));
        const char *pvar = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "variant"));
        if (!pos || !parch || strcmp(pos, os) || strcmp(parch, arch))
            continue;
        if (!variant || (pvar && !strcmp(pvar, variant))) {
            *ret = d;
            return 0;
        }
        if (!pvar && !loose)
            loose = d; /* arm64 without a variant is v8 */
    }
    if (loose) {
        *ret = loose;
        return 0;
    }
    return error_set_plain(err, ENOENT, "no manifest for platform %s/%s%s%s in the index", os, arch,
                           variant ? "/" : "", variant ? variant : "");
}

/* ---- progress ---- */

struct progress {
    FILE *out;
    long long start_ms;
    long long last_ms;
    int lines;
    /* Every blob of the image; the downloads are the ones not PRESENT, in order. */
    const struct registry_blob *all;
    const bool *present;
    size_t n_all;
};

static void on_progress(void *ud, const struct registry_blob *blobs, size_t n)
{
    struct progress *p = ud;
    long long now = monotonic_ms();
    double secs = (double)(now - p->start_ms) / 1000.0;
    if (p->lines > 0)
        fprintf(p->out, "\033[%dA", p->lines);
    size_t k = 0;
    for (size_t i = 0; i < p->n_all; i++) {
        const struct registry_blob *b = &p->all[i];
        if (!p->present[i] && k < n)
            b = &blobs[k++];
        char done[32], total[32], speed[32];
        format_bytes((double)b->done, done, sizeof(done));
        format_bytes((double)b->size, total, sizeof(total));
        format_bytes(secs > 0 && !p->present[i] ? (double)b->done / secs : 0, speed, sizeof(speed));
        const char *state = p->present[i] ? "Already exists"
                            : b->finished ? "Download complete"
                                          : "Downloading";
        fprintf(p->out, "\033[2K%.12s: %-17s %9s / %-9s %s/s\n", b->digest + 7, state, done, total,
                speed);
    }
    p->lines = (int)p->n_all;
    fflush(p->out);
}

/* ---- the pull ---- */

static int pull_from(struct image_store *store, struct registry_client *c, const char *repo,
                     const struct image_ref *ref, const char *local_name,
                     const struct pull_options *o, char **ret_id, struct error **err);

int image_pull(struct image_store *store, const char *refstr, const struct pull_options *o,
               char **ret_id, char **ret_name, struct error **err)
{
    _cleanup_(image_ref_clear) struct image_ref ref = {0};
    int r = image_ref_parse(refstr, &ref, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *local_name = image_ref_familiar(&ref);
    if (!local_name)
        return error_set(err, ENOMEM, "pull");
    /* A short name comes from the configured default registry. */
    const char *dflt = registry_config_default(o->registries);
    _cleanup_free_ char *domain = strdup(ref.qualified ? ref.domain : dflt);
    _cleanup_free_ char *repo = NULL;
    if (!ref.qualified && strcmp(dflt, IMAGE_REF_DEFAULT_DOMAIN) &&
        !strncmp(ref.path, "library/", 8) && !strstr(refstr, "library/"))
        repo = strdup(ref.path + 8);
    else
        repo = strdup(ref.path);
    if (!domain || !repo)
        return error_set(err, ENOMEM, "pull");
    _cleanup_free_ const char **mirrors = registry_config_mirrors(o->registries, domain);
    if (!mirrors)
        return error_set(err, ENOMEM, "pull");
    _cleanup_free_ char *authfile = auth_file_path(o->authfile);
    struct error *last = NULL;
    size_t n_mirrors = 0;
    while (mirrors[n_mirrors])
        n_mirrors++;
    for (size_t i = 0; i <= n_mirrors; i++) {
        const char *host = i < n_mirrors ? mirrors[i] : registry_endpoint(domain);
        const char *cred_key = i < n_mirrors ? host : domain;
        _cleanup_(wipe_free) char *user = NULL;
        _cleanup_(wipe_free) char *pass = NULL;
        r = auth_file_get(authfile, cred_key, &user, &pass, err);
        if (r < 0)
            return r;
        struct registry_options ro = {
            .host = host,
            .insecure = !o->tls_verify || registry_config_insecure(o->registries, host),
            .username = user,
            .password = pass,
        };
        _cleanup_(clientp_free) struct registry_client *c = NULL;
        r = registry_client_new(&ro, &c, err);
        if (r < 0)
            return r;
        error_free(&last);
        r = pull_from(store, c, repo, &ref, local_name, o, ret_id, &last);
        if (r == 0) {
            *ret_name = TAKE_PTR(local_name);
            return 0;
        }
        if (i < n_mirrors)
            error_prefix(&last, "mirror '%s'", host);
    }
    *err = last;
    return error_code(last);
}

struct pull_blob {
    const char *digest;
    long long size;
    bool present;
};

static int link_blob(struct image_store *store, const char *downloads, const char *layout,
                     const char *digest, struct error **err)
{
    _cleanup_free_ char *dst = xasprintf("%s/blobs/sha256/%s", layout, digest + 7);
    _cleanup_free_ char *dl = xasprintf("%s/%s", downloads, digest + 7);
    if (link(dl, dst) == 0)
        return 0;
    /* Another pull downloaded and committed it meanwhile, or the store had it. */
    _cleanup_free_ char *have = image_store_blob(store, digest);
    if (have && link(have, dst) == 0)
        return 0;
    return error_set(err, errno, "blob '%s'", digest);
}

/*
 * Removes the layout directories of pulls that died (SIGKILL, a crash): not
 * flock()ed by a live pull, and older than STALE_LAYOUT_SECONDS so that one
 * just made and not yet locked is never taken.
 */
#define STALE_LAYOUT_SECONDS 600
static void sweep_stale_layouts(const char *images_dir)
{
    _cleanup_closedir_ DIR *d = opendir(images_dir);
    struct dirent *de;
    time_t now = time(NULL);
    while (d && (de = readdir(d))) {
        if (strncmp(de->d_name, "pull-", 5))
            continue;
        _cleanup_free_ char *p = xasprintf("%s/%s", images_dir, de->d_name);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || now - st.st_mtime < STALE_LAYOUT_SECONDS ||
            flock(fd, LOCK_EX | LOCK_NB) < 0)
            continue;
        struct error *ignored = NULL;
        rm_rf(p, &ignored);
        error_free(&ignored);
    }
}

static int pull_from(struct image_store *store, struct registry_client *c, const char *repo,
                     const struct image_ref *ref, const char *local_name,
                     const struct pull_options *o, char **ret_id, struct error **err)
{
    struct fetched top = {0}, plat = {0};
    int r =
        fetch_manifest(c, repo, ref->digest ? ref->digest : ref->tag, ref->digest, -1, &top, err);
    struct fetched *m = &top;
    if (r == 0 && is_index(top.media_type)) {
        const char *os, *arch, *variant;
        pull_host_platform(&os, &arch, &variant);
        _cleanup_free_ char *want = o->platform ? strdup(o->platform) : NULL;
        if (want) {
            char *save = NULL;
            os = strtok_r(want, "/", &save);
            arch = strtok_r(NULL, "/", &save);
            variant = strtok_r(NULL, "/", &save);
            if (!os || !arch || strtok_r(NULL, "/", &save))
                r = error_set_plain(err, EINVAL, "invalid platform '%s': use OS/ARCH[/VARIANT]",
                                    o->platform);
        }
        const cJSON *d = NULL;
        if (r == 0)
            r = pick_platform(top.json, os, arch, variant, &d, err);
        const char *digest, *mt;
        long long size;
        if (r == 0 && !descriptor(d, &digest, &size, &mt))
            r = error_set_plain(err, EPROTO, "index: invalid manifest descriptor");
        if (r == 0)
            r = fetch_manifest(c, repo, digest, digest, size, &plat, err);
        if (r == 0 && !is_manifest(plat.media_type))
            r = error_set_plain(err, EPROTO, "manifest '%s': an index inside an index", digest);
        m = &plat;
    }
    if (r < 0) {
        fetched_clear(&top);
        fetched_clear(&plat);
        return r;
    }
    /* The blobs: the config, then the layers. */
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(m->json, "schemaVersion");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(m->json, "config");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m->json, "layers");
    int n_layers = cJSON_IsArray(layers) ? cJSON_GetArraySize(layers) : -1;
    size_t n = 0;
    _cleanup_free_ struct pull_blob *pb = NULL;
    const char *cmt = NULL;
    if (!cJSON_IsNumber(sv) || sv->valuedouble != 2 || n_layers < 0 || n_layers > 1000)
        r = error_set_plain(err, EPROTO, "manifest '%s': malformed (schemaVersion, layers)",
                            m->digest);
    if (r == 0 && !(pb = calloc((size_t)n_layers + 1, sizeof(*pb))))
        r = error_set(err, ENOMEM, "pull");
    if (r == 0 && (!descriptor(cfg, &pb[0].digest, &pb[0].size, &cmt) || !cmt ||
                   (strcmp(cmt, MT_OCI_CONFIG) && strcmp(cmt, MT_DOCKER_CONFIG))))
        r = error_set_plain(err, EPROTO, "manifest '%s': invalid or unsupported config", m->digest);
    n = 1;
    for (int i = 0; r == 0 && i < n_layers; i++) {
        const char *lmt = NULL;
        if (!descriptor(cJSON_GetArrayItem(layers, i), &pb[n].digest, &pb[n].size, &lmt))
            r = error_set_plain(err, EPROTO, "manifest '%s': layer %d: invalid descriptor",
                                m->digest, i);
        else if (!image_layer_media_type_ok(lmt))
            r = error_set_plain(err, EPROTO, "manifest '%s': unsupported layer media type '%.100s'",
                                m->digest, lmt ? lmt : "(none)");
        else
            n++;
    }
    const char *images_dir = image_store_dir(store);
    _cleanup_free_ char *downloads = xasprintf("%s/downloads", images_dir);
    _cleanup_free_ char *layout = xasprintf("%s/pull-XXXXXX", images_dir);
    bool have_layout = false;
    _cleanup_free_ struct registry_blob *rb = NULL;
    _cleanup_free_ bool *present = NULL;
    size_t n_rb = 0;
    if (r == 0 && mkdir(downloads, 0700) < 0 && errno != EEXIST)
        r = error_set(err, errno, "mkdir '%s'", downloads);
    if (r == 0)
        sweep_stale_layouts(images_dir);
    _cleanup_close_ int layout_fd = -1;
    if (r == 0) {
        if (!mkdtemp(layout)) {
            r = error_set(err, errno, "mkdtemp '%s'", layout);
        } else {
            have_layout = true;
            /* Held while we live: a sweeper leaves a locked layout alone. */
            layout_fd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (layout_fd < 0 || flock(layout_fd, LOCK_EX | LOCK_NB) < 0)
                r = error_set(err, errno, "lock '%s'", layout);
        }
    }
    if (r == 0) {
        _cleanup_free_ char *bdir = xasprintf("%s/blobs/sha256", layout);
        r = mkdir_p(bdir, 0700, err);
    }
    if (r == 0 && (!(rb = calloc(n, sizeof(*rb))) || !(present = calloc(n, sizeof(*present)))))
        r = error_set(err, ENOMEM, "pull");
    char **dests = NULL, **alsos = NULL;
    if (r == 0 && (!(dests = calloc(n, sizeof(*dests))) || !(alsos = calloc(n, sizeof(*alsos)))))
        r = error_set(err, ENOMEM, "pull");
    for (size_t i = 0; r == 0 && i < n; i++) {
        bool dup = false;
        for (size_t k = 0; k < n_rb; k++)
            dup |= !strcmp(rb[k].digest, pb[i].digest);
        if (dup)
            continue;
        _cleanup_free_ char *have = image_store_blob(store, pb[i].digest);
        dests[n_rb] = xasprintf("%s/%s", downloads, pb[i].digest + 7);
        alsos[n_rb] = xasprintf("%s/blobs/sha256/%s", images_dir, pb[i].digest + 7);
        rb[n_rb] = (struct registry_blob){
            .digest = pb[i].digest, .size = pb[i].size, .dest = dests[n_rb], .also = alsos[n_rb]};
        present[n_rb] = have != NULL;
        if (have) {
            rb[n_rb].done = pb[i].size;
            rb[n_rb].finished = 1;
        }
        n_rb++;
    }
    /* Download only what the store lacks. */
    _cleanup_free_ struct registry_blob *want = r == 0 ? calloc(n_rb + 1, sizeof(*want)) : NULL;
    size_t n_want = 0;
    if (r == 0 && !want)
        r = error_set(err, ENOMEM, "pull");
    for (size_t i = 0; r == 0 && i < n_rb; i++)
        if (!present[i])
            want[n_want++] = rb[i];
    struct progress prog = {.out = o->progress,
                            .start_ms = monotonic_ms(),
                            .all = rb,
                            .present = present,
                            .n_all = n_rb};
    if (r == 0)
        r = registry_fetch_blobs(c, repo, want, n_want, o->progress ? on_progress : NULL, &prog,
                                 err);
    for (size_t i = 0; r == 0 && i < n_rb; i++)
        r = link_blob(store, downloads, layout, rb[i].digest, err);
    /* The manifest, and an index naming it. */
    if (r == 0) {
        _cleanup_free_ char *mpath = xasprintf("%s/blobs/sha256/%s", layout, m->digest + 7);
        r = write_file_atomic(mpath, m->resp.body, m->resp.body_len, 0600, err);
    }
    if (r == 0) {
        _cleanup_free_ char *oci = xasprintf("%s/oci-layout", layout);
        const char *text = "{\"imageLayoutVersion\":\"1.0.0\"}";
        r = write_file_atomic(oci, text, strlen(text), 0600, err);
    }
    if (r == 0) {
        _cleanup_json_ cJSON *index = cJSON_CreateObject();
        cJSON *ms = cJSON_AddArrayToObject(index, "manifests");
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToArray(ms, d);
        cJSON_AddNumberToObject(index, "schemaVersion", 2);
        cJSON_AddStringToObject(d, "mediaType", m->media_type);
        cJSON_AddStringToObject(d, "digest", m->digest);
        cJSON_AddNumberToObject(d, "size", (double)m->resp.body_len);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "annotations"),
                                "org.opencontainers.image.ref.name", local_name);
        _cleanup_free_ char *text = cJSON_PrintUnformatted(index);
        _cleanup_free_ char *ipath = xasprintf("%s/index.json", layout);
        r = text ? write_file_atomic(ipath, text, strlen(text), 0600, err)
                 : error_set(err, ENOMEM, "pull");
    }
    /* What the downloads verified is not read again by the store. */
    _cleanup_free_ struct image_verified_blob *verified =
        r == 0 ? calloc(n_want + 1, sizeof(*verified)) : NULL;
    size_t n_verified = 0;
    if (r == 0 && !verified)
        r = error_set(err, ENOMEM, "pull");
    for (size_t i = 0; r == 0 && i < n_want; i++)
        if (want[i].fetched)
            verified[n_verified++] =
                (struct image_verified_blob){.digest = want[i].digest, .size = want[i].size};
    _cleanup_strv_ char **names = NULL;
    if (r == 0)
        r = image_store_load_owned(store, layout, verified, n_verified, &names, err);
    if (r == 0 && !(*ret_id = strdup(pb[0].digest)))
        r = error_set(err, ENOMEM, "pull");
    if (r == 0 && o->progress) {
        long long bytes = 0;
        for (size_t i = 0; i < n_want; i++)
            bytes += want[i].size;
        char b[32];
        format_bytes((double)bytes, b, sizeof(b));
        fprintf(o->progress, "Pulled %s: %zu of %zu blobs downloaded (%s) in %.1fs\nDigest: %s\n",
                local_name, n_want, n_rb, b, (double)(monotonic_ms() - prog.start_ms) / 1000.0,
                top.digest);
    }
    /* Success or failure: no temporary file stays. */
    if (have_layout) {
        struct error *ignored = NULL;
        rm_rf(layout, &ignored);
        error_free(&ignored);
    }
    for (size_t i = 0; dests && i < n_rb; i++) {
        if (!present[i]) {
            unlink(dests[i]);
            _cleanup_free_ char *lock = xasprintf("%s.lock", dests[i]);
            unlink(lock);
        }
        free(dests[i]);
        free(alsos[i]);
    }
    free(dests);
    free(alsos);
    fetched_clear(&top);
    fetched_clear(&plat);
    return r;
}
