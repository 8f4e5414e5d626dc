/* SPDX-License-Identifier: MIT */
/*
 * berth plugin SDK: the descriptor every plugin exports and the services the
 * host hands it. This header and its siblings in <berth/> are the whole
 * interface between berth and a plugin; a plugin needs nothing else but libc
 * (it may link any other library it likes, docs/plugin-guide.md).
 *
 * Versioning: BERTH_ABI_MAJOR changes when a member is changed or removed;
 * BERTH_ABI_MINOR changes when a member is appended to a struct. Every struct
 * that crosses the boundary starts with its own size so that either side can
 * tell which members the other knows. The host loads a plugin whose major
 * equals its own and whose minor is not newer than its own.
 *
 * Each declaration below says the ABI version that added it: "ABI 1.0"
 * unless it says "Added in ABI 1.1".
 *
 * Rules for every function a plugin implements (the guide has the details):
 *  - Threads: berth calls a plugin from one thread at a time per process,
 *    but several berth processes (commands, container monitors) run the
 *    same plugin at once: guard shared state on disk with lock().
 *  - Fork: berth may fork after init (monitors, isolated calls); a plugin
 *    must not rely on threads, atexit handlers or held locks surviving it.
 *  - Memory: every pointer berth passes is owned by berth and valid during
 *    the call only (services: until fini). What a plugin returns through a
 *    result (put, add_mount) is copied by berth before the call returns.
 *  - Errors: 0 (or a documented positive value) on success, a negative
 *    errno on failure, described at most once with services->set_error.
 */
#ifndef BERTH_PLUGIN_H
#define BERTH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI these headers describe (ABI 1.0; minor 1 since ABI 1.1). */
#define BERTH_ABI_MAJOR 1
#define BERTH_ABI_MINOR 1

/* The one symbol a plugin exports: a function returning its descriptor.
 * ABI 1.0. BERTH_PLUGIN_DEFINE defines it; the loader looks up
 * BERTH_PLUGIN_ENTRY_NAME with dlsym. */
#define BERTH_PLUGIN_ENTRY berth_plugin_entry
#define BERTH_PLUGIN_ENTRY_NAME "berth_plugin_entry"

/* BERTH_EXPORT makes a symbol visible in a library built with
 * -fvisibility=hidden; BERTH_PRINTF checks printf-style arguments. ABI 1.0. */
#if defined(__GNUC__)
#define BERTH_EXPORT __attribute__((visibility("default")))
#define BERTH_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BERTH_EXPORT
#define BERTH_PRINTF(a, b)
#endif

/* Plugin kinds (berth_plugin_descriptor.kind). ABI 1.0. */
#define BERTH_KIND_STORAGE 1u /* root filesystems: <berth/storage.h> */
#define BERTH_KIND_VOLUME 2u  /* persistent volumes: <berth/volume.h> */
#define BERTH_KIND_NETWORK 3u /* network drivers: <berth/network.h> */
#define BERTH_KIND_HOOK 4u    /* lifecycle listeners: <berth/hook.h> */

/* Log levels for berth_services.log. ABI 1.0. A level outside the range is
 * clamped to it. */
#define BERTH_LOG_ERROR 0
#define BERTH_LOG_WARNING 1
#define BERTH_LOG_INFO 2
#define BERTH_LOG_DEBUG 3

/*
 * Opaque error object handed to every operation (ABI 1.0). A failing
 * operation returns a negative errno and may describe the failure once with
 * berth_services.set_error(); the host owns the object and its text. The
 * plugin never reads, frees or keeps it; it may be NULL when the host does
 * not want a description (set_error then does nothing).
 */
struct berth_error;

/* Opaque handle of the host (ABI 1.0); passed back to every service
 * function that takes one. Owned by the host, valid until fini returns. */
struct berth_host;

/*
 * What the host gives a plugin at init. Owned by the host and valid until the
 * plugin's fini returns; strings are NUL-terminated and read-only.
 * Added in ABI 1.0 unless noted. A plugin built for a newer minor than the
 * host cannot meet this table (the host refuses it), but one that declares
 * an older minor by hand must check SIZE before using a later member.
 */
struct berth_services {
    uint32_t size;           /* sizeof(struct berth_services) as the host built it */
    struct berth_host *host; /* the first argument of log, lock, unlock, … */

    /* The plugin's private, persistent state directory (exists, mode 0700,
     * ROOT/plugins/NAME). Everything the plugin keeps belongs here. The
     * subdirectory ".locks" is the host's (lock()). */
    const char *state_dir;
    /* berth's run directory (volatile, cleared at boot); shared with berth
     * and other plugins: make only names of your own below it. */
    const char *run_dir;
    /* The plugin's options as JSON text, "{}" when none were given (the
     * configuration file's "plugins": {"NAME": {"options": …}}). Any JSON
     * value may appear; a plugin that cannot use it fails init. */
    const char *config_json;

