/* SPDX-License-Identifier: MIT */
/*
 * The iptables backend, through libiptc (IPv4, legacy tables). berth's rules
 * live in its own chains, each reached by one jump from a built-in chain:
 *
 *   nat     PREROUTING  -m addrtype --dst-type LOCAL -j BERTH-PREROUTING
 *           OUTPUT      -m addrtype --dst-type LOCAL -j BERTH-OUTPUT
 *           POSTROUTING -j BERTH-POSTROUTING
 *           BERTH-OUTPUT: one rule, -j BERTH-PREROUTING, so a port costs one rule
 *   filter  FORWARD     -j BERTH-FORWARD
 *
 * A network's rules carry a comment "berth n=NETID": that tag, not a
 * position, is how berth finds them again. A published port's DNAT rule in
 * BERTH-PREROUTING carries none: it is found by what it matches and where it
 * sends (protocol, host address and port, container address), which the
 * container's state file holds, so the table the kernel copies and checks
 * on every commit stays about half the size it would be with a 256-byte
 * comment on each of its largest part.
 *
 * libiptc commits a whole table, so each change reads the table, edits only
 * berth's chains (and the one jump, inserted when absent) and commits; the
 * kernel refuses a commit when someone else changed the table in between
 * (EAGAIN), and the change is then redone on a fresh copy. That read and
 * commit grow with the number of published ports (the kernel has no
 * smaller unit of change in the legacy tables), so a join reads and commits
 * the nat table once, checking the network's rules in the same pass, and a
 * leave does the same.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_tcpudp.h>

#include "iptables-rule.h"
#include "nat-backend.h"

/* libiptc reads chain names as whole xt_chainlabel arrays. */
static const xt_chainlabel CH_PRE = "BERTH-PREROUTING";
static const xt_chainlabel CH_OUT = "BERTH-OUTPUT";
static const xt_chainlabel CH_POST = "BERTH-POSTROUTING";
static const xt_chainlabel CH_FWD = "BERTH-FORWARD";
static const xt_chainlabel PREROUTING = "PREROUTING";
static const xt_chainlabel OUTPUT = "OUTPUT";
static const xt_chainlabel POSTROUTING = "POSTROUTING";
static const xt_chainlabel FORWARD = "FORWARD";
#define TAG_MAX (2 * NAT_ID_MAX + 16)

/* Commits lost to a concurrent writer before giving up. */
#define COMMIT_TRIES 20

/* Which DNAT rules an edit removes. */
struct dnat_filter {
    struct nat *nat;
    const struct nat_network *net; /* every rule into its subnet */
    const struct nat_endpoint *ep; /* the rules of EP's host ports */
    int to_ep;                     /* ... and only those sending to EP */
    int unreserved;                /* gc: rules of ports no reservation holds */
};

static int dnat_selected(const struct dnat_filter *f, const struct ipt_entry *e)
{
    struct dnat_key k;
    if (dnat_parse(e, &k) < 0)
        return f->unreserved; /* not one of berth's: only gc removes it */
    if (f->unreserved)
        return !nat_port_reserved(f->nat, k.proto, k.host_port);
    if (f->net)
        return (k.to_addr & f->net->mask) == f->net->subnet;
    for (size_t i = 0; f->ep && i < f->ep->n_ports; i++)
        if (dnat_key_matches(&k, &f->ep->ports[i], f->to_ep ? f->ep->container_addr : 0))
            return 1;
    return 0;
}

/* Deletes the selected DNAT rules of BERTH-PREROUTING; returns how many. */
static int delete_dnat(struct xtc_handle *h, const struct dnat_filter *f)
{
    if (!iptc_is_chain(CH_PRE, h) || (!f->net && !f->unreserved && (!f->ep || !f->ep->n_ports)))
        return 0;
    int deleted = 0;
    for (;;) {
        unsigned nums[512], n = 0, i = 0;
        for (const struct ipt_entry *e = iptc_first_rule(CH_PRE, h); e;
             e = iptc_next_rule(e, h), i++)
            if (dnat_selected(f, e) && n < sizeof(nums) / sizeof(nums[0]))
                nums[n++] = i;
        if (n == 0)
            return deleted;
        /* From the end, so the earlier numbers stay valid. */
        while (n > 0)
            if (!iptc_delete_num_entry(CH_PRE, nums[--n], h))
                return -errno;
            else
                deleted++;
    }
}

