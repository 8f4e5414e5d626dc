/*
 * The security flags of run/create (--cap-add, --cap-drop, --privileged,
 * --security-opt, --device, --sysctl, --ulimit) collected into a
 * security_request (runtime/security-opts.h), which the lifecycle validates
 * before making anything.
 */
#ifndef BERTH_CLI_SECURITY_OPTS_H
#define BERTH_CLI_SECURITY_OPTS_H

#include "runtime/security-opts.h"

/* In the order of cmd-run.c's OPT_CAP_ADD… ids. */
enum security_flag {
    SECURITY_FLAG_CAP_ADD,
    SECURITY_FLAG_CAP_DROP,
    SECURITY_FLAG_PRIVILEGED,
    SECURITY_FLAG_SECURITY_OPT,
    SECURITY_FLAG_DEVICE,
    SECURITY_FLAG_SYSCTL,
    SECURITY_FLAG_ULIMIT,
    SECURITY_FLAG_USERNS,
    SECURITY_FLAG_UIDMAP,
    SECURITY_FLAG_GIDMAP,
};

struct security_flags {
    struct security_request req;
    size_t n[SECURITY_FLAG_GIDMAP + 1];
    char **userns; /* every --userns; the last one counts */
};

/* Records one flag (VALUE is NULL for --privileged). */
void security_flags_add(struct security_flags *f, enum security_flag flag, const char *value);
/* The request, with --network's value taken into account; NULL if no flag was given. */
const struct security_request *security_flags_request(struct security_flags *f,
                                                      const char *network);
void security_flags_free(struct security_flags *f);

#endif
