/* The cost of an operation, wall clock and CPU (util/op-clock.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/op-clock.h"

static void spin_ms(double ms)
{
    struct op_clock c;
    op_clock_start(&c);
    double wall = 0, cpu = 0;
    while (cpu < ms)
        op_clock_read(&c, &wall, &cpu);
}

static void sleeping_costs_wall_not_cpu(void **state)
{
    (void)state;
    struct op_clock c;
    op_clock_start(&c);
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double wall, cpu;
    op_clock_read(&c, &wall, &cpu);
    assert_true(wall >= 30.0);
    assert_true(cpu >= 0.0 && cpu < 10.0);
}

static void spinning_costs_cpu(void **state)
{
    (void)state;
    struct op_clock c;
    op_clock_start(&c);
    spin_ms(20.0);
    double wall, cpu;
    op_clock_read(&c, &wall, &cpu);
    assert_true(cpu >= 20.0);
    assert_true(wall >= cpu * 0.9);
}

/* A plugin run in a child of its own costs what the child spent. */
static void waited_children_count(void **state)
{
    (void)state;
    struct op_clock c;
    op_clock_start(&c);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        spin_ms(40.0);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    double wall, cpu;
    op_clock_read(&c, &wall, &cpu);
    /* rusage of children has microseconds; the child spun 40 ms. */
    assert_true(cpu >= 39.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sleeping_costs_wall_not_cpu),
        cmocka_unit_test(spinning_costs_cpu),
        cmocka_unit_test(waited_children_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
