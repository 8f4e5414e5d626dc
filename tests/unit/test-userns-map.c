/* User namespace maps: --uidmap parsing, overlaps, subuid files, allocation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/userns-map.h"
#include "util/cleanup.h"
#include "util/json-util.h"

static void expect_error(struct error **err, const char *want)
{
    assert_non_null(*err);
    if (!strstr((*err)->msg, want))
        fail_msg("message '%s' lacks '%s'", (*err)->msg, want);
    assert_null(strchr((*err)->msg, '\n'));
    error_free(err);
}

static void test_parse(void **state)
{
    (void)state;
    struct id_map m = {0};
    struct error *err = NULL;
    assert_int_equal(id_map_add_spec(&m, "0:100000:65536", "--uidmap", &err), 0);
    assert_int_equal(id_map_add_spec(&m, "65536:300000:10", "--uidmap", &err), 0);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.ranges[1].container, 65536);
    assert_int_equal(m.ranges[1].host, 300000);
    assert_int_equal(m.ranges[1].size, 10);
    assert_int_equal(id_map_to_host(&m, 0), 100000);
    assert_int_equal(id_map_to_host(&m, 65535), 165535);
    assert_int_equal(id_map_to_host(&m, 65536), 300000);
    assert_int_equal(id_map_to_host(&m, 65546), -1);
    assert_int_equal(id_map_to_container(&m, 100000), 0);
    assert_int_equal(id_map_to_container(&m, 165535), 65535);
    assert_int_equal(id_map_to_container(&m, 300009), 65545);
    assert_int_equal(id_map_to_container(&m, 99999), -1);
    assert_int_equal(id_map_to_container(&m, 165536), -1);
    assert_int_equal(id_map_to_container(&m, 300010), -1);
    assert_int_equal(id_map_to_container(&m, 0), -1);

    static const char *const bad[] = {
        "",
        "0",
        "0:1",
        "0:1:",
        ":1:1",
        "0:1:x",
        "-1:1:1",
        "0:+1:1",
        "0: 1:1",
        "0:1:1:1",
        "0:1:0",
        "4294967296:0:1",
        "0:1:99999999999",
        "4294967295:0:1",
        "0:4294967290:10",
        "1e3:0:1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct id_map b = {0};
        if (id_map_add_spec(&b, bad[i], "--uidmap", &err) == 0)
            fail_msg("'%s' was accepted", bad[i]);
        expect_error(&err, "--uidmap");
        assert_int_equal(b.n, 0);
    }
}

static void test_overlap(void **state)
{
    (void)state;
    struct id_map m = {0};
    struct error *err = NULL;
    assert_int_equal(id_map_add_spec(&m, "0:100000:1000", "--uidmap", &err), 0);
    /* The container side overlaps. */
    assert_int_equal(id_map_add_spec(&m, "999:200000:10", "--uidmap", &err), -EINVAL);
    expect_error(&err, "container ids overlap");
    /* The host side overlaps. */
    assert_int_equal(id_map_add_spec(&m, "5000:100999:10", "--uidmap", &err), -EINVAL);
    expect_error(&err, "host ids overlap");
    /* Adjacent is fine on both sides. */
    assert_int_equal(id_map_add_spec(&m, "1000:101000:10", "--uidmap", &err), 0);
    assert_int_equal(m.n, 2);
}

static void test_subid(void **state)
{
    (void)state;
    const char *text = "# comment\n"
                       "alice:100000:65536\n"
                       "berth:200000:65536\n"
                       "berth:bad:1\n"
                       "berthx:1:1\n"
                       "1234:500000:1000\r\n"
                       "berth:900000:0\n"
                       "berth:4294967000:1000\n"
                       "berth:400000:131072";
    struct id_range r[8];
    size_t n = subid_ranges(text, "berth", "1234", r, 8);
    assert_int_equal(n, 3);
    assert_int_equal(r[0].host, 200000);
    assert_int_equal(r[0].size, 65536);
    assert_int_equal(r[1].host, 500000);
    assert_int_equal(r[1].size, 1000);
    assert_int_equal(r[2].host, 400000);
    assert_int_equal(r[2].size, 131072);
    assert_int_equal(subid_ranges(text, "nobody", NULL, r, 8), 0);
    assert_int_equal(subid_ranges("", "berth", NULL, r, 8), 0);
    assert_int_equal(subid_ranges(text, "berth", NULL, r, 1), 1);

    struct id_map m = {0};
    struct error *err = NULL;
    n = subid_ranges(text, "berth", NULL, r, 8);
    assert_int_equal(id_map_add_spec(&m, "0:200000:65536", "--uidmap", &err), 0);
    assert_int_equal(id_map_add_spec(&m, "65536:400000:100", "--uidmap", &err), 0);
    assert_int_equal(id_map_within(&m, r, n, "--uidmap", "/etc/subuid", &err), 0);
    assert_int_equal(id_map_add_spec(&m, "70000:265536:1", "--uidmap", &err), 0);
    assert_int_equal(id_map_within(&m, r, n, "--uidmap", "/etc/subuid", &err), -EPERM);
    expect_error(&err, "not in the subordinate range");
    /* No entry at all. */
    assert_int_equal(id_map_within(&m, r, 0, "--uidmap", "/etc/subuid", &err), -EPERM);
    expect_error(&err, "/etc/subuid");
}

