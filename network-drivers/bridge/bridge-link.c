/* SPDX-License-Identifier: MIT */
/*
 * Links, addresses and routes through libnl-route-3. Each function is one or
 * two netlink round trips (tens of microseconds); nothing here sleeps, polls
 * or runs `ip`. The costly kernel paths are avoided by construction: the
 * container's end of a veth pair is made inside its namespace rather than
 * moved there, which would wait for an RCU grace period (MACHINE.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "bridge.h"

/* libnl speaks its own error codes; callers speak errno. The kernel's errno
 * was folded into these by libnl, so some detail is lost for good. */
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
    case NLE_INVAL:
    case NLE_MISSING_ATTR:
        return -EINVAL;
    case NLE_RANGE:
        return -ERANGE;
    case NLE_PERM:
    case NLE_NOACCESS:
        return -EPERM;
    case NLE_BUSY:
        return -EBUSY;
    case NLE_AGAIN:
        return -EAGAIN;
    case NLE_INTR:
        return -EINTR;
    case NLE_OPNOTSUPP:
    case NLE_AF_NOSUPPORT:
    case NLE_MSGTYPE_NOSUPPORT:
        return -EOPNOTSUPP;
    case NLE_NOADDR:
        return -EADDRNOTAVAIL;
    case NLE_MSGSIZE:
        return -EMSGSIZE;
    default:
        return -EIO;
    }
}

static void linkp(struct rtnl_link **l)
{
    if (*l)
        rtnl_link_put(*l);
}
static void nl_addrp(struct nl_addr **a)
{
    if (*a)
        nl_addr_put(*a);
}
static void rtnl_addrp(struct rtnl_addr **a)
{
    if (*a)
        rtnl_addr_put(*a);
}
static void routep(struct rtnl_route **r)
{
    if (*r)
        rtnl_route_put(*r);
}
static void cachep(struct nl_cache **c)
{
    if (*c)
        nl_cache_free(*c);
}
static void msgp(struct nl_msg **m)
{
    if (*m)
        nlmsg_free(*m);
}
#define _cleanup_link_ __attribute__((cleanup(linkp)))
#define _cleanup_nl_addr_ __attribute__((cleanup(nl_addrp)))
#define _cleanup_rtnl_addr_ __attribute__((cleanup(rtnl_addrp)))
#define _cleanup_route_ __attribute__((cleanup(routep)))
#define _cleanup_cache_ __attribute__((cleanup(cachep)))
#define _cleanup_msg_ __attribute__((cleanup(msgp)))

void nl_sockp(struct nl_sock **sk)
{
    if (*sk)
        nl_socket_free(*sk); /* closes the descriptor too */
}

int nl_open(struct nl_sock **ret)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return -ENOMEM;
    /* nl_connect opens the socket SOCK_CLOEXEC. */
    int r = nl_connect(sk, NETLINK_ROUTE);
    if (r < 0) {
        nl_socket_free(sk);
        return nlerr(r);
    }
    *ret = sk;
    return 0;
}

int nl_open_in_netns(int netns_fd, struct nl_sock **ret)
{
    /* The CNI way, without a thread or a fork: enter the namespace, make the
     * socket (it stays bound to the namespace it was made in), come back.
     * setns is per thread, hence thread-self. */
    _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -errno;
    if (setns(netns_fd, CLONE_NEWNET) < 0)
        return -errno;
    struct nl_sock *sk = NULL;
    int r = nl_open(&sk);
    if (setns(self, CLONE_NEWNET) < 0) {
        /* Going on would configure the container's namespace as if it were
         * the host's, and every later container with it: stop here. */
        fprintf(stderr, "bridge: cannot return to the original network namespace: %m\n");
        abort();
    }
    if (r < 0)
        return r;
    *ret = sk;
    return 0;
}

int link_lookup(struct nl_sock *sk, const char *name, int *ret_ifindex, char *alias,
                size_t alias_len)
{
    _cleanup_link_ struct rtnl_link *link = NULL;
    int r = rtnl_link_get_kernel(sk, 0, name, &link);
    if (r < 0)
        return nlerr(r);
    if (ret_ifindex)
        *ret_ifindex = rtnl_link_get_ifindex(link);
    if (alias && alias_len) {
        const char *a = rtnl_link_get_ifalias(link);
        snprintf(alias, alias_len, "%s", a ? a : "");
    }
    return 0;
}

