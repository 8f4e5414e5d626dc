/*
 * The image store under ROOT/images: content-addressed blobs
 * (blobs/sha256/HEX, verified on the way in) and an OCI index (index.json)
 * that maps names to manifests. Safe against concurrent berth processes:
 * writers hold ROOT/images/lock.
 */
#ifndef BERTH_IMAGE_STORE_H
#define BERTH_IMAGE_STORE_H

#include <stddef.h>
#include <stdio.h>

#include "image/image-ref.h"
#include "util/error.h"

struct image_store;

struct image_layer {
    char *digest;     /* "sha256:…" of the blob as stored */
    char *diff_id;    /* "sha256:…" of the uncompressed tar */
    char *chain_id;   /* OCI chain id of this layer over its parents */
    char *media_type; /* the manifest's media type for the blob */
    char *blob_path;  /* absolute path of the blob file */
};

struct image {
    char *id; /* config digest "sha256:…" */
    char *manifest_digest;
    char **names; /* NULL-terminated, "name:tag", may be empty */
    size_t n_layers;
    struct image_layer *layers; /* bottom first */
    long long created;          /* unix seconds, 0 if unknown */
    long long size;             /* sum of blob sizes */
    /* From the image config (each may be NULL): */
    char **env;        /* NULL-terminated "K=V" */
    char **entrypoint; /* NULL-terminated */
    char **cmd;        /* NULL-terminated */
    char *working_dir;
    char *user;
    char *config_json; /* the whole config blob text */
};

int image_store_open(const char *root, struct image_store **ret, struct error **err);
void image_store_free(struct image_store *store);

/* Imports a root filesystem tarball (tar, tar.gz, tar.zst) as a one-layer
 * image named REF. Stores the id in *RET_ID (caller frees). */
int image_store_import(struct image_store *store, const char *tar_path, const char *ref,
                       char **ret_id, struct error **err);
/*
 * Loads an OCI image layout directory or an OCI archive (a tar of such a
 * directory). Every manifest of its index.json becomes an image, named by
 * its org.opencontainers.image.ref.name annotation. Stores the loaded names
 * (or ids where unnamed) in *RET_NAMES, NULL-terminated, caller frees.
 */
int image_store_load(struct image_store *store, const char *path, char ***ret_names,
                     struct error **err);
/* A blob the caller verified as it streamed in (a pull: registry-client.h). */
struct image_verified_blob {
    const char *digest; /* "sha256:…" of its content */
    long long size;     /* its size in bytes */
};
/*
 * Like image_store_load, for an OCI layout directory DIR inside the store's
 * directory that the caller owns: its blobs are verified in place and
 * renamed (not copied) into the store. For pulls (registry/image-pull.c).
 * A blob listed in VERIFIED (N_VERIFIED of them) is not read again: its
 * file must be a regular file of that size. A layer the store does not
 * know yet is stored without decompressing it: its diff_id is checked
 * before its first unpack (image/layer-check.h).
 */
int image_store_load_owned(struct image_store *store, const char *dir,
                           const struct image_verified_blob *verified, size_t n_verified,
                           char ***ret_names, struct error **err);
/* ROOT/images: where a pull keeps its temporary files (same file system). */
const char *image_store_dir(const struct image_store *store);
/* The path of blob DIGEST if the store has it, else NULL. Caller frees. */
char *image_store_blob(const struct image_store *store, const char *digest);
/* 1 if MT is a layer media type the store can unpack. */
int image_layer_media_type_ok(const char *mt);
/* Finds an image by name[:tag], full id, or unique id prefix (≥ 4 hex). */
int image_store_resolve(struct image_store *store, const char *ref, struct image **ret,
                        struct error **err);
/* All images, caller frees with image_list_free. */
int image_store_list(struct image_store *store, struct image ***ret, size_t *ret_n,
                     struct error **err);
/*
 * Removes REF: a name untags it (the image goes with its last name); an id
 * removes the image with all its names. Blobs no image references any more
 * are deleted. The layers (by chain id) no image uses any more are
 * returned in *RET_FREED, *RET_N_FREED of them (caller frees with
 * image_layers_free), so that storage drivers can drop them.
 */
int image_store_remove(struct image_store *store, const char *ref, struct image_layer **ret_freed,
                       size_t *ret_n_freed, struct error **err);
/* Every layer chain id any image references (for storage gc). */
int image_store_all_chain_ids(struct image_store *store, char ***ret_ids, size_t *ret_n,
                              struct error **err);

/* Where load writes a line per extracted archive and verified layer and a
 * summary (a terminal), or NULL (the default): silent. */
void image_store_set_progress(struct image_store *store, FILE *out);
/* Absolute path of the blob DIGEST in the store (it may not exist). */
char *image_store_blob_path(const struct image_store *store, const char *digest);
/*
 * Names the image SRC (name, id or id prefix) also TARGET, moving TARGET off
 * any other image (which stays, unnamed, if it has no other name).
 */
int image_store_tag(struct image_store *store, const char *src, const char *target,
                    struct error **err);

void image_free(struct image *img);
/* For _cleanup_(image_freep). */
static inline void image_freep(struct image **img)
{
    image_free(*img);
}
void image_list_free(struct image **imgs, size_t n);
void image_layers_free(struct image_layer *layers, size_t n);

#endif
