/* SPDX-License-Identifier: MIT */
/*
 * The nat driver's private declarations: its state, the state directory
 * (nat-state.c) and the operations table each firewall backend fills
 * (nat-iptables.c, nat-nftables.c). Like any plugin it sees nothing of berth
 * but <berth/…>. docs/drivers/nat.md describes the rules each backend makes.
 *
 * State directory layout (services->state_dir), all under the "state" lock:
 *
 *   networks/NETID/network.json    what create made: backend, subnet, bridge
 *   networks/NETID/CTRID.ep        a joined container: its address and ports
 *   ports/PROTO-PORT               a published host port: "NETID CTRID\n"
 *
 * None of it is fsync'ed: it describes firewall rules, which do not survive
 * a reboot either, and gc reconciles both sides.
 */
#ifndef NAT_BACKEND_H
#define NAT_BACKEND_H

#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <berth/network.h>

#include "ports.h"

/* Network and container ids: [A-Za-z0-9_.-], as berth's own; short enough
 * that "berth n=NETID c=CTRID" fits an iptables comment (255 bytes). */
#define NAT_ID_MAX 112

#define NAT_BACKEND_IPTABLES 1
#define NAT_BACKEND_NFTABLES 2

struct mnl_socket;

struct nat {
    const struct berth_services *services;
    int state_fd; /* services->state_dir, O_DIRECTORY */
    /* The nftables socket of the last commit that deleted something, closed
     * later (nat-nftables.c: nft_close_later), or NULL. */
    struct mnl_socket *lingering;
};

struct nat_network {
    char id[NAT_ID_MAX];
    char name[NAT_ID_MAX];
    uint32_t subnet; /* network byte order, host bits clear */
    uint32_t mask;   /* network byte order */
    uint8_t prefix_len;
    char bridge[IFNAMSIZ]; /* "" when the chain has no bridge driver */
    int internal;
    int backend; /* NAT_BACKEND_* */
};

struct nat_endpoint {
    char container_id[NAT_ID_MAX];
    uint32_t container_addr; /* network byte order */
    struct port_map *ports;  /* owned */
    size_t n_ports;
};

/*
 * One firewall backend. Every function is idempotent, returns 0 or a
 * negative errno, and describes a failure in ERR (when ERR is not NULL).
 */
struct nat_backend_ops {
    const char *name; /* "iptables" or "nftables" */
    /* berth's chains (or table) and the network's own rules: masquerade,
     * hairpin, localhost, forwarding. Replaces the network's rules if present. */
    int (*setup_network)(struct nat *nat, const struct nat_network *net, struct berth_error *err);
    /* Removes every rule of the network and its containers; LAST says no
     * other network uses this backend, so berth's chains (table) go too. */
    int (*teardown_network)(struct nat *nat, const struct nat_network *net, int last,
                            struct berth_error *err);
    /* Publishes EP's ports; one commit (iptables) or transaction (nftables). */
    int (*add_ports)(struct nat *nat, const struct nat_network *net, const struct nat_endpoint *ep,
                     struct berth_error *err);
    /* Removes exactly EP's rules; nothing there is not an error. */
    int (*remove_ports)(struct nat *nat, const struct nat_network *net,
                        const struct nat_endpoint *ep, struct berth_error *err);
    /* The path of every join: makes sure berth's chains (table) and NET's
     * rules are there, putting them back with the ports of every container
     * joined to NET when something flushed them (EP's state is already
     * written), then publishes EP's ports. NULL: check_present, then
     * setup_network and add_ports for each container if needed, then
     * add_ports for EP. */
    int (*join)(struct nat *nat, const struct nat_network *net, const struct nat_endpoint *ep,
                struct berth_error *err);
    /* Removes berth's rules that no state file backs (state lost in a crash).
     * Makes nothing: a backend that was never set up is left alone. */
    int (*gc)(struct nat *nat, struct berth_error *err);
    /* 1 when berth's chains and NET's rules are all there, 0 when something
     * flushed them, negative errno when the firewall cannot be read. */
    int (*check_present)(struct nat *nat, const struct nat_network *net);
};

extern const struct nat_backend_ops nat_iptables_ops;
extern const struct nat_backend_ops nat_nftables_ops;
/* Closes the nftables socket left open by the last deleting commit (fini). */
void nat_nftables_release(struct nat *nat);

/* nat-state.c */
int nat_state_open(struct nat *nat);
int nat_network_save(struct nat *nat, const struct nat_network *net);
/* -ENOENT when the network has no state. */
int nat_network_load(struct nat *nat, const char *net_id, struct nat_network *ret);
int nat_network_delete(struct nat *nat, const char *net_id);
int nat_endpoint_save(struct nat *nat, const char *net_id, const struct nat_endpoint *ep);
int nat_endpoint_load(struct nat *nat, const char *net_id, const char *ctr_id,
                      struct nat_endpoint *ret);
int nat_endpoint_delete(struct nat *nat, const char *net_id, const char *ctr_id);
void nat_endpoint_done(struct nat_endpoint *ep);
int nat_state_has_network(struct nat *nat, const char *net_id);
int nat_state_has_endpoint(struct nat *nat, const char *net_id, const char *ctr_id);
/* Calls CB for each network (each endpoint of NET_ID); a negative return
 * stops the walk and is returned. */
int nat_foreach_network(struct nat *nat,
                        int (*cb)(struct nat *nat, struct nat_network *net, void *ctx), void *ctx);
int nat_foreach_endpoint(struct nat *nat, const char *net_id,
                         int (*cb)(struct nat *nat, struct nat_endpoint *ep, void *ctx), void *ctx);
/* Reserves PROTO/PORT for CTR_ID on NET_ID. 0 when reserved now or already
 * by the same pair; -EADDRINUSE and the owner's container id otherwise. */
int nat_port_reserve(struct nat *nat, uint8_t proto, uint16_t port, const char *net_id,
                     const char *ctr_id, char ret_owner[static NAT_ID_MAX]);
/* 1 when reserved by anyone, 0 when not. */
int nat_port_reserved(struct nat *nat, uint8_t proto, uint16_t port);
/* Releases PROTO/PORT if NET_ID/CTR_ID holds it. */
int nat_port_release(struct nat *nat, uint8_t proto, uint16_t port, const char *net_id,
                     const char *ctr_id);
/* Releases reservations whose endpoint is gone. */
int nat_ports_gc(struct nat *nat);
int nat_id_valid(const char *id);

/* Cleanup attributes: the SDK has none and plugins may not use the core's. */
static inline void nat_freep(void *p)
{
    free(*(void **)p);
}
static inline void nat_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
#define _cleanup_free_ __attribute__((cleanup(nat_freep)))
#define _cleanup_close_ __attribute__((cleanup(nat_closep)))

#define nat_set_error(nat, err, errnum, ...)                                                       \
    do {                                                                                           \
        if (err)                                                                                   \
            (nat)->services->set_error((err), (errnum), __VA_ARGS__);                              \
    } while (0)

#endif
