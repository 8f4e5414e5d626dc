/*
 * Progress lines of `load` on a terminal: one per archive extraction and
 * per verified layer (bytes, time, speed), then a summary. Nothing when the
 * output is NULL (a pipe, or -q).
 */
#ifndef BERTH_LOAD_PROGRESS_H
#define BERTH_LOAD_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

struct load_progress {
    FILE *out; /* NULL: silent */
    long long start_ns;
    long long bytes;
    size_t layers;
};

/* CLOCK_MONOTONIC in nanoseconds. */
long long load_progress_now(void);
void load_progress_start(struct load_progress *p, FILE *out);
/* "HEX12: WHAT SIZE in T s (SPEED/s)" for DIGEST (or NAME) since SINCE_NS. */
void load_progress_step(struct load_progress *p, const char *what, const char *digest_or_name,
                        long long bytes, long long since_ns, int is_layer);
void load_progress_end(struct load_progress *p);

#endif