int link_delete(struct nl_sock *sk, int ifindex)
{
    _cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
    if (!link)
        return -ENOMEM;
    rtnl_link_set_ifindex(link, ifindex);
    int r = nlerr(rtnl_link_delete(sk, link));
    return r == -ENODEV ? 0 : r;
}

static int build_addr(uint32_t host_order, unsigned prefix, struct nl_addr **ret)
{
    uint32_t be = htonl(host_order);
    struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));
    if (!a)
        return -ENOMEM;
    nl_addr_set_prefixlen(a, (int)prefix);
    *ret = a;
    return 0;
}

/* Adds ADDR/PREFIX to IFINDEX; an address already there is success. */
static int address_add(struct nl_sock *sk, int ifindex, uint32_t addr, unsigned prefix)
{
    _cleanup_rtnl_addr_ struct rtnl_addr *ra = rtnl_addr_alloc();
    _cleanup_nl_addr_ struct nl_addr *local = NULL, *bcast = NULL;
    if (!ra)
        return -ENOMEM;
    uint32_t mask = prefix ? ~(uint32_t)0 << (32 - prefix) : 0;
    int r = build_addr(addr, prefix, &local);
    if (r < 0 || (r = build_addr(addr | ~mask, 32, &bcast)) < 0)
        return r;
    rtnl_addr_set_ifindex(ra, ifindex);
    rtnl_addr_set_family(ra, AF_INET);
    if ((r = rtnl_addr_set_local(ra, local)) < 0 || (r = rtnl_addr_set_broadcast(ra, bcast)) < 0)
        return nlerr(r);
    rtnl_addr_set_prefixlen(ra, (int)prefix);
    r = nlerr(rtnl_addr_add(sk, ra, 0));
    return r == -EEXIST ? 0 : r;
}

/* Brings LINK up and sets its MTU where they differ from what is wanted. */
static int link_up(struct nl_sock *sk, struct rtnl_link *link, uint32_t mtu)
{
    int need_up = !(rtnl_link_get_flags(link) & IFF_UP);
    int need_mtu = mtu && rtnl_link_get_mtu(link) != mtu;
    if (!need_up && !need_mtu)
        return 0;
    _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
    if (!change)
        return -ENOMEM;
    if (need_up)
        rtnl_link_set_flags(change, IFF_UP);
    if (need_mtu)
        rtnl_link_set_mtu(change, mtu);
    return nlerr(rtnl_link_change(sk, link, change, 0));
}

/* A stable, locally administered MAC for the bridge of ALIAS: a bridge
 * without one takes the lowest of its ports' addresses, so it would change
 * under the containers (stale ARP entries) as they come and go. */
