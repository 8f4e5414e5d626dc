/*
 * --init: berth-init (core/init/berth-init.c), a static reaper, becomes the
 * container's pid 1 with the command as its child. The runtime needs no
 * change for it: the bundle bind-mounts the binary read-only at /dev/init
 * and the process's args start with "/dev/init --".
 */
#ifndef BERTH_INIT_BINARY_H
#define BERTH_INIT_BINARY_H

#include <stddef.h>

#include "runtime/runtime.h"
#include "util/error.h"

/* Where the container sees berth-init. */
#define INIT_BINARY_TARGET "/dev/init"

/*
 * Finds berth-init: $BERTH_INIT_PATH, else berth-init beside the berth that
 * was run (a build tree), else the installed libexec one. *RET: caller frees.
 */
int init_binary_find(char **ret, struct error **err);

/*
 * Puts "/dev/init" "--" in front of *ARGS (a NULL-terminated malloc'd
 * vector, replaced) and returns in *RET_MOUNTS a malloc'd copy of MOUNTS
 * (N entries) with the bind of berth-init appended; its source is
 * *RET_PATH, owned by the caller as is *RET_MOUNTS (not its strings).
 */
int init_binary_apply(char ***args, const struct mount_entry *mounts, size_t n,
                      struct mount_entry **ret_mounts, char **ret_path, struct error **err);

#endif
