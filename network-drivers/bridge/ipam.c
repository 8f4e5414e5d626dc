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
    pool->hint = first;
    return 0;
}

void ipam_free(struct ipam *pool)
{
    if (!pool)
        return;
    free(pool->entries);
    pool->entries = NULL;
    pool->n = pool->cap = 0;
}

int ipam_usable(const struct ipam *pool, uint32_t addr)
{
    return addr > pool->network && addr < pool->broadcast && addr != pool->gateway;
}

/* Index of the first entry whose address is >= ADDR. */
static size_t lower_bound(const struct ipam *pool, uint32_t addr)
{
    size_t lo = 0, hi = pool->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pool->entries[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct ipam_entry *ipam_find(const struct ipam *pool, uint32_t addr)
{
    size_t i = lower_bound(pool, addr);
    return i < pool->n && pool->entries[i].addr == addr ? &pool->entries[i] : NULL;
}

const struct ipam_entry *ipam_find_owner(const struct ipam *pool, const char *owner)
{
    for (size_t i = 0; i < pool->n; i++)
        if (strcmp(pool->entries[i].owner, owner) == 0)
            return &pool->entries[i];
    return NULL;
}

int ipam_insert(struct ipam *pool, uint32_t addr, const char *owner)
{
    size_t len = owner ? strlen(owner) : 0;
    if (len == 0 || len >= IPAM_OWNER_MAX)
        return -EINVAL;
    if (!ipam_usable(pool, addr))
        return 0;
    size_t i = lower_bound(pool, addr);
    if (i < pool->n && pool->entries[i].addr == addr)
        return -EEXIST;
    if (pool->n == pool->cap) {
        size_t cap = pool->cap ? pool->cap * 2 : 16;
        struct ipam_entry *e = realloc(pool->entries, cap * sizeof(*e));
        if (!e)
            return -ENOMEM;
        pool->entries = e;
        pool->cap = cap;
    }
    memmove(&pool->entries[i + 1], &pool->entries[i], (pool->n - i) * sizeof(pool->entries[0]));
    pool->entries[i].addr = addr;
    memcpy(pool->entries[i].owner, owner, len + 1);
    pool->n++;
    return 0;
}

/* The lowest free address of [FROM, TO], walking at most one run of
 * consecutive allocations past each hole-free stretch. */
static int find_free(const struct ipam *pool, uint32_t from, uint32_t to, uint32_t *ret)
{
    size_t i = lower_bound(pool, from);
    for (uint64_t c = from; c <= to; c++) {
        if (c == pool->gateway)
            continue;
        while (i < pool->n && pool->entries[i].addr < c)
            i++;
        if (i < pool->n && pool->entries[i].addr == c)
            continue;
        *ret = (uint32_t)c;
        return 0;
    }
    return -ENOSPC;
}

static void short_owner(const char *owner, char buf[static 16])
{
    /* Container ids are long; 12 digits name one as `berth ps` does. */
    if (strlen(owner) > 12)
        snprintf(buf, 16, "%.12s…", owner);
    else
        snprintf(buf, 16, "%s", owner);
}

int ipam_allocate(struct ipam *pool, const char *owner, uint32_t requested, uint32_t *ret_addr,
                  char *errbuf, size_t errlen)
{
    char a[IPAM_ADDR_STRLEN], b[IPAM_ADDR_STRLEN];
    const struct ipam_entry *mine = ipam_find_owner(pool, owner);
    if (mine && (requested == 0 || requested == mine->addr)) {
        *ret_addr = mine->addr;
        return 0;
    }
    uint32_t addr;
    if (requested) {
        uint32_t mask = prefix_mask(pool->prefix);
        if ((requested & mask) != pool->network)
            return fail(errbuf, errlen, -EADDRNOTAVAIL, "address %s is outside subnet %s/%u",
                        ipam_format(requested, a), ipam_format(pool->network, b), pool->prefix);
        if (!ipam_usable(pool, requested))
            return fail(errbuf, errlen, -EADDRNOTAVAIL, "address %s is the %s address of %s/%u",
                        ipam_format(requested, a),
                        requested == pool->gateway   ? "gateway"
                        : requested == pool->network ? "network"
                                                     : "broadcast",
                        ipam_format(pool->network, b), pool->prefix);
        const struct ipam_entry *e = ipam_find(pool, requested);
        if (e) {
            char o[16];
            short_owner(e->owner, o);
            return fail(errbuf, errlen, -EADDRINUSE, "address %s is already in use by container %s",
                        ipam_format(requested, a), o);
        }
        addr = requested;
    } else {
        uint32_t hint =
            pool->hint >= pool->first && pool->hint <= pool->last ? pool->hint : pool->first;
        if (find_free(pool, hint, pool->last, &addr) < 0 &&
            (hint == pool->first || find_free(pool, pool->first, hint - 1, &addr) < 0))
            return fail(errbuf, errlen, -ENOSPC, "no free address left in %s-%s of %s/%u",
                        ipam_format(pool->first, a), ipam_format(pool->last, b),
                        ipam_format(pool->network, (char[IPAM_ADDR_STRLEN]){0}), pool->prefix);
    }
    if (mine)
        ipam_release_owner(pool, owner);
    int r = ipam_insert(pool, addr, owner);
    if (r < 0)
        return fail(errbuf, errlen, r, "recording address %s: %s", ipam_format(addr, a),
                    strerror(-r));
    if (!requested)
        pool->hint = addr >= pool->last ? pool->first : addr + 1;
    *ret_addr = addr;
    return 0;
}

size_t ipam_release_owner(struct ipam *pool, const char *owner)
{
    size_t kept = 0, released = 0;
    for (size_t i = 0; i < pool->n; i++) {
        if (strcmp(pool->entries[i].owner, owner) == 0) {
            released++;
            continue;
        }
        if (kept != i)
            pool->entries[kept] = pool->entries[i];
        kept++;
    }
    pool->n = kept;
    return released;
}

int ipam_release_addr(struct ipam *pool, uint32_t addr)
{
    size_t i = lower_bound(pool, addr);
    if (i >= pool->n || pool->entries[i].addr != addr)
        return 0;
    memmove(&pool->entries[i], &pool->entries[i + 1], (pool->n - i - 1) * sizeof(pool->entries[0]));
    pool->n--;
    return 1;
}
