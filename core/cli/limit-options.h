/* The resource flags of run and create: --memory, --cpus, … into cgroup_limits. */
#ifndef BERTH_LIMIT_OPTIONS_H
#define BERTH_LIMIT_OPTIONS_H

#include "runtime/cgroup.h"

enum limit_option {
    LIMIT_MEMORY,
    LIMIT_MEMORY_SWAP,
    LIMIT_CPUS,
    LIMIT_CPU_SHARES,
    LIMIT_CPUSET_CPUS,
    LIMIT_PIDS,
};

/* Sets WHICH from VALUE in L; returns 0, or 125 after printing one error line. */
int limit_option_parse(const char *verb, enum limit_option which, const char *value,
                       struct cgroup_limits *l);

#endif
