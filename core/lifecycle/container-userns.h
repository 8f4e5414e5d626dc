/*
 * --userns=auto at create: the container's host id ranges, chosen so that
 * no two containers share one (runtime/userns-opts.h). The ranges live in
 * the records; removing a container (its record) releases them.
 */
#ifndef BERTH_CONTAINER_USERNS_H
#define BERTH_CONTAINER_USERNS_H

#include <cjson/cJSON.h>

#include "lifecycle/engine.h"

/*
 * Fills REC's security.userns maps for mode auto; *RET_LOCK is the lock
 * that keeps other creates from choosing until REC is saved (unlock_fd it
 * after container_store_save), -1 when nothing was allocated.
 */
int container_userns_allocate(struct engine *e, cJSON *rec, int *ret_lock, struct error **err);

#endif
