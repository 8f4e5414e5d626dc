/* SPDX-License-Identifier: MIT */
/*
 * IPv4 address management of one network, as pure logic: no files, no
 * locks, no netlink, so that every rule is unit-tested (tests/unit/test-ipam.c).
 * ipam-store.c loads and saves it under the network's lock.
 *
 * Addresses are host-order uint32_t. The allocations are kept sorted by
 * address, so a lookup is a binary search and the next free address after
 * the hint is found by walking one run of consecutive allocations: with 300
 * containers attached a join costs about what it costs with one.
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

struct ipam_entry {
    uint32_t addr;
    char owner[IPAM_OWNER_MAX];
};

struct ipam {
    uint32_t network;           /* first address of the subnet */
    uint32_t broadcast;         /* last address of the subnet */
    unsigned prefix;            /* 0..30 */
    uint32_t gateway;           /* never handed out */
    uint32_t first;             /* lowest address handed out automatically */
    uint32_t last;              /* highest one; [first, last] is ip_range ∩ hosts */
    uint32_t hint;              /* where the next automatic allocation starts looking */
    struct ipam_entry *entries; /* sorted by addr, n of cap used */
    size_t n, cap;
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
 * describes the problem in ERRBUF (one line, no trailing period); POOL is then
 * left empty and safe to ipam_free().
 */
int ipam_init(struct ipam *pool, const char *subnet, const char *gateway, const char *ip_range,
              char *errbuf, size_t errlen);
/* Frees the entries; POOL may be zeroed or half set up. */
void ipam_free(struct ipam *pool);

/* Whether ADDR may ever be given to a container (in the subnet and not the
 * network, broadcast or gateway address). */
int ipam_usable(const struct ipam *pool, uint32_t addr);
/* The entry holding ADDR, or NULL. */
const struct ipam_entry *ipam_find(const struct ipam *pool, uint32_t addr);
/* The first entry held by OWNER, or NULL (linear: only for one-off checks). */
const struct ipam_entry *ipam_find_owner(const struct ipam *pool, const char *owner);

/*
 * Records ADDR as held by OWNER while loading saved state. An address no
 * longer usable (the subnet changed) is dropped and 0 returned. Returns
 * -EEXIST if ADDR is already recorded, -EINVAL for a bad owner, -ENOMEM.
 */
int ipam_insert(struct ipam *pool, uint32_t addr, const char *owner);

/*
 * Gives OWNER an address: REQUESTED if non-zero (anywhere in the subnet,
 * refused if not usable or held by another owner), otherwise the next free
 * one of [first, last] from the hint on. An owner that already holds an
 * address gets it back (a retried join), unless it asks for another one.
 * Returns 0 and stores the address, or -EADDRINUSE, -EADDRNOTAVAIL (outside
 * the subnet or reserved), -ENOSPC (exhausted) with ERRBUF filled.
 */
int ipam_allocate(struct ipam *pool, const char *owner, uint32_t requested, uint32_t *ret_addr,
                  char *errbuf, size_t errlen);

/* Releases every address OWNER holds; returns how many. */
size_t ipam_release_owner(struct ipam *pool, const char *owner);
/* Releases ADDR; returns 1 if it was held, 0 if not. */
int ipam_release_addr(struct ipam *pool, uint32_t addr);

#endif
