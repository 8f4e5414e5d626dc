/*
 * The layer extractor: the input is a layer (tar, gzip or zstd). It is
 * verified, then unpacked in both whiteout modes and as berth cp extracts
 * a copy (its top entry renamed), each into a fresh directory inside an
 * otherwise empty parent; anything the layer wrote beside its destination
 * is a crash.
 */
#include "fuzz-util.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "image/layer-unpack.h"
#include "util/sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* berth cp's choice: into DEST (the context), the top renamed "copied". */
static int choose_dest(void *ctx, const char *top, int is_dir, int *ret_dir_fd, const char **ret_as,
                       struct error **err)
{
    (void)top;
    (void)is_dir;
    (void)err;
    *ret_dir_fd = *(int *)ctx;
    *ret_as = "copied";
    return 0;
}

static void unpack_into(const char *tar, unsigned mode, int populate)
{
    _cleanup_free_ char *parent = xasprintf("%s/parent", fuzz_dir());
    _cleanup_free_ char *dest = xasprintf("%s/root", parent);
    FUZZ_ASSERT(mkdir(parent, 0700) == 0);
    FUZZ_ASSERT(mkdir(dest, 0755) == 0);
    if (populate) {
        /* Something for whiteouts and opaque directories to remove. */
        _cleanup_free_ char *etc = xasprintf("%s/etc", dest);
        _cleanup_free_ char *passwd = xasprintf("%s/etc/passwd", dest);
        FUZZ_ASSERT(mkdir(etc, 0755) == 0);
        fuzz_write_file(passwd, "root:x:0:0::/root:/bin/sh\n", 26);
    }
    struct error *err = NULL;
    if (mode != 0) {
        (void)layer_unpack(tar, dest, mode, &err);
    } else {
        _cleanup_close_ int in = open(tar, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_ASSERT(in >= 0 && dfd >= 0);
        struct layer_copy_target t = {.choose = choose_dest, .ctx = &dfd};
        (void)layer_unpack_copy(in, &t, &err);
    }
    error_free(&err);
    char name[256];
    FUZZ_ASSERT(fuzz_dir_entries(parent, name) == 1 && !strcmp(name, "root"));
    FUZZ_ASSERT(fuzz_dir_entries(fuzz_dir(), NULL) == 2); /* layer.tar and parent */
    fuzz_rm_rf(parent);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *tar = xasprintf("%s/layer.tar", fuzz_dir());
    fuzz_write_file(tar, data, size);
    char diff_id[DIGEST_STR_LEN + 1];
    struct error *err = NULL;
    if (layer_verify(tar, diff_id, &err) == 0)
        FUZZ_ASSERT(digest_is_valid(diff_id));
    error_free(&err);
    unpack_into(tar, LAYER_WHITEOUT_CHARDEV, 0);
    unpack_into(tar, LAYER_WHITEOUT_APPLY, 1);
    unpack_into(tar, 0, 1); /* berth cp */
    FUZZ_ASSERT(unlink(tar) == 0);
    return 0;
}
