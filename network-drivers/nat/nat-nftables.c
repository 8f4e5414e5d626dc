/* SPDX-License-Identifier: MIT */
/*
 * The nftables backend, through libnftnl and libmnl. berth owns a table of
 * its own, so nothing of another tool's is ever read or written:
 *
 *   table ip berth {
 *     map tcp_any  { type inet_service : ipv4_addr . inet_service }  0.0.0.0:PORT
 *     map tcp_addr { type ipv4_addr . inet_service : ipv4_addr . inet_service }
 *     map udp_any, udp_addr  the same for udp
 *     chain ports       { dnat ip to ip daddr . tcp dport map @tcp_addr; … @tcp_any; udp … }
 *     chain prerouting  { type nat hook prerouting priority dstnat; fib daddr type local jump ports
 * } chain output      { type nat hook output priority dstnat; fib daddr type local jump ports }
 *     chain postrouting { type nat hook postrouting priority srcnat; per-network masquerade }
 *     chain forward     { type filter hook forward priority filter; per-network verdicts }
 *   }
 *
 * A container's ports are map elements: publishing is one NEWSETELEM batch,
 * whose cost does not depend on how many containers there are. Per-network
 * rules carry the comment "berth n=NETID" (rule userdata), found by a dump.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nat-backend.h"

/* Linux 6.3; Debian 12's headers predate it. Deleting an element that is not
 * there is then no error, which leave needs. */
#ifndef NFT_MSG_DESTROYSETELEM
#define NFT_MSG_DESTROYSETELEM 30
#endif

#define TABLE "berth"
/* Room for one netlink read; a constant, unlike MNL_SOCKET_BUFFER_SIZE. */
#define NL_BUF_SIZE 32768
#define TAG_MAX (NAT_ID_MAX + 16)
/* nft's type ids, so that `nft list` prints the maps readably. */
#define TYPE_IPADDR 7
#define TYPE_INET_SERVICE 13
#define TYPE_CONCAT(a, b) (((a) << 6) | (b))

/* The chains of the skeleton and how many fixed rules each holds. */
static const struct {
    const char *name;
    const char *type; /* NULL: a regular chain */
    uint32_t hook;
    int32_t prio;
    int fixed_rules;
} chains[] = {
    {"ports", NULL, 0, 0, 4},
    {"prerouting", "nat", NF_INET_PRE_ROUTING, -100, 1},
    {"output", "nat", NF_INET_LOCAL_OUT, -100, 1},
    {"postrouting", "nat", NF_INET_POST_ROUTING, 100, 0},
    {"forward", "filter", NF_INET_FORWARD, 0, 0},
};
#define N_CHAINS (sizeof(chains) / sizeof(chains[0]))

static const char *const maps[] = {"tcp_any", "tcp_addr", "udp_any", "udp_addr"};
#define N_MAPS 4

static const char *map_name(uint8_t proto, int by_addr)
{
    return maps[(proto == IPPROTO_UDP ? 2 : 0) + (by_addr ? 1 : 0)];
}

struct nft {
    struct mnl_socket *nl;
    uint32_t portid;
    uint32_t seq;
    struct nftnl_batch *batch;
};

static int nft_open(struct nft *n)
{
    memset(n, 0, sizeof(*n));
    n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!n->nl)
        return -errno;
    if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int r = -errno;
        mnl_socket_close(n->nl);
        n->nl = NULL;
        return r;
    }
    n->portid = mnl_socket_get_portid(n->nl);
    n->seq = 1;
    return 0;
}

static void nft_close(struct nft *n)
{
    if (n->batch)
        nftnl_batch_free(n->batch);
    if (n->nl)
        mnl_socket_close(n->nl);
    n->batch = NULL;
    n->nl = NULL;
}

/*
 * Closing a netfilter socket makes the kernel flush nf_tables' pending
 * destroy work first (nft_rcv_nl_event), and a commit that deleted
 * something leaves work that waits for an RCU grace period: 10-13 ms here,
 * most of a leave. The socket is kept open instead and closed at the next
 * such commit or at fini, when the grace period has mostly passed while
 * berth went on with the container's removal.
 */
void nat_nftables_release(struct nat *nat)
{
    if (nat->lingering)
        mnl_socket_close(nat->lingering);
    nat->lingering = NULL;
}

static void nft_close_later(struct nat *nat, struct nft *n)
{
    nat_nftables_release(nat);
    nat->lingering = n->nl;
    n->nl = NULL;
    nft_close(n);
}

