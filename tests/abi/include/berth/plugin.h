/* SPDX-License-Identifier: MIT */
/*
 * berth plugin SDK: the descriptor every plugin exports and the services the
 * host hands it. This header and its siblings in <berth/> are the whole
 * interface between berth and a plugin; a plugin needs nothing else but libc.
 *
 * Versioning: BERTH_ABI_MAJOR changes when a member is changed or removed;
 * BERTH_ABI_MINOR changes when a member is appended to a struct. Every struct
 * that crosses the boundary starts with its own size so that either side can
 * tell which members the other knows. The host loads a plugin whose major
 * equals its own and whose minor is not newer than its own.
 */
#ifndef BERTH_PLUGIN_H
#define BERTH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_ABI_MAJOR 1
#define BERTH_ABI_MINOR 0

/* The one symbol a plugin exports: a function returning its descriptor. */
#define BERTH_PLUGIN_ENTRY berth_plugin_entry
#define BERTH_PLUGIN_ENTRY_NAME "berth_plugin_entry"

#if defined(__GNUC__)
#define BERTH_EXPORT __attribute__((visibility("default")))
#define BERTH_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BERTH_EXPORT
#define BERTH_PRINTF(a, b)
#endif

/* Plugin kinds (berth_plugin_descriptor.kind). */
#define BERTH_KIND_STORAGE 1u /* root filesystems: <berth/storage.h> */
#define BERTH_KIND_VOLUME 2u  /* persistent volumes: <berth/volume.h> */
#define BERTH_KIND_NETWORK 3u /* network drivers: <berth/network.h> */
#define BERTH_KIND_HOOK 4u    /* lifecycle listeners: <berth/hook.h> */

/* Log levels for berth_services.log. */
#define BERTH_LOG_ERROR 0
#define BERTH_LOG_WARNING 1
#define BERTH_LOG_INFO 2
#define BERTH_LOG_DEBUG 3

/*
 * Opaque error object handed to every operation. A failing operation returns
 * a negative errno and may describe the failure once with
 * berth_services.set_error(); the host owns the object and its text.
 */
struct berth_error;

/* Opaque handle of the host; passed back to every service function. */
struct berth_host;

/*
 * What the host gives a plugin at init. Owned by the host and valid until the
 * plugin's fini returns; strings are NUL-terminated and read-only.
 * Added in ABI 1.0 unless noted.
 */
struct berth_services {
    uint32_t size; /* sizeof(struct berth_services) as the host built it */
    struct berth_host *host;

    /* The plugin's private, persistent state directory (exists, mode 0700). */
    const char *state_dir;
    /* berth's run directory (volatile, cleared at boot). */
    const char *run_dir;
    /* The plugin's configuration as JSON text; "{}" when none was given. */
    const char *config_json;

    /* Writes one line to berth's log at LEVEL (BERTH_LOG_*). */
    void (*log)(struct berth_host *host, int level, const char *fmt, ...) BERTH_PRINTF(3, 4);

    /*
     * Describes why the current operation failed. ERRNUM is a positive errno
     * or 0; the text is copied. Call it at most once per failure, then return
     * a negative errno from the operation.
     */
    void (*set_error)(struct berth_error *err, int errnum, const char *fmt, ...) BERTH_PRINTF(3, 4);

    /*
     * Takes an exclusive lock NAME (a plain word, [A-Za-z0-9._-]) shared by
     * every berth process on this host for this plugin. Blocks until it is
     * held. On success returns 0 and stores a token in *RET_TOKEN to give to
     * unlock; on failure returns a negative errno.
     */
    int (*lock)(struct berth_host *host, const char *name, int *ret_token);
    /* Releases a lock taken with lock(). */
    void (*unlock)(struct berth_host *host, int token);

    /*
     * Unpacks the layer tar (plain, gzip or zstd) at TAR_PATH into the
     * existing empty directory DEST_DIR, safely: an entry that would land
     * outside DEST_DIR is refused. WHITEOUT_MODE is one of
     * BERTH_WHITEOUT_*. Returns 0 or a negative errno and fills ERR.
     */
    int (*unpack_layer)(struct berth_host *host, const char *tar_path, const char *dest_dir,
                        uint32_t whiteout_mode, struct berth_error *err);
};

/* How unpack_layer represents OCI whiteouts (.wh.NAME and .wh..wh..opq). */
/* As character devices 0/0 and the "trusted.overlay.opaque" xattr, for
 * union filesystems that merge layers at mount time. */
#define BERTH_WHITEOUT_CHARDEV 1u
/* Applied: the named path is deleted, an opaque directory emptied, for
 * drivers whose layer directory already holds its parent's content. */
#define BERTH_WHITEOUT_APPLY 2u

/* Capabilities a plugin announces (berth_plugin_descriptor.capabilities). */
#define BERTH_CAP_SNAPSHOTS (1ull << 0) /* storage: save/restore container snapshots */
#define BERTH_CAP_DIFF (1ull << 1)      /* storage: produce a layer diff (commit) */

/*
 * The descriptor. Static storage in the plugin; never freed.
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
     * Called once after loading. Stores the plugin's state pointer in
     * *RET_STATE (may be NULL). SERVICES stays valid until fini. Returns 0 or
     * a negative errno (the plugin is then refused and fini is not called).
     */
    int (*init)(const struct berth_services *services, void **ret_state);
    /* Called once before unloading; frees what init allocated. */
    void (*fini)(void *state);

    /* Points to the kind's operations table: struct berth_storage_ops,
     * berth_volume_ops, berth_network_ops or berth_hook_ops. */
    const void *ops;
};

/*
 * Defines the exported entry of a plugin. Use exactly once per .so:
 *
 *   BERTH_PLUGIN_DEFINE(BERTH_KIND_STORAGE, "mystore", "1.0", "what it does",
 *                       0, my_init, my_fini, &my_ops);
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
 * The set of object ids the host still knows, handed to every kind's gc.
 * Ids are owned by the host and valid during the call.
 */
struct berth_gc_request {
    uint32_t size;
    const char *const *container_ids; /* containers that still exist */
    uint32_t n_container_ids;
    const char *const *layer_ids; /* storage: layer chain ids still referenced */
    uint32_t n_layer_ids;
    const char *const *object_ids; /* volumes or networks that still exist */
    uint32_t n_object_ids;
};

/*
 * A text result: the plugin calls put() with JSON text; the host copies it.
 */
struct berth_text_result {
    uint32_t size;
    void *host_ctx;
    int (*put)(void *host_ctx, const char *text);
};

#ifdef __cplusplus
}
#endif

#endif
