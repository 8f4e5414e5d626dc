/* SPDX-License-Identifier: MIT */
/*
 * The "overlay" storage driver: image layers unpacked once and shared,
 * merged by overlayfs under each container's writable layer. This file holds
 * the descriptor, init/fini, info and gc; layers and containers live in
 * overlay-layers.c and overlay-containers.c. docs/drivers/overlay.md
 * describes the layout and the contracts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <berth/storage.h>

#include "overlay.h"

static int overlay_available(void)
{
    _cleanup_free_ char *text = NULL;
    if (read_text_at(AT_FDCWD, "/proc/filesystems", &text) < 0)
        return 0;
    /* Lines are "nodev\toverlay" or "\toverlay". */
    for (char *p = text; (p = strstr(p, "overlay")); p += 7)
        if (p > text && p[-1] == '\t' && (p[7] == '\n' || p[7] == '\0'))
            return 1;
    return 0;
}

/* Paths go into a comma-separated option string whose lowerdir is
 * colon-separated, with no escaping the runtime could rely on. */
static int state_dir_usable(const char *dir)
{
    return dir && dir[0] == '/' && !strpbrk(dir, ",:\\= \t\n");
}

/* overlayfs needs d_type on the upper and lower filesystems (xfs formatted
 * with ftype=0 lacks it, and whiteouts would then be ignored). */
static int supports_d_type(int state_fd)
{
    int fd = openat(state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, "layers") == 0)
            return de->d_type == DT_DIR;
    return -ENOENT;
}

static const char *fs_type_name(long type, char buf[static 32])
{
    switch ((unsigned long)type) {
    case 0xEF53:
        return "ext4"; /* ext2/3/4 share the magic */
    case 0x58465342:
        return "xfs";
    case 0x9123683E:
        return "btrfs";
    case 0x01021994:
        return "tmpfs";
    case 0x794C7630:
        return "overlayfs";
    case 0x2FC12FC1:
        return "zfs";
    case 0xF2F52010:
        return "f2fs";
    case 0x6969:
        return "nfs";
    case 0x65735546:
        return "fuse";
    }
    snprintf(buf, 32, "0x%lx", (unsigned long)type);
    return buf;
}