static int batch_begin(struct nft *n)
{
    n->batch = nftnl_batch_alloc(MNL_SOCKET_BUFFER_SIZE, MNL_SOCKET_BUFFER_SIZE);
    if (!n->batch)
        return -ENOMEM;
    nftnl_batch_begin(nftnl_batch_buffer(n->batch), n->seq++);
    nftnl_batch_update(n->batch);
    return 0;
}

static struct nlmsghdr *batch_msg(struct nft *n, uint16_t type, uint16_t flags)
{
    return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(n->batch), type, NFPROTO_IPV4, flags, n->seq++);
}

/*
 * Sends the batch as one transaction. The kernel handles it inside sendmsg,
 * so by then every error is queued on the socket: drain without waiting.
 * Messages carry no NLM_F_ACK, so only failures answer.
 */
static int batch_commit(struct nft *n)
{
    nftnl_batch_end(nftnl_batch_buffer(n->batch), n->seq++);
    nftnl_batch_update(n->batch);
    int iovlen = nftnl_batch_iovec_len(n->batch);
    struct iovec *iov = calloc((size_t)iovlen, sizeof(*iov));
    if (!iov)
        return -ENOMEM;
    nftnl_batch_iovec(n->batch, iov, (uint32_t)iovlen);
    struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
    struct msghdr msg = {
        .msg_name = &snl, .msg_namelen = sizeof(snl), .msg_iov = iov, .msg_iovlen = (size_t)iovlen};
    ssize_t sent = sendmsg(mnl_socket_get_fd(n->nl), &msg, 0);
    free(iov);
    nftnl_batch_free(n->batch);
    n->batch = NULL;
    if (sent < 0)
        return -errno;
    int first = 0;
    char buf[NL_BUF_SIZE];
    for (;;) {
        ssize_t len = recv(mnl_socket_get_fd(n->nl), buf, sizeof(buf), MSG_DONTWAIT);
        if (len < 0 && errno == EINTR)
            continue;
        if (len < 0)
            break; /* EAGAIN: nothing more was said */
        int left = (int)len;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
             h = mnl_nlmsg_next(h, &left))
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
                if (e->error && !first)
                    first = e->error;
            }
    }
    return first;
}

/* Sends one GET request and hands every answer to CB. */
static int query(struct nft *n, uint16_t type, uint16_t flags, void *obj,
                 void (*build)(struct nlmsghdr *, void *), mnl_cb_t cb, void *ctx)
{
    char buf[NL_BUF_SIZE];
    uint32_t seq = n->seq++;
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_IPV4, flags | NLM_F_ACK, seq);
    build(nlh, obj);
    if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
        return -errno;
    for (;;) {
        ssize_t len = mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
        if (len < 0)
            return -errno;
        int r = mnl_cb_run(buf, (size_t)len, seq, n->portid, cb, ctx);
        if (r < 0)
            return -errno;
        if (r == MNL_CB_STOP)
            return 0;
    }
}

static void build_table(struct nlmsghdr *nlh, void *obj)
{
    nftnl_table_nlmsg_build_payload(nlh, obj);
}
static void build_chain(struct nlmsghdr *nlh, void *obj)
{
    nftnl_chain_nlmsg_build_payload(nlh, obj);
}
static void build_rule(struct nlmsghdr *nlh, void *obj)
{
    nftnl_rule_nlmsg_build_payload(nlh, obj);
}
static void build_set(struct nlmsghdr *nlh, void *obj)
{
    nftnl_set_nlmsg_build_payload(nlh, obj);
}
static void build_elems(struct nlmsghdr *nlh, void *obj)
{
    nftnl_set_elems_nlmsg_build_payload(nlh, obj);
}

static int ignore_cb(const struct nlmsghdr *nlh, void *ctx)
{
    (void)nlh;
    (void)ctx;
    return MNL_CB_OK;
}

/* What a dump of berth's table shows. */
#define MAX_NET_RULES 64
struct table_view {
    int exists;
    int chain_seen[N_CHAINS];
    int rules_in[N_CHAINS]; /* untagged (skeleton) rules */
    int set_seen[N_MAPS];
    const char *net_id; /* count and collect this network's rules */
    int net_rules;
    struct {
        int chain;
        uint64_t handle;
    } tagged[MAX_NET_RULES];
    int n_tagged;
    struct nat *nat; /* gc: collect rules of networks without state */
};

