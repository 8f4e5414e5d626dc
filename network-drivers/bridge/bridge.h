/* SPDX-License-Identifier: MIT */
/*
 * The bridge network driver's private declarations. Only this driver's files
 * include it; like any plugin it sees nothing of berth but <berth/…>.
 *
 * What it makes, and how it recognises its own work after a crash:
 *
 *   bridge  NAME (options.bridge, "berth0" for the default network, else
 *           "berth-" + 8 hex of the network id), alias "berth-bridge:NETWORK"
 *   veth    host end "veth" + 8 hex of hash(container id, network), on the
 *           bridge, alias "berth-bridge:NETWORK:CONTAINER-ID"; its peer is
 *           made directly inside the container's namespace as eth0
 *   addresses/NETWORK/ in the state dir: one entry per address handed out
 *           (ipam-store.c)
 *
 * The aliases are what gc reads: a link without one was not made here and is
 * never touched.
 */
#ifndef BERTH_BRIDGE_H
#define BERTH_BRIDGE_H

#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <berth/network.h>
#include <cjson/cJSON.h>

#include "ipam.h"

struct nl_sock;

struct bridge {
    const struct berth_services *services;
    int state_fd; /* the state dir, O_DIRECTORY */
    int addr_fd;  /* state_dir/addresses, O_DIRECTORY */
    int old_fd;   /* state_dir/ipam (the former layout), or -1 */
};

/* Cleanup attributes: the SDK has none and plugins may not use the core's. */
static inline void freep(void *p)
{
    free(*(void **)p);
}
static inline void closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
static inline void cjsonp(cJSON **j)
{
    cJSON_Delete(*j);
}
void nl_sockp(struct nl_sock **sk);
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_cjson_ __attribute__((cleanup(cjsonp)))
#define _cleanup_nl_sock_ __attribute__((cleanup(nl_sockp)))

#define ALIAS_PREFIX "berth-bridge:"
/* Network names are plain words (they name lock and state files too). */
#define NETWORK_NAME_MAX 128
/* "berth-bridge:" NETWORK ":" CONTAINER-ID: within IFALIASZ (256). */
#define ALIAS_MAX 256

/* A network's record, as the driver needs it (bridge-config.c). */
struct net_config {
    cJSON *root;                             /* owns the strings below */
    const char *name;                        /* network name */
    const char *subnet, *gateway, *ip_range; /* ip_range may be NULL */
    char bridge[IFNAMSIZ];
    uint32_t mtu;     /* 0: the kernel's default */
    int internal;     /* --internal: containers get no default route */
    struct ipam pool; /* subnet, gateway and range */
};

/* What a join asks for and, on leave, what the join reported. */
struct join_request {
    cJSON *root;
    const char *interface;      /* in the container: "eth0" */
    uint32_t requested_ip;      /* 0: any */
    const char *host_interface; /* leave: from results.bridge, may be NULL */
    uint32_t result_ip;         /* leave: results.bridge.ip, 0 if none */
    int netns_teardown;         /* leave: the namespace goes right after */
};

/* bridge-config.c: parse and check; on failure set ERR and return -errno. */
int net_config_parse(struct bridge *b, const char *network_name, const char *json,
                     struct net_config *ret, struct berth_error *err);
void net_config_done(struct net_config *cfg);
int join_request_parse(struct bridge *b, const char *json, struct join_request *ret,
                       struct berth_error *err);
void join_request_done(struct join_request *jr);
int network_name_valid(const char *name);
int container_id_valid(const char *id);
/* "veth" + 8 hex of a hash of both: stable, so leave and gc find it. */
void host_veth_name(const char *container_id, const char *network, char ret[static IFNAMSIZ]);
void bridge_alias(const char *network, char ret[static ALIAS_MAX]);
void veth_alias(const char *network, const char *container_id, char ret[static ALIAS_MAX]);

