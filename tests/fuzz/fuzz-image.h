/*
 * The harness the image targets share: each input becomes one blob of an OCI
 * image layout under the process's /tmp directory, next to fixed blobs (a
 * one-file layer, its config, a manifest and a nested index), and the layout
 * is loaded into a fresh image store, listed and resolved. The input may name
 * the fixed blobs with placeholders, replaced before it is written:
 *   @LAYER@ @CONFIG@ @MANIFEST@ @NESTED@      their digests
 *   @LAYER_SIZE@ @CONFIG_SIZE@ @MANIFEST_SIZE@ @NESTED_SIZE@  their sizes
 * so that seeds stay readable and the mutator can still change every byte.
 */
#ifndef BERTH_FUZZ_IMAGE_H
#define BERTH_FUZZ_IMAGE_H

#include "fuzz-util.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "image/image-store.h"
#include "util/sha256.h"

/* The store fsyncs every blob; a fuzzing run needs no durability and the
 * disk would bound the exec rate. Interposes libc's fsync in this binary. */
int fsync(int fd)
{
    (void)fd;
    return 0;
}

enum fuzz_blob { BLOB_LAYER, BLOB_CONFIG, BLOB_MANIFEST, BLOB_NESTED, N_BLOBS };

struct fuzz_layout {
    char *dir; /* the layout directory */
    char digest[N_BLOBS][DIGEST_STR_LEN + 1];
    char size[N_BLOBS][24];
};

static struct fuzz_layout fuzz_layout;

