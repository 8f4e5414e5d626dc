/*
 * berth's configuration file: a JSON object. Today it holds "cgroup_parent";
 * plugin settings and defaults are to come (issue 8).
 */
#ifndef BERTH_CONFIG_FILE_H
#define BERTH_CONFIG_FILE_H

#include <cjson/cJSON.h>

#include "util/error.h"

#define DEFAULT_CONFIG_PATH "/etc/berth/berth.json"

/*
 * Loads PATH, or DEFAULT_CONFIG_PATH when PATH is NULL (a missing default
 * file is an empty configuration; a missing PATH is an error). A file that
 * is not a JSON object, or a known key of the wrong type, is an error.
 */
int config_load(const char *path, cJSON **ret, struct error **err);
/* The string value of KEY, or NULL. */
const char *config_string(const cJSON *config, const char *key);

#endif
