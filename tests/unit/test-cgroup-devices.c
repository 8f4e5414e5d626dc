/* The devices cgroup rules: linux.resources.devices <-> rules, and their v1 lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/cgroup.h"
#include "util/cleanup.h"
#include "util/json-util.h"

static void test_parse_and_format(void **state)
{
    (void)state;
    _cleanup_json_ cJSON *res = cJSON_Parse(
        "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
        "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rm\"},"
        "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rwm\"},"
        "{\"allow\":true,\"type\":\"b\",\"major\":7,\"minor\":0},"
        "{\"allow\":true,\"type\":\"u\",\"major\":-1,\"minor\":null,\"access\":\"w\"}]}");
    struct cgroup_limits l = {0};
    struct error *err = NULL;
    assert_int_equal(cgroup_limits_from_oci(res, &l, &err), 0);
    assert_int_equal(l.n_devices, 5);
    /* Not a limit: a cgroup is not required for the rules alone. */
    assert_true(cgroup_limits_empty(&l));
    char line[80];
    static const char *const want[] = {"a *:* rwm", "c 1:3 rm", "c 136:* rwm", "b 7:0 rwm",
                                       "c *:* w"};
    for (size_t i = 0; i < 5; i++) {
        cgroup_device_rule_format(&l.devices[i], line, sizeof(line));
        assert_string_equal(line, want[i]);
    }
    assert_false(l.devices[0].allow);
    assert_true(l.devices[1].allow);

    /* Round trip through the OCI form. */
    _cleanup_json_ cJSON *back = cgroup_limits_to_oci(&l);
    struct cgroup_limits l2 = {0};
    assert_int_equal(cgroup_limits_from_oci(back, &l2, &err), 0);
    assert_int_equal(l2.n_devices, l.n_devices);
    assert_memory_equal(l2.devices, l.devices, l.n_devices * sizeof(*l.devices));
    cgroup_limits_clear(&l);
    cgroup_limits_clear(&l2);
}

static void test_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}",
        "{\"devices\":[{\"allow\":true,\"type\":\"cc\"}]}",
        "{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
        "{\"devices\":[{\"allow\":true,\"access\":\"rr\"}]}",
        "{\"devices\":[{\"allow\":true,\"access\":\"\"}]}",
        "{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":1.5}]}",
        "{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":-2}]}",
        "{\"devices\":[{\"allow\":true,\"type\":\"c\",\"minor\":\"3\"}]}",
        "{\"devices\":[{\"allow\":true,\"type\":\"c\",\"minor\":4294967296}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_json_ cJSON *res = cJSON_Parse(bad[i]);
        assert_non_null(res);
        struct cgroup_limits l = {0};
        struct error *err = NULL;
        if (cgroup_limits_from_oci(res, &l, &err) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "linux.resources.devices"));
        error_free(&err);
        assert_null(l.devices);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