/* Splits "berth n=NET[ c=CTR]"; returns 1 when it is berth's tag. */
static int parse_tag(const char *comment, char net[static NAT_ID_MAX], char ctr[static NAT_ID_MAX])
{
    if (!comment || strncmp(comment, "berth n=", 8) != 0)
        return 0;
    const char *n = comment + 8, *sp = strchr(n, ' ');
    size_t nlen = sp ? (size_t)(sp - n) : strlen(n);
    if (nlen == 0 || nlen >= NAT_ID_MAX)
        return 0;
    snprintf(net, NAT_ID_MAX, "%.*s", (int)nlen, n);
    ctr[0] = '\0';
    if (sp) {
        if (strncmp(sp, " c=", 3) != 0 || strlen(sp + 3) >= NAT_ID_MAX)
            return 0;
        snprintf(ctr, NAT_ID_MAX, "%s", sp + 3);
    }
    return 1;
}

static void net_tag(char buf[static TAG_MAX], const char *net_id)
{
    snprintf(buf, TAG_MAX, "berth n=%s", net_id);
}

/* Which tagged rules an edit removes. */
struct tag_filter {
    struct nat *nat;
    const char *net_id; /* NULL: decided by state (gc) */
    const char *ctr_id; /* NULL: every rule of the network; "": network rules only */
};

static int tag_selected(const struct tag_filter *f, const char *comment)
{
    char net[NAT_ID_MAX], ctr[NAT_ID_MAX];
    if (!parse_tag(comment, net, ctr))
        return 0;
    if (!f->net_id) /* gc: whatever no state backs */
        return ctr[0] ? !nat_state_has_endpoint(f->nat, net, ctr)
                      : !nat_state_has_network(f->nat, net);
    if (strcmp(net, f->net_id) != 0)
        return 0;
    return !f->ctr_id || strcmp(ctr, f->ctr_id) == 0;
}

/* Deletes the selected rules of CHAIN; returns how many. */
static int delete_tagged(struct xtc_handle *h, const char *chain, const struct tag_filter *f)
{
    if (!iptc_is_chain(chain, h))
        return 0;
    unsigned nums[512];
    unsigned n = 0, i = 0;
    int deleted = 0;
    for (;;) {
        n = 0;
        i = 0;
        for (const struct ipt_entry *e = iptc_first_rule(chain, h); e;
             e = iptc_next_rule(e, h), i++)
            if (tag_selected(f, entry_comment(e)) && n < sizeof(nums) / sizeof(nums[0]))
                nums[n++] = i;
        if (n == 0)
            return deleted;
        /* From the end, so the earlier numbers stay valid. */
        while (n > 0)
            if (!iptc_delete_num_entry(chain, nums[--n], h))
                return -errno;
            else
                deleted++;
    }
}

static int count_tagged(struct xtc_handle *h, const char *chain, const char *tag)
{
    int n = 0;
    for (const struct ipt_entry *e = iptc_first_rule(chain, h); e; e = iptc_next_rule(e, h)) {
        const char *c = entry_comment(e);
        if (c && strcmp(c, tag) == 0)
            n++;
    }
    return n;
}

static int has_jump(struct xtc_handle *h, const char *from, const char *to)
{
    for (const struct ipt_entry *e = iptc_first_rule(from, h); e; e = iptc_next_rule(e, h)) {
        const char *t = iptc_get_target(e, h);
        if (t && strcmp(t, to) == 0)
            return 1;
    }
    return 0;
}

