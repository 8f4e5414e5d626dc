/*
 * A container's log in docker's json-file format: one JSON object per line,
 * {"log":"…","stream":"stdout"|"stderr","time":"RFC 3339 with nanoseconds"},
 * each line of output its own entry (a chunk that ends without a newline is
 * an entry of its own, so the bytes read back are exactly the bytes
 * written). Rotation: when the file would pass max-size it becomes PATH.1
 * (PATH.1 becomes PATH.2, …, up to max-file files in all).
 */
#ifndef BERTH_JSON_LOG_H
#define BERTH_JSON_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/monitor-options.h"
#include "util/error.h"

struct json_log;

/* Opens PATH for appending (creating it 0640). */
int json_log_open(const char *path, const struct log_options *o, struct json_log **ret,
                  struct error **err);
/* Appends DATA (LEN bytes) read from STREAM ("stdout"/"stderr"), stamped now. */
int json_log_write(struct json_log *l, const char *stream, const char *data, size_t len,
                   struct error **err);
void json_log_close(struct json_log *l);

/* NS since the epoch as "2026-11-28T19:20:22.123456789Z" (UTC). */
void json_log_format_time(int64_t ns, char out[32]);
/* Encodes one entry (without the newline) into a malloc'd string. */
char *json_log_encode(const char *stream, const char *data, size_t len, const char *time,
                      size_t *ret_len);

struct log_entry {
    int stream;      /* 1 stdout, 2 stderr */
    int64_t time_ns; /* since the epoch */
    char time[48];   /* as written */
    char *data;      /* decoded bytes, malloc'd, owned by the entry */
    size_t len;
};

/* Parses one line (without its newline). Returns 0 or -EINVAL. */
int json_log_parse_line(const char *line, size_t len, struct log_entry *ret);
void log_entry_clear(struct log_entry *e);

struct log_read_options {
    int64_t since_ns; /* 0: from the start */
    long tail;        /* -1: all */
    int follow;
    /* With FOLLOW: called between polls; reading ends once it returns 0
     * and the file has nothing more. */
    int (*alive)(void *ctx);
    void *ctx;
};

/* Calls FN for every entry of PATH's files (rotated ones first), then, with
 * FOLLOW, for new ones until ALIVE says the writer is gone. */
int json_log_read(const char *path, const struct log_read_options *o,
                  int (*fn)(void *ctx, const struct log_entry *e), void *fn_ctx,
                  struct error **err);

#endif
