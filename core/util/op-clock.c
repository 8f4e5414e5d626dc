#include "util/op-clock.h"

#include <sys/resource.h>
#include <time.h>

static long long wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long cpu_now(void)
{
    /* The process clock has nanoseconds; rusage of children is all there is
     * for them. */
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec +
           (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

void op_clock_start(struct op_clock *c)
{
    c->wall_ns = wall_now();
    c->cpu_ns = cpu_now();
}

void op_clock_read(const struct op_clock *c, double *ret_wall_ms, double *ret_cpu_ms)
{
    *ret_wall_ms = (double)(wall_now() - c->wall_ns) / 1e6;
    *ret_cpu_ms = (double)(cpu_now() - c->cpu_ns) / 1e6;
}