static int ensure_jump(struct xtc_handle *h, const char *from, const char *to, int local_only)
{
    if (has_jump(h, from, to))
        return 0;
    struct rule r;
    rule_init(&r);
    if (local_only)
        rule_dst_local(&r);
    rule_comment(&r, "berth");
    rule_verdict(&r, to);
    /* First, so that a DNAT or ACCEPT of another tool cannot hide berth's. */
    if (!iptc_insert_entry(from, &r.u.e, 0, h))
        return -errno;
    return 1;
}

static int ensure_chain(struct xtc_handle *h, const char *chain)
{
    if (iptc_is_chain(chain, h))
        return 0;
    if (!iptc_create_chain(chain, h))
        return -errno;
    return 1;
}

static int nat_skeleton(struct xtc_handle *h)
{
    int r, changed = 0;
    const char *chains[] = {CH_PRE, CH_OUT, CH_POST};
    for (size_t i = 0; i < 3; i++) {
        if ((r = ensure_chain(h, chains[i])) < 0)
            return r;
        changed |= r;
    }
    if ((r = ensure_jump(h, CH_OUT, CH_PRE, 0)) < 0)
        return r;
    changed |= r;
    if ((r = ensure_jump(h, PREROUTING, CH_PRE, 1)) < 0)
        return r;
    changed |= r;
    if ((r = ensure_jump(h, OUTPUT, CH_OUT, 1)) < 0)
        return r;
    changed |= r;
    if ((r = ensure_jump(h, POSTROUTING, CH_POST, 0)) < 0)
        return r;
    return changed | r;
}

static int filter_skeleton(struct xtc_handle *h)
{
    int r = ensure_chain(h, CH_FWD);
    if (r < 0)
        return r;
    int r2 = ensure_jump(h, FORWARD, CH_FWD, 0);
    return r2 < 0 ? r2 : (r | r2);
}

static int append(struct xtc_handle *h, const char *chain, struct rule *r)
{
    return iptc_append_entry(chain, &r->u.e, h) ? 1 : -errno;
}

/* The network's nat rules; with BUILD NULL only counts them. */
static int nat_network_rules(struct xtc_handle *h, const struct nat_network *net)
{
    char tag[TAG_MAX];
    net_tag(tag, net->id);
    struct rule r;
    int n = 0, rc;
    if (!net->internal) {
        /* Outbound: the subnet's traffic that leaves the bridge. */
        rule_init(&r);
        rule_src(&r, net->subnet, net->mask);
        if (net->bridge[0])
            rule_out(&r, net->bridge, 1);
        else {
            r.u.e.ip.dst.s_addr = net->subnet;
            r.u.e.ip.dmsk.s_addr = net->mask;
            r.u.e.ip.invflags |= IPT_INV_DSTIP;
        }
        rule_comment(&r, tag);
        rule_masquerade(&r);
        if (h && (rc = append(h, CH_POST, &r)) < 0)
            return rc;
        n++;
    }
    if (net->bridge[0]) {
        /* Hairpin: a container reaching a published port through the
         * host's address gets the answer back through the host. */
        rule_init(&r);
        rule_src(&r, net->subnet, net->mask);
        rule_out(&r, net->bridge, 0);
        rule_ctstate(&r, XT_CONNTRACK_STATE_DNAT);
        rule_comment(&r, tag);
        rule_masquerade(&r);
        if (h && (rc = append(h, CH_POST, &r)) < 0)
            return rc;
        /* 127.0.0.1:PORT: the container cannot answer a loopback source. */
        rule_init(&r);
        rule_src(&r, htonl(INADDR_LOOPBACK & 0xff000000u), htonl(0xff000000u));
        rule_out(&r, net->bridge, 0);
        rule_comment(&r, tag);
        rule_masquerade(&r);
        if (h && (rc = append(h, CH_POST, &r)) < 0)
            return rc;
        n += 2;
    }
    return n;
}

