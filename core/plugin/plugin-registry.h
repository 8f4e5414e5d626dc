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

#include "util/error.h"

struct plugin {
    char *path;
    void *handle; /* dlopen handle */
    const struct berth_plugin_descriptor *desc;
    void *state; /* from init */
    struct berth_services services;
    struct berth_host *host; /* host side of the services */
};

struct refused_plugin {
    char *path;
    char *reason;
};

struct plugin_registry {
    struct plugin **plugins;
    size_t n_plugins;
    struct refused_plugin *refused;
    size_t n_refused;
};

/*
 * Loads every plugin found in PATH_DIRS (NULL-terminated; a missing
 * directory is skipped). Plugin state dirs are STATE_ROOT/NAME, the run dir
 * is RUN_DIR. When a name appears twice the first directory wins and the
 * later file is refused.
 */
int plugin_registry_load(char *const *path_dirs, const char *state_root, const char *run_dir,
                         struct plugin_registry **ret, struct error **err);
void plugin_registry_free(struct plugin_registry *reg);
/* The loaded plugin of KIND named NAME, or NULL. */
struct plugin *plugin_registry_find(struct plugin_registry *reg, uint32_t kind, const char *name);

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
