#include "util/human-units.h"

#include <stdio.h>
#include <time.h>

long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void format_bytes(double bytes, char *buf, size_t len)
{
    if (bytes < 1e3)
        snprintf(buf, len, "%.0fB", bytes);
    else if (bytes < 1e6)
        snprintf(buf, len, "%.1fkB", bytes / 1e3);
    else if (bytes < 1e9)
        snprintf(buf, len, "%.1fMB", bytes / 1e6);
    else
        snprintf(buf, len, "%.2fGB", bytes / 1e9);
}
