/*
 * The mount points berth makes in a container's root, out of the layer
 * that commit makes of it. A bind mount needs its target to exist: when
 * the image has no /etc/hosts, /etc/resolv.conf or /etc/hostname, the
 * runtime creates an empty file there (and /etc, if missing), in the
 * container's writable layer. What the container writes to those files
 * goes to berth's bind-mounted copies, never to that layer, so the empty
 * files are berth's, as docker's "init layer" keeps them out of its
 * commits.
 */
#ifndef BERTH_LAYER_FILTER_H
#define BERTH_LAYER_FILTER_H

#include "util/error.h"

/*
 * Rewrites the uncompressed layer tar at TAR_PATH without the empty
 * regular files etc/hosts, etc/resolv.conf and etc/hostname, and without
 * etc/ itself when nothing else below it is left. A tar without them is
 * left as it is, byte for byte.
 */
int layer_drop_mount_points(const char *tar_path, struct error **err);

#endif
