/* SPDX-License-Identifier: MIT */
/*
 * Pure logic of port publishing: parsing and validating what the host asks
 * for, and choosing a free host port. Nothing here touches the system: the
 * caller says through a callback whether a port is taken, so that the unit
 * tests can drive every case (tests/unit/test-nat-ports.c).
 */
#ifndef NAT_PORTS_H
#define NAT_PORTS_H

#include <stddef.h>
#include <stdint.h>

/* One published port. Addresses in network byte order, ports in host order. */
struct port_map {
    uint32_t host_addr; /* 0: every local address of the host */
    uint16_t host_port; /* 0 until chosen */
    uint16_t container_port;
    uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

/* "tcp-65535" and its NUL. */
#define PORT_KEY_MAX 16

/* "tcp" or "udp" (NULL means tcp) into IPPROTO_*; -EPROTONOSUPPORT otherwise. */
int port_proto_parse(const char *text, uint8_t *ret_proto);
/* "tcp" or "udp"; "?" for anything else. */
const char *port_proto_name(uint8_t proto);

/*
 * A port number as it came in JSON (a double). 1..65535 is accepted, and 0
 * when ALLOW_ZERO (a host port to be chosen). Fractions, negatives and larger
 * values give -ERANGE.
 */
int port_number_parse(double value, int allow_zero, uint16_t *ret_port);

/* A dotted IPv4 host address; NULL or "" mean 0.0.0.0. IPv6 and malformed
 * text give -EAFNOSUPPORT and -EINVAL. */
int port_host_ip_parse(const char *text, uint32_t *ret_addr);

/*
 * Two entries of one request that publish the same host port and protocol
 * (explicit ports only: 0 is chosen later) would shadow each other. Returns 0,
 * or -EADDRINUSE and the index of the second entry in *RET_INDEX.
 */
int port_maps_find_duplicate(const struct port_map *maps, size_t n, size_t *ret_index);

/*
 * Parses /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999\n").
 * Returns -EINVAL unless 1 <= lo <= hi <= 65535.
 */
int port_range_parse(const char *text, uint16_t *ret_lo, uint16_t *ret_hi);

/* A stable starting point for the search, so that containers do not all
 * probe the same ports in the same order (FNV-1a of the id and index). */
uint32_t port_seed(const char *container_id, size_t index);

/*
 * Returns >0 when PORT/PROTO is taken (published by berth or bound on the
 * host), 0 when free, or a negative errno that stops the search.
 */
typedef int (*port_taken_fn)(void *ctx, uint8_t proto, uint16_t port);

/*
 * Chooses a free port in LO..HI, starting at LO + SEED % (HI - LO + 1) and
 * wrapping around. Returns 0 and the port, -EADDRNOTAVAIL when every port is
 * taken, -EINVAL on a bad range, or the callback's error.
 */
int port_choose(uint8_t proto, uint16_t lo, uint16_t hi, uint32_t seed, port_taken_fn taken,
                void *ctx, uint16_t *ret_port);

/* The name of a reservation: "tcp-8080". */
int port_key(uint8_t proto, uint16_t port, char buf[static PORT_KEY_MAX]);

#endif
