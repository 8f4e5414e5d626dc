/* The bridge driver's address allocation (network-drivers/bridge/ipam.c):
 * pure logic, compiled into this test directly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipam.h"

static uint32_t A(const char *s)
{
    uint32_t a = 0;
    assert_int_equal(ipam_parse_addr(s, &a), 0);
    return a;
}

/* A store for the tests: who holds each address of the subnet, and the
 * hint, as ipam-store.c keeps them in files. */
struct table {
    struct ipam pool;
    uint32_t hint;
    char (*owner)[16]; /* by offset from the network address */
    unsigned claims;   /* calls of the claim callback */
};

static void table_init(struct table *t, const char *subnet, const char *gateway, const char *range)
{
    char msg[256];
    memset(t, 0, sizeof(*t));
    if (ipam_init(&t->pool, subnet, gateway, range, msg, sizeof(msg)) < 0)
        fail_msg("init %s: %s", subnet, msg);
    t->owner = calloc((size_t)(t->pool.broadcast - t->pool.network) + 1, sizeof(*t->owner));
    assert_non_null(t->owner);
}

static void table_free(struct table *t)
{
    free(t->owner);
}

static char *slot(struct table *t, uint32_t addr)
{
    return t->owner[addr - t->pool.network];
}

struct claim {
    struct table *t;
    const char *owner;
};

static int claim(void *ctx, uint32_t addr)
{
    struct claim *c = ctx;
    c->t->claims++;
    assert_true(ipam_usable(&c->t->pool, addr));
    if (slot(c->t, addr)[0])
        return -EEXIST;
    snprintf(slot(c->t, addr), 16, "%s", c->owner);
    return 0;
}

static int refuse(void *ctx, uint32_t addr)
{
    (void)ctx;
    (void)addr;
    return -EIO;
}

/* An automatic allocation as the store makes it. */
static int try_take(struct table *t, const char *owner, uint32_t *ret, char *msg, size_t len)
{
    struct claim c = {t, owner};
    int r = ipam_claim_next(&t->pool, t->hint, claim, &c, ret, msg, len);
    if (r == 0)
        t->hint = ipam_next_hint(&t->pool, *ret);
    return r;
}

static uint32_t take(struct table *t, const char *owner)
{
    uint32_t a = 0;
    char msg[256] = "";
    if (try_take(t, owner, &a, msg, sizeof(msg)) < 0)
        fail_msg("allocate for %s: %s", owner, msg);
    return a;
}

static void release(struct table *t, uint32_t addr)
{
    assert_true(slot(t, addr)[0] != 0);
    slot(t, addr)[0] = 0;
}

static void test_parse(void **unused)
{
    (void)unused;
    uint32_t a;
    unsigned p;
    assert_int_equal(ipam_parse_cidr("10.88.0.0/16", &a, &p), 0);
    assert_int_equal(a, 0x0a580000u);
    assert_int_equal(p, 16);
    const char *bad[] = {"10.88.0.0",     "10.88.0.0/",    "10.88.0.0/33", "10.88/16",      "/16",
                         "10.88.0.0/16x", "10.88.0.0/016", "x.0.0.0/8",    "10.88.0.0 /16", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ipam_parse_cidr(bad[i], &a, &p), -EINVAL);
    assert_int_equal(ipam_parse_addr("10.1", &a), -EINVAL);
    assert_int_equal(ipam_parse_addr("0x0a.0.0.1", &a), -EINVAL);
    assert_int_equal(ipam_parse_addr("256.0.0.1", &a), -EINVAL);
    char buf[IPAM_ADDR_STRLEN];
    assert_string_equal(ipam_format(0xc0a80101u, buf), "192.168.1.1");
}

static void test_init_errors(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256];
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", NULL, NULL, msg, sizeof(msg)), 0);
    assert_int_equal(p.gateway, A("10.88.0.1"));

    assert_int_equal(ipam_init(&p, "10.88.0.1/16", NULL, NULL, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "did you mean '10.88.0.0/16'"));
    assert_int_equal(ipam_init(&p, "nonsense", NULL, NULL, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "malformed subnet"));
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", "10.89.0.1", NULL, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "outside subnet"));
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", "10.88.255.255", NULL, msg, sizeof(msg)),
                     -EINVAL);
    assert_non_null(strstr(msg, "broadcast"));
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", "10.88.0.0", NULL, msg, sizeof(msg)), -EINVAL);
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", "10.88.0.x", NULL, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "malformed gateway"));
    assert_int_equal(ipam_init(&p, "10.88.0.0/31", NULL, NULL, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "too small"));
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", NULL, "10.89.0.0/24", msg, sizeof(msg)),
                     -EINVAL);
    assert_non_null(strstr(msg, "not inside subnet"));
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", NULL, "10.88.0.0/8", msg, sizeof(msg)), -EINVAL);
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", NULL, "10.88.1.1/24", msg, sizeof(msg)),
                     -EINVAL);
}

