/*
 * Safe extraction of one OCI layer tar (plain, gzip or zstd) with libarchive.
 * Nothing is ever written outside the destination: entries with "..", an
 * absolute path, a path through a symlink, or a hardlink whose target leaves
 * the layer are refused with an error naming the entry.
 */
#ifndef BERTH_LAYER_UNPACK_H
#define BERTH_LAYER_UNPACK_H

#include "util/error.h"

/* Whiteout modes; the values equal the SDK's BERTH_WHITEOUT_*. */
#define LAYER_WHITEOUT_CHARDEV 1u /* .wh.X → char 0/0 X; .wh..wh..opq → opaque xattr */
#define LAYER_WHITEOUT_APPLY 2u   /* .wh.X → delete X; .wh..wh..opq → empty the dir */

/*
 * Unpacks TAR_PATH into the existing directory DEST_DIR. Owners, modes,
 * times, xattrs, hardlinks, symlinks and device nodes are kept.
 */
int layer_unpack(const char *tar_path, const char *dest_dir, unsigned whiteout_mode,
                 struct error **err);

/*
 * Reads TAR_PATH without writing anything: checks every entry name as
 * layer_unpack would, and computes the digest of the uncompressed stream
 * ("sha256:…", the layer's diff_id) into RET_DIFF_ID (DIGEST_STR_LEN+1 bytes).
 */
int layer_verify(const char *tar_path, char *ret_diff_id, struct error **err);

/*
 * berth cp's side of a copy: where the tar read from TAR_FD goes. CHOOSE is
 * called once, at the first entry, with TOP, the first component of its
 * name ("." for a tar of a directory's contents: "./", "./a"…), and whether
 * it is a directory; it returns the directory to extract into (a borrowed
 * descriptor) and the name TOP takes there ("." for that directory itself),
 * then every entry must be below TOP; or NULL: every name as it is. Nothing is written outside that
 * directory; an existing directory is never replaced by a file nor the reverse. FORCE_OWNER gives
 * every node UID:GID instead of the entry's.
 */
struct layer_copy_target {
    int (*choose)(void *ctx, const char *top, int is_dir, int *ret_dir_fd, const char **ret_as,
                  struct error **err);
    void *ctx;
    int force_owner;
    unsigned uid, gid;
};
int layer_unpack_copy(int tar_fd, const struct layer_copy_target *t, struct error **err);

/*
 * Pure (exposed for unit tests): normalized PATH with its first component
 * TOP replaced by AS ("." for either: no component), or NULL if PATH is
 * not below TOP (or no memory).
 */
char *layer_copy_rename(const char *path, const char *top, const char *as);

/*
 * An entry name as the extractor reads it, in a new string: "./" prefixes,
 * empty and "." components and a trailing '/' dropped ("" for the root);
 * NULL for an absolute name or one with "..", or without memory.
 */
char *layer_entry_name(const char *name);

/*
 * Pure check of one entry name (exposed for unit tests): 0 if NAME is a
 * relative path with no ".." component once "./" prefixes are stripped,
 * -EINVAL otherwise.
 */
int layer_check_entry_name(const char *name);

#endif
