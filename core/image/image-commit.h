/*
 * Commit: a new image made of an existing image and one more layer, the
 * uncompressed layer tar a storage driver wrote for a container. The layer
 * is stored gzip-compressed (its digest is the compressed blob's, its
 * diff_id the tar's); the config is the parent's with the diff_id and a
 * history entry appended. The image goes into the store through the same
 * verified, atomic path as `image load` of an OCI layout: a failure leaves
 * no blob and no name.
 */
#ifndef BERTH_IMAGE_COMMIT_H
#define BERTH_IMAGE_COMMIT_H

#include "image/image-store.h"
#include "util/error.h"

/* A private directory under ROOT/images/tmp for one commit, flocked so that
 * the store's sweep of crashed writers leaves it alone while it lives. */
struct commit_dir {
    char *path;
    int fd;
};
int commit_dir_new(const char *root, struct commit_dir *ret, struct error **err);
/* Removes the directory; accepts a zeroed or half-made one. */
void commit_dir_end(struct commit_dir *d);

struct image_commit {
    const struct image *parent;
    const char *layer_tar;  /* the uncompressed layer, in the commit dir */
    const char *ref;        /* NAME[:TAG] */
    const char *message;    /* history comment, may be NULL */
    const char *author;     /* may be NULL */
    const char *created_by; /* history created_by, e.g. "berth commit web" */
};

/*
 * Makes and stores the image, named REF; DIR is the commit's directory.
 * Stores the new image id (config digest) in *RET_ID and the layer's
 * diff_id in RET_DIFF_ID (DIGEST_STR_LEN+1 bytes) if not NULL.
 */
int image_commit(struct image_store *store, const struct commit_dir *dir,
                 const struct image_commit *c, char **ret_id, char *ret_diff_id,
                 struct error **err);

/* Pure check (for callers that validate before any work): 0 if REF is a
 * name[:tag] a commit can take, -EINVAL otherwise. */
int image_commit_check_ref(const char *ref);

#endif
