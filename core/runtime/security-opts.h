/*
 * The security options of a container (--privileged, --cap-add/--cap-drop,
 * --security-opt, --device, --sysctl, --ulimit): validated from the command
 * line's strings into one JSON object, which the container's record keeps
 * and bundle_write turns into config.json (run_spec.security):
 *
 *   {"privileged": bool,
 *    "capabilities": ["CAP_CHOWN", …],          the final set
 *    "seccomp": "default" | "unconfined" | {a docker/OCI profile},
 *    "devices": [{"path", "type", "major", "minor", "fileMode", "uid", "gid",
 *                 "access"}],                    resolved from the host at create
 *    "sysctl": {"net.ipv4.ip_forward": "1", …},
 *    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": N, "hard": N}],
 *    "userns": {…}}                              runtime/userns-opts.h
 *
 * Every parser returns one plain line on bad input; nothing is made.
 */
#ifndef BERTH_SECURITY_OPTS_H
#define BERTH_SECURITY_OPTS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "util/error.h"

/* What the command line gave; each vector NULL-terminated or NULL. */
struct security_request {
    int privileged;
    int share_host_network; /* --network host: net.* sysctls refused */
    char **cap_add;
    char **cap_drop;
    char **security_opt;    /* seccomp=FILE|unconfined, no-new-privileges[=true] */
    char **devices;         /* HOST[:CONTAINER][:rwm] */
    char **sysctls;         /* KEY=VALUE */
    char **ulimits;         /* NAME=SOFT[:HARD] */
    const char *userns;     /* --userns host|auto[:size=N]; NULL: host unless maps are given */
    char **uidmaps;         /* --uidmap CONTAINER:HOST:SIZE */
    char **gidmaps;         /* --gidmap CONTAINER:HOST:SIZE */
    const char *subid_user; /* whose /etc/subuid, /etc/subgid ranges; NULL: "berth" */
};

/* The default set (podman's), bit N = capability N. */
extern const uint64_t security_default_caps;

/*
 * Applies --cap-add (ADD) or --cap-drop names to *SET: "chown", "CAP_CHOWN",
 * any case, or "ALL".
 */
int security_caps_apply(uint64_t *set, char *const *names, int add, struct error **err);
/* "KEY=VALUE" of a namespaced sysctl; *RET_KEY and *RET_VALUE: caller frees. */
int security_sysctl_parse(const char *kv, int host_network, char **ret_key, char **ret_value,
                          struct error **err);
/*
 * "NAME=SOFT[:HARD]" (docker's names: nofile, nproc, core…; "unlimited" or
 * -1 for no limit). Refuses a hard limit above the current one (raising it
 * needs CAP_SYS_RESOURCE, which berth does not give) and soft > hard.
 */
int security_ulimit_parse(const char *s, int *ret_resource, uint64_t *ret_soft, uint64_t *ret_hard,
                          struct error **err);
/* "HOST[:CONTAINER][:PERMS]" -> a "devices" entry (stats HOST, which must be a device). */
int security_device_parse(const char *s, cJSON **ret, struct error **err);

/* Validates REQ (NULL: defaults) into the object above (*RET: caller deletes). */
int security_options_build(const struct security_request *req, cJSON **ret, struct error **err);

/*
 * Writes SEC (NULL: the defaults) into CONFIG, a config.json being built:
 * the capability sets, linux.seccomp (docker's default profile unless
 * unconfined or a user's), linux.devices and their allow rules in
 * linux.resources.devices (kept beside what is there), linux.sysctl,
 * process.rlimits; --privileged also drops masked and read-only paths,
 * makes /sys writable and lists every host device. With CACHE_DIR, the
 * compiled filter is taken from (or put in) that cache and named in
 * config.json (seccomp_bpf_cache in seccomp.h).
 */
int security_oci_apply(cJSON *config, const cJSON *sec, const char *cache_dir, struct error **err);

#endif
