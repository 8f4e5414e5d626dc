/* SPDX-License-Identifier: MIT */
/*
 * The storage contract (<berth/storage.h>) as checks. Layers are real tars
 * the suite writes; the mounts prepare reports are performed in the suite's
 * own mount namespace and their content read back, as berth's runtime would
 * inside a container.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conformance.h"

/* Whether the plugin's table holds MEMBER and sets it. */
#define HAS_OP(ops, member)                                                                        \
    ((ops)->size >= offsetof(struct berth_storage_ops, member) + sizeof((ops)->member) &&          \
     (ops)->member)

struct layer {
    char diff_id[72];
    char chain_id[72];
    char parent[72];
    char tar[2048];
    struct berth_layer_ref ref;
};

struct storage_suite {
    struct conformance *c;
    const struct berth_storage_ops *ops;
    struct layer base, top, orphan, broken;
};

static void make_ref(struct layer *l, int has_parent)
{
    l->ref.size = sizeof(l->ref);
    l->ref.diff_id = l->diff_id;
    l->ref.chain_id = l->chain_id;
    l->ref.parent_chain_id = has_parent ? l->parent : NULL;
}

static void layer_ids(struct storage_suite *s, struct layer *l, const char *word,
                      const struct layer *parent)
{
    char text[256];
    snprintf(text, sizeof(text), "%s-%s-diff", s->c->token, word);
    conf_fake_digest(text, l->diff_id);
    if (parent) {
        snprintf(text, sizeof(text), "%s-%s-chain", s->c->token, word);
        conf_fake_digest(text, l->chain_id);
        snprintf(l->parent, sizeof(l->parent), "%s", parent->chain_id);
    } else {
        snprintf(l->chain_id, sizeof(l->chain_id), "%s", l->diff_id);
    }
    make_ref(l, parent != NULL);
    conf_track(s->c, l->diff_id + 7);
    conf_track(s->c, l->chain_id + 7);
    snprintf(l->tar, sizeof(l->tar), "%s/%s.tar", s->c->work_dir, word);
}

static int add_layer(struct storage_suite *s, struct layer *l)
{
    struct berth_layer_request req = {.size = sizeof(req), .layer = l->ref, .tar_path = l->tar};
    return s->ops->add_layer(s->c->state, &req, NULL, s->c->err);
}

static int has_layer(struct storage_suite *s, struct layer *l)
{
    return s->ops->has_layer(s->c->state, &l->ref, NULL, s->c->err);
}

static void container_id(struct conformance *c, const char *word, char *out, size_t len)
{
    snprintf(out, len, "%s-%s", c->token, word);
}

static int prepare(struct storage_suite *s, const char *id, const struct layer *const *layers,
                   unsigned n, int read_only, struct conf_mounts *mounts)
{
    struct berth_layer_ref refs[4];
    for (unsigned i = 0; i < n; i++)
        refs[i] = layers[i]->ref;
    struct berth_storage_prepare_request req = {
        .size = sizeof(req),
        .container_id = id,
        .layers = n ? refs : NULL,
        .n_layers = n,
        .read_only = (uint32_t)read_only,
        .options_json = "{}",
    };
    struct berth_storage_prepare_result res;
    conf_prepare_result(&res, mounts);
    return s->ops->prepare(s->c->state, &req, &res, s->c->err);
}

static int container_op(struct storage_suite *s, int remove, const char *id)
{
    struct berth_storage_container_request req = {.size = sizeof(req), .container_id = id};
    return (remove ? s->ops->remove : s->ops->release)(s->c->state, &req, NULL, s->c->err);
}

static int gc(struct storage_suite *s, const char *const *containers, unsigned n_containers,
              const char *const *layers, unsigned n_layers)
{
    struct berth_gc_request req = {
        .size = sizeof(req),
        .container_ids = containers,
        .n_container_ids = n_containers,
        .layer_ids = layers,
        .n_layer_ids = n_layers,
    };
    return s->ops->gc(s->c->state, &req, NULL, s->c->err);
}

