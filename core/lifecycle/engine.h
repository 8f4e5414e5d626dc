/*
 * The engine: what every verb that touches containers or images opens —
 * the plugins, the image store and the container store — and the calls into
 * storage drivers the image verbs need.
 */
#ifndef BERTH_ENGINE_H
#define BERTH_ENGINE_H

#include "cli/cli.h"
#include "image/image-store.h"
#include "plugin/plugin-registry.h"

struct container_store;

struct engine {
    const struct cli_globals *globals;
    struct plugin_registry *plugins;
    struct image_store *images;
    struct container_store *containers;
};

/* Opens stores and loads plugins, then recovers containers whose berth died. */
int engine_open(const struct cli_globals *g, struct engine **ret, struct error **err);
void engine_free(struct engine *e);
/* For _cleanup_(engine_freep); engine_free accepts NULL. */
static inline void engine_freep(struct engine **e)
{
    engine_free(*e);
}
/* Asks every storage driver to drop LAYERS (after an image rm). */
int engine_storage_remove_layers(struct engine *e, const struct image_layer *layers, size_t n,
                                 struct error **err);
/* Number of containers (any state) created from image IMAGE_ID. */
int engine_image_users(struct engine *e, const char *image_id, struct error **err);

#endif
