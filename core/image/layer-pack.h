/*
 * Packing a directory into an OCI layer tar (uncompressed) with libarchive:
 * the host service berth_services.pack_layer, and the pure decisions it
 * takes on union-filesystem-style whiteouts (exposed for unit tests).
 */
#ifndef BERTH_LAYER_PACK_H
#define BERTH_LAYER_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Whiteout modes; the values equal the SDK's BERTH_WHITEOUT_NONE/CHARDEV. */
#define LAYER_PACK_PLAIN 0u   /* nothing converted */
#define LAYER_PACK_CHARDEV 1u /* char 0/0 → .wh.NAME; opaque xattr → .wh..wh..opq */

/*
 * The owners a layer gets when the tree holds other ids than the image's:
 * the writable directory of a container in a user namespace holds host ids
 * (200000 for its root), the layer the container's (0). Each function gets
 * CTX and the id on disk and returns the one to store.
 */
struct layer_pack_owners {
    uint32_t (*uid)(const void *ctx, uint32_t disk_id);
    uint32_t (*gid)(const void *ctx, uint32_t disk_id);
    const void *ctx;
};

/*
 * Pure: the ids inside xattr NAME's VALUE (LEN bytes) through OWNERS, in
 * place; returns the new length. A file capability of revision 3 (set in a
 * user namespace: it holds that namespace's root as a host uid) whose root
 * becomes 0 is written as revision 2, as it is when set by the image's
 * root; the users and groups of a POSIX ACL are shifted. Other xattrs, and
 * values of another size, are left alone.
 */
size_t layer_pack_xattr_owners(const char *name, void *value, size_t len,
                               const struct layer_pack_owners *owners);

/*
 * Packs the tree below DIR into TAR_PATH (created, must not exist; removed
 * again on failure). Entries are sorted by name; owners and modes numeric
 * (owners, and the ids in xattrs, through OWNERS if not NULL), mtimes in
 * whole seconds, no user or group names, xattrs as PAX records (sorted),
 * hardlinks within DIR kept, sockets skipped: the same tree always gives
 * the same bytes. On success stores the number of entries written in
 * *RET_N_ENTRIES (may be NULL).
 */
int layer_pack(const char *dir, const char *tar_path, unsigned whiteout_mode,
               const struct layer_pack_owners *owners, size_t *ret_n_entries, struct error **err);

/*
 * berth cp's side of a copy: writes NAME of the directory DIR_FD, and all
 * below it, as a tar to OUT_FD, its top entry named AS ("." for a
 * directory's contents: "./", "./a"…). Nothing is converted: names
 * starting with ".wh." and character devices are ordinary entries.
 */
int layer_pack_copy(int dir_fd, const char *name, const char *as, int out_fd, struct error **err);
/*
 * The same without crossing into another file system than NAME's: what is
 * mounted below it (a volume, a bound file) comes as an empty directory or
 * an empty file, the mount point beneath it (berth export, tar's
 * --one-file-system).
 */
int layer_pack_copy_one_fs(int dir_fd, const char *name, const char *as, int out_fd,
                           struct error **err);

/* What a node becomes in the layer. */
enum pack_node {
    PACK_NODE_ENTRY,    /* itself */
    PACK_NODE_WHITEOUT, /* a ".wh.NAME" entry */
    PACK_NODE_SKIP,     /* nothing: a tar cannot hold it (socket) */
};
/* Pure: the fate of a node of type MODE (S_IF*) and device RDEV. */
enum pack_node layer_pack_node(mode_t mode, dev_t rdev, unsigned whiteout_mode);

/* What an xattr becomes. */
enum pack_xattr {
    PACK_XATTR_KEEP,   /* packed as a PAX record */
    PACK_XATTR_DROP,   /* the union filesystem's bookkeeping: not content */
    PACK_XATTR_OPAQUE, /* marks the directory opaque: a ".wh..wh..opq" entry */
    PACK_XATTR_REFUSE, /* redirect or metacopy: the upper dir alone is not the diff */
};
/* Pure: the fate of xattr NAME with VALUE (LEN bytes) on a node that is a
 * directory if IS_DIR. */
enum pack_xattr layer_pack_xattr(const char *name, const void *value, size_t len, int is_dir,
                                 unsigned whiteout_mode);

#endif