static int filter_network_rules(struct xtc_handle *h, const struct nat_network *net)
{
    if (!net->bridge[0])
        return 0;
    char tag[TAG_MAX];
    net_tag(tag, net->id);
    struct rule r[5];
    for (size_t i = 0; i < 5; i++) {
        rule_init(&r[i]);
        rule_comment(&r[i], tag);
    }
    rule_out(&r[0], net->bridge, 0); /* answers to the containers */
    rule_ctstate(&r[0],
                 XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) | XT_CONNTRACK_STATE_BIT(IP_CT_RELATED));
    rule_verdict(&r[0], "ACCEPT");
    rule_out(&r[1], net->bridge, 0); /* published ports */
    rule_ctstate(&r[1], XT_CONNTRACK_STATE_DNAT);
    rule_verdict(&r[1], "ACCEPT");
    rule_in(&r[2], net->bridge, 0); /* container to container, if br_netfilter */
    rule_out(&r[2], net->bridge, 0);
    rule_verdict(&r[2], "ACCEPT");
    rule_in(&r[3], net->bridge, 0); /* out of the network: --internal stops it */
    rule_verdict(&r[3], net->internal ? "DROP" : "ACCEPT");
    rule_out(&r[4], net->bridge, 0); /* anything else into it: other networks too */
    rule_verdict(&r[4], "DROP");
    /*
     * Every network's "into this bridge" verdicts (0, 1, 2, 4) go at the top
     * of the chain, its "out of this bridge" verdict (3) at the bottom: a
     * packet from one network to another meets the target's DROP before the
     * source's ACCEPT, whatever order the networks were made or repaired in.
     */
    if (h) {
        static const size_t top[] = {4, 2, 1, 0};
        for (size_t i = 0; i < 4; i++)
            if (!iptc_insert_entry(CH_FWD, &r[top[i]].u.e, 0, h))
                return -errno;
        int rc = append(h, CH_FWD, &r[3]);
        if (rc < 0)
            return rc;
    }
    return 5;
}

/*
 * Read-modify-commit of one table. EDIT returns >0 when it changed the
 * table, 0 when there was nothing to do, or a negative errno.
 */
typedef int (*edit_fn)(struct xtc_handle *h, void *ctx);

