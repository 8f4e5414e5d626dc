/* SPDX-License-Identifier: MIT */
/*
 * macvlan: a network driver that gives each container a macvlan
 * sub-interface of a host link, so containers sit directly on the parent's
 * segment with their own MAC address.
 *
 *   berth network create --driver macvlan --opt parent=eth1 \
 *       --subnet 192.168.50.0/24 --gateway 192.168.50.1 lan
 *   berth network create --driver macvlan,nat --opt parent=eth1 ... lan   # with nat after it
 *   berth run --network lan busybox ip addr
 *
 * An example of the SDK (sdk/examples/README.md). What it shows:
 *
 *  - a network driver in a chain: join reports {"ip", "prefix_len",
 *    "gateway", "mac", "interface"} (the shape bridge reports), which the
 *    drivers after it (nat) read from join_json's "results";
 *  - creating a link straight inside the container's network namespace
 *    (the new link carries the namespace's fd), which skips a slow move;
 *  - configuring a namespace without a thread or a fork: enter it, open a
 *    netlink socket (it stays bound to that namespace), come back;
 *  - a small IPAM kept as files in the state dir under a host lock, with
 *    leave and gc giving addresses back;
 *  - linking a third-party library (libnl-route-3, from Debian's
 *    libnl-route-3-dev) from a plugin: only berth_plugin_entry is exported.
 *
 * Options (network create --opt): parent=LINK (required, a host link),
 * mode=bridge|private|vepa|passthru (default bridge).
 *
 * State, below services->state_dir:
 *   ipam/NETWORK_ID/ADDRESS    holds the container id that has ADDRESS
 *   ipam/NETWORK_ID/.name      the network's name (gc gets names, not ids)
 *
 * The host cannot talk to its own macvlan children through the parent (a
 * property of macvlan); containers on one parent talk to each other in
 * bridge mode.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/route.h>

#include <berth/network.h>

struct macvlan {
    const struct berth_services *s; /* valid until fini */
    char *ipam_dir;                 /* STATE_DIR/ipam */
};

#define FAIL(m, err, errnum, ...) ((m)->s->set_error((err), (errnum), __VA_ARGS__), -(errnum))

BERTH_PRINTF(3, 4) static void pathf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* libnl has its own error codes; berth wants errno values. */
static int nlerr(int r)
{
    if (r >= 0)
        return r;
    switch (-r) {
    case NLE_EXIST:
        return -EEXIST;
    case NLE_NODEV:
    case NLE_OBJ_NOTFOUND:
        return -ENODEV;
    case NLE_NOMEM:
        return -ENOMEM;
    case NLE_PERM:
    case NLE_NOACCESS:
        return -EPERM;
    case NLE_BUSY:
        return -EBUSY;
    case NLE_INVAL:
        return -EINVAL;
    case NLE_OPNOTSUPP:
        return -EOPNOTSUPP;
    default:
        return -EIO;
    }
}

/* ---- what the host hands us ------------------------------------------ */

/* The parts of the network record this driver uses. */
struct net {
    char id[65];
    char name[256];
    char parent[IFNAMSIZ];
    int mode;                                    /* MACVLAN_MODE_* */
    uint32_t subnet, mask, gateway, first, last; /* host order; first..last to hand out */
    unsigned prefix;
};

