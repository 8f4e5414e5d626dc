#include "network/cidr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ipv4_parse(const char *s, uint32_t *ret)
{
    uint32_t a = 0;
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (unsigned)(*p++ - '0');
            if (++digits > 3 || v > 255)
                return -EINVAL;
        }
        /* No leading zeros: "010" is octal to some parsers and ambiguous. */
        if (digits > 1 && p[-digits] == '0')
            return -EINVAL;
        a = (a << 8) | v;
        if (i < 3 && *p++ != '.')
            return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    *ret = a;
    return 0;
}

void ipv4_format(uint32_t a, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", (a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

uint32_t cidr_mask(int prefix)
{
    return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int cidr_parse(const char *s, int loose, struct cidr *ret)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash - s > 15 || !slash[1])
        return -EINVAL;
    char addr[16];
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    uint32_t a;
    if (ipv4_parse(addr, &a) < 0)
        return -EINVAL;
    char *end = NULL;
    long prefix = strtol(slash + 1, &end, 10);
    if (*end || prefix < 0 || prefix > 32 || (slash[1] == '0' && slash[2]))
        return -EINVAL;
    if (!loose && (a & ~cidr_mask((int)prefix)))
        return -EINVAL;
    ret->addr = a & cidr_mask((int)prefix);
    ret->prefix = (int)prefix;
    return 0;
}

void cidr_format(const struct cidr *c, char *buf)
{
    char a[16];
    ipv4_format(c->addr, a);
    snprintf(buf, 19, "%s/%d", a, c->prefix);
}

int cidr_contains(const struct cidr *c, uint32_t addr)
{
    return (addr & cidr_mask(c->prefix)) == c->addr;
}

int cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
    int p = a->prefix < b->prefix ? a->prefix : b->prefix;
    return (a->addr & cidr_mask(p)) == (b->addr & cidr_mask(p));
}

int cidr_within(const struct cidr *a, const struct cidr *b)
{
    return a->prefix >= b->prefix && cidr_contains(b, a->addr);
}