/* bridge-link.c: netlink through libnl-route-3; all return 0 or -errno. */
int nl_open(struct nl_sock **ret);
/* A socket bound to the namespace of NETNS_FD: sockets keep the namespace
 * they were made in, so the calling thread enters it only to make one. */
int nl_open_in_netns(int netns_fd, struct nl_sock **ret);
/* Looks NAME up: its index and alias (ALIAS may be NULL); -ENODEV if absent. */
int link_lookup(struct nl_sock *sk, const char *name, int *ret_ifindex, char *alias,
                size_t alias_len);
int link_delete(struct nl_sock *sk, int ifindex);
/* Makes the bridge if missing; gives it the gateway address, MTU, alias; up. */
int bridge_ensure(struct nl_sock *sk, const char *name, const char *alias, uint32_t gateway,
                  unsigned prefix, uint32_t mtu, int *ret_ifindex);
/* One veth pair: HOST_NAME on the bridge and up, PEER_NAME made inside the
 * namespace NETNS_FD (no move: that costs an RCU grace period). */
int veth_create(struct nl_sock *sk, const char *host_name, const char *peer_name, int netns_fd,
                int bridge_ifindex, uint32_t mtu);
/* Turns IPv6 off on the host end NAME, before it comes up: no inet6
 * address, no ff00::/8 route in the host's table (which the kernel walks on
 * every link change). -ENOENT where the kernel has no IPv6. */
int host_end_disable_ipv6(const char *name);
/* Alias and hairpin mode of a bridge port, and up, in one request. */
int bridge_port_setup(struct nl_sock *sk, const char *name, const char *alias);
/* Inside the container: address, link up, default route; reports the MAC. */
int container_link_setup(struct nl_sock *nsk, const char *ifname, uint32_t addr, unsigned prefix,
                         uint32_t gateway, char ret_mac[static 18]);
/* Calls FN for every link whose alias starts with ALIAS_PREFIX. */
int links_foreach_ours(struct nl_sock *sk,
                       int (*fn)(void *userdata, int ifindex, const char *name, const char *alias),
                       void *userdata);

/* ipam-store.c: one network's allocations, one entry per address, changed
 * under the network's lock. */
struct ipam_session {
    struct bridge *b;
    char network[NETWORK_NAME_MAX];
    int lock_token;
    int locked;
    int dir_fd; /* state_dir/addresses/NETWORK */
};
/* Locks NETWORK's allocations and opens their directory, made if CREATE;
 * moves a file of the former layout in first. -ENOENT (no error set) when
 * there is no directory and CREATE is 0: nothing is allocated. */
int ipam_session_open(struct bridge *b, const char *network, int create, struct ipam_session *s,
                      struct berth_error *err);
/* Gives OWNER an address of POOL: the one it holds (a retried join),
 * REQUESTED if non-zero, else the next free one after the hint. */
int ipam_session_take(struct ipam_session *s, const struct ipam *pool, const char *owner,
                      uint32_t requested, uint32_t *ret_addr, struct berth_error *err);
/* Releases OWNER's address, and ALSO (0: none) if OWNER holds it. */
int ipam_session_release(struct ipam_session *s, const char *owner, uint32_t also,
                         struct berth_error *err);
/* Removes every entry whose owner KEEP refuses, and the halves of entries
 * a crash left (an address without its owner entry or the reverse). */
int ipam_session_gc(struct ipam_session *s, int (*keep)(void *userdata, const char *owner),
                    void *userdata);
/* Unlocks; S may be zeroed or half opened. */
void ipam_session_close(struct ipam_session *s);
/* Deletes a network's allocations (both layouts), under its lock. */
int ipam_forget_network(struct bridge *b, const char *network);

/* Reports a failure once: services->set_error when ERR is not NULL. */
#define bridge_error(b, err, errnum, ...)                                                          \
    ((err) ? (b)->services->set_error((err), (errnum), __VA_ARGS__) : (void)0)

#endif
