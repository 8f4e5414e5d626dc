/* SPDX-License-Identifier: MIT */
/*
 * The volume contract (<berth/volume.h>) as checks: create, mount (the
 * reported mounts are performed in the suite's mount namespace), unmount,
 * remove; data persists across mount cycles; bad options are refused and
 * leave nothing; undo is idempotent; concurrent use; gc of unknown volumes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conformance.h"

#define HAS_OP(ops, member)                                                                        \
    ((ops)->size >= offsetof(struct berth_volume_ops, member) + sizeof((ops)->member) &&           \
     (ops)->member)

struct volume_suite {
    struct conformance *c;
    const struct berth_volume_ops *ops;
};

static void name_of(struct conformance *c, const char *word, char *out, size_t len)
{
    snprintf(out, len, "%s-%s", c->token, word);
}

/* Container ids as berth makes them: 64 hex digits. */
static void container_of(struct conformance *c, const char *word, char *out, size_t len)
{
    char text[160], digest[72];
    snprintf(text, sizeof(text), "%s-%s", c->token, word);
    conf_fake_digest(text, digest);
    snprintf(out, len, "%s", digest + 7);
}

static void request(struct berth_volume_request *req, const char *volume, const char *options,
                    const char *container, int read_only)
{
    memset(req, 0, sizeof(*req));
    req->size = sizeof(*req);
    req->volume_name = volume;
    req->options_json = options ? options : "{}";
    req->container_id = container;
    req->target = container ? "/data" : NULL;
    req->read_only = (uint32_t)read_only;
}

static int create(struct volume_suite *s, const char *volume, const char *options)
{
    struct berth_volume_request req;
    request(&req, volume, options, NULL, 0);
    return s->ops->create(s->c->state, &req, NULL, s->c->err);
}

static int remove_volume(struct volume_suite *s, const char *volume)
{
    struct berth_volume_request req;
    request(&req, volume, NULL, NULL, 0);
    return s->ops->remove(s->c->state, &req, NULL, s->c->err);
}

static int unmount_volume(struct volume_suite *s, const char *volume, const char *container)
{
    struct berth_volume_request req;
    request(&req, volume, NULL, container, 0);
    if (!HAS_OP(s->ops, unmount))
        return 0;
    return s->ops->unmount(s->c->state, &req, NULL, s->c->err);
}

/* The mount point of CONTAINER's view: WORK/vroots/CONTAINER, the volume at /data. */
static void root_of(struct conformance *c, const char *container, char *out, size_t len)
{
    snprintf(out, len, "%s/vroots/%s", c->work_dir, container);
}

/* mount + perform the reported mounts; fills WHY on failure. */
static int mount_volume(struct volume_suite *s, const char *volume, const char *container,
                        int read_only, char *why, size_t why_len)
{
    struct berth_volume_request req;
    request(&req, volume, NULL, container, read_only);
    static struct conf_mounts mounts;
    struct berth_storage_prepare_result res;
    conf_prepare_result(&res, &mounts);
    int r = s->ops->mount(s->c->state, &req, &res, s->c->err);
    if (r < 0) {
        snprintf(why, why_len, "mount %s", conf_why(s->c, r));
        return r;
    }
    if (mounts.n == 0) {
        snprintf(why, why_len, "mount returned 0 but reported no mount");
        return -EINVAL;
    }
    for (unsigned i = 0; i < mounts.n; i++)
        if (strcmp(mounts.m[i].target, "/data")) {
            snprintf(why, why_len, "mount reported target '%s', the request said '/data'",
                     mounts.m[i].target);
            return -EINVAL;
        }
    char root[2048];
    root_of(s->c, container, root, sizeof(root));
    conf_mkdir_p(root);
    r = conf_do_mounts(&mounts, root, why, why_len);
    if (r < 0)
        conf_undo_mounts(root);
    return r;
}

static void undo(struct volume_suite *s, const char *volume, const char *container)
{
    char root[2048];
    root_of(s->c, container, root, sizeof(root));
    conf_undo_mounts(root);
    int r = unmount_volume(s, volume, container);
    if (r < 0)
        conf_why(s->c, r);
}

static int data_path(struct conformance *c, const char *container, const char *file, char *out,
                     size_t len)
{
    char root[2048];
    root_of(c, container, root, sizeof(root));
    return snprintf(out, len, "%s/data/%s", root, file);
}

