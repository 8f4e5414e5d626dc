/* SPDX-License-Identifier: MIT */
/*
 * The "nat" network driver: outbound masquerade for a network's subnet and
 * port publishing for its containers, in berth's own iptables chains or
 * nftables table. This file holds the descriptor, init/fini, the JSON of
 * <berth/network.h> and the dispatch to a backend (nat-backend.h);
 * docs/drivers/nat.md describes the rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <libiptc/libiptc.h>

#include "nat-backend.h"

static void cjson_deletep(cJSON **j)
{
    cJSON_Delete(*j);
}
#define _cleanup_cjson_ __attribute__((cleanup(cjson_deletep)))

static const struct nat_backend_ops *backend_ops(int backend)
{
    return backend == NAT_BACKEND_NFTABLES ? &nat_nftables_ops : &nat_iptables_ops;
}

/* Holds the "state" lock for the length of an operation. */
struct held_lock {
    struct nat *nat;
    int token;
};

static void unlockp(struct held_lock *l)
{
    if (l->nat)
        l->nat->services->unlock(l->nat->services->host, l->token);
}
#define _cleanup_unlock_ __attribute__((cleanup(unlockp)))

static int take_lock(struct nat *nat, struct held_lock *ret, struct berth_error *err)
{
    int r = nat->services->lock(nat->services->host, "state", &ret->token);
    if (r < 0) {
        nat_set_error(nat, err, -r, "take the nat state lock");
        return r;
    }
    ret->nat = nat;
    return 0;
}

static const cJSON *json_get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = json_get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int parse_json(struct nat *nat, const char *what, const char *text, cJSON **ret,
                      struct berth_error *err)
{
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        nat_set_error(nat, err, EINVAL, "malformed %s", what);
        return -EINVAL;
    }
    *ret = j;
    return 0;
}

/* The legacy tables are usable when the kernel has ip_tables (or loads it). */
static int iptables_usable(void)
{
    struct xtc_handle *h = iptc_init("nat");
    if (!h)
        return 0;
    iptc_free(h);
    return 1;
}

/*
 * Reads what nat needs of the network record. The backend is the one the
 * state already names (a network keeps its backend), else options.nat, else
 * iptables where the legacy tables work.
 */
static int parse_network(struct nat *nat, const cJSON *j, struct nat_network *ret,
                         struct berth_error *err)
{
    struct nat_network net = {0};
    const char *id = json_str(j, "id"), *name = json_str(j, "name");
    if (!nat_id_valid(id)) {
        nat_set_error(nat, err, EINVAL, "network record without a valid id");
        return -EINVAL;
    }
    snprintf(net.id, sizeof(net.id), "%s", id);
    snprintf(net.name, sizeof(net.name), "%s", name ? name : "");

    const char *subnet = json_str(j, "subnet");
    char addr[INET_ADDRSTRLEN];
    const char *slash = subnet ? strchr(subnet, '/') : NULL;
    char *end = NULL;
    long prefix = slash ? strtol(slash + 1, &end, 10) : -1;
    struct in_addr a;
    if (!slash || (size_t)(slash - subnet) >= sizeof(addr) || !end || *end || end == slash + 1 ||
        prefix < 0 || prefix > 32) {
        nat_set_error(nat, err, EINVAL, "network '%s': malformed subnet '%s'", net.name,
                      subnet ? subnet : "");
        return -EINVAL;
    }
    snprintf(addr, sizeof(addr), "%.*s", (int)(slash - subnet), subnet);
    if (inet_pton(AF_INET, addr, &a) != 1) {
        nat_set_error(nat, err, EAFNOSUPPORT, "network '%s': subnet '%s' is not IPv4", net.name,
                      subnet);
        return -EAFNOSUPPORT;
    }
    net.prefix_len = (uint8_t)prefix;
    net.mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
    net.subnet = a.s_addr & net.mask;
    net.internal = cJSON_IsTrue(json_get(j, "internal"));

