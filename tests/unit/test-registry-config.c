/* The config file's "registries" object (registry/registry-config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry/registry-config.h"
#include "util/cleanup.h"

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

static void valid(void **state)
{
    (void)state;
    cJSON *j = parse("{\"default\":\"r.example:5000\",\"mirrors\":{\"docker.io\":[\"m1:1\","
                     "\"m2\"]},\"insecure\":[\"build.local:5000\"]}");
    struct error *err = NULL;
    assert_int_equal(registry_config_check(j, &err), 0);
    assert_string_equal(registry_config_default(j), "r.example:5000");
    const char **m = registry_config_mirrors(j, "docker.io");
    assert_string_equal(m[0], "m1:1");
    assert_string_equal(m[1], "m2");
    assert_null(m[2]);
    free(m);
    m = registry_config_mirrors(j, "quay.io");
    assert_null(m[0]);
    free(m);
    assert_true(registry_config_insecure(j, "build.local:5000"));
    assert_false(registry_config_insecure(j, "build.local:5001"));
    assert_false(registry_config_insecure(j, "registry-1.docker.io"));
    cJSON_Delete(j);
}

static void defaults(void **state)
{
    (void)state;
    struct error *err = NULL;
    assert_int_equal(registry_config_check(NULL, &err), 0);
    assert_string_equal(registry_config_default(NULL), "docker.io");
    assert_string_equal(registry_endpoint("docker.io"), "registry-1.docker.io");
    assert_string_equal(registry_endpoint("quay.io"), "quay.io");
    /* docker's built-in insecure 127.0.0.0/8, and localhost. */
    assert_true(registry_config_insecure(NULL, "127.0.0.1:5000"));
    assert_true(registry_config_insecure(NULL, "127.1.2.3"));
    assert_true(registry_config_insecure(NULL, "localhost:5000"));
    assert_true(registry_config_insecure(NULL, "[::1]:5000"));
    assert_false(registry_config_insecure(NULL, "localhost.example.com"));
    assert_false(registry_config_insecure(NULL, "10.0.0.1:5000"));
    assert_false(registry_config_insecure(NULL, "127.example.com"));
}

static void invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "[]",
        "{\"default\":1}",
        "{\"default\":\"\"}",
        "{\"default\":\"a/b\"}",
        "{\"mirrors\":[\"x\"]}",
        "{\"mirrors\":{\"docker.io\":\"x\"}}",
        "{\"mirrors\":{\"docker.io\":[1]}}",
        "{\"insecure\":\"x\"}",
        "{\"insecure\":[\"\"]}",
        "{\"unknown\":true}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        cJSON *j = parse(bad[i]);
        struct error *err = NULL;
        if (registry_config_check(j, &err) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err->msg, "\"registries\""));
        error_free(&err);
        cJSON_Delete(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid),
        cmocka_unit_test(defaults),
        cmocka_unit_test(invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