static int chain_index(const char *name)
{
    for (size_t i = 0; name && i < N_CHAINS; i++)
        if (strcmp(chains[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int chain_cb(const struct nlmsghdr *nlh, void *ctx)
{
    struct table_view *v = ctx;
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (c && nftnl_chain_nlmsg_parse(nlh, c) == 0) {
        int i = chain_index(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
        if (i >= 0)
            v->chain_seen[i] = 1;
    }
    nftnl_chain_free(c);
    return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *ctx)
{
    struct table_view *v = ctx;
    struct nftnl_set *s = nftnl_set_alloc();
    if (s && nftnl_set_nlmsg_parse(nlh, s) == 0) {
        const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
        for (int i = 0; name && i < N_MAPS; i++)
            if (strcmp(name, maps[i]) == 0)
                v->set_seen[i] = 1;
    }
    nftnl_set_free(s);
    return MNL_CB_OK;
}

/* The comment nft stores in rule userdata: TLVs of type, length, value. */
static int rule_comment(const struct nftnl_rule *r, char buf[static TAG_MAX])
{
    uint32_t len = 0;
    const unsigned char *d = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
    if (!d)
        return 0;
    for (uint32_t off = 0; off + 2 <= len && off + 2 + d[off + 1] <= len; off += 2u + d[off + 1]) {
        if (d[off] != NFTNL_UDATA_RULE_COMMENT || d[off + 1] == 0 || d[off + 1] > TAG_MAX)
            continue;
        memcpy(buf, d + off + 2, d[off + 1]);
        buf[d[off + 1] - 1] = '\0';
        return 1;
    }
    return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *ctx)
{
    struct table_view *v = ctx;
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0) {
        nftnl_rule_free(r);
        return MNL_CB_OK;
    }
    int ci = chain_index(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
    char tag[TAG_MAX];
    if (ci >= 0 && rule_comment(r, tag) && strncmp(tag, "berth n=", 8) == 0) {
        const char *net = tag + 8;
        int mine = v->net_id ? strcmp(net, v->net_id) == 0
                             : (v->nat && !nat_state_has_network(v->nat, net));
        if (mine && v->n_tagged < MAX_NET_RULES) {
            v->tagged[v->n_tagged].chain = ci;
            v->tagged[v->n_tagged].handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
            v->n_tagged++;
        }
        if (v->net_id && mine)
            v->net_rules++;
    } else if (ci >= 0) {
        v->rules_in[ci]++;
    }
    nftnl_rule_free(r);
    return MNL_CB_OK;
}

static int view_table(struct nft *n, struct table_view *v)
{
    struct nftnl_table *t = nftnl_table_alloc();
    struct nftnl_chain *c = nftnl_chain_alloc();
    struct nftnl_rule *r = nftnl_rule_alloc();
    struct nftnl_set *s = nftnl_set_alloc();
    int rc = -ENOMEM;
    if (!t || !c || !r || !s)
        goto out;
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
    rc = query(n, NFT_MSG_GETTABLE, 0, t, build_table, ignore_cb, NULL);
    if (rc == -ENOENT || rc == -EAFNOSUPPORT || rc == -EPROTONOSUPPORT) {
        rc = 0; /* not there: v->exists stays 0 */
        goto out;
    }
    if (rc < 0)
        goto out;
    v->exists = 1;
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
    nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
    if ((rc = query(n, NFT_MSG_GETCHAIN, NLM_F_DUMP, c, build_chain, chain_cb, v)) < 0 ||
        (rc = query(n, NFT_MSG_GETSET, NLM_F_DUMP, s, build_set, set_cb, v)) < 0 ||
        (rc = query(n, NFT_MSG_GETRULE, NLM_F_DUMP, r, build_rule, rule_cb, v)) < 0)
        goto out;
out:
    nftnl_table_free(t);
    nftnl_chain_free(c);
    nftnl_rule_free(r);
    nftnl_set_free(s);
    return rc;
}

static int skeleton_healthy(const struct table_view *v)
{
    if (!v->exists)
        return 0;
    for (size_t i = 0; i < N_CHAINS; i++)
        if (!v->chain_seen[i] || v->rules_in[i] != chains[i].fixed_rules)
            return 0;
    for (int i = 0; i < N_MAPS; i++)
        if (!v->set_seen[i])
            return 0;
    return 1;
}

/* Rule building. Registers as nft uses them: reg 1 (128 bit) and the
 * 32-bit reg 9 that follows its first word. */
static int add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
    if (!e)
        return -ENOMEM;
    nftnl_rule_add_expr(r, e);
    return 0;
}

static int e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
    struct nftnl_expr *e = nftnl_expr_alloc("payload");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
    }
    return add_expr(r, e);
}

static int e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
    struct nftnl_expr *e = nftnl_expr_alloc("cmp");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    }
    return add_expr(r, e);
}

