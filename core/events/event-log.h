/*
 * The event journal: every lifecycle event the core routes, one JSON line
 * each in ROOT/events.jsonl, appended with a single O_APPEND write (lines
 * from concurrent berth processes never interleave). When the file passes
 * EVENT_LOG_MAX_BYTES it becomes events.jsonl.1 (replacing the previous
 * one), so the last 8 to 16 MB are kept. `berth events` reads both.
 *
 * A line: {"time": RFC 3339 in UTC with nanoseconds, "event", "phase"
 * ("pre"|"post"), "id", "name", "image",
 * "pid" (when known), "exit_status" (when known)}.
 */
#ifndef BERTH_EVENT_LOG_H
#define BERTH_EVENT_LOG_H

#include <stdint.h>

#define EVENT_LOG_FILE "events.jsonl"
#define EVENT_LOG_ROTATED "events.jsonl.1"
#define EVENT_LOG_MAX_BYTES (8 * 1024 * 1024)

struct event_record {
    const char *event; /* "create", "started", … */
    const char *phase; /* "pre" or "post" */
    const char *id, *name, *image;
    int pid;         /* 0: unknown */
    int exit_status; /* < 0: unknown */
};

/*
 * Appends EV to ROOT/events.jsonl. Returns 0 or a negative errno; the
 * caller logs and goes on (losing a record must not fail a container).
 */
int event_log_append(const char *root, const struct event_record *ev);

#endif
