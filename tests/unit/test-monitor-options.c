/* Unit tests: core/monitor/monitor-options.c and the pure parts of json-log.c. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/json-log.h"
#include "monitor/monitor-options.h"

static void test_restart_policy_parse(void **state)
{
    (void)state;
    struct restart_policy p;
    assert_int_equal(restart_policy_parse(NULL, &p), 0);
    assert_int_equal(p.kind, RESTART_NO);
    assert_int_equal(restart_policy_parse("no", &p), 0);
    assert_int_equal(p.kind, RESTART_NO);
    assert_int_equal(restart_policy_parse("always", &p), 0);
    assert_int_equal(p.kind, RESTART_ALWAYS);
    assert_int_equal(restart_policy_parse("unless-stopped", &p), 0);
    assert_int_equal(p.kind, RESTART_UNLESS_STOPPED);
    assert_int_equal(restart_policy_parse("on-failure", &p), 0);
    assert_int_equal(p.kind, RESTART_ON_FAILURE);
    assert_int_equal(p.max_retries, 0);
    assert_int_equal(restart_policy_parse("on-failure:5", &p), 0);
    assert_int_equal(p.max_retries, 5);
    assert_int_equal(restart_policy_parse("on-failure:", &p), -EINVAL);
    assert_int_equal(restart_policy_parse("on-failure:-1", &p), -EINVAL);
    assert_int_equal(restart_policy_parse("on-failure:x", &p), -EINVAL);
    assert_int_equal(restart_policy_parse("sometimes", &p), -EINVAL);
    assert_int_equal(restart_policy_parse("Always", &p), -EINVAL);
}

static void test_should_restart(void **state)
{
    (void)state;
    struct restart_policy no = {RESTART_NO, 0}, of = {RESTART_ON_FAILURE, 2},
                          of0 = {RESTART_ON_FAILURE, 0}, al = {RESTART_ALWAYS, 0},
                          us = {RESTART_UNLESS_STOPPED, 0};
    assert_false(restart_policy_should_restart(&no, 1, 0, 0));
    assert_true(restart_policy_should_restart(&of, 1, 0, 0));
    assert_true(restart_policy_should_restart(&of, 1, 1, 0));
    assert_false(restart_policy_should_restart(&of, 1, 2, 0));
    assert_false(restart_policy_should_restart(&of, 0, 0, 0));
    assert_true(restart_policy_should_restart(&of0, 137, 1000, 0));
    assert_true(restart_policy_should_restart(&al, 0, 50, 0));
    assert_true(restart_policy_should_restart(&us, 3, 0, 0));
    /* The user's stop wins over every policy. */
    assert_false(restart_policy_should_restart(&al, 0, 0, 1));
    assert_false(restart_policy_should_restart(&us, 1, 0, 1));
    assert_false(restart_policy_should_restart(&of, 1, 0, 1));
}

static void test_restart_delay(void **state)
{
    (void)state;
    assert_int_equal(restart_delay_ms(0), 100);
    assert_int_equal(restart_delay_ms(1), 200);
    assert_int_equal(restart_delay_ms(2), 400);
    assert_int_equal(restart_delay_ms(9), 51200);
    assert_int_equal(restart_delay_ms(10), RESTART_DELAY_MAX_MS);
    assert_int_equal(restart_delay_ms(1000), RESTART_DELAY_MAX_MS);
}

static void test_log_options(void **state)
{
    (void)state;
    struct log_options o;
    char why[256];
    assert_int_equal(log_options_parse(NULL, &o, why, sizeof(why)), 0);
    assert_int_equal(o.max_size, 0);
    assert_int_equal(o.max_file, 1);
    assert_int_equal(log_options_parse("max-size=10m,max-file=3", &o, why, sizeof(why)), 0);
    assert_int_equal(o.max_size, 10 * 1024 * 1024);
    assert_int_equal(o.max_file, 3);
    assert_int_equal(log_options_parse("max-file=2,max-size=1k", &o, why, sizeof(why)), 0);
    assert_int_equal(o.max_size, 1024);
    assert_int_equal(log_options_parse("max-size=512", &o, why, sizeof(why)), 0);
    assert_int_equal(o.max_size, 512);
    assert_int_equal(o.max_file, 1);
    assert_int_equal(log_options_parse("max-size=12q", &o, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "12q"));
    assert_int_equal(log_options_parse("max-size=0", &o, why, sizeof(why)), -EINVAL);
    assert_int_equal(log_options_parse("max-file=0,max-size=1k", &o, why, sizeof(why)), -EINVAL);
    assert_int_equal(log_options_parse("max-file=2", &o, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "needs max-size"));
    assert_int_equal(log_options_parse("color=blue", &o, why, sizeof(why)), -EINVAL);
    assert_int_equal(log_options_parse("max-size", &o, why, sizeof(why)), -EINVAL);
}