static int e_bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
    static const unsigned char zero[4];
    struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    }
    return add_expr(r, e);
}

static int e_meta(struct nftnl_rule *r, uint32_t key)
{
    struct nftnl_expr *e = nftnl_expr_alloc("meta");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    }
    return add_expr(r, e);
}

static int e_ct(struct nftnl_rule *r, uint32_t key)
{
    struct nftnl_expr *e = nftnl_expr_alloc("ct");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
    }
    return add_expr(r, e);
}

static int e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
    struct nftnl_expr *e = nftnl_expr_alloc("immediate");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
        if (chain)
            nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
    }
    return add_expr(r, e);
}

static int e_masq(struct nftnl_rule *r)
{
    return add_expr(r, nftnl_expr_alloc("masq"));
}

/* ip saddr ADDR/MASK (or daddr), NEQ for "!=". */
static int m_addr(struct nftnl_rule *r, int dst, uint32_t addr, uint32_t mask, int neq)
{
    int rc = e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, dst ? 16 : 12, 4, NFT_REG_1);
    if (rc == 0 && mask != 0xffffffffu)
        rc = e_bitwise(r, &mask, 4);
    return rc ? rc : e_cmp(r, neq ? NFT_CMP_NEQ : NFT_CMP_EQ, &addr, 4);
}

static int m_ifname(struct nftnl_rule *r, int out, const char *name, int neq)
{
    char buf[IFNAMSIZ] = {0};
    snprintf(buf, sizeof(buf), "%s", name);
    int rc = e_meta(r, out ? NFT_META_OIFNAME : NFT_META_IIFNAME);
    return rc ? rc : e_cmp(r, neq ? NFT_CMP_NEQ : NFT_CMP_EQ, buf, sizeof(buf));
}

/* ct KEY & BITS != 0: ct state established,related / ct status dnat. */
static int m_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t bits)
{
    static const uint32_t zero;
    int rc = e_ct(r, key);
    if (rc == 0)
        rc = e_bitwise(r, &bits, 4);
    return rc ? rc : e_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

static struct nftnl_rule *rule_new(const char *chain, const char *tag)
{
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (!r)
        return NULL;
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
    if (tag) {
        struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
        if (!u || !nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, tag)) {
            nftnl_udata_buf_free(u);
            nftnl_rule_free(r);
            return NULL;
        }
        nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
                            nftnl_udata_buf_len(u));
        nftnl_udata_buf_free(u);
    }
    return r;
}

/* Queues RULE (built with RC) in the batch, at the chain's end or (TOP) its
 * start, and frees it. */
static int queue_rule_at(struct nft *n, struct nftnl_rule *r, int rc, int top)
{
    if (!r)
        return -ENOMEM;
    if (rc == 0) {
        struct nlmsghdr *nlh =
            batch_msg(n, NFT_MSG_NEWRULE, NLM_F_CREATE | (top ? 0 : NLM_F_APPEND));
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_batch_update(n->batch);
    }
    nftnl_rule_free(r);
    return rc;
}

static int queue_rule(struct nft *n, struct nftnl_rule *r, int rc)
{
    return queue_rule_at(n, r, rc, 0);
}

/* meta l4proto PROTO dnat ip to [ip daddr .] PROTO dport map @MAP */
static int queue_port_rule(struct nft *n, uint8_t proto, int by_addr)
{
    struct nftnl_rule *r = rule_new("ports", NULL);
    if (!r)
        return -ENOMEM;
    int rc = e_meta(r, NFT_META_L4PROTO);
    if (rc == 0)
        rc = e_cmp(r, NFT_CMP_EQ, &proto, 1);
    if (rc == 0 && by_addr) {
        rc = e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
        if (rc == 0)
            rc = e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
    } else if (rc == 0) {
        rc = e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
    }
    if (rc == 0) {
        struct nftnl_expr *e = nftnl_expr_alloc("lookup");
        if (e) {
            nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
            nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
            nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, map_name(proto, by_addr));
        }
        rc = add_expr(r, e);
    }
    if (rc == 0) {
        struct nftnl_expr *e = nftnl_expr_alloc("nat");
        if (e) {
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
                               NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
        }
        rc = add_expr(r, e);
    }
    return queue_rule(n, r, rc);
}