static void test_slash30(void **unused)
{
    (void)unused;
    struct table t;
    char msg[256];
    uint32_t a;
    table_init(&t, "192.168.7.0/30", NULL, NULL);
    /* .0 network, .1 gateway, .3 broadcast: one address for containers. */
    assert_int_equal(take(&t, "c1"), A("192.168.7.2"));
    assert_int_equal(try_take(&t, "c2", &a, msg, sizeof(msg)), -ENOSPC);
    assert_string_equal(msg, "no free address left in 192.168.7.1-192.168.7.2 of 192.168.7.0/30");
    release(&t, A("192.168.7.2"));
    assert_int_equal(take(&t, "c2"), A("192.168.7.2"));
    table_free(&t);

    /* The gateway may sit anywhere, here at the top. */
    table_init(&t, "192.168.7.0/30", "192.168.7.2", NULL);
    assert_int_equal(take(&t, "c1"), A("192.168.7.1"));
    assert_int_equal(try_take(&t, "c2", &a, msg, sizeof(msg)), -ENOSPC);
    table_free(&t);
}

static void test_exhaust_and_reuse(void **unused)
{
    (void)unused;
    struct table t;
    char msg[256], owner[32];
    table_init(&t, "10.0.0.0/24", "10.0.0.1", NULL);
    for (int i = 0; i < 253; i++) {
        snprintf(owner, sizeof(owner), "c%d", i);
        assert_int_equal(take(&t, owner), A("10.0.0.2") + (uint32_t)i);
    }
    uint32_t a;
    assert_int_equal(try_take(&t, "late", &a, msg, sizeof(msg)), -ENOSPC);
    /* Network, gateway and broadcast were never offered (claim checks). */
    /* Released addresses come back, the first after the hint first. */
    release(&t, A("10.0.0.102"));
    release(&t, A("10.0.0.9"));
    assert_int_equal(take(&t, "n1"), A("10.0.0.9"));
    assert_int_equal(take(&t, "n2"), A("10.0.0.102"));
    assert_int_equal(try_take(&t, "n3", &a, msg, sizeof(msg)), -ENOSPC);
    table_free(&t);
}

static void test_round_robin_hint(void **unused)
{
    (void)unused;
    struct table t;
    table_init(&t, "10.0.0.0/24", NULL, NULL);
    assert_int_equal(take(&t, "a"), A("10.0.0.2"));
    assert_int_equal(take(&t, "b"), A("10.0.0.3"));
    release(&t, A("10.0.0.2"));
    /* Not handed out again at once (stale ARP entries elsewhere)... */
    assert_int_equal(take(&t, "c"), A("10.0.0.4"));
    /* ...but once the end is reached the search wraps round to it. */
    t.hint = A("10.0.0.254");
    assert_int_equal(take(&t, "d"), A("10.0.0.254"));
    assert_int_equal(t.hint, A("10.0.0.1"));
    assert_int_equal(take(&t, "e"), A("10.0.0.2"));
    /* A hint outside the range (a damaged hint file) starts at its start. */
    t.hint = A("10.7.0.9");
    assert_int_equal(take(&t, "f"), A("10.0.0.5"));
    t.hint = 0;
    assert_int_equal(take(&t, "g"), A("10.0.0.6"));
    table_free(&t);
}

static void test_constant_cost(void **unused)
{
    (void)unused;
    /* With 300 attached, the next join asks the store about one address,
     * as with one attached: the cost does not grow with the containers. */
    struct table t;
    char owner[32];
    table_init(&t, "10.88.0.0/16", NULL, NULL);
    for (int i = 0; i < 300; i++) {
        snprintf(owner, sizeof(owner), "c%d", i);
        take(&t, owner);
    }
    for (int round = 0; round < 10; round++) {
        t.claims = 0;
        uint32_t a = take(&t, "bench");
        assert_int_equal(t.claims, 1);
        release(&t, a);
    }
    /* Released in any order, the search still starts after the last one. */
    release(&t, A("10.88.0.7"));
    t.claims = 0;
    assert_int_equal(take(&t, "x"), A("10.88.1.56"));
    assert_int_equal(t.claims, 1);
    table_free(&t);
}

