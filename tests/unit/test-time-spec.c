/* Durations, --since/--until times and RFC 3339 output (util/time-spec.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/time-spec.h"

#define S INT64_C(1000000000)

static void durations(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(parse_duration("10m", &v), 0);
    assert_int_equal(v, 600 * S);
    assert_int_equal(parse_duration("1h30m", &v), 0);
    assert_int_equal(v, 5400 * S);
    assert_int_equal(parse_duration("1.5h", &v), 0);
    assert_int_equal(v, 5400 * S);
    assert_int_equal(parse_duration("500ms", &v), 0);
    assert_int_equal(v, S / 2);
    assert_int_equal(parse_duration("2d", &v), 0);
    assert_int_equal(v, 2 * 86400 * S);
    assert_int_equal(parse_duration("10", &v), -EINVAL);
    assert_int_equal(parse_duration("", &v), -EINVAL);
    assert_int_equal(parse_duration("5x", &v), -EINVAL);
    assert_int_equal(parse_duration("m", &v), -EINVAL);
    assert_int_equal(parse_duration("1..5s", &v), -EINVAL);
}

static void time_specs(void **state)
{
    (void)state;
    int64_t v, now = 1800000000 * S;
    assert_int_equal(parse_time_spec("1732821622", now, &v), 0);
    assert_int_equal(v, 1732821622 * S);
    assert_int_equal(parse_time_spec("1732821622.5", now, &v), 0);
    assert_int_equal(v, 1732821622 * S + S / 2);
    assert_int_equal(parse_time_spec("10m", now, &v), 0);
    assert_int_equal(v, now - 600 * S);
    assert_int_equal(parse_time_spec("2024-11-28T19:20:22Z", now, &v), 0);
    assert_int_equal(v, 1732821622 * S);
    assert_int_equal(parse_time_spec("2024-11-28T19:20:22.25Z", now, &v), 0);
    assert_int_equal(v, 1732821622 * S + S / 4);
    assert_int_equal(parse_time_spec("2024-11-28T20:20:22+01:00", now, &v), 0);
    assert_int_equal(v, 1732821622 * S);
    assert_int_equal(parse_time_spec("2024-11-28", now, &v), 0);
    assert_int_equal(v, (1732821622 - (19 * 3600 + 20 * 60 + 22)) * S);
    assert_int_equal(parse_time_spec("2024-13-28T00:00:00Z", now, &v), -EINVAL);
    assert_int_equal(parse_time_spec("2024-11-28T19:20:22Q", now, &v), -EINVAL);
    assert_int_equal(parse_time_spec("yesterday", now, &v), -EINVAL);
    assert_int_equal(parse_time_spec("", now, &v), -EINVAL);
}

/* Found by fuzz-limit-specs: unix seconds and RFC 3339 times past 2262
 * overflowed int64 nanoseconds. */
static void unix_seconds_overflow(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(parse_time_spec("821621216723", 0, &v), -ERANGE);
    assert_int_equal(parse_time_spec("9223372036.5", 0, &v), -ERANGE);
    assert_int_equal(v, 7);
    assert_int_equal(parse_time_spec("9223372035.999999999", 0, &v), 0);
    assert_int_equal(v, INT64_C(9223372035999999999));
    assert_int_equal(parse_time_spec("2862-11-28T00:00:00Z", 0, &v), -ERANGE);
    assert_int_equal(parse_time_spec("0001-01-01", 0, &v), -ERANGE);
    assert_int_equal(parse_time_spec("2262-01-01T00:00:00Z", 0, &v), 0);
}

static void rfc3339_round_trip(void **state)
{
    (void)state;
    char buf[48];
    int64_t t = 1732821622 * S + 123456789, back;
    format_rfc3339_nano(t, buf, sizeof(buf));
    assert_string_equal(buf, "2024-11-28T19:20:22.123456789Z");
    assert_int_equal(parse_time_spec(buf, 0, &back), 0);
    assert_int_equal(back, t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations),
        cmocka_unit_test(time_specs),
        cmocka_unit_test(rfc3339_round_trip),
        cmocka_unit_test(unix_seconds_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