/* fib daddr type local jump ports */
static int queue_local_jump(struct nft *n, const char *chain)
{
    struct nftnl_rule *r = rule_new(chain, NULL);
    if (!r)
        return -ENOMEM;
    struct nftnl_expr *e = nftnl_expr_alloc("fib");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
    }
    int rc = add_expr(r, e);
    uint32_t local = RTN_LOCAL;
    if (rc == 0)
        rc = e_cmp(r, NFT_CMP_EQ, &local, 4);
    if (rc == 0)
        rc = e_verdict(r, NFT_JUMP, "ports");
    return queue_rule(n, r, rc);
}

static void queue_table(struct nft *n, uint16_t type, uint16_t flags)
{
    struct nftnl_table *t = nftnl_table_alloc();
    if (!t)
        return;
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
    nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
    nftnl_table_nlmsg_build_payload(batch_msg(n, type, flags), t);
    nftnl_batch_update(n->batch);
    nftnl_table_free(t);
}

static int queue_skeleton(struct nft *n)
{
    queue_table(n, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    for (size_t i = 0; i < N_CHAINS; i++) {
        struct nftnl_chain *c = nftnl_chain_alloc();
        if (!c)
            return -ENOMEM;
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chains[i].name);
        if (chains[i].type) {
            nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, chains[i].type);
            nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, chains[i].hook);
            nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, chains[i].prio);
            nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
        }
        nftnl_chain_nlmsg_build_payload(batch_msg(n, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
        nftnl_batch_update(n->batch);
        nftnl_chain_free(c);
    }
    for (int i = 0; i < N_MAPS; i++) {
        struct nftnl_set *s = nftnl_set_alloc();
        if (!s)
            return -ENOMEM;
        int by_addr = i % 2;
        nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
        nftnl_set_set_str(s, NFTNL_SET_NAME, maps[i]);
        nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
        nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)i + 1);
        nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
        nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
                          by_addr ? TYPE_CONCAT(TYPE_IPADDR, TYPE_INET_SERVICE)
                                  : TYPE_INET_SERVICE);
        nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, by_addr ? 8 : 2);
        nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, TYPE_CONCAT(TYPE_IPADDR, TYPE_INET_SERVICE));
        nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 8);
        nftnl_set_nlmsg_build_payload(batch_msg(n, NFT_MSG_NEWSET, NLM_F_CREATE), s);
        nftnl_batch_update(n->batch);
        nftnl_set_free(s);
    }
    int rc;
    for (int i = 0; i < N_MAPS; i++)
        if ((rc = queue_port_rule(n, i < 2 ? IPPROTO_TCP : IPPROTO_UDP, i % 2 == 0)) < 0)
            return rc;
    if ((rc = queue_local_jump(n, "prerouting")) < 0)
        return rc;
    return queue_local_jump(n, "output");
}

