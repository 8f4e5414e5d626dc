/* SPDX-License-Identifier: MIT */
/*
 * iptables rules as the kernel stores them (struct ipt_entry, its matches,
 * its target), built and read back without libiptc, so that the unit tests
 * cover them (tests/unit/test-nat-iptables-rule.c). nat-iptables.c hands
 * them to libiptc.
 */
#ifndef NAT_IPTABLES_RULE_H
#define NAT_IPTABLES_RULE_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netfilter_ipv4/ip_tables.h>

#include "ports.h"

/* One rule being built: the entry, its matches, then its target. */
struct rule {
    union {
        struct ipt_entry e;
        unsigned char buf[1024];
    } u;
    size_t len;
};

void rule_init(struct rule *r);
/* Appends a match (a target) of SIZE bytes of data; returns the data. */
void *rule_match(struct rule *r, const char *name, uint8_t revision, size_t size);
void *rule_target(struct rule *r, const char *name, uint8_t revision, size_t size);
/* ACCEPT, DROP or a chain to jump to. */
void rule_verdict(struct rule *r, const char *name);
void rule_comment(struct rule *r, const char *tag);
void rule_in(struct rule *r, const char *ifname, int invert);
void rule_out(struct rule *r, const char *ifname, int invert);
/* Addresses in network byte order; PORT in host order. */
void rule_src(struct rule *r, uint32_t addr, uint32_t mask);
void rule_dport(struct rule *r, uint8_t proto, uint16_t port);
void rule_dst_local(struct rule *r);
void rule_ctstate(struct rule *r, uint16_t states);
void rule_masquerade(struct rule *r);
void rule_dnat(struct rule *r, uint32_t addr, uint16_t port);

/* The comment of a rule, or NULL. */
const char *entry_comment(const struct ipt_entry *e);

/* What a DNAT rule of BERTH-PREROUTING publishes: the host side it matches
 * and the container address it sends to. */
struct dnat_key {
    uint8_t proto;
    uint32_t host_addr; /* 0: any local address */
    uint16_t host_port;
    uint32_t to_addr;
    uint16_t to_port;
};

/* Reads back a DNAT rule as rule_dport and rule_dnat make it (other matches,
 * such as an old comment, are skipped); -EINVAL for any other rule. */
int dnat_parse(const struct ipt_entry *e, struct dnat_key *ret);
/* 1 when K publishes M's host side (protocol, host address and port) and,
 * unless TO_ADDR is 0, sends it to TO_ADDR and M's container port. */
int dnat_key_matches(const struct dnat_key *k, const struct port_map *m, uint32_t to_addr);

#endif
