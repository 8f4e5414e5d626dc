/* Clocks and sizes as the progress lines and deadlines of the core use them. */
#ifndef BERTH_HUMAN_UNITS_H
#define BERTH_HUMAN_UNITS_H

#include <stddef.h>

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and rates, never for dates. */
long long monotonic_ms(void);
/* BYTES as docker prints sizes in progress lines: "512B", "3.4kB", "12.5MB", "1.02GB". */
void format_bytes(double bytes, char *buf, size_t len);

#endif
