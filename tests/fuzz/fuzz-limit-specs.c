/*
 * The strings of limits, times and security flags: the first byte picks
 * the parser, the rest is the text (docs/fuzzing.md lists the selectors):
 *  0 sizes, 1 CPU counts, 2 integers, 3 cpuset lists, 4 durations,
 *  5 --since/--until times, 6 --log-opt, 7 --restart, 8 signals,
 *  9 --detach-keys, 10 run's resource flags (the next byte picks which),
 *  11 --cap-add/--cap-drop (','-separated), 12 --sysctl, 13 --ulimit,
 *  14 events --filter.
 * Nothing here writes; --ulimit only reads this process's limits.
 */
#include "cli/limit-options.h"
#include "events/event-filter.h"
#include "fuzz-util.h"
#include "monitor/monitor-options.h"
#include "runtime/security-opts.h"
#include "util/cleanup.h"
#include "util/time-spec.h"
#include "util/unit-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_caps(char *s, int add)
{
    char *names[17] = {0};
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok && n < 16;
         tok = strtok_r(NULL, ",", &save))
        names[n++] = tok;
    uint64_t set = security_default_caps;
    struct error *err = NULL;
    if (security_caps_apply(&set, names, add, &err) < 0)
        FUZZ_ASSERT(err && err->msg);
    error_free(&err);
}

static void fuzz_security(int which, char *s)
{
    struct error *err = NULL;
    if (which == 11) {
        fuzz_caps(s, s[0] & 1);
    } else if (which == 12) {
        char *key = NULL, *value = NULL;
        if (security_sysctl_parse(s, s[0] & 1, &key, &value, &err) == 0)
            FUZZ_ASSERT(key && value);
        free(key);
        free(value);
    } else {
        int res;
        uint64_t soft, hard;
        if (security_ulimit_parse(s, &res, &soft, &hard, &err) == 0)
            FUZZ_ASSERT(soft <= hard);
    }
    error_free(&err);
}

static void fuzz_monitor(int which, const char *s)
{
    if (which == 6) {
        struct log_options o;
        char msg[256];
        if (log_options_parse(s, &o, msg, sizeof(msg)) == 0)
            FUZZ_ASSERT(o.max_size >= 0 && o.max_file >= 1);
    } else if (which == 7) {
        struct restart_policy p;
        if (restart_policy_parse(s, &p) == 0)
            FUZZ_ASSERT(p.max_retries >= 0);
    } else if (which == 8) {
        int sig = signal_parse(s);
        FUZZ_ASSERT(sig == -EINVAL || sig > 0);
    } else {
        unsigned char keys[DETACH_KEYS_MAX];
        int len;
        if (detach_keys_parse(s, keys, &len) == 0)
            FUZZ_ASSERT(len >= 0 && len <= DETACH_KEYS_MAX);
    }
}

static void fuzz_units(int which, const char *s)
{
    int64_t v;
    uint64_t u;
    char buf[64];
    switch (which) {
    case 0:
        if (parse_size(s, &v) == 0)
            FUZZ_ASSERT(v >= 0);
        break;
    case 1:
        if (parse_cpus(s, &v) == 0)
            FUZZ_ASSERT(v > 0 && v <= 1000000000);
        break;
    case 2:
        (void)parse_uint64(s, &u);
        break;
    case 3:
        (void)cpuset_list_valid(s);
        break;
    case 4:
        if (parse_duration(s, &v) == 0)
            FUZZ_ASSERT(v >= 0);
        break;
    default:
        if (parse_time_spec(s, INT64_C(1764357622) * 1000000000, &v) == 0)
            format_rfc3339_nano(v, buf, sizeof(buf));
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int which = data[0] % 15;
    _cleanup_free_ char *s = fuzz_strndup(data + 1, size - 1);
    if (which <= 5) {
        fuzz_units(which, s);
    } else if (which <= 9) {
        fuzz_monitor(which, s);
    } else if (which == 10) {
        struct cgroup_limits l = {.memory_swap = 0, .pids_limit = 0};
        (void)limit_option_parse("run", (enum limit_option)(data[1] % (LIMIT_PIDS + 1)), s + 1, &l);
        free(l.cpuset_cpus);
    } else if (which <= 13) {
        fuzz_security(which, s);
    } else {
        struct event_filter f = {0};
        (void)event_filter_add(&f, s);
        event_filter_clear(&f);
    }
    return 0;
}
