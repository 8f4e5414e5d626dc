/*
 * Network records: ROOT/networks/NAME.json (atomic writes), each guarded by
 * ROOT/networks/NAME.lock. A record is the JSON described in
 * <berth/network.h> (network_json).
 */
#ifndef BERTH_NETWORK_STORE_H
#define BERTH_NETWORK_STORE_H

#include <cjson/cJSON.h>

#include "util/error.h"

/* 1 if NAME is a valid network name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, ≤ 64). */
int network_name_is_valid(const char *name);
int network_store_load(const char *root, const char *name, cJSON **ret, struct error **err);
int network_store_save(const char *root, const cJSON *rec, struct error **err);
int network_store_delete(const char *root, const char *name, struct error **err);
/* Every readable record, sorted by name; corrupt ones are warned about. */
int network_store_list(const char *root, cJSON **ret_array, struct error **err);
/* Takes NAME's lock (or the lock "all" for creating); returns the fd. */
int network_store_lock(const char *root, const char *name, struct error **err);

#endif