/* The network's rules; with N NULL only counts them. Mirrors nat-iptables.c. */
static int queue_network_rules(struct nft *n, const struct nat_network *net)
{
    char tag[TAG_MAX];
    snprintf(tag, sizeof(tag), "berth n=%s", net->id);
    const char *br = net->bridge;
    int count = 0, rc;
    struct nftnl_rule *r;
    if (!net->internal) {
        count++;
        if (n) {
            r = rule_new("postrouting", tag);
            rc = r ? m_addr(r, 0, net->subnet, net->mask, 0) : -ENOMEM;
            if (rc == 0)
                rc = br[0] ? m_ifname(r, 1, br, 1) : m_addr(r, 1, net->subnet, net->mask, 1);
            if ((rc = queue_rule(n, r, rc ? rc : e_masq(r))) < 0)
                return rc;
        }
    }
    if (!br[0])
        return count;
    count += 2 + 5;
    if (!n)
        return count;
    /* Hairpin through the host's address, then 127.0.0.1 sources. */
    r = rule_new("postrouting", tag);
    rc = r ? m_addr(r, 0, net->subnet, net->mask, 0) : -ENOMEM;
    if (rc == 0)
        rc = m_ifname(r, 1, br, 0);
    if (rc == 0)
        rc = m_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT);
    if ((rc = queue_rule(n, r, rc ? rc : e_masq(r))) < 0)
        return rc;
    r = rule_new("postrouting", tag);
    rc = r ? m_addr(r, 0, htonl(0x7f000000u), htonl(0xff000000u), 0) : -ENOMEM;
    if (rc == 0)
        rc = m_ifname(r, 1, br, 0);
    if ((rc = queue_rule(n, r, rc ? rc : e_masq(r))) < 0)
        return rc;

    /*
     * forward. Every network's "into this bridge" verdicts go at the top of
     * the chain (prepended in reverse: the drop, within, published ports,
     * answers), its "out of this bridge" verdict at the end: a packet from
     * one network to another meets the target's drop before the source's
     * accept, whatever order the networks were made or repaired in.
     */
    r = rule_new("forward", tag);
    rc = r ? m_ifname(r, 1, br, 0) : -ENOMEM;
    if ((rc = queue_rule_at(n, r, rc ? rc : e_verdict(r, NF_DROP, NULL), 1)) < 0)
        return rc;
    r = rule_new("forward", tag);
    rc = r ? m_ifname(r, 0, br, 0) : -ENOMEM;
    if (rc == 0)
        rc = m_ifname(r, 1, br, 0);
    if ((rc = queue_rule_at(n, r, rc ? rc : e_verdict(r, NF_ACCEPT, NULL), 1)) < 0)
        return rc;
    r = rule_new("forward", tag);
    rc = r ? m_ifname(r, 1, br, 0) : -ENOMEM;
    if (rc == 0)
        rc = m_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT);
    if ((rc = queue_rule_at(n, r, rc ? rc : e_verdict(r, NF_ACCEPT, NULL), 1)) < 0)
        return rc;
    r = rule_new("forward", tag);
    rc = r ? m_ifname(r, 1, br, 0) : -ENOMEM;
    if (rc == 0)
        rc = m_ct_bits(r, NFT_CT_STATE,
                       NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
    if ((rc = queue_rule_at(n, r, rc ? rc : e_verdict(r, NF_ACCEPT, NULL), 1)) < 0)
        return rc;
    r = rule_new("forward", tag);
    rc = r ? m_ifname(r, 0, br, 0) : -ENOMEM;
    if ((rc = queue_rule(n, r, rc ? rc : e_verdict(r, net->internal ? NF_DROP : NF_ACCEPT, NULL))) <
        0)
        return rc;
    return count;
}

static int queue_delete_tagged(struct nft *n, const struct table_view *v)
{
    for (int i = 0; i < v->n_tagged; i++) {
        struct nftnl_rule *r = rule_new(chains[v->tagged[i].chain].name, NULL);
        if (!r)
            return -ENOMEM;
        nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, v->tagged[i].handle);
        nftnl_rule_nlmsg_build_payload(batch_msg(n, NFT_MSG_DELRULE, 0), r);
        nftnl_batch_update(n->batch);
        nftnl_rule_free(r);
    }
    return 0;
}

static int fail(struct nat *nat, struct berth_error *err, int rc, const char *what)
{
    nat_set_error(nat, err, -rc, "nftables: %s: %s", what, strerror(-rc));
    return rc;
}

static int nft_setup_network(struct nat *nat, const struct nat_network *net,
                             struct berth_error *err)
{
    struct nft n;
    int rc = nft_open(&n);
    if (rc < 0)
        return fail(nat, err, rc, "open netlink socket");
    struct table_view v = {.net_id = net->id};
    if ((rc = view_table(&n, &v)) < 0) {
        nft_close(&n);
        return fail(nat, err, rc, "read table " TABLE);
    }
    rc = batch_begin(&n);
    if (rc == 0 && !skeleton_healthy(&v)) {
        /* Rebuilt whole: other networks notice their rules gone and are
         * repaired on their next create or gc. */
        if (v.exists)
            queue_table(&n, NFT_MSG_DELTABLE, 0);
        rc = queue_skeleton(&n);
    } else if (rc == 0) {
        rc = queue_delete_tagged(&n, &v);
    }
    if (rc == 0 && (rc = queue_network_rules(&n, net)) >= 0)
        rc = batch_commit(&n);
    nft_close(&n);
    return rc < 0 ? fail(nat, err, rc, "set up network rules") : 0;
}

