/* SPDX-License-Identifier: MIT */
/*
 * Containers' writable layers (containers/ID/{upper,work}) and the one
 * overlay mount that makes a container's root filesystem. The driver only
 * describes the mount; berth's runtime performs it inside the container's
 * mount namespace, so nothing is ever mounted on the host by this driver.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "overlay.h"

/* Container ids become path components and mount options: no '/', ',', ':'
 * or leading dot. */
int container_id_valid(const char *id)
{
    if (!id || !*id || id[0] == '.' || id[0] == '-' || strlen(id) > 128)
        return 0;
    for (const char *p = id; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
            return 0;
    return 1;
}

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_done(struct buf *b)
{
    free(b->p);
}

static int buf_append(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
    return 0;
}

/*
 * Makes containers/ID/upper with the mode and owner of the image's root
 * directory (else the container's "/" would show the driver's 0700/root),
 * atomically, so a crash cannot leave an upper with the wrong mode.
 */
static int make_upper(int dir_fd, const struct stat *root)
{
    struct stat st;
    if (fstatat(dir_fd, "upper", &st, AT_SYMLINK_NOFOLLOW) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    if (errno != ENOENT)
        return -errno;
    if (unlinkat(dir_fd, "upper-new", AT_REMOVEDIR) < 0 && errno != ENOENT)
        return -errno;
    if (mkdirat(dir_fd, "upper-new", 0700) < 0)
        return -errno;
    if (fchownat(dir_fd, "upper-new", root->st_uid, root->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        fchmodat(dir_fd, "upper-new", root->st_mode & 07777, 0) < 0 ||
        renameat(dir_fd, "upper-new", dir_fd, "upper") < 0)
        return -errno;
    return 0;
}

static int make_container_dirs(struct overlay *ov, const char *id, const struct stat *root)
{
    char path[160];
    snprintf(path, sizeof(path), "containers/%s", id);
    if (mkdirat(ov->state_fd, path, 0700) < 0 && errno != EEXIST)
        return -errno;
    _cleanup_close_ int fd =
        openat(ov->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (mkdirat(fd, "work", 0700) < 0 && errno != EEXIST)
        return -errno;
    return make_upper(fd, root);
}

int overlay_prepare(void *state, const struct berth_storage_prepare_request *req,
                    struct berth_storage_prepare_result *res, struct berth_error *err)
{
    struct overlay *ov = state;
    const struct berth_services *s = ov->services;
    int r;

    if (!req || !res || !res->add_mount || !container_id_valid(req->container_id) ||
        (req->n_layers > 0 && !req->layers)) {
        s->set_error(err, EINVAL, "invalid prepare request for container '%s'",
                     req && req->container_id ? req->container_id : "(null)");
        return -EINVAL;
    }

    /* lowerdir lists the top layer first; each entry is a short l/ link. */
    __attribute__((cleanup(buf_done))) struct buf lower = {0};
    struct stat root = {.st_mode = 0755};
    r = buf_append(&lower, "lowerdir=");
    for (uint32_t i = req->n_layers; r == 0 && i-- > 0;) {
        const struct berth_layer_ref *l = &req->layers[i];
        char key[LAYER_KEY_MAX], short_name[LAYER_KEY_MAX], entry[LAYER_KEY_MAX + 8];
        if (layer_key(l->diff_id, key) < 0) {
            s->set_error(err, EINVAL, "invalid diff id '%s'", l->diff_id ? l->diff_id : "(null)");
            return -EINVAL;
        }
        r = layer_short_name(ov, key, short_name);
        if (r < 0) {
            s->set_error(err, -r, "layer '%s' of container '%s' is not present", l->diff_id,
                         req->container_id);
            return r;
        }
        if (i == req->n_layers - 1) {
            char path[LAYER_KEY_MAX + 32];
            snprintf(path, sizeof(path), "layers/%s/diff", key);
            if (fstatat(ov->state_fd, path, &root, 0) < 0) {
                r = -errno;
                break;
            }
        }
        snprintf(entry, sizeof(entry), "/l/%s", short_name);
        r = buf_append(&lower, s->state_dir);
        if (r == 0)
            r = buf_append(&lower, entry);
        if (r == 0 && i > 0)
            r = buf_append(&lower, ":");
    }
    if (r == 0 && req->n_layers == 0) {
        /* overlay needs a lower dir: an empty one gives an empty root. */
        r = buf_append(&lower, s->state_dir);
        if (r == 0)
            r = buf_append(&lower, "/empty");
    }
    if (r < 0) {
        s->set_error(err, -r, "prepare container '%s'", req->container_id);
        return r;
    }

    r = make_container_dirs(ov, req->container_id, &root);
    if (r < 0) {
        s->set_error(err, -r, "create writable layer '%s/containers/%s'", s->state_dir,
                     req->container_id);
        return r;
    }

    /*
     * index=off where the kernel has the option: with the index on, overlay
     * records the lower layers' file handles in the upper dir and refuses
     * to mount it again once a layer was unpacked anew (new inodes), e.g.
     * after gc and a new pull. Read-only keeps the upper dir, mounted "ro":
     * the same layout either way, and what the container wrote in an
     * earlier run stays visible.
     */
    /*
     * volatile for a transient container (removed when it exits): without
     * it, unmounting overlay syncs the whole upper filesystem, which costs
     * tens of milliseconds per container here; a transient container's
     * writes are not worth keeping across a host crash anyway.
     */
    int transient = req->size >= offsetof(struct berth_storage_prepare_request, options_json) +
                                     sizeof(req->options_json) &&
                    req->options_json && strstr(req->options_json, "\"transient\":true");
    _cleanup_free_ char *options = NULL;
    if (asprintf(&options, "%s,upperdir=%s/containers/%s/upper,workdir=%s/containers/%s/work%s%s%s",
                 lower.p, s->state_dir, req->container_id, s->state_dir, req->container_id,
                 ov->has_index_param ? ",index=off" : "", transient ? ",volatile" : "",
                 req->read_only ? ",ro" : "") < 0) {
        s->set_error(err, ENOMEM, "prepare container '%s'", req->container_id);
        return -ENOMEM;
    }
    struct berth_mount m = {
        .size = sizeof(m),
        .type = "overlay",
        .source = "overlay",
        .target = "/",
        .options = options,
    };
    r = res->add_mount(res->host_ctx, &m);
    if (r < 0) {
        s->set_error(err, -r, "report the root mount of container '%s'", req->container_id);
        return r;
    }
    return 0;
}

int overlay_release(void *state, const struct berth_storage_container_request *req, void *res,
                    struct berth_error *err)
{
    struct overlay *ov = state;
    (void)res;
    /* Nothing to drop: the mount lived in the container's mount namespace
     * and went with it. The writable layer stays for a restart. */
    if (!req || !container_id_valid(req->container_id)) {
        ov->services->set_error(err, EINVAL, "invalid container id '%s'",
                                req && req->container_id ? req->container_id : "(null)");
        return -EINVAL;
    }
    return 0;
}

int overlay_remove(void *state, const struct berth_storage_container_request *req, void *res,
                   struct berth_error *err)
{
    struct overlay *ov = state;
    const struct berth_services *s = ov->services;
    (void)res;
    if (!req || !container_id_valid(req->container_id)) {
        s->set_error(err, EINVAL, "invalid container id '%s'",
                     req && req->container_id ? req->container_id : "(null)");
        return -EINVAL;
    }
    _cleanup_close_ int fd = openat(ov->state_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = fd < 0 ? -errno : berth_trash_remove(ov->state_fd, fd, req->container_id, NULL);
    if (r < 0) {
        s->set_error(err, -r, "remove writable layer '%s/containers/%s'", s->state_dir,
                     req->container_id);
        return r;
    }
    return 0;
}

int containers_gc(struct overlay *ov, const struct berth_gc_request *req, struct berth_error *err)
{
    const struct berth_services *s = ov->services;
    int fd = openat(ov->state_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
        if (known)
            continue;
        int q = berth_trash_remove(ov->state_fd, dirfd(d), de->d_name, NULL);
        if (q < 0 && r == 0) {
            r = q;
            if (err)
                s->set_error(err, -r, "gc writable layer '%s/containers/%s'", s->state_dir,
                             de->d_name);
        }
    }
    return r;
}