    /* Writes one line to berth's log at LEVEL (BERTH_LOG_*), prefixed with
     * the plugin's name; no newline needed. Lines are cut at 2 KiB. Callable
     * from init, fini and every operation. */
    void (*log)(struct berth_host *host, int level, const char *fmt, ...) BERTH_PRINTF(3, 4);

    /*
     * Describes why the current operation failed. ERR is the operation's
     * err argument (NULL is allowed and ignored). ERRNUM is a positive errno
     * or 0; the text is copied. Call it at most once per failure (a second
     * call replaces the first), then return a negative errno from the
     * operation. berth puts TEXT in its one-line error after the driver's
     * and the operation's names, followed by strerror(ERRNUM) unless 0.
     */
    void (*set_error)(struct berth_error *err, int errnum, const char *fmt, ...) BERTH_PRINTF(3, 4);

    /*
     * Takes an exclusive lock NAME (a plain word, [A-Za-z0-9._-], at most
     * 200 bytes, not starting with '.') shared by every berth process on
     * this host for this plugin (a file lock in state_dir/.locks). Blocks
     * until it is held. On success returns 0 and stores a token in
     * *RET_TOKEN to give to unlock; on failure (a bad name, -EINVAL; an I/O
     * error) returns a negative errno. Locks are not recursive: taking a
     * lock the same operation holds deadlocks. Release every lock before
     * the operation returns; a lock dies with the process that took it.
     */
    int (*lock)(struct berth_host *host, const char *name, int *ret_token);
    /* Releases a lock taken with lock(); TOKEN is not valid afterwards. */
    void (*unlock)(struct berth_host *host, int token);

    /*
     * Unpacks the layer tar (plain, gzip or zstd) at TAR_PATH into the
     * existing empty directory DEST_DIR, safely: an entry that would land
     * outside DEST_DIR is refused. WHITEOUT_MODE is one of
     * BERTH_WHITEOUT_CHARDEV or BERTH_WHITEOUT_APPLY (else -EINVAL).
     * Returns 0 or a negative errno and fills ERR; on failure DEST_DIR may
     * hold part of the layer (unpack into a temporary directory and rename).
     */
    int (*unpack_layer)(struct berth_host *host, const char *tar_path, const char *dest_dir,
                        uint32_t whiteout_mode, struct berth_error *err);

    /*
     * Added in ABI 1.1 (check services->size before calling it).
     * Packs the tree below DIR (DIR itself is not an entry) into a new,
     * uncompressed OCI layer tar at TAR_PATH (created, must not exist):
     * entries sorted by name, owners and modes numeric, mtimes in whole
     * seconds, no user or group names, xattrs as PAX records, hardlinks
     * within DIR kept, sockets skipped. With WHITEOUT_MODE
     * BERTH_WHITEOUT_CHARDEV, a character device 0/0 becomes the whiteout
     * ".wh.NAME" and a directory with the xattr "trusted.overlay.opaque" (or
     * "user.overlay.opaque") set to "y" gets a ".wh..wh..opq" entry; other
     * "trusted.overlay." and "user.overlay." xattrs are dropped, and a
     * redirect or metacopy xattr is refused (-ENOTSUP). With
     * BERTH_WHITEOUT_NONE nothing is converted. The same tree always gives
     * the same bytes. Called from diff for a container in a user namespace
     * whose writable directory holds host ids, the host writes them as the
     * container's ids (docs/security.md). Returns 0 or a negative errno and
     * fills ERR; on failure TAR_PATH does not exist.
     */
    int (*pack_layer)(struct berth_host *host, const char *dir, const char *tar_path,
                      uint32_t whiteout_mode, struct berth_error *err);
};

/* How unpack_layer represents OCI whiteouts (.wh.NAME and .wh..wh..opq). */
/* ABI 1.0: as character devices 0/0 and the "trusted.overlay.opaque" xattr,
 * for union filesystems that merge layers at mount time. */
#define BERTH_WHITEOUT_CHARDEV 1u
/* ABI 1.0: applied: the named path is deleted, an opaque directory emptied,
 * for drivers whose layer directory already holds its parent's content. */
#define BERTH_WHITEOUT_APPLY 2u
/* pack_layer only (added in ABI 1.1): no conversion, devices stay devices. */
#define BERTH_WHITEOUT_NONE 0u

/* Capabilities a plugin announces (berth_plugin_descriptor.capabilities).
 * ABI 1.0 defines the field; both bits were given meaning in ABI 1.1. */