static int has_data(struct conformance *c, const char *container, const char *file,
                    const char *want, char *why, size_t why_len)
{
    char path[4096], buf[128];
    data_path(c, container, file, path, sizeof(path));
    int r = conf_read_file(path, buf, sizeof(buf));
    if (r < 0) {
        snprintf(why, why_len, "'%s': %s", path, strerror(-r));
        return 0;
    }
    if (strcmp(buf, want)) {
        snprintf(why, why_len, "'%s' holds '%.40s', expected '%s'", path, buf, want);
        return 0;
    }
    return 1;
}

static int put_data(struct conformance *c, const char *container, const char *file,
                    const char *data)
{
    char path[4096];
    data_path(c, container, file, path, sizeof(path));
    return conf_write_file(path, data);
}

static int left_anywhere(struct conformance *c, const char *name, char *found, size_t len)
{
    return conf_find_name(c->services->state_dir, name, found, len) ||
           conf_find_name(c->services->run_dir, name, found, len);
}

static void case_create(struct volume_suite *s, const char *v1)
{
    struct conformance *c = s->c;
    int r = create(s, v1, "{}");
    conf_check(c, r == 0, "create", "%s", conf_why(c, r));
    r = create(s, v1, "{}");
    conf_check(c, r == 0 || r == -EEXIST, "create of an existing volume is 0 or -EEXIST", "%s",
               conf_why(c, r));
    if (HAS_OP(s->ops, inspect)) {
        struct conf_text text;
        struct berth_text_result res;
        conf_text_result(&res, &text);
        struct berth_volume_request req;
        request(&req, v1, NULL, NULL, 0);
        r = s->ops->inspect(c->state, &req, &res, c->err);
        conf_check(c, r == 0 && text.set && text.text[0] == '{', "inspect puts a JSON object",
                   "%s, text '%.80s'", conf_why(c, r), text.text);
    } else {
        conf_skip(c, "inspect", "no inspect operation");
    }

    char bad[128], found[4096] = "";
    name_of(c, "badopts", bad, sizeof(bad));
    conf_track(c, bad);
    r = create(s, bad, "this is not JSON");
    int left = left_anywhere(c, bad, found, sizeof(found));
    conf_check(c, r < 0 && !left, "create refuses options that are not JSON, leaving nothing",
               "%s%s%s", conf_why(c, r), left ? ", left " : "", found);
    r = create(s, bad, "{\"conformance-no-such-option\": \"1\"}");
    left = left_anywhere(c, bad, found, sizeof(found));
    conf_check(c, r < 0 && !left, "create refuses an unknown option, leaving nothing", "%s%s%s",
               conf_why(c, r), left ? ", left " : "", found);
    char escape[160];
    snprintf(escape, sizeof(escape), "../../%s-escape", c->token);
    r = create(s, escape, "{}");
    left = conf_find_name(c->work_dir, "-escape", found, sizeof(found));
    if (r == 0)
        remove_volume(s, escape);
    conf_check(c, r < 0 && !left, "create refuses a name with '../'", "%s%s%s", conf_why(c, r),
               left ? ", made " : "", found);
}

static void case_mount(struct volume_suite *s, const char *v1, const char *ca, const char *cb)
{
    struct conformance *c = s->c;
    char why[2048] = "";
    int ok = mount_volume(s, v1, ca, 0, why, sizeof(why)) == 0;
    if (!conf_check(c, ok, "mount reports mounts at the target that mount", "%s", why))
        return;
    int r = put_data(c, ca, "persist.txt", "kept\n");
    conf_check(c, r == 0, "the mounted volume is writable", "write: %s", strerror(-r));
    undo(s, v1, ca);
    r = unmount_volume(s, v1, ca);
    conf_check(c, r == 0, "unmount twice is 0 (idempotent)", "%s", conf_why(c, r));

    ok = mount_volume(s, v1, ca, 0, why, sizeof(why)) == 0 &&
         has_data(c, ca, "persist.txt", "kept\n", why, sizeof(why));
    conf_check(c, ok, "data persists across mount cycles", "%s", why);
    undo(s, v1, ca);

    ok = mount_volume(s, v1, cb, 1, why, sizeof(why)) == 0 &&
         has_data(c, cb, "persist.txt", "kept\n", why, sizeof(why));
    if (conf_check(c, ok, "mount read_only shows the data", "%s", why)) {
        r = put_data(c, cb, "other.txt", "x");
        conf_check(c, r == -EROFS, "a read_only mount refuses writes",
                   "writing gave %s, expected EROFS", r ? strerror(-r) : "success");
    }
    undo(s, v1, cb);

    char ghost[128];
    name_of(c, "never-created", ghost, sizeof(ghost));
    conf_track(c, ghost);
    ok = mount_volume(s, ghost, ca, 0, why, sizeof(why)) < 0;
    conf_check(c, ok, "mount of a volume never created fails", "it mounted");
    if (!ok)
        undo(s, ghost, ca);
    r = unmount_volume(s, ghost, ca);
    conf_check(c, r == 0 || r == -ENOENT, "unmount of an unknown volume is 0 or -ENOENT", "%s",
               conf_why(c, r));
}