/* The container's root, mounted at WORK/roots/ID. */
static void root_of(struct conformance *c, const char *id, char *out, size_t len)
{
    snprintf(out, len, "%s/roots/%s", c->work_dir, id);
}

/* prepare + perform the mounts; on failure WHY says what went wrong. */
static int prepare_and_mount(struct storage_suite *s, const char *id,
                             const struct layer *const *layers, unsigned n, int read_only,
                             char *why, size_t why_len)
{
    static struct conf_mounts mounts;
    int r = prepare(s, id, layers, n, read_only, &mounts);
    if (r < 0) {
        snprintf(why, why_len, "prepare %s", conf_why(s->c, r));
        return r;
    }
    if (mounts.n == 0 || strcmp(mounts.m[0].target, "/")) {
        snprintf(why, why_len,
                 "prepare reported %u mounts, the first on '%s'; the root ('/') "
                 "must come first",
                 mounts.n, mounts.n ? mounts.m[0].target : "");
        return -EINVAL;
    }
    char root[2048];
    root_of(s->c, id, root, sizeof(root));
    if (conf_mkdir_p(root) < 0) {
        snprintf(why, why_len, "mkdir '%s': %s", root, strerror(errno));
        return -errno;
    }
    r = conf_do_mounts(&mounts, root, why, why_len);
    if (r < 0)
        conf_undo_mounts(root);
    return r;
}

static void unmount_root(struct conformance *c, const char *id)
{
    char root[2048];
    root_of(c, id, root, sizeof(root));
    conf_undo_mounts(root);
}

/* Reads FILE of the mounted container ID and compares it with WANT
 * (NULL: must not exist). Returns 1 if it matches, else fills WHY. */
static int root_has(struct conformance *c, const char *id, const char *file, const char *want,
                    char *why, size_t why_len)
{
    char root[2048], path[4096], buf[256];
    root_of(c, id, root, sizeof(root));
    snprintf(path, sizeof(path), "%s/%s", root, file);
    int r = conf_read_file(path, buf, sizeof(buf));
    if (!want) {
        if (r == -ENOENT)
            return 1;
        snprintf(why, why_len, "'%s' exists in the root of '%s' (%s)", file, id,
                 r == 0 ? "read" : strerror(-r));
        return 0;
    }
    if (r < 0) {
        snprintf(why, why_len, "'%s' in the root of '%s': %s", file, id, strerror(-r));
        return 0;
    }
    if (strcmp(buf, want)) {
        snprintf(why, why_len, "'%s' in the root of '%s' holds '%.40s', expected '%s'", file, id,
                 buf, want);
        return 0;
    }
    return 1;
}

static int write_in_root(struct conformance *c, const char *id, const char *file, const char *data)
{
    char root[2048], path[4096];
    root_of(c, id, root, sizeof(root));
    snprintf(path, sizeof(path), "%s/%s", root, file);
    return conf_write_file(path, data);
}

/* --- cases ------------------------------------------------------------------ */

static int write_layers(struct storage_suite *s)
{
    static const struct conf_tar_entry base[] = {
        {'d', 0755, "etc/", NULL},
        {'f', 0644, "etc/base.txt", "base\n"},
        {'f', 0644, "shared.txt", "from-base\n"},
        {'d', 0755, "data/", NULL},
        {'l', 0777, "link", "etc/base.txt"},
    };
    static const struct conf_tar_entry top[] = {
        {'f', 0644, "top.txt", "top\n"},
        {'f', 0644, "shared.txt", "from-top\n"},
        {'f', 0644, ".wh.link", ""},
    };
    static const struct conf_tar_entry orphan[] = {{'f', 0644, "orphan.txt", "orphan\n"}};
    int r = conf_write_tar(s->base.tar, base, sizeof(base) / sizeof(base[0]));
    if (r == 0)
        r = conf_write_tar(s->top.tar, top, sizeof(top) / sizeof(top[0]));
    if (r == 0)
        r = conf_write_tar(s->orphan.tar, orphan, 1);
    if (r == 0)
        r = conf_write_file(s->broken.tar, "this is not a tar archive, not even a gzip one\n");
    return r;
}

