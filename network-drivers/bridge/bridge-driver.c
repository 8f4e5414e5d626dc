/* SPDX-License-Identifier: MIT */
/*
 * The bridge network driver: a Linux bridge per network holding the gateway
 * address, a veth pair per container with the container's end made directly
 * inside its namespace, addresses from a persistent IPAM (ipam.c,
 * ipam-store.c). This file holds the descriptor and the operations; links
 * are in bridge-link.c, the JSON contract in bridge-config.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <dirent.h>

#include "bridge.h"

static int bridge_init(const struct berth_services *services, void **ret_state)
{
    struct bridge *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->services = services;
    b->state_fd = b->addr_fd = b->old_fd = -1;
    int r = 0;
    /* init has no error object: failures are logged, once, here. */
    b->state_fd = open(services->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (b->state_fd < 0) {
        r = -errno;
        services->log(services->host, BERTH_LOG_ERROR, "bridge: open state dir '%s': %m",
                      services->state_dir);
        goto fail;
    }
    if (mkdirat(b->state_fd, "addresses", 0700) < 0 && errno != EEXIST) {
        r = -errno;
        services->log(services->host, BERTH_LOG_ERROR, "bridge: make '%s/addresses': %m",
                      services->state_dir);
        goto fail;
    }
    b->addr_fd = openat(b->state_fd, "addresses", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (b->addr_fd < 0) {
        r = -errno;
        services->log(services->host, BERTH_LOG_ERROR, "bridge: open '%s/addresses': %m",
                      services->state_dir);
        goto fail;
    }
    /* The former layout, one file per network: moved on each network's
     * first use (ipam-store.c), the directory removed by gc once empty. */
    b->old_fd = openat(b->state_fd, "ipam", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    *ret_state = b;
    return 0;
fail:
    closep(&b->state_fd);
    free(b);
    return r;
}

static void bridge_fini(void *state)
{
    struct bridge *b = state;
    if (!b)
        return;
    closep(&b->old_fd);
    closep(&b->addr_fd);
    closep(&b->state_fd);
    free(b);
}

static int open_host_socket(struct bridge *b, struct nl_sock **ret, struct berth_error *err)
{
    int r = nl_open(ret);
    if (r < 0)
        b->services->set_error(err, -r, "open a netlink socket: %s", strerror(-r));
    return r;
}

/* Makes or repairs the bridge of CFG and reports its index. */
static int ensure_bridge(struct bridge *b, struct nl_sock *sk, const struct net_config *cfg,
                         int *ret_ifindex, struct berth_error *err)
{
    char alias[ALIAS_MAX];
    bridge_alias(cfg->name, alias);
    int r = bridge_ensure(sk, cfg->bridge, alias, cfg->pool.gateway, cfg->pool.prefix, cfg->mtu,
                          ret_ifindex);
    if (r == -EMEDIUMTYPE)
        b->services->set_error(err, EEXIST,
                               "network '%s': interface '%s' exists and is not a bridge", cfg->name,
                               cfg->bridge);
    else if (r < 0)
        b->services->set_error(err, -r, "network '%s': set up bridge '%s': %s", cfg->name,
                               cfg->bridge, strerror(-r));
    return r;
}

static int bridge_create(void *state, const struct berth_network_request *req,
                         struct berth_text_result *res, struct berth_error *err)
{
    struct bridge *b = state;
    struct net_config cfg;
    int r = net_config_parse(b, req->network_name, req->network_json, &cfg, err);
    if (r < 0)
        return r;
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    int ifindex;
    if ((r = open_host_socket(b, &sk, err)) < 0 ||
        (r = ensure_bridge(b, sk, &cfg, &ifindex, err)) < 0)
        goto out;
    if (res && res->put) {
        char text[96];
        snprintf(text, sizeof(text), "{\"bridge\":\"%s\",\"host_interface\":\"%s\"}", cfg.bridge,
                 cfg.bridge);
        if ((r = res->put(res->host_ctx, text)) < 0)
            b->services->set_error(err, -r, "network '%s': store the result", cfg.name);
    }
out:
    net_config_done(&cfg);
    return r;
}

/* Deletes link NAME if it carries ALIAS, i.e. is this driver's for this
 * network (and container); a link that is someone else's stays. */
static int delete_if_ours(struct bridge *b, struct nl_sock *sk, const char *name, const char *alias,
                          struct berth_error *err)
{
    char have[ALIAS_MAX];
    int ifindex;
    int r = link_lookup(sk, name, &ifindex, have, sizeof(have));
    if (r == -ENODEV)
        return 0;
    if (r == 0 && strcmp(have, alias))
        return 0;
    if (r == 0)
        r = link_delete(sk, ifindex);
    if (r < 0)
        b->services->set_error(err, -r, "delete interface '%s': %s", name, strerror(-r));
    return r;
}

static int bridge_remove(void *state, const struct berth_network_request *req, void *res,
                         struct berth_error *err)
{
    (void)res;
    struct bridge *b = state;
    struct net_config cfg;
    int r = net_config_parse(b, req->network_name, req->network_json, &cfg, err);
    if (r < 0)
        return r;
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    char alias[ALIAS_MAX];
    bridge_alias(cfg.name, alias);
    if ((r = open_host_socket(b, &sk, err)) < 0 ||
        (r = delete_if_ours(b, sk, cfg.bridge, alias, err)) < 0)
        goto out;
    if ((r = ipam_forget_network(b, cfg.name)) < 0)
        b->services->set_error(err, -r, "network '%s': remove its addresses: %s", cfg.name,
                               strerror(-r));
out:
    net_config_done(&cfg);
    return r;
}

/* Takes an address for the container under the network's lock. */
static int ipam_take(struct bridge *b, const struct net_config *cfg, const char *container_id,
                     uint32_t requested, uint32_t *ret_addr, struct berth_error *err)
{
    struct ipam_session s;
    int r = ipam_session_open(b, cfg->name, 1, &s, err);
    if (r < 0)
        return r;
    r = ipam_session_take(&s, &cfg->pool, container_id, requested, ret_addr, err);
    ipam_session_close(&s);
    return r;
}

/* Releases the container's address (and ALSO, the one join reported, if it
 * holds that); a network without a directory holds none. */
static int ipam_give_back(struct bridge *b, const struct net_config *cfg, const char *container_id,
                          uint32_t also, struct berth_error *err)
{
    struct ipam_session s;
    int r = ipam_session_open(b, cfg->name, 0, &s, err);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    r = ipam_session_release(&s, container_id, also, err);
    ipam_session_close(&s);
    return r;
}

static int put_join_result(struct bridge *b, struct berth_text_result *res,
                           const struct net_config *cfg, const struct join_request *jr,
                           uint32_t addr, const char *mac, const char *host_name,
                           struct berth_error *err)
{
    char a[IPAM_ADDR_STRLEN], g[IPAM_ADDR_STRLEN];
    _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "interface", jr->interface) &&
             cJSON_AddStringToObject(o, "ip", ipam_format(addr, a)) &&
             cJSON_AddNumberToObject(o, "prefix_len", cfg->pool.prefix) &&
             cJSON_AddStringToObject(o, "gateway", ipam_format(cfg->pool.gateway, g)) &&
             cJSON_AddStringToObject(o, "mac", mac) &&
             cJSON_AddStringToObject(o, "host_interface", host_name) &&
             cJSON_AddStringToObject(o, "bridge", cfg->bridge);
    _cleanup_free_ char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
    if (!text) {
        b->services->set_error(err, ENOMEM, "network '%s': out of memory", cfg->name);
        return -ENOMEM;
    }
    int r = res && res->put ? res->put(res->host_ctx, text) : 0;
    if (r < 0)
        b->services->set_error(err, -r, "network '%s': store the result", cfg->name);
    return r;
}

/* Makes the veth pair; a leftover of an interrupted join of the same
 * container on the same network is deleted first. */
static int make_veth(struct bridge *b, struct nl_sock *sk, const struct net_config *cfg,
                     const char *container_id, const char *host_name, const char *peer_name,
                     int netns_fd, int bridge_ifindex, struct berth_error *err)
{
    char alias[ALIAS_MAX], have[ALIAS_MAX];
    veth_alias(cfg->name, container_id, alias);
    int r = veth_create(sk, host_name, peer_name, netns_fd, bridge_ifindex, cfg->mtu);
    if (r == -EEXIST) {
        int ifindex;
        int lr = link_lookup(sk, host_name, &ifindex, have, sizeof(have));
        if (lr == -ENODEV) {
            b->services->set_error(err, EEXIST,
                                   "network '%s': interface '%s' already exists in the "
                                   "container's network namespace",
                                   cfg->name, peer_name);
            return -EEXIST;
        }
        /* A freshly made pair has no alias yet: an empty one is a join
         * killed between veth_create and bridge_port_setup. */
        if (lr == 0 && strcmp(have, alias) && have[0]) {
            b->services->set_error(err, EEXIST,
                                   "network '%s': host interface '%s' belongs to something else "
                                   "(alias '%s')",
                                   cfg->name, host_name, have);
            return -EEXIST;
        }
        if (lr == 0 && (lr = link_delete(sk, ifindex)) == 0)
            r = veth_create(sk, host_name, peer_name, netns_fd, bridge_ifindex, cfg->mtu);
        else
            r = lr;
    }
    if (r < 0) {
        b->services->set_error(err, -r, "network '%s': create veth pair '%s'/'%s': %s", cfg->name,
                               host_name, peer_name, strerror(-r));
        return r;
    }
    /* IPv6 off before the host end comes up; berth's networks are IPv4
     * only, and a bridge port forwards IPv6 frames without IPv6 of its own.
     * Not fatal: the end then only gets no link-local address (below). */
    int r6 = host_end_disable_ipv6(host_name);
    if (r6 < 0 && r6 != -ENOENT)
        b->services->log(b->services->host, BERTH_LOG_DEBUG, "bridge: disable IPv6 on '%s': %s",
                         host_name, strerror(-r6));
    /* The alias first of all, in the same request as hairpin and up: from
     * here on gc recognises the pair should berth die. */
    if ((r = bridge_port_setup(sk, host_name, alias)) < 0)
        b->services->set_error(err, -r, "network '%s': set up bridge port '%s': %s", cfg->name,
                               host_name, strerror(-r));
    return r;
}

static int bridge_join(void *state, const struct berth_network_request *req,
                       struct berth_text_result *res, struct berth_error *err)
{
    struct bridge *b = state;
    const struct berth_services *sv = b->services;
    if (!container_id_valid(req->container_id) || !req->netns_path) {
        sv->set_error(err, EINVAL, "join needs a container id and a network namespace");
        return -EINVAL;
    }
    struct net_config cfg;
    struct join_request jr = {0};
    int r = net_config_parse(b, req->network_name, req->network_json, &cfg, err);
    if (r < 0)
        return r;
    _cleanup_nl_sock_ struct nl_sock *sk = NULL, *nsk = NULL;
    _cleanup_close_ int netns_fd = -1;
    char host_name[IFNAMSIZ], mac[18];
    uint32_t addr = 0;
    int made_veth = 0, bridge_ifindex = 0;
    host_veth_name(req->container_id, cfg.name, host_name);

    if ((r = join_request_parse(b, req->join_json, &jr, err)) < 0)
        goto out;
    netns_fd = open(req->netns_path, O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
        r = -errno;
        sv->set_error(err, -r, "open network namespace '%s': %m", req->netns_path);
        goto out;
    }
    if ((r = open_host_socket(b, &sk, err)) < 0)
        goto out;
    /* The core calls create before join, so the bridge is normally there
     * and one lookup is all it costs; if not, it is made here. */
    r = link_lookup(sk, cfg.bridge, &bridge_ifindex, NULL, 0);
    if (r == -ENODEV)
        r = ensure_bridge(b, sk, &cfg, &bridge_ifindex, err);
    else if (r < 0)
        sv->set_error(err, -r, "network '%s': look up bridge '%s': %s", cfg.name, cfg.bridge,
                      strerror(-r));
    if (r < 0)
        goto out;
    /* The address first: once recorded, a crash from here on leaves an
     * entry gc releases, never an address in use that IPAM thinks free. */
    if ((r = ipam_take(b, &cfg, req->container_id, jr.requested_ip, &addr, err)) < 0)
        goto out;
    if ((r = make_veth(b, sk, &cfg, req->container_id, host_name, jr.interface, netns_fd,
                       bridge_ifindex, err)) < 0)
        goto undo;
    made_veth = 1;
    if ((r = nl_open_in_netns(netns_fd, &nsk)) < 0) {
        sv->set_error(err, -r, "open a netlink socket in '%s': %s", req->netns_path, strerror(-r));
        goto undo;
    }
    if ((r = container_link_setup(nsk, jr.interface, addr, cfg.pool.prefix,
                                  cfg.internal ? 0 : cfg.pool.gateway, mac)) < 0) {
        sv->set_error(err, -r, "network '%s': configure '%s' in the container: %s", cfg.name,
                      jr.interface, strerror(-r));
        goto undo;
    }
    if ((r = put_join_result(b, res, &cfg, &jr, addr, mac, host_name, err)) < 0)
        goto undo;
    goto out;
undo:
    /* Nothing half made: the error already set stays the one reported. */
    if (made_veth) {
        int ifindex;
        if (link_lookup(sk, host_name, &ifindex, NULL, 0) == 0)
            link_delete(sk, ifindex);
    }
    if (ipam_give_back(b, &cfg, req->container_id, addr, NULL) < 0)
        sv->log(sv->host, BERTH_LOG_WARNING,
                "bridge: network '%s': could not release the address of '%s'; gc will", cfg.name,
                req->container_id);
out:
    join_request_done(&jr);
    net_config_done(&cfg);
    return r;
}

static int bridge_leave(void *state, const struct berth_network_request *req, void *res,
                        struct berth_error *err)
{
    (void)res;
    struct bridge *b = state;
    const struct berth_services *sv = b->services;
    if (!container_id_valid(req->container_id)) {
        sv->set_error(err, EINVAL, "leave needs a container id");
        return -EINVAL;
    }
    struct net_config cfg;
    struct join_request jr = {0};
    int r = net_config_parse(b, req->network_name, req->network_json, &cfg, err);
    if (r < 0)
        return r;
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    char host_name[IFNAMSIZ], alias[ALIAS_MAX];
    if ((r = join_request_parse(b, req->join_json, &jr, err)) < 0)
        goto out;
    /* The name join reported, else the one join would have chosen: a join
     * that died half-way reported nothing. */
    if (jr.host_interface)
        snprintf(host_name, sizeof(host_name), "%s", jr.host_interface);
    else
        host_veth_name(req->container_id, cfg.name, host_name);
    veth_alias(cfg.name, req->container_id, alias);
    /* Deleting a veth waits for an RCU grace period (~20 ms). When the core
     * says the namespace goes right after, its teardown removes the pair
     * off the critical path, so the delete is skipped. */
    if (!jr.netns_teardown) {
        if ((r = open_host_socket(b, &sk, err)) < 0 ||
            (r = delete_if_ours(b, sk, host_name, alias, err)) < 0)
            goto out;
    }
    r = ipam_give_back(b, &cfg, req->container_id, jr.result_ip, err);
out:
    join_request_done(&jr);
    net_config_done(&cfg);
    return r;
}

static int id_listed(const char *const *ids, uint32_t n, const char *id)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] && !strcmp(ids[i], id))
            return 1;
    return 0;
}

