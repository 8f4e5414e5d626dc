/*
 * The child's sysctl and rlimit steps (linux.sysctl, process.rlimits), and
 * the name tables the CLI validates against.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static const struct {
    const char *name; /* docker's --ulimit name */
    int resource;
} rlimits[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int rlimit_from_name(const char *name)
{
    const char *bare = strncasecmp(name, "RLIMIT_", 7) == 0 ? name + 7 : name;
    for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
        if (strcasecmp(rlimits[i].name, bare) == 0)
            return rlimits[i].resource;
    return -1;
}

/* The OCI spelling, "RLIMIT_NOFILE". */
const char *rlimit_name(int resource)
{
    static const char *const oci[] = {
        [RLIMIT_AS] = "RLIMIT_AS",
        [RLIMIT_CORE] = "RLIMIT_CORE",
        [RLIMIT_CPU] = "RLIMIT_CPU",
        [RLIMIT_DATA] = "RLIMIT_DATA",
        [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
        [RLIMIT_LOCKS] = "RLIMIT_LOCKS",
        [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",
        [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE",
        [RLIMIT_NICE] = "RLIMIT_NICE",
        [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
        [RLIMIT_NPROC] = "RLIMIT_NPROC",
        [RLIMIT_RSS] = "RLIMIT_RSS",
        [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",
        [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
        [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
        [RLIMIT_STACK] = "RLIMIT_STACK",
    };
    if (resource < 0 || (size_t)resource >= ARRAY_SIZE(oci))
        return NULL;
    return oci[resource];
}

/*
 * docker's list (opts/ValidateSysctl) minus kernel.hostname (--hostname
 * sets it): these live in the container's ipc, uts or network namespace.
 */
int sysctl_is_namespaced(const char *key)
{
    static const char *const exact[] = {
        "kernel.msgmax", "kernel.msgmnb",          "kernel.msgmni",
        "kernel.sem",    "kernel.shmall",          "kernel.shmmax",
        "kernel.shmmni", "kernel.shm_rmid_forced", "kernel.domainname",
    };
    static const char *const prefixes[] = {"fs.mqueue.", "net."};
    if (strstr(key, "..") || strchr(key, '/'))
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
        if (strcmp(key, exact[i]) == 0)
            return 1;
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
        if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0 && key[strlen(prefixes[i])])
            return 1;
    return 0;
}

int sysctl_apply(const struct oci_config *cfg, struct error **err)
{
    for (char **kv = cfg->sysctl; kv && *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        _cleanup_free_ char *key = strndup(*kv, eq ? (size_t)(eq - *kv) : strlen(*kv));
        if (!key || !eq)
            return error_set(err, ENOMEM, "sysctl");
        if (!sysctl_is_namespaced(key))
            return error_set_plain(err, EPERM, "sysctl '%s': not namespaced", key);
        if (strncmp(key, "net.", 4) == 0 && !cfg->new_netns && !cfg->netns_path)
            return error_set_plain(err, EPERM, "sysctl '%s': the host's network namespace", key);
        _cleanup_free_ char *path = xasprintf("/proc/sys/%s", key);
        for (char *c = path + strlen("/proc/sys/"); *c; c++)
            if (*c == '.')
                *c = '/';
        _cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return error_set(err, errno, "sysctl '%s'", key);
        size_t len = strlen(eq + 1);
        if (write(fd, eq + 1, len) != (ssize_t)len)
            return error_set(err, errno, "sysctl '%s' = '%s'", key, eq + 1);
    }
    return 0;
}

int rlimits_apply(const struct oci_config *cfg, struct error **err)
{
    for (size_t i = 0; i < cfg->n_rlimits; i++) {
        const struct oci_rlimit *l = &cfg->rlimits[i];
        struct rlimit rl = {.rlim_cur = (rlim_t)l->soft, .rlim_max = (rlim_t)l->hard};
        if (setrlimit(l->resource, &rl) < 0)
            return error_set(err, errno, "setrlimit %s %llu:%llu",
                             rlimit_name(l->resource) ? rlimit_name(l->resource) : "?",
                             (unsigned long long)l->soft, (unsigned long long)l->hard);
    }
    return 0;
}