static void case_layers(struct storage_suite *s)
{
    struct conformance *c = s->c;
    int r = has_layer(s, &s->base);
    conf_check(c, r == 0, "has_layer of an absent layer is 0", "%s", conf_why(c, r));
    r = add_layer(s, &s->base);
    conf_check(c, r == 0, "add_layer of a base layer", "%s", conf_why(c, r));
    r = has_layer(s, &s->base);
    conf_check(c, r == 1, "has_layer after add_layer is 1", "%s", conf_why(c, r));
    r = add_layer(s, &s->base);
    conf_check(c, r == 0, "add_layer of a present layer is 0 (idempotent)", "%s", conf_why(c, r));
    r = add_layer(s, &s->top);
    conf_check(c, r == 0, "add_layer of a layer on a present parent", "%s", conf_why(c, r));

    r = add_layer(s, &s->broken);
    if (conf_check(c, r < 0, "add_layer of a file that is not a tar fails",
                   "returned %d and has the layer", r))
        conf_why(c, r);
    r = has_layer(s, &s->broken);
    conf_check(c, r == 0, "a failed add_layer leaves nothing has_layer sees", "%s", conf_why(c, r));

    /* A driver may unpack a layer whose parent is absent (overlay keeps
     * layers apart) or refuse it; either way has_layer must agree, and a
     * container on a chain with a missing layer cannot be prepared. */
    r = add_layer(s, &s->orphan);
    int r2 = has_layer(s, &s->orphan);
    conf_check(c, (r == 0 && r2 == 1) || (r < 0 && r2 == 0),
               "add_layer whose parent is absent either fails leaving nothing or adds it",
               "add_layer returned %d, has_layer %d: %s", r, r2, conf_why(c, r < 0 ? r : r2));
}

static void case_missing_parent(struct storage_suite *s, struct layer *missing, const char *id)
{
    struct conformance *c = s->c;
    const struct layer *chain[] = {missing, &s->orphan};
    struct conf_mounts mounts;
    int r = prepare(s, id, chain, 2, 0, &mounts);
    conf_check(c, r < 0, "prepare on a chain whose parent layer is missing fails", "%s",
               conf_why(c, r));
    r = container_op(s, 1, id);
    if (r < 0 && r != -ENOENT)
        conf_fail(c, "remove after a failed prepare", "%s", conf_why(c, r));
    if (c->error_reset)
        c->error_reset(c);
}

static void case_prepare(struct storage_suite *s, const char *c1, const char *c2)
{
    struct conformance *c = s->c;
    const struct layer *both[] = {&s->base, &s->top};
    char why[2048] = "";
    int ok = prepare_and_mount(s, c1, both, 2, 0, why, sizeof(why)) == 0;
    if (!conf_check(c, ok, "prepare reports mounts that mount", "%s", why))
        return;
    ok = root_has(c, c1, "top.txt", "top\n", why, sizeof(why)) &&
         root_has(c, c1, "etc/base.txt", "base\n", why, sizeof(why)) &&
         root_has(c, c1, "shared.txt", "from-top\n", why, sizeof(why));
    conf_check(c, ok, "the root shows both layers, the upper one winning", "%s", why);
    ok = root_has(c, c1, "link", NULL, why, sizeof(why));
    conf_check(c, ok, "a whiteout in the upper layer hides the lower file", "%s", why);

    int r = write_in_root(c, c1, "new.txt", "new\n");
    if (r == 0)
        r = write_in_root(c, c1, "shared.txt", "changed\n");
    conf_check(c, r == 0, "the root is writable", "write: %s", strerror(-r));

    ok = prepare_and_mount(s, c2, both, 2, 0, why, sizeof(why)) == 0 &&
         root_has(c, c2, "new.txt", NULL, why, sizeof(why)) &&
         root_has(c, c2, "shared.txt", "from-top\n", why, sizeof(why));
    conf_check(c, ok, "writes land in the container's own layer, not in the image's", "%s", why);
    unmount_root(c, c2);

    unmount_root(c, c1);
    r = container_op(s, 0, c1);
    conf_check(c, r == 0, "release", "%s", conf_why(c, r));
    r = container_op(s, 0, c1);
    conf_check(c, r == 0, "release twice is 0 (idempotent)", "%s", conf_why(c, r));
    ok = prepare_and_mount(s, c1, both, 2, 0, why, sizeof(why)) == 0 &&
         root_has(c, c1, "new.txt", "new\n", why, sizeof(why)) &&
         root_has(c, c1, "shared.txt", "changed\n", why, sizeof(why));
    conf_check(c, ok, "prepare after release reuses the writable layer (restart)", "%s", why);
    unmount_root(c, c1);
    container_op(s, 0, c1);
    if (c->error_reset)
        c->error_reset(c);
}

