/* The core's network input checks: CIDRs, overlaps and -p specs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "network/cidr.h"
#include "network/port-spec.h"

static void parses_cidrs(void **state)
{
    (void)state;
    struct cidr c;
    char buf[19];
    assert_int_equal(cidr_parse("10.88.0.0/16", 0, &c), 0);
    cidr_format(&c, buf);
    assert_string_equal(buf, "10.88.0.0/16");
    assert_int_equal(cidr_parse("10.88.0.1/16", 0, &c), -EINVAL); /* host bits set */
    assert_int_equal(cidr_parse("10.88.0.1/16", 1, &c), 0);
    assert_int_equal(c.addr, (10u << 24) | (88u << 16));
    const char *bad[] = {"10.88.0.0",
                         "10.88.0.0/33",
                         "10.88.0/16",
                         "10.88.0.256/24",
                         "010.1.1.0/24",
                         "10.1.1.0/",
                         "a.b.c.d/8",
                         "10.1.1.0/24x",
                         "",
                         NULL};
    for (int i = 0; bad[i]; i++)
        if (cidr_parse(bad[i], 0, &c) != -EINVAL)
            fail_msg("'%s' accepted", bad[i]);
}

static void overlap_and_containment(void **state)
{
    (void)state;
    struct cidr a, b, c;
    cidr_parse("10.88.0.0/16", 0, &a);
    cidr_parse("10.88.5.0/24", 0, &b);
    cidr_parse("10.89.0.0/24", 0, &c);
    assert_true(cidr_overlaps(&a, &b));
    assert_true(cidr_overlaps(&b, &a));
    assert_false(cidr_overlaps(&a, &c));
    assert_true(cidr_within(&b, &a));
    assert_false(cidr_within(&a, &b));
    uint32_t ip;
    assert_int_equal(ipv4_parse("10.88.5.7", &ip), 0);
    assert_true(cidr_contains(&b, ip));
    assert_false(cidr_contains(&c, ip));
}

static void parses_port_specs(void **state)
{
    (void)state;
    struct port_spec p;
    const char *why = NULL;
    assert_int_equal(port_spec_parse("8080:80", &p, &why), 0);
    assert_int_equal(p.host_port, 8080);
    assert_int_equal(p.container_port, 80);
    assert_string_equal(p.protocol, "tcp");
    assert_string_equal(p.host_ip, "");
    assert_int_equal(port_spec_parse("127.0.0.1:8080:80/udp", &p, &why), 0);
    assert_string_equal(p.host_ip, "127.0.0.1");
    assert_string_equal(p.protocol, "udp");
    assert_int_equal(port_spec_parse("80", &p, &why), 0);
    assert_int_equal(p.host_port, 0);
    assert_int_equal(port_spec_parse("127.0.0.1::53/udp", &p, &why), 0);
    assert_int_equal(p.host_port, 0);
    assert_int_equal(p.container_port, 53);
    const char *bad[] = {"0:80", "8080:0",      "65536:80", "8080:70000", "x:80", "80/sctp",
                         ":80",  "1.2.3:80:80", "8080:",    "",           NULL};
    for (int i = 0; bad[i]; i++) {
        why = NULL;
        if (port_spec_parse(bad[i], &p, &why) != -EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_cidrs),
        cmocka_unit_test(overlap_and_containment),
        cmocka_unit_test(parses_port_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
