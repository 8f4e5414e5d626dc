#include "monitor/monitor-options.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/unit-parse.h"

static int parse_int(const char *s, int *ret)
{
    if (!s || !*s)
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 1000000 || !isdigit((unsigned char)*s))
        return -EINVAL;
    *ret = (int)v;
    return 0;
}

int restart_policy_parse(const char *s, struct restart_policy *ret)
{
    struct restart_policy p = {RESTART_NO, 0};
    if (!s || !*s || !strcmp(s, "no"))
        ;
    else if (!strcmp(s, "always"))
        p.kind = RESTART_ALWAYS;
    else if (!strcmp(s, "unless-stopped"))
        p.kind = RESTART_UNLESS_STOPPED;
    else if (!strcmp(s, "on-failure"))
        p.kind = RESTART_ON_FAILURE;
    else if (!strncmp(s, "on-failure:", 11)) {
        p.kind = RESTART_ON_FAILURE;
        if (parse_int(s + 11, &p.max_retries) < 0)
            return -EINVAL;
    } else
        return -EINVAL;
    *ret = p;
    return 0;
}

int restart_policy_should_restart(const struct restart_policy *p, int exit_status, int restarts,
                                  int stopped_by_user)
{
    if (stopped_by_user)
        return 0;
    switch (p->kind) {
    case RESTART_NO:
        return 0;
    case RESTART_ON_FAILURE:
        return exit_status != 0 && (p->max_retries == 0 || restarts < p->max_retries);
    case RESTART_ALWAYS:
    case RESTART_UNLESS_STOPPED:
        return 1;
    }
    return 0;
}

int64_t restart_delay_ms(int attempt)
{
    int64_t d = RESTART_DELAY_FIRST_MS;
    for (int i = 0; i < attempt && d < RESTART_DELAY_MAX_MS; i++)
        d *= 2;
    return d > RESTART_DELAY_MAX_MS ? RESTART_DELAY_MAX_MS : d;
}

int log_options_parse(const char *s, struct log_options *ret, char *errbuf, size_t errlen)
{
    struct log_options o = {0, 1};
    int have_file = 0;
    if (!s || !*s) {
        *ret = o;
        return 0;
    }
    char *copy = strdup(s);
    if (!copy)
        abort();
    char *save = NULL;
    int r = 0;
    for (char *kv = strtok_r(copy, ",", &save); kv && r == 0; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(errbuf, errlen, "log option '%s': expected KEY=VALUE", kv);
            r = -EINVAL;
            break;
        }
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(kv, "max-size")) {
            int64_t n = 0;
            if (parse_size(v, &n) < 0 || n <= 0) {
                snprintf(errbuf, errlen, "log option max-size '%s': not a size like 10m", v);
                r = -EINVAL;
            }
            o.max_size = n;
        } else if (!strcmp(kv, "max-file")) {
            if (parse_int(v, &o.max_file) < 0 || o.max_file < 1) {
                snprintf(errbuf, errlen, "log option max-file '%s': not a number >= 1", v);
                r = -EINVAL;
            }
            have_file = 1;
        } else {
            snprintf(errbuf, errlen, "unknown log option '%s': use max-size or max-file", kv);
            r = -EINVAL;
        }
    }
    free(copy);
    if (r == 0 && have_file && o.max_file > 1 && o.max_size == 0) {
        snprintf(errbuf, errlen, "log option max-file needs max-size");
        r = -EINVAL;
    }
    if (r == 0)
        *ret = o;
    return r;
}

static const struct {
    const char *name;
    int num;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

int signal_parse(const char *s)
{
    if (!s || !*s)
        return -EINVAL;
    if (isdigit((unsigned char)*s)) {
        int n;
        if (parse_int(s, &n) < 0 || n < 1 || n > SIGRTMAX)
            return -EINVAL;
        return n;
    }
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        if (!strcasecmp(s, signals[i].name))
            return signals[i].num;
    return -EINVAL;
}

int detach_keys_parse(const char *s, unsigned char ret[DETACH_KEYS_MAX], int *ret_len)
{
    unsigned char keys[DETACH_KEYS_MAX];
    int n = 0;
    if (!s)
        return -EINVAL;
    if (!*s) {
        *ret_len = 0;
        return 0;
    }
    const char *p = s;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n >= DETACH_KEYS_MAX || len == 0)
            return -EINVAL;
        if (len == 1) {
            keys[n++] = (unsigned char)*p;
        } else if (len == 6 && !strncasecmp(p, "ctrl-", 5)) {
            unsigned char c = (unsigned char)p[5];
            if (c >= 'a' && c <= 'z')
                keys[n++] = (unsigned char)(c - 'a' + 1);
            else if (c >= 'A' && c <= 'Z')
                keys[n++] = (unsigned char)(c - 'A' + 1);
            else if (c == '@')
                keys[n++] = 0;
            else if (c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
                keys[n++] = (unsigned char)(c - '@');
            else
                return -EINVAL;
        } else {
            return -EINVAL;
        }
        p += len;
        if (*p == ',') {
            p++;
            if (!*p)
                return -EINVAL;
        }
    }
    memcpy(ret, keys, (size_t)n);
    *ret_len = n;
    return 0;
}
