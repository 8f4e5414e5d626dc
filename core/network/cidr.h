/* IPv4 addresses and prefixes: parsing, containment and overlap. Pure. */
#ifndef BERTH_CIDR_H
#define BERTH_CIDR_H

#include <stdint.h>

struct cidr {
    uint32_t addr; /* host order, the network address (host bits cleared) */
    int prefix;    /* 0..32 */
};

/* Parses "a.b.c.d"; 0 or -EINVAL. */
int ipv4_parse(const char *s, uint32_t *ret);
/* Formats into BUF (at least 16 bytes). */
void ipv4_format(uint32_t a, char *buf);
/* Parses "a.b.c.d/n"; host bits must be zero unless LOOSE. */
int cidr_parse(const char *s, int loose, struct cidr *ret);
void cidr_format(const struct cidr *c, char *buf); /* at least 19 bytes */
uint32_t cidr_mask(int prefix);
int cidr_contains(const struct cidr *c, uint32_t addr);
int cidr_overlaps(const struct cidr *a, const struct cidr *b);
/* 1 if A lies within B. */
int cidr_within(const struct cidr *a, const struct cidr *b);

#endif
