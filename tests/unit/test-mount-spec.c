/* The mount spec parser: -v, --mount and --tmpfs, every form and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "volume/mount-spec.h"

typedef int (*parse_fn)(const char *, struct mount_spec *, struct error **);

/* Parses SPEC expecting success; the caller clears *M. */
static void ok(parse_fn parse, const char *spec, struct mount_spec *m)
{
    struct error *err = NULL;
    memset(m, 0, sizeof(*m));
    int r = parse(spec, m, &err);
    if (r < 0)
        fail_msg("'%s': %s", spec, err ? err->msg : "?");
    assert_null(err);
}

/* Parses SPEC expecting an error whose message contains WANT. */
static void bad(parse_fn parse, const char *spec, const char *want)
{
    struct error *err = NULL;
    struct mount_spec m;
    memset(&m, 0, sizeof(m));
    int r = parse(spec, &m, &err);
    if (r >= 0)
        fail_msg("'%s' was accepted", spec);
    assert_non_null(err);
    if (!strstr(err->msg, want))
        fail_msg("'%s': message '%s' lacks '%s'", spec, err->msg, want);
    assert_int_equal(err->exit_status, 125);
    assert_null(strchr(err->msg, '\n'));
    error_free(&err);
    assert_null(m.source);
    assert_null(m.target);
}

static void volume_forms(void **state)
{
    (void)state;
    struct mount_spec m;
    ok(mount_spec_parse_volume, "data:/srv", &m);
    assert_int_equal(m.kind, MOUNT_VOLUME);
    assert_string_equal(m.source, "data");
    assert_string_equal(m.target, "/srv");
    assert_false(m.read_only);
    assert_false(m.no_copy);
    mount_spec_clear(&m);

    ok(mount_spec_parse_volume, "my-vol.1:/srv//a/./b/:ro", &m);
    assert_string_equal(m.source, "my-vol.1");
    assert_string_equal(m.target, "/srv/a/b");
    assert_true(m.read_only);
    mount_spec_clear(&m);

    ok(mount_spec_parse_volume, "data:/srv:rw,nocopy,z", &m);
    assert_false(m.read_only);
    assert_true(m.no_copy);
    mount_spec_clear(&m);

    ok(mount_spec_parse_volume, "/host/dir:/mnt:ro", &m);
    assert_int_equal(m.kind, MOUNT_BIND);
    assert_string_equal(m.source, "/host/dir");
    assert_string_equal(m.target, "/mnt");
    assert_true(m.read_only);
    mount_spec_clear(&m);

    /* A target alone is an anonymous volume. */
    ok(mount_spec_parse_volume, "/cache", &m);
    assert_int_equal(m.kind, MOUNT_VOLUME);
    assert_null(m.source);
    assert_string_equal(m.target, "/cache");
    mount_spec_clear(&m);
}

static void volume_errors(void **state)
{
    (void)state;
    bad(mount_spec_parse_volume, "", "use NAME:/path");
    bad(mount_spec_parse_volume, "a:b:c:d", "use NAME:/path");
    bad(mount_spec_parse_volume, "relative", "not an absolute path");
    bad(mount_spec_parse_volume, ":/x", "empty source");
    bad(mount_spec_parse_volume, "data:rel", "mount target 'rel' is not an absolute path");
    bad(mount_spec_parse_volume, "data:/a/../b", "may not contain '..'");
    bad(mount_spec_parse_volume, "data:/..", "may not contain '..'");
    bad(mount_spec_parse_volume, "data:/", "cannot mount onto '/'");
    bad(mount_spec_parse_volume, "data:/./", "cannot mount onto '/'");
    bad(mount_spec_parse_volume, "rel/dir:/x", "bind source 'rel/dir' is not an absolute path");
    bad(mount_spec_parse_volume, "./dir:/x", "is not an absolute path");
    bad(mount_spec_parse_volume, "~/dir:/x", "is not an absolute path");
    bad(mount_spec_parse_volume, "bad$name:/x", "invalid volume name 'bad$name'");
    bad(mount_spec_parse_volume, "-x:/x", "invalid volume name");
    bad(mount_spec_parse_volume, "a..b:/x", "invalid volume name");
    bad(mount_spec_parse_volume, "data:/x:zz", "unknown option 'zz'");
    bad(mount_spec_parse_volume, "/h:/x:nocopy", "unknown option 'nocopy'");
}

