/*
 * Network namespaces as files: a new namespace is bind-mounted onto
 * RUNROOT/netns/ID (as CNI and `ip netns` do), so drivers can join it by
 * path before the container process exists, and the container setns()es
 * into it. Loopback is brought up when it is made.
 */
#ifndef BERTH_NETNS_H
#define BERTH_NETNS_H

#include "util/error.h"

/* Makes the namespace file PATH (its directory must exist). */
int netns_create(const char *path, struct error **err);
/* Unmounts and removes PATH; a missing file is success. */
int netns_remove(const char *path, struct error **err);

#endif
