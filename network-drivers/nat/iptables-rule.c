/* SPDX-License-Identifier: MIT */
/* iptables rules built and read back by hand; see iptables-rule.h. */
#include "iptables-rule.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_tcpudp.h>

void rule_init(struct rule *r)
{
    memset(r, 0, sizeof(*r));
    r->len = XT_ALIGN(sizeof(struct ipt_entry));
}

void *rule_match(struct rule *r, const char *name, uint8_t revision, size_t size)
{
    size_t sz = XT_ALIGN(sizeof(struct xt_entry_match) + size);
    struct xt_entry_match *m = (struct xt_entry_match *)(r->u.buf + r->len);
    m->u.match_size = (uint16_t)sz;
    snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
    m->u.user.revision = revision;
    r->len += sz;
    return m->data;
}

void *rule_target(struct rule *r, const char *name, uint8_t revision, size_t size)
{
    size_t sz = XT_ALIGN(sizeof(struct xt_entry_target) + size);
    struct xt_entry_target *t = (struct xt_entry_target *)(r->u.buf + r->len);
    t->u.target_size = (uint16_t)sz;
    snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", name);
    t->u.user.revision = revision;
    r->u.e.target_offset = (uint16_t)r->len;
    r->len += sz;
    r->u.e.next_offset = (uint16_t)r->len;
    return t->data;
}

void rule_verdict(struct rule *r, const char *name)
{
    rule_target(r, name, 0, sizeof(int));
}

void rule_comment(struct rule *r, const char *tag)
{
    struct xt_comment_info *c = rule_match(r, "comment", 0, sizeof(*c));
    snprintf(c->comment, sizeof(c->comment), "%s", tag);
}

static void rule_iface(char name[IFNAMSIZ], unsigned char mask[IFNAMSIZ], const char *ifname)
{
    snprintf(name, IFNAMSIZ, "%s", ifname);
    memset(mask, 0xff, strlen(ifname) + 1);
}

void rule_in(struct rule *r, const char *ifname, int invert)
{
    rule_iface(r->u.e.ip.iniface, r->u.e.ip.iniface_mask, ifname);
    if (invert)
        r->u.e.ip.invflags |= IPT_INV_VIA_IN;
}

void rule_out(struct rule *r, const char *ifname, int invert)
{
    rule_iface(r->u.e.ip.outiface, r->u.e.ip.outiface_mask, ifname);
    if (invert)
        r->u.e.ip.invflags |= IPT_INV_VIA_OUT;
}

void rule_src(struct rule *r, uint32_t addr, uint32_t mask)
{
    r->u.e.ip.src.s_addr = addr;
    r->u.e.ip.smsk.s_addr = mask;
}

void rule_dport(struct rule *r, uint8_t proto, uint16_t port)
{
    r->u.e.ip.proto = proto;
    if (proto == IPPROTO_TCP) {
        struct xt_tcp *t = rule_match(r, "tcp", 0, sizeof(*t));
        t->spts[1] = 0xffff;
        t->dpts[0] = t->dpts[1] = port;
    } else {
        struct xt_udp *u = rule_match(r, "udp", 0, sizeof(*u));
        u->spts[1] = 0xffff;
        u->dpts[0] = u->dpts[1] = port;
    }
}

void rule_dst_local(struct rule *r)
{
    struct xt_addrtype_info_v1 *a = rule_match(r, "addrtype", 1, sizeof(*a));
    a->dest = XT_ADDRTYPE_LOCAL;
}

void rule_ctstate(struct rule *r, uint16_t states)
{
    struct xt_conntrack_mtinfo3 *c = rule_match(r, "conntrack", 3, sizeof(*c));
    c->match_flags = XT_CONNTRACK_STATE;
    c->state_mask = states;
}

void rule_masquerade(struct rule *r)
{
    struct nf_nat_ipv4_multi_range_compat *m = rule_target(r, "MASQUERADE", 0, sizeof(*m));
    m->rangesize = 1;
}

void rule_dnat(struct rule *r, uint32_t addr, uint16_t port)
{
    /* Revision 2, the one iptables 1.8 writes. Revision 0, IPv4's own, would
     * make every commit cheaper (the kernel looks each rule's target up by
     * name, in the IPv4 list first) but iptables 1.8 prints it as
     * "[unsupported revision]", and iptables-restore then refuses the
     * whole saved ruleset. */
    struct nf_nat_range2 *m = rule_target(r, "DNAT", 2, sizeof(*m));
    m->flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
    m->min_addr.ip = m->max_addr.ip = addr;
    m->min_proto.tcp.port = m->max_proto.tcp.port = htons(port);
}

int dnat_parse(const struct ipt_entry *e, struct dnat_key *ret)
{
    struct dnat_key k = {.proto = (uint8_t)e->ip.proto};
    if (e->ip.invflags || (k.proto != IPPROTO_TCP && k.proto != IPPROTO_UDP))
        return -EINVAL;
    if (e->ip.dmsk.s_addr == 0xffffffffu)
        k.host_addr = e->ip.dst.s_addr;
    else if (e->ip.dmsk.s_addr != 0)
        return -EINVAL;
    int have_port = 0;
    for (size_t off = sizeof(struct ipt_entry); off < e->target_offset;) {
        const struct xt_entry_match *m = (const void *)((const char *)e + off);
        if (m->u.match_size == 0)
            return -EINVAL;
        if (strcmp(m->u.user.name, k.proto == IPPROTO_TCP ? "tcp" : "udp") == 0) {
            /* xt_tcp and xt_udp both begin with spts[2], dpts[2]. */
            const struct xt_udp *u = (const void *)m->data;
            if (u->dpts[0] != u->dpts[1])
                return -EINVAL;
            k.host_port = u->dpts[0];
            have_port = 1;
        }
        off += m->u.match_size;
    }
    const struct xt_entry_target *t = (const void *)((const char *)e + e->target_offset);
    if (!have_port || strcmp(t->u.user.name, "DNAT") != 0 || t->u.user.revision != 2 ||
        t->u.target_size < XT_ALIGN(sizeof(*t) + sizeof(struct nf_nat_range2)))
        return -EINVAL;
    const struct nf_nat_range2 *r = (const void *)t->data;
    k.to_addr = r->min_addr.ip;
    k.to_port = ntohs(r->min_proto.tcp.port);
    *ret = k;
    return 0;
}

const char *entry_comment(const struct ipt_entry *e)
{
    for (size_t off = sizeof(struct ipt_entry); off < e->target_offset;) {
        const struct xt_entry_match *m = (const void *)((const char *)e + off);
        if (m->u.match_size == 0)
            break;
        if (strcmp(m->u.user.name, "comment") == 0) {
            const struct xt_comment_info *c = (const void *)m->data;
            return memchr(c->comment, '\0', sizeof(c->comment)) ? c->comment : NULL;
        }
        off += m->u.match_size;
    }
    return NULL;
}

int dnat_key_matches(const struct dnat_key *k, const struct port_map *m, uint32_t to_addr)
{
    if (m->proto != k->proto || m->host_port != k->host_port || m->host_addr != k->host_addr)
        return 0;
    return !to_addr || (k->to_addr == to_addr && k->to_port == m->container_port);
}