    const char *bridge = json_str(json_get(json_get(j, "driver_state"), "bridge"), "bridge");
    if (bridge) {
        if (!*bridge || strlen(bridge) >= IFNAMSIZ || strchr(bridge, '/') ||
            strcmp(bridge, ".") == 0 || strcmp(bridge, "..") == 0) {
            nat_set_error(nat, err, EINVAL, "network '%s': bad bridge name '%s'", net.name, bridge);
            return -EINVAL;
        }
        snprintf(net.bridge, sizeof(net.bridge), "%s", bridge);
    }

    const char *opt = json_str(json_get(j, "options"), "nat");
    struct nat_network old;
    if (opt && strcmp(opt, "iptables") == 0)
        net.backend = NAT_BACKEND_IPTABLES;
    else if (opt && strcmp(opt, "nftables") == 0)
        net.backend = NAT_BACKEND_NFTABLES;
    else if (opt && *opt) {
        nat_set_error(nat, err, EINVAL,
                      "network '%s': unknown nat backend '%s' (iptables or nftables)", net.name,
                      opt);
        return -EINVAL;
    } else if (nat_network_load(nat, net.id, &old) == 0)
        net.backend = old.backend;
    else
        net.backend = iptables_usable() ? NAT_BACKEND_IPTABLES : NAT_BACKEND_NFTABLES;
    *ret = net;
    return 0;
}

static int write_sysctl(const char *path, const char *value)
{
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char cur[16] = "";
    /* Writing a sysctl that already holds the value still takes RTNL: skip it. */
    ssize_t n = read(fd, cur, sizeof(cur) - 1);
    if (n > 0 && (size_t)n == strlen(value) + 1 && strncmp(cur, value, strlen(value)) == 0)
        return 0;
    if (lseek(fd, 0, SEEK_SET) < 0 || write(fd, value, strlen(value)) < 0)
        return -errno;
    return 0;
}

static int set_sysctls(struct nat *nat, const struct nat_network *net, struct berth_error *err)
{
    int r;
    if (!net->internal) {
        r = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
        if (r < 0) {
            nat_set_error(nat, err, -r, "enable IPv4 forwarding: %s", strerror(-r));
            return r;
        }
    }
    if (!net->bridge[0])
        return 0;
    /* Lets packets DNAT'ed from 127.0.0.1 leave through the bridge. */
    char path[64 + IFNAMSIZ];
    snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", net->bridge);
    r = write_sysctl(path, "1");
    if (r < 0) {
        nat_set_error(nat, err, -r, "set route_localnet on bridge '%s': %s", net->bridge,
                      strerror(-r));
        return r;
    }
    return 0;
}

struct readd_ctx {
    const struct nat_network *net;
    struct berth_error *err;
};

static int readd_endpoint(struct nat *nat, struct nat_endpoint *ep, void *ctx)
{
    struct readd_ctx *c = ctx;
    return backend_ops(c->net->backend)->add_ports(nat, c->net, ep, c->err);
}

/*
 * Puts the network's rules back when something flushed them, with the ports
 * of every container joined to it. The check is cheap; the repair walks the
 * network's containers, which only a flush makes necessary.
 */
static int ensure_network(struct nat *nat, const struct nat_network *net, int is_new,
                          struct berth_error *err)
{
    const struct nat_backend_ops *ops = backend_ops(net->backend);
    int r = ops->check_present(nat, net);
    if (r > 0)
        return 0;
    if (r == 0 && !is_new)
        nat->services->log(nat->services->host, BERTH_LOG_INFO,
                           "nat: rules of network '%s' missing (%s), putting them back", net->name,
                           ops->name);
    r = ops->setup_network(nat, net, err);
    if (r < 0)
        return r;
    struct readd_ctx c = {net, err};
    return nat_foreach_endpoint(nat, net->id, readd_endpoint, &c);
}

/* Checks (and repairs) the network's rules and publishes EP's ports. */
static int publish(struct nat *nat, const struct nat_network *net, const struct nat_endpoint *ep,
                   struct berth_error *err)
{
    const struct nat_backend_ops *ops = backend_ops(net->backend);
    if (ops->join)
        return ops->join(nat, net, ep, err);
    int r = ensure_network(nat, net, 0, err);
    return r < 0 ? r : ops->add_ports(nat, net, ep, err);
}

