/* Unit tests for core/image/layer-pack.c: whiteout and xattr decisions, and
 * a packed tree's bytes (sorted, whiteouts converted, deterministic). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
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

#include "image/layer-pack.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"

static void test_node_decisions(void **state)
{
    (void)state;
    assert_int_equal(layer_pack_node(S_IFCHR, makedev(0, 0), LAYER_PACK_CHARDEV),
                     PACK_NODE_WHITEOUT);
    assert_int_equal(layer_pack_node(S_IFCHR, makedev(0, 0), LAYER_PACK_PLAIN), PACK_NODE_ENTRY);
    assert_int_equal(layer_pack_node(S_IFCHR, makedev(1, 3), LAYER_PACK_CHARDEV), PACK_NODE_ENTRY);
    assert_int_equal(layer_pack_node(S_IFBLK, makedev(0, 0), LAYER_PACK_CHARDEV), PACK_NODE_ENTRY);
    assert_int_equal(layer_pack_node(S_IFSOCK, 0, LAYER_PACK_CHARDEV), PACK_NODE_SKIP);
    assert_int_equal(layer_pack_node(S_IFREG, 0, LAYER_PACK_CHARDEV), PACK_NODE_ENTRY);
}

static void test_xattr_decisions(void **state)
{
    (void)state;
    const unsigned W = LAYER_PACK_CHARDEV;
    assert_int_equal(layer_pack_xattr("trusted.overlay.opaque", "y", 1, 1, W), PACK_XATTR_OPAQUE);
    assert_int_equal(layer_pack_xattr("user.overlay.opaque", "y", 1, 1, W), PACK_XATTR_OPAQUE);
    /* "x": may hold xwhiteouts, not opaque; on a file: meaningless. */
    assert_int_equal(layer_pack_xattr("trusted.overlay.opaque", "x", 1, 1, W), PACK_XATTR_DROP);
    assert_int_equal(layer_pack_xattr("trusted.overlay.opaque", "y", 1, 0, W), PACK_XATTR_DROP);
    assert_int_equal(layer_pack_xattr("trusted.overlay.origin", "\0", 1, 0, W), PACK_XATTR_DROP);
    assert_int_equal(layer_pack_xattr("trusted.overlay.redirect", "/a", 2, 1, W),
                     PACK_XATTR_REFUSE);
    assert_int_equal(layer_pack_xattr("trusted.overlay.metacopy", "", 0, 0, W), PACK_XATTR_REFUSE);
    assert_int_equal(layer_pack_xattr("user.test", "v", 1, 0, W), PACK_XATTR_KEEP);
    assert_int_equal(layer_pack_xattr("security.capability", "v", 1, 0, W), PACK_XATTR_KEEP);
    /* Plain mode converts nothing. */
    assert_int_equal(layer_pack_xattr("trusted.overlay.opaque", "y", 1, 1, LAYER_PACK_PLAIN),
                     PACK_XATTR_KEEP);
}

static char *make_tree(void)
{
    char tmpl[] = "/tmp/test-layer-pack.XXXXXX";
    char *d = strdup(mkdtemp(tmpl));
    _cleanup_free_ char *p = NULL;
    p = xasprintf("%s/b", d);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
    p = xasprintf("%s/b/gone", d);
    assert_int_equal(mknod(p, S_IFCHR | 0600, makedev(0, 0)), 0);
    free(p);
    p = xasprintf("%s/a", d);
    write_file_atomic(p, "x", 1, 0644, NULL);
    free(p);
    p = xasprintf("%s/o", d);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
    free(p);
    p = xasprintf("%s/a", d);
    _cleanup_free_ char *q = xasprintf("%s/hl", d);
    assert_int_equal(link(p, q), 0);
    return d;
}

static void test_pack_tree(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        skip(); /* mknod and trusted.* xattrs need root */
    }
    _cleanup_free_ char *d = make_tree();
    _cleanup_free_ char *t1 = xasprintf("%s.1.tar", d), *t2 = xasprintf("%s.2.tar", d);
    struct error *err = NULL;
    size_t n = 0;
    assert_int_equal(layer_pack(d, t1, LAYER_PACK_CHARDEV, NULL, &n, &err), 0);
    assert_int_equal(n, 6); /* a, b/, b/.wh.gone, hl, o/, o/.wh..wh..opq */
    assert_int_equal(layer_pack(d, t2, LAYER_PACK_CHARDEV, NULL, NULL, &err), 0);
    char h1[DIGEST_STR_LEN + 1], h2[DIGEST_STR_LEN + 1];
    assert_int_equal(sha256_file(t1, h1, &err), 0);
    assert_int_equal(sha256_file(t2, h2, &err), 0);
    assert_string_equal(h1, h2);
    /* An existing output is never overwritten. */
    assert_true(layer_pack(d, t1, LAYER_PACK_CHARDEV, NULL, NULL, &err) < 0);
    error_free(&err);
    _cleanup_free_ char *cmd = xasprintf("tar -tvf %s | awk '{print $1, $NF}' > %s.list", t2, d);
    assert_int_equal(system(cmd), 0);
    _cleanup_free_ char *list_path = xasprintf("%s.list", d);
    _cleanup_free_ char *list = NULL;
    size_t len;
    assert_int_equal(read_file(list_path, &list, &len, &err), 0);
    assert_string_equal(list, "-rw-r--r-- a\n"
                              "drwxr-xr-x b/\n"
                              "---------- b/.wh.gone\n"
                              "hrw-r--r-- a\n"
                              "drwxr-xr-x o/\n"
                              "---------- o/.wh..wh..opq\n");
    _cleanup_free_ char *rm = xasprintf("rm -rf %s %s.1.tar %s.2.tar %s.list", d, d, d, d);
    assert_int_equal(system(rm), 0);
}

