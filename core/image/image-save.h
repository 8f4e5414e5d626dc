/*
 * `save`: images of the store as one archive, streamed to a descriptor
 * (a blob is read in blocks, never held whole).
 */
#ifndef BERTH_IMAGE_SAVE_H
#define BERTH_IMAGE_SAVE_H

#include <stddef.h>

#include "image/image-store.h"
#include "util/error.h"

enum image_save_format {
    /* docker 25's layout: an OCI layout plus manifest.json and repositories,
     * whose paths point into blobs/sha256/. */
    IMAGE_SAVE_DOCKER_ARCHIVE,
    IMAGE_SAVE_OCI_ARCHIVE,
};

/*
 * Writes the images REFS[0..N) as a tar to OUT_FD. A ref given by name
 * carries that name; one given by id carries all the image's names.
 */
int image_store_save(struct image_store *store, char *const *refs, size_t n,
                     enum image_save_format format, int out_fd, struct error **err);

#endif