static int parse_cidr(const char *text, uint32_t *ret_addr, unsigned *ret_prefix)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = text ? strchr(text, '/') : NULL;
    if (!slash || (size_t)(slash - text) >= sizeof(addr))
        return -EINVAL;
    memcpy(addr, text, (size_t)(slash - text));
    addr[slash - text] = '\0';
    char *end;
    long p = strtol(slash + 1, &end, 10);
    struct in_addr a;
    if (*end || p < 8 || p > 30 || inet_pton(AF_INET, addr, &a) != 1)
        return -EINVAL;
    *ret_addr = ntohl(a.s_addr);
    *ret_prefix = (unsigned)p;
    return 0;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int parse_network(struct macvlan *m, const char *json, struct net *net,
                         struct berth_error *err)
{
    cJSON *j = cJSON_Parse(json ? json : "");
    int r = 0;
    memset(net, 0, sizeof(*net));
    const char *id = str(j, "id"), *subnet = str(j, "subnet"), *gw = str(j, "gateway");
    const char *range = str(j, "ip_range");
    const cJSON *opts = cJSON_GetObjectItem(j, "options");
    const char *parent = str(opts, "parent"), *mode = str(opts, "mode");
    uint32_t addr;
    struct in_addr a;
    if (!id || strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64) {
        r = FAIL(m, err, EINVAL, "the network record has no valid id");
    } else if (!parent || !*parent || strlen(parent) >= IFNAMSIZ || strchr(parent, '/')) {
        r = FAIL(m, err, EINVAL, "macvlan needs --opt parent=LINK (a host network interface)");
    } else if (parse_cidr(subnet, &net->subnet, &net->prefix) < 0) {
        r = FAIL(m, err, EINVAL, "malformed subnet '%s'", subnet ? subnet : "");
    } else {
        snprintf(net->id, sizeof(net->id), "%s", id);
        snprintf(net->name, sizeof(net->name), "%s", str(j, "name") ? str(j, "name") : "");
        snprintf(net->parent, sizeof(net->parent), "%s", parent);
        net->mask = net->prefix ? ~0u << (32 - net->prefix) : 0;
        net->first = net->subnet + 1;
        net->last = (net->subnet | ~net->mask) - 1;
        if (gw && inet_pton(AF_INET, gw, &a) == 1)
            net->gateway = ntohl(a.s_addr);
        unsigned rp;
        if (range && parse_cidr(range, &addr, &rp) == 0) {
            uint32_t rmask = ~0u << (32 - rp);
            net->first = (addr & rmask) > net->first ? (addr & rmask) : net->first;
            net->last =
                ((addr & rmask) | ~rmask) < net->last ? ((addr & rmask) | ~rmask) : net->last;
        }
        if (!mode || !strcmp(mode, "bridge"))
            net->mode = MACVLAN_MODE_BRIDGE;
        else if (!strcmp(mode, "private"))
            net->mode = MACVLAN_MODE_PRIVATE;
        else if (!strcmp(mode, "vepa"))
            net->mode = MACVLAN_MODE_VEPA;
        else if (!strcmp(mode, "passthru"))
            net->mode = MACVLAN_MODE_PASSTHRU;
        else
            r = FAIL(m, err, EINVAL, "mode=%s: want bridge, private, vepa or passthru", mode);
    }
    cJSON_Delete(j);
    return r;
}

/* ---- init and fini ---------------------------------------------------- */

static int macvlan_init(const struct berth_services *services, void **ret_state)
{
    struct macvlan *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->s = services;
    if (asprintf(&m->ipam_dir, "%s/ipam", services->state_dir) < 0) {
        free(m);
        return -ENOMEM;
    }
    if (mkdir(m->ipam_dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        free(m->ipam_dir);
        free(m);
        return -e;
    }
    *ret_state = m;
    return 0;
}

static void macvlan_fini(void *state)
{
    struct macvlan *m = state;
    if (!m)
        return;
    free(m->ipam_dir);
    free(m);
}

/* ---- netlink ------------------------------------------------------------- */

static int nl_open(struct nl_sock **ret)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return -ENOMEM;
    int r = nl_connect(sk, NETLINK_ROUTE); /* libnl opens it SOCK_CLOEXEC */
    if (r < 0) {
        nl_socket_free(sk);
        return nlerr(r);
    }
    *ret = sk;
    return 0;
}

/* A netlink socket inside the namespace NETNS_FD: enter, open, come back. */
static int nl_open_in(int netns_fd, struct nl_sock **ret)
{
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -errno;
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        int e = errno;
        close(self);
        return -e;
    }
    int r = nl_open(ret);
    if (setns(self, CLONE_NEWNET) < 0)
        abort(); /* going on would configure the host as if it were the container */
    close(self);
    return r;
}

