/*
 * The cost of one operation, wall clock and CPU, for --log-level debug: CPU
 * counts this process and the children it waited for in between (a plugin
 * run in a child of its own), not kernel work deferred to kernel threads.
 */
#ifndef BERTH_OP_CLOCK_H
#define BERTH_OP_CLOCK_H

struct op_clock {
    long long wall_ns;
    long long cpu_ns;
};

void op_clock_start(struct op_clock *c);
/* Milliseconds since op_clock_start. */
void op_clock_read(const struct op_clock *c, double *ret_wall_ms, double *ret_cpu_ms);

#endif