static struct nl_addr *bridge_mac(const char *alias)
{
    uint32_t h = 2166136261u;
    for (const char *p = alias; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    uint8_t mac[6] = {0x02,      0x42, (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8),
                      (uint8_t)h};
    return nl_addr_build(AF_LLC, mac, sizeof(mac));
}

int bridge_ensure(struct nl_sock *sk, const char *name, const char *alias, uint32_t gateway,
                  unsigned prefix, uint32_t mtu, int *ret_ifindex)
{
    _cleanup_link_ struct rtnl_link *link = NULL;
    int created = 0;
    int r = nlerr(rtnl_link_get_kernel(sk, 0, name, &link));
    if (r == -ENODEV) {
        /* Missing: never made, or deleted by hand or by a restart of the
         * network stack. */
        _cleanup_link_ struct rtnl_link *nb = rtnl_link_bridge_alloc();
        _cleanup_nl_addr_ struct nl_addr *mac = bridge_mac(alias);
        if (!nb || !mac)
            return -ENOMEM;
        rtnl_link_set_name(nb, name);
        rtnl_link_set_addr(nb, mac);
        r = nlerr(rtnl_link_add(sk, nb, NLM_F_CREATE | NLM_F_EXCL));
        /* EEXIST: another berth process made it a moment ago. */
        if (r < 0 && r != -EEXIST)
            return r;
        created = r == 0;
        r = nlerr(rtnl_link_get_kernel(sk, 0, name, &link));
    }
    if (r < 0)
        return r;
    const char *type = rtnl_link_get_type(link);
    if (!type || strcmp(type, "bridge"))
        return -EMEDIUMTYPE;
    int ifindex = rtnl_link_get_ifindex(link);
    if ((r = address_add(sk, ifindex, gateway, prefix)) < 0)
        return r;
    if (created) {
        /* The kernel ignores an alias in RTM_NEWLINK, and an MTU given
         * there does not count as the user's: the bridge would fall back to
         * its ports' minimum when the last one goes. Both are set by a
         * change, with the link up. The alias marks the bridge as ours for
         * remove and gc; one someone else made never gets it. */
        _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
        if (!change)
            return -ENOMEM;
        rtnl_link_set_ifalias(change, alias);
        rtnl_link_set_flags(change, IFF_UP);
        if (mtu)
            rtnl_link_set_mtu(change, mtu);
        r = nlerr(rtnl_link_change(sk, link, change, 0));
    } else {
        r = link_up(sk, link, mtu);
    }
    if (r < 0)
        return r;
    *ret_ifindex = ifindex;
    return 0;
}

int veth_create(struct nl_sock *sk, const char *host_name, const char *peer_name, int netns_fd,
                int bridge_ifindex, uint32_t mtu)
{
    _cleanup_link_ struct rtnl_link *veth = rtnl_link_veth_alloc();
    if (!veth)
        return -ENOMEM;
    _cleanup_link_ struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
    if (!peer)
        return -ENOMEM;
    /* Everything in the one RTM_NEWLINK: the kernel applies master and MTU
     * of both ends while creating them. Neither end comes up here: the host
     * end's IPv6 is turned off first and bridge_port_setup brings it up;
     * the peer's IFF_UP would be refused anyway (the kernel configures the
     * peer before linking the pair, and veth_open refuses a device without
     * a peer, ENOTCONN), container_link_setup brings it up. */
    rtnl_link_set_name(veth, host_name);
    rtnl_link_set_master(veth, bridge_ifindex);
    rtnl_link_set_name(peer, peer_name);
    rtnl_link_set_ns_fd(peer, netns_fd);
    if (mtu) {
        rtnl_link_set_mtu(veth, mtu);
        rtnl_link_set_mtu(peer, mtu);
    }
    return nlerr(rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL));
}

int host_end_disable_ipv6(const char *name)
{
    /* Only a sysctl can: IFLA_INET6_CONF is read-only over netlink. The
     * file is in the network namespace of the caller, the host end's. */
    char path[80];
    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, "1", 1);
    return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

static int port_setup(struct nl_sock *sk, const char *name, const char *alias, int no_ipv6)
{
    /* `ip link set NAME up alias A addrgenmode none type bridge_slave
     * hairpin on` as one RTM_NEWLINK on the existing device:
     * rtnl_changelink hands the slave data to the bridge, the rest to
     * do_setlink. libnl has no call for bridge port attributes in this
     * form, so the message is built here. */
    _cleanup_msg_ struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    if (!msg)
        return -ENOMEM;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
        nla_put_string(msg, IFLA_IFNAME, name) < 0 || nla_put_string(msg, IFLA_IFALIAS, alias) < 0)
        return -EMSGSIZE;
    if (no_ipv6) {
        /* No IPv6 link-local address on the host end, set before the peer
         * comes up (no carrier yet, so none was made): a bridge port needs
         * none, and each would add routes to the host's IPv6 table, which
         * the kernel walks whole on every change of any link (fib6_ifdown),
         * making each join cost more the more containers are attached.
         * Where disable_ipv6 could be set first this is moot; where not
         * (a read-only /proc/sys) it still spares the address. */
        struct nlattr *af = nla_nest_start(msg, IFLA_AF_SPEC);
        struct nlattr *in6 = af ? nla_nest_start(msg, AF_INET6) : NULL;
        if (!in6 || nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) < 0)
            return -EMSGSIZE;
        nla_nest_end(msg, in6);
        nla_nest_end(msg, af);
    }
    struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
    if (!info || nla_put_string(msg, IFLA_INFO_SLAVE_KIND, "bridge") < 0)
        return -EMSGSIZE;
    struct nlattr *data = nla_nest_start(msg, IFLA_INFO_SLAVE_DATA);
    if (!data || nla_put_u8(msg, IFLA_BRPORT_MODE, 1) < 0)
        return -EMSGSIZE;
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);
    int r = nl_send_sync(sk, msg); /* frees MSG, whatever happens */
    msg = NULL;
    return nlerr(r);
}