struct worker_arg {
    struct volume_suite *s;
    const char *shared;
};

static int own_volume_worker(struct conformance *c, unsigned i, void *arg)
{
    struct volume_suite *s = ((struct worker_arg *)arg)->s;
    char vol[128], ctr[128], word[32], why[2048] = "", data[32];
    snprintf(word, sizeof(word), "vpar-%u", i);
    name_of(c, word, vol, sizeof(vol));
    snprintf(word, sizeof(word), "cpar-%u", i);
    container_of(c, word, ctr, sizeof(ctr));
    snprintf(data, sizeof(data), "worker %u\n", i);
    int r = create(s, vol, "{}");
    if (r < 0) {
        printf("# worker %u: create %s\n", i, conf_why(c, r));
        return 1;
    }
    int ok = mount_volume(s, vol, ctr, 0, why, sizeof(why)) == 0 &&
             put_data(c, ctr, "mine.txt", data) == 0 &&
             has_data(c, ctr, "mine.txt", data, why, sizeof(why));
    undo(s, vol, ctr);
    r = remove_volume(s, vol);
    if (ok && r < 0) {
        snprintf(why, sizeof(why), "remove %s", conf_why(c, r));
        ok = 0;
    }
    if (!ok)
        printf("# worker %u: %s\n", i, why);
    return ok ? 0 : 1;
}

static int shared_volume_worker(struct conformance *c, unsigned i, void *arg)
{
    struct worker_arg *a = arg;
    char ctr[128], word[32], why[2048] = "", data[32], file[32];
    snprintf(word, sizeof(word), "cshare-%u", i);
    container_of(c, word, ctr, sizeof(ctr));
    snprintf(data, sizeof(data), "worker %u\n", i);
    snprintf(file, sizeof(file), "from-%u.txt", i);
    int ok = mount_volume(a->s, a->shared, ctr, 0, why, sizeof(why)) == 0 &&
             put_data(c, ctr, file, data) == 0;
    undo(a->s, a->shared, ctr);
    if (!ok)
        printf("# worker %u: %s\n", i, why);
    return ok ? 0 : 1;
}

static void case_concurrent(struct volume_suite *s, const char *v1, const char *ca)
{
    struct conformance *c = s->c;
    unsigned n = c->concurrency;
    for (unsigned i = 0; i < n; i++) {
        char vol[128], word[32];
        snprintf(word, sizeof(word), "vpar-%u", i);
        name_of(c, word, vol, sizeof(vol));
        conf_track(c, vol);
    }
    struct worker_arg arg = {s, v1};
    char name[128];
    int failed = conf_parallel(c, n, own_volume_worker, &arg);
    snprintf(name, sizeof(name), "%u volumes created, used and removed at once", n);
    conf_check(c, failed == 0, name, "%d of %u failed", failed, n);
    failed = conf_parallel(c, n, shared_volume_worker, &arg);
    snprintf(name, sizeof(name), "%u containers mount one volume at once", n);
    conf_check(c, failed == 0, name, "%d of %u failed", failed, n);
    char why[2048] = "";
    int ok = mount_volume(s, v1, ca, 0, why, sizeof(why)) == 0;
    for (unsigned i = 0; ok && i < n; i++) {
        char file[32], data[32];
        snprintf(file, sizeof(file), "from-%u.txt", i);
        snprintf(data, sizeof(data), "worker %u\n", i);
        ok = has_data(c, ca, file, data, why, sizeof(why));
    }
    undo(s, v1, ca);
    conf_check(c, ok, "…and every one's write is there", "%s", why);
}

