/*
 * The host side of the services table a plugin receives, and the bridge
 * between the plugin's struct berth_error and the core's struct error.
 */
#ifndef BERTH_PLUGIN_HOST_H
#define BERTH_PLUGIN_HOST_H

#include <berth/plugin.h>

#include "util/error.h"

struct layer_pack_owners;

struct berth_host {
    char *plugin_name;
    char *state_dir;
    char *run_dir;
    char *config_json;
    /* The owners pack_layer writes, set by the core around one call (commit); NULL: on disk. */
    const struct layer_pack_owners *pack_owners;
};

/* What a plugin's set_error fills: lives on the caller's stack per call. */
struct berth_error {
    struct error *error;
    int contained; /* the error is an isolated operation's crash or timeout */
};

/* Makes the host object and fills SERVICES for a plugin named NAME. */
int plugin_host_new(const char *name, const char *state_root, const char *run_dir,
                    struct berth_services *services, struct berth_host **ret, struct error **err);
void plugin_host_free(struct berth_host *host);

/*
 * Turns the outcome of a plugin call into a core error: R is the operation's
 * return value, PERR what the plugin set. WHAT names the operation
 * ("storage 'overlay' prepare"). Returns R (negative) and fills *ERR.
 */
int plugin_call_result(int r, struct berth_error *perr, const char *what, struct error **err);

#endif
