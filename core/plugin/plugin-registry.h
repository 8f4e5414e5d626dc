/*
 * Loading plugins: every *.so in each directory of the plugin path is
 * dlopen()ed (RTLD_NOW | RTLD_LOCAL), its descriptor checked and its init
 * called. A refused file is recorded with its reason, logged as one line,
 * and the others still load.
 */
#ifndef BERTH_PLUGIN_REGISTRY_H
#define BERTH_PLUGIN_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <berth/berth.h>
#include <cjson/cJSON.h>

#include "util/error.h"

struct plugin {
    size_t order; /* position in the plugin path: listings keep that order */
    char *path;
    void *handle; /* dlopen handle */
    const struct berth_plugin_descriptor *desc;
    void *state; /* from init */
    struct berth_services services;
    struct berth_host *host; /* host side of the services */
    int isolate;             /* configured "isolate": operations run in a child */
    unsigned timeout;        /* seconds an isolated operation may take */
};

/* A plugin the configuration disables: found, never initialised. */
struct disabled_plugin {
    char *name;
    char *path;
    uint32_t kind;
};

/* What the loader takes from the configuration file; NULL: defaults. */
struct plugin_load_config {
    const char *file;     /* the configuration file, for messages */
    const cJSON *plugins; /* its "plugins" object, or NULL */
};

struct refused_plugin {
    char *path;
    char *reason;
};

/* A plugin known from the descriptor cache, not loaded yet. */
struct pending_plugin {
    size_t order;
    char *path;
    char *name;
    uint32_t kind;
};

struct plugin_registry {
    struct plugin **plugins; /* the loaded ones, in plugin-path order */
    size_t n_plugins;
    struct refused_plugin *refused;
    size_t n_refused;
    struct pending_plugin *pending;
    size_t n_pending;
    char *state_root, *run_dir;
    struct disabled_plugin *disabled;
    size_t n_disabled;
    char *config_file; /* plugin_load_config, kept for lazy loads */
    cJSON *plugins_config;
};

/*
 * Loads every plugin found in PATH_DIRS (NULL-terminated; a missing
 * directory is skipped). Plugin state dirs are STATE_ROOT/NAME, the run dir
 * is RUN_DIR. When a name appears twice the first directory wins and the
 * later file is refused.
 */
int plugin_registry_load(char *const *path_dirs, const char *state_root, const char *run_dir,
                         struct plugin_registry **ret, struct error **err);
/*
 * The same, lazily: with a valid descriptor cache at CACHE_PATH (see
 * plugin-cache.h) nothing is dlopen()ed yet, and each plugin is loaded when
 * first asked for (plugin_registry_find, plugin_registry_require). Without
 * one, every plugin is loaded and the cache written.
 */
int plugin_registry_open(char *const *path_dirs, const char *state_root, const char *run_dir,
                         const char *cache_path, const struct plugin_load_config *config,
                         struct plugin_registry **ret, struct error **err);
/*
 * CONFIG (may be NULL) disables plugins, passes their options and marks
 * them isolated (plugin-settings.h): a disabled plugin is listed in
 * reg->disabled and never initialised; one whose settings are invalid is
 * refused with the key named; a configured name that matches no plugin is
 * a warning.
 */
/* The disabled plugin named NAME, or NULL. */
const struct disabled_plugin *plugin_registry_find_disabled(const struct plugin_registry *reg,
                                                            const char *name);
void plugin_registry_free(struct plugin_registry *reg);
/* The plugin of KIND (0: any) named NAME, loaded now if it was pending; or NULL. */
struct plugin *plugin_registry_find(struct plugin_registry *reg, uint32_t kind, const char *name);
/* Loads every pending plugin of KIND (0: all), before a walk over reg->plugins. */
void plugin_registry_require(struct plugin_registry *reg, uint32_t kind);

/*
 * Pure check of a descriptor against this host (unit-testable). Returns 0
 * if acceptable, otherwise -EINVAL and a reason in *RET_REASON (caller frees)
 * such as "built for ABI 2.0, berth provides 1.0: rebuild against
 * berth-plugin 1.x". FILE_NAME is used in nothing but the reason's advice.
 */
int plugin_check_descriptor(const struct berth_plugin_descriptor *desc, char **ret_reason);
/* "storage", "volume", "network", "hook" or "unknown". */
const char *plugin_kind_name(uint32_t kind);

/* Calls a plugin operation if the plugin's table is large enough to hold it
 * and the member is set; otherwise evaluates to -ENOSYS. */
#define PLUGIN_OPS_HAS(ops, member)                                                                \
    ((ops) && (ops)->size >= offsetof(__typeof__(*(ops)), member) + sizeof((ops)->member) &&       \
     (ops)->member)

#endif