struct gc_ctx {
    struct bridge *b;
    struct nl_sock *sk;
    const struct berth_gc_request *req;
    struct berth_error *err; /* NULL once a failure was described */
};

static int gc_link(void *userdata, int ifindex, const char *name, const char *alias)
{
    struct gc_ctx *g = userdata;
    char network[NETWORK_NAME_MAX];
    const char *rest = alias + strlen(ALIAS_PREFIX);
    const char *colon = strchr(rest, ':');
    size_t len = colon ? (size_t)(colon - rest) : strlen(rest);
    if (len == 0 || len >= sizeof(network))
        return 0;
    memcpy(network, rest, len);
    network[len] = '\0';
    int keep = id_listed(g->req->object_ids, g->req->n_object_ids, network);
    if (keep && colon)
        keep = id_listed(g->req->container_ids, g->req->n_container_ids, colon + 1);
    if (keep)
        return 0;
    int r = link_delete(g->sk, ifindex);
    if (r < 0 && g->err) {
        g->b->services->set_error(g->err, -r, "gc: delete interface '%s': %s", name, strerror(-r));
        g->err = NULL;
    }
    if (r == 0)
        g->b->services->log(g->b->services->host, BERTH_LOG_INFO,
                            "bridge: gc removed interface '%s' (%s)", name, alias);
    return r;
}

