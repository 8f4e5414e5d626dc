/* SPDX-License-Identifier: MIT */
/*
 * Image layers: unpacked once into layers/KEY/diff, KEY derived from the
 * layer's diff id, so every image whose layer has the same content shares one
 * directory whatever lies below it in that image (overlay merges at mount
 * time, so a layer's directory never depends on its parents).
 *
 * Because one directory can serve several chains, each layer records the
 * chain ids that use it (layers/KEY/chains). has_layer answers for a chain,
 * remove_layer drops one chain and deletes the directory with the last one,
 * and gc keeps a layer if its diff id or any of its chain ids is still
 * referenced. All of this happens under the lock "layer-KEY", shared by every
 * berth process, so a layer is unpacked once and never deleted while another
 * process adds a chain to it.
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

#include "overlay.h"

/* "sha256:HEX" → "HEX" (the common case stays short); "ALGO:HEX" → "ALGO-HEX". */
int layer_key(const char *diff_id, char ret_key[static LAYER_KEY_MAX])
{
    if (!diff_id)
        return -EINVAL;
    const char *colon = strchr(diff_id, ':');
    if (!colon || colon == diff_id || colon - diff_id > 16)
        return -EINVAL;
    size_t algo_len = (size_t)(colon - diff_id);
    for (size_t i = 0; i < algo_len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789", diff_id[i]))
            return -EINVAL;
    const char *hex = colon + 1;
    size_t hex_len = strlen(hex);
    if (hex_len < 32 || hex_len > 128 || strspn(hex, "0123456789abcdef") != hex_len)
        return -EINVAL;
    if (algo_len == 6 && strncmp(diff_id, "sha256", 6) == 0)
        snprintf(ret_key, LAYER_KEY_MAX, "%s", hex);
    else
        snprintf(ret_key, LAYER_KEY_MAX, "%.*s-%s", (int)algo_len, diff_id, hex);
    return 0;
}

/* The inverse of layer_key, for gc. */
static void key_diff_id(const char *key, char ret[static LAYER_KEY_MAX])
{
    const char *dash = strchr(key, '-');
    int n;
    if (dash)
        n = snprintf(ret, LAYER_KEY_MAX, "%.*s:%s", (int)(dash - key), key, dash + 1);
    else
        n = snprintf(ret, LAYER_KEY_MAX, "sha256:%s", key);
    /* Keys come from layer_key, which bounds them; a longer one matches nothing. */
    if (n < 0 || n >= LAYER_KEY_MAX)
        ret[0] = '\0';
}

static const char *key_hex(const char *key)
{
    const char *dash = strchr(key, '-');
    return dash ? dash + 1 : key;
}

static int key_valid(const char *key)
{
    char diff_id[LAYER_KEY_MAX], again[LAYER_KEY_MAX];
    if (strlen(key) >= LAYER_KEY_MAX - 8)
        return 0;
    key_diff_id(key, diff_id);
    return layer_key(diff_id, again) == 0 && strcmp(again, key) == 0;
}

static void link_target(const char *key, char ret[static LAYER_KEY_MAX + 32])
{
    snprintf(ret, LAYER_KEY_MAX + 32, "../layers/%s/diff", key);
}

/* Does l/SHORT point at KEY's diff? */
static int short_link_is(struct overlay *ov, const char *short_name, const char *key)
{
    char path[LAYER_KEY_MAX + 8], want[LAYER_KEY_MAX + 32], got[LAYER_KEY_MAX + 32];
    snprintf(path, sizeof(path), "l/%s", short_name);
    link_target(key, want);
    ssize_t n = readlinkat(ov->state_fd, path, got, sizeof(got) - 1);
    if (n < 0)
        return -errno;
    got[n] = '\0';
    return strcmp(got, want) == 0;
}

int layer_short_name(struct overlay *ov, const char *key, char ret_short[static LAYER_KEY_MAX])
{
    char path[LAYER_KEY_MAX + 32];
    struct stat st;
    snprintf(path, sizeof(path), "layers/%s/diff", key);
    if (fstatat(ov->state_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOENT;

    snprintf(path, sizeof(path), "layers/%s/link", key);
    _cleanup_free_ char *text = NULL;
    int r = read_text_at(ov->state_fd, path, &text);
    if (r < 0)
        return r;
    text[strcspn(text, "\n")] = '\0';
    size_t len = strlen(text);
    if (len < SHORT_NAME_MIN || len >= LAYER_KEY_MAX || strspn(text, "0123456789abcdef") != len)
        return -ENOENT;
    r = short_link_is(ov, text, key);
    if (r <= 0)
        return r == 0 ? -ENOENT : r;
    memcpy(ret_short, text, len + 1);
    return 0;
}

static int chains_contain(const char *chains, const char *chain_id)
{
    size_t len = strlen(chain_id);
    for (const char *p = chains; *p;) {
        const char *eol = strchrnul(p, '\n');
        if ((size_t)(eol - p) == len && strncmp(p, chain_id, len) == 0)
            return 1;
        p = *eol ? eol + 1 : eol;
    }
    return 0;
}

static int read_chains(struct overlay *ov, const char *key, char **ret)
{
    char path[LAYER_KEY_MAX + 32];
    snprintf(path, sizeof(path), "layers/%s/chains", key);
    int r = read_text_at(ov->state_fd, path, ret);
    if (r == -ENOENT) {
        *ret = strdup("");
        return *ret ? 0 : -ENOMEM;
    }
    return r;
}

static int write_chains(struct overlay *ov, const char *key, const char *text)
{
    char path[LAYER_KEY_MAX + 32];
    snprintf(path, sizeof(path), "layers/%s", key);
    _cleanup_close_ int fd =
        openat(ov->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return write_text_at(fd, "chains", text);
}

int layer_has_chain(struct overlay *ov, const char *key, const char *chain_id)
{
    _cleanup_free_ char *chains = NULL;
    int r = read_chains(ov, key, &chains);
    if (r < 0)
        return r;
    return chains_contain(chains, chain_id);
}

static int add_chain(struct overlay *ov, const char *key, const char *chain_id)
{
    _cleanup_free_ char *chains = NULL;
    int r = read_chains(ov, key, &chains);
    if (r < 0)
        return r;
    if (chains_contain(chains, chain_id))
        return 0;
    _cleanup_free_ char *text = NULL;
    if (asprintf(&text, "%s%s\n", chains, chain_id) < 0)
        return -ENOMEM;
    return write_chains(ov, key, text);
}

/* Removes CHAIN_ID from the list; returns how many chains remain. */
static int drop_chain(struct overlay *ov, const char *key, const char *chain_id)
{
    _cleanup_free_ char *chains = NULL;
    int r = read_chains(ov, key, &chains);
    if (r < 0)
        return r;
    _cleanup_free_ char *out = malloc(strlen(chains) + 1);
    if (!out)
        return -ENOMEM;
    size_t o = 0;
    int remaining = 0, dropped = 0;
    size_t len = strlen(chain_id);
    for (const char *p = chains; *p;) {
        const char *eol = strchrnul(p, '\n');
        size_t n = (size_t)(eol - p);
        if (n > 0 && !(n == len && strncmp(p, chain_id, len) == 0)) {
            memcpy(out + o, p, n);
            o += n;
            out[o++] = '\n';
            remaining++;
        } else if (n > 0) {
            dropped = 1;
        }
        p = *eol ? eol + 1 : eol;
    }
    out[o] = '\0';
    if (dropped && remaining > 0) {
        r = write_chains(ov, key, out);
        if (r < 0)
            return r;
    }
    return remaining;
}

static int lock_layer(struct overlay *ov, const char *key, int *ret_token)
{
    char name[LAYER_KEY_MAX + 8];
    snprintf(name, sizeof(name), "layer-%s", key);
    return ov->services->lock(ov->services->host, name, ret_token);
}

static void unlock_layer(struct overlay *ov, int token)
{
    ov->services->unlock(ov->services->host, token);
}

/* Picks a free short name under l/ and points it at KEY's future diff. The
 * link dangles until the layer is renamed into place; gc removes a dangling
 * link only under the layer's lock. */
static int make_short_link(struct overlay *ov, const char *key,
                           char ret_short[static LAYER_KEY_MAX])
{
    const char *hex = key_hex(key);
    size_t hex_len = strlen(hex);
    char target[LAYER_KEY_MAX + 32], path[LAYER_KEY_MAX + 8];
    link_target(key, target);
    for (size_t len = SHORT_NAME_MIN; len <= hex_len; len += 4) {
        snprintf(path, sizeof(path), "l/%.*s", (int)len, hex);
        if (symlinkat(target, ov->state_fd, path) == 0 || errno == EEXIST) {
            int r = short_link_is(ov, path + 2, key);
            if (r < 0)
                return r;
            if (r == 0)
                continue; /* another layer's prefix: take a longer one */
            snprintf(ret_short, LAYER_KEY_MAX, "%.*s", (int)len, hex);
            return 0;
        }
        return -errno;
    }
    return -EEXIST;
}

/* Removes the tmp-KEY-* leftovers of a crashed add_layer. Called with the
 * layer's lock held, so no live process is writing them. */
static int remove_layer_leftovers(struct overlay *ov, int layers_fd, const char *key)
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
    (void)ov;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        int q = berth_tree_remove(layers_fd, de->d_name, NULL);
        if (q < 0 && r == 0)
            r = q;
    }
    return r;
}

static int unpack_new_layer(struct overlay *ov, const struct berth_layer_request *req,
                            const char *key, int layers_fd, struct berth_error *err)
{
    const struct berth_services *s = ov->services;
    _cleanup_free_ char *dest = NULL, *chains = NULL;
    char short_name[LAYER_KEY_MAX], line[LAYER_KEY_MAX + 2];
    int r;

    /* A directory under the final name that is not complete cannot come from
     * this driver's rename; take no chances with it. */
    r = berth_trash_remove(ov->state_fd, layers_fd, key, NULL);
    if (r < 0) {
        s->set_error(err, -r, "remove incomplete layer 'layers/%s'", key);
        return r;
    }
    r = remove_layer_leftovers(ov, layers_fd, key);
    if (r < 0) {
        s->set_error(err, -r, "remove leftovers of layer '%s'", key);
        return r;
    }

    uint32_t rnd;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -errno;
    char tmp[LAYER_KEY_MAX + 32];
    snprintf(tmp, sizeof(tmp), "tmp-%s-%08" PRIx32, key, rnd);
    if (mkdirat(layers_fd, tmp, 0700) < 0) {
        r = -errno;
        s->set_error(err, -r, "create 'layers/%s'", tmp);
        return r;
    }
    _cleanup_close_ int tmp_fd =
        openat(layers_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tmp_fd < 0 || mkdirat(tmp_fd, "diff", 0755) < 0) {
        r = -errno;
        s->set_error(err, -r, "create 'layers/%s/diff'", tmp);
        goto fail;
    }

    if (asprintf(&dest, "%s/layers/%s/diff", s->state_dir, tmp) < 0) {
        r = -ENOMEM;
        goto fail;
    }
    r = s->unpack_layer(s->host, req->tar_path, dest, BERTH_WHITEOUT_CHARDEV, err);
    if (r < 0)
        goto fail; /* the host described it */

    r = make_short_link(ov, key, short_name);
    if (r < 0) {
        s->set_error(err, -r, "make short link of layer '%s' under '%s/l'", key, s->state_dir);
        goto fail;
    }
    snprintf(line, sizeof(line), "%s\n", short_name);
    r = write_text_at(tmp_fd, "link", line);
    if (r == 0) {
        if (req->layer.chain_id && asprintf(&chains, "%s\n", req->layer.chain_id) < 0)
            r = -ENOMEM;
        else
            r = write_text_at(tmp_fd, "chains", chains ? chains : "");
    }
    if (r < 0) {
        s->set_error(err, -r, "write metadata of layer '%s'", key);
        goto fail;
    }

    /* The rename is the promise that the layer is complete: make its content
     * durable first, or a power cut could leave a present but empty layer. */
    if (syncfs(tmp_fd) < 0) {
        r = -errno;
        s->set_error(err, -r, "sync layer '%s'", key);
        goto fail;
    }
    if (renameat(layers_fd, tmp, layers_fd, key) < 0) {
        r = -errno;
        s->set_error(err, -r, "rename 'layers/%s' to 'layers/%s'", tmp, key);
        goto fail;
    }
    fsync(layers_fd);
    return 0;

fail:
    berth_tree_remove(layers_fd, tmp, NULL);
    return r;
}

int overlay_has_layer(void *state, const struct berth_layer_ref *req, void *res,
                      struct berth_error *err)
{
    struct overlay *ov = state;
    char key[LAYER_KEY_MAX], short_name[LAYER_KEY_MAX];
    (void)res;
    if (!req || layer_key(req->diff_id, key) < 0) {
        ov->services->set_error(err, EINVAL, "invalid diff id '%s'",
                                req && req->diff_id ? req->diff_id : "(null)");
        return -EINVAL;
    }
    int r = layer_short_name(ov, key, short_name);
    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        ov->services->set_error(err, -r, "read layer '%s'", key);
        return r;
    }
    /* A layer present for another chain is not present for this one until
     * add_layer records the chain (cheap: no unpack), else removing that
     * other chain would delete a layer this one still uses. */
    if (req->chain_id) {
        r = layer_has_chain(ov, key, req->chain_id);
        if (r < 0) {
            ov->services->set_error(err, -r, "read chains of layer '%s'", key);
            return r;
        }
        return r;
    }
    return 1;
}

int overlay_add_layer(void *state, const struct berth_layer_request *req, void *res,
                      struct berth_error *err)
{
    struct overlay *ov = state;
    const struct berth_services *s = ov->services;
    char key[LAYER_KEY_MAX], short_name[LAYER_KEY_MAX];
    (void)res;
    if (!req || !req->tar_path || layer_key(req->layer.diff_id, key) < 0) {
        s->set_error(err, EINVAL, "invalid layer request (diff id '%s')",
                     req && req->layer.diff_id ? req->layer.diff_id : "(null)");
        return -EINVAL;
    }
    if (req->layer.chain_id && !id_text_valid(req->layer.chain_id)) {
        s->set_error(err, EINVAL, "invalid chain id '%s'", req->layer.chain_id);
        return -EINVAL;
    }

    _cleanup_close_ int layers_fd =
        openat(ov->state_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (layers_fd < 0) {
        int r = -errno;
        s->set_error(err, -r, "open '%s/layers'", s->state_dir);
        return r;
    }
    int token, r = lock_layer(ov, key, &token);
    if (r < 0) {
        s->set_error(err, -r, "lock layer '%s'", key);
        return r;
    }
    r = layer_short_name(ov, key, short_name);
    if (r == -ENOENT) {
        r = unpack_new_layer(ov, req, key, layers_fd, err);
    } else if (r < 0) {
        s->set_error(err, -r, "read layer '%s'", key);
    } else if (req->layer.chain_id) {
        r = add_chain(ov, key, req->layer.chain_id);
        if (r < 0)
            s->set_error(err, -r, "record chain '%s' of layer '%s'", req->layer.chain_id, key);
    }
    unlock_layer(ov, token);
    return r;
}

/* Moves KEY's directory to the trash and drops its short link; lock held.
 * Returns 1 with the trash name, 0 if absent. */
static int retire_layer(struct overlay *ov, int layers_fd, const char *key,
                        char ret_trash[static 64])
{
    char short_name[LAYER_KEY_MAX];
    int have_short = layer_short_name(ov, key, short_name) == 0;
    int r = berth_trash_move(ov->state_fd, layers_fd, key, ret_trash);
    if (r < 0)
        return r;
    if (have_short) {
        char path[LAYER_KEY_MAX + 8];
        snprintf(path, sizeof(path), "l/%s", short_name);
        if (unlinkat(ov->state_fd, path, 0) < 0 && errno != ENOENT)
            return -errno;
    }
    return r;
}

int overlay_remove_layer(void *state, const struct berth_layer_ref *req, void *res,
                         struct berth_error *err)
{
    struct overlay *ov = state;
    const struct berth_services *s = ov->services;
    char key[LAYER_KEY_MAX], trash[64];
    (void)res;
    if (!req || layer_key(req->diff_id, key) < 0) {
        s->set_error(err, EINVAL, "invalid diff id '%s'",
                     req && req->diff_id ? req->diff_id : "(null)");
        return -EINVAL;
    }
    _cleanup_close_ int layers_fd =
        openat(ov->state_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (layers_fd < 0) {
        int r = -errno;
        s->set_error(err, -r, "open '%s/layers'", s->state_dir);
        return r;
    }
    int token, r = lock_layer(ov, key, &token);
    if (r < 0) {
        s->set_error(err, -r, "lock layer '%s'", key);
        return r;
    }
    int remaining = 0;
    if (req->chain_id) {
        remaining = drop_chain(ov, key, req->chain_id);
        if (remaining == -ENOENT)
            remaining = 0;
    }
    if (remaining < 0) {
        r = remaining;
        s->set_error(err, -r, "drop chain '%s' of layer '%s'", req->chain_id, key);
    } else if (remaining == 0) {
        r = retire_layer(ov, layers_fd, key, trash);
        if (r < 0)
            s->set_error(err, -r, "remove layer '%s'", key);
    }
    unlock_layer(ov, token);
    /* The slow part runs without the lock: the layer is already gone. */
    if (r == 1) {
        r = berth_tree_remove(ov->state_fd, trash, NULL);
        if (r < 0)
            s->set_error(err, -r, "delete '%s/%s'", s->state_dir, trash);
    }
    return r < 0 ? r : 0;
}

static int id_listed(const char *const *ids, uint32_t n, const char *id, size_t len)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] && strlen(ids[i]) == len && strncmp(ids[i], id, len) == 0)
            return 1;
    return 0;
}

