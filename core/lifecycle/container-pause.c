/*
 * pause and unpause: the freezer of the container's cgroup, and the record's
 * state "paused". The record is written without its lock, which the
 * container's owner (the berth or monitor waiting for it) holds for the
 * container's whole life; the owner's own last write (state "exited") wins.
 */
#include <errno.h>
#include <string.h>

#include "lifecycle/container-cgroup.h"
#include "lifecycle/engine.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/json-util.h"

int container_pause(struct engine *e, const char *ref, int pause, struct error **err)
{
    _cleanup_json_ cJSON *rec = NULL;
    int r = container_store_find(e->containers, ref, &rec, err);
    if (r < 0)
        return r;
    const char *state = rec_str(rec, "state");
    const char *want = pause ? "running" : "paused";
    if (!state || strcmp(state, want)) {
        if (pause && state && !strcmp(state, "paused"))
            return error_set_plain(err, EBUSY, "container '%s' is already paused", ref);
        return error_set_plain(err, EBUSY, "container '%s' is %s", ref,
                               state && !strcmp(state, "running") ? "not paused"
                                                                  : (state ? state : "unknown"));
    }
    _cleanup_cgroup_spec_ struct cgroup_spec *cg = NULL;
    if ((r = container_cgroup_load(rec, &cg, err)) < 0)
        return r;
    if (!cg)
        return error_set_plain(err, EOPNOTSUPP, "container '%s' has no cgroup to freeze", ref);
    if (cgroup_freeze(cg, pause, err) < 0)
        return error_prefix(err, "container '%s'", ref);
    rec_set_str(rec, "state", pause ? "paused" : "running");
    if ((r = container_store_save(e->containers, rec, err)) < 0) {
        struct error *ignored = NULL;
        cgroup_freeze(cg, !pause, &ignored); /* nothing changed, as promised */
        error_free(&ignored);
        return r;
    }
    return 0;
}