static int count_backend(struct nat *nat, struct nat_network *net, void *ctx)
{
    (void)nat;
    const struct nat_network *self = ((const struct nat_network **)ctx)[0];
    int *n = ((int **)ctx)[1];
    if (net->backend == self->backend && strcmp(net->id, self->id) != 0)
        (*n)++;
    return 0;
}

static int is_last_of_backend(struct nat *nat, const struct nat_network *net)
{
    int n = 0;
    const void *ctx[2] = {net, &n};
    nat_foreach_network(nat, count_backend, ctx);
    return n == 0;
}

static int release_endpoint(struct nat *nat, const struct nat_network *net,
                            const struct nat_endpoint *ep, struct berth_error *err)
{
    int r = backend_ops(net->backend)->remove_ports(nat, net, ep, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < ep->n_ports; i++)
        nat_port_release(nat, ep->ports[i].proto, ep->ports[i].host_port, net->id,
                         ep->container_id);
    r = nat_endpoint_delete(nat, net->id, ep->container_id);
    if (r < 0)
        nat_set_error(nat, err, -r, "delete state of container '%s'", ep->container_id);
    return r;
}

static int release_endpoint_cb(struct nat *nat, struct nat_endpoint *ep, void *ctx)
{
    struct readd_ctx *c = ctx;
    return release_endpoint(nat, c->net, ep, c->err);
}

static int teardown(struct nat *nat, const struct nat_network *net, struct berth_error *err)
{
    struct readd_ctx c = {net, err};
    int r = nat_foreach_endpoint(nat, net->id, release_endpoint_cb, &c);
    if (r < 0)
        return r;
    r = backend_ops(net->backend)->teardown_network(nat, net, is_last_of_backend(nat, net), err);
    if (r < 0)
        return r;
    r = nat_network_delete(nat, net->id);
    if (r < 0)
        nat_set_error(nat, err, -r, "delete state of network '%s'", net->name);
    return r;
}

static int same_network(const struct nat_network *a, const struct nat_network *b)
{
    return strcmp(a->id, b->id) == 0 && strcmp(a->name, b->name) == 0 && a->subnet == b->subnet &&
           a->mask == b->mask && a->prefix_len == b->prefix_len &&
           strcmp(a->bridge, b->bridge) == 0 && a->internal == b->internal &&
           a->backend == b->backend;
}

/*
 * Makes or updates the network's state and rules. With DEFER_CHECK, a
 * network whose state says exactly what J says is not checked here: the
 * core calls create before every join, and the join checks (and repairs)
 * in the same pass that publishes its ports.
 */
static int create_locked(struct nat *nat, const cJSON *j, int defer_check, struct nat_network *ret,
                         struct berth_error *err)
{
    struct nat_network net, old;
    int r = parse_network(nat, j, &net, err);
    if (r < 0)
        return r;
    int is_new = nat_network_load(nat, net.id, &old) < 0;
    if (!is_new && defer_check && same_network(&net, &old)) {
        r = set_sysctls(nat, &net, err);
        if (r < 0)
            return r;
        *ret = net;
        return 0;
    }
    if (!is_new && old.backend != net.backend) {
        /* The backend changed: move the network and its containers over. */
        r = backend_ops(old.backend)
                ->teardown_network(nat, &old, is_last_of_backend(nat, &old), err);
        if (r < 0)
            return r;
    }
    r = set_sysctls(nat, &net, err);
    if (r < 0)
        return r;
    r = nat_network_save(nat, &net);
    if (r < 0) {
        nat_set_error(nat, err, -r, "save state of network '%s'", net.name);
        return r;
    }
    r = ensure_network(nat, &net, is_new, err);
    if (r < 0)
        return r;
    *ret = net;
    return 0;
}

