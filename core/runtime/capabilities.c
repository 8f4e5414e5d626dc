/*
 * Capabilities through the raw capget/capset syscalls and prctl, so that the
 * runtime needs no libcap.
 */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "util/cleanup.h"

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int capability_from_name(const char *name)
{
    /* The spec spells them "CAP_X"; accept "X" and any case as docker's --cap-add does. */
    const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
        if (strcasecmp(cap_names[i] + 4, bare) == 0)
            return (int)i;
    return -1;
}

const char *capability_name(int cap)
{
    if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
        return NULL;
    return cap_names[cap];
}

/* The highest capability this kernel knows; asking costs less than reading /proc. */
static int last_cap(void)
{
    int last = (int)ARRAY_SIZE(cap_names) - 1;
    while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
        last++;
    while (last > 0 && prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0)
        last--;
    return last;
}

static int capset_sets(uint64_t effective, uint64_t permitted, uint64_t inheritable)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(effective >> (32 * i));
        data[i].permitted = (uint32_t)(permitted >> (32 * i));
        data[i].inheritable = (uint32_t)(inheritable >> (32 * i));
    }
    return (int)syscall(SYS_capset, &hdr, data);
}

int capabilities_apply(const struct oci_config *cfg, struct error **err)
{
    int last = last_cap();
    uint64_t known = last >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (last + 1)) - 1;

    /* Dropping from the bounding set needs CAP_SETPCAP: before the user switch. */
    for (int cap = 0; cap <= last; cap++) {
        if (cfg->cap_bounding & (UINT64_C(1) << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return error_set(err, errno, "drop capability %d from the bounding set", cap);
    }

    /* Keep the permitted set across setuid so that capset can still raise effective. */
    if ((cfg->uid != 0 || cfg->gid != 0) && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    int r = user_switch(cfg, err);
    if (r < 0)
        return r;

    if (capset_sets(cfg->cap_effective & known, cfg->cap_permitted & known,
                    cfg->cap_inheritable & known) < 0)
        return error_set(err, errno, "capset");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");

    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return error_set(err, errno, "clear ambient capabilities");
    for (int cap = 0; cap <= last; cap++) {
        if (!(cfg->cap_ambient & (UINT64_C(1) << cap)))
            continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return error_set(err, errno, "raise ambient capability '%s'",
                             capability_name(cap) ? capability_name(cap) : "?");
    }
    return 0;
}