static int host_ifindex(struct nl_sock *sk, const char *name)
{
    struct rtnl_link *link = NULL;
    int r = nlerr(rtnl_link_get_kernel(sk, 0, name, &link));
    if (r < 0)
        return r;
    r = rtnl_link_get_ifindex(link);
    rtnl_link_put(link);
    return r;
}

static struct nl_addr *v4(uint32_t addr, unsigned prefix)
{
    uint32_t be = htonl(addr);
    struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));
    if (a)
        nl_addr_set_prefixlen(a, (int)prefix);
    return a;
}

/* Inside the container: address, link up, default route; reports the MAC. */
static int configure(struct nl_sock *nsk, const char *ifname, const struct net *net, uint32_t addr,
                     char mac[32])
{
    struct rtnl_link *link = NULL, *change = NULL;
    struct rtnl_addr *ra = rtnl_addr_alloc();
    struct nl_addr *local = v4(addr, net->prefix);
    struct rtnl_route *route = NULL;
    int r = nlerr(rtnl_link_get_kernel(nsk, 0, ifname, &link));
    if (r < 0)
        goto out;
    int ifindex = rtnl_link_get_ifindex(link);
    if (!ra || !local) {
        r = -ENOMEM;
        goto out;
    }
    rtnl_addr_set_ifindex(ra, ifindex);
    rtnl_addr_set_local(ra, local);
    if ((r = nlerr(rtnl_addr_add(nsk, ra, NLM_F_REPLACE))) < 0)
        goto out;
    if (!(change = rtnl_link_alloc())) {
        r = -ENOMEM;
        goto out;
    }
    rtnl_link_set_flags(change, IFF_UP);
    if ((r = nlerr(rtnl_link_change(nsk, link, change, 0))) < 0)
        goto out;
    if (net->gateway) {
        struct nl_addr *dst = v4(0, 0), *gw = v4(net->gateway, 32);
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        route = rtnl_route_alloc();
        if (!dst || !gw || !nh || !route) {
            r = -ENOMEM;
        } else {
            rtnl_route_nh_set_ifindex(nh, ifindex);
            rtnl_route_nh_set_gateway(nh, gw);
            rtnl_route_add_nexthop(route, nh); /* ROUTE owns NH now */
            nh = NULL;
            rtnl_route_set_family(route, AF_INET);
            rtnl_route_set_table(route, RT_TABLE_MAIN);
            rtnl_route_set_dst(route, dst);
            r = nlerr(rtnl_route_add(nsk, route, NLM_F_REPLACE));
        }
        if (nh)
            rtnl_route_nh_free(nh);
        if (dst)
            nl_addr_put(dst);
        if (gw)
            nl_addr_put(gw);
        if (r < 0)
            goto out;
    }
    struct nl_addr *ll = rtnl_link_get_addr(link);
    mac[0] = '\0';
    if (ll)
        nl_addr2str(ll, mac, 32);
out:
    if (route)
        rtnl_route_put(route);
    if (local)
        nl_addr_put(local);
    if (ra)
        rtnl_addr_put(ra);
    if (change)
        rtnl_link_put(change);
    if (link)
        rtnl_link_put(link);
    return r;
}

/* ---- IPAM: one file per address in use --------------------------------- */