static int nat_create(void *state, const struct berth_network_request *req,
                      struct berth_text_result *res, struct berth_error *err)
{
    struct nat *nat = state;
    _cleanup_cjson_ cJSON *j = NULL;
    int r = parse_json(nat, "network record", req->network_json, &j, err);
    if (r < 0)
        return r;
    _cleanup_unlock_ struct held_lock lock = {0};
    r = take_lock(nat, &lock, err);
    if (r < 0)
        return r;
    struct nat_network net;
    r = create_locked(nat, j, 1, &net, err);
    if (r < 0)
        return r;
    char out[64];
    snprintf(out, sizeof(out), "{\"backend\":\"%s\"}", backend_ops(net.backend)->name);
    return res->put(res->host_ctx, out);
}

static int nat_remove(void *state, const struct berth_network_request *req, void *res,
                      struct berth_error *err)
{
    (void)res;
    struct nat *nat = state;
    _cleanup_cjson_ cJSON *j = NULL;
    int r = parse_json(nat, "network record", req->network_json, &j, err);
    if (r < 0)
        return r;
    _cleanup_unlock_ struct held_lock lock = {0};
    r = take_lock(nat, &lock, err);
    if (r < 0)
        return r;
    struct nat_network net;
    r = nat_network_load(nat, json_str(j, "id"), &net);
    if (r == -ENOENT || r == -EINVAL)
        return 0; /* never created, or already removed */
    if (r < 0) {
        nat_set_error(nat, err, -r, "read state of network '%s'", json_str(j, "name"));
        return r;
    }
    return teardown(nat, &net, err);
}

/* Parses join_json.ports; an entry's failure names the entry. */
static int parse_ports(struct nat *nat, const cJSON *join, struct nat_endpoint *ep,
                       struct berth_error *err)
{
    const cJSON *ports = json_get(join, "ports");
    if (ports && !cJSON_IsNull(ports) && !cJSON_IsArray(ports)) {
        nat_set_error(nat, err, EINVAL, "\"ports\" is not an array");
        return -EINVAL;
    }
    int n = cJSON_GetArraySize(ports);
    if (n <= 0)
        return 0;
    ep->ports = calloc((size_t)n, sizeof(*ep->ports));
    if (!ep->ports)
        return -ENOMEM;
    const cJSON *p;
    cJSON_ArrayForEach(p, ports)
    {
        struct port_map *m = &ep->ports[ep->n_ports];
        const cJSON *hp = json_get(p, "host_port"), *cp = json_get(p, "container_port");
        const char *ip = json_str(p, "host_ip"), *proto = json_str(p, "protocol");
        int r;
        if (!cJSON_IsObject(p) || !cJSON_IsNumber(cp)) {
            nat_set_error(nat, err, EINVAL, "port %zu: container_port missing", ep->n_ports + 1);
            return -EINVAL;
        }
        if ((r = port_number_parse(cp->valuedouble, 0, &m->container_port)) < 0 ||
            (r = port_number_parse(cJSON_IsNumber(hp) ? hp->valuedouble : 0, 1, &m->host_port)) <
                0) {
            nat_set_error(nat, err, ERANGE, "port %zu: port numbers must be 1..65535",
                          ep->n_ports + 1);
            return r;
        }
        if ((r = port_proto_parse(proto, &m->proto)) < 0) {
            nat_set_error(nat, err, -r, "port %zu: unknown protocol '%s' (tcp or udp)",
                          ep->n_ports + 1, proto);
            return r;
        }
        if ((r = port_host_ip_parse(ip, &m->host_addr)) < 0) {
            nat_set_error(nat, err, -r, "port %zu: host address '%s' is not IPv4", ep->n_ports + 1,
                          ip);
            return r;
        }
        ep->n_ports++;
    }
    size_t dup;
    if (port_maps_find_duplicate(ep->ports, ep->n_ports, &dup) < 0) {
        nat_set_error(nat, err, EADDRINUSE, "host port %u/%s is published twice",
                      (unsigned)ep->ports[dup].host_port, port_proto_name(ep->ports[dup].proto));
        return -EADDRINUSE;
    }
    return 0;
}

struct taken_ctx {
    struct nat *nat;
    uint32_t host_addr;
};

/* A port is free when no berth container publishes it and bind() works:
 * DNAT would otherwise silently shadow a host service listening there. */