static void case_read_only(struct storage_suite *s, const char *id)
{
    struct conformance *c = s->c;
    const struct layer *both[] = {&s->base, &s->top};
    char why[2048] = "";
    int ok = prepare_and_mount(s, id, both, 2, 1, why, sizeof(why)) == 0;
    if (conf_check(c, ok, "prepare read_only", "%s", why)) {
        int r = write_in_root(c, id, "new.txt", "x");
        conf_check(c, r == -EROFS, "a read_only root refuses writes",
                   "writing gave %s, expected EROFS", r ? strerror(-r) : "success");
    }
    unmount_root(c, id);
    container_op(s, 0, id);
    int r = container_op(s, 1, id);
    conf_check(c, r == 0, "remove of a read_only container", "%s", conf_why(c, r));
}

static void case_errors(struct storage_suite *s, const char *missing_id)
{
    struct conformance *c = s->c;
    struct layer ghost;
    layer_ids(s, &ghost, "ghost", NULL);
    const struct layer *ghosts[] = {&ghost};
    struct conf_mounts mounts;
    int r = prepare(s, missing_id, ghosts, 1, 0, &mounts);
    conf_check(c, r < 0, "prepare on a layer never added fails", "%s", conf_why(c, r));
    r = container_op(s, 1, missing_id);
    conf_check(c, r == 0 || r == -ENOENT, "remove after a failed prepare is 0 or -ENOENT", "%s",
               conf_why(c, r));

    char unknown[128];
    container_id(c, "never-prepared", unknown, sizeof(unknown));
    r = container_op(s, 0, unknown);
    conf_check(c, r == 0 || r == -ENOENT, "release of an unknown container is 0 or -ENOENT", "%s",
               conf_why(c, r));
    r = container_op(s, 1, unknown);
    conf_check(c, r == 0 || r == -ENOENT, "remove of an unknown container is 0 or -ENOENT", "%s",
               conf_why(c, r));

    const struct layer *base[] = {&s->base};
    char escape[256], victim[2048];
    snprintf(escape, sizeof(escape), "../../../%s-escape", c->token);
    r = prepare(s, escape, base, 1, 0, &mounts);
    snprintf(victim, sizeof(victim), "%s/%s-escape", c->work_dir, c->token);
    char found[2048] = "";
    int leaked = conf_find_name(c->work_dir, "-escape", found, sizeof(found));
    if (r >= 0)
        container_op(s, 1, escape);
    conf_check(c, r < 0 && !leaked, "prepare refuses a container id with '../'", "returned %d%s%s",
               r, leaked ? ", made " : "", leaked ? found : "");
    if (r < 0)
        conf_why(c, r);
}

struct concurrent_arg {
    struct storage_suite *s;
};