static int nft_teardown_network(struct nat *nat, const struct nat_network *net, int last,
                                struct berth_error *err)
{
    struct nft n;
    int rc = nft_open(&n);
    if (rc < 0)
        return fail(nat, err, rc, "open netlink socket");
    struct table_view v = {.net_id = net->id};
    if ((rc = view_table(&n, &v)) < 0 || !v.exists) {
        nft_close(&n);
        return rc < 0 ? fail(nat, err, rc, "read table " TABLE) : 0;
    }
    rc = batch_begin(&n);
    if (rc == 0 && last)
        queue_table(&n, NFT_MSG_DELTABLE, 0); /* berth's own: nothing else is in it */
    else if (rc == 0)
        rc = queue_delete_tagged(&n, &v);
    if (rc == 0)
        rc = batch_commit(&n);
    nft_close(&n);
    return rc < 0 ? fail(nat, err, rc, "remove network rules") : 0;
}

/* Key and data of a port's element, laid out as the maps' types say:
 * each concatenated field padded to 4 bytes, all in network order. */
static size_t elem_key(const struct port_map *m, unsigned char key[8])
{
    uint16_t port = htons(m->host_port);
    memset(key, 0, 8);
    if (!m->host_addr) {
        memcpy(key, &port, 2);
        return 2;
    }
    memcpy(key, &m->host_addr, 4);
    memcpy(key + 4, &port, 2);
    return 8;
}

static int queue_elems(struct nft *n, const struct nat_endpoint *ep, uint16_t type, uint16_t flags)
{
    for (int mi = 0; mi < N_MAPS; mi++) {
        struct nftnl_set *s = NULL;
        for (size_t i = 0; i < ep->n_ports; i++) {
            const struct port_map *m = &ep->ports[i];
            if (strcmp(map_name(m->proto, m->host_addr != 0), maps[mi]) != 0)
                continue;
            if (!s) {
                s = nftnl_set_alloc();
                if (!s)
                    return -ENOMEM;
                nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
                nftnl_set_set_str(s, NFTNL_SET_NAME, maps[mi]);
            }
            struct nftnl_set_elem *e = nftnl_set_elem_alloc();
            if (!e) {
                nftnl_set_free(s);
                return -ENOMEM;
            }
            unsigned char key[8], data[8] = {0};
            size_t klen = elem_key(m, key);
            uint16_t cport = htons(m->container_port);
            memcpy(data, &ep->container_addr, 4);
            memcpy(data + 4, &cport, 2);
            nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)klen);
            if (type == NFT_MSG_NEWSETELEM)
                nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, sizeof(data));
            nftnl_set_elem_add(s, e);
        }
        if (!s)
            continue;
        nftnl_set_elems_nlmsg_build_payload(batch_msg(n, type, flags), s);
        nftnl_batch_update(n->batch);
        nftnl_set_free(s);
    }
    return 0;
}

static int elems_txn(struct nat *nat, const struct nat_endpoint *ep, uint16_t type, uint16_t flags,
                     struct berth_error *err)
{
    if (ep->n_ports == 0)
        return 0;
    struct nft n;
    int rc = nft_open(&n);
    if (rc < 0)
        return fail(nat, err, rc, "open netlink socket");
    rc = batch_begin(&n);
    if (rc == 0)
        rc = queue_elems(&n, ep, type, flags);
    if (rc == 0)
        rc = batch_commit(&n);
    if (rc == 0 && (type == NFT_MSG_DELSETELEM || type == NFT_MSG_DESTROYSETELEM))
        nft_close_later(nat, &n);
    else
        nft_close(&n);
    return rc;
}

static int nft_add_ports(struct nat *nat, const struct nat_network *net,
                         const struct nat_endpoint *ep, struct berth_error *err)
{
    (void)net;
    /* Replaces an element of the same key: a repair re-adds what is there. */
    int rc = elems_txn(nat, ep, NFT_MSG_NEWSETELEM, NLM_F_CREATE, err);
    return rc < 0 ? fail(nat, err, rc, "publish ports") : 0;
}