static void test_allocate(void **state)
{
    (void)state;
    struct id_range sub[] = {{0, 100000, 65536 * 3}, {0, 1000000, 65536}};
    uint32_t h = 0;
    assert_int_equal(subid_allocate(sub, 2, NULL, 0, 65536, &h), 0);
    assert_int_equal(h, 100000);
    struct id_range used[] = {{0, 100000, 65536}, {0, 165536 + 10, 5}};
    assert_int_equal(subid_allocate(sub, 2, used, 2, 65536, &h), 0);
    assert_int_equal(h, 165536 + 15);
    /* Too big for what is left of the first range: the second one. */
    struct id_range used2[] = {{0, 100000, 65536}, {0, 200000, 10}};
    assert_int_equal(subid_allocate(sub, 2, used2, 2, 65536 * 2, &h), -ENOSPC);
    assert_int_equal(subid_allocate(sub, 2, used2, 2, 65536, &h), 0);
    assert_int_equal(h, 200010);
    struct id_range used3[] = {{0, 100000, 65536 * 3}, {0, 1000000, 1}};
    assert_int_equal(subid_allocate(sub, 2, used3, 2, 65535, &h), 0);
    assert_int_equal(h, 1000001);
    assert_int_equal(subid_allocate(sub, 2, used3, 2, 65536, &h), -ENOSPC);
    assert_int_equal(subid_allocate(sub, 0, NULL, 0, 1, &h), -ENOSPC);
    assert_int_equal(subid_allocate(sub, 2, NULL, 0, 0, &h), -EINVAL);

    /* Allocations in a row never overlap and fill the range exactly. */
    struct id_range taken[3];
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(subid_allocate(sub, 1, taken, i, 65536, &h), 0);
        taken[i] = (struct id_range){0, h, 65536};
        for (size_t j = 0; j < i; j++)
            assert_true(taken[j].host + 65536 <= h || h + 65536 <= taken[j].host);
    }
    assert_int_equal(subid_allocate(sub, 1, taken, 3, 1, &h), -ENOSPC);
}

static void test_json(void **state)
{
    (void)state;
    struct id_map m = {0}, back = {0};
    struct error *err = NULL;
    assert_int_equal(id_map_add_spec(&m, "0:100000:65536", "--uidmap", &err), 0);
    assert_int_equal(id_map_add_spec(&m, "65536:4294967294:1", "--uidmap", &err), 0);
    _cleanup_json_ cJSON *j = id_map_to_oci(&m);
    assert_int_equal(id_map_from_json(j, &back, "uidMappings", &err), 0);
    assert_int_equal(back.n, 2);
    assert_memory_equal(&m.ranges, &back.ranges, 2 * sizeof(struct id_range));
    _cleanup_json_ cJSON *bad = cJSON_Parse("[{\"containerID\":0,\"hostID\":-1,\"size\":1}]");
    assert_int_equal(id_map_from_json(bad, &back, "uidMappings", &err), -EINVAL);
    expect_error(&err, "uidMappings");
    _cleanup_json_ cJSON *ov = cJSON_Parse("[{\"containerID\":0,\"hostID\":1,\"size\":2},"
                                           "{\"containerID\":1,\"hostID\":9,\"size\":1}]");
    assert_int_equal(id_map_from_json(ov, &back, "uidMappings", &err), -EINVAL);
    expect_error(&err, "overlap");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse), cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_subid), cmocka_unit_test(test_allocate),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
