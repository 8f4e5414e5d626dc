/*
 * One plugin's settings from the configuration file's "plugins" object:
 *
 *   "plugins": {"NAME": {"enabled": true, "options": {...}, "isolate": false,
 *                        "timeout": 30}}
 *
 * Pure logic, unit-tested: the loader asks it, per plugin, whether to load
 * the plugin, what options_json to hand it and whether to isolate it.
 */
#ifndef BERTH_PLUGIN_SETTINGS_H
#define BERTH_PLUGIN_SETTINGS_H

#include <cjson/cJSON.h>

/* An isolated operation that runs longer than this is killed. */
#define PLUGIN_DEFAULT_TIMEOUT 60
#define PLUGIN_MAX_TIMEOUT 86400

struct plugin_settings {
    int enabled;        /* 1 unless "enabled": false */
    int isolate;        /* "isolate": true: each operation in a child */
    unsigned timeout;   /* seconds an isolated operation may take */
    char *options_json; /* "options" as compact JSON text; "{}" when absent */
};

/*
 * Fills *RET for the plugin NAME from PLUGINS (the config's "plugins"
 * object; NULL means no configuration). Returns 0, or -EINVAL with
 * *RET_REASON (caller frees) naming the key: "plugins.NAME.options: must be
 * a JSON object". The caller frees ret->options_json with
 * plugin_settings_clear.
 */
int plugin_settings_get(const cJSON *plugins, const char *name, struct plugin_settings *ret,
                        char **ret_reason);
void plugin_settings_clear(struct plugin_settings *s);

#endif
