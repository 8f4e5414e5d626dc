/* --memory 512m, --memory-swap -1, --cpus 1.5, --cpu-shares, --cpuset-cpus, --pids-limit. */
#include "cli/limit-options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/unit-parse.h"

int limit_option_parse(const char *verb, enum limit_option which, const char *v,
                       struct cgroup_limits *l)
{
    int64_t n;
    uint64_t u;
    switch (which) {
    case LIMIT_MEMORY:
        if (parse_size(v, &n) < 0 || n == 0)
            return cli_usage_error(verb, "--memory '%s': not a size (like 512m or 1g)", v);
        l->memory = n;
        return 0;
    case LIMIT_MEMORY_SWAP:
        if (!strcmp(v, "-1")) {
            l->memory_swap = -1;
            return 0;
        }
        if (parse_size(v, &n) < 0 || n == 0)
            return cli_usage_error(verb, "--memory-swap '%s': not a size or -1", v);
        l->memory_swap = n;
        return 0;
    case LIMIT_CPUS:
        if (parse_cpus(v, &n) < 0)
            return cli_usage_error(verb, "--cpus '%s': not a number of CPUs (like 1.5)", v);
        l->cpu_period = 100000;
        l->cpu_quota = n * 100; /* thousandths of a CPU × 100000 µs / 1000 */
        return 0;
    case LIMIT_CPU_SHARES:
        if (parse_uint64(v, &u) < 0 || u < 2 || u > 262144)
            return cli_usage_error(verb, "--cpu-shares '%s': a number from 2 to 262144", v);
        l->cpu_shares = u;
        return 0;
    case LIMIT_CPUSET_CPUS:
        if (cpuset_list_valid(v) < 0)
            return cli_usage_error(verb, "--cpuset-cpus '%s': not a CPU list (like 0-1,3)", v);
        free(l->cpuset_cpus);
        l->cpuset_cpus = strdup(v);
        return 0;
    case LIMIT_PIDS:
        if (!strcmp(v, "-1") || !strcmp(v, "0")) {
            l->pids_limit = -1; /* docker: 0 or -1 is unlimited */
            return 0;
        }
        if (parse_uint64(v, &u) < 0 || u > (uint64_t)INT64_MAX)
            return cli_usage_error(verb, "--pids-limit '%s': not a number", v);
        l->pids_limit = (int64_t)u;
        return 0;
    }
    return cli_usage_error(verb, "unknown limit");
}
