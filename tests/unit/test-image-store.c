/* Unit tests for core/image/image-store.c: import, load, resolve, remove, safety. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/image-store.h"
#include "image/layer-check.h"
#include "image/layer-unpack.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"

struct ent {
    const char *name;
    const char *data; /* NULL: a directory */
};

static char *tmp;

static char *path_in(const char *rel)
{
    return xasprintf("%s/%s", tmp, rel);
}

static void make_tar(const char *path, bool gzip, const struct ent *e, size_t n)
{
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (gzip)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_mode(ae, e[i].data ? (S_IFREG | 0644) : (S_IFDIR | 0755));
        archive_entry_set_mtime(ae, 1000000000, 0);
        size_t len = e[i].data ? strlen(e[i].data) : 0;
        archive_entry_set_size(ae, (la_int64_t)len);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (len)
            assert_int_equal(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
        archive_entry_free(ae);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

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

/* "relpath size\n" for everything below DIR, sorted, plus index.json's text. */
static void listing_rec(const char *dir, const char *rel, char **out)
{
    _cleanup_free_ char *p = rel[0] ? xasprintf("%s/%s", dir, rel) : strdup(dir);
    DIR *d = opendir(p);
    if (!d)
        return;
    struct dirent **names = NULL;
    int n = scandir(p, &names, NULL, alphasort);
    closedir(d);
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        if (strcmp(nm, ".") && strcmp(nm, "..") && strcmp(nm, "lock")) {
            _cleanup_free_ char *r = rel[0] ? xasprintf("%s/%s", rel, nm) : strdup(nm);
            _cleanup_free_ char *full = xasprintf("%s/%s", dir, r);
            struct stat st;
            assert_int_equal(lstat(full, &st), 0);
            char *o = xasprintf("%s%s %lld\n", *out, r, (long long)st.st_size);
            free(*out);
            *out = o;
            if (S_ISDIR(st.st_mode))
                listing_rec(dir, r, out);
        }
        free(names[i]);
    }
    free(names);
}

static char *listing(const char *dir)
{
    char *out = strdup("");
    listing_rec(dir, "", &out);
    _cleanup_free_ char *idx = xasprintf("%s/images/index.json", dir);
    char *text = NULL;
    struct error *err = NULL;
    if (read_file(idx, &text, NULL, &err) == 0) {
        char *o = xasprintf("%s%s", out, text);
        free(out);
        free(text);
        out = o;
    }
    error_free(&err);
    return out;
}

static struct image_store *open_store(const char *rel)
{
    _cleanup_free_ char *root = path_in(rel);
    struct image_store *s = NULL;
    struct error *err = NULL;
    if (image_store_open(root, &s, &err) < 0)
        fail_msg("open: %s", err->msg);
    return s;
}

static int setup(void **state)
{
    (void)state;
    tmp = strdup("/tmp/berth-test-images-XXXXXX");
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

/* ---- an OCI layout writer for the tests ---- */

struct blob {
    char digest[DIGEST_STR_LEN + 1];
    long long size;
};

static struct blob put_blob_file(const char *layout, const char *src)
{
    struct blob b;
    struct error *err = NULL;
    assert_int_equal(sha256_file(src, b.digest, &err), 0);
    struct stat st;
    assert_int_equal(stat(src, &st), 0);
    b.size = st.st_size;
    _cleanup_free_ char *dir = xasprintf("%s/blobs/sha256", layout);
    assert_int_equal(mkdir_p(dir, 0755, &err), 0);
    _cleanup_free_ char *dst = xasprintf("%s/%s", dir, b.digest + 7);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(read_file(src, &text, &len, &err), 0);
    assert_int_equal(write_file_atomic(dst, text, len, 0644, &err), 0);
    free(text);
    return b;
}

static struct blob put_blob_text(const char *layout, const char *text)
{
    _cleanup_free_ char *f = path_in("blob.tmp");
    write_text(f, text);
    return put_blob_file(layout, f);
}

/*
 * Writes an OCI layout at LAYOUT with one image named NAME made of the
 * given layer tars (gzip'ed or not). LAYER_MT overrides the media type and
 * BAD_DIFF the first diff_id, to build broken images.
 */
static void make_layout(const char *layout, const char *name, char **tars, size_t n,
                        const char *layer_mt, const char *bad_diff, char **ret_diffs)
{
    struct error *err = NULL;
    assert_int_equal(mkdir_p(layout, 0755, &err), 0);
    _cleanup_free_ char *ol = xasprintf("%s/oci-layout", layout);
    write_text(ol, "{\"imageLayoutVersion\":\"1.0.0\"}");
    _cleanup_free_ char *layers = strdup(""), *diffs = strdup("");
    for (size_t i = 0; i < n; i++) {
        struct blob b = put_blob_file(layout, tars[i]);
        char diff[DIGEST_STR_LEN + 1];
        /* A hostile layer does not verify; it is a plain tar, so hash it as is. */
        if (layer_verify(tars[i], diff, &err) < 0) {
            error_free(&err);
            assert_int_equal(sha256_file(tars[i], diff, &err), 0);
        }
        if (ret_diffs)
            ret_diffs[i] = strdup(diff);
        char *l = xasprintf(
            "%s%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}", layers, i ? "," : "",
            layer_mt ? layer_mt : "application/vnd.oci.image.layer.v1.tar+gzip", b.digest, b.size);
        char *d =
            xasprintf("%s%s\"%s\"", diffs, i ? "," : "", i == 0 && bad_diff ? bad_diff : diff);
        free(layers);
        free(diffs);
        layers = l;
        diffs = d;
    }
    _cleanup_free_ char *config = xasprintf(
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2020-01-02T03:04:05Z\","
        "\"config\":{\"Env\":[\"A=1\"],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/w\"},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
        diffs);
    struct blob cb = put_blob_text(layout, config);
    _cleanup_free_ char *manifest = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\","
        "\"size\":%lld},\"layers\":[%s]}",
        cb.digest, cb.size, layers);
    struct blob mb = put_blob_text(layout, manifest);
    _cleanup_free_ char *index =
        xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                  "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%lld,"
                  "\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
                  mb.digest, mb.size, name);
    _cleanup_free_ char *ip = xasprintf("%s/index.json", layout);
    write_text(ip, index);
}