static int with_table(struct nat *nat, const char *table, edit_fn edit, void *ctx, int create,
                      struct berth_error *err)
{
    int token, r;
    r = nat->services->lock(nat->services->host, "iptables", &token);
    if (r < 0) {
        nat_set_error(nat, err, -r, "take the iptables lock");
        return r;
    }
    /* iptables-legacy's own lock, so that its commits and ours alternate. */
    _cleanup_close_ int xfd = open("/run/xtables.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (xfd >= 0)
        flock(xfd, LOCK_EX);
    for (int tries = 0;; tries++) {
        struct xtc_handle *h = iptc_init(table);
        if (!h) {
            r = -errno;
            if (!create && (r == -ENOENT || r == -ENOPROTOOPT || r == -EPROTONOSUPPORT)) {
                r = 0; /* no legacy tables: nothing of berth's there */
                break;
            }
            nat_set_error(nat, err, -r, "iptables: read table '%s': %s", table, iptc_strerror(-r));
            break;
        }
        r = edit(h, ctx);
        if (r > 0 && !iptc_commit(h)) {
            r = -errno;
            iptc_free(h);
            if (r == -EAGAIN && tries < COMMIT_TRIES)
                continue;
            nat_set_error(nat, err, -r, "iptables: commit table '%s': %s", table,
                          iptc_strerror(-r));
            break;
        }
        iptc_free(h);
        if (r < 0)
            nat_set_error(nat, err, -r, "iptables: edit table '%s': %s", table, iptc_strerror(-r));
        break;
    }
    nat->services->unlock(nat->services->host, token);
    return r < 0 ? r : 0;
}

static int edit_setup_nat(struct xtc_handle *h, void *ctx)
{
    const struct nat_network *net = ctx;
    int r = nat_skeleton(h);
    if (r < 0)
        return r;
    struct tag_filter f = {.net_id = net->id, .ctr_id = ""};
    if ((r = delete_tagged(h, CH_POST, &f)) < 0)
        return r;
    return nat_network_rules(h, net) < 0 ? -errno : 1;
}

static int edit_setup_filter(struct xtc_handle *h, void *ctx)
{
    const struct nat_network *net = ctx;
    int r = filter_skeleton(h);
    if (r < 0)
        return r;
    struct tag_filter f = {.net_id = net->id, .ctr_id = ""};
    if ((r = delete_tagged(h, CH_FWD, &f)) < 0)
        return r;
    r = filter_network_rules(h, net);
    return r < 0 ? r : 1;
}

static int ipt_setup_network(struct nat *nat, const struct nat_network *net,
                             struct berth_error *err)
{
    int r = with_table(nat, "nat", edit_setup_nat, (void *)net, 1, err);
    if (r < 0)
        return r;
    return with_table(nat, "filter", edit_setup_filter, (void *)net, 1, err);
}

struct teardown_ctx {
    struct nat *nat;
    const struct nat_network *net;
    int last;
};

static int chain_empty(struct xtc_handle *h, const char *chain)
{
    return !iptc_is_chain(chain, h) || !iptc_first_rule(chain, h);
}

/* Removes the jump from FROM to CHAIN and CHAIN itself. */
static int drop_chain(struct xtc_handle *h, const char *from, const char *chain)
{
    if (!iptc_is_chain(chain, h))
        return 0;
    for (;;) {
        unsigned i = 0;
        int found = 0;
        for (const struct ipt_entry *e = iptc_first_rule(from, h); e;
             e = iptc_next_rule(e, h), i++) {
            const char *t = iptc_get_target(e, h);
            if (t && strcmp(t, chain) == 0) {
                found = 1;
                break;
            }
        }
        if (!found)
            break;
        if (!iptc_delete_num_entry(from, i, h))
            return -errno;
    }
    if (!iptc_flush_entries(chain, h) || !iptc_delete_chain(chain, h))
        return -errno;
    return 1;
}

static int edit_teardown_nat(struct xtc_handle *h, void *ctx)
{
    struct teardown_ctx *c = ctx;
    struct tag_filter f = {.net_id = c->net->id};
    struct dnat_filter df = {.net = c->net};
    int r1 = delete_dnat(h, &df), r2 = delete_tagged(h, CH_POST, &f), r;
    if (r1 < 0 || r2 < 0)
        return r1 < 0 ? r1 : r2;
    int changed = r1 + r2 > 0;
    /* The last network takes berth's chains with it, unless something
     * (a state file lost in a crash) still has rules there. */
    if (c->last && chain_empty(h, CH_PRE) && chain_empty(h, CH_POST)) {
        if ((r = drop_chain(h, OUTPUT, CH_OUT)) < 0 ||
            (r = drop_chain(h, PREROUTING, CH_PRE)) < 0 ||
            (r = drop_chain(h, POSTROUTING, CH_POST)) < 0)
            return r;
        changed = 1;
    }
    return changed;
}

static int edit_teardown_filter(struct xtc_handle *h, void *ctx)
{
    struct teardown_ctx *c = ctx;
    struct tag_filter f = {.net_id = c->net->id};
    int r = delete_tagged(h, CH_FWD, &f);
    if (r < 0)
        return r;
    int changed = r > 0;
    if (c->last && chain_empty(h, CH_FWD)) {
        if ((r = drop_chain(h, FORWARD, CH_FWD)) < 0)
            return r;
        changed = 1;
    }
    return changed;
}

static int ipt_teardown_network(struct nat *nat, const struct nat_network *net, int last,
                                struct berth_error *err)
{
    struct teardown_ctx c = {nat, net, last};
    int r = with_table(nat, "nat", edit_teardown_nat, &c, 0, err);
    if (r < 0)
        return r;
    return with_table(nat, "filter", edit_teardown_filter, &c, 0, err);
}

struct ports_ctx {
    struct nat *nat;
    const struct nat_network *net;
    const struct nat_endpoint *ep;
    int add;
};

static int append_dnat(struct xtc_handle *h, const struct nat_endpoint *ep)
{
    for (size_t i = 0; i < ep->n_ports; i++) {
        const struct port_map *m = &ep->ports[i];
        struct rule rl;
        rule_init(&rl);
        if (m->host_addr) {
            rl.u.e.ip.dst.s_addr = m->host_addr;
            rl.u.e.ip.dmsk.s_addr = 0xffffffffu;
        }
        rule_dport(&rl, m->proto, m->host_port);
        rule_dnat(&rl, ep->container_addr, m->container_port);
        int r = append(h, CH_PRE, &rl);
        if (r < 0)
            return r;
    }
    return ep->n_ports > 0;
}

static int edit_ports(struct xtc_handle *h, void *ctx)
{
    struct ports_ctx *c = ctx;
    int r, changed = 0;
    if (c->add) {
        if ((r = nat_skeleton(h)) < 0)
            return r;
        changed |= r;
    }
    /* Adding replaces whatever publishes the same host ports (a repair
     * re-adds what is there); removing takes only EP's own rules. */
    struct dnat_filter f = {.ep = c->ep, .to_ep = !c->add};
    if ((r = delete_dnat(h, &f)) < 0)
        return r;
    changed |= r > 0;
    if (!c->add)
        return changed;
    if ((r = append_dnat(h, c->ep)) < 0)
        return r;
    return changed | r;
}

static int ipt_add_ports(struct nat *nat, const struct nat_network *net,
                         const struct nat_endpoint *ep, struct berth_error *err)
{
    struct ports_ctx c = {nat, net, ep, 1};
    return with_table(nat, "nat", edit_ports, &c, 1, err);
}

static int ipt_remove_ports(struct nat *nat, const struct nat_network *net,
                            const struct nat_endpoint *ep, struct berth_error *err)
{
    if (ep->n_ports == 0)
        return 0; /* no state, no rules: the state file is written first */
    struct ports_ctx c = {nat, net, ep, 0};
    return with_table(nat, "nat", edit_ports, &c, 0, err);
}

static int readd_endpoint(struct nat *nat, struct nat_endpoint *ep, void *ctx)
{
    (void)nat;
    int r = append_dnat(ctx, ep);
    return r < 0 ? r : 0;
}

/*
 * A join's one pass over the nat table: berth's chains and jumps, the
 * network's rules (all of them put back, with the ports of every container
 * joined to it, when something flushed them), then EP's ports. Counting the
 * network's rules reads only BERTH-POSTROUTING; the DNAT rules are not
 * walked unless EP replaces some or a repair is needed.
 */
static int edit_join_nat(struct xtc_handle *h, void *ctx)
{
    struct ports_ctx *c = ctx;
    char tag[TAG_MAX];
    net_tag(tag, c->net->id);
    int r = nat_skeleton(h), changed;
    if (r < 0)
        return r;
    changed = r;
    if (iptc_is_chain(CH_POST, h) &&
        count_tagged(h, CH_POST, tag) == nat_network_rules(NULL, c->net))
        return (r = edit_ports(h, c)) < 0 ? r : (changed | r);
    c->nat->services->log(c->nat->services->host, BERTH_LOG_INFO,
                          "nat: rules of network '%s' missing (iptables), putting them back",
                          c->net->name);
    struct tag_filter tf = {.net_id = c->net->id, .ctr_id = ""};
    struct dnat_filter df = {.net = c->net};
    if ((r = delete_tagged(h, CH_POST, &tf)) < 0 || (r = nat_network_rules(h, c->net)) < 0 ||
        (r = delete_dnat(h, &df)) < 0)
        return r;
    /* EP's state was written before this call: it is among them. */
    if ((r = nat_foreach_endpoint(c->nat, c->net->id, readd_endpoint, h)) < 0)
        return r;
    return 1;
}

/* The filter table's part of a join: berth's chain, its jump and the
 * network's verdicts, committed only when something was missing. */
static int edit_join_filter(struct xtc_handle *h, void *ctx)
{
    struct ports_ctx *c = ctx;
    char tag[TAG_MAX];
    net_tag(tag, c->net->id);
    int r = filter_skeleton(h);
    if (r < 0)
        return r;
    if (count_tagged(h, CH_FWD, tag) == filter_network_rules(NULL, c->net))
        return r;
    struct tag_filter f = {.net_id = c->net->id, .ctr_id = ""};
    if ((r = delete_tagged(h, CH_FWD, &f)) < 0 || (r = filter_network_rules(h, c->net)) < 0)
        return r;
    return 1;
}

static int ipt_join(struct nat *nat, const struct nat_network *net, const struct nat_endpoint *ep,
                    struct berth_error *err)
{
    struct ports_ctx c = {nat, net, ep, 1};
    int r = with_table(nat, "nat", edit_join_nat, &c, 1, err);
    if (r < 0)
        return r;
    return with_table(nat, "filter", edit_join_filter, &c, 1, err);
}

static int edit_gc_nat(struct xtc_handle *h, void *ctx)
{
    struct tag_filter f = {.nat = ctx};
    struct dnat_filter df = {.nat = ctx, .unreserved = 1};
    int r1 = delete_dnat(h, &df), r2 = delete_tagged(h, CH_POST, &f);
    if (r1 < 0 || r2 < 0)
        return r1 < 0 ? r1 : r2;
    return r1 + r2 > 0;
}

static int edit_gc_filter(struct xtc_handle *h, void *ctx)
{
    struct tag_filter f = {.nat = ctx};
    int r = delete_tagged(h, CH_FWD, &f);
    return r < 0 ? r : r > 0;
}

static int ipt_gc(struct nat *nat, struct berth_error *err)
{
    int r = with_table(nat, "nat", edit_gc_nat, nat, 0, err);
    if (r < 0)
        return r;
    return with_table(nat, "filter", edit_gc_filter, nat, 0, err);
}

struct check_ctx {
    const struct nat_network *net;
    int present;
};

static int edit_check_nat(struct xtc_handle *h, void *ctx)
{
    struct check_ctx *c = ctx;
    char tag[TAG_MAX];
    net_tag(tag, c->net->id);
    c->present = iptc_is_chain(CH_PRE, h) && iptc_is_chain(CH_OUT, h) &&
                 iptc_is_chain(CH_POST, h) && has_jump(h, PREROUTING, CH_PRE) &&
                 has_jump(h, OUTPUT, CH_OUT) && has_jump(h, CH_OUT, CH_PRE) &&
                 has_jump(h, POSTROUTING, CH_POST) &&
                 count_tagged(h, CH_POST, tag) == nat_network_rules(NULL, c->net);
    return 0;
}

static int edit_check_filter(struct xtc_handle *h, void *ctx)
{
    struct check_ctx *c = ctx;
    char tag[TAG_MAX];
    net_tag(tag, c->net->id);
    c->present = iptc_is_chain(CH_FWD, h) && has_jump(h, FORWARD, CH_FWD) &&
                 count_tagged(h, CH_FWD, tag) == filter_network_rules(NULL, c->net);
    return 0;
}

static int ipt_check_present(struct nat *nat, const struct nat_network *net)
{
    struct check_ctx c = {net, 0};
    int r = with_table(nat, "nat", edit_check_nat, &c, 1, NULL);
    if (r < 0 || !c.present)
        return r < 0 ? r : 0;
    c.present = 0;
    r = with_table(nat, "filter", edit_check_filter, &c, 1, NULL);
    return r < 0 ? r : c.present;
}

const struct nat_backend_ops nat_iptables_ops = {
    .name = "iptables",
    .setup_network = ipt_setup_network,
    .teardown_network = ipt_teardown_network,
    .add_ports = ipt_add_ports,
    .remove_ports = ipt_remove_ports,
    .join = ipt_join,
    .gc = ipt_gc,
    .check_present = ipt_check_present,
};
