/* Unit tests for core/image/layer-check.c: the records of pulled layers' diff_id checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/layer-check.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/sha256.h"

static char dir[] = "/tmp/berth-test-layer-check.XXXXXX";
/* An uncompressed layer blob: its diff_id is its own digest. */
static const char blob_text[] = "not really a tar, but a blob is hashed as it is";
static char blob[4096];
static char digest[DIGEST_STR_LEN + 1];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(blob, sizeof(blob), "%s/blob", dir);
    struct error *err = NULL;
    if (write_file_atomic(blob, blob_text, strlen(blob_text), 0600, &err) < 0)
        return -1;
    sha256_buffer(blob_text, strlen(blob_text), digest);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    struct error *err = NULL;
    rm_rf(dir, &err);
    error_free(&err);
    return 0;
}

static void put_record(const char *text)
{
    _cleanup_free_ char *d = xasprintf("%s/layer-check", dir);
    struct error *err = NULL;
    assert_int_equal(mkdir_p(d, 0700, &err), 0);
    _cleanup_free_ char *p = xasprintf("%s/%s", d, digest + 7);
    assert_int_equal(write_file_atomic(p, text, strlen(text), 0600, &err), 0);
}

static void test_states(void **state)
{
    (void)state;
    struct error *err = NULL;
    char got[DIGEST_STR_LEN + 1];
    char other[DIGEST_STR_LEN + 1];
    sha256_buffer("other", 5, other);

    /* No record: it came in checked. */
    layer_check_forget(dir, digest);
    assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_TRUSTED);
    assert_int_equal(layer_check_ensure(dir, blob, digest, other, &err), 0);

    /* A pull marks it; marking twice changes nothing. */
    assert_int_equal(layer_check_mark_unchecked(dir, digest, &err), 0);
    assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_UNCHECKED);
    assert_int_equal(layer_check_mark_unchecked(dir, digest, &err), 0);
    assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_UNCHECKED);

    /* A wrong claim: computed, refused, the truth recorded. */
    assert_true(layer_check_ensure(dir, blob, digest, other, &err) < 0);
    assert_non_null(strstr(err->msg, "config says"));
    error_free(&err);
    assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_KNOWN);
    assert_string_equal(got, digest);
    assert_int_equal(layer_check_ensure(dir, blob, digest, digest, &err), 0);

    /* A known blob stays known: a later pull does not mark it unchecked. */
    assert_int_equal(layer_check_mark_unchecked(dir, digest, &err), 0);
    assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_KNOWN);
    /* And the wrong claim is refused from the record, without the blob. */
    assert_true(layer_check_ensure(dir, "/nonexistent", digest, other, &err) < 0);
    assert_non_null(strstr(err->msg, "config says"));
    error_free(&err);

    layer_check_forget(dir, digest);
    assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_TRUSTED);
}

/* A record cut short or not ours is not trusted: the layer is checked again. */
static void test_damaged_record(void **state)
{
    (void)state;
    struct error *err = NULL;
    char got[DIGEST_STR_LEN + 1];
    const char *damaged[] = {"", "sha256:12", "unchecked", "sha256:XYZ\n", "hello\n"};
    for (size_t i = 0; i < sizeof(damaged) / sizeof(*damaged); i++) {
        put_record(damaged[i]);
        assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_UNCHECKED);
    }
    /* A blob that cannot be read is an error, and nothing is recorded. */
    assert_true(layer_check_ensure(dir, "/nonexistent", digest, digest, &err) < 0);
    error_free(&err);
    assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_UNCHECKED);
    assert_int_equal(layer_check_ensure(dir, blob, digest, digest, &err), 0);
    assert_int_equal(layer_check_state(dir, digest, got, &err), LAYER_CHECK_KNOWN);
    layer_check_forget(dir, digest);
}

static void test_invalid_digest(void **state)
{
    (void)state;
    struct error *err = NULL;
    assert_true(layer_check_state(dir, "sha256:../../etc", NULL, &err) < 0);
    error_free(&err);
    assert_true(layer_check_record(dir, digest, "md5:1", &err) < 0);
    error_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_damaged_record),
        cmocka_unit_test(test_invalid_digest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
