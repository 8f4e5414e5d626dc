/* The loader's refusal reasons, checked on descriptors built here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/plugin-registry.h"

static int noop_init(const struct berth_services *s, void **ret)
{
    (void)s;
    *ret = NULL;
    return 0;
}

static int noop_event(void *st, const struct berth_event *ev, void *res, struct berth_error *err)
{
    (void)st;
    (void)ev;
    (void)res;
    (void)err;
    return 0;
}

static const struct berth_hook_ops hook_ops = {.size = sizeof(hook_ops), .on_event = noop_event};

static struct berth_plugin_descriptor good(void)
{
    struct berth_plugin_descriptor d = {
        .size = sizeof(d),
        .abi_major = BERTH_ABI_MAJOR,
        .abi_minor = BERTH_ABI_MINOR,
        .kind = BERTH_KIND_HOOK,
        .name = "good-hook",
        .version = "1",
        .summary = "test",
        .init = noop_init,
        .ops = &hook_ops,
    };
    return d;
}

static void expect_refused(const struct berth_plugin_descriptor *d, const char *needle)
{
    char *reason = NULL;
    assert_int_equal(plugin_check_descriptor(d, &reason), -EINVAL);
    assert_non_null(reason);
    if (!strstr(reason, needle))
        fail_msg("reason '%s' does not mention '%s'", reason, needle);
    free(reason);
}

static void accepts_good(void **state)
{
    (void)state;
    struct berth_plugin_descriptor d = good();
    char *reason = NULL;
    assert_int_equal(plugin_check_descriptor(&d, &reason), 0);
    assert_null(reason);
}

static void refuses_other_major(void **state)
{
    (void)state;
    struct berth_plugin_descriptor d = good();
    d.abi_major = BERTH_ABI_MAJOR + 1;
    char want[128];
    snprintf(want, sizeof(want),
             "built for ABI %d.%d, berth provides %d.%d: rebuild against berth-plugin %d.x",
             BERTH_ABI_MAJOR + 1, BERTH_ABI_MINOR, BERTH_ABI_MAJOR, BERTH_ABI_MINOR,
             BERTH_ABI_MAJOR);
    expect_refused(&d, want);
}

static void refuses_newer_minor(void **state)
{
    (void)state;
    struct berth_plugin_descriptor d = good();
    d.abi_minor = BERTH_ABI_MINOR + 1;
    char want[128];
    snprintf(want, sizeof(want), "built for ABI %d.%d, berth provides %d.%d", BERTH_ABI_MAJOR,
             BERTH_ABI_MINOR + 1, BERTH_ABI_MAJOR, BERTH_ABI_MINOR);
    expect_refused(&d, want);
    expect_refused(&d, "newer than berth");
}

static void refuses_small_descriptor(void **state)
{
    (void)state;
    struct berth_plugin_descriptor d = good();
    d.size = offsetof(struct berth_plugin_descriptor, init);
    expect_refused(&d, "descriptor size");
}

static void refuses_missing_descriptor(void **state)
{
    (void)state;
    expect_refused(NULL, "no descriptor");
}

static void refuses_bad_name_and_kind(void **state)
{
    (void)state;
    struct berth_plugin_descriptor d = good();
    d.name = "Bad Name";
    expect_refused(&d, "invalid plugin name");
    d = good();
    d.kind = 99;
    expect_refused(&d, "unknown plugin kind 99");
}

static void refuses_small_or_incomplete_ops(void **state)
{
    (void)state;
    struct berth_hook_ops small = {.size = 2, .on_event = noop_event};
    struct berth_plugin_descriptor d = good();
    d.ops = &small;
    expect_refused(&d, "operations table has size 2");
    struct berth_hook_ops empty = {.size = sizeof(empty)};
    d.ops = &empty;
    expect_refused(&d, "on_event is not set");
    struct berth_storage_ops storage = {.size = sizeof(storage)};
    d = good();
    d.kind = BERTH_KIND_STORAGE;
    d.ops = &storage;
    expect_refused(&d, "required storage operation prepare");
    d.ops = NULL;
    expect_refused(&d, "no operations table");
}

static void refuses_missing_init(void **state)
{
    (void)state;
    struct berth_plugin_descriptor d = good();
    d.init = NULL;
    expect_refused(&d, "no init");
}

static void ops_has_checks_size(void **state)
{
    (void)state;
    struct berth_storage_ops o = {.size = offsetof(struct berth_storage_ops, gc)};
    const struct berth_storage_ops *ops = &o;
    o.gc = (void *)noop_event;
    assert_false(PLUGIN_OPS_HAS(ops, gc));
    o.size = sizeof(o);
    assert_true(PLUGIN_OPS_HAS(ops, gc));
    o.gc = NULL;
    assert_false(PLUGIN_OPS_HAS(ops, gc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_good),
        cmocka_unit_test(refuses_other_major),
        cmocka_unit_test(refuses_newer_minor),
        cmocka_unit_test(refuses_small_descriptor),
        cmocka_unit_test(refuses_missing_descriptor),
        cmocka_unit_test(refuses_bad_name_and_kind),
        cmocka_unit_test(refuses_small_or_incomplete_ops),
        cmocka_unit_test(refuses_missing_init),
        cmocka_unit_test(ops_has_checks_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
