/* berth's mount points out of a committed layer (layer-filter.h). */
#include "image/layer-filter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/archive-lazy.h"
#include "image/layer-unpack.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

#define COPY_BLOCK (128 * 1024)

static const char *const mount_points[] = {"etc/hosts", "etc/resolv.conf", "etc/hostname"};

static bool is_mount_point(const char *name, struct archive_entry *e)
{
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_size(e) != 0 ||
        archive_entry_hardlink(e))
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(mount_points); i++)
        if (!strcmp(name, mount_points[i]))
            return true;
    return false;
}

static struct archive *open_reader(const char *path, struct error **err)
{
    struct archive *a = archive_read_new();
    if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_filename(a, path, COPY_BLOCK) != ARCHIVE_OK) {
        error_set(err, a && archive_errno(a) > 0 ? archive_errno(a) : EIO, "read '%s': %s", path,
                  a ? archive_error_string(a) : "out of memory");
        if (a)
            archive_read_free(a);
        return NULL;
    }
    return a;
}

/* First pass: whether anything is dropped, and whether etc/ goes too. */
static int scan(const char *path, bool *ret_drop, bool *ret_drop_etc, struct error **err)
{
    struct archive *a = open_reader(path, err);
    if (!a)
        return error_code(*err);
    bool any = false, etc_entry = false, etc_other = false;
    struct archive_entry *e;
    int ar;
    while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        _cleanup_free_ char *name = layer_entry_name(archive_entry_pathname(e) ?: "");
        if (!name)
            continue; /* the extractor refuses it anyway */
        if (is_mount_point(name, e))
            any = true;
        else if (!strcmp(name, "etc"))
            etc_entry = archive_entry_filetype(e) == AE_IFDIR;
        else if (!strncmp(name, "etc/", 4))
            etc_other = true;
    }
    int r =
        ar == ARCHIVE_EOF ? 0 : error_set(err, EIO, "read '%s': %s", path, archive_error_string(a));
    archive_read_free(a);
    *ret_drop = any;
    *ret_drop_etc = any && etc_entry && !etc_other;
    return r;
}

static int copy_without(const char *path, const char *out_path, bool drop_etc, struct error **err)
{
    struct archive *in = open_reader(path, err);
    if (!in)
        return error_code(*err);
    int r = 0;
    _cleanup_free_ char *buf = malloc(COPY_BLOCK);
    struct archive *out = archive_write_new();
    _cleanup_close_ int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    /* As layer_pack writes them: the same entries give the same bytes. */
    if (!buf || !out || fd < 0 || archive_write_set_format_pax_restricted(out) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(out, 1) != ARCHIVE_OK ||
        archive_write_open_fd(out, fd) != ARCHIVE_OK) {
        r = error_set(err, fd < 0 ? errno : ENOMEM, "write '%s'", out_path);
        goto done;
    }
    struct archive_entry *e;
    int ar;
    while (r == 0 && (ar = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
        _cleanup_free_ char *name = layer_entry_name(archive_entry_pathname(e) ?: "");
        if (name && (is_mount_point(name, e) || (drop_etc && !strcmp(name, "etc"))))
            continue;
        if (archive_write_header(out, e) != ARCHIVE_OK) {
            r = error_set(err, EIO, "write '%s': %s", out_path, archive_error_string(out));
            break;
        }
        for (;;) {
            la_ssize_t n = archive_read_data(in, buf, COPY_BLOCK);
            if (n == 0)
                break;
            if (n < 0 || archive_write_data(out, buf, (size_t)n) != n) {
                r = error_set(err, EIO, "copy '%s' of '%s'", archive_entry_pathname(e) ?: "", path);
                break;
            }
        }
    }
    if (r == 0 && ar != ARCHIVE_EOF)
        r = error_set(err, EIO, "read '%s': %s", path, archive_error_string(in));
    if (r == 0 && archive_write_close(out) != ARCHIVE_OK)
        r = error_set(err, EIO, "write '%s': %s", out_path, archive_error_string(out));
    if (r == 0 && fsync(fd) < 0)
        r = error_set(err, errno, "write '%s'", out_path);
done:
    if (out)
        archive_write_free(out);
    archive_read_free(in);
    return r;
}

int layer_drop_mount_points(const char *tar_path, struct error **err)
{
    int r = archive_lazy_load(err);
    if (r < 0)
        return r;
    bool drop = false, drop_etc = false;
    if ((r = scan(tar_path, &drop, &drop_etc, err)) < 0 || !drop)
        return r;
    _cleanup_free_ char *tmp = xasprintf("%s.filtered", tar_path);
    r = copy_without(tar_path, tmp, drop_etc, err);
    if (r == 0 && rename(tmp, tar_path) < 0)
        r = error_set(err, errno, "rename '%s'", tmp);
    if (r < 0)
        unlink(tmp);
    return r;
}
