/* Image references (image/image-ref.c): docker's grammar and familiar names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/image-ref.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static void parse_fields(void **state)
{
    (void)state;
    static const struct {
        const char *in, *domain, *path, *tag, *digest_hex0;
        int qualified;
    } cases[] = {
        {"busybox", "docker.io", "library/busybox", "latest", NULL, 0},
        {"busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, 0},
        {"u/app", "docker.io", "u/app", "latest", NULL, 0},
        {"docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, 1},
        {"index.docker.io/u/app:v", "docker.io", "u/app", "v", NULL, 1},
        {"localhost/a", "localhost", "a", "latest", NULL, 1},
        {"localhost:5000/a/b/c:T_1", "localhost:5000", "a/b/c", "T_1", NULL, 1},
        {"127.0.0.1:5000/x", "127.0.0.1:5000", "x", "latest", NULL, 1},
        {"Registry.Example.COM/x", "Registry.Example.COM", "x", "latest", NULL, 1},
        {"a-b__c.d", "docker.io", "library/a-b__c.d", "latest", NULL, 0},
        {"u/a.b--c", "docker.io", "u/a.b--c", "latest", NULL, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct image_ref r;
        struct error *err = NULL;
        if (image_ref_parse(cases[i].in, &r, &err) < 0)
            fail_msg("'%s' refused: %s", cases[i].in, err->msg);
        assert_string_equal(r.domain, cases[i].domain);
        assert_string_equal(r.path, cases[i].path);
        assert_string_equal(r.tag, cases[i].tag);
        assert_null(r.digest);
        assert_int_equal(r.qualified, cases[i].qualified);
        image_ref_clear(&r);
    }
}

static void digests(void **state)
{
    (void)state;
    _cleanup_free_ char *hex = xasprintf("%064d", 7);
    _cleanup_free_ char *in = xasprintf("host:1/repo@sha256:%s", hex);
    struct image_ref r;
    struct error *err = NULL;
    assert_int_equal(image_ref_parse(in, &r, &err), 0);
    assert_string_equal(r.domain, "host:1");
    assert_null(r.tag);
    _cleanup_free_ char *want = xasprintf("sha256:%s", hex);
    assert_string_equal(r.digest, want);
    _cleanup_free_ char *fam = image_ref_familiar(&r);
    assert_string_equal(fam, in);
    image_ref_clear(&r);

    _cleanup_free_ char *both = xasprintf("busybox:1@sha256:%s", hex);
    assert_int_equal(image_ref_parse(both, &r, &err), 0);
    assert_string_equal(r.tag, "1");
    _cleanup_free_ char *fam2 = image_ref_familiar(&r);
    assert_string_equal(fam2, both);
    image_ref_clear(&r);
}

static void familiar_names(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"busybox", "busybox:latest"},
        {"docker.io/library/busybox:1", "busybox:1"},
        {"docker.io/library/a/b", "library/a/b:latest"},
        {"docker.io/u/app", "u/app:latest"},
        {"quay.io/u/app:v2", "quay.io/u/app:v2"},
        {"localhost:5000/a", "localhost:5000/a:latest"},
        /* A Hub path whose first part looks like a host keeps docker.io/. */
        {"docker.io/docker.io/sse", "docker.io/docker.io/sse:latest"},
        {"docker.io/localhost/x:1", "docker.io/localhost/x:1"},
        /* ...and one whose name would read as an image id keeps library/. */
        {"library/b777777777777777777777777777777777777777777777777777777777777771",
         "library/b777777777777777777777777777777777777777777777777777777777777771:latest"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *n = image_ref_normalize(cases[i][0]);
        assert_non_null(n);
        assert_string_equal(n, cases[i][1]);
        /* The familiar name is a fixed point. */
        _cleanup_free_ char *again = image_ref_normalize(n);
        assert_string_equal(again, n);
    }
}

static void invalid(void **state)
{
    (void)state;
    _cleanup_free_ char *long_name = malloc(300);
    memset(long_name, 'a', 299);
    long_name[299] = '\0';
    _cleanup_free_ char *long_tag = xasprintf("a:%0129d", 1);
    const char *bad[] = {
        "",
        "UPPER",
        "a:",
        ":t",
        "a/",
        "/a",
        "a//b",
        "a b",
        "a___b",
        "a.-b",
        "-a",
        "a-",
        "a@sha256:12",
        "a@md5:0123",
        "a:b@",
        "host:port/x",
        "host:123456/x",
        "-host.com/x",
        "host-.com/x",
        "a/B",
        long_name,
        long_tag,
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct image_ref r;
        struct error *err = NULL;
        int rc = image_ref_parse(bad[i], &r, &err);
        if (rc == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "invalid reference format"));
        error_free(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_fields),
        cmocka_unit_test(digests),
        cmocka_unit_test(familiar_names),
        cmocka_unit_test(invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
