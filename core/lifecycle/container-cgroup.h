/*
 * A container's cgroup as the lifecycle sees it: the limits and parent in
 * the record ("resources", "cgroup_parent"), where the cgroup is once started
 * ("cgroup_mode", "cgroup_path", "cgroup_remove_parent"), its undo and its
 * removal when the container stops.
 */
#ifndef BERTH_CONTAINER_CGROUP_H
#define BERTH_CONTAINER_CGROUP_H

#include <cjson/cJSON.h>

#include "runtime/cgroup.h"

/*
 * At create: validates LIMITS (may be NULL) and PARENT (may be NULL) into REC;
 * NO_CGROUP (--cgroups disabled) keeps the container in berth's own cgroups.
 */
int container_cgroup_options(cJSON *rec, const struct cgroup_limits *limits, const char *parent,
                             int no_cgroup, struct error **err);
/* At start: resolves the cgroup berth-ID, records where it is; *RET NULL for none. */
int container_cgroup_prepare(const char *id, cJSON *rec, struct cgroup_spec **ret,
                             struct error **err);
/* The journal entry {"undo": "cgroup-remove", mode, path, remove_parent}. */
cJSON *container_cgroup_undo(const struct cgroup_spec *s);
/* Runs that undo (also for the records' own cgroup_* fields). */
int container_cgroup_remove_entry(const cJSON *entry, struct error **err);
/* pause (PAUSE 1) or unpause (0) the container REF: freezer and state "paused". */
struct engine;
int container_pause(struct engine *e, const char *ref, int pause, struct error **err);
/* Thaws the cgroup recorded in REC, if frozen (before a kill). */
void container_cgroup_thaw(const cJSON *rec);
/* The cgroup recorded in REC; *RET NULL when there is none. */
int container_cgroup_load(const cJSON *rec, struct cgroup_spec **ret, struct error **err);

#endif
