/*
 * --userns=auto at create: the container's host id ranges, chosen so that
 * no two containers share one (runtime/userns-opts.h). The ranges live in
 * the records; removing a container (its record) releases them.
 */
#ifndef BERTH_CONTAINER_USERNS_H
#define BERTH_CONTAINER_USERNS_H

#include <cjson/cJSON.h>

#include "image/layer-pack.h"
#include "lifecycle/engine.h"
#include "runtime/runtime.h"

/*
 * Fills REC's security.userns maps for mode auto; *RET_LOCK is the lock
 * that keeps other creates from choosing until REC is saved (unlock_fd it
 * after container_store_save), -1 when nothing was allocated.
 */
int container_userns_allocate(struct engine *e, cJSON *rec, int *ret_lock, struct error **err);

/*
 * After the storage driver's prepare: when REC has a user namespace and one
 * of MOUNTS is layered, its writable layer holds host ids (200000 for the
 * container's root): noted in REC's security.userns for commit.
 */
void container_userns_note_mounts(cJSON *rec, const struct mount_entry *mounts, size_t n);

/*
 * For commit: the owners a layer of REC's container must have, its host
 * ids shifted back through its maps (ids outside them: 65534, nobody), as
 * podman does; *RET is NULL when its writable layer holds the container's
 * own ids (no user namespace, or an idmapped tree). Free with free().
 */
int container_userns_pack_owners(const cJSON *rec, struct layer_pack_owners **ret,
                                 struct error **err);

#endif
