#include "lifecycle/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/lifecycle.h"
#include "lifecycle/plugin-calls.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

int engine_open(const struct cli_globals *g, struct engine **ret, struct error **err)
{
    struct engine *e = calloc(1, sizeof(*e));
    if (!e)
        return error_set(err, ENOMEM, "open engine");
    e->globals = g;
    _cleanup_free_ char *plugin_state = xasprintf("%s/plugins", g->root);
    _cleanup_free_ char *run_containers = xasprintf("%s/containers", g->runroot);
    _cleanup_free_ char *plugin_cache = xasprintf("%s/plugin-cache.json", g->runroot);
    int r = mkdir_p(plugin_state, 0700, err);
    if (r >= 0)
        r = mkdir_p(run_containers, 0700, err);
    if (r >= 0)
        r = image_store_open(g->root, &e->images, err);
    if (r >= 0)
        r = container_store_open(g->root, &e->containers, err);
    struct plugin_load_config plugin_config = {
        .file = g->config_file,
        .plugins = cJSON_GetObjectItemCaseSensitive(g->config, "plugins"),
    };
    if (r >= 0)
        r = plugin_registry_open(g->plugin_path, plugin_state, g->runroot, plugin_cache,
                                 &plugin_config, &e->plugins, err);
    if (r < 0) {
        engine_free(e);
        return r;
    }
    lifecycle_recover(e);
    *ret = e;
    return 0;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    plugin_registry_free(e->plugins);
    image_store_free(e->images);
    container_store_free(e->containers);
    free(e);
}

int engine_storage_remove_layers(struct engine *e, const struct image_layer *layers, size_t n,
                                 struct error **err)
{
    int failed = 0;
    plugin_registry_require(e->plugins, BERTH_KIND_STORAGE);
    for (size_t i = 0; i < e->plugins->n_plugins; i++) {
        struct plugin *p = e->plugins->plugins[i];
        if (p->desc->kind != BERTH_KIND_STORAGE)
            continue;
        for (size_t j = 0; j < n; j++) {
            struct error *local = NULL;
            if (storage_remove_layer(p, &layers[j], &local) < 0) {
                if (!failed) {
                    error_free(err);
                    *err = local;
                    local = NULL;
                }
                failed++;
            }
            error_free(&local);
        }
    }
    return failed ? error_code(*err) : 0;
}

int engine_image_users(struct engine *e, const char *image_id, struct error **err)
{
    cJSON *all = NULL;
    int r = container_store_list(e->containers, &all, err);
    if (r < 0)
        return r;
    int users = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, all)
    {
        const char *id = rec_str(rec, "image_id");
        if (id && !strcmp(id, image_id))
            users++;
    }
    cJSON_Delete(all);
    return users;
}
