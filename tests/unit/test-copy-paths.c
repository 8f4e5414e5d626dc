/* berth cp's naming: docker's path rules (copy_path_split), the renaming of
 * a copy's top entry (layer_copy_rename), and what it never copies
 * (kernel_fs_type). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "image/layer-unpack.h"
#include "lifecycle/container-copy.h"
#include "util/kernel-fs.h"

static void split(const char *path, const char *dir, const char *name, int contents, int slash)
{
    char *d = NULL, *n = NULL;
    int c = -1, s = -1;
    assert_int_equal(copy_path_split(path, &d, &n, &c, &s), 0);
    assert_string_equal(d, dir);
    assert_string_equal(n, name);
    assert_int_equal(c, contents);
    assert_int_equal(s, slash);
    free(d);
    free(n);
}

static void paths(void **state)
{
    (void)state;
    split("/etc/motd", "/etc", "motd", 0, 0);
    split("motd", ".", "motd", 0, 0);
    split("/motd", "/", "motd", 0, 0);
    split("/tmp/", "/", "tmp", 0, 1);
    split("/tmp//", "/", "tmp", 0, 1);
    split("a/b", "a", "b", 0, 0);
    /* A directory itself: its own path, the name ".". */
    split("/", "/", ".", 0, 1);
    split("//", "/", ".", 0, 1);
    split("/srv/.", "/srv/.", ".", 1, 0);
    split(".", ".", ".", 1, 0);
    split("/srv/..", "/srv/..", ".", 0, 0);
    split("/srv/./", "/srv/.", ".", 0, 1);
    char *d = NULL, *n = NULL;
    int c, s;
    assert_int_equal(copy_path_split("", &d, &n, &c, &s), -EINVAL);
    assert_int_equal(copy_path_split(NULL, &d, &n, &c, &s), -EINVAL);
}

static void rename_one(const char *path, const char *top, const char *as, const char *want)
{
    char *got = layer_copy_rename(path, top, as);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void renames(void **state)
{
    (void)state;
    rename_one("site", "site", "www", "www");
    rename_one("site/css/a.css", "site", "www", "www/css/a.css");
    rename_one("site/x", "site", ".", "x");
    rename_one("site", "site", ".", "");
    /* A tar of a directory's contents: its entries are relative to it. */
    rename_one("", ".", "www", "www");
    rename_one("a/b", ".", "www", "www/a/b");
    rename_one("a/b", ".", ".", "a/b");
    /* Outside the top: refused. */
    rename_one("other", "site", "www", NULL);
    rename_one("sitex/a", "site", "www", NULL);
    rename_one("sit", "site", "www", NULL);
}

static void kernel_file_systems(void **state)
{
    (void)state;
    assert_true(kernel_fs_type(0x9fa0));            /* proc */
    assert_true(kernel_fs_type(0x62656572));        /* sysfs */
    assert_true(kernel_fs_type(0x63677270));        /* cgroup2 */
    assert_true(kernel_fs_type((long)0xf97cff8cu)); /* selinuxfs, above 2^31 */
    assert_false(kernel_fs_type(0xef53));           /* ext4 */
    assert_false(kernel_fs_type(0x01021994));       /* tmpfs: a container's /dev, its data */
    assert_false(kernel_fs_type(0x794c7630));       /* overlay */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),
        cmocka_unit_test(renames),
        cmocka_unit_test(kernel_file_systems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
