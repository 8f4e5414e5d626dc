/* SPDX-License-Identifier: MIT */
/*
 * The "snapshot" storage driver: each layer is a snapshot of its parent with
 * the layer's diff applied, each container a writable snapshot of its image's
 * top layer. On btrfs these are subvolumes and snapshots (constant time,
 * shared extents); elsewhere a reflink copy (FICLONE) where the filesystem
 * shares extents, else a full copy. This file holds the descriptor, init and
 * the choice of mode, info and gc; docs/drivers/snapshot.md describes the
 * layout and the contracts.
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

#include "snapshot.h"

const char *mode_name(enum snapshot_mode mode)
{
    switch (mode) {
    case MODE_BTRFS:
        return "btrfs";
    case MODE_REFLINK:
        return "reflink";
    case MODE_COPY:
        break;
    }
    return "copy";
}

/*
 * btrfs when the state dir is on btrfs (snapshots need every layer and
 * container on the same filesystem, which the state dir gives), else reflink
 * when a clone of a probe file works, else copy. Decided once: a state dir
 * does not change filesystems under a running berth.
 */
static int choose_mode(int state_fd, enum snapshot_mode *ret_mode)
{
    struct statfs sfs;
    if (fstatfs(state_fd, &sfs) < 0)
        return -errno;
    if ((unsigned long)sfs.f_type == BTRFS_MAGIC_NUMBER) {
        *ret_mode = MODE_BTRFS;
        return 0;
    }
    int r = berth_reflink_supported(state_fd);
    if (r < 0)
        return r;
    *ret_mode = r ? MODE_REFLINK : MODE_COPY;
    return 0;
}

static int snapshot_init(const struct berth_services *services, void **ret_state)
{
    if (!services || services->size < offsetof(struct berth_services, unpack_layer) +
                                          sizeof(services->unpack_layer))
        return -ENOTSUP;
    /* init has no error object: failures are logged, once, here. */
    if (!services->state_dir || services->state_dir[0] != '/') {
        services->log(services->host, BERTH_LOG_ERROR,
                      "snapshot: state dir '%s' must be an absolute path",
                      services->state_dir ? services->state_dir : "(null)");
        return -EINVAL;
    }
    struct snapshot *sn = calloc(1, sizeof(*sn));
    if (!sn)
        return -ENOMEM;
    sn->services = services;
    sn->state_fd = open(services->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = sn->state_fd < 0 ? -errno : 0;
    static const char *const dirs[] = {"layers", "containers", "trash"};
    for (size_t i = 0; r == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (mkdirat(sn->state_fd, dirs[i], 0700) < 0 && errno != EEXIST)
            r = -errno;
    if (r < 0) {
        services->log(services->host, BERTH_LOG_ERROR, "snapshot: set up state dir '%s': %s",
                      services->state_dir, strerror(-r));
        goto fail;
    }
    r = choose_mode(sn->state_fd, &sn->mode);
    if (r < 0) {
        services->log(services->host, BERTH_LOG_ERROR, "snapshot: probe the filesystem of '%s': %s",
                      services->state_dir, strerror(-r));
        goto fail;
    }
    *ret_state = sn;
    return 0;

fail:
    if (sn->state_fd >= 0)
        close(sn->state_fd);
    free(sn);
    return r;
}

static void snapshot_fini(void *state)
{
    struct snapshot *sn = state;
    if (!sn)
        return;
    if (sn->state_fd >= 0)
        close(sn->state_fd);
    free(sn);
}

static int count_entries(int state_fd, const char *dir)
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
        if (de->d_name[0] != '.' && strncmp(de->d_name, "tmp-", 4) != 0)
            n++;
    return n;
}

static const char *fs_type_name(long type, char buf[static 32])
{
    switch ((unsigned long)type) {
    case 0xEF53:
        return "ext4"; /* ext2/3/4 share the magic */
    case 0x58465342:
        return "xfs";
    case BTRFS_MAGIC_NUMBER:
        return "btrfs";
    case 0x01021994:
        return "tmpfs";
    case 0x794C7630:
        return "overlayfs";
    case 0x2FC12FC1:
        return "zfs";
    case 0xF2F52010:
        return "f2fs";
    case 0xCA451A4E:
        return "bcachefs";
    case 0x6969:
        return "nfs";
    case 0x65735546:
        return "fuse";
    }
    snprintf(buf, 32, "0x%lx", (unsigned long)type);
    return buf;
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

static int snapshot_info(void *state, const void *req, struct berth_text_result *res,
                         struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    (void)req;
    if (!res || !res->put) {
        s->set_error(err, EINVAL, "info needs a result");
        return -EINVAL;
    }
    struct statfs sfs;
    if (fstatfs(sn->state_fd, &sfs) < 0) {
        int r = -errno;
        s->set_error(err, -r, "statfs '%s'", s->state_dir);
        return r;
    }
    int n_layers = count_entries(sn->state_fd, "layers");
    int n_containers = count_entries(sn->state_fd, "containers");
    if (n_layers < 0 || n_containers < 0) {
        int r = n_layers < 0 ? n_layers : n_containers;
        s->set_error(err, -r, "count layers and containers in '%s'", s->state_dir);
        return r;
    }
    char fs_buf[32];
    _cleanup_free_ char *dir = json_string(s->state_dir);
    _cleanup_free_ char *text = NULL;
    if (!dir || asprintf(&text,
                         "{\"backing_filesystem\":\"%s\",\"mode\":\"%s\",\"state_dir\":%s,"
                         "\"layers\":%d,\"containers\":%d}",
                         fs_type_name(sfs.f_type, fs_buf), mode_name(sn->mode), dir, n_layers,
                         n_containers) < 0) {
        s->set_error(err, ENOMEM, "describe driver");
        return -ENOMEM;
    }
    int r = res->put(res->host_ctx, text);
    if (r < 0)
        s->set_error(err, -r, "report driver info");
    return r < 0 ? r : 0;
}

static int snapshot_gc(void *state, const struct berth_gc_request *req, void *res,
                       struct berth_error *err)
{
    struct snapshot *sn = state;
    (void)res;
    if (!req) {
        sn->services->set_error(err, EINVAL, "gc needs a request");
        return -EINVAL;
    }
    /* Every part runs even if one fails; the first failure is reported. */
    int r = containers_gc(sn, req, err);
    int q = layers_gc(sn, req, r < 0 ? NULL : err);
    if (q < 0 && r == 0)
        r = q;
    q = berth_trash_gc(sn->state_fd, &subvolume_removal);
    if (q < 0 && r == 0) {
        r = q;
        sn->services->set_error(err, -r, "empty '%s/trash'", sn->services->state_dir);
    }
    return r;
}

static const struct berth_storage_ops snapshot_ops = {
    .size = sizeof(struct berth_storage_ops),
    .has_layer = snapshot_has_layer,
    .add_layer = snapshot_add_layer,
    .remove_layer = snapshot_remove_layer,
    .prepare = snapshot_prepare,
    .release = snapshot_release,
    .remove = snapshot_remove,
    .gc = snapshot_gc,
    .info = snapshot_info,
    .diff = snapshot_diff,
    .snapshot_save = snapshot_fs_save,
    .snapshot_restore = snapshot_fs_restore,
    .snapshot_remove = snapshot_fs_remove,
    .snapshot_list = snapshot_fs_list,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_STORAGE, "snapshot", "0.1.0",
                    "copy-on-write root filesystems: btrfs snapshots, else reflink or plain copies",
                    BERTH_CAP_SNAPSHOTS | BERTH_CAP_DIFF, snapshot_init, snapshot_fini,
                    &snapshot_ops)