static void addr_text(uint32_t addr, char out[INET_ADDRSTRLEN])
{
    struct in_addr a = {.s_addr = htonl(addr)};
    inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

/* Claims WANT (if non-zero) or the first free address for CONTAINER_ID.
 * O_EXCL makes the claim atomic; the lock keeps the scan consistent. */
static int ipam_claim(struct macvlan *m, const struct net *net, const char *container_id,
                      uint32_t want, uint32_t *ret, struct berth_error *err)
{
    char dir[PATH_MAX], path[PATH_MAX], text[INET_ADDRSTRLEN];
    pathf(dir, sizeof(dir), "%s/%s", m->ipam_dir, net->id);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return FAIL(m, err, errno, "mkdir '%s'", dir);
    pathf(path, sizeof(path), "%s/.name", dir);
    if (access(path, F_OK) < 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, net->name, strlen(net->name)) != (ssize_t)strlen(net->name)) {
            if (fd >= 0)
                close(fd);
            unlink(path);
            return FAIL(m, err, EIO, "write '%s'", path);
        }
        close(fd);
    }
    uint32_t from = want ? want : net->first, to = want ? want : net->last;
    if (want && ((want & net->mask) != net->subnet || want == net->gateway))
        return FAIL(m, err, EINVAL, "address outside the network or its gateway");
    for (uint32_t a = from; a <= to && a >= from; a++) {
        if (a == net->gateway)
            continue;
        addr_text(a, text);
        pathf(path, sizeof(path), "%s/%s", dir, text);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
            /* Ours already (a retried join)? */
            char owner[129] = "";
            int rfd = open(path, O_RDONLY | O_CLOEXEC);
            if (rfd >= 0) {
                ssize_t n = read(rfd, owner, sizeof(owner) - 1);
                owner[n > 0 ? n : 0] = '\0';
                close(rfd);
            }
            if (strcmp(owner, container_id) == 0) {
                *ret = a;
                return 0;
            }
            continue;
        }
        if (fd < 0)
            return FAIL(m, err, errno, "claim '%s'", path);
        size_t n = strlen(container_id);
        int ok = write(fd, container_id, n) == (ssize_t)n;
        close(fd);
        if (!ok) {
            unlink(path);
            return FAIL(m, err, EIO, "write '%s'", path);
        }
        *ret = a;
        return 0;
    }
    if (want)
        return FAIL(m, err, EADDRINUSE, "address %s is in use", text);
    return FAIL(m, err, ENOSPC, "no free address left in the network");
}

/* Releases every address of CONTAINER_ID (or, with NULL, of containers not
 * in KEEP) in the network directory DIR. */
static void ipam_release(const char *dir, const char *container_id, const char *const *keep,
                         uint32_t n_keep)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char owner[129] = "";
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, owner, sizeof(owner) - 1);
        owner[n > 0 ? n : 0] = '\0';
        close(fd);
        int drop = 0;
        if (container_id) {
            drop = strcmp(owner, container_id) == 0;
        } else {
            drop = 1;
            for (uint32_t i = 0; i < n_keep && drop; i++)
                drop = strcmp(keep[i], owner) != 0;
        }
        if (drop)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static int lock_network(struct macvlan *m, const struct net *net, int *ret_token,
                        struct berth_error *err)
{
    char name[80];
    snprintf(name, sizeof(name), "ipam-%.16s", net->id);
    int r = m->s->lock(m->s->host, name, ret_token);
    if (r < 0 && err)
        return FAIL(m, err, -r, "lock the network's addresses");
    return r;
}

/* ---- operations --------------------------------------------------------- */

/* create: checks that the parent exists; reports it. Nothing to make. */
static int macvlan_create(void *state, const struct berth_network_request *req,
                          struct berth_text_result *res, struct berth_error *err)
{
    struct macvlan *m = state;
    struct net net;
    int r = parse_network(m, req->network_json, &net, err);
    if (r < 0)
        return r;
    struct nl_sock *sk = NULL;
    if ((r = nl_open(&sk)) < 0)
        return FAIL(m, err, -r, "netlink");
    r = host_ifindex(sk, net.parent);
    nl_socket_free(sk);
    if (r < 0)
        return FAIL(m, err, -r, "parent link '%s'", net.parent);
    char out[96];
    snprintf(out, sizeof(out), "{\"parent\": \"%s\"}", net.parent);
    return res->put(res->host_ctx, out);
}

/* remove: forget the network's addresses. */
static int macvlan_remove(void *state, const struct berth_network_request *req, void *res,
                          struct berth_error *err)
{
    struct macvlan *m = state;
    (void)res;
    struct net net;
    int r = parse_network(m, req->network_json, &net, err), token;
    if (r < 0)
        return r;
    if ((r = lock_network(m, &net, &token, err)) < 0)
        return r;
    char dir[PATH_MAX];
    pathf(dir, sizeof(dir), "%s/%s", m->ipam_dir, net.id);
    ipam_release(dir, NULL, NULL, 0); /* keep nobody */
    pathf(dir, sizeof(dir), "%s/%s/.name", m->ipam_dir, net.id);
    unlink(dir);
    pathf(dir, sizeof(dir), "%s/%s", m->ipam_dir, net.id);
    rmdir(dir);
    m->s->unlock(m->s->host, token);
    return 0;
}

