/* Networks other than none and host arrive with the network drivers. */
#include <errno.h>
#include <string.h>

#include "lifecycle/container-network.h"
#include "store/container-store.h"

int container_network_create(struct engine *e, cJSON *rec, const struct create_options *o,
                             struct error **err)
{
    (void)e;
    const char *network = o->network ? o->network : "none";
    if (strcmp(network, "none") && strcmp(network, "host"))
        return error_set_plain(err, ENOENT,
                               "unknown network '%s': this berth knows 'none' and 'host'", network);
    if ((o->publish && o->publish[0]) || o->ip)
        return error_set_plain(err, EINVAL, "-p and --ip need a network other than '%s'", network);
    rec_set_str(rec, "network", network);
    return 0;
}

int container_network_join(struct engine *e, const char *id, cJSON *rec, char **ret_netns,
                           struct error **err)
{
    (void)e;
    (void)id;
    (void)rec;
    (void)err;
    *ret_netns = NULL;
    return 0;
}

int container_network_leave(struct engine *e, const char *id, const cJSON *rec, struct error **err)
{
    (void)e;
    (void)id;
    (void)rec;
    (void)err;
    return 0;
}
