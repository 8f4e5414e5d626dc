/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the nat driver's iptables rules (network-drivers/nat/
 * iptables-rule.c): a DNAT rule as berth writes it reads back to the same
 * publication, with or without a host address, tcp or udp, and an old rule
 * that still carries a comment; other rules are not taken for one; and the
 * matching that finds a container's rules without a comment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iptables-rule.h"

static uint32_t addr(const char *text)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, text, &a), 1);
    return a.s_addr;
}

/* The rule edit_ports appends for M, sent to TO. */
static void build_dnat(struct rule *r, const struct port_map *m, uint32_t to, const char *comment)
{
    rule_init(r);
    if (m->host_addr) {
        r->u.e.ip.dst.s_addr = m->host_addr;
        r->u.e.ip.dmsk.s_addr = 0xffffffffu;
    }
    rule_dport(r, m->proto, m->host_port);
    if (comment)
        rule_comment(r, comment);
    rule_dnat(r, to, m->container_port);
}

static void test_round_trip(void **s)
{
    (void)s;
    const struct port_map maps[] = {
        {.host_addr = 0, .host_port = 8080, .container_port = 80, .proto = IPPROTO_TCP},
        {.host_addr = addr("127.0.0.1"),
         .host_port = 9090,
         .container_port = 80,
         .proto = IPPROTO_TCP},
        {.host_addr = 0, .host_port = 5353, .container_port = 53, .proto = IPPROTO_UDP},
        {.host_addr = addr("192.0.2.10"),
         .host_port = 65535,
         .container_port = 1,
         .proto = IPPROTO_UDP},
    };
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        struct rule r;
        struct dnat_key k;
        build_dnat(&r, &maps[i], addr("10.88.0.5"), NULL);
        assert_int_equal(r.u.e.next_offset, r.len);
        assert_int_equal(dnat_parse(&r.u.e, &k), 0);
        assert_int_equal(k.proto, maps[i].proto);
        assert_int_equal(k.host_addr, maps[i].host_addr);
        assert_int_equal(k.host_port, maps[i].host_port);
        assert_int_equal(k.to_addr, addr("10.88.0.5"));
        assert_int_equal(k.to_port, maps[i].container_port);
        assert_null(entry_comment(&r.u.e));
    }
}

static void test_smaller_without_comment(void **s)
{
    (void)s;
    const struct port_map m = {.host_port = 8080, .container_port = 80, .proto = IPPROTO_TCP};
    struct rule plain, tagged;
    struct dnat_key k;
    build_dnat(&plain, &m, addr("10.88.0.5"), NULL);
    build_dnat(&tagged, &m, addr("10.88.0.5"), "berth n=net c=ctr");
    /* An older berth's rule, with its tag, still reads back. */
    assert_int_equal(dnat_parse(&tagged.u.e, &k), 0);
    assert_int_equal(k.host_port, 8080);
    assert_string_equal(entry_comment(&tagged.u.e), "berth n=net c=ctr");
    /* The comment match is most of a tagged rule. */
    assert_true(plain.len * 2 < tagged.len);
}

static void test_not_dnat(void **s)
{
    (void)s;
    struct rule r;
    struct dnat_key k;
    rule_init(&r);
    rule_src(&r, addr("10.88.0.0"), addr("255.255.0.0"));
    rule_out(&r, "berth0", 1);
    rule_comment(&r, "berth n=net");
    rule_masquerade(&r);
    assert_int_equal(dnat_parse(&r.u.e, &k), -EINVAL);

    rule_init(&r); /* a jump, as in BERTH-OUTPUT */
    rule_comment(&r, "berth");
    rule_verdict(&r, "BERTH-PREROUTING");
    assert_int_equal(dnat_parse(&r.u.e, &k), -EINVAL);

    /* A DNAT without a port match, or with a port range, is not berth's. */
    rule_init(&r);
    r.u.e.ip.proto = IPPROTO_TCP;
    rule_dnat(&r, addr("10.88.0.5"), 80);
    assert_int_equal(dnat_parse(&r.u.e, &k), -EINVAL);
    const struct port_map m = {.host_port = 8080, .container_port = 80, .proto = IPPROTO_TCP};
    build_dnat(&r, &m, addr("10.88.0.5"), NULL);
    r.u.e.ip.invflags = IPT_INV_DSTIP;
    assert_int_equal(dnat_parse(&r.u.e, &k), -EINVAL);
    /* A partial host mask is not something berth writes. */
    build_dnat(&r, &m, addr("10.88.0.5"), NULL);
    r.u.e.ip.dst.s_addr = addr("192.0.2.0");
    r.u.e.ip.dmsk.s_addr = addr("255.255.255.0");
    assert_int_equal(dnat_parse(&r.u.e, &k), -EINVAL);
}

static void test_matches(void **s)
{
    (void)s;
    const struct port_map m = {.host_port = 8080, .container_port = 80, .proto = IPPROTO_TCP};
    struct dnat_key k = {
        .proto = IPPROTO_TCP, .host_port = 8080, .to_addr = addr("10.88.0.5"), .to_port = 80};
    assert_true(dnat_key_matches(&k, &m, 0));
    assert_true(dnat_key_matches(&k, &m, addr("10.88.0.5")));
    /* Another container's rule for the port: replaced on add, kept on leave. */
    assert_false(dnat_key_matches(&k, &m, addr("10.88.0.6")));
    struct dnat_key other = k;
    other.to_port = 81;
    assert_false(dnat_key_matches(&other, &m, addr("10.88.0.5")));
    other = k;
    other.proto = IPPROTO_UDP;
    assert_false(dnat_key_matches(&other, &m, 0));
    other = k;
    other.host_port = 8081;
    assert_false(dnat_key_matches(&other, &m, 0));
    other = k;
    other.host_addr = addr("127.0.0.1");
    assert_false(dnat_key_matches(&other, &m, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_smaller_without_comment),
        cmocka_unit_test(test_not_dnat),
        cmocka_unit_test(test_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
