/*
 * What a detached container's monitor is told at create time, as the user
 * types it: --restart, --log-opt, --stop-signal, --detach-keys. Pure parsing
 * and the restart back-off arithmetic; no I/O.
 */
#ifndef BERTH_MONITOR_OPTIONS_H
#define BERTH_MONITOR_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

enum restart_kind {
    RESTART_NO,
    RESTART_ON_FAILURE,
    RESTART_ALWAYS,
    RESTART_UNLESS_STOPPED,
};

struct restart_policy {
    enum restart_kind kind;
    int max_retries; /* on-failure:N; 0 = unlimited */
};

/* "no", "on-failure", "on-failure:N" (N >= 0), "always", "unless-stopped";
 * NULL or "" is "no". Returns 0 or -EINVAL. */
int restart_policy_parse(const char *s, struct restart_policy *ret);

/*
 * Whether the monitor restarts a container that exited with EXIT_STATUS
 * after RESTARTS restarts so far. A container the user stopped (stop, kill
 * through rm -f) is never restarted, as docker does.
 */
int restart_policy_should_restart(const struct restart_policy *p, int exit_status, int restarts,
                                  int stopped_by_user);

/* The first back-off, its cap, and how long a run must last to reset it. */
#define RESTART_DELAY_FIRST_MS 100
#define RESTART_DELAY_MAX_MS 60000
#define RESTART_RESET_AFTER_MS 10000

/* Delay before restart number ATTEMPT (0-based): 100 ms doubling, capped. */
int64_t restart_delay_ms(int attempt);

/* Default json-file rotation: no limit (docker's default). */
struct log_options {
    int64_t max_size; /* bytes per file; 0 = unlimited */
    int max_file;     /* files kept, current one included; >= 1 */
};

/* "max-size=10m,max-file=3" (either, any order; repeated --log-opt are
 * joined with ','). Sizes as parse_size ("10m", "512k", "1g"). max-file
 * without max-size is refused, as docker does. Returns 0 or -EINVAL with a
 * message in ERRBUF. */
int log_options_parse(const char *s, struct log_options *ret, char *errbuf, size_t errlen);

/* Signal names: "SIGTERM", "TERM", "term", "15". Returns the number or -EINVAL. */
int signal_parse(const char *s);

/* At most this many bytes in a detach sequence. */
#define DETACH_KEYS_MAX 8

/* Docker's --detach-keys: "ctrl-p,ctrl-q", letters, "ctrl-@", "ctrl-[" …
 * Writes the byte sequence to RET, its length to *RET_LEN. "" disables the
 * sequence (*RET_LEN = 0). Returns 0 or -EINVAL. */
int detach_keys_parse(const char *s, unsigned char ret[DETACH_KEYS_MAX], int *ret_len);

#endif
