#include "network/port-spec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "network/cidr.h"

static int parse_port(const char *s, size_t len, int *ret)
{
    if (len == 0 || len > 5)
        return -EINVAL;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -ERANGE;
    *ret = v;
    return 0;
}

int port_spec_parse(const char *s, struct port_spec *ret, const char **ret_reason)
{
    struct port_spec p = {.protocol = "tcp"};
    size_t len = strlen(s);
    const char *slash = strrchr(s, '/');
    if (slash) {
        if (!strcmp(slash + 1, "tcp") || !strcmp(slash + 1, "udp")) {
            memcpy(p.protocol, slash + 1, 4);
        } else {
            *ret_reason = "protocol must be tcp or udp";
            return -EINVAL;
        }
        len = (size_t)(slash - s);
    }
    /* Split on the last two colons: HOSTIP:HOSTPORT:CPORT. */
    const char *c2 = NULL, *c1 = NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':') {
            c1 = c2;
            c2 = s + i;
        }
    }
    const char *cport = c2 ? c2 + 1 : s;
    int r = parse_port(cport, (size_t)(s + len - cport), &p.container_port);
    if (r < 0) {
        *ret_reason =
            r == -ERANGE ? "container port must be 1 to 65535" : "container port is not a number";
        return -EINVAL;
    }
    if (c2) {
        const char *hport = c1 ? c1 + 1 : s;
        size_t hlen = (size_t)(c2 - hport);
        if (hlen > 0) {
            r = parse_port(hport, hlen, &p.host_port);
            if (r < 0) {
                *ret_reason =
                    r == -ERANGE ? "host port must be 1 to 65535" : "host port is not a number";
                return -EINVAL;
            }
        } else if (!c1) {
            *ret_reason = "empty host port";
            return -EINVAL;
        }
        if (c1) {
            size_t ilen = (size_t)(c1 - s);
            uint32_t ip;
            char buf[16];
            if (ilen == 0 || ilen >= sizeof(buf)) {
                *ret_reason = "host address is not an IPv4 address";
                return -EINVAL;
            }
            memcpy(buf, s, ilen);
            buf[ilen] = '\0';
            if (ipv4_parse(buf, &ip) < 0) {
                *ret_reason = "host address is not an IPv4 address";
                return -EINVAL;
            }
            memcpy(p.host_ip, buf, ilen + 1);
        }
    }
    *ret = p;
    return 0;
}
