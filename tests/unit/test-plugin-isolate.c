/*
 * PLUGIN_RUN with an isolated plugin: the answer (return value, error text,
 * mounts, text) crosses the pipe intact, and a crash, an abort, a hang or an
 * exit without an answer fails the call with the reason, in this process.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lifecycle/plugin-isolate.h"
#include "plugin/plugin-host.h"

static struct berth_plugin_descriptor desc = {.name = "unit"};

static struct plugin make_plugin(int isolate, unsigned timeout)
{
    return (struct plugin){.desc = &desc, .isolate = isolate, .timeout = timeout};
}

/* An operation: reports two mounts and a text, sets an error, returns R. */
static int op_answer(struct mount_list *mounts, struct text_sink *text, struct berth_error *perr,
                     int r)
{
    struct berth_mount a = {.size = sizeof(a), .type = "bind", .source = "/a", .target = "/"};
    struct berth_mount b = {
        .size = sizeof(b), .type = "tmpfs", .source = NULL, .target = "/t", .options = "size=1m"};
    mount_list_add_cb(mounts, &a);
    mount_list_add_cb(mounts, &b);
    text_sink_put(text, "{\"k\":\"v\"}");
    if (r < 0)
        error_set_plain(&perr->error, -r, "refused: %s", "because");
    return r;
}

__attribute__((no_sanitize("undefined"), noinline)) static int op_segv(void)
{
    signal(SIGSEGV, SIG_DFL);
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
    return 0;
}

static int op_abort(void)
{
    abort();
}

static int op_hang(void)
{
    for (;;)
        pause();
    return 0; /* not reached */
}

static int op_exit(void)
{
    _exit(7);
}

static void test_answer_crosses(void **unused)
{
    (void)unused;
    for (int isolate = 0; isolate <= 1; isolate++) {
        struct plugin pl = make_plugin(isolate, 10);
        struct plugin *p = &pl;
        struct mount_list mounts = {0};
        struct text_sink text = {0};
        struct berth_error perr = {0};
        /* A mount already on the list stays, once. */
        struct berth_mount first = {.size = sizeof(first), .type = "proc", .target = "/proc"};
        mount_list_add_cb(&mounts, &first);
        int r = PLUGIN_RUN(p, "op", &perr, &mounts, &text, op_answer(&mounts, &text, &perr, 0));
        assert_int_equal(r, 0);
        assert_null(perr.error);
        assert_int_equal(mounts.n, 3);
        assert_string_equal(mounts.items[0].type, "proc");
        assert_string_equal(mounts.items[1].source, "/a");
        assert_string_equal(mounts.items[2].source, "none");
        assert_string_equal(mounts.items[2].options, "size=1m");
        assert_null(mounts.items[1].options);
        assert_string_equal(text.text, "{\"k\":\"v\"}");
        mount_list_clear(&mounts);
        free(text.text);
    }
}

static void test_error_crosses(void **unused)
{
    (void)unused;
    struct plugin pl = make_plugin(1, 10);
    struct plugin *p = &pl;
    struct mount_list mounts = {0};
    struct text_sink text = {0};
    struct berth_error perr = {0};
    int r = PLUGIN_RUN(p, "op", &perr, &mounts, &text, op_answer(&mounts, &text, &perr, -EACCES));
    assert_int_equal(r, -EACCES);
    assert_non_null(perr.error);
    assert_string_equal(perr.error->msg, "refused: because");
    assert_int_equal(perr.error->errnum, EACCES);
    assert_int_equal(perr.contained, 0);
    error_free(&perr.error);
    mount_list_clear(&mounts);
    free(text.text);
}

static void expect_contained(int (*op)(void), unsigned timeout, int want_r, const char *want_msg)
{
    struct plugin pl = make_plugin(1, timeout);
    struct plugin *p = &pl;
    struct berth_error perr = {0};
    int r = PLUGIN_RUN(p, "op", &perr, NULL, NULL, op());
    assert_int_equal(r, want_r);
    assert_non_null(perr.error);
    assert_string_equal(perr.error->msg, want_msg);
    assert_int_equal(perr.contained, 1);
    error_free(&perr.error);
}

static void test_crashes(void **unused)
{
    (void)unused;
    expect_contained(op_segv, 10, -EIO, "killed by SIGSEGV");
    expect_contained(op_abort, 10, -EIO, "killed by SIGABRT");
    expect_contained(op_exit, 10, -EIO, "exited with status 7 without an answer");
}

static void test_hang(void **unused)
{
    (void)unused;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    expect_contained(op_hang, 1, -ETIMEDOUT, "no answer within 1 s: killed");
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(ms >= 900 && ms < 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_crosses),
        cmocka_unit_test(test_error_crosses),
        cmocka_unit_test(test_crashes),
        cmocka_unit_test(test_hang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
