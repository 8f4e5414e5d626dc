/*
 * docker-archive, as `docker save` writes it: manifest.json lists each
 * image's config file, its RepoTags and its layer files (legacy
 * "ID/layer.tar", or "blobs/sha256/HEX" from docker 25, which also adds an
 * OCI layout beside it). Loading turns an extracted archive into an OCI
 * image layout in place, so that one loader verifies every format.
 */
#ifndef BERTH_DOCKER_ARCHIVE_H
#define BERTH_DOCKER_ARCHIVE_H

#include <stddef.h>

#include "util/error.h"

struct docker_archive_entry {
    char *config;     /* path of the config JSON inside the archive */
    char **repo_tags; /* NULL-terminated, may be empty */
    char **layers;    /* NULL-terminated paths inside the archive, bottom first */
    size_t n_layers;
};

/*
 * Parses manifest.json TEXT. Every path must be relative with no ".."
 * component and every tag a valid reference; an empty list is refused.
 * Caller frees *RET_ENTRIES with docker_archive_entries_free.
 */
int docker_archive_parse(const char *text, struct docker_archive_entry **ret_entries, size_t *ret_n,
                         struct error **err);
void docker_archive_entries_free(struct docker_archive_entry *entries, size_t n);

/* 1 if the extracted directory DIR holds a manifest.json. */
int docker_archive_detect(const char *dir);

/*
 * Rewrites the extracted docker archive in DIR (ours, private) into an OCI
 * image layout: blobs/sha256/ with the configs, layers and one OCI manifest
 * per image (docker 25's own manifest where its OCI layout has one for the
 * same config, so that its digest is kept), index.json naming each manifest
 * once per RepoTag, and oci-layout. Files are linked, never followed out of
 * DIR.
 */
int docker_archive_to_layout(const char *dir, struct error **err);

#endif
