/* SPDX-License-Identifier: MIT */
/* IPv4 allocation of one network: the rules, without files or locks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"

static uint32_t prefix_mask(unsigned prefix)
{
    /* A shift by 32 is undefined, and /0 is a legal (if odd) prefix. */
    return prefix == 0 ? 0 : ~(uint32_t)0 << (32 - prefix);
}

int ipam_parse_addr(const char *text, uint32_t *ret_addr)
{
    struct in_addr a;
    /* inet_pton takes exactly four decimal parts, unlike inet_aton, which
     * would read "10.1" or "0x0a.0.0.1" as addresses nobody meant. */
    if (!text || inet_pton(AF_INET, text, &a) != 1)
        return -EINVAL;
    *ret_addr = ntohl(a.s_addr);
    return 0;
}

int ipam_parse_cidr(const char *text, uint32_t *ret_addr, unsigned *ret_prefix)
{
    if (!text)
        return -EINVAL;
    const char *slash = strchr(text, '/');
    if (!slash || slash == text || (size_t)(slash - text) >= IPAM_ADDR_STRLEN)
        return -EINVAL;
    char buf[IPAM_ADDR_STRLEN];
    memcpy(buf, text, (size_t)(slash - text));
    buf[slash - text] = '\0';
    const char *p = slash + 1;
    unsigned prefix = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        prefix = prefix * 10 + (unsigned)(*p - '0');
    if (*p || digits == 0 || digits > 2 || prefix > 32)
        return -EINVAL;
    uint32_t addr;
    if (ipam_parse_addr(buf, &addr) < 0)
        return -EINVAL;
    *ret_addr = addr;
    *ret_prefix = prefix;
    return 0;
}

char *ipam_format(uint32_t addr, char buf[static IPAM_ADDR_STRLEN])
{
    snprintf(buf, IPAM_ADDR_STRLEN, "%u.%u.%u.%u", (unsigned)(addr >> 24) & 0xff,
             (unsigned)(addr >> 16) & 0xff, (unsigned)(addr >> 8) & 0xff, (unsigned)addr & 0xff);
    return buf;
}

static int fail(char *errbuf, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return r;
}

int ipam_init(struct ipam *pool, const char *subnet, const char *gateway, const char *ip_range,
              char *errbuf, size_t errlen)
{
    memset(pool, 0, sizeof(*pool));
    uint32_t net;
    unsigned prefix;
    char a[IPAM_ADDR_STRLEN];
    if (ipam_parse_cidr(subnet, &net, &prefix) < 0)
        return fail(errbuf, errlen, -EINVAL, "malformed subnet '%s': expected A.B.C.D/N",
                    subnet ? subnet : "");
    if (prefix > 30)
        return fail(errbuf, errlen, -EINVAL,
                    "subnet '%s' is too small: a /30 is the smallest with room for the gateway "
                    "and a container",
                    subnet);
    uint32_t mask = prefix_mask(prefix);
    if (net & ~mask)
        return fail(errbuf, errlen, -EINVAL, "subnet '%s' has host bits set: did you mean '%s/%u'",
                    subnet, ipam_format(net & mask, a), prefix);
    uint32_t bcast = net | ~mask;

    uint32_t gw = net + 1;
    if (gateway && ipam_parse_addr(gateway, &gw) < 0)
        return fail(errbuf, errlen, -EINVAL, "malformed gateway '%s': expected A.B.C.D", gateway);
    if ((gw & mask) != net)
        return fail(errbuf, errlen, -EINVAL, "gateway '%s' is outside subnet '%s'", gateway,
                    subnet);
    if (gw == net || gw == bcast)
        return fail(errbuf, errlen, -EINVAL, "gateway '%s' is the %s address of subnet '%s'",
                    gateway, gw == net ? "network" : "broadcast", subnet);

    uint32_t first = net + 1, last = bcast - 1;
    if (ip_range) {
        uint32_t rnet;
        unsigned rprefix;
        if (ipam_parse_cidr(ip_range, &rnet, &rprefix) < 0)
            return fail(errbuf, errlen, -EINVAL, "malformed ip range '%s': expected A.B.C.D/N",
                        ip_range);
        uint32_t rmask = prefix_mask(rprefix);
        if (rnet & ~rmask)
            return fail(errbuf, errlen, -EINVAL,
                        "ip range '%s' has host bits set: did you mean '%s/%u'", ip_range,
                        ipam_format(rnet & rmask, a), rprefix);
        if (rprefix < prefix || (rnet & mask) != net)
            return fail(errbuf, errlen, -EINVAL, "ip range '%s' is not inside subnet '%s'",
                        ip_range, subnet);
        uint32_t rlast = rnet | ~rmask;
        if (rnet > first)
            first = rnet;
        if (rlast < last)
            last = rlast;
        if (first > last)
            return fail(errbuf, errlen, -EINVAL, "ip range '%s' holds no usable address", ip_range);
    }
    pool->network = net;
    pool->broadcast = bcast;
    pool->prefix = prefix;
    pool->gateway = gw;
    pool->first = first;
    pool->last = last;
    return 0;
}

