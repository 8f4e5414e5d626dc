/* SPDX-License-Identifier: MIT */
/*
 * Network drivers (BERTH_KIND_NETWORK). A network is a chain of drivers:
 * join runs them in order, leave in reverse. Each driver configures the
 * container's network namespace (a bind-mounted nsfs file) and the host.
 */
#ifndef BERTH_NETWORK_H
#define BERTH_NETWORK_H

#include <berth/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

struct berth_network_request {
    uint32_t size;
    const char *network_name;
    const char *network_json; /* the network's record: subnet, gateway, options */
    const char *container_id; /* join/leave only */
    const char *netns_path;   /* join/leave only: the container's network namespace */
    const char *join_json;    /* join/leave only: requested ip, ports, earlier drivers' results */
};

struct berth_network_ops {
    uint32_t size; /* sizeof(struct berth_network_ops) */
    /* Makes the host side of a network (bridge, chains). Idempotent. */
    int (*create)(void *state, const struct berth_network_request *req,
                  struct berth_text_result *res, struct berth_error *err);
    int (*remove)(void *state, const struct berth_network_request *req, void *res,
                  struct berth_error *err);
    /* Attaches a container; reports what it made (address, ports) as JSON. */
    int (*join)(void *state, const struct berth_network_request *req, struct berth_text_result *res,
                struct berth_error *err);
    /* Undoes join; idempotent. */
    int (*leave)(void *state, const struct berth_network_request *req, void *res,
                 struct berth_error *err);
    /* Removes links, rules and addresses of containers and networks not in REQ. */
    int (*gc)(void *state, const struct berth_gc_request *req, void *res, struct berth_error *err);
};

#ifdef __cplusplus
}
#endif

#endif
