/*
 * The container store: one JSON record per container at
 * ROOT/containers/ID.json, written atomically (temp, fsync, rename) and
 * guarded by ROOT/containers/ID.lock; names are reserved as
 * ROOT/containers/names/NAME files created with O_EXCL, so concurrent
 * commands can never hand out one name twice nor lose a record.
 *
 * A record is a cJSON object; the store owns nothing after a call returns.
 */
#ifndef BERTH_CONTAINER_STORE_H
#define BERTH_CONTAINER_STORE_H

#include <cjson/cJSON.h>

#include "util/error.h"

#define CONTAINER_ID_LEN 64

struct container_store;

int container_store_open(const char *root, struct container_store **ret, struct error **err);
void container_store_free(struct container_store *store);

/* Makes a new random id (64 hex) into ID (CONTAINER_ID_LEN+1 bytes). */
void container_new_id(char *id);
/* 1 if NAME is a valid container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, ≤ 128). */
int container_name_is_valid(const char *name);
/* Makes a docker-like random name ("adjective_noun" + suffix). */
char *container_random_name(void);

/* Reserves NAME for ID; -EEXIST with a message if taken. */
int container_store_reserve_name(struct container_store *store, const char *name, const char *id,
                                 struct error **err);
/* Releases NAME if it is still reserved for ID. */
void container_store_release_name(struct container_store *store, const char *name, const char *id);

/* Writes REC (which must have "id") atomically. */
int container_store_save(struct container_store *store, const cJSON *rec, struct error **err);
/* Removes names whose container has no record (left by a crash or a torn record). */
void container_store_sweep_names(struct container_store *store);
/* Loads the record of ID exactly. -ENOENT if absent, -EBADMSG if corrupt. */
int container_store_load(struct container_store *store, const char *id, cJSON **ret,
                         struct error **err);
/* Finds by full id, name, or unique id prefix. -ENOENT: "no such container". */
int container_store_find(struct container_store *store, const char *ref, cJSON **ret,
                         struct error **err);
/* Deletes the record of ID (absent is fine). */
int container_store_delete(struct container_store *store, const char *id, struct error **err);
/*
 * All records, sorted by creation time. A corrupt record is reported with a
 * warning naming it and skipped; the rest are returned.
 */
int container_store_list(struct container_store *store, cJSON **ret_array, struct error **err);
/* Ids of every record on disk, corrupt ones included (for gc). */
int container_store_ids(struct container_store *store, char ***ret_ids, size_t *ret_n,
                        struct error **err);

/* Takes ID's record lock (exclusive, waiting). Returns the fd. */
int container_store_lock(struct container_store *store, const char *id, struct error **err);

/* Record accessors: NULL / DEF when absent. */
const char *rec_str(const cJSON *rec, const char *key);
long long rec_int(const cJSON *rec, const char *key, long long def);
void rec_set_str(cJSON *rec, const char *key, const char *value);
void rec_set_int(cJSON *rec, const char *key, long long value);

#endif
