/* Sizes and CPU counts as docker's --memory and --cpus accept them. */
#include "unit-parse.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

int parse_uint64(const char *s, uint64_t *ret)
{
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    uint64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (*s)
        return -EINVAL;
    *ret = v;
    return 0;
}

int parse_size(const char *s, int64_t *ret)
{
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    uint64_t v = 0;
    const char *p = s;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    static const struct {
        const char *suffix;
        unsigned shift;
    } units[] = {
        {"", 0},     {"b", 0},  {"k", 10},  {"kb", 10},  {"kib", 10}, {"m", 20},  {"mb", 20},
        {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},   {"tb", 40}, {"tib", 40},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(p, units[i].suffix))
            continue;
        if (v > (uint64_t)INT64_MAX >> units[i].shift)
            return -ERANGE;
        *ret = (int64_t)(v << units[i].shift);
        return 0;
    }
    return -EINVAL;
}

int parse_cpus(const char *s, int64_t *ret_millicpus)
{
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    int64_t whole = 0;
    const char *p = s;
    for (; isdigit((unsigned char)*p); p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 1000000)
            return -ERANGE;
    }
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        int digits = 0;
        for (; isdigit((unsigned char)*p); p++, digits++) {
            if (digits >= 3)
                return -EINVAL; /* finer than a thousandth is not representable */
            frac = frac * 10 + (*p - '0');
        }
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (*p)
        return -EINVAL;
    int64_t v = whole * 1000 + frac;
    if (v == 0)
        return -EINVAL;
    if (v > INT64_C(1000000) * 1000) /* "1000000.5" passes the loop's check on the whole part */
        return -ERANGE;
    *ret_millicpus = v;
    return 0;
}

int cpuset_list_valid(const char *s)
{
    if (!s || !*s)
        return -EINVAL;
    const char *p = s;
    for (;;) {
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        unsigned long a = 0, b;
        for (; isdigit((unsigned char)*p); p++)
            if ((a = a * 10 + (unsigned long)(*p - '0')) > 65535)
                return -EINVAL;
        if (*p == '-') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -EINVAL;
            b = 0;
            for (; isdigit((unsigned char)*p); p++)
                if ((b = b * 10 + (unsigned long)(*p - '0')) > 65535)
                    return -EINVAL;
            if (b < a)
                return -EINVAL;
        }
        if (*p == '\0')
            return 0;
        if (*p != ',')
            return -EINVAL;
        p++;
    }
}