static int port_taken(void *ctx, uint8_t proto, uint16_t port)
{
    struct taken_ctx *c = ctx;
    if (nat_port_reserved(c->nat, proto, port))
        return 1;
    _cleanup_close_ int fd =
        socket(AF_INET, (proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    /* A connection in TIME_WAIT does not make a port busy for DNAT. */
    if (proto == IPPROTO_TCP)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = c->host_addr;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return 0;
    if (errno == EADDRINUSE || errno == EACCES)
        return 1;
    if (errno == EADDRNOTAVAIL) /* not a local address: nothing can listen there */
        return 0;
    return -errno;
}

static int reserve_ports(struct nat *nat, const struct nat_network *net, struct nat_endpoint *ep,
                         struct berth_error *err)
{
    uint16_t lo = 32768, hi = 60999;
    _cleanup_close_ int fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_RDONLY | O_CLOEXEC);
    char text[64];
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
    if (n > 0) {
        text[n] = '\0';
        port_range_parse(text, &lo, &hi);
    }
    for (size_t i = 0; i < ep->n_ports; i++) {
        struct port_map *m = &ep->ports[i];
        char owner[NAT_ID_MAX];
        int r = 0;
        if (m->host_port == 0) {
            /* Under the state lock, so the port stays free until reserved. */
            struct taken_ctx tc = {nat, m->host_addr};
            r = port_choose(m->proto, lo, hi, port_seed(ep->container_id, i), port_taken, &tc,
                            &m->host_port);
            if (r < 0) {
                nat_set_error(nat, err, -r, "no free host port for %u/%s",
                              (unsigned)m->container_port, port_proto_name(m->proto));
                goto fail;
            }
        }
        r = nat_port_reserve(nat, m->proto, m->host_port, net->id, ep->container_id, owner);
        if (r == -EADDRINUSE) {
            nat_set_error(nat, err, EADDRINUSE,
                          "host port %u/%s is already published by container %.12s",
                          (unsigned)m->host_port, port_proto_name(m->proto), owner);
            goto fail;
        }
        if (r < 0) {
            nat_set_error(nat, err, -r, "reserve host port %u/%s", (unsigned)m->host_port,
                          port_proto_name(m->proto));
            goto fail;
        }
        continue;
    fail:
        for (size_t k = 0; k < i; k++)
            nat_port_release(nat, ep->ports[k].proto, ep->ports[k].host_port, net->id,
                             ep->container_id);
        return r;
    }
    return 0;
}

static int put_ports(const struct nat_endpoint *ep, struct berth_text_result *res)
{
    _cleanup_cjson_ cJSON *j = cJSON_CreateObject();
    cJSON *arr = j ? cJSON_AddArrayToObject(j, "ports") : NULL;
    if (!arr)
        return -ENOMEM;
    char cip[INET_ADDRSTRLEN], hip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ep->container_addr, cip, sizeof(cip));
    for (size_t i = 0; i < ep->n_ports; i++) {
        const struct port_map *m = &ep->ports[i];
        cJSON *p = cJSON_CreateObject();
        if (!p || !cJSON_AddItemToArray(arr, p))
            return cJSON_Delete(p), -ENOMEM;
        inet_ntop(AF_INET, &m->host_addr, hip, sizeof(hip));
        if (!cJSON_AddStringToObject(p, "host_ip", hip) ||
            !cJSON_AddNumberToObject(p, "host_port", m->host_port) ||
            !cJSON_AddNumberToObject(p, "container_port", m->container_port) ||
            !cJSON_AddStringToObject(p, "protocol", port_proto_name(m->proto)) ||
            !cJSON_AddStringToObject(p, "container_ip", cip))
            return -ENOMEM;
    }
    _cleanup_free_ char *text = cJSON_PrintUnformatted(j);
    if (!text)
        return -ENOMEM;
    return res->put(res->host_ctx, text);
}