int ipam_usable(const struct ipam *pool, uint32_t addr)
{
    return addr > pool->network && addr < pool->broadcast && addr != pool->gateway;
}

int ipam_check_requested(const struct ipam *pool, uint32_t requested, char *errbuf, size_t errlen)
{
    char a[IPAM_ADDR_STRLEN], b[IPAM_ADDR_STRLEN];
    if ((requested & prefix_mask(pool->prefix)) != pool->network)
        return fail(errbuf, errlen, -EADDRNOTAVAIL, "address %s is outside subnet %s/%u",
                    ipam_format(requested, a), ipam_format(pool->network, b), pool->prefix);
    if (!ipam_usable(pool, requested))
        return fail(errbuf, errlen, -EADDRNOTAVAIL, "address %s is the %s address of %s/%u",
                    ipam_format(requested, a),
                    requested == pool->gateway   ? "gateway"
                    : requested == pool->network ? "network"
                                                 : "broadcast",
                    ipam_format(pool->network, b), pool->prefix);
    return 0;
}

int ipam_claim_next(const struct ipam *pool, uint32_t hint, ipam_claim_fn claim, void *ctx,
                    uint32_t *ret_addr, char *errbuf, size_t errlen)
{
    char a[IPAM_ADDR_STRLEN], b[IPAM_ADDR_STRLEN], n[IPAM_ADDR_STRLEN];
    if (hint < pool->first || hint > pool->last)
        hint = pool->first;
    /* 64-bit counters: last may be 255.255.255.254 and the walk must end. */
    uint64_t size = (uint64_t)pool->last - pool->first + 1;
    for (uint64_t i = 0; i < size; i++) {
        uint64_t c = (uint64_t)hint + i;
        if (c > pool->last)
            c -= size;
        if (c == pool->gateway)
            continue;
        int r = claim(ctx, (uint32_t)c);
        if (r == 0) {
            *ret_addr = (uint32_t)c;
            return 0;
        }
        if (r != -EEXIST)
            return r;
    }
    return fail(errbuf, errlen, -ENOSPC, "no free address left in %s-%s of %s/%u",
                ipam_format(pool->first, a), ipam_format(pool->last, b),
                ipam_format(pool->network, n), pool->prefix);
}

uint32_t ipam_next_hint(const struct ipam *pool, uint32_t addr)
{
    return addr >= pool->last || addr < pool->first ? pool->first : addr + 1;
}

void ipam_short_owner(const char *owner, char buf[static 16])
{
    /* Container ids are long; 12 digits name one as `berth ps` does. */
    if (strlen(owner) > 12)
        snprintf(buf, 16, "%.12s…", owner);
    else
        snprintf(buf, 16, "%s", owner);
}
