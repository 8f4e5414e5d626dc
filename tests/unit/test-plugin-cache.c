/* The plugin descriptor cache: a hit only for exactly the files it describes. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <berth/berth.h>
#include <cmocka.h>

#include "plugin/plugin-cache.h"
#include "util/fs-util.h"

struct fixture {
    char dir[64];
    char *plugins; /* DIR/plugins, holding a.so and b.so */
    char *cache;
    char *dirs[3]; /* NULL-terminated: two directories at most */
};

static void touch(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/berth-plugin-cache.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->plugins = xasprintf("%s/plugins", f->dir);
    f->cache = xasprintf("%s/cache.json", f->dir);
    assert_int_equal(mkdir(f->plugins, 0700), 0);
    char *a = xasprintf("%s/a.so", f->plugins), *b = xasprintf("%s/b.so", f->plugins);
    char *skip = xasprintf("%s/notes.txt", f->plugins);
    touch(a, "a");
    touch(b, "bb");
    touch(skip, "not a plugin");
    free(a);
    free(b);
    free(skip);
    f->dirs[0] = f->plugins;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct error *ignored = NULL;
    rm_rf(f->dir, &ignored);
    error_free(&ignored);
    free(f->plugins);
    free(f->cache);
    free(f);
    return 0;
}

/* Scans, names a.so a storage driver and refuses b.so, writes the cache. */
static void write_cache(struct fixture *f)
{
    struct plugin_file *files = NULL;
    size_t n = 0;
    assert_int_equal(plugin_files_scan(f->dirs, &files, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(strrchr(files[0].path, '/'), "/a.so");
    files[0].name = strdup("a");
    files[0].kind = BERTH_KIND_STORAGE;
    files[1].refused = strdup("built for ABI 2.0");
    plugin_cache_write(f->cache, f->dirs, files, n);
    plugin_files_free(files, n);
}

/* Returns whether the cache hits now; on a hit checks what it filled in. */
static int cache_hits(struct fixture *f)
{
    struct plugin_file *files = NULL;
    size_t n = 0;
    assert_int_equal(plugin_files_scan(f->dirs, &files, &n), 0);
    int hit = plugin_cache_read(f->cache, f->dirs, files, n);
    if (hit) {
        assert_string_equal(files[0].name, "a");
        assert_int_equal(files[0].kind, BERTH_KIND_STORAGE);
        assert_null(files[0].refused);
        assert_null(files[1].name);
        assert_string_equal(files[1].refused, "built for ABI 2.0");
    } else {
        for (size_t i = 0; i < n; i++)
            assert_null(files[i].name);
    }
    plugin_files_free(files, n);
    return hit;
}

static void test_hit(void **state)
{
    struct fixture *f = *state;
    assert_false(cache_hits(f)); /* no cache yet */
    write_cache(f);
    assert_true(cache_hits(f));
}

static void test_replaced_file_misses(void **state)
{
    struct fixture *f = *state;
    write_cache(f);
    char *a = xasprintf("%s/a.so", f->plugins);
    char *tmp = xasprintf("%s/a.so.new", f->dir);
    touch(tmp, "a"); /* same size and content, another inode */
    assert_int_equal(rename(tmp, a), 0);
    assert_false(cache_hits(f));
    free(a);
    free(tmp);
}

static void test_touched_file_misses(void **state)
{
    struct fixture *f = *state;
    write_cache(f);
    char *b = xasprintf("%s/b.so", f->plugins);
    struct timespec ts[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
    assert_int_equal(utimensat(AT_FDCWD, b, ts, 0), 0);
    assert_false(cache_hits(f));
    free(b);
}

static void test_added_and_removed_files_miss(void **state)
{
    struct fixture *f = *state;
    write_cache(f);
    char *c = xasprintf("%s/c.so", f->plugins);
    touch(c, "c");
    assert_false(cache_hits(f));
    unlink(c);
    assert_true(cache_hits(f));
    char *a = xasprintf("%s/a.so", f->plugins);
    unlink(a);
    assert_false(cache_hits(f));
    free(a);
    free(c);
}

static void test_other_path_misses(void **state)
{
    struct fixture *f = *state;
    write_cache(f);
    char *other = xasprintf("%s/more", f->dir);
    assert_int_equal(mkdir(other, 0700), 0);
    f->dirs[1] = other; /* an empty extra directory: same files, other path */
    assert_false(cache_hits(f));
    f->dirs[1] = NULL;
    assert_true(cache_hits(f));
    free(other);
}

static void test_corrupt_cache_misses(void **state)
{
    struct fixture *f = *state;
    write_cache(f);
    touch(f->cache, "{\"format\": 7, \"files\": [");
    assert_false(cache_hits(f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced_file_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_touched_file_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_added_and_removed_files_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_path_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_cache_misses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
