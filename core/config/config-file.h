/*
 * berth's configuration file: a JSON object (docs/configuration.md).
 * Known keys: "cgroup_parent", "storage_driver", "default_network", "userns_user" (strings)
 * and "plugins" (an object of per-plugin settings, read by
 * plugin/plugin-settings.c). Other helpers read their own keys.
 */
#ifndef BERTH_CONFIG_FILE_H
#define BERTH_CONFIG_FILE_H

#include <cjson/cJSON.h>

#include "util/error.h"

#define DEFAULT_CONFIG_PATH "/etc/berth/berth.json"

/*
 * Loads PATH, or DEFAULT_CONFIG_PATH when PATH is NULL (a missing default
 * file is an empty configuration; a missing PATH is an error). A file that
 * is not a JSON object, or a known top-level key of the wrong type, is an
 * error naming the file and the key: the command cannot know what was meant.
 */
int config_load(const char *path, cJSON **ret, struct error **err);
/* The string value of KEY, or NULL. */
const char *config_string(const cJSON *config, const char *key);
/* The file config_load reads for PATH. */
const char *config_file_path(const char *path);

/*
 * Writes CONFIG to FILE atomically (temp file in the same directory, fsync,
 * rename, fsync of the directory), making the directory if missing.
 */
int config_save(const char *file, const cJSON *config, struct error **err);

#endif
