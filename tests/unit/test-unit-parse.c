/* Sizes, CPU counts and cpuset lists of the limit flags (util/unit-parse.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/unit-parse.h"

static void sizes(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(parse_size("1024", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(parse_size("512k", &v), 0);
    assert_int_equal(v, 512 * 1024);
    assert_int_equal(parse_size("64m", &v), 0);
    assert_int_equal(v, 64 * 1024 * 1024);
    assert_int_equal(parse_size("2G", &v), 0);
    assert_int_equal(v, INT64_C(2) << 30);
    assert_int_equal(parse_size("3mb", &v), 0);
    assert_int_equal(v, 3 << 20);
    assert_int_equal(parse_size("7b", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(parse_size("12q", &v), -EINVAL);
    assert_int_equal(parse_size("", &v), -EINVAL);
    assert_int_equal(parse_size("-1", &v), -EINVAL);
    assert_int_equal(parse_size("1.5g", &v), -EINVAL);
    assert_int_equal(parse_size("m", &v), -EINVAL);
    assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
    assert_int_equal(parse_size("9999999999t", &v), -ERANGE);
}

static void cpus(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(parse_cpus("1", &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(parse_cpus("1.5", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(parse_cpus("0.25", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(parse_cpus("0.001", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(parse_cpus("0", &v), -EINVAL);
    assert_int_equal(parse_cpus("0.0001", &v), -EINVAL);
    assert_int_equal(parse_cpus("1.", &v), -EINVAL);
    assert_int_equal(parse_cpus(".5", &v), -EINVAL);
    assert_int_equal(parse_cpus("two", &v), -EINVAL);
    assert_int_equal(parse_cpus("-1", &v), -EINVAL);
    assert_int_equal(parse_cpus("1000000", &v), 0);
    assert_int_equal(v, 1000000000);
    assert_int_equal(parse_cpus("1000000.001", &v), -ERANGE);
    assert_int_equal(parse_cpus("1000001", &v), -ERANGE);
}

static void uints_and_cpusets(void **state)
{
    (void)state;
    uint64_t u;
    assert_int_equal(parse_uint64("42", &u), 0);
    assert_int_equal(u, 42);
    assert_int_equal(parse_uint64("4x", &u), -EINVAL);
    assert_int_equal(parse_uint64("99999999999999999999", &u), -ERANGE);
    assert_int_equal(cpuset_list_valid("0"), 0);
    assert_int_equal(cpuset_list_valid("0-1,3,5-7"), 0);
    assert_int_equal(cpuset_list_valid(""), -EINVAL);
    assert_int_equal(cpuset_list_valid("1-0"), -EINVAL);
    assert_int_equal(cpuset_list_valid("0,"), -EINVAL);
    assert_int_equal(cpuset_list_valid("a"), -EINVAL);
    assert_int_equal(cpuset_list_valid("0--1"), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes),
        cmocka_unit_test(cpus),
        cmocka_unit_test(uints_and_cpusets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
