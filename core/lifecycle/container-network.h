/*
 * A container's network: with --network none or host nothing is made here;
 * otherwise the core makes the container's network namespace as a
 * bind-mounted nsfs file (RUNROOT/netns/ID, as CNI does) and each driver of
 * the network's chain joins it in order; leave runs in reverse and is
 * idempotent (it is also the journal's undo).
 */
#ifndef BERTH_CONTAINER_NETWORK_H
#define BERTH_CONTAINER_NETWORK_H

#include <cjson/cJSON.h>

#include "lifecycle/engine.h"
#include "lifecycle/lifecycle.h"

/* Checks O's network, --ip and -p at create time; stores them in REC
 * ("network", "network_request"). Makes the default network on first use. */
int container_network_create(struct engine *e, cJSON *rec, const struct create_options *o,
                             struct error **err);
/* Makes the netns and joins every driver; stores the results in
 * REC["networks"] and the netns path in *RET_NETNS (NULL for none/host). */
int container_network_join(struct engine *e, const char *id, cJSON *rec, char **ret_netns,
                           struct error **err);
/* Leaves in reverse order and removes the netns file. */
int container_network_leave(struct engine *e, const char *id, cJSON *rec, struct error **err);

#endif
