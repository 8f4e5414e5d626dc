/* Unit tests for core/image/docker-archive.c (manifest.json parsing) and
 * core/image/image-history.c (history rows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/docker-archive.h"
#include "image/image-history.h"
#include "util/cleanup.h"

static void parse_ok(void **state)
{
    (void)state;
    const char *text = "[{\"Config\":\"abc.json\",\"RepoTags\":[\"busybox:latest\",\"x/y:1\"],"
                       "\"Layers\":[\"1/layer.tar\",\"blobs/sha256/aa\"]},"
                       "{\"Config\":\"def.json\",\"RepoTags\":null,\"Layers\":[]}]";
    struct docker_archive_entry *e = NULL;
    size_t n = 0;
    struct error *err _cleanup_error_ = NULL;
    assert_int_equal(docker_archive_parse(text, &e, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].config, "abc.json");
    assert_string_equal(e[0].repo_tags[1], "x/y:1");
    assert_null(e[0].repo_tags[2]);
    assert_int_equal(e[0].n_layers, 2);
    assert_string_equal(e[0].layers[1], "blobs/sha256/aa");
    assert_null(e[1].repo_tags[0]);
    assert_int_equal(e[1].n_layers, 0);
    docker_archive_entries_free(e, n);
}

static void parse_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{}",
        "[]",
        "[1]",
        "[{\"RepoTags\":[],\"Layers\":[]}]",
        "[{\"Config\":\"../c.json\",\"Layers\":[]}]",
        "[{\"Config\":\"/etc/passwd\",\"Layers\":[]}]",
        "[{\"Config\":\"c.json\",\"Layers\":[\"a/../../x\"]}]",
        "[{\"Config\":\"c.json\",\"Layers\":[\"\"]}]",
        "[{\"Config\":\"c.json\",\"Layers\":[3]}]",
        "[{\"Config\":\"c.json\"}]",
        "[{\"Config\":\"c.json\",\"Layers\":[],\"RepoTags\":[\"UPPER:x\"]}]",
        "[{\"Config\":\"c.json\",\"Layers\":[],\"RepoTags\":\"a:b\"}]",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct docker_archive_entry *e = NULL;
        size_t n = 0;
        struct error *err _cleanup_error_ = NULL;
        if (docker_archive_parse(bad[i], &e, &n, &err) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(err);
        assert_null(e);
    }
}

static void history_rows(void **state)
{
    (void)state;
    const char *config =
        "{\"history\":[{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"ADD a\"},"
        "{\"created\":\"2024-01-02T03:04:06.5+01:00\",\"created_by\":\"ENV x\","
        "\"empty_layer\":true},{\"created_by\":\"RUN b\",\"comment\":\"c\"}]}";
    long long sizes[] = {100, 200};
    struct image_history_row *rows = NULL;
    size_t n = 0;
    struct error *err _cleanup_error_ = NULL;
    assert_int_equal(image_history_parse(config, sizes, 2, &rows, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].created_by, "RUN b");
    assert_string_equal(rows[0].comment, "c");
    assert_int_equal(rows[0].size, 200);
    assert_int_equal(rows[0].created, 0);
    assert_true(rows[1].empty_layer);
    assert_int_equal(rows[1].size, 0);
    assert_int_equal(rows[1].created, 1704164646 - 3600);
    assert_int_equal(rows[2].size, 100);
    assert_int_equal(rows[2].created, 1704164645);
    image_history_free(rows, n);
}

static void history_without_history(void **state)
{
    (void)state;
    long long sizes[] = {7, 8};
    struct image_history_row *rows = NULL;
    size_t n = 0;
    struct error *err _cleanup_error_ = NULL;
    assert_int_equal(image_history_parse("{}", sizes, 2, &rows, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].size, 8);
    assert_int_equal(rows[1].size, 7);
    image_history_free(rows, n);
}

static void history_refused(void **state)
{
    (void)state;
    long long sizes[] = {1};
    static const char *const bad[] = {
        "[]",
        "not json",
        "{\"history\":[{\"created_by\":\"a\"},{\"created_by\":\"b\"}]}",
        "{\"history\":[3]}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct image_history_row *rows = NULL;
        size_t n = 0;
        struct error *err _cleanup_error_ = NULL;
        if (image_history_parse(bad[i], sizes, 1, &rows, &n, &err) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ok),        cmocka_unit_test(parse_refused),
        cmocka_unit_test(history_rows),    cmocka_unit_test(history_without_history),
        cmocka_unit_test(history_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
