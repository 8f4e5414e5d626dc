/* Durations, RFC 3339 and unix times, for events and logs. */
#include "time-spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC INT64_C(1000000000)

int64_t time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int parse_duration(const char *s, int64_t *ret_ns)
{
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {
        /* Longest first: "ms" before "m". */
        {"ns", 1},
        {"us", 1000},
        {"ms", 1000000},
        {"s", NS_PER_SEC},
        {"m", 60 * NS_PER_SEC},
        {"h", 3600 * NS_PER_SEC},
        {"d", 86400 * NS_PER_SEC},
    };
    if (!s || !*s)
        return -EINVAL;
    double total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return -EINVAL;
        double whole = 0, scale = 1;
        int seen_digit = 0, seen_dot = 0;
        for (; isdigit((unsigned char)*p) || *p == '.'; p++) {
            if (*p == '.') {
                if (seen_dot)
                    return -EINVAL;
                seen_dot = 1;
                continue;
            }
            seen_digit = 1;
            if (seen_dot) {
                scale /= 10;
                whole += (*p - '0') * scale;
            } else {
                whole = whole * 10 + (*p - '0');
            }
        }
        if (!seen_digit)
            return -EINVAL;
        const char *unit = NULL;
        int64_t unit_ns = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !unit; i++) {
            size_t ul = strlen(units[i].unit);
            if (!strncmp(p, units[i].unit, ul) && !isalpha((unsigned char)p[ul])) {
                unit = units[i].unit;
                unit_ns = units[i].ns;
            }
        }
        if (!unit)
            return -EINVAL; /* a unit is required: "10" alone is ambiguous */
        total += whole * (double)unit_ns;
        p += strlen(unit);
        if (total > 9.0e18)
            return -ERANGE;
    }
    *ret_ns = (int64_t)total;
    return 0;
}

static int digits(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -EINVAL;
        v = v * 10 + (**p - '0');
    }
    *ret = v;
    return 0;
}

static int parse_rfc3339(const char *s, int64_t *ret_ns)
{
    const char *p = s;
    int year, mon, day, hour = 0, min = 0, sec = 0;
    if (digits(&p, 4, &year) || *p++ != '-' || digits(&p, 2, &mon) || *p++ != '-' ||
        digits(&p, 2, &day))
        return -EINVAL;
    int64_t frac_ns = 0, offset = 0;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -EINVAL;
        p++;
        if (digits(&p, 2, &hour) || *p++ != ':' || digits(&p, 2, &min))
            return -EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec))
                return -EINVAL;
        }
        if (*p == '.') {
            p++;
            int64_t scale = NS_PER_SEC / 10;
            if (!isdigit((unsigned char)*p))
                return -EINVAL;
            for (; isdigit((unsigned char)*p); p++, scale /= 10)
                frac_ns += (*p - '0') * scale;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
                return -EINVAL;
            offset = sign * ((int64_t)oh * 3600 + om * 60);
        } else if (*p) {
            return -EINVAL;
        }
        /* Without a zone the time is UTC here (docker takes local time; berth's are UTC). */
        if (*p)
            return -EINVAL;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -EINVAL;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    int64_t secs = (int64_t)t - offset;
    /* Nanoseconds since 1970 in an int64 span the years 1678 to 2262. */
    if (secs >= INT64_MAX / NS_PER_SEC || secs <= INT64_MIN / NS_PER_SEC)
        return -ERANGE;
    *ret_ns = secs * NS_PER_SEC + frac_ns;
    return 0;
}

int parse_time_spec(const char *s, int64_t now_ns, int64_t *ret_ns)
{
    if (!s || !*s)
        return -EINVAL;
    /* Unix seconds: digits, an optional fraction, nothing else. */
    const char *p = s;
    while (isdigit((unsigned char)*p))
        p++;
    if (p != s && (*p == '\0' || *p == '.')) {
        int64_t secs = 0, frac = 0;
        if (p - s > 12)
            return -ERANGE;
        for (const char *q = s; q < p; q++)
            secs = secs * 10 + (*q - '0');
        /* 12 digits overflow nanoseconds: the year 2262 is the limit. */
        if (secs >= INT64_MAX / NS_PER_SEC)
            return -ERANGE;
        if (*p == '.') {
            p++;
            int64_t scale = NS_PER_SEC / 10;
            if (!isdigit((unsigned char)*p))
                return -EINVAL;
            for (; isdigit((unsigned char)*p); p++, scale /= 10)
                frac += (*p - '0') * scale;
            if (*p)
                return -EINVAL;
        }
        *ret_ns = secs * NS_PER_SEC + frac;
        return 0;
    }
    if (strlen(s) >= 10 && s[4] == '-')
        return parse_rfc3339(s, ret_ns);
    int64_t d;
    int r = parse_duration(s, &d);
    if (r < 0)
        return r;
    *ret_ns = now_ns - d;
    return 0;
}

void format_rfc3339_nano(int64_t ns, char *buf, size_t len)
{
    time_t secs = (time_t)(ns / NS_PER_SEC);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char date[32];
    (void)strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%09lldZ", date, (long long)(ns % NS_PER_SEC));
}

char *rfc3339_now(void)
{
    time_t t = time(NULL);
    struct tm tm;
    char buf[64];
    gmtime_r(&t, &tm);
    (void)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(buf);
}
