/* --filter of berth events (events/event-filter.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "events/event-filter.h"

static cJSON *event(const char *id, const char *name, const char *ev, const char *image)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "event", ev);
    cJSON_AddStringToObject(o, "image", image);
    return o;
}

static void parses(void **state)
{
    (void)state;
    struct event_filter f = {0};
    assert_int_equal(event_filter_add(&f, "container=web"), 0);
    assert_int_equal(event_filter_add(&f, "event=started"), 0);
    assert_int_equal(event_filter_add(&f, "image=busybox"), 0);
    assert_int_equal(event_filter_add(&f, "color=red"), -ENOENT);
    assert_int_equal(event_filter_add(&f, "event="), -EINVAL);
    assert_int_equal(event_filter_add(&f, "=x"), -EINVAL);
    assert_int_equal(event_filter_add(&f, "event"), -EINVAL);
    event_filter_clear(&f);
}

static void matches(void **state)
{
    (void)state;
    cJSON *a = event("abcdef0123", "web", "started", "busybox");
    cJSON *b = event("0123456789", "db", "exited", "busybox");
    struct event_filter f = {0};
    assert_true(event_filter_match(&f, a)); /* no filter: everything */
    event_filter_add(&f, "container=web");
    assert_true(event_filter_match(&f, a));
    assert_false(event_filter_match(&f, b));
    event_filter_add(&f, "container=0123"); /* same key: either; an id prefix */
    assert_true(event_filter_match(&f, b));
    event_filter_add(&f, "event=exited"); /* another key: both */
    assert_false(event_filter_match(&f, a));
    assert_true(event_filter_match(&f, b));
    event_filter_add(&f, "image=alpine");
    assert_false(event_filter_match(&f, b));
    event_filter_clear(&f);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses),
        cmocka_unit_test(matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
