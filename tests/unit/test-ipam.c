/* The bridge driver's address allocation (network-drivers/bridge/ipam.c):
 * pure logic, compiled into this test directly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipam.h"

static uint32_t A(const char *s)
{
    uint32_t a = 0;
    assert_int_equal(ipam_parse_addr(s, &a), 0);
    return a;
}

static uint32_t take(struct ipam *p, const char *owner, uint32_t requested)
{
    uint32_t a = 0;
    char msg[256] = "";
    int r = ipam_allocate(p, owner, requested, &a, msg, sizeof(msg));
    if (r < 0)
        fail_msg("allocate for %s: %s", owner, msg);
    return a;
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
    ipam_free(&p);

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
    ipam_free(&p);
}

static void test_slash30(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256];
    assert_int_equal(ipam_init(&p, "192.168.7.0/30", NULL, NULL, msg, sizeof(msg)), 0);
    /* .0 network, .1 gateway, .3 broadcast: one address for containers. */
    assert_int_equal(take(&p, "c1", 0), A("192.168.7.2"));
    uint32_t a;
    assert_int_equal(ipam_allocate(&p, "c2", 0, &a, msg, sizeof(msg)), -ENOSPC);
    assert_non_null(strstr(msg, "no free address"));
    assert_int_equal(ipam_release_owner(&p, "c1"), 1);
    assert_int_equal(take(&p, "c2", 0), A("192.168.7.2"));
    ipam_free(&p);

    /* The gateway may sit anywhere, here at the top. */
    assert_int_equal(ipam_init(&p, "192.168.7.0/30", "192.168.7.2", NULL, msg, sizeof(msg)), 0);
    assert_int_equal(take(&p, "c1", 0), A("192.168.7.1"));
    assert_int_equal(ipam_allocate(&p, "c2", 0, &a, msg, sizeof(msg)), -ENOSPC);
    ipam_free(&p);
}

static void test_exhaust_and_reuse(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256], owner[32];
    assert_int_equal(ipam_init(&p, "10.0.0.0/24", "10.0.0.1", NULL, msg, sizeof(msg)), 0);
    for (int i = 0; i < 253; i++) {
        snprintf(owner, sizeof(owner), "c%d", i);
        uint32_t a = take(&p, owner, 0);
        assert_int_equal(a, A("10.0.0.2") + (uint32_t)i);
        assert_true(ipam_usable(&p, a));
    }
    uint32_t a;
    assert_int_equal(ipam_allocate(&p, "late", 0, &a, msg, sizeof(msg)), -ENOSPC);
    assert_null(ipam_find(&p, A("10.0.0.0")));
    assert_null(ipam_find(&p, A("10.0.0.1")));
    assert_null(ipam_find(&p, A("10.0.0.255")));
    /* Released addresses come back, lowest after the hint first. */
    assert_int_equal(ipam_release_owner(&p, "c100"), 1);
    assert_int_equal(ipam_release_owner(&p, "c7"), 1);
    assert_int_equal(take(&p, "n1", 0), A("10.0.0.9"));
    assert_int_equal(take(&p, "n2", 0), A("10.0.0.102"));
    assert_int_equal(ipam_allocate(&p, "n3", 0, &a, msg, sizeof(msg)), -ENOSPC);
    ipam_free(&p);
}

static void test_round_robin_hint(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256];
    assert_int_equal(ipam_init(&p, "10.0.0.0/24", NULL, NULL, msg, sizeof(msg)), 0);
    assert_int_equal(take(&p, "a", 0), A("10.0.0.2"));
    assert_int_equal(take(&p, "b", 0), A("10.0.0.3"));
    ipam_release_owner(&p, "a");
    /* Not handed out again at once (stale ARP entries elsewhere)... */
    assert_int_equal(take(&p, "c", 0), A("10.0.0.4"));
    /* ...but once the end is reached the search wraps round to it. */
    p.hint = A("10.0.0.254");
    assert_int_equal(take(&p, "d", 0), A("10.0.0.254"));
    assert_int_equal(take(&p, "e", 0), A("10.0.0.2"));
    /* An owner asking again gets the address it holds. */
    assert_int_equal(take(&p, "c", 0), A("10.0.0.4"));
    assert_int_equal(p.n, 4);
    ipam_free(&p);
}

