/* berth ps --filter (cli/ps-filter.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "cli/ps-filter.h"

static cJSON *record(void)
{
    return cJSON_Parse("{\"id\": \"3f2a9c\", \"name\": \"web-front\", \"state\": \"exited\","
                       " \"image\": \"busybox\", \"image_id\": \"sha256:beef1234\","
                       " \"labels\": {\"app\": \"web\", \"tier\": \"\"}}");
}

static int passes(const char *const *specs)
{
    struct ps_filter f = {0};
    const char *why;
    for (size_t i = 0; specs[i]; i++)
        assert_int_equal(ps_filter_add(&f, specs[i], &why), 0);
    cJSON *rec = record();
    int r = ps_filter_match(&f, rec);
    cJSON_Delete(rec);
    ps_filter_clear(&f);
    return r;
}

static void matching(void **state)
{
    (void)state;
    assert_true(passes((const char *[]){NULL}));
    assert_true(passes((const char *[]){"label=app", NULL}));
    assert_true(passes((const char *[]){"label=app=web", NULL}));
    assert_true(passes((const char *[]){"label=tier=", NULL})); /* the empty value */
    assert_false(passes((const char *[]){"label=app=db", NULL}));
    assert_false(passes((const char *[]){"label=app", "label=missing", NULL})); /* labels: all */
    assert_true(passes((const char *[]){"name=front", NULL}));
    assert_true(passes((const char *[]){"name=nope", "name=web", NULL})); /* one key: any */
    assert_true(passes((const char *[]){"id=3f2a", NULL}));
    assert_false(passes((const char *[]){"id=3f2b", NULL}));
    assert_true(passes((const char *[]){"status=exited", NULL}));
    assert_false(passes((const char *[]){"status=running", NULL}));
    assert_false(passes((const char *[]){"status=exited", "name=nope", NULL})); /* keys: all */
    assert_true(passes((const char *[]){"ancestor=busybox:latest", NULL}));
    assert_true(passes((const char *[]){"ancestor=docker.io/library/busybox", NULL}));
    assert_true(passes((const char *[]){"ancestor=beef", NULL}));
    assert_false(passes((const char *[]){"ancestor=alpine", NULL}));
}

static void parsing(void **state)
{
    (void)state;
    struct ps_filter f = {0};
    const char *why = NULL;
    assert_int_equal(ps_filter_add(&f, "colour=red", &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(ps_filter_add(&f, "status=sleeping", &why), -EINVAL);
    assert_int_equal(ps_filter_add(&f, "label", &why), -EINVAL);
    assert_int_equal(ps_filter_add(&f, "name=", &why), -EINVAL);
    assert_int_equal(ps_filter_add(&f, "=x", &why), -EINVAL);
    assert_false(ps_filter_has_status(&f));
    assert_int_equal(ps_filter_add(&f, "status=paused", &why), 0);
    assert_true(ps_filter_has_status(&f));
    ps_filter_clear(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matching),
        cmocka_unit_test(parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
