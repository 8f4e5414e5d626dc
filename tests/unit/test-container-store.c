/* The state store: atomic records, unique names under concurrency, corrupt
 * records reported by name while the rest stay usable. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/container-store.h"
#include "util/fs-util.h"

struct fixture {
    char dir[64];
    struct container_store *store;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/berth-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(container_store_open(f->dir, &f->store, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    container_store_free(f->store);
    rm_rf(f->dir, NULL);
    free(f);
    return 0;
}

static cJSON *new_record(char *id, const char *name)
{
    container_new_id(id);
    cJSON *rec = cJSON_CreateObject();
    rec_set_str(rec, "id", id);
    rec_set_str(rec, "name", name);
    rec_set_int(rec, "created", 1);
    return rec;
}

static void save_load_find(void **state)
{
    struct fixture *f = *state;
    char id[CONTAINER_ID_LEN + 1];
    cJSON *rec = new_record(id, "web");
    assert_int_equal(container_store_reserve_name(f->store, "web", id, NULL), 0);
    assert_int_equal(container_store_save(f->store, rec, NULL), 0);
    cJSON *got = NULL;
    assert_int_equal(container_store_find(f->store, "web", &got, NULL), 0);
    assert_string_equal(rec_str(got, "id"), id);
    cJSON_Delete(got);
    char prefix[8];
    snprintf(prefix, sizeof(prefix), "%.6s", id);
    assert_int_equal(container_store_find(f->store, prefix, &got, NULL), 0);
    cJSON_Delete(got);
    struct error *err = NULL;
    assert_int_equal(container_store_find(f->store, "nope", &got, &err), -ENOENT);
    assert_string_equal(err->msg, "no such container 'nope'");
    error_free(&err);
    /* No temporary file is left beside the record. */
    char *tmp = xasprintf("%s/containers/%s.json.tmp.%d", f->dir, id, (int)getpid());
    assert_false(path_exists(tmp));
    free(tmp);
    assert_int_equal(container_store_delete(f->store, id, NULL), 0);
    container_store_release_name(f->store, "web", id);
    assert_int_equal(container_store_reserve_name(f->store, "web", "other", NULL), 0);
    cJSON_Delete(rec);
}

static void name_taken_and_invalid(void **state)
{
    struct fixture *f = *state;
    struct error *err = NULL;
    assert_int_equal(container_store_reserve_name(f->store, "db", "a", NULL), 0);
    assert_int_equal(container_store_reserve_name(f->store, "db", "b", &err), -EEXIST);
    assert_string_equal(err->msg, "name 'db' is already in use");
    error_free(&err);
    /* Only the owner can release a name. */
    container_store_release_name(f->store, "db", "b");
    assert_int_equal(container_store_reserve_name(f->store, "db", "c", NULL), -EEXIST);
    assert_int_equal(container_store_reserve_name(f->store, "../x", "a", &err), -EINVAL);
    error_free(&err);
    assert_false(container_name_is_valid("-x"));
    assert_false(container_name_is_valid(""));
    assert_true(container_name_is_valid("a.b_c-1"));
}

static void concurrent_reservations_are_unique(void **state)
{
    struct fixture *f = *state;
    enum { N = 20 };
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char id[CONTAINER_ID_LEN + 1];
            cJSON *rec = new_record(id, "same");
            int won = container_store_reserve_name(f->store, "same", id, NULL) == 0;
            if (container_store_save(f->store, rec, NULL) < 0)
                _exit(2);
            _exit(won ? 0 : 1);
        }
    }
    int winners = 0;
    for (int i = 0; i < N; i++) {
        int status = 0;
        waitpid(pids[i], &status, 0);
        assert_true(WIFEXITED(status));
        assert_true(WEXITSTATUS(status) <= 1);
        winners += WEXITSTATUS(status) == 0;
    }
    assert_int_equal(winners, 1);
    cJSON *all = NULL;
    assert_int_equal(container_store_list(f->store, &all, NULL), 0);
    assert_int_equal(cJSON_GetArraySize(all), N);
    cJSON_Delete(all);
}

static void corrupt_record_is_skipped_by_list(void **state)
{
    struct fixture *f = *state;
    char id[CONTAINER_ID_LEN + 1];
    cJSON *rec = new_record(id, "ok");
    container_store_save(f->store, rec, NULL);
    cJSON_Delete(rec);
    char bad[CONTAINER_ID_LEN + 1];
    container_new_id(bad);
    char *path = xasprintf("%s/containers/%s.json", f->dir, bad);
    write_file_atomic(path, "{\"id\": tru", 10, 0600, NULL);
    free(path);
    cJSON *all = NULL;
    assert_int_equal(container_store_list(f->store, &all, NULL), 0);
    assert_int_equal(cJSON_GetArraySize(all), 1);
    cJSON_Delete(all);
    struct error *err = NULL;
    cJSON *got = NULL;
    assert_int_equal(container_store_load(f->store, bad, &got, &err), -EBADMSG);
    assert_non_null(strstr(err->msg, bad));
    assert_non_null(strstr(err->msg, "corrupt"));
    error_free(&err);
    char **ids = NULL;
    size_t n = 0;
    assert_int_equal(container_store_ids(f->store, &ids, &n, NULL), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(save_load_find, setup, teardown),
        cmocka_unit_test_setup_teardown(name_taken_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_reservations_are_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_record_is_skipped_by_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
