/* SPDX-License-Identifier: MIT */
/* abi10-network: a network driver built against the frozen ABI 1.0 headers
 * (tests/abi/). It attaches nothing (a "none" network) but answers every
 * operation as the contract says, so it loads and passes its suite. */
#include <berth/network.h>

static int net_init(const struct berth_services *services, void **ret_state)
{
    (void)services;
    *ret_state = NULL;
    return 0;
}

static void net_fini(void *state)
{
    (void)state;
}

static int net_create(void *state, const struct berth_network_request *req,
                      struct berth_text_result *res, struct berth_error *err)
{
    (void)state, (void)req, (void)err;
    return res->put(res->host_ctx, "{}");
}

static int net_join(void *state, const struct berth_network_request *req,
                    struct berth_text_result *res, struct berth_error *err)
{
    (void)state, (void)req, (void)err;
    return res->put(res->host_ctx, "{}");
}

static int net_noop(void *state, const struct berth_network_request *req, void *res,
                    struct berth_error *err)
{
    (void)state, (void)req, (void)res, (void)err;
    return 0;
}

static int net_gc(void *state, const struct berth_gc_request *req, void *res,
                  struct berth_error *err)
{
    (void)state, (void)req, (void)res, (void)err;
    return 0;
}

static const struct berth_network_ops net_ops = {
    .size = sizeof(struct berth_network_ops),
    .create = net_create,
    .remove = net_noop,
    .join = net_join,
    .leave = net_noop,
    .gc = net_gc,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_NETWORK, "abi10-network", "1.0",
                    "ABI 1.0 fixture: a network that attaches nothing", 0, net_init, net_fini,
                    &net_ops)
