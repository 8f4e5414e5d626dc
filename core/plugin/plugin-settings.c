#include "plugin/plugin-settings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs-util.h"

static const char *const known_keys[] = {"enabled", "options", "isolate", "timeout"};

static int known(const char *key)
{
    for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
        if (!strcmp(key, known_keys[i]))
            return 1;
    return 0;
}

static int get_bool(const cJSON *entry, const char *name, const char *key, int fallback, int *ret,
                    char **ret_reason)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, key);
    if (!v) {
        *ret = fallback;
        return 0;
    }
    if (!cJSON_IsBool(v)) {
        *ret_reason = xasprintf("plugins.%s.%s: must be true or false", name, key);
        return -EINVAL;
    }
    *ret = cJSON_IsTrue(v) ? 1 : 0;
    return 0;
}

static int settings_get(const cJSON *plugins, const char *name, struct plugin_settings *ret,
                        char **ret_reason)
{
    struct plugin_settings s = {.enabled = 1, .timeout = PLUGIN_DEFAULT_TIMEOUT};
    const cJSON *entry = plugins ? cJSON_GetObjectItemCaseSensitive(plugins, name) : NULL;
    if (entry && !cJSON_IsObject(entry)) {
        *ret_reason = xasprintf("plugins.%s: must be an object such as {\"enabled\": true}", name);
        return -EINVAL;
    }
    const cJSON *child;
    cJSON_ArrayForEach(child, entry)
    {
        if (!known(child->string)) {
            *ret_reason = xasprintf("plugins.%s.%s: unknown key (known: enabled, options, "
                                    "isolate, timeout)",
                                    name, child->string);
            return -EINVAL;
        }
    }
    if (get_bool(entry, name, "enabled", 1, &s.enabled, ret_reason) < 0 ||
        get_bool(entry, name, "isolate", 0, &s.isolate, ret_reason) < 0)
        return -EINVAL;
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(entry, "timeout");
    if (timeout) {
        double t = cJSON_IsNumber(timeout) ? timeout->valuedouble : -1;
        if (t < 1 || t > PLUGIN_MAX_TIMEOUT || (double)(long)t != t) {
            *ret_reason = xasprintf("plugins.%s.timeout: must be a whole number of seconds "
                                    "from 1 to %d",
                                    name, PLUGIN_MAX_TIMEOUT);
            return -EINVAL;
        }
        s.timeout = (unsigned)t;
    }
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(entry, "options");
    if (options && !cJSON_IsObject(options)) {
        *ret_reason = xasprintf("plugins.%s.options: must be a JSON object", name);
        return -EINVAL;
    }
    s.options_json = options ? cJSON_PrintUnformatted(options) : strdup("{}");
    if (!s.options_json) {
        *ret_reason = xasprintf("plugins.%s.options: out of memory", name);
        return -ENOMEM;
    }
    *ret = s;
    return 0;
}

void plugin_settings_clear(struct plugin_settings *s)
{
    free(s->options_json);
    s->options_json = NULL;
}

int plugin_settings_get(const cJSON *plugins, const char *name, struct plugin_settings *ret,
                        char **ret_reason)
{
    int r = settings_get(plugins, name, ret, ret_reason);
    if (r < 0)
        text_one_line(*ret_reason); /* a plugin name or key with a newline in the file */
    return r;
}
