/*
 * Networks as objects: create (validate, choose a subnet, run each driver's
 * create in chain order), remove, repair, and the default network made on
 * first use.
 */
#ifndef BERTH_NETWORK_OPS_H
#define BERTH_NETWORK_OPS_H

#include <cjson/cJSON.h>

#include "lifecycle/engine.h"

/*
 * The default network's subnet: the first of 10.87.0.0/16, 10.86.0.0/16, …
 * 10.80.0.0/16 that no other network and no host route uses when it is
 * made. Not podman's 10.88.0.0/16 nor docker's 172.17.0.0/16: users run
 * them side by side.
 */
#define DEFAULT_NETWORK_SUBNET_FIRST 87
#define DEFAULT_NETWORK_SUBNET_LAST 80

struct network_create_options {
    const char *name;
    /* A comma-separated chain; DEFAULT_NETWORK_DRIVER alone or NULL means
     * DEFAULT_NETWORK_CHAIN (config/defaults.h). */
    const char *drivers;
    const char *subnet;  /* NULL: choose a free one */
    const char *gateway; /* NULL: the subnet's first address */
    const char *ip_range;
    int internal;
    cJSON *options; /* object of strings, borrowed; may be NULL */
};

int network_create(struct engine *e, const struct network_create_options *o, cJSON **ret_rec,
                   struct error **err);
/* Removes NAME; refuses while containers are attached unless FORCE
 * (which only detaches containers that are not running). */
int network_remove(struct engine *e, const char *name, int force, struct error **err);
/* Loads NAME; the default network is made on first use. */
int network_get(struct engine *e, const char *name, cJSON **ret, struct error **err);
/* Runs each driver's create again: puts back a bridge or rules deleted by
 * another tool. Cheap when nothing is missing. */
int network_repair(struct engine *e, cJSON *rec, struct error **err);
/* Names of every network (for gc). */
int network_names(struct engine *e, char ***ret, size_t *ret_n, struct error **err);
/* Ids of the containers whose record names NAME among their networks. */
int network_users(struct engine *e, const char *name, cJSON **ret_array, struct error **err);

#endif
