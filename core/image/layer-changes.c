/* berth diff's changes (layer-changes.h). */
#include "image/layer-changes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/archive-lazy.h"
#include "image/layer-unpack.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

#define READ_BLOCK (128 * 1024)
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* For each entry of the tar at PATH: FN(CTX, its plain name). */
static int each_entry(const char *path, int (*fn)(void *ctx, const char *name), void *ctx,
                      struct error **err)
{
    struct archive *a = archive_read_new();
    if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
        archive_read_support_filter_xz(a) != ARCHIVE_OK ||
        archive_read_open_filename(a, path, READ_BLOCK) != ARCHIVE_OK) {
        int r = error_set(err, a && archive_errno(a) > 0 ? archive_errno(a) : EIO, "read '%s': %s",
                          path, a ? archive_error_string(a) : "out of memory");
        if (a)
            archive_read_free(a);
        return r;
    }
    struct archive_entry *e;
    int ar, r = 0;
    while (r == 0 && (ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        _cleanup_free_ char *name = layer_entry_name(archive_entry_pathname(e) ?: "");
        if (!name)
            r = error_set(err, EINVAL, "read '%s': entry '%s'", path,
                          archive_entry_pathname(e) ?: "");
        else if (*name)
            r = fn(ctx, name);
        if (r < 0 && !*err)
            r = error_set(err, -r, "read '%s'", path);
    }
    if (r == 0 && ar != ARCHIVE_EOF)
        r = error_set(err, EIO, "read '%s': %s", path, archive_error_string(a));
    archive_read_free(a);
    return r;
}

/* One layer of the image: its whiteouts apply to the layers below only. */
struct layer_pass {
    struct strset added;
    char **gone; /* whited-out paths, and opaque dirs as "DIR/" */
    size_t n_gone;
};

static int note_entry(void *ctx, const char *name)
{
    struct layer_pass *l = ctx;
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    size_t dirlen = slash ? (size_t)(slash - name) : 0;
    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
        return strset_add(&l->added, name, strlen(name));
    char **grown = realloc(l->gone, (l->n_gone + 1) * sizeof(char *));
    if (!grown)
        return -ENOMEM;
    l->gone = grown;
    if (!strcmp(base, WH_OPAQUE))
        grown[l->n_gone] = xasprintf("%.*s/", (int)dirlen, name);
    else
        grown[l->n_gone] =
            xasprintf("%.*s%s%s", (int)dirlen, name, dirlen ? "/" : "", base + strlen(WH_PREFIX));
    l->n_gone++;
    return 0;
}

static int add_to(void *ctx, const char *path)
{
    return strset_add(ctx, path, strlen(path));
}

int image_paths_load(const struct image *img, struct strset *ret, struct error **err)
{
    int r = archive_lazy_load(err);
    if (r < 0)
        return r;
    *ret = (struct strset){0};
    for (size_t i = 0; i < img->n_layers && r == 0; i++) {
        struct layer_pass l = {0};
        r = each_entry(img->layers[i].blob_path, note_entry, &l, err);
        for (size_t k = 0; k < l.n_gone; k++) {
            size_t n = strlen(l.gone[k]);
            if (r == 0 && n > 0 && l.gone[k][n - 1] == '/') {
                l.gone[k][n - 1] = '\0';
                strset_del_below(ret,
                                 l.gone[k]); /* opaque: the dir stays, its lower content goes */
            } else if (r == 0) {
                strset_del(ret, l.gone[k], n);
                strset_del_below(ret, l.gone[k]);
            }
            free(l.gone[k]);
        }
        free(l.gone);
        if (r == 0 && strset_foreach(&l.added, add_to, ret) < 0)
            r = error_set(err, ENOMEM, "the image's paths");
        strset_done(&l.added);
    }
    if (r < 0)
        strset_done(ret);
    return r;
}

struct change_list {
    const struct strset *image;
    struct layer_change *v;
    size_t n;
};

static int note_change(void *ctx, const char *name)
{
    struct change_list *c = ctx;
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    if (!strcmp(base, WH_OPAQUE))
        return 0; /* its directory is listed, as changed */
    struct layer_change *grown = realloc(c->v, (c->n + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    c->v = grown;
    struct layer_change *ch = &c->v[c->n];
    if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
        ch->kind = 'D';
        ch->path = xasprintf("/%.*s%s", (int)(base - name), name, base + strlen(WH_PREFIX));
    } else {
        ch->kind = strset_has(c->image, name, strlen(name)) ? 'C' : 'A';
        ch->path = xasprintf("/%s", name);
    }
    c->n++;
    return 0;
}

int layer_changes(const char *tar_path, const struct strset *image_paths, struct layer_change **ret,
                  size_t *ret_n, struct error **err)
{
    int r = archive_lazy_load(err);
    if (r < 0)
        return r;
    struct change_list c = {.image = image_paths};
    r = each_entry(tar_path, note_change, &c, err);
    if (r < 0) {
        layer_changes_free(c.v, c.n);
        return r;
    }
    *ret = c.v;
    *ret_n = c.n;
    return 0;
}

void layer_changes_free(struct layer_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].path);
    free(c);
}
