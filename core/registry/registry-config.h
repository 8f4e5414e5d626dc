/*
 * The "registries" object of berth's configuration file:
 *
 *   "registries": {
 *     "default": "docker.io",                  where short names are pulled from
 *     "mirrors": {"docker.io": ["mirror.example:5000"]},   tried in order, first
 *     "insecure": ["build.local:5000"]         plain http / unverified TLS allowed
 *   }
 *
 * Registries on 127.0.0.0/8, ::1 or localhost are insecure by default, as
 * with docker's built-in insecure-registries 127.0.0.0/8.
 */
#ifndef BERTH_REGISTRY_CONFIG_H
#define BERTH_REGISTRY_CONFIG_H

#include <cjson/cJSON.h>

#include "util/error.h"

/* Validates REGISTRIES (the object, or NULL). */
int registry_config_check(const cJSON *registries, struct error **err);
/* The default registry for short names ("docker.io" unless configured). */
const char *registry_config_default(const cJSON *registries);
/* Mirrors of DOMAIN, a NULL-terminated array of borrowed strings (caller frees the array). */
const char **registry_config_mirrors(const cJSON *registries, const char *domain);
/* 1 if HOST may be reached over plain http or unverified TLS. */
int registry_config_insecure(const cJSON *registries, const char *host);
/* The API endpoint of DOMAIN: docker.io is served by registry-1.docker.io. */
const char *registry_endpoint(const char *domain);

#endif