static void test_ip_range(void **unused)
{
    (void)unused;
    struct table t;
    char msg[256];
    uint32_t a;
    table_init(&t, "10.88.0.0/16", NULL, "10.88.1.0/30");
    assert_int_equal(take(&t, "a"), A("10.88.1.0"));
    assert_int_equal(take(&t, "b"), A("10.88.1.1"));
    assert_int_equal(take(&t, "c"), A("10.88.1.2"));
    assert_int_equal(take(&t, "d"), A("10.88.1.3"));
    assert_int_equal(try_take(&t, "e", &a, msg, sizeof(msg)), -ENOSPC);
    /* A requested address anywhere in the subnet is still allowed. */
    assert_int_equal(ipam_check_requested(&t.pool, A("10.88.7.7"), msg, sizeof(msg)), 0);
    table_free(&t);

    /* A range at the subnet's edges loses the network and broadcast. */
    table_init(&t, "10.88.0.0/24", "10.88.0.2", "10.88.0.0/30");
    assert_int_equal(take(&t, "a"), A("10.88.0.1"));
    assert_int_equal(take(&t, "b"), A("10.88.0.3"));
    assert_int_equal(try_take(&t, "c", &a, msg, sizeof(msg)), -ENOSPC);
    table_free(&t);
}

static void test_requested(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256];
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", NULL, NULL, msg, sizeof(msg)), 0);
    assert_int_equal(ipam_check_requested(&p, A("10.88.0.5"), msg, sizeof(msg)), 0);
    assert_int_equal(ipam_check_requested(&p, A("10.89.0.5"), msg, sizeof(msg)), -EADDRNOTAVAIL);
    assert_string_equal(msg, "address 10.89.0.5 is outside subnet 10.88.0.0/16");
    assert_int_equal(ipam_check_requested(&p, A("10.88.0.1"), msg, sizeof(msg)), -EADDRNOTAVAIL);
    assert_string_equal(msg, "address 10.88.0.1 is the gateway address of 10.88.0.0/16");
    assert_int_equal(ipam_check_requested(&p, A("10.88.255.255"), msg, sizeof(msg)),
                     -EADDRNOTAVAIL);
    assert_non_null(strstr(msg, "broadcast"));
    assert_int_equal(ipam_check_requested(&p, A("10.88.0.0"), msg, sizeof(msg)), -EADDRNOTAVAIL);
    assert_non_null(strstr(msg, "network address"));

    char o[16];
    ipam_short_owner("1234abcd5678ef901234", o);
    assert_string_equal(o, "1234abcd5678…");
    ipam_short_owner("c1", o);
    assert_string_equal(o, "c1");

    /* A claim that fails otherwise than EEXIST stops the search. */
    uint32_t a = 0;
    assert_int_equal(ipam_claim_next(&p, 0, refuse, NULL, &a, msg, sizeof(msg)), -EIO);
    assert_int_equal(a, 0);
}

static void test_slash16_many(void **unused)
{
    (void)unused;
    struct table t;
    char msg[256], owner[32];
    table_init(&t, "10.88.0.0/16", NULL, NULL);
    /* Every host address but the gateway: 65533 of them, then none. */
    for (uint32_t i = 0; i < 65533; i++) {
        snprintf(owner, sizeof(owner), "c%u", i);
        assert_true(take(&t, owner) == A("10.88.0.2") + i);
    }
    uint32_t a;
    assert_int_equal(try_take(&t, "late", &a, msg, sizeof(msg)), -ENOSPC);
    release(&t, A("10.88.0.2") + 300);
    assert_int_equal(take(&t, "late"), A("10.88.0.2") + 300);
    table_free(&t);
}

static void test_top_of_space(void **unused)
{
    (void)unused;
    /* The last possible range: the walk's counters must not wrap. */
    struct table t;
    char msg[256];
    uint32_t a;
    table_init(&t, "255.255.255.248/29", NULL, NULL);
    for (int i = 0; i < 5; i++)
        take(&t, "x");
    assert_int_equal(try_take(&t, "late", &a, msg, sizeof(msg)), -ENOSPC);
    assert_int_equal(ipam_next_hint(&t.pool, A("255.255.255.254")), A("255.255.255.249"));
    table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_slash30),
        cmocka_unit_test(test_exhaust_and_reuse),
        cmocka_unit_test(test_round_robin_hint),
        cmocka_unit_test(test_ip_range),
        cmocka_unit_test(test_requested),
        cmocka_unit_test(test_slash16_many),
        cmocka_unit_test(test_constant_cost),
        cmocka_unit_test(test_top_of_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
