/*
 * berth pull: resolves a reference on its registry (mirrors first), picks
 * the platform's manifest from an index, downloads the blobs the store
 * lacks (registry-client.c: parallel, verified, resumable), and registers
 * the image in the store under its familiar name (image/image-ref.h).
 *
 * Temporary files live in ROOT/images/downloads (verified blobs, per-blob
 * locks, partials) and ROOT/images/pull-XXXXXX (the OCI layout handed to
 * image_store_load_owned); both go away on success and on failure.
 */
#ifndef BERTH_IMAGE_PULL_H
#define BERTH_IMAGE_PULL_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "image/image-store.h"
#include "util/error.h"

struct pull_options {
    const cJSON *registries; /* the config file's "registries", or NULL */
    const char *authfile;    /* --authfile, or NULL (auth-file.h) */
    const char *platform;    /* "os/arch[/variant]", or NULL for this host's */
    int tls_verify;          /* 1 default; 0: --tls-verify=false */
    FILE *progress;          /* per-layer progress lines, or NULL */
};

/* Pulls REF; stores the image id in *RET_ID and its local name in *RET_NAME. */
int image_pull(struct image_store *store, const char *ref, const struct pull_options *o,
               char **ret_id, char **ret_name, struct error **err);

/* This host's platform as OCI names it: "linux", "amd64", variant or NULL. */
void pull_host_platform(const char **ret_os, const char **ret_arch, const char **ret_variant);

#endif
