/* Times as users give them to --since/--until, and RFC 3339 output. */
#ifndef BERTH_TIME_SPEC_H
#define BERTH_TIME_SPEC_H

#include <stddef.h>
#include <stdint.h>

/* Nanoseconds since the epoch (CLOCK_REALTIME). */
int64_t time_now_ns(void);
/*
 * A duration "10m", "1h30m", "45s", "1.5h", "500ms", "2d" -> nanoseconds.
 * Units: ns us ms s m h d. Returns 0, -EINVAL or -ERANGE.
 */
int parse_duration(const char *s, int64_t *ret_ns);
/*
 * A point in time, relative to NOW_NS for durations (as docker's --since):
 * RFC 3339 ("2026-11-28T19:20:22Z", with fraction and/or ±hh:mm offset;
 * "2026-11-28" alone is midnight UTC), unix seconds ("1732821622" or
 * "1732821622.5"), or a duration meaning that long before NOW_NS.
 */
int parse_time_spec(const char *s, int64_t now_ns, int64_t *ret_ns);
/* Now as "2026-11-28T19:20:22Z" (whole seconds, UTC), as image configs
 * write "created"; the caller frees it. */
char *rfc3339_now(void);
/* "2026-11-28T19:20:22.123456789Z" into BUF (at least 40 bytes). */
void format_rfc3339_nano(int64_t ns, char *buf, size_t len);

#endif