static int concurrent_worker(struct conformance *c, unsigned i, void *arg)
{
    struct storage_suite *s = ((struct concurrent_arg *)arg)->s;
    char id[128], word[32], why[2048] = "", data[32];
    snprintf(word, sizeof(word), "par-%u", i);
    container_id(c, word, id, sizeof(id));
    const struct layer *both[] = {&s->base, &s->top};
    if (prepare_and_mount(s, id, both, 2, 0, why, sizeof(why)) < 0) {
        printf("# worker %u: %s\n", i, why);
        return 1;
    }
    snprintf(data, sizeof(data), "worker %u\n", i);
    int r = write_in_root(c, id, "mine.txt", data);
    int ok = r == 0 && root_has(c, id, "mine.txt", data, why, sizeof(why)) &&
             root_has(c, id, "top.txt", "top\n", why, sizeof(why));
    if (r)
        snprintf(why, sizeof(why), "write: %s", strerror(-r));
    unmount_root(c, id);
    r = container_op(s, 0, id);
    if (ok && r < 0) {
        snprintf(why, sizeof(why), "release %s", conf_why(c, r));
        ok = 0;
    }
    if (!ok)
        printf("# worker %u: %s\n", i, why);
    return ok ? 0 : 1;
}

static void case_concurrent(struct storage_suite *s)
{
    struct conformance *c = s->c;
    unsigned n = c->concurrency;
    for (unsigned i = 0; i < n; i++) {
        char id[128], word[32];
        snprintf(word, sizeof(word), "par-%u", i);
        container_id(c, word, id, sizeof(id));
        conf_track(c, id);
    }
    struct concurrent_arg arg = {s};
    int failed = conf_parallel(c, n, concurrent_worker, &arg);
    char name[96];
    snprintf(name, sizeof(name), "%u containers prepared at once from forked processes", n);
    conf_check(c, failed == 0, name, "%d of %u failed", failed, n);
    int removed = 0;
    for (unsigned i = 0; i < n; i++) {
        char id[128], word[32];
        snprintf(word, sizeof(word), "par-%u", i);
        container_id(c, word, id, sizeof(id));
        if (container_op(s, 1, id) == 0)
            removed++;
    }
    if (c->error_reset)
        c->error_reset(c);
    conf_check(c, removed == (int)n, "…and removed", "%d of %u removed", removed, n);
}

static void case_remove(struct storage_suite *s, const char *id)
{
    struct conformance *c = s->c;
    int r = container_op(s, 1, id);
    conf_check(c, r == 0, "remove", "%s", conf_why(c, r));
    r = container_op(s, 1, id);
    conf_check(c, r == 0 || r == -ENOENT, "remove twice is 0 or -ENOENT (idempotent)", "%s",
               conf_why(c, r));
    const struct layer *both[] = {&s->base, &s->top};
    char why[2048] = "";
    int ok = prepare_and_mount(s, id, both, 2, 0, why, sizeof(why)) == 0 &&
             root_has(c, id, "new.txt", NULL, why, sizeof(why));
    conf_check(c, ok, "a container prepared again after remove starts from the image", "%s", why);
    unmount_root(c, id);
    container_op(s, 0, id);
    container_op(s, 1, id);
    if (c->error_reset)
        c->error_reset(c);
}

static void case_gc(struct storage_suite *s, const char *keep, const char *drop)
{
    struct conformance *c = s->c;
    const struct layer *base[] = {&s->base};
    const struct layer *both[] = {&s->base, &s->top};
    char why[2048] = "";
    int ok = prepare_and_mount(s, keep, base, 1, 0, why, sizeof(why)) == 0 &&
             write_in_root(c, keep, "kept.txt", "kept\n") == 0;
    unmount_root(c, keep);
    container_op(s, 0, keep);
    ok = ok && prepare_and_mount(s, drop, both, 2, 0, why, sizeof(why)) == 0 &&
         write_in_root(c, drop, "dropped.txt", "dropped\n") == 0;
    unmount_root(c, drop);
    container_op(s, 0, drop);
    if (!conf_check(c, ok, "gc: two containers to collect from", "%s", why))
        return;
    const char *containers[] = {keep};
    const char *layers[] = {s->base.chain_id};
    int r = gc(s, containers, 1, layers, 1);
    conf_check(c, r == 0, "gc with a keep-set", "%s", conf_why(c, r));
    r = has_layer(s, &s->top);
    conf_check(c, r == 0, "gc removes an image layer not in layer_ids", "has_layer: %s",
               conf_why(c, r));
    r = has_layer(s, &s->base);
    conf_check(c, r == 1, "gc keeps an image layer in layer_ids", "has_layer: %s", conf_why(c, r));
    char found[2048] = "";
    int left = conf_find_name(c->services->state_dir, drop, found, sizeof(found)) ||
               conf_find_name(c->services->run_dir, drop, found, sizeof(found));
    conf_check(c, !left, "gc removes a container not in container_ids", "'%s' is left", found);
    ok = prepare_and_mount(s, keep, base, 1, 0, why, sizeof(why)) == 0 &&
         root_has(c, keep, "kept.txt", "kept\n", why, sizeof(why));
    conf_check(c, ok, "gc keeps a container in container_ids with its changes", "%s", why);
    unmount_root(c, keep);
    container_op(s, 0, keep);
    r = container_op(s, 1, keep);
    if (r < 0)
        conf_why(c, r);
}

