/*
 * What the image store's three files share (image-store.c: the store, its
 * index and reads; image-store-write.c: staging blobs and committing them;
 * image-load.c: import and load). Not for use outside core/image.
 */
#ifndef BERTH_IMAGE_STORE_INTERNAL_H
#define BERTH_IMAGE_STORE_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "image/image-store.h"
#include "util/error.h"
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

struct image_store {
    char *dir;       /* absolute ROOT/images */
    char *blobs_dir; /* DIR/blobs/sha256 */
    char *index_path;
    char *lock_path;
    char *tmp_dir;
    FILE *progress; /* load's progress lines, or NULL */
};

static inline const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static inline bool json_size(const cJSON *desc, long long *ret)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(desc, "size");
    if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 9007199254740992.0 ||
        it->valuedouble != (double)(long long)it->valuedouble)
        return false;
    *ret = (long long)it->valuedouble;
    return true;
}

/* ROOT/images/blobs/sha256/HEX of DIGEST ("sha256:HEX"); the caller frees it. */
char *store_blob_path(const struct image_store *s, const char *digest);
/* This machine's architecture as OCI names it ("amd64", "arm64", …). */
const char *store_host_arch(void);
cJSON *store_descriptor_new(const char *media_type, const char *digest, long long size);
/* The name annotation of an index descriptor, or NULL. */
const char *store_descriptor_name(const cJSON *desc);
int store_read_json_file(const char *path, cJSON **ret, struct error **err);
int store_read_index(struct image_store *s, cJSON **ret, struct error **err);
int store_write_index(struct image_store *s, cJSON *index, struct error **err);
/* Readers take the lock too: a manifest may not vanish between index and blob. */
int store_lock(struct image_store *s, struct error **err);
/* Takes the store lock and reads the index under it: the lock's descriptor
 * (closing it releases the lock) and *RET_INDEX, or a negative errno. */
int store_lock_index(struct image_store *s, cJSON **ret_index, struct error **err);

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

/* A manifest to add to the index on commit, with its name (or none). */
struct new_ref {
    char digest[DIGEST_STR_LEN + 1];
    long long size;
    char *name;
};

/* Makes OP's private directory under tmp/ (flocked), sweeping what crashed
 * writers left there first. */
int op_begin(struct image_store *s, struct op *op, struct error **err);
/* Removes OP's directory and whatever is still staged in it. */
void op_end(struct op *op);
const struct staged *op_find_blob(const struct op *op, const char *digest);
/* Records PATH (taken over) as the staged blob DIGEST of SIZE bytes. */
int op_add_blob(struct op *op, const char *digest, char *path, long long size);
/* Notes what was learnt of staged layer DIGEST's diff_id (see struct staged). */
void op_note_layer(struct op *op, const char *digest, const char *diff_id);
/*
 * Copies SRC into the operation directory (or, when MOVE, hashes it in
 * place, as it is already ours), computing its digest and size. SRC must be
 * a regular file; MOVE sources are opened without following a symlink.
 */
int op_stage_file(struct op *op, const char *src, bool move, char *ret_digest, long long *ret_size,
                  char **ret_path, struct error **err);
/*
 * Stages SRC as the blob EXPECTED (with size EXPECTED_SIZE unless < 0),
 * verified: hashed here, or, when VERIFIED_SIZE >= 0 and SRC is the
 * caller's own (MOVE), by the caller as it wrote the file.
 */
int op_stage_blob(struct op *op, const char *src, bool move, long long verified_size,
                  const char *expected, long long expected_size, const char **ret_path,
                  struct error **err);
/* Stages an in-memory JSON document as a blob; returns its digest and size. */
int op_stage_text(struct op *op, const char *text, char *ret_digest, long long *ret_size,
                  struct error **err);
/* Under the lock: blobs into place, then the index; undone on failure. */
int op_commit(struct image_store *s, struct op *op, const struct new_ref *refs, size_t n_refs,
              struct error **err);

#endif
