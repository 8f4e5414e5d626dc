/* The undo of each journaled step, shared by rollback and crash recovery. */
#ifndef BERTH_UNDO_H
#define BERTH_UNDO_H

#include <cjson/cJSON.h>

#include "lifecycle/engine.h"

struct undo_ctx {
    struct engine *engine;
    const char *id;
};

/* journal_undo_fn for container steps; CTX is a struct undo_ctx. */
int undo_step(void *ctx, const cJSON *entry, struct error **err);
/* Builds an undo entry {"undo": KIND} to which callers add fields. */
cJSON *undo_entry(const char *kind);

#endif