static void mount_forms(void **state)
{
    (void)state;
    struct mount_spec m;
    ok(mount_spec_parse_mount, "type=volume,source=v,target=/d", &m);
    assert_int_equal(m.kind, MOUNT_VOLUME);
    assert_string_equal(m.source, "v");
    assert_string_equal(m.target, "/d");
    mount_spec_clear(&m);

    /* The type defaults to volume; no source is an anonymous one. */
    ok(mount_spec_parse_mount, "dst=/d,volume-nocopy", &m);
    assert_int_equal(m.kind, MOUNT_VOLUME);
    assert_null(m.source);
    assert_true(m.no_copy);
    mount_spec_clear(&m);

    ok(mount_spec_parse_mount, "type=bind,src=/h,destination=/d,readonly", &m);
    assert_int_equal(m.kind, MOUNT_BIND);
    assert_string_equal(m.source, "/h");
    assert_true(m.read_only);
    mount_spec_clear(&m);

    ok(mount_spec_parse_mount, "type=bind,source=/h,target=/d,ro=false", &m);
    assert_false(m.read_only);
    mount_spec_clear(&m);

    ok(mount_spec_parse_mount, "type=bind,source=/h,target=/d,readonly=true", &m);
    assert_true(m.read_only);
    mount_spec_clear(&m);

    ok(mount_spec_parse_mount, "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777", &m);
    assert_int_equal(m.kind, MOUNT_TMPFS);
    assert_null(m.source);
    assert_string_equal(m.options, "size=64m,mode=1777");
    mount_spec_clear(&m);
}

static void mount_errors(void **state)
{
    (void)state;
    bad(mount_spec_parse_mount, "type=foo,target=/x", "unknown type 'foo'");
    bad(mount_spec_parse_mount, "type=volume,source=v", "no target");
    bad(mount_spec_parse_mount, "type=bind,target=/x", "needs a source");
    bad(mount_spec_parse_mount, "type=bind,source=rel,target=/x", "not an absolute path");
    bad(mount_spec_parse_mount, "type=bind,source=/h,target=/x,volume-nocopy", "type=volume");
    bad(mount_spec_parse_mount, "type=volume,source=/h,target=/x", "use type=bind");
    bad(mount_spec_parse_mount, "type=volume,source=b/ad,target=/x", "not an absolute path");
    bad(mount_spec_parse_mount, "type=tmpfs,source=x,target=/x", "a tmpfs has no source");
    bad(mount_spec_parse_mount, "type=tmpfs,target=/x,tmpfs-size=big", "invalid tmpfs-size");
    bad(mount_spec_parse_mount, "type=tmpfs,target=/x,tmpfs-mode=999", "invalid tmpfs-mode");
    bad(mount_spec_parse_mount, "type=volume,target=/x,tmpfs-size=1m", "need type=tmpfs");
    bad(mount_spec_parse_mount, "type=volume,target=/x,colour=red", "unknown key 'colour'");
    bad(mount_spec_parse_mount, "type=volume,target=/x,readonly=maybe", "use true or false");
    bad(mount_spec_parse_mount, "type=volume,target=", "'target' needs a value");
    bad(mount_spec_parse_mount, "type=volume,target=/a/../b", "may not contain '..'");
    bad(mount_spec_parse_mount, "", "no target");
}

static void tmpfs_forms(void **state)
{
    (void)state;
    struct mount_spec m;
    ok(mount_spec_parse_tmpfs, "/run", &m);
    assert_int_equal(m.kind, MOUNT_TMPFS);
    assert_string_equal(m.target, "/run");
    assert_null(m.options);
    assert_false(m.read_only);
    mount_spec_clear(&m);

    ok(mount_spec_parse_tmpfs, "/run/:size=64m,mode=1777,noexec,ro,uid=1000", &m);
    assert_string_equal(m.target, "/run");
    assert_string_equal(m.options, "size=64m,mode=1777,noexec,uid=1000");
    assert_true(m.read_only);
    mount_spec_clear(&m);

    ok(mount_spec_parse_tmpfs, "/t:size=50%", &m);
    assert_string_equal(m.options, "size=50%");
    mount_spec_clear(&m);
}

static void tmpfs_errors(void **state)
{
    (void)state;
    bad(mount_spec_parse_tmpfs, "rel", "not an absolute path");
    bad(mount_spec_parse_tmpfs, "/", "cannot mount onto '/'");
    bad(mount_spec_parse_tmpfs, "/x:size=abc", "invalid tmpfs option 'size=abc'");
    bad(mount_spec_parse_tmpfs, "/x:mode=8", "invalid tmpfs option 'mode=8'");
    bad(mount_spec_parse_tmpfs, "/x:suid", "invalid tmpfs option 'suid'");
    bad(mount_spec_parse_tmpfs, "/x:dev", "invalid tmpfs option 'dev'");
    bad(mount_spec_parse_tmpfs, "/x:uid=root", "invalid tmpfs option");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(volume_forms), cmocka_unit_test(volume_errors),
        cmocka_unit_test(mount_forms),  cmocka_unit_test(mount_errors),
        cmocka_unit_test(tmpfs_forms),  cmocka_unit_test(tmpfs_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
