/* The router's rollback: undos run newest first, after a failure and after
 * the death of the process that wrote the journal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lifecycle/journal.h"
#include "util/fs-util.h"

struct seen {
    char order[64];
    int fail_on;
};

static int record_undo(void *ctx, const cJSON *entry, struct error **err)
{
    struct seen *s = ctx;
    int n = (int)cJSON_GetObjectItem(entry, "n")->valuedouble;
    size_t len = strlen(s->order);
    s->order[len] = (char)('0' + n);
    s->order[len + 1] = '\0';
    if (n == s->fail_on)
        return error_set(err, EIO, "undo %d failed", n);
    return 0;
}

static cJSON *entry(int n)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "n", n);
    return e;
}

static char *tmp_path(char *dir)
{
    strcpy(dir, "/tmp/berth-test-journal-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return xasprintf("%s/journal", dir);
}

static void rollback_runs_newest_first(void **state)
{
    (void)state;
    char dir[64];
    char *path = tmp_path(dir);
    struct journal *j = NULL;
    assert_int_equal(journal_open(path, &j, NULL), 0);
    for (int i = 1; i <= 4; i++) {
        cJSON *e = entry(i);
        assert_int_equal(journal_append(j, e, NULL), 0);
        cJSON_Delete(e);
    }
    struct seen s = {.fail_on = 3};
    /* A failing undo is counted and the others still run. */
    assert_int_equal(journal_rollback(j, record_undo, &s), 1);
    assert_string_equal(s.order, "4321");
    struct seen again = {.fail_on = 0};
    assert_int_equal(journal_rollback(j, record_undo, &again), 0);
    assert_string_equal(again.order, "");
    journal_close_remove(j);
    assert_false(path_exists(path));
    rm_rf(dir, NULL);
    free(path);
}

static void commit_forgets_steps(void **state)
{
    (void)state;
    char dir[64];
    char *path = tmp_path(dir);
    struct journal *j = NULL;
    assert_int_equal(journal_open(path, &j, NULL), 0);
    cJSON *e = entry(1);
    journal_append(j, e, NULL);
    cJSON_Delete(e);
    assert_int_equal(journal_commit(j, NULL), 0);
    e = entry(2);
    journal_append(j, e, NULL);
    cJSON_Delete(e);
    struct seen s = {0};
    journal_rollback(j, record_undo, &s);
    assert_string_equal(s.order, "2");
    journal_close_remove(j);
    rm_rf(dir, NULL);
    free(path);
}

static void recover_after_writer_died(void **state)
{
    (void)state;
    char dir[64];
    char *path = tmp_path(dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct journal *j = NULL;
        if (journal_open(path, &j, NULL) < 0)
            _exit(1);
        for (int i = 1; i <= 3; i++) {
            cJSON *e = entry(i);
            journal_append(j, e, NULL);
        }
        /* A torn last line, as a kill during write(2) could leave. */
        if (write(open(path, O_WRONLY | O_APPEND), "{\"n\":", 5) != 5)
            _exit(1);
        kill(getpid(), SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    struct seen s = {0};
    assert_int_equal(journal_recover(path, record_undo, &s), 0);
    assert_string_equal(s.order, "321");
    assert_false(path_exists(path));
    /* Nothing to recover is success. */
    assert_int_equal(journal_recover(path, record_undo, &s), 0);
    rm_rf(dir, NULL);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rollback_runs_newest_first),
        cmocka_unit_test(commit_forgets_steps),
        cmocka_unit_test(recover_after_writer_died),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