/* Undoes whatever a join of this container did, from its state file. */
static int leave_locked(struct nat *nat, const char *net_id, const char *ctr_id,
                        struct berth_error *err)
{
    struct nat_network net;
    int r = nat_network_load(nat, net_id, &net);
    if (r == -ENOENT)
        return 0; /* the network's teardown took everything */
    if (r < 0) {
        nat_set_error(nat, err, -r, "read state of network '%s'", net_id);
        return r;
    }
    struct nat_endpoint ep = {0};
    r = nat_endpoint_load(nat, net_id, ctr_id, &ep);
    if (r == -ENOENT) {
        /* Never joined, or died before its state was written: the rules
         * carry the container's tag (iptables); reservations go in gc. */
        snprintf(ep.container_id, sizeof(ep.container_id), "%s", ctr_id);
        return backend_ops(net.backend)->remove_ports(nat, &net, &ep, err);
    }
    if (r < 0) {
        nat_set_error(nat, err, -r, "read state of container '%s'", ctr_id);
        return r;
    }
    r = release_endpoint(nat, &net, &ep, err);
    nat_endpoint_done(&ep);
    return r;
}

static int check_ids(struct nat *nat, const cJSON *net, const struct berth_network_request *req,
                     struct berth_error *err)
{
    if (!nat_id_valid(json_str(net, "id")) || !nat_id_valid(req->container_id)) {
        nat_set_error(nat, err, EINVAL, "invalid network or container id");
        return -EINVAL;
    }
    return 0;
}

static int nat_join(void *state, const struct berth_network_request *req,
                    struct berth_text_result *res, struct berth_error *err)
{
    struct nat *nat = state;
    _cleanup_cjson_ cJSON *nj = NULL, *jj = NULL;
    int r = parse_json(nat, "network record", req->network_json, &nj, err);
    if (r < 0 || (r = parse_json(nat, "join request", req->join_json, &jj, err)) < 0 ||
        (r = check_ids(nat, nj, req, err)) < 0)
        return r;

    struct nat_endpoint ep = {0};
    snprintf(ep.container_id, sizeof(ep.container_id), "%s", req->container_id);
    /* The container's address comes from the driver before nat in the
     * chain: bridge, or any driver reporting "ip" (macvlan, a third party's). */
    const cJSON *results = json_get(jj, "results");
    const char *cip = json_str(json_get(results, "bridge"), "ip");
    for (const cJSON *r1 = results ? results->child : NULL; !cip && r1; r1 = r1->next)
        cip = json_str(r1, "ip");
    struct in_addr a;
    if (!cip || inet_pton(AF_INET, cip, &a) != 1) {
        nat_set_error(nat, err, EINVAL,
                      "no IPv4 address from the drivers before nat to publish to");
        return -EINVAL;
    }
    ep.container_addr = a.s_addr;
    /* Declared before the first goto: its cleanup runs at every exit. */
    _cleanup_unlock_ struct held_lock lock = {0};
    r = parse_ports(nat, jj, &ep, err);
    if (r < 0)
        goto out;

    r = take_lock(nat, &lock, err);
    if (r < 0)
        goto out;
    struct nat_network net;
    r = nat_network_load(nat, json_str(nj, "id"), &net);
    if (r < 0)
        r = create_locked(nat, nj, 0, &net, err); /* join without create: make it now */
    if (r < 0)
        goto out;
    /* A second join replaces the first, without leaking its ports. */
    if (nat_state_has_endpoint(nat, net.id, ep.container_id) &&
        (r = leave_locked(nat, net.id, ep.container_id, err)) < 0)
        goto out;
    r = reserve_ports(nat, &net, &ep, err);
    if (r < 0)
        goto out;
    /* State first: leave and gc find a half-made join through it. */
    r = nat_endpoint_save(nat, net.id, &ep);
    if (r < 0) {
        nat_set_error(nat, err, -r, "save state of container '%s'", ep.container_id);
        for (size_t i = 0; i < ep.n_ports; i++)
            nat_port_release(nat, ep.ports[i].proto, ep.ports[i].host_port, net.id,
                             ep.container_id);
        goto out;
    }
    r = publish(nat, &net, &ep, err);
    if (r < 0) {
        release_endpoint(nat, &net, &ep, NULL);
        goto out;
    }
    r = put_ports(&ep, res);
out:
    nat_endpoint_done(&ep);
    return r;
}