/* A user namespace's host ids 200000.. as 0.., anything else as 65534. */
static uint32_t shift(const void *ctx, uint32_t id)
{
    (void)ctx;
    return id >= 200000 && id < 265536 ? id - 200000 : 65534;
}

static void test_pack_owners(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        skip(); /* chown needs root */
    }
    char tmpl[] = "/tmp/test-layer-pack-owners.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    static const struct {
        const char *name;
        uid_t uid;
        gid_t gid;
    } files[] = {{"root", 200000, 200000}, {"user", 201000, 200005}, {"host", 0, 5}};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", tmpl, files[i].name);
        write_file_atomic(p, "x", 1, 0644, NULL);
        assert_int_equal(chown(p, files[i].uid, files[i].gid), 0);
    }
    _cleanup_free_ char *t = xasprintf("%s.tar", tmpl), *l = xasprintf("%s.list", tmpl);
    const struct layer_pack_owners owners = {.uid = shift, .gid = shift};
    struct error *err = NULL;
    assert_int_equal(layer_pack(tmpl, t, LAYER_PACK_CHARDEV, &owners, NULL, &err), 0);
    _cleanup_free_ char *cmd =
        xasprintf("tar --numeric-owner -tvf %s | awk '{print $2, $NF}' > %s", t, l);
    assert_int_equal(system(cmd), 0);
    _cleanup_free_ char *list = NULL;
    assert_int_equal(read_file(l, &list, NULL, &err), 0);
    assert_string_equal(list, "65534/65534 host\n"
                              "0/0 root\n"
                              "1000/5 user\n");
    _cleanup_free_ char *rm = xasprintf("rm -rf %s %s %s", tmpl, t, l);
    assert_int_equal(system(rm), 0);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_xattr_owners(void **state)
{
    (void)state;
    const struct layer_pack_owners owners = {.uid = shift, .gid = shift};
    /* A capability set by the container's root (host 200000): revision 2 in the layer. */
    unsigned char cap[24];
    put32(cap, 0x03000001); /* revision 3, effective */
    put32(cap + 4, 0x2000); /* cap_net_bind_service */
    put32(cap + 8, 0);
    put32(cap + 12, 0);
    put32(cap + 16, 0);
    put32(cap + 20, 200000);
    assert_int_equal(layer_pack_xattr_owners("security.capability", cap, 24, &owners), 20);
    assert_int_equal(get32(cap), 0x02000001);
    assert_int_equal(get32(cap + 4), 0x2000);
    /* One for another root in the namespace keeps revision 3, with its container uid. */
    put32(cap, 0x03000001);
    put32(cap + 20, 201000);
    assert_int_equal(layer_pack_xattr_owners("security.capability", cap, 24, &owners), 24);
    assert_int_equal(get32(cap), 0x03000001);
    assert_int_equal(get32(cap + 20), 1000);
    /* Revision 2 (no uid) and no owners: untouched. */
    put32(cap, 0x02000001);
    assert_int_equal(layer_pack_xattr_owners("security.capability", cap, 20, &owners), 20);
    assert_int_equal(get32(cap), 0x02000001);
    put32(cap, 0x03000001);
    put32(cap + 20, 200000);
    assert_int_equal(layer_pack_xattr_owners("security.capability", cap, 24, NULL), 24);
    assert_int_equal(get32(cap + 20), 200000);

    /* An ACL: user::rw- user:201000:r-- group:200005:r-- mask::r-- other::---. */
    unsigned char acl[4 + 5 * 8];
    static const struct {
        unsigned tag, perm;
        uint32_t id;
    } e[] = {{0x01, 6, UINT32_MAX},
             {0x02, 4, 201000},
             {0x08, 4, 200005},
             {0x10, 4, UINT32_MAX},
             {0x20, 0, UINT32_MAX}};
    put32(acl, 2);
    for (size_t i = 0; i < 5; i++) {
        unsigned char *p = acl + 4 + 8 * i;
        p[0] = (unsigned char)e[i].tag;
        p[1] = 0;
        p[2] = (unsigned char)e[i].perm;
        p[3] = 0;
        put32(p + 4, e[i].id);
    }
    assert_int_equal(layer_pack_xattr_owners("system.posix_acl_access", acl, sizeof(acl), &owners),
                     sizeof(acl));
    assert_int_equal(get32(acl + 4 + 4), UINT32_MAX);
    assert_int_equal(get32(acl + 12 + 4), 1000);
    assert_int_equal(get32(acl + 20 + 4), 5);
    assert_int_equal(get32(acl + 28 + 4), UINT32_MAX);
    /* A value of another shape is left alone. */
    assert_int_equal(layer_pack_xattr_owners("system.posix_acl_default", acl, 11, &owners), 11);
    assert_int_equal(get32(acl + 12 + 4), 1000);
    assert_int_equal(layer_pack_xattr_owners("user.x", acl, sizeof(acl), &owners), sizeof(acl));
}

static void test_empty_tree(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/test-layer-pack-empty.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    _cleanup_free_ char *t = xasprintf("%s.tar", tmpl);
    struct error *err = NULL;
    assert_int_equal(layer_pack(tmpl, t, LAYER_PACK_CHARDEV, NULL, NULL, &err), 0);
    char h[DIGEST_STR_LEN + 1];
    assert_int_equal(sha256_file(t, h, &err), 0);
    /* The usual empty layer: 1024 zero bytes. */
    assert_string_equal(h,
                        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
    unlink(t);
    rmdir(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_decisions), cmocka_unit_test(test_xattr_decisions),
        cmocka_unit_test(test_pack_tree),      cmocka_unit_test(test_pack_owners),
        cmocka_unit_test(test_xattr_owners),   cmocka_unit_test(test_empty_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
