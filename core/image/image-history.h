/* An image's history as docker shows it, from its config's "history". */
#ifndef BERTH_IMAGE_HISTORY_H
#define BERTH_IMAGE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct image_history_row {
    long long created; /* unix seconds, 0 if unknown */
    char *created_by;
    char *comment;
    bool empty_layer;
    long long size; /* the layer blob's size; 0 for an empty layer */
};

/*
 * Rows newest first from CONFIG_JSON's history, each non-empty entry
 * matched in order with LAYER_SIZES[0..N_LAYERS) (bottom first). A config
 * without history gives one row per layer. Refuses a history with more
 * non-empty entries than layers. Caller frees with image_history_free.
 */
int image_history_parse(const char *config_json, const long long *layer_sizes, size_t n_layers,
                        struct image_history_row **ret, size_t *ret_n, struct error **err);
void image_history_free(struct image_history_row *rows, size_t n);

#endif
