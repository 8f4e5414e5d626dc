/*
 * Registry credentials in a docker-compatible auth file:
 *   {"auths": {"HOST[:PORT]": {"auth": "base64(user:password)"}}}
 * Written atomically, mode 0600, other keys kept. The file is chosen as
 * podman does: --authfile, else $REGISTRY_AUTH_FILE, else
 * ${XDG_CONFIG_HOME:-$HOME/.config}/berth/auth.json.
 */
#ifndef BERTH_AUTH_FILE_H
#define BERTH_AUTH_FILE_H

#include <stddef.h>

#include "util/error.h"

/* The auth file to use; FLAG is --authfile or NULL. Caller frees. */
char *auth_file_path(const char *flag);
/* The credentials for REGISTRY, or *RET_USER = *RET_PASSWORD = NULL when none
 * (a missing file is no credentials). Caller frees (and should wipe). */
int auth_file_get(const char *path, const char *registry, char **ret_user, char **ret_password,
                  struct error **err);
int auth_file_set(const char *path, const char *registry, const char *user, const char *password,
                  struct error **err);
/* Removes REGISTRY's entry; -ENOENT (with an error) when there is none. */
int auth_file_remove(const char *path, const char *registry, struct error **err);

/* Base64 (RFC 4648, padded). Encode never fails but on ENOMEM (NULL);
 * decode returns NULL for invalid input. The result is NUL-terminated. */
char *base64_encode(const void *data, size_t len);
char *base64_decode(const char *text, size_t *ret_len);

#endif
