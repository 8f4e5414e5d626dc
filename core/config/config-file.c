#include "config/config-file.h"

#include <errno.h>
#include <stdlib.h>

#include "registry/registry-config.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

int config_load(const char *path, cJSON **ret, struct error **err)
{
    const char *file = path ? path : DEFAULT_CONFIG_PATH;
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
    cJSON *config = cJSON_Parse(text);
    if (!cJSON_IsObject(config)) {
        cJSON_Delete(config);
        return error_set_plain(err, EINVAL, "'%s': not a JSON object", file);
    }
    const cJSON *parent = cJSON_GetObjectItemCaseSensitive(config, "cgroup_parent");
    if (parent && !cJSON_IsString(parent)) {
        cJSON_Delete(config);
        return error_set_plain(err, EINVAL, "'%s': \"cgroup_parent\" must be a string", file);
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
