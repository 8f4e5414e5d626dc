/*
 * The storage operations added in ABI 1.1: a container's diff (for commit)
 * and its filesystem snapshots. Each checks the driver announces the
 * capability and that its operations table holds the operation (a plugin
 * built for ABI 1.0 has neither), else fails with ENOTSUP and
 * "not supported by driver 'NAME'".
 */
#ifndef BERTH_STORAGE_CALLS_H
#define BERTH_STORAGE_CALLS_H

#include <cjson/cJSON.h>

#include "plugin/plugin-registry.h"

/* Writes the container's changes as an uncompressed layer tar at TAR_PATH.
 * LAYERS is the record's "layers" array of {diff_id, chain_id}. */
int storage_diff(struct plugin *p, const char *id, const cJSON *layers, const char *tar_path,
                 struct error **err);

enum storage_snapshot_op {
    STORAGE_SNAPSHOT_SAVE,
    STORAGE_SNAPSHOT_RESTORE,
    STORAGE_SNAPSHOT_REMOVE,
};
int storage_snapshot(struct plugin *p, enum storage_snapshot_op op, const char *id,
                     const char *name, struct error **err);
/* The container's snapshots as the driver's JSON array (caller frees). */
int storage_snapshot_list(struct plugin *p, const char *id, char **ret_json, struct error **err);

/* 1 if NAME is a valid snapshot name: [A-Za-z0-9][A-Za-z0-9_.-]*, ≤ 128. */
int snapshot_name_is_valid(const char *name);

#endif
