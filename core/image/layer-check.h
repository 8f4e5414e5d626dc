/*
 * Which layer blobs of the image store still need their diff_id checked.
 *
 * A pull stores a layer once its blob digest (of the compressed bytes, as
 * the manifest names it) is verified; the diff_id the image's config
 * claims (the digest of the decompressed tar) is checked when a storage
 * driver first needs the layer, as containerd does, so that a pull does
 * not decompress what the first run decompresses again. Nothing is ever
 * unpacked under a diff_id nobody checked: storage_ensure_layers calls
 * layer_check_ensure before every add_layer.
 *
 * ROOT/images/layer-check/HEX holds the state of blob sha256:HEX:
 *   no file      the blob came in checked (load, import, commit): every
 *                image the store has that lists it agrees on its diff_id;
 *   "unchecked"  a pull stored it without decompressing it;
 *   "sha256:…"   checked since: its true diff_id. A blob's diff_id is a
 *                function of its content, so such a record never goes
 *                stale, whatever images come and go.
 */
#ifndef BERTH_LAYER_CHECK_H
#define BERTH_LAYER_CHECK_H

#include "util/error.h"

enum layer_check_state {
    LAYER_CHECK_TRUSTED = 0,
    LAYER_CHECK_UNCHECKED,
    LAYER_CHECK_KNOWN,
};

/*
 * The state of blob DIGEST in the store at IMAGES_DIR (ROOT/images); for
 * LAYER_CHECK_KNOWN its diff_id goes into RET_DIFF_ID (DIGEST_STR_LEN + 1
 * bytes, may be NULL otherwise). Returns the state or a negative errno.
 */
int layer_check_state(const char *images_dir, const char *digest, char *ret_diff_id,
                      struct error **err);

/* Records blob DIGEST as unchecked unless it has a record already. */
int layer_check_mark_unchecked(const char *images_dir, const char *digest, struct error **err);

/* Records that blob DIGEST decompresses to DIFF_ID. */
int layer_check_record(const char *images_dir, const char *digest, const char *diff_id,
                       struct error **err);

/* Removes the record of blob DIGEST (the blob left the store). */
void layer_check_forget(const char *images_dir, const char *digest);

/*
 * Before a storage driver first gets the layer blob DIGEST at BLOB_PATH as
 * the layer CLAIMED_DIFF_ID: 0 if the blob is known to decompress to it
 * (decompressing and hashing it now if it is unchecked, and recording what
 * it found), else an error naming both digests.
 */
int layer_check_ensure(const char *images_dir, const char *blob_path, const char *digest,
                       const char *claimed_diff_id, struct error **err);

#endif
