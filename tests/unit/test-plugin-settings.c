/* One plugin's settings from the configuration's "plugins" object. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/plugin-settings.h"

/* Settings of NAME in the "plugins" object TEXT; returns the result and
 * leaves the reason in *REASON (or NULL). */
static int get(const char *text, const char *name, struct plugin_settings *s, char **reason)
{
    cJSON *plugins = text ? cJSON_Parse(text) : NULL;
    if (text)
        assert_non_null(plugins);
    *reason = NULL;
    int r = plugin_settings_get(plugins, name, s, reason);
    cJSON_Delete(plugins);
    return r;
}

static void test_defaults(void **unused)
{
    (void)unused;
    struct plugin_settings s;
    char *reason;
    assert_int_equal(get(NULL, "overlay", &s, &reason), 0);
    assert_int_equal(s.enabled, 1);
    assert_int_equal(s.isolate, 0);
    assert_int_equal(s.timeout, PLUGIN_DEFAULT_TIMEOUT);
    assert_string_equal(s.options_json, "{}");
    plugin_settings_clear(&s);
    /* Another plugin's entry changes nothing for this one. */
    assert_int_equal(get("{\"nat\": {\"enabled\": false}}", "overlay", &s, &reason), 0);
    assert_int_equal(s.enabled, 1);
    plugin_settings_clear(&s);
}

static void test_all_keys(void **unused)
{
    (void)unused;
    struct plugin_settings s;
    char *reason;
    assert_int_equal(get("{\"x\": {\"enabled\": false, \"isolate\": true, \"timeout\": 5, "
                         "\"options\": {\"a\": [1, 2], \"b\": \"c\"}}}",
                         "x", &s, &reason),
                     0);
    assert_int_equal(s.enabled, 0);
    assert_int_equal(s.isolate, 1);
    assert_int_equal(s.timeout, 5);
    assert_string_equal(s.options_json, "{\"a\":[1,2],\"b\":\"c\"}");
    plugin_settings_clear(&s);
}

static void expect_refusal(const char *text, const char *reason_part)
{
    struct plugin_settings s;
    char *reason;
    assert_int_equal(get(text, "x", &s, &reason), -EINVAL);
    assert_non_null(reason);
    if (!strstr(reason, reason_part))
        fail_msg("reason '%s' lacks '%s'", reason, reason_part);
    free(reason);
}

static void test_refusals(void **unused)
{
    (void)unused;
    expect_refusal("{\"x\": true}", "plugins.x: must be an object");
    expect_refusal("{\"x\": {\"options\": [1]}}", "plugins.x.options: must be a JSON object");
    expect_refusal("{\"x\": {\"options\": \"{}\"}}", "plugins.x.options: must be a JSON object");
    expect_refusal("{\"x\": {\"enabled\": 1}}", "plugins.x.enabled: must be true or false");
    expect_refusal("{\"x\": {\"isolate\": \"yes\"}}", "plugins.x.isolate: must be true or false");
    expect_refusal("{\"x\": {\"timeout\": 0}}", "plugins.x.timeout");
    expect_refusal("{\"x\": {\"timeout\": 1.5}}", "plugins.x.timeout");
    expect_refusal("{\"x\": {\"timeout\": \"5\"}}", "plugins.x.timeout");
    expect_refusal("{\"x\": {\"timeout\": 1e9}}", "plugins.x.timeout");
    expect_refusal("{\"x\": {\"enable\": true}}", "plugins.x.enable: unknown key");
    /* A key with a newline in the file still gives a one-line reason. */
    expect_refusal("{\"x\": {\"en\\nable\": true}}", "plugins.x.en?able: unknown key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
