/* flock-based lock files (util/lock.c): the probe crash recovery uses. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/lock.h"

static char dir[] = "/tmp/berth-test-lock.XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char path[sizeof(dir) + 32];
    snprintf(path, sizeof(path), "%s/a.lock", dir);
    unlink(path);
    return rmdir(dir);
}

static void probe_sees_a_live_owner_and_takes_a_dead_ones_lock(void **state)
{
    (void)state;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    /* A missing lock file is made and taken: nobody owns it. */
    int fd = try_lock_at(dfd, "a.lock");
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstatat(dfd, "a.lock", &st, 0), 0);

    /* Held here: another process's probe is refused. */
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int r = try_lock_at(dfd, "a.lock");
        char c = r == -EWOULDBLOCK ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(2);
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    int st_child;
    assert_int_equal(waitpid(pid, &st_child, 0), pid);

    /* The owner gone (its descriptor closed), the probe takes the lock. */
    unlock_fd(fd);
    fd = try_lock_at(dfd, "a.lock");
    assert_true(fd >= 0);
    unlock_fd(fd);

    assert_int_equal(try_lock_at(dfd, "no-such-dir/a.lock"), -ENOENT);
    close(ready[0]);
    close(ready[1]);
    close(dfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probe_sees_a_live_owner_and_takes_a_dead_ones_lock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