static void case_remove(struct volume_suite *s, const char *v1, const char *ca)
{
    struct conformance *c = s->c;
    int r = remove_volume(s, v1);
    conf_check(c, r == 0, "remove", "%s", conf_why(c, r));
    r = remove_volume(s, v1);
    conf_check(c, r == 0 || r == -ENOENT, "remove twice is 0 or -ENOENT (idempotent)", "%s",
               conf_why(c, r));
    char why[2048] = "";
    int ok = mount_volume(s, v1, ca, 0, why, sizeof(why)) < 0;
    if (!ok)
        undo(s, v1, ca);
    conf_check(c, ok, "mount of a removed volume fails", "it mounted");
    r = create(s, v1, "{}");
    ok = r == 0 && mount_volume(s, v1, ca, 0, why, sizeof(why)) == 0;
    char path[4096];
    data_path(c, ca, "persist.txt", path, sizeof(path));
    conf_check(c, ok && !conf_exists(path), "a volume made again under the name starts empty", "%s",
               ok ? "the old data is there" : why);
    undo(s, v1, ca);
    r = remove_volume(s, v1);
    if (r < 0)
        conf_why(c, r);
}

static void case_gc(struct volume_suite *s, const char *keep, const char *drop, const char *ca)
{
    struct conformance *c = s->c;
    if (!HAS_OP(s->ops, gc)) {
        conf_fail(c, "gc", "gc is required");
        return;
    }
    char why[2048] = "";
    int ok = create(s, keep, "{}") == 0 && create(s, drop, "{}") == 0 &&
             mount_volume(s, keep, ca, 0, why, sizeof(why)) == 0 &&
             put_data(c, ca, "kept.txt", "kept\n") == 0;
    undo(s, keep, ca);
    if (!conf_check(c, ok, "gc: two volumes to collect from", "%s", why))
        return;
    const char *none[] = {NULL};
    const char *objects[] = {keep};
    struct berth_gc_request req = {.size = sizeof(req),
                                   .container_ids = none,
                                   .layer_ids = none,
                                   .object_ids = objects,
                                   .n_object_ids = 1};
    int r = s->ops->gc(c->state, &req, NULL, c->err);
    conf_check(c, r == 0, "gc with a keep-set", "%s", conf_why(c, r));
    char found[4096] = "";
    int left = left_anywhere(c, drop, found, sizeof(found));
    conf_check(c, !left, "gc removes a volume not in object_ids", "'%s' is left", found);
    ok = mount_volume(s, keep, ca, 0, why, sizeof(why)) == 0 &&
         has_data(c, ca, "kept.txt", "kept\n", why, sizeof(why));
    undo(s, keep, ca);
    conf_check(c, ok, "gc keeps a volume in object_ids with its data", "%s", why);
    req.object_ids = none;
    req.n_object_ids = 0;
    r = s->ops->gc(c->state, &req, NULL, c->err);
    left = left_anywhere(c, keep, found, sizeof(found));
    conf_check(c, r == 0 && !left, "gc with an empty keep-set removes every volume", "%s%s%s",
               conf_why(c, r), left ? ", left " : "", found);
}

int conformance_volume(struct conformance *c)
{
    struct volume_suite s = {.c = c, .ops = c->desc->ops};
    unsigned before = c->n_fail;
    char v1[128], keep[128], drop[128], ca[128], cb[128];
    name_of(c, "vol", v1, sizeof(v1));
    name_of(c, "keep", keep, sizeof(keep));
    name_of(c, "drop", drop, sizeof(drop));
    container_of(c, "ctr-a", ca, sizeof(ca));
    container_of(c, "ctr-b", cb, sizeof(cb));
    const char *names[] = {v1, keep, drop, ca, cb};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        conf_track(c, names[i]);
    case_create(&s, v1);
    case_mount(&s, v1, ca, cb);
    case_concurrent(&s, v1, ca);
    case_remove(&s, v1, ca);
    case_gc(&s, keep, drop, ca);
    if (c->error_reset)
        c->error_reset(c);
    return (int)(c->n_fail - before);
}
