/* A container's resolv.conf and hosts (lifecycle/etc-files.c), pure parts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lifecycle/etc-files.h"

static void resolv(const char *host, char *const *servers, char *const *search,
                   char *const *options, int host_network, const char *want)
{
    char *got = etc_resolv_conf(host, servers, search, options, host_network);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void resolv_conf(void **state)
{
    (void)state;
    const char *host = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n"
                       "nameserver ::1\nsearch lan\noptions edns0\n";
    resolv(host, NULL, NULL, NULL, 0,
           "# generated\nnameserver 10.0.0.2\nsearch lan\noptions edns0\n");
    /* The host's network: loopback reaches the host's resolver. */
    resolv(host, NULL, NULL, NULL, 1, host);
    char *servers[] = {"192.0.2.1", NULL};
    char *search[] = {"a.test", "b.test", NULL};
    char *options[] = {"ndots:2", NULL};
    resolv(host, servers, search, options, 0,
           "# generated\nnameserver 192.0.2.1\nsearch a.test b.test\noptions ndots:2\n");
    char *no_search[] = {".", NULL};
    resolv("nameserver 10.0.0.2\nsearch lan\ndomain x\n", NULL, no_search, NULL, 0,
           "nameserver 10.0.0.2\n");
    /* Nothing usable left: docker's fallback; the host's network keeps glibc's default. */
    resolv("nameserver 127.0.0.1\n", NULL, NULL, NULL, 0,
           "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    resolv(NULL, NULL, NULL, NULL, 0, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    resolv("", NULL, NULL, NULL, 1, "");
    /* Indented keywords and tabs are the resolver's too. */
    resolv("  nameserver\t127.0.0.2\n\tnameserver 10.1.1.1\n", NULL, NULL, NULL, 0,
           "\tnameserver 10.1.1.1\n");
}

static void loopback(void **state)
{
    (void)state;
    assert_true(etc_is_loopback("127.0.0.1"));
    assert_true(etc_is_loopback("127.255.0.53"));
    assert_true(etc_is_loopback("::1"));
    assert_false(etc_is_loopback("10.0.0.1"));
    assert_false(etc_is_loopback("::2"));
    assert_false(etc_is_loopback("128.0.0.1"));
    assert_false(etc_is_loopback("not-an-address"));
}

static void hosts(void **state)
{
    (void)state;
    char *extra[] = {"db:192.0.2.7", "v6:2001:db8::7", NULL};
    char *got = etc_hosts(NULL, "web1", "10.87.0.5/16", extra);
    assert_non_null(got);
    assert_string_equal(got, "127.0.0.1\tlocalhost\n"
                             "::1\tlocalhost ip6-localhost ip6-loopback\n"
                             "fe00::0\tip6-localnet\n"
                             "ff00::0\tip6-mcastprefix\n"
                             "ff02::1\tip6-allnodes\n"
                             "ff02::2\tip6-allrouters\n"
                             "192.0.2.7\tdb\n"
                             "2001:db8::7\tv6\n"
                             "10.87.0.5\tweb1\n");
    free(got);
    got = etc_hosts(NULL, "lonely", NULL, NULL);
    assert_non_null(strstr(got, "127.0.1.1\tlonely\n"));
    free(got);
    /* The host's network: the host's file as it is (a missing last newline added). */
    got = etc_hosts("127.0.0.1 localhost", "h", "10.0.0.1", extra);
    assert_string_equal(got, "127.0.0.1 localhost\n192.0.2.7\tdb\n2001:db8::7\tv6\n");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolv_conf),
        cmocka_unit_test(loopback),
        cmocka_unit_test(hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