static void test_signal_parse(void **state)
{
    (void)state;
    assert_int_equal(signal_parse("SIGTERM"), SIGTERM);
    assert_int_equal(signal_parse("TERM"), SIGTERM);
    assert_int_equal(signal_parse("term"), SIGTERM);
    assert_int_equal(signal_parse("9"), SIGKILL);
    assert_int_equal(signal_parse("usr1"), SIGUSR1);
    assert_int_equal(signal_parse("SIGWINCH"), SIGWINCH);
    assert_int_equal(signal_parse("0"), -EINVAL);
    assert_int_equal(signal_parse("65"), -EINVAL);
    assert_int_equal(signal_parse("SIG"), -EINVAL);
    assert_int_equal(signal_parse("NOPE"), -EINVAL);
    assert_int_equal(signal_parse(""), -EINVAL);
}

static void test_detach_keys(void **state)
{
    (void)state;
    unsigned char k[DETACH_KEYS_MAX];
    int n = -1;
    assert_int_equal(detach_keys_parse("ctrl-p,ctrl-q", k, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(k[0], 0x10);
    assert_int_equal(k[1], 0x11);
    assert_int_equal(detach_keys_parse("x", k, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(k[0], 'x');
    assert_int_equal(detach_keys_parse("ctrl-@,ctrl-[,a", k, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(k[0], 0);
    assert_int_equal(k[1], 27);
    assert_int_equal(k[2], 'a');
    assert_int_equal(detach_keys_parse("", k, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(detach_keys_parse("ctrl-", k, &n), -EINVAL);
    assert_int_equal(detach_keys_parse("ctrl-1", k, &n), -EINVAL);
    assert_int_equal(detach_keys_parse("a,", k, &n), -EINVAL);
    assert_int_equal(detach_keys_parse(",a", k, &n), -EINVAL);
    assert_int_equal(detach_keys_parse("ab", k, &n), -EINVAL);
    assert_int_equal(detach_keys_parse("a,b,c,d,e,f,g,h,i", k, &n), -EINVAL);
}

static void test_log_line_round_trip(void **state)
{
    (void)state;
    const char data[] = "tab\t\"q\" \\ nul\0 ctl\x01 utf8 \xc3\xa9\n";
    size_t len = sizeof(data) - 1, n = 0;
    char *line = json_log_encode("stderr", data, len, "2026-11-28T19:20:22.123456789Z", &n);
    struct log_entry e;
    assert_int_equal(json_log_parse_line(line, n, &e), 0);
    assert_int_equal(e.stream, 2);
    assert_int_equal(e.len, len);
    assert_memory_equal(e.data, data, len);
    assert_string_equal(e.time, "2026-11-28T19:20:22.123456789Z");
    assert_true(e.time_ns > 0);
    log_entry_clear(&e);
    free(line);
    /* Docker's own escapes (\u003c, surrogate pairs) decode too. */
    const char docker[] =
        "{\"log\":\"\\u003cb\\u003e "
        "\\ud83d\\ude00\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-02T03:04:05.000000001Z\"}";
    assert_int_equal(json_log_parse_line(docker, strlen(docker), &e), 0);
    assert_int_equal(e.stream, 1);
    assert_int_equal(e.len, strlen("<b> \xf0\x9f\x98\x80\n"));
    assert_memory_equal(e.data, "<b> \xf0\x9f\x98\x80\n", e.len);
    log_entry_clear(&e);
    assert_int_equal(json_log_parse_line("{\"log\":\"torn", 11, &e), -EINVAL);
    assert_int_equal(json_log_parse_line("garbage", 7, &e), -EINVAL);
    const char no_time[] = "{\"log\":\"x\",\"stream\":\"stdout\"}";
    assert_int_equal(json_log_parse_line(no_time, strlen(no_time), &e), -EINVAL);
}

static void test_format_time(void **state)
{
    (void)state;
    char buf[32];
    json_log_format_time(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
    json_log_format_time(951782400LL * 1000000000LL + 5, buf); /* a leap day */
    assert_string_equal(buf, "2000-02-29T00:00:00.000000005Z");
    json_log_format_time(1795893622LL * 1000000000LL + 123456789, buf);
    assert_string_equal(buf, "2026-11-28T19:20:22.123456789Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_policy_parse), cmocka_unit_test(test_should_restart),
        cmocka_unit_test(test_restart_delay),        cmocka_unit_test(test_log_options),
        cmocka_unit_test(test_signal_parse),         cmocka_unit_test(test_detach_keys),
        cmocka_unit_test(test_log_line_round_trip),  cmocka_unit_test(test_format_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
