/* Unit tests for core/image/layer-unpack.c: safety rules, fidelity, whiteouts. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/layer-unpack.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"

enum { PLAIN, GZIP, ZSTD };

/* One tar entry; MODE carries the type bits (S_IFREG…). */
struct ent {
    const char *name;
    mode_t mode;
    const char *data;
    const char *symlink;
    const char *hardlink;
    dev_t rdev;
    uid_t uid;
    gid_t gid;
    const char *xattr_name;
    const char *xattr_value;
    time_t mtime;
};

static char *tmp;

static char *path_in(const char *rel)
{
    return xasprintf("%s/%s", tmp, rel);
}

static void make_tar(const char *path, int filter, const struct ent *e, size_t n)
{
    struct archive *a = archive_write_new();
    assert_non_null(a);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (filter == GZIP)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    else if (filter == ZSTD)
        assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        mode_t mode = e[i].mode ? e[i].mode : (S_IFREG | 0644);
        archive_entry_set_mode(ae, mode);
        archive_entry_set_uid(ae, e[i].uid);
        archive_entry_set_gid(ae, e[i].gid);
        archive_entry_set_mtime(ae, e[i].mtime ? e[i].mtime : 1000000000, 0);
        if (e[i].symlink)
            archive_entry_set_symlink(ae, e[i].symlink);
        if (e[i].hardlink) {
            archive_entry_set_hardlink(ae, e[i].hardlink);
            archive_entry_set_size(ae, 0);
        }
        if (S_ISCHR(mode) || S_ISBLK(mode))
            archive_entry_set_rdev(ae, e[i].rdev);
        if (e[i].xattr_name)
            archive_entry_xattr_add_entry(ae, e[i].xattr_name, e[i].xattr_value,
                                          strlen(e[i].xattr_value));
        size_t len = e[i].data ? strlen(e[i].data) : 0;
        if (S_ISREG(mode) && !e[i].hardlink)
            archive_entry_set_size(ae, (la_int64_t)len);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (len && !e[i].hardlink)
            assert_int_equal(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
        archive_entry_free(ae);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* A fresh empty destination directory under the test's temp dir. */
static char *fresh_dir(const char *rel)
{
    char *p = path_in(rel);
    struct error *err = NULL;
    assert_int_equal(rm_rf(p, &err), 0);
    assert_int_equal(mkdir(p, 0755), 0);
    return p;
}

static void write_text(const char *path, const char *text)
{
    struct error *err = NULL;
    assert_int_equal(write_file_atomic(path, text, strlen(text), 0644, &err), 0);
}

static char *read_text(const char *path)
{
    char *s = NULL;
    struct error *err = NULL;
    assert_int_equal(read_file(path, &s, NULL, &err), 0);
    return s;
}

static int setup(void **state)
{
    (void)state;
    tmp = strdup("/tmp/berth-test-layer-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    struct error *err = NULL;
    assert_int_equal(rm_rf(tmp, &err), 0);
    free(tmp);
    return 0;
}

/* Unpacks E as a tar into a fresh DEST and expects a failure mentioning WANT. */
static void expect_refused(const struct ent *e, size_t n, const char *want)
{
    _cleanup_free_ char *tar = path_in("bad.tar");
    _cleanup_free_ char *dest = fresh_dir("dest-bad");
    make_tar(tar, PLAIN, e, n);
    struct error *err = NULL;
    assert_true(layer_unpack(tar, dest, LAYER_WHITEOUT_CHARDEV, &err) < 0);
    assert_non_null(err);
    if (!strstr(err->msg, want))
        fail_msg("unpack error '%s' lacks '%s'", err->msg, want);
    error_free(&err);
    char digest[DIGEST_STR_LEN + 1];
    assert_true(layer_verify(tar, digest, &err) < 0);
    if (!strstr(err->msg, want))
        fail_msg("verify error '%s' lacks '%s'", err->msg, want);
    error_free(&err);
}

static void test_entry_names(void **state)
{
    (void)state;
    assert_int_equal(layer_check_entry_name("a"), 0);
    assert_int_equal(layer_check_entry_name("./a/b/"), 0);
    assert_int_equal(layer_check_entry_name("././a//b"), 0);
    assert_int_equal(layer_check_entry_name("./"), 0);
    assert_int_equal(layer_check_entry_name("a..b/..c"), 0);
    assert_int_equal(layer_check_entry_name("../x"), -EINVAL);
    assert_int_equal(layer_check_entry_name("a/../../x"), -EINVAL);
    assert_int_equal(layer_check_entry_name("a/.."), -EINVAL);
    assert_int_equal(layer_check_entry_name("/etc/x"), -EINVAL);
    assert_int_equal(layer_check_entry_name(""), -EINVAL);
    assert_int_equal(layer_check_entry_name(NULL), -EINVAL);
}

static void test_refuse_traversal(void **state)
{
    (void)state;
    const struct ent e[] = {{.name = "ok", .data = "x"}, {.name = "../x", .data = "evil"}};
    expect_refused(e, ARRAY_SIZE(e), "layer entry '../x': path leaves the layer");
    _cleanup_free_ char *outside = path_in("x");
    assert_false(path_exists(outside));
}

static void test_refuse_absolute(void **state)
{
    (void)state;
    _cleanup_free_ char *target = path_in("abs-target");
    const struct ent e[] = {{.name = target, .data = "evil"}};
    _cleanup_free_ char *want = xasprintf("layer entry '%s': path leaves the layer", target);
    expect_refused(e, ARRAY_SIZE(e), want);
    assert_false(path_exists(target));
}

static void test_refuse_through_symlink(void **state)
{
    (void)state;
    _cleanup_free_ char *outside = fresh_dir("outside");
    const struct ent e[] = {{.name = "a", .mode = S_IFLNK | 0777, .symlink = outside},
                            {.name = "a/x", .data = "evil"}};
    expect_refused(e, ARRAY_SIZE(e), "layer entry 'a/x': path goes through symlink 'a'");
    _cleanup_free_ char *x = path_in("outside/x");
    assert_false(path_exists(x));

    /* Deeper, and a relative link that climbs out. */
    const struct ent e2[] = {{.name = "d/", .mode = S_IFDIR | 0755},
                             {.name = "d/up", .mode = S_IFLNK | 0777, .symlink = "../../outside"},
                             {.name = "d/up/y", .data = "evil"}};
    expect_refused(e2, ARRAY_SIZE(e2), "through symlink 'd/up'");
    _cleanup_free_ char *y = path_in("outside/y");
    assert_false(path_exists(y));
}

static void test_refuse_hardlink_out(void **state)
{
    (void)state;
    const struct ent e[] = {{.name = "h", .hardlink = "../../etc/passwd"}};
    expect_refused(e, ARRAY_SIZE(e), "hardlink target '../../etc/passwd' leaves the layer");
    const struct ent e2[] = {{.name = "h", .hardlink = "/etc/passwd"}};
    expect_refused(e2, ARRAY_SIZE(e2), "leaves the layer");
}

static void test_refuse_hardlink_through_symlink(void **state)
{
    (void)state;
    const struct ent e[] = {{.name = "s", .mode = S_IFLNK | 0777, .symlink = "/etc"},
                            {.name = "h", .hardlink = "s/passwd"}};
    expect_refused(e, ARRAY_SIZE(e), "through symlink 's'");
    _cleanup_free_ char *h = path_in("dest-bad/h");
    assert_false(path_exists(h));

    /* A hardlink to a symlink is a symlink: going through it is refused too. */
    _cleanup_free_ char *outside = fresh_dir("outside2");
    const struct ent e2[] = {{.name = "s", .mode = S_IFLNK | 0777, .symlink = outside},
                             {.name = "h", .hardlink = "s"},
                             {.name = "h/x", .data = "evil"}};
    expect_refused(e2, ARRAY_SIZE(e2), "through symlink 'h'");
    _cleanup_free_ char *x = path_in("outside2/x");
    assert_false(path_exists(x));
}

static void test_refuse_bad_whiteout(void **state)
{
    (void)state;
    const struct ent e[] = {{.name = "d/.wh..."}};
    expect_refused(e, ARRAY_SIZE(e), "invalid whiteout");
}

static void test_fidelity(void **state)
{
    (void)state;
    bool root = geteuid() == 0;
    const struct ent e[] = {
        {.name = "./", .mode = S_IFDIR | 0755},
        {.name = "dir/", .mode = S_IFDIR | 0750, .uid = 1000, .gid = 1001, .mtime = 1234567890},
        {.name = "dir/file",
         .mode = S_IFREG | 04755,
         .data = "hello",
         .uid = 1000,
         .gid = 1001,
         .xattr_name = "user.berth",
         .xattr_value = "kept",
         .mtime = 1111111111},
        {.name = "dir/hard", .hardlink = "dir/file"},
        {.name = "dir/link", .mode = S_IFLNK | 0777, .symlink = "../nowhere/x"},
        {.name = "dir/fifo", .mode = S_IFIFO | 0640},
        {.name = "dir/null", .mode = S_IFCHR | 0666, .rdev = makedev(1, 3)},
        {.name = "implicit/parent/f", .mode = S_IFREG | 0600, .data = ""},
        {.name = "dir/file2", .data = "first"},
        {.name = "dir/file2", .data = "second"}, /* a later entry wins */
    };
    _cleanup_free_ char *tar = path_in("fid.tar");
    _cleanup_free_ char *dest = fresh_dir("fid");
    make_tar(tar, PLAIN, e, ARRAY_SIZE(e));
    struct error *err = NULL;
    if (layer_unpack(tar, dest, LAYER_WHITEOUT_APPLY, &err) < 0)
        fail_msg("unpack: %s", err->msg);

    struct stat st;
    _cleanup_free_ char *dir = xasprintf("%s/dir", dest);
    assert_int_equal(lstat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(st.st_mtime, 1234567890);
    if (root) {
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_gid, 1001);
    }

    _cleanup_free_ char *file = xasprintf("%s/dir/file", dest);
    assert_int_equal(lstat(file, &st), 0);
    assert_int_equal(st.st_mode & 07777, root ? 04755 : 0755);
    assert_int_equal(st.st_mtime, 1111111111);
    assert_int_equal(st.st_nlink, 2);
    ino_t ino = st.st_ino;
    _cleanup_free_ char *content = read_text(file);
    assert_string_equal(content, "hello");
    char xv[16] = {0};
    ssize_t xl = getxattr(file, "user.berth", xv, sizeof(xv) - 1);
    if (xl < 0 && errno != ENOTSUP)
        fail_msg("xattr: %s", strerror(errno));
    if (xl >= 0)
        assert_string_equal(xv, "kept");

    _cleanup_free_ char *hard = xasprintf("%s/dir/hard", dest);
    assert_int_equal(lstat(hard, &st), 0);
    assert_int_equal(st.st_ino, ino);

    _cleanup_free_ char *link = xasprintf("%s/dir/link", dest);
    char target[64] = {0};
    assert_int_equal(readlink(link, target, sizeof(target) - 1), (ssize_t)strlen("../nowhere/x"));
    assert_string_equal(target, "../nowhere/x");

    _cleanup_free_ char *fifo = xasprintf("%s/dir/fifo", dest);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0640);

    if (root) {
        _cleanup_free_ char *null = xasprintf("%s/dir/null", dest);
        assert_int_equal(lstat(null, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(1, 3));
    }
    _cleanup_free_ char *implicit = xasprintf("%s/implicit/parent/f", dest);
    assert_int_equal(lstat(implicit, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    _cleanup_free_ char *f2 = xasprintf("%s/dir/file2", dest);
    _cleanup_free_ char *c2 = read_text(f2);
    assert_string_equal(c2, "second");
}

static void test_compression_and_diff_id(void **state)
{
    (void)state;
    const struct ent e[] = {{.name = "etc/", .mode = S_IFDIR | 0755},
                            {.name = "etc/hostname", .data = "berth\n"}};
    _cleanup_free_ char *plain = path_in("c.tar");
    make_tar(plain, PLAIN, e, ARRAY_SIZE(e));
    char want[DIGEST_STR_LEN + 1];
    struct error *err = NULL;
    assert_int_equal(sha256_file(plain, want, &err), 0);
    const int filters[] = {PLAIN, GZIP, ZSTD};
    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        _cleanup_free_ char *tar = xasprintf("%s/c-%zu.tar", tmp, i);
        make_tar(tar, filters[i], e, ARRAY_SIZE(e));
        char got[DIGEST_STR_LEN + 1];
        if (layer_verify(tar, got, &err) < 0)
            fail_msg("verify: %s", err->msg);
        /* libarchive writes the same uncompressed stream whatever the filter. */
        assert_string_equal(got, want);
        _cleanup_free_ char *dest = fresh_dir("c-dest");
        if (layer_unpack(tar, dest, LAYER_WHITEOUT_CHARDEV, &err) < 0)
            fail_msg("unpack: %s", err->msg);
        _cleanup_free_ char *f = xasprintf("%s/etc/hostname", dest);
        _cleanup_free_ char *c = read_text(f);
        assert_string_equal(c, "berth\n");
    }
    /* Not a tar at all. */
    _cleanup_free_ char *junk = path_in("junk");
    write_text(junk, "this is not a tar archive, not even close to one.................");
    char got[DIGEST_STR_LEN + 1];
    assert_true(layer_verify(junk, got, &err) < 0);
    error_free(&err);
}

static void rewrite(const char *path, long truncate_to, const char *append, long flip_from_end)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    if (flip_from_end > 0) {
        assert_int_equal(fseek(f, -flip_from_end, SEEK_END), 0);
        int c = fgetc(f);
        assert_int_equal(fseek(f, -flip_from_end, SEEK_END), 0);
        fputc(c ^ 0x5a, f);
    }
    if (append) {
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        fputs(append, f);
    }
    assert_int_equal(fclose(f), 0);
    if (truncate_to >= 0)
        assert_int_equal(truncate(path, truncate_to), 0);
}

/*
 * The blob is decompressed on a thread of its own (layer-stream.c): a
 * large layer passes whole through the pipe, and a stream that does not
 * decompress to its very end fails the unpack with the decoder's reason,
 * even when the tar itself ended before the damage.
 */
static void test_decoder_stream(void **state)
{
    (void)state;
    enum { BIG = 3 * 1024 * 1024 + 17 };
    char *big = malloc(BIG + 1);
    assert_non_null(big);
    uint32_t x = 7;
    for (size_t i = 0; i < BIG; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (char)('a' + (x >> 16) % 26);
    }
    big[BIG] = '\0';
    const struct ent e[] = {{.name = "big", .data = big}, {.name = "small", .data = "tail\n"}};
    _cleanup_free_ char *tar = path_in("s.tar.gz");
    make_tar(tar, GZIP, e, ARRAY_SIZE(e));
    struct error *err = NULL;
    _cleanup_free_ char *dest = fresh_dir("s-dest");
    if (layer_unpack(tar, dest, LAYER_WHITEOUT_CHARDEV, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    _cleanup_free_ char *f = xasprintf("%s/big", dest);
    _cleanup_free_ char *got = read_text(f);
    assert_int_equal(strlen(got), BIG);
    assert_memory_equal(got, big, BIG);

    struct stat st;
    assert_int_equal(stat(tar, &st), 0);
    struct {
        long truncate_to;
        const char *append;
        long flip_from_end;
        const char *want;
    } cases[] = {
        {-1, "trailing junk after the last member", 0, "gzip stream"},
        {-1, NULL, 8, "gzip stream: checksum mismatch"},
        {st.st_size / 2, NULL, 0, "gzip stream: truncated"},
        {st.st_size - 4, NULL, 0, "gzip stream: truncated"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *bad = xasprintf("%s/s-bad-%zu.tar.gz", tmp, i);
        make_tar(bad, GZIP, e + 1, 1);
        if (cases[i].truncate_to >= 0)
            make_tar(bad, GZIP, e, ARRAY_SIZE(e));
        rewrite(bad, cases[i].truncate_to, cases[i].append, cases[i].flip_from_end);
        _cleanup_free_ char *d = fresh_dir("s-bad-dest");
        assert_true(layer_unpack(bad, d, LAYER_WHITEOUT_CHARDEV, &err) < 0);
        if (!strstr(err->msg, cases[i].want))
            fail_msg("case %zu: error '%s', want '%s'", i, err->msg, cases[i].want);
        error_free(&err);
    }
    /* The reader refuses an entry while the decoder has megabytes to go:
     * the decoder is stopped, the entry's error is the one reported. */
    const struct ent hostile[] = {{.name = "../evil", .data = "x"}, {.name = "big", .data = big}};
    _cleanup_free_ char *ht = path_in("s-hostile.tar.gz");
    make_tar(ht, GZIP, hostile, ARRAY_SIZE(hostile));
    _cleanup_free_ char *hd = fresh_dir("s-hostile-dest");
    assert_true(layer_unpack(ht, hd, LAYER_WHITEOUT_CHARDEV, &err) < 0);
    if (!strstr(err->msg, "../evil"))
        fail_msg("error '%s'", err->msg);
    error_free(&err);
    free(big);
}

static void test_whiteout_chardev(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* mknod and trusted.* need root */
    const struct ent e[] = {{.name = "d/", .mode = S_IFDIR | 0755},
                            {.name = "d/.wh.gone"},
                            {.name = "o/", .mode = S_IFDIR | 0755},
                            {.name = "o/.wh..wh..opq"},
                            {.name = "o/new", .data = "n"},
                            {.name = "top/.wh..wh..opq"},
                            {.name = ".wh.rootfile"}};
    _cleanup_free_ char *tar = path_in("wc.tar");
    _cleanup_free_ char *dest = fresh_dir("wc");
    make_tar(tar, PLAIN, e, ARRAY_SIZE(e));
    struct error *err = NULL;
    if (layer_unpack(tar, dest, LAYER_WHITEOUT_CHARDEV, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    struct stat st;
    const char *whiteouts[] = {"d/gone", "rootfile"};
    for (size_t i = 0; i < ARRAY_SIZE(whiteouts); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dest, whiteouts[i]);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
    }
    _cleanup_free_ char *marker = xasprintf("%s/d/.wh.gone", dest);
    assert_false(path_exists(marker));
    const char *opaque[] = {"o", "top"};
    for (size_t i = 0; i < ARRAY_SIZE(opaque); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dest, opaque[i]);
        char v[4] = {0};
        assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
        assert_string_equal(v, "y");
        _cleanup_free_ char *m = xasprintf("%s/.wh..wh..opq", p);
        assert_false(path_exists(m));
    }
    _cleanup_free_ char *n = xasprintf("%s/o/new", dest);
    assert_true(path_exists(n));
}

static void test_whiteout_apply(void **state)
{
    (void)state;
    _cleanup_free_ char *dest = fresh_dir("wa");
    _cleanup_free_ char *outside = fresh_dir("wa-outside");
    /* The lower layer's content, as a snapshot driver's copy would hold it. */
    const char *dirs[] = {"d", "d/gone", "d/gone/sub", "o", "o/sub", "o/keep", "p"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dest, dirs[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    const char *files[] = {"d/keep",      "d/gone/sub/f", "o/old",          "o/sub/old2",
                           "o/keep/old3", "p/old",        "wa-outside-file"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", i == 6 ? outside : dest, files[i]);
        write_text(p, "lower");
    }
    /* Removal must not follow a symlink out of the layer. */
    _cleanup_free_ char *ln = xasprintf("%s/d/gone/out", dest);
    assert_int_equal(symlink(outside, ln), 0);
    _cleanup_free_ char *ln2 = xasprintf("%s/o/out", dest);
    assert_int_equal(symlink(outside, ln2), 0);

    const struct ent e[] = {
        {.name = "d/.wh.gone"},
        {.name = "d/.wh.missing"}, /* nothing below to hide: fine */
        {.name = "o/", .mode = S_IFDIR | 0755},
        {.name = "o/.wh..wh..opq"}, /* before this layer's entries, as docker writes it */
        {.name = "o/new", .data = "upper"},
        {.name = "o/keep/", .mode = S_IFDIR | 0755},
        {.name = "o/keep/new3", .data = "upper"},
        {.name = "p/new", .data = "upper"},
        {.name = "p/.wh..wh..opq"}, /* after them: this layer's p/new stays */
        {.name = "q/x", .data = "upper"},
        {.name = "q/.wh.x"}, /* same-layer content is not hidden by a whiteout */
    };
    _cleanup_free_ char *tar = path_in("wa.tar");
    make_tar(tar, PLAIN, e, ARRAY_SIZE(e));
    struct error *err = NULL;
    if (layer_unpack(tar, dest, LAYER_WHITEOUT_APPLY, &err) < 0)
        fail_msg("unpack: %s", err->msg);

    const char *present[] = {"d/keep", "o/new", "o/keep/new3", "p/new", "q/x"};
    const char *absent[] = {"d/gone",         "d/.wh.gone", "o/old", "o/sub",
                            "o/keep/old3",    "o/out",      "p/old", "o/.wh..wh..opq",
                            "p/.wh..wh..opq", "q/.wh.x"};
    for (size_t i = 0; i < ARRAY_SIZE(present); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dest, present[i]);
        if (!path_exists(p))
            fail_msg("'%s' should exist", present[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(absent); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dest, absent[i]);
        if (path_exists(p))
            fail_msg("'%s' should be gone", absent[i]);
    }
    _cleanup_free_ char *kept = xasprintf("%s/wa-outside-file", outside);
    assert_true(path_exists(kept));
}

static void test_replace_types(void **state)
{
    (void)state;
    _cleanup_free_ char *dest = fresh_dir("rep");
    const struct ent e1[] = {{.name = "a/", .mode = S_IFDIR | 0755},
                             {.name = "a/f", .data = "x"},
                             {.name = "b", .data = "file"}};
    const struct ent e2[] = {{.name = "a", .data = "now a file"},
                             {.name = "b/", .mode = S_IFDIR | 0700},
                             {.name = "b/c", .data = "y"}};
    _cleanup_free_ char *t1 = path_in("rep1.tar"), *t2 = path_in("rep2.tar");
    make_tar(t1, PLAIN, e1, ARRAY_SIZE(e1));
    make_tar(t2, GZIP, e2, ARRAY_SIZE(e2));
    struct error *err = NULL;
    assert_int_equal(layer_unpack(t1, dest, LAYER_WHITEOUT_APPLY, &err), 0);
    assert_int_equal(layer_unpack(t2, dest, LAYER_WHITEOUT_APPLY, &err), 0);
    _cleanup_free_ char *a = xasprintf("%s/a", dest), *bc = xasprintf("%s/b/c", dest);
    _cleanup_free_ char *ca = read_text(a);
    assert_string_equal(ca, "now a file");
    assert_true(path_exists(bc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_names),
        cmocka_unit_test(test_refuse_traversal),
        cmocka_unit_test(test_refuse_absolute),
        cmocka_unit_test(test_refuse_through_symlink),
        cmocka_unit_test(test_refuse_hardlink_out),
        cmocka_unit_test(test_refuse_hardlink_through_symlink),
        cmocka_unit_test(test_refuse_bad_whiteout),
        cmocka_unit_test(test_fidelity),
        cmocka_unit_test(test_compression_and_diff_id),
        cmocka_unit_test(test_decoder_stream),
        cmocka_unit_test(test_whiteout_chardev),
        cmocka_unit_test(test_whiteout_apply),
        cmocka_unit_test(test_replace_types),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
