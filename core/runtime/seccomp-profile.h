/*
 * seccomp profiles in docker's JSON format (a superset of the OCI
 * runtime-spec's linux.seccomp): defaultAction, defaultErrnoRet,
 * architectures, archMap, syscalls[{names, action, errnoRet,
 * args[{index, value, valueTwo, op}], includes/excludes{caps, arches,
 * minKernel}}].
 *
 * The parser is a pure function of its input (no libseccomp, no system
 * calls beyond malloc) so that it can be fuzzed (tests/fuzz). Compiling a
 * profile into a filter is seccomp.c's job.
 */
#ifndef BERTH_SECCOMP_PROFILE_H
#define BERTH_SECCOMP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum seccomp_action {
    SECCOMP_ACTION_KILL_THREAD = 1, /* SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD */
    SECCOMP_ACTION_KILL_PROCESS,
    SECCOMP_ACTION_TRAP,
    SECCOMP_ACTION_ERRNO,
    SECCOMP_ACTION_TRACE,
    SECCOMP_ACTION_ALLOW,
    SECCOMP_ACTION_LOG,
};

enum seccomp_op {
    SECCOMP_OP_NE = 1,
    SECCOMP_OP_LT,
    SECCOMP_OP_LE,
    SECCOMP_OP_EQ,
    SECCOMP_OP_GE,
    SECCOMP_OP_GT,
    SECCOMP_OP_MASKED_EQ,
};

struct seccomp_arg {
    unsigned int index; /* 0..5 */
    uint64_t value;
    uint64_t value_two;
    enum seccomp_op op;
};

/* A docker "includes"/"excludes" filter: empty members match everything. */
struct seccomp_filter {
    char **caps;      /* "CAP_SYS_ADMIN"…, NULL-terminated or NULL */
    char **arches;    /* docker's names: "amd64", "x86", "arm64"… */
    char *min_kernel; /* "4.8", or NULL */
};

struct seccomp_rule {
    char **names; /* NULL-terminated, at least one */
    enum seccomp_action action;
    int has_errno; /* errnoRet given */
    unsigned int errno_ret;
    struct seccomp_arg *args;
    size_t n_args;
    struct seccomp_filter includes, excludes;
};

struct seccomp_arch_map {
    char *arch; /* "SCMP_ARCH_X86_64" */
    char **sub; /* NULL-terminated or NULL */
};

struct seccomp_profile {
    enum seccomp_action default_action;
    int has_default_errno;
    unsigned int default_errno;
    char **architectures; /* "SCMP_ARCH_X86_64"…, NULL-terminated or NULL */
    struct seccomp_arch_map *arch_map;
    size_t n_arch_map;
    struct seccomp_rule *rules;
    size_t n_rules;
};

/*
 * Parses JSON (NUL-terminated) into *RET (the caller frees it with
 * seccomp_profile_free). Refuses what is not valid JSON, an unknown action
 * or operator, an argument index above 5, an errno above 4095, a rule
 * without names. Syscall names are not checked here: that needs libseccomp
 * (seccomp_profile_check in seccomp.h).
 */
int seccomp_profile_parse(const char *json, struct seccomp_profile **ret, struct error **err);
void seccomp_profile_free(struct seccomp_profile *p);
#define _cleanup_seccomp_profile_ __attribute__((cleanup(seccomp_profile_freep)))
static inline void seccomp_profile_freep(struct seccomp_profile **p)
{
    seccomp_profile_free(*p);
}

/* "SCMP_ACT_ERRNO" … and back; NULL/0 when unknown. */
const char *seccomp_action_name(enum seccomp_action a);
const char *seccomp_op_name(enum seccomp_op op);

/* docker's default profile (moby profiles/seccomp/default.json), as JSON text. */
extern const char seccomp_default_profile_json[];

#endif
