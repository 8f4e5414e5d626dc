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

/*
 * The JSON that crosses this boundary (all objects; unknown keys are ignored):
 *
 * network_json — the network's record as berth keeps it:
 *   {"name": "berth0", "id": "<64 hex>", "drivers": ["bridge", "nat"],
 *    "subnet": "10.88.0.0/16", "gateway": "10.88.0.1", "ip_range": "10.88.1.0/24" | null,
 *    "internal": false, "options": {"mtu": "1500", "nat": "iptables", …},
 *    "driver_state": {"bridge": <what bridge's create reported>, …}}
 *
 * create's result: a JSON object the host stores as driver_state.NAME, e.g.
 *   {"bridge": "berth0"} from the bridge driver.
 *
 * join_json on join:
 *   {"interface": "eth0", "ip": "10.88.0.7" | null (requested address),
 *    "ports": [{"host_ip": "0.0.0.0" | "127.0.0.1" | …, "host_port": 8080 | 0 (any free),
 *               "container_port": 80, "protocol": "tcp" | "udp"}],
 *    "results": {"bridge": <bridge's join result>, …}}  (drivers earlier in the chain)
 *
 * join's result, stored by the host in the container's record:
 *   bridge: {"interface": "eth0", "ip": "10.88.0.7", "prefix_len": 16,
 *            "gateway": "10.88.0.1", "mac": "…", "host_interface": "veth…"}
 *   nat:    {"ports": [{"host_ip", "host_port" (the one chosen), "container_port",
 *             "protocol", "container_ip"}]}
 *
 * join_json on leave: the same object as on join, with "results" holding
 * every driver's join result (its own included), so leave needs no state of
 * its own, and "netns_teardown": true when the host removes the namespace
 * right after (a driver may then leave links inside it to the kernel).
 * leave must succeed when join never ran or ran half-way.
 */

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
