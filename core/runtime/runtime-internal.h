/*
 * What the pieces of the runtime share and nothing else uses: the parsed
 * config.json, the mount option parser, the child's setup steps and the
 * messages of the start handshake.
 */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Top-level config.json extension keys (OCI allows reverse-DNS keys). */
#define BERTH_EXT_ROOTFS "org.berth.rootfs"
#define BERTH_EXT_PROCESS "org.berth.process"

/* A mount with its options already split into mount(2) flags and data. */
struct oci_mount {
    char *type;                /* "bind" for binds, never NULL */
    char *source;              /* may be NULL */
    char *destination;         /* absolute inside the container */
    unsigned long flags;       /* MS_* without MS_BIND/MS_REC/propagation */
    unsigned long propagation; /* MS_SHARED/MS_SLAVE/... (| MS_REC), or 0 */
    int bind;                  /* a bind mount */
    int recursive;             /* MS_REC for a bind */
    char *data;                /* the options mount(2) does not know; may be NULL */
    int copy_up;               /* "berth.copyup": fill an empty volume from the image first */
    int detached_fd; /* with a user namespace: the mount berth made (userns-setup.c), or -1 */
};

/* linux.devices: a node made in the container's /dev (--device, --privileged). */
struct oci_device {
    char *path; /* absolute inside the container */
    char type;  /* 'c' or 'b' */
    unsigned int major, minor;
    mode_t mode; /* permission bits of the node */
    uid_t uid;
    gid_t gid;
};

/* process.rlimits: setrlimit before exec (--ulimit). */
struct oci_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t soft, hard;
};

struct seccomp_profile;
struct id_map;

struct oci_config {
    char *rootfs;  /* absolute: BUNDLE/root.path */
    int rootfs_fd; /* with a user namespace: rootfs opened before the ids change, else -1 */
    int root_readonly;

    char **args;
    char **env;
    char *cwd;
    uid_t uid;
    gid_t gid;
    gid_t *additional_gids;
    size_t n_additional_gids;
    char *user; /* "name[:group]" resolved in the container, or NULL */

    char *hostname; /* may be NULL */
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int no_new_privs;
    int terminal; /* process.terminal: a pty made in the container (terminal.h) */

    int clone_flags;  /* CLONE_NEW* to create */
    char *netns_path; /* network namespace to join, or NULL */
    int netns_joined; /* the parent cloned from inside netns_path (a user namespace cannot join it)
                       */
    /* linux.uidMappings/gidMappings with a user namespace (CLONE_NEWUSER), else NULL. */
    struct id_map *uid_map, *gid_map;
    int new_netns; /* whether the container gets a fresh network namespace */

    struct oci_mount *mounts;
    size_t n_mounts;
    struct oci_mount *rootfs_mounts;
    size_t n_rootfs_mounts;
    char **masked_paths;
    char **readonly_paths;
    struct cgroup_spec *cgroup; /* the container's cgroup and limits; NULL: none (cgroup.h) */

    /* Security (docs/security.md); empty when config.json has none. */
    struct seccomp_profile *seccomp; /* linux.seccomp: loaded last, before execve (seccomp.h) */
    void *seccomp_bpf;          /* the same, compiled at create ("org.berth.seccomp"), or NULL */
    size_t seccomp_bpf_len;     /* instructions */
    struct oci_device *devices; /* linux.devices */
    size_t n_devices;
    char **sysctl; /* linux.sysctl as "key=value", keys checked at load */
    struct oci_rlimit *rlimits;
    size_t n_rlimits;
};

/* Parses BUNDLE_DIR/config.json. */
int oci_config_load(const char *bundle_dir, struct oci_config **ret, struct error **err);
void oci_config_free(struct oci_config *cfg);
#define _cleanup_oci_config_ __attribute__((cleanup(oci_config_freep)))
static inline void oci_config_freep(struct oci_config **p)
{
    oci_config_free(*p);
}

/*
 * Splits comma-separated OPTIONS (or the array OPTV) of a mount of TYPE into
 * flags and data, filling everything in M but type/source/destination.
 */
int mount_options_parse(struct oci_mount *m, const char *const *optv, size_t n, struct error **err);

/* Splits S at unescaped SEP in place (overlayfs escapes ',' and ':'); NULL at the end. */
char *split_escaped(char **s, char sep);

/* Capability names ("CAP_CHOWN") and numbers. -1 if unknown. */
int capability_from_name(const char *name);
const char *capability_name(int cap);
/* Drops the bounding set, switches user (see user_switch) and sets the sets. */
int capabilities_apply(const struct oci_config *cfg, struct error **err);