/*
 * join: an address, then a macvlan of the parent made directly in the
 * container's namespace under the requested interface name, configured
 * from inside. Any failure undoes what was done (leave would too).
 */
static int macvlan_join(void *state, const struct berth_network_request *req,
                        struct berth_text_result *res, struct berth_error *err)
{
    struct macvlan *m = state;
    struct net net;
    int r = parse_network(m, req->network_json, &net, err), token;
    if (r < 0)
        return r;
    cJSON *jj = cJSON_Parse(req->join_json ? req->join_json : "{}");
    const char *ifname = str(jj, "interface"), *want_text = str(jj, "ip");
    char name[IFNAMSIZ];
    snprintf(name, sizeof(name), "%s", ifname ? ifname : "eth0");
    uint32_t want = 0;
    struct in_addr a;
    if (want_text && inet_pton(AF_INET, want_text, &a) == 1)
        want = ntohl(a.s_addr);
    cJSON_Delete(jj);

    uint32_t addr = 0;
    if ((r = lock_network(m, &net, &token, err)) < 0)
        return r;
    r = ipam_claim(m, &net, req->container_id, want, &addr, err);
    m->s->unlock(m->s->host, token);
    if (r < 0)
        return r;

    struct nl_sock *sk = NULL, *nsk = NULL;
    struct rtnl_link *link = NULL;
    char mac[32] = "", ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN] = "";
    int nsfd = open(req->netns_path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        r = FAIL(m, err, errno, "open '%s'", req->netns_path);
        goto out;
    }
    if ((r = nl_open(&sk)) < 0 || (r = nl_open_in(nsfd, &nsk)) < 0) {
        r = FAIL(m, err, -r, "netlink");
        goto out;
    }
    int parent = host_ifindex(sk, net.parent);
    if (parent < 0) {
        r = FAIL(m, err, -parent, "parent link '%s'", net.parent);
        goto out;
    }
    /* The new link names its parent (an index in the host namespace) and
     * the namespace it is born in. */
    if (!(link = rtnl_link_macvlan_alloc())) {
        r = FAIL(m, err, ENOMEM, "macvlan");
        goto out;
    }
    rtnl_link_set_link(link, parent);
    rtnl_link_set_name(link, name);
    rtnl_link_set_ns_fd(link, nsfd);
    rtnl_link_macvlan_set_mode(link, (uint32_t)net.mode);
    r = nlerr(rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL));
    if (r == -EEXIST)
        r = 0; /* a retried join: configure it again */
    if (r < 0) {
        r = FAIL(m, err, -r, "create macvlan '%s' on '%s'", name, net.parent);
        goto out;
    }
    if ((r = configure(nsk, name, &net, addr, mac)) < 0) {
        r = FAIL(m, err, -r, "configure '%s' in the container", name);
        goto out;
    }
    addr_text(addr, ip);
    if (net.gateway)
        addr_text(net.gateway, gw);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "interface", name);
    cJSON_AddStringToObject(o, "ip", ip);
    cJSON_AddNumberToObject(o, "prefix_len", net.prefix);
    if (net.gateway)
        cJSON_AddStringToObject(o, "gateway", gw);
    cJSON_AddStringToObject(o, "mac", mac);
    cJSON_AddStringToObject(o, "parent", net.parent);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    r = text ? res->put(res->host_ctx, text) : FAIL(m, err, ENOMEM, "result");
    free(text);
out:
    if (r < 0) {
        /* Undo: the link (if made) goes, the address is given back. */
        if (nsk) {
            struct rtnl_link *l = NULL;
            if (rtnl_link_get_kernel(nsk, 0, name, &l) >= 0) {
                rtnl_link_delete(nsk, l);
                rtnl_link_put(l);
            }
        }
        char dir[PATH_MAX];
        pathf(dir, sizeof(dir), "%s/%s", m->ipam_dir, net.id);
        if (lock_network(m, &net, &token, NULL) == 0) {
            ipam_release(dir, req->container_id, NULL, 0);
            m->s->unlock(m->s->host, token);
        }
    }
    if (link)
        rtnl_link_put(link);
    if (sk)
        nl_socket_free(sk);
    if (nsk)
        nl_socket_free(nsk);
    if (nsfd >= 0)
        close(nsfd);
    return r;
}

