/* SPDX-License-Identifier: MIT */
/*
 * Containers' root filesystems: containers/ID/rootfs, a writable snapshot
 * (btrfs) or copy of the image's top layer, made on the first prepare and
 * kept across restarts. prepare describes one bind mount of it as the root;
 * berth's runtime performs it inside the container's mount namespace, so
 * nothing is ever mounted on the host by this driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"

/* Container ids become path components: no '/', no leading dot or dash. */
int container_id_valid(const char *id)
{
    if (!id || !*id || id[0] == '.' || id[0] == '-' || strlen(id) > 128)
        return 0;
    for (const char *p = id; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
            return 0;
    return 1;
}

static int transient(const struct berth_storage_prepare_request *req)
{
    return req->size >= offsetof(struct berth_storage_prepare_request, options_json) +
                            sizeof(req->options_json) &&
           req->options_json && strstr(req->options_json, "\"transient\":true");
}

/* Makes containers/ID/rootfs from the top layer (KEY, or an empty root when
 * KEY is NULL) under tmp-rootfs, then renames it, so a crash never leaves a
 * half-made root under the name prepare reuses. */
static int make_rootfs(struct snapshot *sn, int ctr_fd, const char *key, int durable,
                       struct berth_error *err)
{
    const struct berth_services *s = sn->services;
    int r = berth_tree_remove(ctr_fd, "tmp-rootfs", &subvolume_removal);
    if (r < 0) {
        s->set_error(err, -r, "remove leftover 'tmp-rootfs'");
        return r;
    }
    if (!key) {
        r = make_tree_from(sn, -1, ctr_fd, "tmp-rootfs");
        if (r < 0)
            s->set_error(err, -r, "create an empty root");
    } else {
        /* The layer's lock keeps remove_layer and gc away while we read it. */
        int token = -1;
        r = lock_layer(sn, key, &token);
        if (r < 0) {
            s->set_error(err, -r, "lock layer '%s'", key);
            return r;
        }
        char path[LAYER_KEY_MAX + 16];
        snprintf(path, sizeof(path), "layers/%s", key);
        int layer_fd = openat(sn->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (layer_fd < 0) {
            r = -errno;
            s->set_error(err, -r, "layer 'layers/%s' is not present", key);
        } else {
            r = make_tree_from(sn, layer_fd, ctr_fd, "tmp-rootfs");
            close(layer_fd);
            if (r < 0)
                s->set_error(err, -r, "%s layer '%s'", sn->mode == MODE_BTRFS ? "snapshot" : "copy",
                             key);
        }
        unlock_layer(sn, token);
    }
    if (r < 0)
        goto fail;
    /* A btrfs snapshot is committed by its ioctl; a copy is only in the page
     * cache. A transient container is not worth the sync. */
    if (durable && sn->mode != MODE_BTRFS) {
        _cleanup_close_ int fd =
            openat(ctr_fd, "tmp-rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || syncfs(fd) < 0) {
            r = -errno;
            s->set_error(err, -r, "sync the container root");
            goto fail;
        }
    }
    if (renameat(ctr_fd, "tmp-rootfs", ctr_fd, "rootfs") < 0) {
        r = -errno;
        s->set_error(err, -r, "rename 'tmp-rootfs' to 'rootfs'");
        goto fail;
    }
    return 0;

fail:
    berth_tree_remove(ctr_fd, "tmp-rootfs", &subvolume_removal);
    return r;
}

int snapshot_prepare(void *state, const struct berth_storage_prepare_request *req,
                     struct berth_storage_prepare_result *res, struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    if (!req || !res || !res->add_mount || !container_id_valid(req->container_id) ||
        (req->n_layers > 0 && !req->layers)) {
        s->set_error(err, EINVAL, "invalid prepare request for container '%s'",
                     req && req->container_id ? req->container_id : "(null)");
        return -EINVAL;
    }
    /* Only the top layer matters: it holds the image's whole tree. */
    char key[LAYER_KEY_MAX];
    if (req->n_layers > 0 && layer_ref_key(&req->layers[req->n_layers - 1], key) < 0) {
        s->set_error(err, EINVAL, "invalid top layer of container '%s'", req->container_id);
        return -EINVAL;
    }

    char path[160];
    snprintf(path, sizeof(path), "containers/%s", req->container_id);
    if (mkdirat(sn->state_fd, path, 0700) < 0 && errno != EEXIST) {
        int r = -errno;
        s->set_error(err, -r, "create '%s/%s'", s->state_dir, path);
        return r;
    }
    _cleanup_close_ int ctr_fd =
        openat(sn->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (ctr_fd < 0) {
        int r = -errno;
        s->set_error(err, -r, "open '%s/%s'", s->state_dir, path);
        return r;
    }
    struct stat st;
    if (fstatat(ctr_fd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT) {
            int r = -errno;
            s->set_error(err, -r, "stat '%s/%s/rootfs'", s->state_dir, path);
            return r;
        }
        int r = make_rootfs(sn, ctr_fd, req->n_layers > 0 ? key : NULL, !transient(req), err);
        if (r < 0)
            return r;
    } else if (!S_ISDIR(st.st_mode)) {
        s->set_error(err, ENOTDIR, "'%s/%s/rootfs' is not a directory", s->state_dir, path);
        return -ENOTDIR;
    }

    _cleanup_free_ char *source = NULL;
    if (asprintf(&source, "%s/%s/rootfs", s->state_dir, path) < 0) {
        s->set_error(err, ENOMEM, "prepare container '%s'", req->container_id);
        return -ENOMEM;
    }
    /* rbind: a container's nested subvolumes are not mounts, but anything
     * else below the root must come along. */
    struct berth_mount m = {
        .size = sizeof(m),
        .type = "bind",
        .source = source,
        .target = "/",
        .options = req->read_only ? "rbind,ro" : "rbind",
    };
    int r = res->add_mount(res->host_ctx, &m);
    if (r < 0) {
        s->set_error(err, -r, "report the root mount of container '%s'", req->container_id);
        return r;
    }
    return 0;
}

int snapshot_release(void *state, const struct berth_storage_container_request *req, void *res,
                     struct berth_error *err)
{
    struct snapshot *sn = state;
    (void)res;
    /* Nothing to drop: the bind lived in the container's mount namespace and
     * went with it. The root stays for a restart. */
    if (!req || !container_id_valid(req->container_id)) {
        sn->services->set_error(err, EINVAL, "invalid container id '%s'",
                                req && req->container_id ? req->container_id : "(null)");
        return -EINVAL;
    }
    return 0;
}

int snapshot_remove(void *state, const struct berth_storage_container_request *req, void *res,
                    struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    (void)res;
    if (!req || !container_id_valid(req->container_id)) {
        s->set_error(err, EINVAL, "invalid container id '%s'",
                     req && req->container_id ? req->container_id : "(null)");
        return -EINVAL;
    }
    _cleanup_close_ int fd = openat(sn->state_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* Renamed to the trash first: a crash halfway leaves nothing under the id;
     * the subvolumes inside go by ioctl, nested ones included. */
    int r = fd < 0 ? -errno
                   : berth_trash_remove(sn->state_fd, fd, req->container_id, &subvolume_removal);
    if (r < 0) {
        s->set_error(err, -r, "remove root '%s/containers/%s'", s->state_dir, req->container_id);
        return r;
    }
    return 0;
}

int containers_gc(struct snapshot *sn, const struct berth_gc_request *req, struct berth_error *err)
{
    const struct berth_services *s = sn->services;
    int fd = openat(sn->state_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int r = -errno;
        if (err)
            s->set_error(err, -r, "open '%s/containers'", s->state_dir);
        return r;
    }
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        if (!container_id_valid(de->d_name))
            continue;
        int known = 0;
        for (uint32_t i = 0; i < req->n_container_ids && !known; i++)
            known = req->container_ids[i] && strcmp(req->container_ids[i], de->d_name) == 0;
        /* A known container's tmp-rootfs may be a prepare in progress; the
         * next prepare removes a crashed one itself. */
        if (known)
            continue;
        int q = berth_trash_remove(sn->state_fd, dirfd(d), de->d_name, &subvolume_removal);
        if (q < 0 && r == 0) {
            r = q;
            if (err)
                s->set_error(err, -r, "gc root '%s/containers/%s'", s->state_dir, de->d_name);
        }
    }
    return r;
}
