/* SPDX-License-Identifier: MIT */
/*
 * IPv4 address management of one network, as pure logic: no files, no
 * locks, no netlink, so that every rule is unit-tested (tests/unit/test-ipam.c).
 * ipam-store.c keeps the allocations on disk, one entry per address, and
 * claims an address through the callback of ipam_claim_next.
 *
 * Addresses are host-order uint32_t. The search for a free address starts at
 * a hint (the address after the last one handed out) and asks the store
 * about one candidate at a time: with addresses handed out in order and
 * released in any order, the first candidate is almost always free, so a
 * join costs about the same with 300 containers attached as with one.
 */
#ifndef BERTH_BRIDGE_IPAM_H
#define BERTH_BRIDGE_IPAM_H

#include <stddef.h>
#include <stdint.h>

/* Longest owner (a container id is 64 hex digits) plus its NUL; with a
 * network name it must fit an interface alias (bridge.h). */
#define IPAM_OWNER_MAX 72
/* "255.255.255.255" and its NUL. */
#define IPAM_ADDR_STRLEN 16

struct ipam {
    uint32_t network;   /* first address of the subnet */
    uint32_t broadcast; /* last address of the subnet */
    unsigned prefix;    /* 0..30 */
    uint32_t gateway;   /* never handed out */
    uint32_t first;     /* lowest address handed out automatically */
    uint32_t last;      /* highest one; [first, last] is ip_range ∩ hosts */
};

/* Parses a dotted quad strictly (no shorthand, no leading junk). 0 or -EINVAL. */
int ipam_parse_addr(const char *text, uint32_t *ret_addr);
/* Parses "A.B.C.D/N" strictly. 0 or -EINVAL. */
int ipam_parse_cidr(const char *text, uint32_t *ret_addr, unsigned *ret_prefix);
/* Writes ADDR as a dotted quad into BUF. Returns BUF. */
char *ipam_format(uint32_t addr, char buf[static IPAM_ADDR_STRLEN]);

/*
 * Sets up POOL for SUBNET ("10.88.0.0/16"), GATEWAY (NULL: the first host)
 * and IP_RANGE (NULL: the whole subnet). On failure returns -EINVAL and
 * describes the problem in ERRBUF (one line, no trailing period).
 */
int ipam_init(struct ipam *pool, const char *subnet, const char *gateway, const char *ip_range,
              char *errbuf, size_t errlen);

/* Whether ADDR may ever be given to a container (in the subnet and not the
 * network, broadcast or gateway address). */
int ipam_usable(const struct ipam *pool, uint32_t addr);

/*
 * Whether REQUESTED (asked for with --ip) may be handed out: anywhere in the
 * subnet, ip range or not, but not its network, broadcast or gateway
 * address. 0, or -EADDRNOTAVAIL with ERRBUF filled. Whether another
 * container holds it is the store's to say.
 */
int ipam_check_requested(const struct ipam *pool, uint32_t requested, char *errbuf, size_t errlen);

/*
 * Claims one address of a candidate: 0 if it is now the caller's, -EEXIST if
 * someone holds it (the search goes on), any other -errno stops the search.
 */
typedef int (*ipam_claim_fn)(void *ctx, uint32_t addr);

/*
 * Offers CLAIM the addresses of [first, last] from HINT on (HINT outside the
 * range: from first), wrapping round to first, skipping the gateway, until
 * one is claimed. Returns 0 and stores it; -ENOSPC with ERRBUF filled when
 * every one was taken; or CLAIM's error. Round-robin rather than lowest
 * first: a released address comes back, but not at once, which spares the
 * next owner the other containers' stale ARP entries.
 */
int ipam_claim_next(const struct ipam *pool, uint32_t hint, ipam_claim_fn claim, void *ctx,
                    uint32_t *ret_addr, char *errbuf, size_t errlen);

/* The hint to keep after ADDR was handed out: the next address, wrapping. */
uint32_t ipam_next_hint(const struct ipam *pool, uint32_t addr);

/* OWNER shortened as `berth ps` shows an id: 12 characters and "…". */
void ipam_short_owner(const char *owner, char buf[static 16]);

#endif
