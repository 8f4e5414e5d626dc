/* SPDX-License-Identifier: MIT */
/*
 * Filesystem snapshots of a container (ABI 1.1): containers/ID/snapshots/
 * NAME/tree is a snapshot of the container's root: a btrfs snapshot
 * (constant time, shared extents) or, elsewhere, a reflink or plain copy. A
 * snapshot is built under snapshots/.tmp-NAME and renamed into place; a
 * restore makes tmp-rootfs from it and swaps it with the root in one
 * renameat2(RENAME_EXCHANGE), so a crash never leaves a container without
 * its root. The snapshots live in the container's directory and go with it
 * (remove, gc).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"

#define SNAP_NAME_MAX 128

static int snapshot_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > SNAP_NAME_MAX || name[0] == '.' || name[0] == '-' ||
        name[0] == '_')
        return 0;
    for (const char *p = name; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
            return 0;
    return 1;
}

/* Checks REQ, takes the container's snapshot lock and opens containers/ID. */
static int open_container(struct snapshot *sn, const struct berth_storage_snapshot_request *req,
                          int need_name, int *ret_fd, int *ret_token, struct berth_error *err)
{
    const struct berth_services *s = sn->services;
    if (!req || !container_id_valid(req->container_id) ||
        (need_name && !snapshot_name_valid(req->name))) {
        s->set_error(err, EINVAL, "invalid snapshot request (container '%s', name '%s')",
                     req && req->container_id ? req->container_id : "(null)",
                     req && req->name ? req->name : "(null)");
        return -EINVAL;
    }
    char lock_name[160];
    snprintf(lock_name, sizeof(lock_name), "snap-%s", req->container_id);
    int r = s->lock(s->host, lock_name, ret_token);
    if (r < 0) {
        s->set_error(err, -r, "lock the snapshots of container '%s'", req->container_id);
        return r;
    }
    char path[160];
    snprintf(path, sizeof(path), "containers/%s", req->container_id);
    int fd = openat(sn->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        s->unlock(s->host, *ret_token);
        s->set_error(err, -r, "container '%s' has no writable layer", req->container_id);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

static int open_snapshots(int ctr_fd, int create)
{
    if (create && mkdirat(ctr_fd, "snapshots", 0700) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(ctr_fd, "snapshots", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int snapshot_fs_save(void *state, const struct berth_storage_snapshot_request *req, void *res,
                     struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    (void)res;
    int token = -1;
    _cleanup_close_ int ctr_fd = -1;
    int r = open_container(sn, req, 1, &ctr_fd, &token, err);
    if (r < 0)
        return r;
    _cleanup_close_ int root_fd =
        openat(ctr_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int snaps_fd = root_fd < 0 ? -errno : open_snapshots(ctr_fd, 1);
    char tmp[SNAP_NAME_MAX + 8];
    snprintf(tmp, sizeof(tmp), ".tmp-%s", req->name);
    struct stat st;
    if (root_fd < 0 || snaps_fd < 0) {
        r = root_fd < 0 ? -errno : snaps_fd;
        s->set_error(err, -r, "open the root of container '%s'", req->container_id);
    } else if (fstatat(snaps_fd, req->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        r = -EEXIST;
        s->set_error(err, EEXIST, "snapshot '%s' of container '%s' exists", req->name,
                     req->container_id);
    } else if ((r = berth_tree_remove(snaps_fd, tmp, &subvolume_removal)) < 0 ||
               (mkdirat(snaps_fd, tmp, 0700) < 0 && (r = -errno) < 0)) {
        s->set_error(err, -r, "make '%s'", tmp);
    } else {
        _cleanup_close_ int tmp_fd =
            openat(snaps_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmp_fd < 0)
            r = -errno;
        if (r == 0)
            r = make_tree_from(sn, root_fd, tmp_fd, "tree");
        if (r == 0 && sn->mode != MODE_BTRFS && syncfs(tmp_fd) < 0)
            r = -errno;
        if (r == 0 && renameat(snaps_fd, tmp, snaps_fd, req->name) < 0)
            r = -errno;
        if (r < 0) {
            s->set_error(err, -r, "%s the root of container '%s'",
                         sn->mode == MODE_BTRFS ? "snapshot" : "copy", req->container_id);
            berth_tree_remove(snaps_fd, tmp, &subvolume_removal);
        }
    }
    s->unlock(s->host, token);
    return r;
}

int snapshot_fs_restore(void *state, const struct berth_storage_snapshot_request *req, void *res,
                        struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    (void)res;
    int token = -1;
    _cleanup_close_ int ctr_fd = -1;
    int r = open_container(sn, req, 1, &ctr_fd, &token, err);
    if (r < 0)
        return r;
    _cleanup_close_ int snaps_fd = open_snapshots(ctr_fd, 0);
    char path[SNAP_NAME_MAX + 8];
    snprintf(path, sizeof(path), "%s/tree", req->name);
    _cleanup_close_ int snap_fd =
        snaps_fd < 0 ? -1 : openat(snaps_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (snap_fd < 0) {
        r = -ENOENT;
        s->set_error(err, ENOENT, "container '%s' has no snapshot '%s'", req->container_id,
                     req->name);
    } else if ((r = berth_tree_remove(ctr_fd, "tmp-rootfs", &subvolume_removal)) < 0 ||
               (r = make_tree_from(sn, snap_fd, ctr_fd, "tmp-rootfs")) < 0 ||
               (sn->mode != MODE_BTRFS && syncfs(ctr_fd) < 0 && (r = -errno) < 0)) {
        s->set_error(err, -r, "%s snapshot '%s' of container '%s'",
                     sn->mode == MODE_BTRFS ? "snapshot" : "copy", req->name, req->container_id);
        berth_tree_remove(ctr_fd, "tmp-rootfs", &subvolume_removal);
    } else if (renameat2(ctr_fd, "tmp-rootfs", ctr_fd, "rootfs", RENAME_EXCHANGE) < 0) {
        r = -errno;
        s->set_error(err, -r, "swap in snapshot '%s' of container '%s'", req->name,
                     req->container_id);
        berth_tree_remove(ctr_fd, "tmp-rootfs", &subvolume_removal);
    } else {
        /* The old root, now under the other name. */
        r = berth_trash_remove(sn->state_fd, ctr_fd, "tmp-rootfs", &subvolume_removal);
        if (r < 0)
            s->log(s->host, BERTH_LOG_WARNING, "remove the old root of '%s': %s", req->container_id,
                   strerror(-r));
        r = 0;
    }
    s->unlock(s->host, token);
    return r;
}

int snapshot_fs_remove(void *state, const struct berth_storage_snapshot_request *req, void *res,
                       struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    (void)res;
    int token = -1;
    _cleanup_close_ int ctr_fd = -1;
    int r = open_container(sn, req, 1, &ctr_fd, &token, err);
    if (r < 0)
        return r;
    _cleanup_close_ int snaps_fd = open_snapshots(ctr_fd, 0);
    struct stat st;
    if (snaps_fd < 0 || fstatat(snaps_fd, req->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        r = -ENOENT;
        s->set_error(err, ENOENT, "container '%s' has no snapshot '%s'", req->container_id,
                     req->name);
    } else if ((r = berth_trash_remove(sn->state_fd, snaps_fd, req->name, &subvolume_removal)) <
               0) {
        s->set_error(err, -r, "remove snapshot '%s' of container '%s'", req->name,
                     req->container_id);
    }
    s->unlock(s->host, token);
    return r;
}

struct snap_entry {
    char *name;
    long long created;
};

static int cmp_entries(const void *a, const void *b)
{
    const struct snap_entry *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->name, y->name);
}

int snapshot_fs_list(void *state, const struct berth_storage_snapshot_request *req,
                     struct berth_text_result *res, struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    if (!res || !res->put) {
        s->set_error(err, EINVAL, "snapshot list needs a result");
        return -EINVAL;
    }
    int token = -1;
    _cleanup_close_ int ctr_fd = -1;
    int r = open_container(sn, req, 0, &ctr_fd, &token, err);
    if (r < 0)
        return r;
    struct snap_entry *v = NULL;
    size_t n = 0;
    int snaps_fd = open_snapshots(ctr_fd, 0);
    DIR *d = snaps_fd < 0 ? NULL : fdopendir(snaps_fd);
    if (!d && snaps_fd >= 0)
        close(snaps_fd);
    struct dirent *de;
    while (r == 0 && d && (de = readdir(d))) {
        struct stat st;
        if (!snapshot_name_valid(de->d_name) ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        struct snap_entry *g = realloc(v, (n + 1) * sizeof(*g));
        if (!g || !(g[n].name = strdup(de->d_name))) {
            if (g)
                v = g;
            r = -ENOMEM;
            break;
        }
        v = g;
        v[n++].created = (long long)st.st_mtim.tv_sec;
    }
    if (d)
        closedir(d);
    s->unlock(s->host, token);
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_entries);
    /* Names are [A-Za-z0-9_.-]: no JSON escaping needed. */
    size_t cap = 3 + n * (SNAP_NAME_MAX + 48);
    char *text = r == 0 ? malloc(cap) : NULL;
    if (r == 0 && !text)
        r = -ENOMEM;
    if (r == 0) {
        size_t len = (size_t)snprintf(text, cap, "[");
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(text + len, cap - len, "%s{\"name\":\"%s\",\"created\":%lld}",
                                    i ? "," : "", v[i].name, v[i].created);
        snprintf(text + len, cap - len, "]");
        r = res->put(res->host_ctx, text);
    }
    if (r < 0)
        s->set_error(err, -r, "list the snapshots of container '%s'",
                     req && req->container_id ? req->container_id : "(null)");
    free(text);
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    return r < 0 ? r : 0;
}
