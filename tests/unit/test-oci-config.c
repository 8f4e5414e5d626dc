/* Loading a bundle's config.json (runtime/oci-config.c): the ids it holds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/runtime-internal.h"
#include "util/error.h"

static int load(const char *gids, struct oci_config **ret, struct error **err)
{
    char dir[] = "/tmp/berth-oci-config.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":0,\"gid\":0,"
            "\"additionalGids\":%s},\"args\":[\"/bin/true\"],\"cwd\":\"/\"},"
            "\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
            gids);
    assert_int_equal(fclose(f), 0);
    int r = oci_config_load(dir, ret, err);
    unlink(path);
    rmdir(dir);
    return r;
}

static void additional_gids_in_range(void **state)
{
    (void)state;
    struct oci_config *cfg = NULL;
    struct error *err = NULL;
    assert_int_equal(load("[10,4294967294]", &cfg, &err), 0);
    assert_int_equal(cfg->n_additional_gids, 2);
    assert_int_equal(cfg->additional_gids[0], 10);
    assert_int_equal(cfg->additional_gids[1], 4294967294U);
    oci_config_free(cfg);
}

/* fuzz-oci-config: a gid past 2^32 was converted to unsigned int (undefined). */
static void additional_gids_out_of_range(void **state)
{
    (void)state;
    const char *bad[] = {"[19999999999999999999999999999999999990,20]", "[4294967295]", "[-1]",
                         "[\"5\"]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct oci_config *cfg = NULL;
        struct error *err = NULL;
        assert_true(load(bad[i], &cfg, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "additionalGids"));
        error_free(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(additional_gids_in_range),
        cmocka_unit_test(additional_gids_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