static int nat_leave(void *state, const struct berth_network_request *req, void *res,
                     struct berth_error *err)
{
    (void)res;
    struct nat *nat = state;
    _cleanup_cjson_ cJSON *nj = NULL;
    int r = parse_json(nat, "network record", req->network_json, &nj, err);
    if (r < 0 || (r = check_ids(nat, nj, req, err)) < 0)
        return r;
    _cleanup_unlock_ struct held_lock lock = {0};
    r = take_lock(nat, &lock, err);
    if (r < 0)
        return r;
    return leave_locked(nat, json_str(nj, "id"), req->container_id, err);
}

static int id_in(const char *id, const char *const *ids, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] && strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

struct gc_ctx {
    const struct berth_gc_request *req;
    const struct nat_network *net;
    struct berth_error *err;
    int failed; /* first error already described */
};

static int gc_endpoint(struct nat *nat, struct nat_endpoint *ep, void *ctx)
{
    struct gc_ctx *c = ctx;
    if (id_in(ep->container_id, c->req->container_ids, c->req->n_container_ids))
        return 0;
    if (release_endpoint(nat, c->net, ep, c->failed ? NULL : c->err) < 0)
        c->failed = 1;
    return 0;
}

static int gc_network(struct nat *nat, struct nat_network *net, void *ctx)
{
    struct gc_ctx *c = ctx;
    struct berth_error *err = c->failed ? NULL : c->err;
    int r;
    /* The host may name networks by id or by name; either keeps one. */
    if (!id_in(net->id, c->req->object_ids, c->req->n_object_ids) &&
        !(net->name[0] && id_in(net->name, c->req->object_ids, c->req->n_object_ids))) {
        r = teardown(nat, net, err);
    } else {
        c->net = net;
        nat_foreach_endpoint(nat, net->id, gc_endpoint, c);
        err = c->failed ? NULL : c->err;
        r = ensure_network(nat, net, 0, err);
    }
    if (r < 0)
        c->failed = 1;
    return 0;
}

static int nat_gc(void *state, const struct berth_gc_request *req, void *res,
                  struct berth_error *err)
{
    (void)res;
    struct nat *nat = state;
    _cleanup_unlock_ struct held_lock lock = {0};
    int r = take_lock(nat, &lock, err);
    if (r < 0)
        return r;
    struct gc_ctx c = {.req = req, .err = err};
    nat_foreach_network(nat, gc_network, &c);
    nat_ports_gc(nat);
    /* Rules that no state backs any more, on both backends. */
    if (nat_iptables_ops.gc(nat, c.failed ? NULL : err) < 0)
        c.failed = 1;
    if (nat_nftables_ops.gc(nat, c.failed ? NULL : err) < 0)
        c.failed = 1;
    return c.failed ? -EIO : 0;
}

static const struct berth_network_ops nat_ops = {
    .size = sizeof(struct berth_network_ops),
    .create = nat_create,
    .remove = nat_remove,
    .join = nat_join,
    .leave = nat_leave,
    .gc = nat_gc,
};

static int nat_init(const struct berth_services *services, void **ret_state)
{
    struct nat *nat = calloc(1, sizeof(*nat));
    if (!nat)
        return -ENOMEM;
    nat->services = services;
    int r = nat_state_open(nat);
    if (r < 0) {
        if (nat->state_fd >= 0)
            close(nat->state_fd);
        free(nat);
        return r;
    }
    *ret_state = nat;
    return 0;
}

static void nat_fini(void *state)
{
    struct nat *nat = state;
    if (!nat)
        return;
    nat_nftables_release(nat);
    if (nat->state_fd >= 0)
        close(nat->state_fd);
    free(nat);
}

BERTH_PLUGIN_DEFINE(BERTH_KIND_NETWORK, "nat", "0.1.0",
                    "outbound masquerade and port publishing (iptables or nftables)", 0, nat_init,
                    nat_fini, &nat_ops)