#define BERTH_CAP_SNAPSHOTS (1ull << 0) /* storage: save/restore container snapshots */
#define BERTH_CAP_DIFF (1ull << 1)      /* storage: produce a layer diff (commit) */

/*
 * The descriptor (ABI 1.0). Static storage in the plugin; never freed,
 * never written by the host. Made by BERTH_PLUGIN_DEFINE.
 */
struct berth_plugin_descriptor {
    uint32_t size;         /* sizeof(struct berth_plugin_descriptor) */
    uint16_t abi_major;    /* BERTH_ABI_MAJOR the plugin was built for */
    uint16_t abi_minor;    /* BERTH_ABI_MINOR the plugin was built for */
    uint32_t kind;         /* BERTH_KIND_* */
    uint32_t reserved;     /* 0 */
    const char *name;      /* unique, [a-z0-9-], at most 63 bytes */
    const char *version;   /* the plugin's own version, free text */
    const char *summary;   /* one line */
    uint64_t capabilities; /* BERTH_CAP_* */

    /*
     * Called once after loading, before any operation, in the process that
     * loaded the plugin. Stores the plugin's state pointer in *RET_STATE
     * (may be NULL); every operation and fini get it back. SERVICES stays
     * valid until fini. Returns 0 or a negative errno (the plugin is then
     * refused, `berth plugin ls` says so, and fini is not called).
     */
    int (*init)(const struct berth_services *services, void **ret_state);
    /* Called once before unloading, after the last operation; frees what
     * init allocated. Not called in forked children (they _exit). */
    void (*fini)(void *state);

    /* Points to the kind's operations table: struct berth_storage_ops,
     * berth_volume_ops, berth_network_ops or berth_hook_ops; static storage.
     * Its first member is its size; berth never calls a member past it or
     * a NULL member (except the required ones, checked at load). */
    const void *ops;
};

/*
 * Defines the exported entry of a plugin (ABI 1.0). Use exactly once per .so:
 *
 *   BERTH_PLUGIN_DEFINE(BERTH_KIND_STORAGE, "mystore", "1.0", "what it does",
 *                       0, my_init, my_fini, &my_ops);
 *
 * It fills abi_major/abi_minor with the version of these headers.
 */
#define BERTH_PLUGIN_DEFINE(KIND, NAME, VERSION, SUMMARY, CAPS, INIT, FINI, OPS)                   \
    static const struct berth_plugin_descriptor berth_plugin_descriptor_ = {                       \
        .size = sizeof(struct berth_plugin_descriptor),                                            \
        .abi_major = BERTH_ABI_MAJOR,                                                              \
        .abi_minor = BERTH_ABI_MINOR,                                                              \
        .kind = (KIND),                                                                            \
        .name = (NAME),                                                                            \
        .version = (VERSION),                                                                      \
        .summary = (SUMMARY),                                                                      \
        .capabilities = (CAPS),                                                                    \
        .init = (INIT),                                                                            \
        .fini = (FINI),                                                                            \
        .ops = (OPS),                                                                              \
    };                                                                                             \
    BERTH_EXPORT const struct berth_plugin_descriptor *BERTH_PLUGIN_ENTRY(void);                   \
    BERTH_EXPORT const struct berth_plugin_descriptor *BERTH_PLUGIN_ENTRY(void)                    \
    {                                                                                              \
        return &berth_plugin_descriptor_;                                                          \
    }

/*
 * The set of object ids the host still knows, handed to every kind's gc
 * (ABI 1.0). Ids are owned by the host and valid during the call. gc
 * removes what the plugin holds for anything NOT listed. object_ids may be
 * NULL, meaning "not known this time": then remove no volume or network,
 * only what belongs to containers not in container_ids.
 */
struct berth_gc_request {
    uint32_t size;
    const char *const *container_ids; /* containers that still exist */
    uint32_t n_container_ids;
    const char *const *layer_ids; /* storage: layer chain ids still referenced */
    uint32_t n_layer_ids;
    const char *const *object_ids; /* names of the volumes or networks that still exist */
    uint32_t n_object_ids;
};

/*
 * A text result (ABI 1.0): the plugin calls put() with NUL-terminated JSON
 * text, at most once (a second call replaces the first); the host copies it
 * before put returns. put returns 0 or a negative errno (-ENOMEM, -EINVAL for
 * NULL text), which the operation should return.
 */
struct berth_text_result {
    uint32_t size;
    void *host_ctx; /* the host's; pass it back as put's first argument */
    int (*put)(void *host_ctx, const char *text);
};

#ifdef __cplusplus
}
#endif

#endif