static int gc_keep_container(void *userdata, const char *owner)
{
    const struct gc_ctx *g = userdata;
    return id_listed(g->req->container_ids, g->req->n_container_ids, owner);
}

/* For every network directory under DIR_FD (or, with SUFFIX, every file
 * NETWORK SUFFIX of the former layout): the addresses of unknown containers
 * go, and all of an unknown network's. */
static int gc_ipam_dir(struct gc_ctx *g, int dir_fd, const char *suffix)
{
    struct bridge *b = g->b;
    int dfd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -errno;
    }
    size_t sl = suffix ? strlen(suffix) : 0;
    int first = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        char network[NETWORK_NAME_MAX];
        if (n <= sl || n - sl >= sizeof(network) || (sl && strcmp(de->d_name + n - sl, suffix)))
            continue;
        memcpy(network, de->d_name, n - sl);
        network[n - sl] = '\0';
        if (!network_name_valid(network))
            continue;
        int r;
        if (!id_listed(g->req->object_ids, g->req->n_object_ids, network)) {
            r = ipam_forget_network(b, network);
        } else {
            /* Opening moves a file of the former layout into place. */
            struct ipam_session s;
            r = ipam_session_open(b, network, 0, &s, NULL);
            if (r == -ENOENT)
                continue;
            if (r == 0)
                r = ipam_session_gc(&s, gc_keep_container, g);
            ipam_session_close(&s);
        }
        if (r < 0 && !first)
            first = r;
    }
    closedir(d);
    return first;
}

