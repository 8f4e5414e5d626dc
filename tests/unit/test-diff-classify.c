/* Unit tests for the snapshot driver's diff classification
 * (storage-drivers/snapshot/diff-classify.c, compiled in). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "diff-classify.h"

static struct stat node(mode_t mode, ino_t ino, time_t mtime, long nsec, off_t size)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_mode = mode;
    st.st_ino = ino;
    st.st_mtim.tv_sec = mtime;
    st.st_mtim.tv_nsec = nsec;
    st.st_ctim = st.st_mtim;
    st.st_size = size;
    return st;
}

static void test_type_and_metadata(void **state)
{
    (void)state;
    struct stat p = node(S_IFREG | 0644, 10, 100, 5, 3), c = p;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHECK_XATTRS);
    c.st_mode = S_IFDIR | 0755;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_REPLACED);
    c = p;
    c.st_mode = S_IFREG | 0600;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHANGED);
    c = p;
    c.st_uid = 1;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHANGED);
    c = p;
    c.st_size = 4;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHANGED);
    c = p;
    c.st_mtim.tv_nsec = 6;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHANGED);
}

static void test_coarse_mtimes_compare_content(void **state)
{
    (void)state;
    /* Unpacked from a tar: whole seconds, so equal mtimes prove nothing. */
    struct stat p = node(S_IFREG | 0644, 10, 100, 0, 3), c = node(S_IFREG | 0644, 99, 100, 0, 3);
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHECK_CONTENT);
    p.st_mode = c.st_mode = S_IFLNK | 0777;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHECK_CONTENT);
    p.st_mode = c.st_mode = S_IFDIR | 0755;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHECK_XATTRS);
}

static void test_devices(void **state)
{
    (void)state;
    struct stat p = node(S_IFCHR | 0666, 1, 100, 0, 0), c = p;
    p.st_rdev = 0x103;
    c.st_rdev = 0x105;
    assert_int_equal(diff_classify(&c, &p, 0), DIFF_CHANGED);
}

static void test_same_inodes(void **state)
{
    (void)state;
    /* btrfs: same inode and ctime → untouched, without reading anything. */
    struct stat p = node(S_IFREG | 0644, 300, 100, 0, 3), c = p;
    assert_int_equal(diff_classify(&c, &p, 1), DIFF_SAME);
    c.st_ctim.tv_sec++;
    assert_int_equal(diff_classify(&c, &p, 1), DIFF_CHECK_CONTENT);
    c = p;
    c.st_ino = 301; /* written anew (sed -i, cp over) */
    assert_int_equal(diff_classify(&c, &p, 1), DIFF_CHANGED);
    p.st_mode = c.st_mode = S_IFDIR | 0755;
    assert_int_equal(diff_classify(&c, &p, 1), DIFF_REPLACED); /* rm -rf D; mkdir D */
}

static void test_opaque(void **state)
{
    (void)state;
    assert_true(diff_dir_opaque(3, 0, 0));  /* every entry gone, some new: made anew */
    assert_false(diff_dir_opaque(3, 1, 0)); /* one survives: whiteouts */
    assert_false(diff_dir_opaque(0, 0, 0)); /* was empty: nothing to hide */
    assert_false(diff_dir_opaque(3, 0, 1)); /* btrfs decides by inode instead */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_and_metadata),
        cmocka_unit_test(test_coarse_mtimes_compare_content),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_same_inodes),
        cmocka_unit_test(test_opaque),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
