/*
 * Volumes as the rest of the core sees them: the record in the volume store
 * and the driver's data kept in step, and the typed calls into volume
 * plugins (create, remove, mount, unmount, inspect, gc). Each call turns the
 * plugin's error into a core error.
 */
#ifndef BERTH_VOLUME_CALLS_H
#define BERTH_VOLUME_CALLS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "lifecycle/engine.h"
#include "lifecycle/plugin-calls.h"
#include "volume/volume-store.h"

/* The volume plugin NAME, or an error "unknown volume driver 'NAME'". */
int volume_driver_find(struct plugin_registry *reg, const char *name, struct plugin **ret,
                       struct error **err);

/*
 * Creates volume NAME with DRIVER (NULL: the default) unless it exists.
 * OPTIONS and LABELS are JSON objects of strings or NULL. An existing volume
 * is kept (*RET_CREATED = 0) unless DRIVER or OPTIONS name something else,
 * which is an error. *RET_DRIVER (may be NULL) gets the volume's driver name,
 * which the caller frees. A failure leaves neither record nor data.
 */
int volume_create(struct engine *e, struct volume_store *vs, const char *name, const char *driver,
                  const cJSON *options, const cJSON *labels, int *ret_created, char **ret_driver,
                  struct error **err);
/* Removes volume NAME; refuses (-EBUSY) while a container uses it. */
int volume_remove(struct engine *e, struct volume_store *vs, const char *name, struct error **err);
/* The record merged with the driver's description (mountpoint, size…). */
int volume_inspect(struct engine *e, struct volume_store *vs, const char *name, cJSON **ret,
                   struct error **err);
/* Ids of the containers (any state) whose record mounts volume NAME. */
int volume_containers(struct engine *e, const char *name, char ***ret_ids, size_t *ret_n,
                      struct error **err);

/* Asks P to attach NAME at TARGET for container ID; appends to LIST. */
int volume_plugin_mount(struct plugin *p, const char *name, const char *id, const char *target,
                        int read_only, struct mount_list *list, struct error **err);
/* Tells P that container ID no longer uses NAME (idempotent). */
int volume_plugin_unmount(struct plugin *p, const char *name, const char *id, struct error **err);
/*
 * A volume plugin's gc: CONTAINER_IDS are the containers that exist; the
 * volumes it may keep are those whose record names it, listed under the
 * store-wide lock so that a volume being created is never taken for junk.
 */
int volume_gc(struct engine *e, struct plugin *p, char **container_ids, size_t n_container_ids,
              struct error **err);

#endif