/* Tars directory DIR (regular files and directories only) into FILE. */
static void tar_dir(const char *dir, const char *file)
{
    struct archive *disk = archive_read_disk_new();
    struct archive *w = archive_write_new();
    assert_int_equal(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(w, file), ARCHIVE_OK);
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(archive_read_disk_open(disk, "."), ARCHIVE_OK);
    struct archive_entry *ae = archive_entry_new();
    while (archive_read_next_header2(disk, ae) == ARCHIVE_OK) {
        archive_read_disk_descend(disk);
        assert_int_equal(archive_write_header(w, ae), ARCHIVE_OK);
        if (archive_entry_filetype(ae) == AE_IFREG) {
            char *text = NULL;
            size_t len = 0;
            struct error *err = NULL;
            assert_int_equal(read_file(archive_entry_sourcepath(ae), &text, &len, &err), 0);
            assert_int_equal(archive_write_data(w, text, len), (la_ssize_t)len);
            free(text);
        }
        archive_entry_clear(ae);
    }
    archive_entry_free(ae);
    assert_int_equal(chdir("/"), 0);
    archive_read_free(disk);
    assert_int_equal(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
}

/* ---- tests ---- */

static void test_ref_normalize(void **state)
{
    (void)state;
    const char *ok[][2] = {
        {"busybox", "busybox:latest"},
        {"busybox:1.36", "busybox:1.36"},
        {"library/busybox", "busybox:latest"},
        {"docker.io/library/busybox:1", "busybox:1"},
        {"index.docker.io/u/app", "u/app:latest"},
        {"127.0.0.1:5000/x", "127.0.0.1:5000/x:latest"},
        {"a__b--c", "a__b--c:latest"},
        {"localhost:5000/a/b", "localhost:5000/a/b:latest"},
        {"registry.example.com/x/y:v1.2-rc_3", "registry.example.com/x/y:v1.2-rc_3"},
        {"a_b.c-d", "a_b.c-d:latest"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        _cleanup_free_ char *n = image_ref_normalize(ok[i][0]);
        assert_non_null(n);
        assert_string_equal(n, ok[i][1]);
    }
    _cleanup_free_ char *dig = xasprintf("x@sha256:%064d", 0);
    _cleanup_free_ char *nd = image_ref_normalize(dig);
    assert_non_null(nd);
    assert_string_equal(nd, dig);
    const char *bad[] = {"",
                         "Busybox",
                         "a:",
                         ":t",
                         "a/",
                         "/a",
                         "a//b",
                         "a___b",
                         "a.-b",
                         "host:99999999/a",
                         "a:b@sha256:zz",
                         "a:b c",
                         "-a",
                         "a@sha256:12",
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_free_ char *n = image_ref_normalize(bad[i]);
        if (n)
            fail_msg("'%s' accepted as '%s'", bad[i], n);
    }
}

static void test_import_resolve(void **state)
{
    (void)state;
    struct image_store *s = open_store("imp");
    const struct ent e[] = {{"bin/", NULL}, {"bin/sh", "#!"}, {"etc/os-release", "ID=t\n"}};
    _cleanup_free_ char *tar = path_in("rootfs.tar.gz");
    make_tar(tar, true, e, ARRAY_SIZE(e));
    struct error *err = NULL;
    _cleanup_free_ char *id = NULL;
    if (image_store_import(s, tar, "test:1", &id, &err) < 0)
        fail_msg("import: %s", err->msg);
    assert_true(digest_is_valid(id));

    const char *refs[] = {"test:1", id, id + 7};
    for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
        struct image *img = NULL;
        if (image_store_resolve(s, refs[i], &img, &err) < 0)
            fail_msg("resolve '%s': %s", refs[i], err->msg);
        assert_string_equal(img->id, id);
        image_free(img);
    }
    _cleanup_free_ char *prefix = strndup(id + 7, 6);
    struct image *img = NULL;
    assert_int_equal(image_store_resolve(s, prefix, &img, &err), 0);
    assert_string_equal(img->names[0], "test:1");
    assert_null(img->names[1]);
    assert_int_equal(img->n_layers, 1);
    assert_string_equal(img->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    char diff[DIGEST_STR_LEN + 1];
    assert_int_equal(layer_verify(tar, diff, &err), 0);
    assert_string_equal(img->layers[0].diff_id, diff);
    assert_string_equal(img->layers[0].chain_id, diff);
    assert_true(path_exists(img->layers[0].blob_path));
    assert_string_equal(img->env[0],
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    assert_true(img->created > 1600000000);
    assert_non_null(strstr(img->config_json, "\"architecture\""));
    image_free(img);

    assert_true(image_store_resolve(s, "nope", &img, &err) < 0);
    assert_int_equal(err->errnum, ENOENT);
    assert_non_null(strstr(err->msg, "'nope'"));
    error_free(&err);
    assert_true(image_store_resolve(s, "test:2", &img, &err) < 0);
    error_free(&err);
    image_store_free(s);
}

static void test_refused_import_leaves_store(void **state)
{
    (void)state;
    struct image_store *s = open_store("refuse");
    const struct ent good[] = {{"f", "x"}};
    _cleanup_free_ char *gtar = path_in("good.tar");
    make_tar(gtar, false, good, 1);
    struct error *err = NULL;
    _cleanup_free_ char *id = NULL;
    assert_int_equal(image_store_import(s, gtar, "good", &id, &err), 0);
    _cleanup_free_ char *root = path_in("refuse");
    _cleanup_free_ char *before = listing(root);

    const struct ent evil[] = {{"ok", "x"}, {"../../x", "evil"}};
    _cleanup_free_ char *etar = path_in("evil.tar");
    make_tar(etar, false, evil, ARRAY_SIZE(evil));
    char *id2 = NULL;
    assert_true(image_store_import(s, etar, "evil", &id2, &err) < 0);
    assert_null(id2);
    assert_non_null(strstr(err->msg, "layer entry '../../x': path leaves the layer"));
    error_free(&err);
    /* Not a tar, and a missing file. */
    _cleanup_free_ char *junk = path_in("junk.tar");
    write_text(junk, "garbage garbage garbage garbage garbage garbage garbage garbage garbage");
    assert_true(image_store_import(s, junk, "junk", &id2, &err) < 0);
    error_free(&err);
    assert_true(image_store_import(s, "/nonexistent/x.tar", "junk", &id2, &err) < 0);
    error_free(&err);
    assert_true(image_store_import(s, gtar, "Bad Name", &id2, &err) < 0);
    error_free(&err);

    _cleanup_free_ char *after = listing(root);
    assert_string_equal(before, after);
    image_store_free(s);
}

static void test_retag_and_remove(void **state)
{
    (void)state;
    struct image_store *s = open_store("retag");
    const struct ent a[] = {{"a", "1"}}, b[] = {{"b", "2"}};
    _cleanup_free_ char *ta = path_in("a.tar"), *tb = path_in("b.tar");
    make_tar(ta, false, a, 1);
    make_tar(tb, false, b, 1);
    struct error *err = NULL;
    _cleanup_free_ char *ida = NULL, *idb = NULL;
    assert_int_equal(image_store_import(s, ta, "x", &ida, &err), 0);
    assert_int_equal(image_store_import(s, tb, "x", &idb, &err), 0);
    struct image *img = NULL;
    assert_int_equal(image_store_resolve(s, "x:latest", &img, &err), 0);
    assert_string_equal(img->id, idb);
    image_free(img);
    /* The old image keeps existing, unnamed. */
    assert_int_equal(image_store_resolve(s, ida, &img, &err), 0);
    assert_null(img->names[0]);
    image_free(img);

    struct image **list = NULL;
    size_t n = 0;
    assert_int_equal(image_store_list(s, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    image_list_free(list, n);

    struct image_layer *freed = NULL;
    size_t n_freed = 99;
    assert_int_equal(image_store_remove(s, "x", &freed, &n_freed, &err), 0);
    assert_int_equal(n_freed, 1); /* b's layer is used by nobody else */
    image_layers_free(freed, n_freed);
    assert_true(image_store_resolve(s, "x", &img, &err) < 0);
    error_free(&err);
    assert_int_equal(image_store_remove(s, ida, &freed, &n_freed, &err), 0);
    assert_int_equal(n_freed, 1);
    image_layers_free(freed, n_freed);

    /* Layouts have fixed digests: the same image under two names, and a
     * second image stacked on the same base layer. */
    const struct ent top[] = {{"t", "top"}};
    _cleanup_free_ char *tt = path_in("top.tar");
    make_tar(tt, false, top, 1);
    char *one[] = {ta}, *two[] = {ta, tt};
    _cleanup_free_ char *l1 = path_in("layout-m1"), *l2 = path_in("layout-m2");
    _cleanup_free_ char *l3 = path_in("layout-stacked");
    make_layout(l1, "m:1", one, 1, "application/vnd.oci.image.layer.v1.tar", NULL, NULL);
    make_layout(l2, "m:2", one, 1, "application/vnd.oci.image.layer.v1.tar", NULL, NULL);
    make_layout(l3, "stacked", two, 2, "application/vnd.oci.image.layer.v1.tar", NULL, NULL);
    const char *layouts[] = {l1, l2, l3};
    for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
        char **names = NULL;
        if (image_store_load(s, layouts[i], &names, &err) < 0)
            fail_msg("load: %s", err->msg);
        strvfreep(&names);
    }
    assert_int_equal(image_store_list(s, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    image_list_free(list, n);
    assert_int_equal(image_store_remove(s, "m:1", &freed, &n_freed, &err), 0);
    assert_int_equal(n_freed, 0); /* only untagged */
    image_layers_free(freed, n_freed);
    assert_int_equal(image_store_resolve(s, "m:2", &img, &err), 0);
    image_free(img);
    assert_int_equal(image_store_remove(s, "stacked", &freed, &n_freed, &err), 0);
    assert_int_equal(n_freed, 1); /* the base layer stays, m:2 uses it */
    image_layers_free(freed, n_freed);
    assert_int_equal(image_store_remove(s, "m:2", &freed, &n_freed, &err), 0);
    assert_int_equal(n_freed, 1);
    image_layers_free(freed, n_freed);
    assert_true(image_store_remove(s, "m:2", &freed, &n_freed, &err) < 0);
    error_free(&err);

    /* Everything is gone, blobs too. */
    _cleanup_free_ char *blobs = path_in("retag/images/blobs/sha256");
    DIR *d = opendir(blobs);
    assert_non_null(d);
    struct dirent *de;
    int count = 0;
    while ((de = readdir(d)))
        count += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(count, 0);
    image_store_free(s);
}

static void test_load_layout_multi_layer(void **state)
{
    (void)state;
    const struct ent l1[] = {
        {"a/", NULL}, {"a/file1", "1"}, {"a/file2", "2"}, {"b/", NULL}, {"b/f", "f"}};
    const struct ent l2[] = {
        {"a/.wh.file1", ""}, {"b/", NULL}, {"b/.wh..wh..opq", ""}, {"b/g", "g"}};
    _cleanup_free_ char *t1 = path_in("l1.tar.gz"), *t2 = path_in("l2.tar.gz");
    make_tar(t1, true, l1, ARRAY_SIZE(l1));
    make_tar(t2, true, l2, ARRAY_SIZE(l2));
    char *tars[] = {t1, t2};
    char *diffs[2] = {0};
    _cleanup_free_ char *layout = path_in("layout-multi");
    make_layout(layout, "multi:v1", tars, 2, NULL, NULL, diffs);

    struct image_store *s = open_store("load");
    struct error *err = NULL;
    char **names = NULL;
    if (image_store_load(s, layout, &names, &err) < 0)
        fail_msg("load: %s", err->msg);
    assert_string_equal(names[0], "multi:v1");
    assert_null(names[1]);
    strvfreep(&names);

    struct image *img = NULL;
    assert_int_equal(image_store_resolve(s, "multi:v1", &img, &err), 0);
    assert_int_equal(img->n_layers, 2);
    assert_string_equal(img->layers[0].diff_id, diffs[0]);
    assert_string_equal(img->layers[1].diff_id, diffs[1]);
    /* chain(L0) = diff0, chain(L1) = sha256(chain(L0) + " " + diff1). */
    assert_string_equal(img->layers[0].chain_id, diffs[0]);
    _cleanup_free_ char *text = xasprintf("%s %s", diffs[0], diffs[1]);
    char chain1[DIGEST_STR_LEN + 1];
    sha256_buffer(text, strlen(text), chain1);
    assert_string_equal(img->layers[1].chain_id, chain1);
    assert_string_equal(img->cmd[0], "/bin/sh");
    assert_string_equal(img->working_dir, "/w");
    assert_int_equal(img->created, 1577934245);

    char **chains = NULL;
    size_t n_chains = 0;
    assert_int_equal(image_store_all_chain_ids(s, &chains, &n_chains, &err), 0);
    assert_int_equal(n_chains, 2);
    strvfreep(&chains);

    /* Applied one over the other, the whiteouts hide the lower files. */
    _cleanup_free_ char *root = fresh_dir("rootfs-multi");
    for (size_t i = 0; i < img->n_layers; i++)
        if (layer_unpack(img->layers[i].blob_path, root, LAYER_WHITEOUT_APPLY, &err) < 0)
            fail_msg("unpack: %s", err->msg);
    const char *present[] = {"a/file2", "b/g"}, *absent[] = {"a/file1", "b/f", "a/.wh.file1"};
    for (size_t i = 0; i < ARRAY_SIZE(present); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", root, present[i]);
        assert_true(path_exists(p));
    }
    for (size_t i = 0; i < ARRAY_SIZE(absent); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", root, absent[i]);
        assert_false(path_exists(p));
    }
    image_free(img);

    /* Loading the same again is idempotent; as an OCI archive too. */
    _cleanup_free_ char *archive = path_in("multi.oci.tar");
    tar_dir(layout, archive);
    assert_int_equal(image_store_load(s, archive, &names, &err), 0);
    assert_string_equal(names[0], "multi:v1");
    strvfreep(&names);
    struct image **list = NULL;
    size_t n = 0;
    assert_int_equal(image_store_list(s, &list, &n, &err), 0);
    assert_int_equal(n, 1);
    image_list_free(list, n);
    _cleanup_free_ char *tmpdir = path_in("load/images/tmp");
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            fail_msg("temporary '%s' left", de->d_name);
    closedir(d);
    free(diffs[0]);
    free(diffs[1]);
    image_store_free(s);
}

static void expect_load_refused(struct image_store *s, const char *root, const char *layout,
                                const char *want)
{
    _cleanup_free_ char *before = listing(root);
    struct error *err = NULL;
    char **names = NULL;
    assert_true(image_store_load(s, layout, &names, &err) < 0);
    assert_null(names);
    if (!strstr(err->msg, want))
        fail_msg("error '%s' lacks '%s'", err->msg, want);
    error_free(&err);
    _cleanup_free_ char *after = listing(root);
    assert_string_equal(before, after);
}

static void test_load_refused(void **state)
{
    (void)state;
    struct image_store *s = open_store("badload");
    _cleanup_free_ char *root = path_in("badload");
    const struct ent l1[] = {{"f", "content"}};
    _cleanup_free_ char *t1 = path_in("bl1.tar");
    make_tar(t1, false, l1, 1);
    char *tars[] = {t1};

    /* A blob whose content does not match its name. */
    _cleanup_free_ char *bad = path_in("layout-baddigest");
    char *diffs[1] = {0};
    make_layout(bad, "bad:1", tars, 1, "application/vnd.oci.image.layer.v1.tar", NULL, diffs);
    _cleanup_free_ char *blob = xasprintf("%s/blobs/sha256/%s", bad, diffs[0] + 7);
    /* The plain layer's blob digest equals its diff_id: corrupt that blob. */
    FILE *f = fopen(blob, "r+");
    assert_non_null(f);
    fputc('X', f);
    fclose(f);
    expect_load_refused(s, root, bad, "content has digest");
    free(diffs[0]);

    /* diff_id disagreeing with the layer. */
    _cleanup_free_ char *baddiff = path_in("layout-baddiff");
    _cleanup_free_ char *wrong = xasprintf("sha256:%064d", 7);
    make_layout(baddiff, "bad:2", tars, 1, "application/vnd.oci.image.layer.v1.tar", wrong, NULL);
    expect_load_refused(s, root, baddiff, "config says");

    /* An unknown layer media type. */
    _cleanup_free_ char *badmt = path_in("layout-badmt");
    make_layout(badmt, "bad:3", tars, 1, "application/x-weird", NULL, NULL);
    expect_load_refused(s, root, badmt, "unsupported layer media type 'application/x-weird'");

    /* A hostile layer. */
    const struct ent evil[] = {{"../escape", "x"}};
    _cleanup_free_ char *te = path_in("evil-layer.tar");
    make_tar(te, false, evil, 1);
    char *etars[] = {te};
    _cleanup_free_ char *evl = path_in("layout-evil");
    make_layout(evl, "bad:4", etars, 1, "application/vnd.oci.image.layer.v1.tar", NULL, NULL);
    expect_load_refused(s, root, evl, "path leaves the layer");

    /* Malformed JSON, and no layout at all. */
    _cleanup_free_ char *mal = path_in("layout-malformed");
    make_layout(mal, "bad:5", tars, 1, NULL, NULL, NULL);
    _cleanup_free_ char *idx = xasprintf("%s/index.json", mal);
    write_text(idx, "{\"manifests\": [");
    expect_load_refused(s, root, mal, "malformed JSON");
    _cleanup_free_ char *empty = fresh_dir("layout-empty");
    expect_load_refused(s, root, empty, "not an OCI image layout");
    image_store_free(s);
}

/* The layer blob of the one-layer layout LAYOUT: digest and size. */
static struct blob layout_layer(const char *layout)
{
    _cleanup_free_ char *ip = xasprintf("%s/index.json", layout);
    char *text = NULL;
    struct error *err = NULL;
    assert_int_equal(read_file(ip, &text, NULL, &err), 0);
    const char *m = strstr(text, "sha256:");
    assert_non_null(m);
    _cleanup_free_ char *mp = xasprintf("%s/blobs/sha256/%.64s", layout, m + 7);
    free(text);
    assert_int_equal(read_file(mp, &text, NULL, &err), 0);
    const char *l = strstr(strstr(text, "\"layers\""), "sha256:");
    struct blob b;
    memcpy(b.digest, l, DIGEST_STR_LEN);
    b.digest[DIGEST_STR_LEN] = '\0';
    free(text);
    _cleanup_free_ char *bp = xasprintf("%s/blobs/sha256/%s", layout, b.digest + 7);
    struct stat st;
    assert_int_equal(stat(bp, &st), 0);
    b.size = st.st_size;
    return b;
}

/*
 * A pull's layout (image_store_load_owned): what the caller verified while
 * downloading is trusted, not read again; a layer the store does not know
 * is stored unchecked and its diff_id checked before its first unpack
 * (layer-check.h), where a lying config is refused.
 */
static void test_load_owned_verified(void **state)
{
    (void)state;
    struct image_store *s = open_store("owned");
    _cleanup_free_ char *root = path_in("owned");
    const struct ent l1[] = {{"f", "owned content"}};
    _cleanup_free_ char *t1 = path_in("ow1.tar.gz");
    make_tar(t1, true, l1, 1);
    char *tars[] = {t1};
    char truth[DIGEST_STR_LEN + 1];
    struct error *err = NULL;
    assert_int_equal(layer_verify(t1, truth, &err), 0);
    /* A diff_id the content does not have. */
    _cleanup_free_ char *claimed = xasprintf("sha256:%064d", 42);
    char **names = NULL;
    const char *dir = image_store_dir(s);

    /* A size that is not the file's: refused, the store as it was. */
    _cleanup_free_ char *before = listing(root);
    _cleanup_free_ char *lay2 = xasprintf("%s/images/pull-t2", root);
    make_layout(lay2, "own:2", tars, 1, NULL, claimed, NULL);
    struct blob b = layout_layer(lay2);
    struct image_verified_blob v = {.digest = b.digest, .size = b.size + 1};
    assert_true(image_store_load_owned(s, lay2, &v, 1, &names, &err) < 0);
    if (!strstr(err->msg, "verified as"))
        fail_msg("error '%s'", err->msg);
    error_free(&err);
    struct error *ignored = NULL;
    assert_int_equal(rm_rf(lay2, &ignored), 0);
    _cleanup_free_ char *after = listing(root);
    assert_string_equal(before, after);

    /* The lying config is stored without decompressing: the layer unchecked. */
    _cleanup_free_ char *lay3 = xasprintf("%s/images/pull-t3", root);
    make_layout(lay3, "own:3", tars, 1, NULL, claimed, NULL);
    v = (struct image_verified_blob){.digest = b.digest, .size = b.size};
    if (image_store_load_owned(s, lay3, &v, 1, &names, &err) < 0)
        fail_msg("load owned: %s", err->msg);
    assert_string_equal(names[0], "own:3");
    strvfreep(&names);
    struct image *img = NULL;
    assert_int_equal(image_store_resolve(s, "own:3", &img, &err), 0);
    assert_string_equal(img->layers[0].diff_id, claimed);
    /* The blob was moved into the store, not copied. */
    _cleanup_free_ char *moved = xasprintf("%s/blobs/sha256/%s", lay3, b.digest + 7);
    assert_false(path_exists(moved));
    assert_true(path_exists(img->layers[0].blob_path));
    assert_int_equal(layer_check_state(dir, b.digest, NULL, &err), LAYER_CHECK_UNCHECKED);

    /* A load of an image listing the same blob checks it: the record learns the truth. */
    _cleanup_free_ char *lay6 = xasprintf("%s/images/pull-t6", root);
    make_layout(lay6, "own:6", tars, 1, NULL, truth, NULL);
    if (image_store_load_owned(s, lay6, NULL, 0, &names, &err) < 0)
        fail_msg("load: %s", err->msg);
    strvfreep(&names);
    assert_int_equal(rm_rf(lay6, &ignored), 0);
    char known[DIGEST_STR_LEN + 1];
    assert_int_equal(layer_check_state(dir, b.digest, known, &err), LAYER_CHECK_KNOWN);
    assert_string_equal(known, truth);
    struct image_layer *freed6 = NULL;
    size_t n_freed6 = 0;
    assert_int_equal(image_store_remove(s, "own:6", &freed6, &n_freed6, &err), 0);
    image_layers_free(freed6, n_freed6);
    /* Back to unchecked, as a pull leaves it, for what follows. */
    _cleanup_free_ char *rec = xasprintf("%s/layer-check/%s", dir, b.digest + 7);
    assert_int_equal(write_file_atomic(rec, "unchecked\n", 10, 0600, &err), 0);

    /* Before its first unpack: decompressed, the lie refused, the truth recorded. */
    assert_true(layer_check_ensure(dir, img->layers[0].blob_path, b.digest, claimed, &err) < 0);
    if (!strstr(err->msg, "config says"))
        fail_msg("error '%s'", err->msg);
    error_free(&err);
    assert_int_equal(layer_check_state(dir, b.digest, known, &err), LAYER_CHECK_KNOWN);
    assert_string_equal(known, truth);
    assert_int_equal(layer_check_ensure(dir, img->layers[0].blob_path, b.digest, truth, &err), 0);
    image_free(img);

    /* A second pull claiming the lie again for the now known blob: refused at pull. */
    _cleanup_free_ char *lay5 = xasprintf("%s/images/pull-t5", root);
    make_layout(lay5, "own:5", tars, 1, NULL, claimed, NULL);
    assert_true(image_store_load_owned(s, lay5, &v, 1, &names, &err) < 0);
    if (!strstr(err->msg, "config says"))
        fail_msg("error '%s'", err->msg);
    error_free(&err);
    assert_int_equal(rm_rf(lay5, &ignored), 0);

    /* Without the caller's word the same layout is decompressed and refused. */
    _cleanup_free_ char *lay4 = xasprintf("%s/images/pull-t4", root);
    make_layout(lay4, "own:4", tars, 1, NULL, claimed, NULL);
    assert_true(image_store_load_owned(s, lay4, NULL, 0, &names, &err) < 0);
    if (!strstr(err->msg, "config says"))
        fail_msg("error '%s'", err->msg);
    error_free(&err);
    assert_int_equal(rm_rf(lay4, &ignored), 0);

    /* The blob's record leaves with the blob. */
    struct image_layer *freed = NULL;
    size_t n_freed = 0;
    assert_int_equal(image_store_remove(s, "own:3", &freed, &n_freed, &err), 0);
    image_layers_free(freed, n_freed);
    assert_false(path_exists(rec));
    image_store_free(s);
}

static void test_concurrent_imports(void **state)
{
    (void)state;
    struct image_store *s = open_store("conc");
    enum { N = 4 };
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        _cleanup_free_ char *data = xasprintf("content %d", i);
        const struct ent e[] = {{"f", data}, {"common", "same"}};
        _cleanup_free_ char *t = xasprintf("%s/conc-%d.tar", tmp, i);
        make_tar(t, i % 2 == 0, e, ARRAY_SIZE(e));
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            image_store_free(s); /* the parent's; freed so valgrind sees no leak */
            struct image_store *cs = open_store("conc");
            int ok = 1;
            for (int k = 0; k < 3 && ok; k++) {
                _cleanup_free_ char *name = xasprintf("c%d:%d", i, k);
                char *id = NULL;
                struct error *err = NULL;
                ok = image_store_import(cs, t, name, &id, &err) == 0;
                free(id);
                error_free(&err);
            }
            image_store_free(cs);
            _exit(ok ? 0 : 1);
        }
    }
    for (int i = 0; i < N; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    struct image **list = NULL;
    size_t n = 0;
    struct error *err = NULL;
    assert_int_equal(image_store_list(s, &list, &n, &err), 0);
    size_t named = 0;
    for (size_t i = 0; i < n; i++)
        for (char **nm = list[i]->names; *nm; nm++)
            named++;
    assert_int_equal(named, N * 3);
    image_list_free(list, n);
    image_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_normalize),
        cmocka_unit_test(test_import_resolve),
        cmocka_unit_test(test_refused_import_leaves_store),
        cmocka_unit_test(test_retag_and_remove),
        cmocka_unit_test(test_load_layout_multi_layer),
        cmocka_unit_test(test_load_refused),
        cmocka_unit_test(test_load_owned_verified),
        cmocka_unit_test(test_concurrent_imports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