/* Resolves cfg->user from the container's /etc/passwd and /etc/group. */
int user_resolve(struct oci_config *cfg, struct error **err);
/* setgroups/setresgid/setresuid, keeping the permitted set across. */
int user_switch(const struct oci_config *cfg, struct error **err);

/* Mounts everything onto cfg->rootfs before pivot_root. */
int mounts_setup_rootfs(const struct oci_config *cfg, int *ret_rootfd, struct error **err);
/* Makes ROOTFD the root of the mount namespace and forgets the old one. */
int mounts_pivot_root(int rootfd, struct error **err);
/* After pivot_root: read-only root, masked and read-only paths. */
int mounts_finish(const struct oci_config *cfg, struct error **err);
/*
 * Opens PATH (absolute or relative) inside ROOTFD, never leaving it, with
 * O_PATH. Missing components are created as directories, and the last one as
 * a directory or (LAST_IS_FILE) an empty file, when CREATE is set.
 */
int open_in_root(int rootfd, const char *path, int create, int last_is_file, int *ret_fd,
                 struct error **err);

/*
 * Copies the image's directory TARGET_FD (an O_PATH descriptor resolved in
 * the rootfs) into VOLUME_DIR if VOLUME_DIR is empty, keeping owners, modes,
 * times and symlinks, as docker fills a new volume (volume-copyup.c).
 */
int volume_copy_up(int target_fd, const char *volume_dir, struct error **err);
/* The same into the directory VOLUME_FD (a mount berth made; VOLUME_DIR names it in errors). */
int volume_copy_up_at(int target_fd, int volume_fd, const char *volume_dir, struct error **err);

/* Device nodes and symlinks of a minimal /dev inside ROOTFD. */
int devices_setup(int rootfd, struct error **err);
/* cfg->devices: nodes with the host's numbers, inside ROOTFD (never outside it). */
int devices_create(int rootfd, const struct oci_config *cfg, struct error **err);
/* Writes cfg->sysctl under /proc/sys (after pivot_root, before /proc/sys goes read-only). */
int sysctl_apply(const struct oci_config *cfg, struct error **err);
/* setrlimit of cfg->rlimits; raising a hard limit needs CAP_SYS_RESOURCE. */
int rlimits_apply(const struct oci_config *cfg, struct error **err);
/* "RLIMIT_NOFILE"/"nofile" -> RLIMIT_NOFILE; -1 if unknown. */
int rlimit_from_name(const char *name);
const char *rlimit_name(int resource);
/* A sysctl docker lets a container set: namespaced (net.*, kernel.msg*, …). */
int sysctl_is_namespaced(const char *key);

/* Brings "lo" up in the current network namespace. */
int loopback_up(struct error **err);

/* execvpe with the container's PATH (cfg->env): returns -errno when it fails. */
int exec_command(struct oci_config *cfg);

/*
 * User namespaces (userns-setup.c). The parent, once the child exists:
 * writes uid_map/gid_map, makes the rootfs mounts as detached idmapped
 * mounts (binds, and filesystems with "lowerdir=" layers) and sends them,
 * then SYNC_USERNS_DONE. The child waits for that, keeps the descriptors in
 * cfg's rootfs mounts and becomes root of its namespace.
 */
int userns_parent_setup(const struct oci_config *cfg, pid_t pid, int sync_fd, struct error **err);
int userns_child_wait(struct oci_config *cfg, int sync_fd, struct error **err);

/* The child's side of runtime_create: never returns. */
_Noreturn void container_init(struct oci_config *cfg, int sync_fd);

/* The start handshake, one datagram per message on a SOCK_SEQPACKET pair. */
enum sync_kind {
    SYNC_READY = 1,       /* child -> parent: set up, waiting */
    SYNC_GO = 2,          /* parent -> child: exec now */
    SYNC_SETUP_ERROR = 3, /* child -> parent: text, errnum */
    SYNC_EXEC_ERROR = 4,  /* child -> parent: text, errnum, status 126/127 */
    SYNC_TERMINAL = 5,    /* child -> parent: the pty master, as SCM_RIGHTS (terminal.h) */
    SYNC_PID = 6,         /* exec's intermediate -> parent: status = the process's host pid */
    SYNC_MOUNT_FD =
        7, /* parent -> child: SCM_RIGHTS a mount; errnum 0 rootfs, 1 OCI mounts; status index */
    SYNC_USERNS_DONE = 8, /* parent -> child: maps written, every mount sent */
};

struct sync_msg {
    int32_t kind;
    int32_t errnum;
    int32_t status;
    char text[1024];
};

int sync_send(int fd, int kind, int errnum, int status, const char *text);
/* Returns 1 with a message, 0 at end of file, or -errno. */
int sync_recv(int fd, struct sync_msg *msg);

#endif