static void test_ip_range(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256];
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", NULL, "10.88.1.0/30", msg, sizeof(msg)), 0);
    assert_int_equal(take(&p, "a", 0), A("10.88.1.0"));
    assert_int_equal(take(&p, "b", 0), A("10.88.1.1"));
    assert_int_equal(take(&p, "c", 0), A("10.88.1.2"));
    assert_int_equal(take(&p, "d", 0), A("10.88.1.3"));
    uint32_t a;
    assert_int_equal(ipam_allocate(&p, "e", 0, &a, msg, sizeof(msg)), -ENOSPC);
    /* A requested address anywhere in the subnet is still honoured. */
    assert_int_equal(take(&p, "e", A("10.88.7.7")), A("10.88.7.7"));
    ipam_free(&p);

    /* A range at the subnet's edges loses the network and broadcast. */
    assert_int_equal(ipam_init(&p, "10.88.0.0/24", "10.88.0.2", "10.88.0.0/30", msg, sizeof(msg)),
                     0);
    assert_int_equal(take(&p, "a", 0), A("10.88.0.1"));
    assert_int_equal(take(&p, "b", 0), A("10.88.0.3"));
    assert_int_equal(ipam_allocate(&p, "c", 0, &a, msg, sizeof(msg)), -ENOSPC);
    ipam_free(&p);
}

static void test_requested(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256];
    uint32_t a;
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", NULL, NULL, msg, sizeof(msg)), 0);
    assert_int_equal(take(&p, "1234abcd5678ef901234", A("10.88.0.5")), A("10.88.0.5"));
    assert_int_equal(ipam_allocate(&p, "other", A("10.88.0.5"), &a, msg, sizeof(msg)), -EADDRINUSE);
    assert_string_equal(msg, "address 10.88.0.5 is already in use by container 1234abcd5678…");
    assert_int_equal(ipam_allocate(&p, "other", A("10.89.0.5"), &a, msg, sizeof(msg)),
                     -EADDRNOTAVAIL);
    assert_string_equal(msg, "address 10.89.0.5 is outside subnet 10.88.0.0/16");
    assert_int_equal(ipam_allocate(&p, "other", A("10.88.0.1"), &a, msg, sizeof(msg)),
                     -EADDRNOTAVAIL);
    assert_non_null(strstr(msg, "gateway"));
    assert_int_equal(ipam_allocate(&p, "other", A("10.88.255.255"), &a, msg, sizeof(msg)),
                     -EADDRNOTAVAIL);
    assert_non_null(strstr(msg, "broadcast"));
    assert_int_equal(ipam_allocate(&p, "other", A("10.88.0.0"), &a, msg, sizeof(msg)),
                     -EADDRNOTAVAIL);
    /* Automatic allocation steps over the requested one. */
    assert_int_equal(take(&p, "x", 0), A("10.88.0.2"));
    assert_int_equal(take(&p, "y", 0), A("10.88.0.3"));
    assert_int_equal(take(&p, "z", 0), A("10.88.0.4"));
    assert_int_equal(take(&p, "w", 0), A("10.88.0.6"));
    /* The same owner asking for another address moves to it. */
    assert_int_equal(take(&p, "w", A("10.88.3.3")), A("10.88.3.3"));
    assert_null(ipam_find(&p, A("10.88.0.6")));
    assert_int_equal(ipam_release_addr(&p, A("10.88.3.3")), 1);
    assert_int_equal(ipam_release_addr(&p, A("10.88.3.3")), 0);
    ipam_free(&p);
}

static void test_slash16_many(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256], owner[32];
    assert_int_equal(ipam_init(&p, "10.88.0.0/16", NULL, NULL, msg, sizeof(msg)), 0);
    /* Every host address but the gateway: 65533 of them, then none. */
    for (uint32_t i = 0; i < 65533; i++) {
        snprintf(owner, sizeof(owner), "c%u", i);
        uint32_t a = take(&p, owner, 0);
        assert_true(a == A("10.88.0.2") + i);
    }
    uint32_t a;
    assert_int_equal(ipam_allocate(&p, "late", 0, &a, msg, sizeof(msg)), -ENOSPC);
    assert_int_equal(ipam_release_owner(&p, "c300"), 1);
    assert_int_equal(take(&p, "late", 0), A("10.88.0.2") + 300);
    ipam_free(&p);
}

static void test_insert(void **unused)
{
    (void)unused;
    struct ipam p;
    char msg[256];
    assert_int_equal(ipam_init(&p, "10.88.0.0/24", NULL, NULL, msg, sizeof(msg)), 0);
    assert_int_equal(ipam_insert(&p, A("10.88.0.9"), "a"), 0);
    assert_int_equal(ipam_insert(&p, A("10.88.0.9"), "b"), -EEXIST);
    /* Saved entries no longer in the subnet are dropped quietly. */
    assert_int_equal(ipam_insert(&p, A("10.99.0.9"), "c"), 0);
    assert_int_equal(ipam_insert(&p, A("10.88.0.1"), "c"), 0);
    assert_int_equal(ipam_insert(&p, A("10.88.0.3"), ""), -EINVAL);
    assert_int_equal(p.n, 1);
    assert_string_equal(ipam_find_owner(&p, "a")->owner, "a");
    ipam_free(&p);
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
        cmocka_unit_test(test_insert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
