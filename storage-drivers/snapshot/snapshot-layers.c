/* SPDX-License-Identifier: MIT */
/*
 * Image layers. Unlike overlay's, a layer directory here holds the full tree
 * of the image up to that layer: it starts as a snapshot (or copy) of its
 * parent layer and the host unpacks the layer's diff into it with whiteouts
 * applied as deletions. Its content therefore depends on every layer below,
 * so it is keyed by the layer's CHAIN id, and two images share a directory
 * exactly when they share the chain.
 *
 * A layer is built under layers/tmp-KEY-XXXXXXXX and renamed to layers/KEY
 * when complete (on btrfs after being made read-only, so no container or
 * bug can change what later snapshots start from). Everything about KEY
 * happens under the lock "layer-KEY", shared by every berth process: a layer
 * is built once, and never deleted while a child layer or a container is
 * being made from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"

int layer_key(const char *id, char ret_key[static LAYER_KEY_MAX])
{
    if (!id)
        return -EINVAL;
    const char *colon = strchr(id, ':');
    if (!colon || colon == id || colon - id > 16)
        return -EINVAL;
    size_t algo_len = (size_t)(colon - id);
    for (size_t i = 0; i < algo_len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789", id[i]))
            return -EINVAL;
    const char *hex = colon + 1;
    size_t hex_len = strlen(hex);
    if (hex_len < 32 || hex_len > 128 || strspn(hex, "0123456789abcdef") != hex_len)
        return -EINVAL;
    if (algo_len == 6 && strncmp(id, "sha256", 6) == 0)
        snprintf(ret_key, LAYER_KEY_MAX, "%s", hex);
    else
        snprintf(ret_key, LAYER_KEY_MAX, "%.*s-%s", (int)algo_len, id, hex);
    return 0;
}

int layer_ref_key(const struct berth_layer_ref *ref, char ret_key[static LAYER_KEY_MAX])
{
    if (!ref)
        return -EINVAL;
    if (ref->chain_id)
        return layer_key(ref->chain_id, ret_key);
    if (!ref->parent_chain_id)
        return layer_key(ref->diff_id, ret_key);
    return -EINVAL; /* a layer on a parent needs its chain id */
}

/* The inverse of layer_key, for gc: the chain id a directory stands for. */
static int key_chain_id(const char *key, char ret[static LAYER_KEY_MAX])
{
    const char *dash = strchr(key, '-');
    int n = dash ? snprintf(ret, LAYER_KEY_MAX, "%.*s:%s", (int)(dash - key), key, dash + 1)
                 : snprintf(ret, LAYER_KEY_MAX, "sha256:%s", key);
    if (n < 0 || n >= LAYER_KEY_MAX)
        return -EINVAL;
    char again[LAYER_KEY_MAX];
    return layer_key(ret, again) == 0 && strcmp(again, key) == 0 ? 0 : -EINVAL;
}

int lock_layer(struct snapshot *sn, const char *key, int *ret_token)
{
    char name[LAYER_KEY_MAX + 8];
    snprintf(name, sizeof(name), "layer-%s", key);
    return sn->services->lock(sn->services->host, name, ret_token);
}

void unlock_layer(struct snapshot *sn, int token)
{
    sn->services->unlock(sn->services->host, token);
}

