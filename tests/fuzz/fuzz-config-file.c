/*
 * berth's configuration file (config/config-file.h) with what each part of
 * the core reads from it: every plugin's settings (plugin/plugin-settings.h)
 * and the registries (registry/registry-config.h). An accepted file must
 * give every plugin either settings or one reason; a refused one one line.
 */
#include "config/config-file.h"
#include "fuzz-util.h"
#include "plugin/plugin-settings.h"
#include "registry/registry-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_one_line(const char *msg)
{
    FUZZ_ASSERT(msg && *msg && !strchr(msg, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/berth.json", fuzz_dir());
    fuzz_write_file(path, data, size);
    cJSON *config = NULL;
    struct error *err = NULL;
    if (config_load(path, &config, &err) < 0) {
        FUZZ_ASSERT(err && !config);
        check_one_line(err->msg);
        error_free(&err);
        return 0;
    }
    FUZZ_ASSERT(cJSON_IsObject(config) && !err);
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(config, "plugins");
    const cJSON *p;
    cJSON_ArrayForEach(p, plugins)
    {
        if (!p->string)
            continue;
        struct plugin_settings s = {0};
        char *reason = NULL;
        if (plugin_settings_get(plugins, p->string, &s, &reason) < 0) {
            check_one_line(reason);
            FUZZ_ASSERT(!s.options_json);
        } else {
            FUZZ_ASSERT(!reason && s.options_json);
            cJSON *opts = cJSON_Parse(s.options_json);
            FUZZ_ASSERT(cJSON_IsObject(opts)); /* what the plugin gets is an object */
            cJSON_Delete(opts);
            FUZZ_ASSERT(!s.isolate || (s.timeout > 0 && s.timeout <= PLUGIN_MAX_TIMEOUT));
        }
        free(reason);
        plugin_settings_clear(&s);
    }
    /* A name the file does not mention gets the defaults (the fuzzer finds
     * this name in the binary and may well write it into the file). */
    static const char unnamed[] = "no-such-plugin-name";
    struct plugin_settings s = {0};
    char *reason = NULL;
    if (plugin_settings_get(plugins, unnamed, &s, &reason) == 0 &&
        !cJSON_GetObjectItemCaseSensitive(plugins, unnamed))
        FUZZ_ASSERT(s.enabled == 1 && s.options_json && !strcmp(s.options_json, "{}"));
    free(reason);
    plugin_settings_clear(&s);
    const cJSON *registries = cJSON_GetObjectItemCaseSensitive(config, "registries");
    if (registry_config_check(registries, &err) < 0) {
        check_one_line(err->msg);
        error_free(&err);
    } else {
        FUZZ_ASSERT(!err);
        registry_config_default(registries);
    }
    cJSON_Delete(config);
    return 0;
}