int bridge_port_setup(struct nl_sock *sk, const char *name, const char *alias)
{
    int r = port_setup(sk, name, alias, 1);
    /* A kernel without IPv6 refuses the whole request for its AF_INET6 part. */
    return r == -EOPNOTSUPP || r == -EAFNOSUPPORT ? port_setup(sk, name, alias, 0) : r;
}

static int default_route_add(struct nl_sock *nsk, int ifindex, uint32_t gateway)
{
    _cleanup_route_ struct rtnl_route *route = rtnl_route_alloc();
    _cleanup_nl_addr_ struct nl_addr *dst = NULL, *gw = NULL;
    if (!route)
        return -ENOMEM;
    int r = build_addr(0, 0, &dst);
    if (r < 0 || (r = build_addr(gateway, 32, &gw)) < 0)
        return r;
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    if (!nh)
        return -ENOMEM;
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_nh_set_gateway(nh, gw);
    rtnl_route_add_nexthop(route, nh); /* ROUTE owns NH from here */
    rtnl_route_set_family(route, AF_INET);
    rtnl_route_set_table(route, RT_TABLE_MAIN);
    rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
    rtnl_route_set_protocol(route, RTPROT_BOOT);
    rtnl_route_set_type(route, RTN_UNICAST);
    if ((r = rtnl_route_set_dst(route, dst)) < 0)
        return nlerr(r);
    /* REPLACE: a retried join finds its own route there already. */
    return nlerr(rtnl_route_add(nsk, route, NLM_F_REPLACE));
}

int container_link_setup(struct nl_sock *nsk, const char *ifname, uint32_t addr, unsigned prefix,
                         uint32_t gateway, char ret_mac[static 18])
{
    _cleanup_link_ struct rtnl_link *link = NULL;
    int r = nlerr(rtnl_link_get_kernel(nsk, 0, ifname, &link));
    if (r < 0)
        return r;
    int ifindex = rtnl_link_get_ifindex(link);
    if ((r = address_add(nsk, ifindex, addr, prefix)) < 0)
        return r;
    if ((r = link_up(nsk, link, 0)) < 0)
        return r;
    /* No gateway (an internal network): the subnet route alone, no way out. */
    if (gateway && (r = default_route_add(nsk, ifindex, gateway)) < 0)
        return r;
    struct nl_addr *lladdr = rtnl_link_get_addr(link);
    ret_mac[0] = '\0';
    if (lladdr)
        nl_addr2str(lladdr, ret_mac, 18);
    return 0;
}

int links_foreach_ours(struct nl_sock *sk,
                       int (*fn)(void *userdata, int ifindex, const char *name, const char *alias),
                       void *userdata)
{
    _cleanup_cache_ struct nl_cache *cache = NULL;
    int r = nlerr(rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache));
    if (r < 0)
        return r;
    int first_error = 0;
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_link *link = (struct rtnl_link *)o;
        const char *alias = rtnl_link_get_ifalias(link);
        if (!alias || strncmp(alias, ALIAS_PREFIX, strlen(ALIAS_PREFIX)))
            continue;
        r = fn(userdata, rtnl_link_get_ifindex(link), rtnl_link_get_name(link), alias);
        if (r < 0 && !first_error)
            first_error = r;
    }
    return first_error;
}