static int overlay_init(const struct berth_services *services, void **ret_state)
{
    if (!services || services->size < offsetof(struct berth_services, unpack_layer) +
                                          sizeof(services->unpack_layer))
        return -ENOTSUP;
    /* init has no error object: failures are logged, once, here. */
    if (!overlay_available()) {
        services->log(services->host, BERTH_LOG_ERROR,
                      "overlay: the kernel has no overlay filesystem ('/proc/filesystems' "
                      "does not list 'overlay'): load it with 'modprobe overlay'");
        return -ENODEV;
    }
    if (!state_dir_usable(services->state_dir)) {
        services->log(services->host, BERTH_LOG_ERROR,
                      "overlay: state dir '%s' must be an absolute path without ',', ':', '=', "
                      "'\\' or spaces: it goes into overlay mount options",
                      services->state_dir ? services->state_dir : "(null)");
        return -EINVAL;
    }

    struct overlay *ov = calloc(1, sizeof(*ov));
    if (!ov)
        return -ENOMEM;
    ov->services = services;
    ov->state_fd = open(services->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = ov->state_fd < 0 ? -errno : 0;
    static const struct {
        const char *name;
        mode_t mode;
    } dirs[] = {
        {"layers", 0700}, {"l", 0700}, {"containers", 0700}, {"trash", 0700}, {"empty", 0755}};
    for (size_t i = 0; r == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (mkdirat(ov->state_fd, dirs[i].name, dirs[i].mode) < 0 && errno != EEXIST)
            r = -errno;
    if (r < 0) {
        services->log(services->host, BERTH_LOG_ERROR, "overlay: set up state dir '%s': %s",
                      services->state_dir, strerror(-r));
        goto fail;
    }
    r = supports_d_type(ov->state_fd);
    if (r <= 0) {
        services->log(services->host, BERTH_LOG_ERROR,
                      "overlay: the filesystem of '%s' does not report file types (d_type); "
                      "overlay needs them (xfs: format with ftype=1)",
                      services->state_dir);
        r = r < 0 ? r : -ENOTSUP;
        goto fail;
    }
    struct statfs sfs;
    if (fstatfs(ov->state_fd, &sfs) == 0 && (unsigned long)sfs.f_type == 0x794C7630)
        services->log(services->host, BERTH_LOG_WARNING,
                      "overlay: state dir '%s' is on overlayfs, which cannot hold upper dirs",
                      services->state_dir);
    ov->has_index_param = access("/sys/module/overlay/parameters/index", F_OK) == 0;
    *ret_state = ov;
    return 0;

fail:
    if (ov->state_fd >= 0)
        close(ov->state_fd);
    free(ov);
    return r;
}

static void overlay_fini(void *state)
{
    struct overlay *ov = state;
    if (!ov)
        return;
    if (ov->state_fd >= 0)
        close(ov->state_fd);
    free(ov);
}

static int count_entries(int state_fd, const char *dir, int skip_tmp)
{
    int fd = openat(state_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && !(skip_tmp && strncmp(de->d_name, "tmp-", 4) == 0))
            n++;
    return n;
}

/* Writes S as a JSON string into a malloc'd buffer. */
static char *json_string(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len * 6 + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20) {
            o += sprintf(o, "\\u%04x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static int overlay_info(void *state, const void *req, struct berth_text_result *res,
                        struct berth_error *err)
{
    struct overlay *ov = state;
    const struct berth_services *s = ov->services;
    (void)req;
    if (!res || !res->put) {
        s->set_error(err, EINVAL, "info needs a result");
        return -EINVAL;
    }
    struct statfs sfs;
    if (fstatfs(ov->state_fd, &sfs) < 0) {
        int r = -errno;
        s->set_error(err, -r, "statfs '%s'", s->state_dir);
        return r;
    }
    int n_layers = count_entries(ov->state_fd, "layers", 1);
    int n_containers = count_entries(ov->state_fd, "containers", 0);
    if (n_layers < 0 || n_containers < 0) {
        int r = n_layers < 0 ? n_layers : n_containers;
        s->set_error(err, -r, "count layers and containers in '%s'", s->state_dir);
        return r;
    }
    int d_type = supports_d_type(ov->state_fd);
    char fs_buf[32];
    _cleanup_free_ char *dir = json_string(s->state_dir);
    _cleanup_free_ char *text = NULL;
    if (!dir ||
        asprintf(&text,
                 "{\"backing_filesystem\":\"%s\",\"state_dir\":%s,\"layers\":%d,"
                 "\"containers\":%d,\"supports_d_type\":%s,\"index_off\":%s}",
                 fs_type_name(sfs.f_type, fs_buf), dir, n_layers, n_containers,
                 d_type > 0 ? "true" : "false", ov->has_index_param ? "true" : "false") < 0) {
        s->set_error(err, ENOMEM, "describe driver");
        return -ENOMEM;
    }
    int r = res->put(res->host_ctx, text);
    if (r < 0)
        s->set_error(err, -r, "report driver info");
    return r < 0 ? r : 0;
}

static int overlay_gc(void *state, const struct berth_gc_request *req, void *res,
                      struct berth_error *err)
{
    struct overlay *ov = state;
    (void)res;
    if (!req) {
        ov->services->set_error(err, EINVAL, "gc needs a request");
        return -EINVAL;
    }
    /* Containers first: a layer is only deletable once no container dir
     * could still stack on it. Every part runs even if one fails. */
    int r = containers_gc(ov, req, err);
    int q = layers_gc(ov, req, r < 0 ? NULL : err);
    if (q < 0 && r == 0)
        r = q;
    q = berth_trash_gc(ov->state_fd, NULL);
    if (q < 0 && r == 0) {
        r = q;
        ov->services->set_error(err, -r, "empty '%s/trash'", ov->services->state_dir);
    }
    return r;
}

static const struct berth_storage_ops overlay_ops = {
    .size = sizeof(struct berth_storage_ops),
    .has_layer = overlay_has_layer,
    .add_layer = overlay_add_layer,
    .remove_layer = overlay_remove_layer,
    .prepare = overlay_prepare,
    .release = overlay_release,
    .remove = overlay_remove,
    .gc = overlay_gc,
    .info = overlay_info,
    .diff = overlay_diff,
    .snapshot_save = overlay_snapshot_save,
    .snapshot_restore = overlay_snapshot_restore,
    .snapshot_remove = overlay_snapshot_remove,
    .snapshot_list = overlay_snapshot_list,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_STORAGE, "overlay", "0.1.0",
                    "overlayfs root filesystems over shared, unpacked-once image layers",
                    BERTH_CAP_DIFF | BERTH_CAP_SNAPSHOTS, overlay_init, overlay_fini, &overlay_ops)
