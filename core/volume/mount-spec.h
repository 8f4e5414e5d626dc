/*
 * The user's mount specs, parsed and checked before anything is made:
 *   -v NAME:/path[:OPTS]        a named volume (made on first use)
 *   -v /path                    an anonymous volume (a random name)
 *   -v /host/dir:/path[:OPTS]   a bind mount; the source must be absolute
 *   --mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,…]
 *   --tmpfs /path[:size=…,mode=…,…]
 * OPTS of -v: ro, rw, nocopy (volumes), z and Z (ignored, SELinux labels).
 */
#ifndef BERTH_MOUNT_SPEC_H
#define BERTH_MOUNT_SPEC_H

#include "util/error.h"

enum mount_kind {
    MOUNT_VOLUME = 1,
    MOUNT_BIND,
    MOUNT_TMPFS,
};

struct mount_spec {
    enum mount_kind kind;
    char *source; /* volume name (NULL: anonymous), absolute host path, NULL for tmpfs */
    char *target; /* absolute, normalised: no "//", no trailing "/", no "." or ".." */
    int read_only;
    int no_copy;   /* volume: do not fill a new volume from the image */
    char *options; /* tmpfs: "size=…,mode=…" and other tmpfs words, or NULL */
};

void mount_spec_clear(struct mount_spec *m);
/* "volume", "bind" or "tmpfs". */
const char *mount_kind_name(enum mount_kind kind);
/* Each parses one spec into *RET (cleared first); a bad spec is one clear
 * error naming it. Nothing is looked up on disk. */
int mount_spec_parse_volume(const char *spec, struct mount_spec *ret, struct error **err);
int mount_spec_parse_mount(const char *spec, struct mount_spec *ret, struct error **err);
int mount_spec_parse_tmpfs(const char *spec, struct mount_spec *ret, struct error **err);

#endif