/* Drops the addresses of unknown containers and networks, in both layouts;
 * the former layout's directory goes once it is empty. */
static int gc_ipam(struct gc_ctx *g)
{
    struct bridge *b = g->b;
    int r = 0;
    if (b->old_fd >= 0) {
        r = gc_ipam_dir(g, b->old_fd, ".json");
        if (r == 0)
            unlinkat(b->state_fd, "ipam", AT_REMOVEDIR); /* ENOTEMPTY: a stray file stays */
    }
    int r2 = gc_ipam_dir(g, b->addr_fd, NULL);
    return r < 0 ? r : r2;
}

static int bridge_gc(void *state, const struct berth_gc_request *req, void *res,
                     struct berth_error *err)
{
    (void)res;
    struct bridge *b = state;
    struct gc_ctx g = {.b = b, .req = req, .err = err};
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    int r = open_host_socket(b, &sk, err);
    if (r < 0)
        return r;
    g.sk = sk;
    /* Links first: an address is released only once nothing uses it. */
    int rl = links_foreach_ours(sk, gc_link, &g);
    if (rl < 0 && g.err) {
        b->services->set_error(g.err, -rl, "gc: list interfaces: %s", strerror(-rl));
        g.err = NULL;
    }
    int ri = gc_ipam(&g);
    if (ri < 0 && g.err) {
        b->services->set_error(g.err, -ri, "gc: addresses: %s", strerror(-ri));
        g.err = NULL;
    }
    return rl < 0 ? rl : ri;
}

static const struct berth_network_ops bridge_ops = {
    .size = sizeof(struct berth_network_ops),
    .create = bridge_create,
    .remove = bridge_remove,
    .join = bridge_join,
    .leave = bridge_leave,
    .gc = bridge_gc,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_NETWORK, "bridge", "0.1.0",
                    "Linux bridge per network, veth per container, persistent IPAM", 0, bridge_init,
                    bridge_fini, &bridge_ops)