/* Names of the entries of an uncompressed ustar/pax archive, '\n'-separated. */
static int tar_names(const char *path, char *out, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    out[0] = '\0';
    unsigned char h[512];
    while (read(fd, h, sizeof(h)) == (ssize_t)sizeof(h) && h[0]) {
        char size_field[13];
        memcpy(size_field, h + 124, 12);
        size_field[12] = '\0';
        unsigned long long size = strtoull(size_field, NULL, 8);
        if (h[156] != 'x' && h[156] != 'g') {
            char name[256];
            char prefix[156];
            memcpy(prefix, h + 345, 155);
            prefix[155] = '\0';
            snprintf(name, sizeof(name), "%s%s%.100s", prefix, prefix[0] ? "/" : "",
                     (const char *)h);
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s\n", name);
        }
        off_t skip = (off_t)((size + 511) / 512 * 512);
        if (lseek(fd, skip, SEEK_CUR) < 0)
            break;
    }
    close(fd);
    return 0;
}

static void case_diff(struct storage_suite *s, const char *id)
{
    struct conformance *c = s->c;
    if (!(c->desc->capabilities & BERTH_CAP_DIFF) || !HAS_OP(s->ops, diff)) {
        conf_skip(c, "diff", "the plugin does not announce BERTH_CAP_DIFF (ABI 1.1)");
        return;
    }
    const struct layer *both[] = {&s->base, &s->top};
    char why[2048] = "";
    char root[2048], gone[4096];
    root_of(c, id, root, sizeof(root));
    snprintf(gone, sizeof(gone), "%s/etc/base.txt", root);
    int ok = prepare_and_mount(s, id, both, 2, 0, why, sizeof(why)) == 0 &&
             write_in_root(c, id, "added.txt", "added\n") == 0 && unlink(gone) == 0;
    unmount_root(c, id);
    container_op(s, 0, id);
    if (!conf_check(c, ok, "diff: a container with changes", "%s", why))
        return;
    char tar[2048];
    snprintf(tar, sizeof(tar), "%s/diff-%s.tar", c->work_dir, id);
    struct berth_layer_ref refs[] = {s->base.ref, s->top.ref};
    struct berth_storage_diff_request req = {
        .size = sizeof(req), .container_id = id, .layers = refs, .n_layers = 2, .tar_path = tar};
    int r = s->ops->diff(c->state, &req, NULL, c->err);
    if (conf_check(c, r == 0, "diff", "%s", conf_why(c, r))) {
        char names[8192];
        ok = tar_names(tar, names, sizeof(names)) == 0;
        conf_check(c, ok && strstr(names, "added.txt\n"), "diff holds an added file", "entries: %s",
                   names);
        /* A deleted file is its whiteout, or its directory is opaque and
         * does not list it (etc/ held nothing else). */
        int deleted = strstr(names, "etc/.wh.base.txt\n") ||
                      (strstr(names, "etc/.wh..wh..opq\n") && !strstr(names, "etc/base.txt\n"));
        conf_check(c, ok && deleted, "diff records a deleted file (.wh. or opaque directory)",
                   "entries: %s", names);
        conf_check(c, ok && !strstr(names, "top.txt\n"), "diff leaves out unchanged files",
                   "entries: %s", names);
    }
    unlink(tar);
    container_op(s, 1, id);
    if (c->error_reset)
        c->error_reset(c);
}

