/*
 * Volumes, bind mounts and tmpfs mounts of a container (-v, --mount,
 * --tmpfs). create turns the user's specs into the record's "mounts" array
 * and creates named volumes on first use; attach asks the volume plugins for
 * the mounts the runtime performs inside the container; detach undoes
 * attach and is idempotent (it is also the journal's undo).
 */
#ifndef BERTH_CONTAINER_MOUNTS_H
#define BERTH_CONTAINER_MOUNTS_H

#include <cjson/cJSON.h>

#include "lifecycle/engine.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/plugin-calls.h"

/* Parses O's -v/--mount/--tmpfs specs into REC["mounts"]; creates named
 * volumes that do not exist yet. A bad spec is one clear error. */
int container_mounts_create(struct engine *e, cJSON *rec, const struct create_options *o,
                            struct error **err);
/* Appends the mounts of REC["mounts"] to RET (in order, after the root). */
int container_mounts_attach(struct engine *e, const char *id, const cJSON *rec,
                            struct mount_list *ret, struct error **err);
/* Tells the volume plugins the container no longer uses its volumes. */
int container_mounts_detach(struct engine *e, const char *id, const cJSON *rec, struct error **err);

#endif
