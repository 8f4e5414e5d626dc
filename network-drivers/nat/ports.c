/* SPDX-License-Identifier: MIT */
/* Port publishing logic without side effects; see ports.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ports.h"

int port_proto_parse(const char *text, uint8_t *ret_proto)
{
    if (!text || strcmp(text, "tcp") == 0) {
        *ret_proto = IPPROTO_TCP;
        return 0;
    }
    if (strcmp(text, "udp") == 0) {
        *ret_proto = IPPROTO_UDP;
        return 0;
    }
    return -EPROTONOSUPPORT;
}

const char *port_proto_name(uint8_t proto)
{
    switch (proto) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    default:
        return "?";
    }
}

int port_number_parse(double value, int allow_zero, uint16_t *ret_port)
{
    /* NaN fails every comparison, hence the positive form. */
    if (!(value >= (allow_zero ? 0.0 : 1.0) && value <= 65535.0))
        return -ERANGE;
    if ((double)(uint32_t)value != value) /* a fraction: in range, so the cast is defined */
        return -ERANGE;
    *ret_port = (uint16_t)value;
    return 0;
}

int port_host_ip_parse(const char *text, uint32_t *ret_addr)
{
    if (!text || !*text) {
        *ret_addr = 0;
        return 0;
    }
    if (strchr(text, ':'))
        return -EAFNOSUPPORT;
    struct in_addr a;
    /* inet_pton, unlike inet_aton, refuses "1" and "010.1.1.1" shorthands. */
    if (inet_pton(AF_INET, text, &a) != 1)
        return -EINVAL;
    *ret_addr = a.s_addr;
    return 0;
}

int port_maps_find_duplicate(const struct port_map *maps, size_t n, size_t *ret_index)
{
    /* Requests hold a handful of ports: quadratic is the simple choice. */
    for (size_t i = 1; i < n; i++) {
        if (maps[i].host_port == 0)
            continue;
        for (size_t j = 0; j < i; j++)
            if (maps[j].host_port == maps[i].host_port && maps[j].proto == maps[i].proto) {
                *ret_index = i;
                return -EADDRINUSE;
            }
    }
    return 0;
}

int port_range_parse(const char *text, uint16_t *ret_lo, uint16_t *ret_hi)
{
    if (!text)
        return -EINVAL;
    char *end;
    errno = 0;
    long lo = strtol(text, &end, 10);
    if (end == text || errno)
        return -EINVAL;
    const char *p = end;
    long hi = strtol(p, &end, 10);
    if (end == p || errno)
        return -EINVAL;
    while (*end == ' ' || *end == '\t' || *end == '\n')
        end++;
    if (*end || lo < 1 || hi > 65535 || lo > hi)
        return -EINVAL;
    *ret_lo = (uint16_t)lo;
    *ret_hi = (uint16_t)hi;
    return 0;
}

uint32_t port_seed(const char *container_id, size_t index)
{
    uint32_t h = 2166136261u;
    for (const char *p = container_id ? container_id : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (size_t i = 0; i < sizeof(index); i++)
        h = (h ^ ((index >> (8 * i)) & 0xff)) * 16777619u;
    return h;
}

int port_choose(uint8_t proto, uint16_t lo, uint16_t hi, uint32_t seed, port_taken_fn taken,
                void *ctx, uint16_t *ret_port)
{
    if (lo == 0 || lo > hi)
        return -EINVAL;
    uint32_t span = (uint32_t)hi - lo + 1;
    uint32_t start = seed % span;
    for (uint32_t i = 0; i < span; i++) {
        uint16_t port = (uint16_t)(lo + (start + i) % span);
        int r = taken(ctx, proto, port);
        if (r < 0)
            return r;
        if (r == 0) {
            *ret_port = port;
            return 0;
        }
    }
    return -EADDRNOTAVAIL;
}

int port_key(uint8_t proto, uint16_t port, char buf[static PORT_KEY_MAX])
{
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return -EPROTONOSUPPORT;
    snprintf(buf, PORT_KEY_MAX, "%s-%u", port_proto_name(proto), (unsigned)port);
    return 0;
}