static int snap_op(struct storage_suite *s, int op, const char *id, const char *name,
                   struct conf_text *text)
{
    struct berth_storage_snapshot_request req = {
        .size = sizeof(req), .container_id = id, .name = name};
    struct berth_text_result res;
    switch (op) {
    case 's':
        return s->ops->snapshot_save(s->c->state, &req, NULL, s->c->err);
    case 'r':
        return s->ops->snapshot_restore(s->c->state, &req, NULL, s->c->err);
    case 'd':
        return s->ops->snapshot_remove(s->c->state, &req, NULL, s->c->err);
    default:
        conf_text_result(&res, text);
        req.name = NULL;
        return s->ops->snapshot_list(s->c->state, &req, &res, s->c->err);
    }
}

static void case_snapshots(struct storage_suite *s, const char *id)
{
    struct conformance *c = s->c;
    if (!(c->desc->capabilities & BERTH_CAP_SNAPSHOTS) || !HAS_OP(s->ops, snapshot_save) ||
        !HAS_OP(s->ops, snapshot_restore) || !HAS_OP(s->ops, snapshot_remove) ||
        !HAS_OP(s->ops, snapshot_list)) {
        conf_skip(c, "snapshots",
                  "the plugin does not announce BERTH_CAP_SNAPSHOTS with all four operations");
        return;
    }
    const struct layer *both[] = {&s->base, &s->top};
    char why[2048] = "";
    int ok = prepare_and_mount(s, id, both, 2, 0, why, sizeof(why)) == 0 &&
             write_in_root(c, id, "state.txt", "one\n") == 0;
    unmount_root(c, id);
    container_op(s, 0, id);
    if (!conf_check(c, ok, "snapshots: a stopped container with a change", "%s", why))
        return;
    int r = snap_op(s, 's', id, "s1", NULL);
    conf_check(c, r == 0, "snapshot_save", "%s", conf_why(c, r));
    r = snap_op(s, 's', id, "s1", NULL);
    conf_check(c, r == -EEXIST, "snapshot_save of an existing name is -EEXIST", "%s",
               conf_why(c, r));
    struct conf_text text;
    r = snap_op(s, 'l', id, NULL, &text);
    conf_check(c, r == 0 && text.set && text.text[0] == '[' && strstr(text.text, "\"s1\""),
               "snapshot_list shows the snapshot as a JSON array", "%s, text '%.80s'",
               conf_why(c, r), text.text);
    ok = prepare_and_mount(s, id, both, 2, 0, why, sizeof(why)) == 0 &&
         write_in_root(c, id, "state.txt", "two\n") == 0 &&
         write_in_root(c, id, "later.txt", "later\n") == 0;
    unmount_root(c, id);
    container_op(s, 0, id);
    r = snap_op(s, 'r', id, "s1", NULL);
    conf_check(c, ok && r == 0, "snapshot_restore", "%s", ok ? conf_why(c, r) : why);
    ok = prepare_and_mount(s, id, both, 2, 0, why, sizeof(why)) == 0 &&
         root_has(c, id, "state.txt", "one\n", why, sizeof(why)) &&
         root_has(c, id, "later.txt", NULL, why, sizeof(why));
    conf_check(c, ok, "restore brings back the saved content", "%s", why);
    unmount_root(c, id);
    container_op(s, 0, id);
    r = snap_op(s, 'r', id, "never-saved", NULL);
    conf_check(c, r == -ENOENT, "snapshot_restore of an unknown name is -ENOENT", "%s",
               conf_why(c, r));
    r = snap_op(s, 'd', id, "s1", NULL);
    conf_check(c, r == 0, "snapshot_remove", "%s", conf_why(c, r));
    r = snap_op(s, 'd', id, "s1", NULL);
    conf_check(c, r == -ENOENT, "snapshot_remove of a removed name is -ENOENT", "%s",
               conf_why(c, r));
    r = snap_op(s, 's', id, "s2", NULL);
    if (r < 0)
        conf_why(c, r);
    r = container_op(s, 1, id);
    conf_check(c, r == 0, "remove of a container with a snapshot", "%s", conf_why(c, r));
}

