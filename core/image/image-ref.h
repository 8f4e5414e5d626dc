/*
 * Image references, parsed as docker parses them:
 *
 *   [DOMAIN/]PATH[:TAG][@DIGEST]
 *
 * The first component is a DOMAIN when it holds a '.', a ':' or is
 * "localhost" (and more components follow); otherwise the reference is
 * short and lives on the default registry ("docker.io", where a one
 * component PATH gets "library/"). PATH components are lowercase alnum runs
 * joined by '.', '_', '__' or '-'; a TAG is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
 * the whole name is at most 255 characters.
 *
 * Names in the local store are the *familiar* form, as docker shows them:
 * "docker.io/library/busybox:latest" is stored and listed as
 * "busybox:latest", "docker.io/u/app:1" as "u/app:1", and an image of any
 * other registry keeps its domain ("127.0.0.1:5000/test/busybox:latest").
 * So images imported or loaded under a short name, and images pulled from
 * Docker Hub, share one namespace, as with docker.
 */
#ifndef BERTH_IMAGE_REF_H
#define BERTH_IMAGE_REF_H

#include "util/error.h"

#define IMAGE_REF_DEFAULT_DOMAIN "docker.io"
#define IMAGE_REF_NAME_MAX 255

struct image_ref {
    char *domain;  /* "docker.io", "127.0.0.1:5000", … */
    char *path;    /* repository path on DOMAIN: "library/busybox" */
    char *tag;     /* NULL when only a digest is given; else "latest" if none */
    char *digest;  /* "sha256:…" or NULL */
    int qualified; /* the reference named its domain (else a short name) */
};

/* Parses S into *RET (caller frees with image_ref_clear). Short names get
 * IMAGE_REF_DEFAULT_DOMAIN; a missing tag becomes "latest" unless a digest
 * is given. */
int image_ref_parse(const char *s, struct image_ref *ret, struct error **err);
void image_ref_clear(struct image_ref *ref);
/* The familiar name of REF (see above): "busybox:latest", "u/app@sha256:…". */
char *image_ref_familiar(const struct image_ref *ref);
/* The repository without tag or digest, familiar form: "busybox". */
char *image_ref_familiar_repo(const struct image_ref *ref);

/*
 * Normalizes a user reference to the store's familiar name:
 * "busybox" → "busybox:latest", "docker.io/library/busybox" → "busybox:latest";
 * a name with a tag or a digest keeps them. Returns NULL for an invalid
 * reference.
 */
char *image_ref_normalize(const char *ref);

#endif
