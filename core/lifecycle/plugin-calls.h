/*
 * Typed calls into plugins: each checks that the plugin's operations table
 * holds the operation, builds the request, and turns the plugin's error into
 * a core error naming the plugin and the operation.
 */
#ifndef BERTH_PLUGIN_CALLS_H
#define BERTH_PLUGIN_CALLS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "image/image-store.h"
#include "plugin/plugin-registry.h"
#include "runtime/runtime.h"

struct mount_list {
    struct mount_entry *items;
    size_t n;
};
void mount_list_clear(struct mount_list *l);
/* The add_mount callback of a berth_storage_prepare_result whose host_ctx is
 * a struct mount_list: copies the mount onto the list. */
int mount_list_add_cb(void *ctx, const struct berth_mount *m);

/* The put callback of a berth_text_result whose host_ctx is a struct
 * text_sink: keeps a copy of the last text put. The caller frees text. */
struct text_sink {
    char *text;
};
int text_sink_put(void *ctx, const char *text);

/* The storage plugin NAME, or an error "unknown storage driver 'NAME'". */
int storage_find(struct plugin_registry *reg, const char *name, struct plugin **ret,
                 struct error **err);
/* Makes sure every layer of IMG (from STORE) is present in the driver
 * (unpacking once), its diff_id checked first (image/layer-check.h). */
int storage_ensure_layers(struct plugin *p, const struct image_store *store,
                          const struct image *img, struct error **err);
/* LAYERS is the record's "layers" array of {diff_id, chain_id}. */
int storage_prepare(struct plugin *p, const char *id, const cJSON *layers, int read_only,
                    int transient, struct mount_list *ret_mounts, struct error **err);
int storage_release(struct plugin *p, const char *id, struct error **err);
int storage_remove(struct plugin *p, const char *id, struct error **err);
int storage_remove_layer(struct plugin *p, const struct image_layer *layer, struct error **err);
int plugin_gc(struct plugin *p, char **container_ids, size_t n_containers, char **layer_ids,
              size_t n_layers, char **object_ids, size_t n_objects, struct error **err);

/* Hook events: NAME_OF(type) and the delivery to every hook plugin. */
const char *event_name(uint32_t type);
struct event_view {
    const char *id, *name, *image, *bundle, *netns;
    int pid;
    int exit_status;
};
/* Delivers the event to every hook. In the pre phase the first refusal
 * is returned as an error; post-phase failures are logged. */
int hooks_emit(struct plugin_registry *reg, uint32_t type, const struct event_view *v,
               struct error **err);

/* Network driver calls. NETWORK is the network's record; JOIN (may be NULL)
 * the join_json. create and join store the driver's JSON result in
 * *RET_RESULT (parsed; NULL when the driver reported nothing). */
int network_driver_find(struct plugin_registry *reg, const char *name, struct plugin **ret,
                        struct error **err);
int network_driver_create(struct plugin *p, const cJSON *network, cJSON **ret_result,
                          struct error **err);
int network_driver_remove(struct plugin *p, const cJSON *network, struct error **err);
int network_driver_join(struct plugin *p, const cJSON *network, const char *id, const char *netns,
                        const cJSON *join, cJSON **ret_result, struct error **err);
int network_driver_leave(struct plugin *p, const cJSON *network, const char *id, const char *netns,
                         const cJSON *join, struct error **err);

#endif