static void case_info(struct storage_suite *s)
{
    struct conformance *c = s->c;
    if (!HAS_OP(s->ops, info)) {
        conf_skip(c, "info", "no info operation");
        return;
    }
    struct conf_text text;
    struct berth_text_result res;
    conf_text_result(&res, &text);
    int r = s->ops->info(c->state, NULL, &res, c->err);
    conf_check(c, r == 0 && text.set && text.text[0] == '{', "info puts a JSON object",
               "%s, text '%.80s'", conf_why(c, r), text.text);
}

static void case_final_gc(struct storage_suite *s)
{
    struct conformance *c = s->c;
    int r = gc(s, NULL, 0, NULL, 0);
    conf_check(c, r == 0, "gc with an empty keep-set", "%s", conf_why(c, r));
    r = has_layer(s, &s->base);
    conf_check(c, r == 0, "…removes every layer", "has_layer: %s", conf_why(c, r));
    if (!HAS_OP(s->ops, remove_layer)) {
        conf_skip(c, "remove_layer", "no remove_layer operation");
        return;
    }
    r = add_layer(s, &s->base);
    int r2 = r == 0 ? s->ops->remove_layer(c->state, &s->base.ref, NULL, c->err) : r;
    int r3 = has_layer(s, &s->base);
    conf_check(c, r == 0 && r2 == 0 && r3 == 0, "remove_layer", "add %d, remove %d, has %d: %s", r,
               r2, r3, conf_why(c, r2 < 0 ? r2 : r));
    r = s->ops->remove_layer(c->state, &s->base.ref, NULL, c->err);
    conf_check(c, r == 0, "remove_layer of an absent layer is 0", "%s", conf_why(c, r));
}

int conformance_storage(struct conformance *c)
{
    struct storage_suite s = {.c = c, .ops = c->desc->ops};
    unsigned before = c->n_fail;
    layer_ids(&s, &s.base, "base", NULL);
    layer_ids(&s, &s.top, "top", &s.base);
    layer_ids(&s, &s.broken, "broken", NULL);
    /* A parent that was never added. */
    struct layer missing;
    layer_ids(&s, &missing, "missing", NULL);
    layer_ids(&s, &s.orphan, "orphan", &missing);
    int r = write_layers(&s);
    if (r < 0) {
        conf_fail(c, "setup", "cannot write layer tars in '%s': %s", c->work_dir, strerror(-r));
        return (int)(c->n_fail - before);
    }
    char c1[128], c2[128], c3[128], c4[128], keep[128], drop[128], cd[128], cs[128];
    container_id(c, "one", c1, sizeof(c1));
    container_id(c, "two", c2, sizeof(c2));
    container_id(c, "ro", c3, sizeof(c3));
    container_id(c, "missing", c4, sizeof(c4));
    container_id(c, "keep", keep, sizeof(keep));
    container_id(c, "drop", drop, sizeof(drop));
    container_id(c, "diff", cd, sizeof(cd));
    container_id(c, "snap", cs, sizeof(cs));
    const char *ids[] = {c1, c2, c3, c4, keep, drop, cd, cs};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        conf_track(c, ids[i]);

    case_layers(&s);
    if (has_layer(&s, &s.base) == 1 && has_layer(&s, &s.top) == 1) {
        case_prepare(&s, c1, c2);
        case_read_only(&s, c3);
        case_errors(&s, c4);
        case_missing_parent(&s, &missing, c4);
        case_concurrent(&s);
        case_remove(&s, c1);
        int r2 = container_op(&s, 1, c2);
        if (r2 < 0)
            conf_why(c, r2);
        case_diff(&s, cd);
        case_snapshots(&s, cs);
        case_info(&s);
        case_gc(&s, keep, drop);
    } else {
        conf_fail(c, "layers", "the layers could not be added: the other cases cannot run");
    }
    if (c->error_reset)
        c->error_reset(c);
    case_final_gc(&s);
    return (int)(c->n_fail - before);
}
