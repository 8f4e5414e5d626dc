/* -p specs as docker takes them. Pure. */
#ifndef BERTH_PORT_SPEC_H
#define BERTH_PORT_SPEC_H

struct port_spec {
    char host_ip[16]; /* "" = every address */
    int host_port;    /* 0 = a free one */
    int container_port;
    char protocol[4]; /* "tcp" or "udp" */
};

/*
 * Parses "[HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO]", "HOSTIP::CONTAINERPORT[/PROTO]"
 * or "CONTAINERPORT[/PROTO]". On error returns -EINVAL and a static reason.
 */
int port_spec_parse(const char *s, struct port_spec *ret, const char **ret_reason);

#endif