/* A ustar archive holding the regular file "hello" ("hi\n"). */
static size_t fuzz_make_tar(uint8_t tar[3 * 512 + 1024])
{
    memset(tar, 0, 3 * 512 + 1024);
    char *h = (char *)tar;
    strcpy(h, "hello");
    strcpy(h + 100, "0000644");
    strcpy(h + 108, "0000000");
    strcpy(h + 116, "0000000");
    strcpy(h + 124, "00000000003");
    strcpy(h + 136, "00000000000");
    h[156] = '0';
    memcpy(h + 257,
           "ustar\0"
           "00",
           8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (uint8_t)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    memcpy(tar + 512, "hi\n", 3);
    return 2 * 512 + 1024;
}

static void fuzz_put_blob(enum fuzz_blob b, const void *data, size_t size)
{
    sha256_buffer(data, size, fuzz_layout.digest[b]);
    snprintf(fuzz_layout.size[b], sizeof(fuzz_layout.size[b]), "%zu", size);
    _cleanup_free_ char *path =
        xasprintf("%s/blobs/sha256/%s", fuzz_layout.dir, fuzz_layout.digest[b] + 7);
    fuzz_write_file(path, data, size);
}

/* Replaces the placeholders of TEXT (a fresh string). */
static char *fuzz_expand(const char *text)
{
    static const char *const names[N_BLOBS] = {"LAYER", "CONFIG", "MANIFEST", "NESTED"};
    size_t cap = strlen(text) * 4 + 1, n = 0;
    char *out = malloc(cap);
    FUZZ_ASSERT(out);
    for (const char *p = text; *p;) {
        const char *val = NULL;
        size_t skip = 0;
        if (*p == '@') {
            for (int b = 0; b < N_BLOBS && !val; b++) {
                char key[32];
                int kl = snprintf(key, sizeof(key), "@%s@", names[b]);
                if (!strncmp(p, key, (size_t)kl)) {
                    val = fuzz_layout.digest[b];
                    skip = (size_t)kl;
                    break;
                }
                kl = snprintf(key, sizeof(key), "@%s_SIZE@", names[b]);
                if (!strncmp(p, key, (size_t)kl)) {
                    val = fuzz_layout.size[b];
                    skip = (size_t)kl;
                }
            }
        }
        size_t vl = val ? strlen(val) : 1;
        if (n + vl + 1 > cap) {
            cap = (n + vl + 1) * 2;
            char *grown = realloc(out, cap);
            FUZZ_ASSERT(grown);
            out = grown;
        }
        if (val) {
            memcpy(out + n, val, vl);
            p += skip;
        } else {
            out[n] = *p++;
        }
        n += vl;
    }
    out[n] = '\0';
    return out;
}

static void fuzz_layout_init(void)
{
    if (fuzz_layout.dir)
        return;
    fuzz_layout.dir = xasprintf("%s/layout", fuzz_dir());
    _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", fuzz_layout.dir);
    struct error *err = NULL;
    FUZZ_ASSERT(mkdir_p(blobs, 0700, &err) == 0);
    _cleanup_free_ char *marker = xasprintf("%s/oci-layout", fuzz_layout.dir);
    static const char layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    fuzz_write_file(marker, layout_text, sizeof(layout_text) - 1);

    uint8_t tar[3 * 512 + 1024];
    fuzz_put_blob(BLOB_LAYER, tar, fuzz_make_tar(tar));
    _cleanup_free_ char *config = fuzz_expand(
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
        "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\"},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"@LAYER@\"]}}");
    fuzz_put_blob(BLOB_CONFIG, config, strlen(config));
    _cleanup_free_ char *manifest = fuzz_expand(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
        "\"digest\":\"@CONFIG@\",\"size\":@CONFIG_SIZE@},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
        "\"digest\":\"@LAYER@\",\"size\":@LAYER_SIZE@}]}");
    fuzz_put_blob(BLOB_MANIFEST, manifest, strlen(manifest));
    _cleanup_free_ char *nested = fuzz_expand(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"digest\":\"@MANIFEST@\",\"size\":@MANIFEST_SIZE@,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}");
    fuzz_put_blob(BLOB_NESTED, nested, strlen(nested));
}

/* Writes TEXT as a blob of the layout (its digest into RET_DIGEST). */
static inline void fuzz_layout_add(const char *text, char ret_digest[DIGEST_STR_LEN + 1])
{
    sha256_buffer(text, strlen(text), ret_digest);
    _cleanup_free_ char *path = xasprintf("%s/blobs/sha256/%s", fuzz_layout.dir, ret_digest + 7);
    fuzz_write_file(path, text, strlen(text));
}

static inline void fuzz_layout_remove(const char *digest)
{
    _cleanup_free_ char *path = xasprintf("%s/blobs/sha256/%s", fuzz_layout.dir, digest + 7);
    if (strcmp(digest, fuzz_layout.digest[BLOB_LAYER]) &&
        strcmp(digest, fuzz_layout.digest[BLOB_CONFIG]) &&
        strcmp(digest, fuzz_layout.digest[BLOB_MANIFEST]) &&
        strcmp(digest, fuzz_layout.digest[BLOB_NESTED]))
        (void)unlink(path);
}

/* Empties the store between inputs (cheaper than making a new one): no
 * blob, an empty index. Whatever a load left is removed, so every input
 * starts from the same state. */
static void fuzz_store_reset(const char *root)
{
    _cleanup_free_ char *blobs = xasprintf("%s/images/blobs/sha256", root);
    _cleanup_free_ char *index = xasprintf("%s/images/index.json", root);
    DIR *d = opendir(blobs);
    FUZZ_ASSERT(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            FUZZ_ASSERT(unlinkat(dirfd(d), de->d_name, 0) == 0);
    closedir(d);
    static const char empty[] = "{\"schemaVersion\":2,\"mediaType\":"
                                "\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}";
    fuzz_write_file(index, empty, sizeof(empty) - 1);
}

/* Loads the layout with INDEX_TEXT as its index.json into the store, then
 * reads back every image the load reported. */
static void fuzz_layout_load(const char *index_text)
{
    static struct image_store *store;
    static char *root;
    struct error *err = NULL;
    if (!store) {
        root = xasprintf("%s/store", fuzz_dir());
        FUZZ_ASSERT(image_store_open(root, &store, &err) == 0);
    }
    _cleanup_free_ char *index_path = xasprintf("%s/index.json", fuzz_layout.dir);
    fuzz_write_file(index_path, index_text, strlen(index_text));
    char **names = NULL;
    if (image_store_load(store, fuzz_layout.dir, &names, &err) == 0) {
        for (char **n = names; *n; n++) {
            struct image *img = NULL;
            if (image_store_resolve(store, *n, &img, &err) == 0)
                image_free(img);
            error_free(&err);
        }
        struct image **imgs = NULL;
        size_t n_imgs = 0;
        if (image_store_list(store, &imgs, &n_imgs, &err) == 0)
            image_list_free(imgs, n_imgs);
        for (char **n = names; *n; n++)
            free(*n);
        free(names);
    } else if (getenv("BERTH_FUZZ_DEBUG")) {
        /* To check that a seed loads: run the target on it with this set. */
        fprintf(stderr, "fuzz: load: %s\n", err ? err->msg : "?");
    }
    error_free(&err);
    fuzz_store_reset(root);
}

#endif
