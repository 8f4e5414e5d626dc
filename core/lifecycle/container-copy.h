/*
 * berth cp: files between the host and a container, running or not, as
 * a tar stream between two processes: the host's side runs in berth, the
 * container's in a child that sees the container's files (through its
 * first process's root, or, when it does not run, a private mount of its
 * storage and volumes) and, to write into a container with a user
 * namespace, is in that namespace. Every path in the container resolves
 * inside its root; nothing is written outside the destination.
 */
#ifndef BERTH_CONTAINER_COPY_H
#define BERTH_CONTAINER_COPY_H

#include "lifecycle/engine.h"

struct copy_request {
    const char *container;      /* name, id or unique id prefix */
    const char *container_path; /* absolute, or relative to the container's "/" */
    const char *host_path;      /* NULL: a tar on stdin (into) or stdout (out of) */
    int into_container;         /* host to container; else container to host */
    int archive;                /* -a: keep owners; else the destination's user */
    int follow_link;            /* -L: a source that is a symlink is followed */
    int tar_fd;                 /* without HOST_PATH: where the tar is read or written */
    int root_only;              /* berth export: the root file system without what is
                                 * mounted on it (volumes, binds, /proc…) */
};

int container_copy(struct engine *e, const struct copy_request *c, struct error **err);

/*
 * Pure (exposed for unit tests): how docker names the place of a copy.
 * PATH's last component goes into *RET_NAME (malloc'd) and the rest into
 * *RET_DIR ("." or "/" when there is none); *RET_NAME is "." when PATH is a
 * directory itself ("/", "a/.", "a/.."), and then *RET_DIR is PATH.
 * *RET_CONTENTS is set when PATH ends in "/." (a directory's contents),
 * *RET_SLASH when it ends in "/" (must be a directory).
 */
int copy_path_split(const char *path, char **ret_dir, char **ret_name, int *ret_contents,
                    int *ret_slash);

#endif
