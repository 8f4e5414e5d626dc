/* --cpu-shares onto cgroup v2's cpu.weight (runc's linear conversion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/cgroup.h"

static void test_ends_and_defaults(void **state)
{
    (void)state;
    assert_int_equal(cgroup_v2_shares_to_weight(2), 1);
    assert_int_equal(cgroup_v2_shares_to_weight(262144), 10000);
    /* docker's default 1024 shares and the VM test's 512 */
    assert_int_equal(cgroup_v2_shares_to_weight(1024), 39);
    assert_int_equal(cgroup_v2_shares_to_weight(512), 20);
    assert_int_equal(cgroup_v2_shares_to_weight(3), 1);
}

static void test_clamped(void **state)
{
    (void)state;
    assert_int_equal(cgroup_v2_shares_to_weight(0), 1);
    assert_int_equal(cgroup_v2_shares_to_weight(1), 1);
    assert_int_equal(cgroup_v2_shares_to_weight(1000000), 10000);
    assert_int_equal(cgroup_v2_shares_to_weight(UINT64_MAX), 10000);
}

static void test_monotonic(void **state)
{
    (void)state;
    uint64_t prev = 0;
    for (uint64_t s = 2; s <= 262144; s += 7) {
        uint64_t w = cgroup_v2_shares_to_weight(s);
        assert_true(w >= prev && w >= 1 && w <= 10000);
        prev = w;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ends_and_defaults),
        cmocka_unit_test(test_clamped),
        cmocka_unit_test(test_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
