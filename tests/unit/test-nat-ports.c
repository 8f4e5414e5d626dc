/* SPDX-License-Identifier: MIT */
/* Unit tests of the nat driver's port logic (network-drivers/nat/ports.c). */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ports.h"

static void test_proto(void **s)
{
    (void)s;
    uint8_t p;
    assert_int_equal(port_proto_parse(NULL, &p), 0);
    assert_int_equal(p, IPPROTO_TCP);
    assert_int_equal(port_proto_parse("udp", &p), 0);
    assert_int_equal(p, IPPROTO_UDP);
    assert_int_equal(port_proto_parse("sctp", &p), -EPROTONOSUPPORT);
    assert_int_equal(port_proto_parse("TCP", &p), -EPROTONOSUPPORT);
    assert_string_equal(port_proto_name(IPPROTO_UDP), "udp");
}

static void test_number_range(void **s)
{
    (void)s;
    uint16_t p = 7;
    assert_int_equal(port_number_parse(1, 0, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(port_number_parse(65535, 0, &p), 0);
    assert_int_equal(p, 65535);
    assert_int_equal(port_number_parse(0, 0, &p), -ERANGE);
    assert_int_equal(port_number_parse(0, 1, &p), 0);
    assert_int_equal(p, 0);
    assert_int_equal(port_number_parse(65536, 1, &p), -ERANGE);
    assert_int_equal(port_number_parse(-1, 1, &p), -ERANGE);
    assert_int_equal(port_number_parse(80.5, 0, &p), -ERANGE);
    assert_int_equal(port_number_parse(0.0 / 0.0, 1, &p), -ERANGE);
}

static void test_host_ip(void **s)
{
    (void)s;
    uint32_t a = 1;
    assert_int_equal(port_host_ip_parse(NULL, &a), 0);
    assert_int_equal(a, 0);
    assert_int_equal(port_host_ip_parse("127.0.0.1", &a), 0);
    assert_int_equal(a, htonl(INADDR_LOOPBACK));
    assert_int_equal(port_host_ip_parse("::1", &a), -EAFNOSUPPORT);
    assert_int_equal(port_host_ip_parse("1.2.3", &a), -EINVAL);
    assert_int_equal(port_host_ip_parse("256.1.1.1", &a), -EINVAL);
}

static void test_duplicates(void **s)
{
    (void)s;
    struct port_map m[3] = {
        {.host_port = 8080, .container_port = 80, .proto = IPPROTO_TCP},
        {.host_port = 8080, .container_port = 80, .proto = IPPROTO_UDP},
        {.host_port = 0, .container_port = 81, .proto = IPPROTO_TCP},
    };
    size_t i = 99;
    assert_int_equal(port_maps_find_duplicate(m, 3, &i), 0);
    m[2].host_port = 8080;
    assert_int_equal(port_maps_find_duplicate(m, 3, &i), -EADDRINUSE);
    assert_int_equal(i, 2);
}

static void test_range(void **s)
{
    (void)s;
    uint16_t lo, hi;
    assert_int_equal(port_range_parse("32768\t60999\n", &lo, &hi), 0);
    assert_int_equal(lo, 32768);
    assert_int_equal(hi, 60999);
    assert_int_equal(port_range_parse("0 10", &lo, &hi), -EINVAL);
    assert_int_equal(port_range_parse("10 5", &lo, &hi), -EINVAL);
    assert_int_equal(port_range_parse("1 65536", &lo, &hi), -EINVAL);
    assert_int_equal(port_range_parse("1", &lo, &hi), -EINVAL);
    assert_int_equal(port_range_parse("1 2 x", &lo, &hi), -EINVAL);
}

/* Ports below LIMIT are taken; CALLS counts the probes. */
struct fake {
    uint16_t limit;
    int calls;
    int fail_at;
};

static int fake_taken(void *ctx, uint8_t proto, uint16_t port)
{
    (void)proto;
    struct fake *f = ctx;
    if (++f->calls == f->fail_at)
        return -EIO;
    return port < f->limit;
}

static void test_choose(void **s)
{
    (void)s;
    struct fake f = {.limit = 0};
    uint16_t p = 0;
    /* Free at once: the seed picks the start. */
    assert_int_equal(port_choose(IPPROTO_TCP, 100, 199, 5, fake_taken, &f, &p), 0);
    assert_int_equal(p, 105);
    assert_int_equal(f.calls, 1);
    /* Taken ports are skipped, and the search wraps around. */
    f = (struct fake){.limit = 150};
    assert_int_equal(port_choose(IPPROTO_TCP, 100, 199, 90, fake_taken, &f, &p), 0);
    assert_int_equal(p, 190);
    f = (struct fake){.limit = 150};
    assert_int_equal(port_choose(IPPROTO_TCP, 100, 199, 60, fake_taken, &f, &p), 0);
    assert_int_equal(p, 160);
    /* Everything taken, a bad range, an error from the check. */
    f = (struct fake){.limit = 200};
    assert_int_equal(port_choose(IPPROTO_TCP, 100, 199, 0, fake_taken, &f, &p), -EADDRNOTAVAIL);
    assert_int_equal(f.calls, 100);
    assert_int_equal(port_choose(IPPROTO_TCP, 0, 10, 0, fake_taken, &f, &p), -EINVAL);
    assert_int_equal(port_choose(IPPROTO_TCP, 20, 10, 0, fake_taken, &f, &p), -EINVAL);
    f = (struct fake){.limit = 200, .fail_at = 3};
    assert_int_equal(port_choose(IPPROTO_TCP, 100, 199, 0, fake_taken, &f, &p), -EIO);
    /* The whole range 1..65535 is searchable and stays within it. */
    f = (struct fake){.limit = 65535};
    assert_int_equal(port_choose(IPPROTO_UDP, 1, 65535, 12345, fake_taken, &f, &p), 0);
    assert_int_equal(p, 65535);
}

static void test_seed_and_key(void **s)
{
    (void)s;
    assert_int_equal(port_seed("abc", 0), port_seed("abc", 0));
    assert_int_not_equal(port_seed("abc", 0), port_seed("abc", 1));
    assert_int_not_equal(port_seed("abc", 0), port_seed("abd", 0));
    char key[PORT_KEY_MAX];
    assert_int_equal(port_key(IPPROTO_TCP, 65535, key), 0);
    assert_string_equal(key, "tcp-65535");
    assert_int_equal(port_key(99, 1, key), -EPROTONOSUPPORT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto),        cmocka_unit_test(test_number_range),
        cmocka_unit_test(test_host_ip),      cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_range),        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_seed_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