int layer_present(struct snapshot *sn, const char *key)
{
    char path[LAYER_KEY_MAX + 16];
    struct stat st;
    snprintf(path, sizeof(path), "layers/%s", key);
    if (fstatat(sn->state_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    /* Only a rename of a complete build makes this name. */
    return S_ISDIR(st.st_mode);
}

int make_tree_from(struct snapshot *sn, int src_fd, int dir_fd, const char *name)
{
    int r;
    if (sn->mode == MODE_BTRFS) {
        r = src_fd >= 0 ? btrfs_snapshot(src_fd, dir_fd, name, 0)
                        : btrfs_subvol_create(dir_fd, name);
    } else if (src_fd >= 0) {
        struct berth_copy_options opts = {.reflink = sn->mode == MODE_REFLINK};
        return berth_tree_copy(src_fd, dir_fd, name, &opts);
    } else {
        r = mkdirat(dir_fd, name, 0755) < 0 ? -errno : 0;
    }
    if (r < 0 || src_fd >= 0)
        return r;
    /* An empty root looks like a fresh image's "/", whatever the umask. */
    if (fchownat(dir_fd, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 ||
        fchmodat(dir_fd, name, 0755, 0) < 0)
        return -errno;
    return 0;
}

/* Removes the tmp-KEY-* leftovers of a crashed add_layer. Called with the
 * layer's lock held, so no live process is writing them. */
static int remove_layer_leftovers(int layers_fd, const char *key)
{
    int fd = openat(layers_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    char prefix[LAYER_KEY_MAX + 8];
    snprintf(prefix, sizeof(prefix), "tmp-%s-", key);
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        int q = berth_tree_remove(layers_fd, de->d_name, &subvolume_removal);
        if (q < 0 && r == 0)
            r = q;
    }
    return r;
}

/* Opens the parent layer, holding its lock so that it cannot go while we
 * snapshot or copy it. Lock order is always child, then parent. */
static int open_parent_layer(struct snapshot *sn, const char *parent_key, int *ret_token,
                             struct berth_error *err)
{
    const struct berth_services *s = sn->services;
    int token = -1, r = lock_layer(sn, parent_key, &token);
    if (r < 0) {
        s->set_error(err, -r, "lock layer '%s'", parent_key);
        return r;
    }
    char path[LAYER_KEY_MAX + 16];
    snprintf(path, sizeof(path), "layers/%s", parent_key);
    int fd = openat(sn->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        unlock_layer(sn, token);
        s->set_error(err, -r, "parent layer '%s' is not present", parent_key);
        return r;
    }
    *ret_token = token;
    return fd;
}

static int build_layer(struct snapshot *sn, const struct berth_layer_request *req, const char *key,
                       int layers_fd, struct berth_error *err)
{
    const struct berth_services *s = sn->services;
    _cleanup_free_ char *dest = NULL;
    _cleanup_close_ int tmp_fd = -1;
    int r = remove_layer_leftovers(layers_fd, key);
    if (r < 0) {
        s->set_error(err, -r, "remove leftovers of layer '%s'", key);
        return r;
    }
    uint32_t rnd;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        r = -errno;
        s->set_error(err, -r, "getrandom");
        return r;
    }
    char tmp[LAYER_KEY_MAX + 32];
    snprintf(tmp, sizeof(tmp), "tmp-%s-%08" PRIx32, key, rnd);

    if (req->layer.parent_chain_id) {
        char parent_key[LAYER_KEY_MAX];
        if (layer_key(req->layer.parent_chain_id, parent_key) < 0) {
            s->set_error(err, EINVAL, "invalid parent chain id '%s'", req->layer.parent_chain_id);
            return -EINVAL;
        }
        int token = -1;
        int parent_fd = open_parent_layer(sn, parent_key, &token, err);
        if (parent_fd < 0)
            return parent_fd;
        r = make_tree_from(sn, parent_fd, layers_fd, tmp);
        close(parent_fd);
        unlock_layer(sn, token);
        if (r < 0)
            s->set_error(err, -r, "%s parent layer '%s' to 'layers/%s'",
                         sn->mode == MODE_BTRFS ? "snapshot" : "copy", parent_key, tmp);
    } else {
        r = make_tree_from(sn, -1, layers_fd, tmp);
        if (r < 0)
            s->set_error(err, -r, "create 'layers/%s'", tmp);
    }
    if (r < 0)
        goto fail;

    if (asprintf(&dest, "%s/layers/%s", s->state_dir, tmp) < 0) {
        r = -ENOMEM;
        s->set_error(err, ENOMEM, "unpack layer '%s'", key);
        goto fail;
    }
    r = s->unpack_layer(s->host, req->tar_path, dest, BERTH_WHITEOUT_APPLY, err);
    if (r < 0)
        goto fail; /* the host described it */

    tmp_fd = openat(layers_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tmp_fd < 0) {
        r = -errno;
        s->set_error(err, -r, "open 'layers/%s'", tmp);
        goto fail;
    }
    /* The rename is the promise that the layer is complete: make it durable
     * first, or a power cut could leave a present but empty layer. */
    if (sn->mode == MODE_BTRFS && (r = btrfs_set_readonly(tmp_fd, 1)) < 0) {
        s->set_error(err, -r, "make layer 'layers/%s' read-only", tmp);
        goto fail;
    }
    if (syncfs(tmp_fd) < 0 || renameat(layers_fd, tmp, layers_fd, key) < 0) {
        r = -errno;
        s->set_error(err, -r, "sync and rename 'layers/%s' to 'layers/%s'", tmp, key);
        goto fail;
    }
    fsync(layers_fd);
    return 0;

fail:
    if (tmp_fd >= 0) {
        close(tmp_fd);
        tmp_fd = -1;
    }
    berth_tree_remove(layers_fd, tmp, &subvolume_removal);
    return r;
}

/*
 * Takes layers/KEY away; lock held. A read-only subvolume cannot be renamed
 * into another directory (its ".." would change), and needs no trash anyway:
 * its deletion is one ioctl that makes it vanish at once, the kernel frees
 * its extents in the background. Anything else goes to the trash. Returns 1
 * with the trash name (the caller deletes it after unlocking), 0 if the layer
 * is absent or already deleted, or -errno.
 */
static int retire_layer(struct snapshot *sn, int layers_fd, const char *key,
                        char ret_trash[static 64])
{
    _cleanup_close_ int fd =
        openat(layers_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd >= 0 && btrfs_is_subvolume(fd) > 0) {
        close(fd);
        fd = -1;
        return btrfs_subvol_delete(layers_fd, key);
    }
    return berth_trash_move(sn->state_fd, layers_fd, key, ret_trash);
}

int snapshot_has_layer(void *state, const struct berth_layer_ref *req, void *res,
                       struct berth_error *err)
{
    struct snapshot *sn = state;
    char key[LAYER_KEY_MAX];
    (void)res;
    if (layer_ref_key(req, key) < 0) {
        sn->services->set_error(err, EINVAL, "invalid layer ref (chain id '%s')",
                                req && req->chain_id ? req->chain_id : "(null)");
        return -EINVAL;
    }
    int r = layer_present(sn, key);
    if (r < 0)
        sn->services->set_error(err, -r, "read layer 'layers/%s'", key);
    return r;
}

int snapshot_add_layer(void *state, const struct berth_layer_request *req, void *res,
                       struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    char key[LAYER_KEY_MAX];
    (void)res;
    if (!req || !req->tar_path || layer_ref_key(&req->layer, key) < 0) {
        s->set_error(err, EINVAL, "invalid layer request (chain id '%s')",
                     req && req->layer.chain_id ? req->layer.chain_id : "(null)");
        return -EINVAL;
    }
    _cleanup_close_ int layers_fd =
        openat(sn->state_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (layers_fd < 0) {
        int r = -errno;
        s->set_error(err, -r, "open '%s/layers'", s->state_dir);
        return r;
    }
    int token = -1, r = lock_layer(sn, key, &token);
    if (r < 0) {
        s->set_error(err, -r, "lock layer '%s'", key);
        return r;
    }
    r = layer_present(sn, key);
    if (r < 0)
        s->set_error(err, -r, "read layer 'layers/%s'", key);
    else if (r == 0)
        r = build_layer(sn, req, key, layers_fd, err);
    else
        r = 0;
    unlock_layer(sn, token);
    return r;
}

int snapshot_remove_layer(void *state, const struct berth_layer_ref *req, void *res,
                          struct berth_error *err)
{
    struct snapshot *sn = state;
    const struct berth_services *s = sn->services;
    char key[LAYER_KEY_MAX], trash[64];
    (void)res;
    if (layer_ref_key(req, key) < 0) {
        s->set_error(err, EINVAL, "invalid layer ref (chain id '%s')",
                     req && req->chain_id ? req->chain_id : "(null)");
        return -EINVAL;
    }
    _cleanup_close_ int layers_fd =
        openat(sn->state_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (layers_fd < 0) {
        int r = -errno;
        s->set_error(err, -r, "open '%s/layers'", s->state_dir);
        return r;
    }
    int token = -1, r = lock_layer(sn, key, &token);
    if (r < 0) {
        s->set_error(err, -r, "lock layer '%s'", key);
        return r;
    }
    /* Layers above it are snapshots or copies of their own: they stay valid. */
    r = retire_layer(sn, layers_fd, key, trash);
    unlock_layer(sn, token);
    if (r < 0) {
        s->set_error(err, -r, "remove layer 'layers/%s'", key);
        return r;
    }
    /* The slow part runs without the lock: the layer is already gone. */
    if (r == 1 && (r = berth_tree_remove(sn->state_fd, trash, &subvolume_removal)) < 0) {
        s->set_error(err, -r, "delete '%s/%s'", s->state_dir, trash);
        return r;
    }
    return 0;
}

static int id_listed(const char *const *ids, uint32_t n, const char *id)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] && strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

static int gc_layer_dir(struct snapshot *sn, int layers_fd, const char *name,
                        const struct berth_gc_request *req)
{
    char key[LAYER_KEY_MAX], chain_id[LAYER_KEY_MAX], trash[64];
    int is_tmp = strncmp(name, "tmp-", 4) == 0;
    if (is_tmp) {
        const char *dash = strrchr(name, '-');
        if (dash - (name + 4) <= 0 || dash - (name + 4) >= LAYER_KEY_MAX)
            return 0; /* not a name this driver makes: leave it */
        snprintf(key, sizeof(key), "%.*s", (int)(dash - (name + 4)), name + 4);
    } else {
        if (strlen(name) >= sizeof(key))
            return 0;
        memcpy(key, name, strlen(name) + 1);
    }
    if (key_chain_id(key, chain_id) < 0)
        return 0; /* not ours: leave it */
    if (!is_tmp && id_listed(req->layer_ids, req->n_layer_ids, chain_id))
        return 0;

    int token = -1, r = lock_layer(sn, key, &token);
    if (r < 0)
        return r;
    if (is_tmp) {
        /* With the lock held no add_layer is building it: a crash's leftover. */
        r = berth_tree_remove(layers_fd, name, &subvolume_removal);
        unlock_layer(sn, token);
        return r;
    }
    r = retire_layer(sn, layers_fd, key, trash);
    unlock_layer(sn, token);
    if (r == 1)
        r = berth_tree_remove(sn->state_fd, trash, &subvolume_removal);
    return r < 0 ? r : 0;
}

int layers_gc(struct snapshot *sn, const struct berth_gc_request *req, struct berth_error *err)
{
    const struct berth_services *s = sn->services;
    int layers_fd = openat(sn->state_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (layers_fd < 0) {
        int r = -errno;
        if (err)
            s->set_error(err, -r, "open '%s/layers'", s->state_dir);
        return r;
    }
    _cleanup_closedir_ DIR *d = fdopendir(layers_fd);
    if (!d) {
        close(layers_fd);
        return -ENOMEM;
    }
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        int q = gc_layer_dir(sn, dirfd(d), de->d_name, req);
        if (q < 0 && r == 0) {
            r = q;
            if (err)
                s->set_error(err, -r, "gc layer 'layers/%s'", de->d_name);
        }
    }
    return r;
}
