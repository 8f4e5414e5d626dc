#include "config/config-file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry-config.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

const char *config_file_path(const char *path)
{
    return path ? path : DEFAULT_CONFIG_PATH;
}

/* Top-level keys whose type the core checks before any command runs. */
static int check_types(const cJSON *config, const char *file, struct error **err)
{
    static const char *const strings[] = {"cgroup_parent", "storage_driver", "default_network",
                                          "userns_user"};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, strings[i]);
        if (v && !cJSON_IsString(v))
            return error_set_plain(err, EINVAL, "'%s': \"%s\" must be a string", file, strings[i]);
        if (v && !*v->valuestring)
            return error_set_plain(err, EINVAL, "'%s': \"%s\" must not be empty", file, strings[i]);
    }
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(config, "plugins");
    if (plugins && !cJSON_IsObject(plugins))
        return error_set_plain(
            err, EINVAL, "'%s': \"plugins\" must be an object of plugin names to settings", file);
    return 0;
}

int config_load(const char *path, cJSON **ret, struct error **err)
{
    const char *file = config_file_path(path);
    _cleanup_free_ char *text = NULL;
    struct error *local = NULL;
    int r = read_file(file, &text, NULL, &local);
    if (r < 0) {
        if (r == -ENOENT && !path) {
            error_free(&local);
            *ret = cJSON_CreateObject();
            return 0;
        }
        *err = local;
        return r;
    }
    const char *end = NULL;
    cJSON *config = cJSON_ParseWithOpts(text, &end, 1);
    if (!config) {
        /* cJSON points at where parsing stopped: give the line. */
        int line = 1;
        for (const char *c = text; end && c < end && *c; c++)
            line += *c == '\n';
        return error_set_plain(err, EINVAL, "'%s': not valid JSON (line %d)", file, line);
    }
    if (!cJSON_IsObject(config)) {
        cJSON_Delete(config);
        return error_set_plain(err, EINVAL, "'%s': not a JSON object", file);
    }
    r = check_types(config, file, err);
    if (r < 0) {
        cJSON_Delete(config);
        return r;
    }
    int rc = registry_config_check(cJSON_GetObjectItemCaseSensitive(config, "registries"), err);
    if (rc < 0) {
        cJSON_Delete(config);
        return error_prefix(err, "'%s'", file);
    }
    *ret = config;
    return 0;
}

const char *config_string(const cJSON *config, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(config, key));
}

int config_save(const char *file, const cJSON *config, struct error **err)
{
    _cleanup_free_ char *dir = strdup(file);
    if (!dir)
        return error_set(err, ENOMEM, "write '%s'", file);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int r = mkdir_p(dir, 0755, err);
        if (r < 0)
            return r;
    }
    _cleanup_free_ char *text = cJSON_Print(config);
    if (!text)
        return error_set(err, ENOMEM, "write '%s'", file);
    size_t len = strlen(text);
    text[len] = '\n';
    int r = write_file_atomic(file, text, len + 1, 0644, err);
    text[len] = '\0';
    if (r < 0)
        return r;
    fsync_parent(file);
    return 0;
}