static int nft_remove_ports(struct nat *nat, const struct nat_network *net,
                            const struct nat_endpoint *ep, struct berth_error *err)
{
    (void)net;
    int rc = elems_txn(nat, ep, NFT_MSG_DESTROYSETELEM, 0, err);
    if (rc == -ENOENT)
        return 0; /* the table or map is gone, and the elements with it */
    if (rc == -EOPNOTSUPP || rc == -EINVAL) {
        /* Before Linux 6.3: delete one by one, a missing one is no error. */
        rc = 0;
        for (size_t i = 0; i < ep->n_ports && rc == 0; i++) {
            struct nat_endpoint one = *ep;
            one.ports = &ep->ports[i];
            one.n_ports = 1;
            rc = elems_txn(nat, &one, NFT_MSG_DELSETELEM, 0, err);
            if (rc == -ENOENT)
                rc = 0;
        }
    }
    return rc < 0 ? fail(nat, err, rc, "unpublish ports") : 0;
}

/* gc of map elements: an element whose host port no reservation holds. */
struct elem_gc {
    struct nat *nat;
    uint8_t proto;
    struct nat_endpoint stale;
    size_t cap;
};

static int elem_cb(const struct nlmsghdr *nlh, void *ctx)
{
    struct elem_gc *g = ctx;
    struct nftnl_set *s = nftnl_set_alloc();
    if (!s || nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
        nftnl_set_free(s);
        return MNL_CB_OK;
    }
    struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
    for (struct nftnl_set_elem *e = it ? nftnl_set_elems_iter_next(it) : NULL; e;
         e = nftnl_set_elems_iter_next(it)) {
        uint32_t klen = 0;
        const unsigned char *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
        struct port_map m = {.proto = g->proto};
        uint16_t port;
        if (!key || (klen != 2 && klen != 8))
            continue;
        if (klen == 8)
            memcpy(&m.host_addr, key, 4);
        memcpy(&port, klen == 8 ? key + 4 : key, 2);
        m.host_port = ntohs(port);
        if (nat_port_reserved(g->nat, m.proto, m.host_port))
            continue;
        if (g->stale.n_ports == g->cap) {
            size_t cap = g->cap ? g->cap * 2 : 16;
            struct port_map *p = realloc(g->stale.ports, cap * sizeof(*p));
            if (!p)
                break;
            g->stale.ports = p;
            g->cap = cap;
        }
        g->stale.ports[g->stale.n_ports++] = m;
    }
    nftnl_set_elems_iter_destroy(it);
    nftnl_set_free(s);
    return MNL_CB_OK;
}

static int nft_gc(struct nat *nat, struct berth_error *err)
{
    struct nft n;
    int rc = nft_open(&n);
    if (rc < 0)
        return fail(nat, err, rc, "open netlink socket");
    struct table_view v = {.nat = nat};
    if ((rc = view_table(&n, &v)) < 0 || !v.exists) {
        nft_close(&n);
        return rc < 0 ? fail(nat, err, rc, "read table " TABLE) : 0;
    }
    struct elem_gc g = {.nat = nat};
    for (int i = 0; i < N_MAPS && v.set_seen[i]; i++) {
        struct nftnl_set *s = nftnl_set_alloc();
        if (!s)
            break;
        nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
        nftnl_set_set_str(s, NFTNL_SET_NAME, maps[i]);
        g.proto = i < 2 ? IPPROTO_TCP : IPPROTO_UDP;
        query(&n, NFT_MSG_GETSETELEM, NLM_F_DUMP, s, build_elems, elem_cb, &g);
        nftnl_set_free(s);
    }
    rc = 0;
    if (v.n_tagged > 0 && (rc = batch_begin(&n)) == 0 && (rc = queue_delete_tagged(&n, &v)) == 0)
        rc = batch_commit(&n);
    nft_close(&n);
    if (rc == 0 && g.stale.n_ports > 0)
        rc = nft_remove_ports(nat, NULL, &g.stale, err);
    else if (rc < 0)
        fail(nat, err, rc, "remove stale rules");
    free(g.stale.ports);
    return rc;
}

static int nft_check_present(struct nat *nat, const struct nat_network *net)
{
    (void)nat;
    struct nft n;
    int rc = nft_open(&n);
    if (rc < 0)
        return rc;
    struct table_view v = {.net_id = net->id};
    rc = view_table(&n, &v);
    nft_close(&n);
    if (rc < 0)
        return rc;
    return skeleton_healthy(&v) && v.net_rules == queue_network_rules(NULL, net);
}

const struct nat_backend_ops nat_nftables_ops = {
    .name = "nftables",
    .setup_network = nft_setup_network,
    .teardown_network = nft_teardown_network,
    .add_ports = nft_add_ports,
    .remove_ports = nft_remove_ports,
    .gc = nft_gc,
    .check_present = nft_check_present,
};
