/*
 * The volume store: one JSON record per volume at ROOT/volumes/NAME.json
 * ({name, driver, created, labels, options}), written atomically and
 * guarded by ROOT/volumes/NAME.lock; ROOT/volumes/lock orders the creation
 * of volumes against gc (which removes what no record names). The data
 * itself belongs to the volume's driver.
 */
#ifndef BERTH_VOLUME_STORE_H
#define BERTH_VOLUME_STORE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "util/error.h"

struct volume_store;

int volume_store_open(const char *root, struct volume_store **ret, struct error **err);
void volume_store_free(struct volume_store *store);

/* 1 if NAME is a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128,
 * no ".."), as docker's. */
int volume_name_is_valid(const char *name);
/* A random name (64 hex digits, as docker's anonymous volumes). Caller frees. */
char *volume_random_name(void);

/* Takes NAME's lock (exclusive, waiting); returns the descriptor. */
int volume_store_lock(struct volume_store *store, const char *name, struct error **err);
/* Takes the store-wide lock that creation and gc share; returns the descriptor. */
int volume_store_lock_all(struct volume_store *store, struct error **err);

/* Loads NAME's record. -ENOENT "no such volume 'NAME'", -EBADMSG if corrupt. */
int volume_store_load(struct volume_store *store, const char *name, cJSON **ret,
                      struct error **err);
/* Writes REC (which must have "name") atomically. */
int volume_store_save(struct volume_store *store, const cJSON *rec, struct error **err);
/* Deletes NAME's record (absent is fine). */
int volume_store_delete(struct volume_store *store, const char *name, struct error **err);
/* Every volume's name, sorted, NULL-terminated (*RET_NAMES is never NULL on
 * success, so that gc can tell "no volumes" from "not told"). */
int volume_store_names(struct volume_store *store, char ***ret_names, size_t *ret_n,
                       struct error **err);

#endif
