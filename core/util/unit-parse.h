/* Parsers of the units users type for limits: sizes ("512m") and CPU counts ("1.5"). */
#ifndef BERTH_UNIT_PARSE_H
#define BERTH_UNIT_PARSE_H

#include <stdint.h>

/*
 * "1024", "512k", "64m", "1g" (also "kb", "mb", "gb", "b", any case; binary
 * multiples, as docker) -> bytes in *RET. Returns 0, or -EINVAL for anything
 * else (empty, a sign, a fraction, an unknown suffix), -ERANGE on overflow.
 */
int parse_size(const char *s, int64_t *ret);
/*
 * A CPU count with up to 3 decimals ("2", "0.5", "1.25") -> thousandths of a
 * CPU in *RET (1500 for "1.5"). -EINVAL for anything else or 0, -ERANGE if
 * above 1000000 CPUs.
 */
int parse_cpus(const char *s, int64_t *ret_millicpus);
/* A plain non-negative decimal integer; -EINVAL or -ERANGE. */
int parse_uint64(const char *s, uint64_t *ret);
/* "0-3,5,7-8": a cpuset list; returns 0 or -EINVAL. */
int cpuset_list_valid(const char *s);

#endif