/* leave: delete the link (unless the namespace is about to go, which takes
 * it along) and give the address back. Succeeds after a half join. */
static int macvlan_leave(void *state, const struct berth_network_request *req, void *res,
                         struct berth_error *err)
{
    struct macvlan *m = state;
    (void)res;
    struct net net;
    int r = parse_network(m, req->network_json, &net, err), token;
    if (r < 0)
        return r;
    cJSON *jj = cJSON_Parse(req->join_json ? req->join_json : "{}");
    const char *ifname = str(jj, "interface");
    int teardown = cJSON_IsTrue(cJSON_GetObjectItem(jj, "netns_teardown"));
    char name[IFNAMSIZ];
    snprintf(name, sizeof(name), "%s", ifname ? ifname : "eth0");
    cJSON_Delete(jj);

    int nsfd = req->netns_path && !teardown ? open(req->netns_path, O_RDONLY | O_CLOEXEC) : -1;
    struct nl_sock *nsk = NULL;
    if (nsfd >= 0 && nl_open_in(nsfd, &nsk) == 0) {
        struct rtnl_link *l = NULL;
        if (rtnl_link_get_kernel(nsk, 0, name, &l) >= 0) {
            r = nlerr(rtnl_link_delete(nsk, l));
            rtnl_link_put(l);
        }
        nl_socket_free(nsk);
    }
    if (nsfd >= 0)
        close(nsfd);
    if (r < 0 && r != -ENODEV)
        return FAIL(m, err, -r, "delete '%s' in the container", name);

    if ((r = lock_network(m, &net, &token, err)) < 0)
        return r;
    char dir[PATH_MAX];
    pathf(dir, sizeof(dir), "%s/%s", m->ipam_dir, net.id);
    ipam_release(dir, req->container_id, NULL, 0);
    m->s->unlock(m->s->host, token);
    return 0;
}

/* gc: addresses of containers berth does not know, networks it does not
 * know (only when it passes their names). The links died with the
 * containers' namespaces. */
static int macvlan_gc(void *state, const struct berth_gc_request *req, void *res,
                      struct berth_error *err)
{
    struct macvlan *m = state;
    (void)res;
    DIR *d = opendir(m->ipam_dir);
    if (!d)
        return FAIL(m, err, errno, "open '%s'", m->ipam_dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char dir[PATH_MAX], path[PATH_MAX], name[256] = "";
        pathf(dir, sizeof(dir), "%s/%s", m->ipam_dir, e->d_name);
        pathf(path, sizeof(path), "%s/.name", dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, name, sizeof(name) - 1);
            name[n > 0 ? n : 0] = '\0';
            close(fd);
        }
        /* Without a .name (a crash in the middle of the first claim) the
         * network is kept: only its dead containers' addresses go. */
        int known = req->object_ids == NULL || !name[0];
        for (uint32_t i = 0; i < req->n_object_ids && !known; i++)
            known = strcmp(req->object_ids[i], name) == 0;
        if (known) {
            ipam_release(dir, NULL, req->container_ids, req->n_container_ids);
        } else {
            ipam_release(dir, NULL, NULL, 0);
            unlink(path);
            rmdir(dir);
        }
    }
    closedir(d);
    return 0;
}

static const struct berth_network_ops macvlan_ops = {
    .size = sizeof(struct berth_network_ops),
    .create = macvlan_create,
    .remove = macvlan_remove,
    .join = macvlan_join,
    .leave = macvlan_leave,
    .gc = macvlan_gc,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_NETWORK, "macvlan", "1.0",
                    "containers on macvlan sub-interfaces of a host link", 0, macvlan_init,
                    macvlan_fini, &macvlan_ops)