/* Decides whether KEY stays; rewrites its chains to the referenced ones.
 * Lock held. Returns 1 to keep, 0 to delete, or -errno. */
static int layer_referenced(struct overlay *ov, const char *key, const struct berth_gc_request *req)
{
    char diff_id[LAYER_KEY_MAX];
    key_diff_id(key, diff_id);
    if (id_listed(req->layer_ids, req->n_layer_ids, diff_id, strlen(diff_id)))
        return 1;
    _cleanup_free_ char *chains = NULL;
    int r = read_chains(ov, key, &chains);
    if (r < 0)
        return r;
    _cleanup_free_ char *kept = malloc(strlen(chains) + 1);
    if (!kept)
        return -ENOMEM;
    size_t o = 0;
    int n_kept = 0, n_all = 0;
    for (const char *p = chains; *p;) {
        const char *eol = strchrnul(p, '\n');
        size_t n = (size_t)(eol - p);
        if (n > 0) {
            n_all++;
            if (id_listed(req->layer_ids, req->n_layer_ids, p, n)) {
                memcpy(kept + o, p, n);
                o += n;
                kept[o++] = '\n';
                n_kept++;
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    kept[o] = '\0';
    if (n_kept > 0 && n_kept < n_all) {
        r = write_chains(ov, key, kept);
        if (r < 0)
            return r;
    }
    return n_kept > 0;
}

static int gc_layer_dir(struct overlay *ov, int layers_fd, const char *name,
                        const struct berth_gc_request *req)
{
    char key[LAYER_KEY_MAX], trash[64];
    int is_tmp = strncmp(name, "tmp-", 4) == 0;
    if (is_tmp) {
        const char *dash = strrchr(name, '-');
        if (dash - (name + 4) <= 0 || dash - (name + 4) >= LAYER_KEY_MAX)
            return 0; /* not a name this driver makes: leave it */
        snprintf(key, sizeof(key), "%.*s", (int)(dash - (name + 4)), name + 4);
    } else {
        if (strlen(name) >= sizeof(key))
            return 0; /* not a name this driver makes: leave it */
        memcpy(key, name, strlen(name) + 1);
    }
    if (!key_valid(key))
        return 0; /* not ours: leave it */

    int token, r = lock_layer(ov, key, &token);
    if (r < 0)
        return r;
    if (is_tmp) {
        /* With the lock held no add_layer is writing it: a crash's leftover. */
        r = berth_tree_remove(layers_fd, name, NULL);
        unlock_layer(ov, token);
        return r;
    }
    r = layer_referenced(ov, key, req);
    if (r == 0)
        r = retire_layer(ov, layers_fd, key, trash);
    else if (r > 0)
        r = 0;
    unlock_layer(ov, token);
    if (r == 1)
        r = berth_tree_remove(ov->state_fd, trash, NULL);
    return r;
}

/* Drops l/ entries whose layer is gone (a crash between making the link
 * and the rename, or between the rename and deleting the link). */
static int gc_short_links(struct overlay *ov)
{
    int fd = openat(ov->state_fd, "l", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char target[LAYER_KEY_MAX + 32], key[LAYER_KEY_MAX], path[LAYER_KEY_MAX + 32];
        ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
        if (n < 0) {
            if (errno == EINVAL) /* not a symlink: not ours */
                continue;
            if (errno != ENOENT && r == 0)
                r = -errno;
            continue;
        }
        target[n] = '\0';
        if (strncmp(target, "../layers/", 10) != 0)
            continue;
        const char *slash = strchr(target + 10, '/');
        if (!slash || strcmp(slash, "/diff") != 0 || slash - (target + 10) >= LAYER_KEY_MAX)
            continue;
        snprintf(key, sizeof(key), "%.*s", (int)(slash - (target + 10)), target + 10);
        if (!key_valid(key))
            continue;
        int token, q = lock_layer(ov, key, &token);
        if (q < 0)
            return q;
        struct stat st;
        snprintf(path, sizeof(path), "layers/%s", key);
        if (fstatat(ov->state_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
            unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
            r = -errno;
        unlock_layer(ov, token);
    }
    return r;
}

int layers_gc(struct overlay *ov, const struct berth_gc_request *req, struct berth_error *err)
{
    const struct berth_services *s = ov->services;
    int layers_fd = openat(ov->state_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
        int q = gc_layer_dir(ov, dirfd(d), de->d_name, req);
        if (q < 0 && r == 0) {
            r = q;
            if (err)
                s->set_error(err, -r, "gc layer 'layers/%s'", de->d_name);
        }
    }
    int q = gc_short_links(ov);
    if (q < 0 && r == 0) {
        r = q;
        if (err)
            s->set_error(err, -r, "gc short links in '%s/l'", s->state_dir);
    }
    return r;
}
