/*
 * berth diff: a container's changes as docker diff lists them, from the
 * layer tar its storage driver makes (commit's) and the paths of its
 * image's layers: A (added), C (changed: the path was in the image) and D
 * (deleted: a whiteout).
 */
#ifndef BERTH_LAYER_CHANGES_H
#define BERTH_LAYER_CHANGES_H

#include <stddef.h>

#include "image/image-store.h"
#include "util/error.h"
#include "util/strset.h"

struct layer_change {
    char kind;  /* 'A', 'C' or 'D' */
    char *path; /* absolute: "/etc/motd" */
};

/* The paths ("etc/motd") that the layers of IMG, applied bottom first, hold. */
int image_paths_load(const struct image *img, struct strset *ret, struct error **err);

/* The changes the layer tar at TAR_PATH makes to an image of IMAGE_PATHS, in
 * the tar's order (free with layer_changes_free). */
int layer_changes(const char *tar_path, const struct strset *image_paths, struct layer_change **ret,
                  size_t *ret_n, struct error **err);
void layer_changes_free(struct layer_change *c, size_t n);

#endif
