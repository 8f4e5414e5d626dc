#include "lifecycle/plugin-calls.h"
#include "lifecycle/plugin-isolate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/layer-check.h"
#include "plugin/plugin-host.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/log.h"

void mount_list_clear(struct mount_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].type);
        free(l->items[i].source);
        free(l->items[i].target);
        free(l->items[i].options);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int storage_find(struct plugin_registry *reg, const char *name, struct plugin **ret,
                 struct error **err)
{
    struct plugin *p = plugin_registry_find(reg, BERTH_KIND_STORAGE, name);
    if (!p) {
        for (size_t i = 0; i < reg->n_refused; i++) {
            const char *base = strrchr(reg->refused[i].path, '/');
            base = base ? base + 1 : reg->refused[i].path;
            if (!strncmp(base, name, strlen(name)) && !strcmp(base + strlen(name), ".so"))
                return error_set_plain(err, ENOENT, "storage driver '%s' was refused: %s", name,
                                       reg->refused[i].reason);
        }
        return error_set_plain(err, ENOENT, "unknown storage driver '%s'", name);
    }
    *ret = p;
    return 0;
}

static const struct berth_storage_ops *sops(struct plugin *p)
{
    return p->desc->ops;
}

int storage_ensure_layers(struct plugin *p, const struct image_store *store,
                          const struct image *img, struct error **err)
{
    const struct berth_storage_ops *o = sops(p);
    for (size_t i = 0; i < img->n_layers; i++) {
        const struct image_layer *l = &img->layers[i];
        struct berth_layer_request req = {
            .size = sizeof(req),
            .layer = {.size = sizeof(req.layer),
                      .diff_id = l->diff_id,
                      .chain_id = l->chain_id,
                      .parent_chain_id = i > 0 ? img->layers[i - 1].chain_id : NULL},
            .tar_path = l->blob_path,
        };
        struct berth_error perr = {0};
        int r = PLUGIN_RUN(p, "has_layer", &perr, NULL, NULL,
                           o->has_layer(p->state, &req.layer, NULL, &perr));
        if (r < 0) {
            plugin_call_result(r, &perr, "has_layer", err);
            return error_prefix(err, "storage driver '%s'", p->desc->name);
        }
        if (r > 0)
            continue;
        r = layer_check_ensure(image_store_dir(store), l->blob_path, l->digest, l->diff_id, err);
        if (r < 0)
            return r;
        r = PLUGIN_RUN(p, "add_layer", &perr, NULL, NULL,
                       o->add_layer(p->state, &req, NULL, &perr));
        if (r < 0) {
            plugin_call_result(r, &perr, "", err);
            return error_prefix(err, "storage driver '%s': unpack layer %.19s", p->desc->name,
                                l->diff_id);
        }
    }
    return 0;
}

int mount_list_add_cb(void *ctx, const struct berth_mount *m)
{
    struct mount_list *list = ctx;
    if (!m || !m->type || !m->target)
        return -EINVAL;
    struct mount_entry *grown = realloc(list->items, (list->n + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    list->items = grown;
    struct mount_entry *e = &grown[list->n++];
    e->type = strdup(m->type);
    e->source = strdup(m->source ? m->source : "none");
    e->target = strdup(m->target);
    e->options = m->options ? strdup(m->options) : NULL;
    return 0;
}

int storage_prepare(struct plugin *p, const char *id, const cJSON *layers, int read_only,
                    int transient, struct mount_list *ret_mounts, struct error **err)
{
    int n = cJSON_GetArraySize(layers);
    _cleanup_free_ struct berth_layer_ref *refs = calloc((size_t)n + 1, sizeof(*refs));
    if (!refs)
        return error_set(err, ENOMEM, "prepare storage");
    for (int i = 0; i < n; i++) {
        const cJSON *l = cJSON_GetArrayItem(layers, i);
        refs[i].size = sizeof(refs[i]);
        refs[i].diff_id = cJSON_GetStringValue(cJSON_GetObjectItem(l, "diff_id"));
        refs[i].chain_id = cJSON_GetStringValue(cJSON_GetObjectItem(l, "chain_id"));
        refs[i].parent_chain_id = i > 0 ? refs[i - 1].chain_id : NULL;
    }
    struct berth_storage_prepare_request req = {
        .size = sizeof(req),
        .container_id = id,
        .layers = refs,
        .n_layers = (uint32_t)n,
        .read_only = read_only ? 1u : 0u,
        .options_json = transient ? "{\"transient\":true}" : "{}",
    };
    struct mount_list list = {0};
    struct berth_storage_prepare_result res = {
        .size = sizeof(res), .host_ctx = &list, .add_mount = mount_list_add_cb};
    struct berth_error perr = {0};
    int r =
        PLUGIN_RUN(p, "prepare", &perr, &list, NULL, sops(p)->prepare(p->state, &req, &res, &perr));
    if (r < 0) {
        mount_list_clear(&list);
        plugin_call_result(r, &perr, "prepare", err);
        return error_prefix(err, "storage driver '%s'", p->desc->name);
    }
    if (list.n == 0 || strcmp(list.items[0].target, "/")) {
        mount_list_clear(&list);
        return error_set_plain(err, EPROTO, "storage driver '%s' prepare: no root mount returned",
                               p->desc->name);
    }
    *ret_mounts = list;
    return 0;
}

static int container_call(struct plugin *p, const char *id, int release, struct error **err)
{
    const struct berth_storage_ops *o = sops(p);
    struct berth_storage_container_request req = {.size = sizeof(req), .container_id = id};
    struct berth_error perr = {0};
    int r;
    if (release) {
        if (!PLUGIN_OPS_HAS(o, release))
            return 0;
        r = PLUGIN_RUN(p, "release", &perr, NULL, NULL, o->release(p->state, &req, NULL, &perr));
    } else {
        r = PLUGIN_RUN(p, "remove", &perr, NULL, NULL, o->remove(p->state, &req, NULL, &perr));
    }
    if (r < 0) {
        plugin_call_result(r, &perr, release ? "release" : "remove", err);
        return error_prefix(err, "storage driver '%s'", p->desc->name);
    }
    return 0;
}

int storage_release(struct plugin *p, const char *id, struct error **err)
{
    return container_call(p, id, 1, err);
}

int storage_remove(struct plugin *p, const char *id, struct error **err)
{
    return container_call(p, id, 0, err);
}

int storage_remove_layer(struct plugin *p, const struct image_layer *layer, struct error **err)
{
    const struct berth_storage_ops *o = sops(p);
    if (!PLUGIN_OPS_HAS(o, remove_layer))
        return 0;
    struct berth_layer_ref ref = {
        .size = sizeof(ref), .diff_id = layer->diff_id, .chain_id = layer->chain_id};
    struct berth_error perr = {0};
    int r = PLUGIN_RUN(p, "remove_layer", &perr, NULL, NULL,
                       o->remove_layer(p->state, &ref, NULL, &perr));
    if (r < 0) {
        plugin_call_result(r, &perr, "remove layer", err);
        return error_prefix(err, "storage driver '%s'", p->desc->name);
    }
    return 0;
}

int plugin_gc(struct plugin *p, char **container_ids, size_t n_containers, char **layer_ids,
              size_t n_layers, char **object_ids, size_t n_objects, struct error **err)
{
    struct berth_gc_request req = {
        .size = sizeof(req),
        .container_ids = (const char *const *)container_ids,
        .n_container_ids = (uint32_t)n_containers,
        .layer_ids = (const char *const *)layer_ids,
        .n_layer_ids = (uint32_t)n_layers,
        .object_ids = (const char *const *)object_ids,
        .n_object_ids = (uint32_t)n_objects,
    };
    struct berth_error perr = {0};
    int r = -ENOSYS;
    switch (p->desc->kind) {
    case BERTH_KIND_STORAGE: {
        const struct berth_storage_ops *o = p->desc->ops;
        if (PLUGIN_OPS_HAS(o, gc))
            r = PLUGIN_RUN(p, "gc", &perr, NULL, NULL, o->gc(p->state, &req, NULL, &perr));
        break;
    }
    case BERTH_KIND_VOLUME: {
        const struct berth_volume_ops *o = p->desc->ops;
        if (PLUGIN_OPS_HAS(o, gc))
            r = PLUGIN_RUN(p, "gc", &perr, NULL, NULL, o->gc(p->state, &req, NULL, &perr));
        break;
    }
    case BERTH_KIND_NETWORK: {
        const struct berth_network_ops *o = p->desc->ops;
        if (PLUGIN_OPS_HAS(o, gc))
            r = PLUGIN_RUN(p, "gc", &perr, NULL, NULL, o->gc(p->state, &req, NULL, &perr));
        break;
    }
    case BERTH_KIND_HOOK: {
        const struct berth_hook_ops *o = p->desc->ops;
        if (PLUGIN_OPS_HAS(o, gc))
            r = PLUGIN_RUN(p, "gc", &perr, NULL, NULL, o->gc(p->state, &req, NULL, &perr));
        break;
    }
    default:
        break;
    }
    if (r == -ENOSYS)
        return 0;
    if (r < 0) {
        plugin_call_result(r, &perr, "gc", err);
        return error_prefix(err, "%s plugin '%s'", plugin_kind_name(p->desc->kind), p->desc->name);
    }
    return 0;
}

const char *event_name(uint32_t type)
{
    static const char *const names[] = {
        NULL,       "create",  "prepare-storage", "mount-volumes", "join-network", "create-process",
        "prestart", "started", "exited",          "stopped",       "deleted"};
    return type < ARRAY_SIZE(names) && names[type] ? names[type] : "unknown";
}

int hooks_emit(struct plugin_registry *reg, uint32_t type, const struct event_view *v,
               struct error **err)
{
    uint32_t phase = type <= BERTH_EVENT_PRESTART ? BERTH_PHASE_PRE : BERTH_PHASE_POST;
    plugin_registry_require(reg, BERTH_KIND_HOOK);
    struct berth_event ev = {
        .size = sizeof(ev),
        .type = type,
        .phase = phase,
        .pid = v->pid,
        .exit_status = v->exit_status,
        .event_name = event_name(type),
        .container_id = v->id,
        .container_name = v->name,
        .image = v->image,
        .netns_path = v->netns,
        .bundle = v->bundle,
    };
    for (size_t i = 0; i < reg->n_plugins; i++) {
        struct plugin *p = reg->plugins[i];
        if (p->desc->kind != BERTH_KIND_HOOK)
            continue;
        const struct berth_hook_ops *o = p->desc->ops;
        struct berth_error perr = {0};
        int r =
            PLUGIN_RUN(p, "on_event", &perr, NULL, NULL, o->on_event(p->state, &ev, NULL, &perr));
        if (r >= 0) {
            error_free(&perr.error);
            continue;
        }
        if (phase == BERTH_PHASE_PRE) {
            plugin_call_result(r, &perr, "", err);
            return error_prefix(err, "hook '%s' refused '%s'", p->desc->name, ev.event_name);
        }
        log_warning("hook '%s' failed on '%s': %s", p->desc->name, ev.event_name,
                    perr.error ? perr.error->msg : strerror(-r));
        error_free(&perr.error);
    }
    return 0;
}

int network_driver_find(struct plugin_registry *reg, const char *name, struct plugin **ret,
                        struct error **err)
{
    struct plugin *p = plugin_registry_find(reg, BERTH_KIND_NETWORK, name);
    if (!p)
        return error_set_plain(err, ENOENT, "unknown network driver '%s'", name);
    *ret = p;
    return 0;
}

int text_sink_put(void *ctx, const char *text)
{
    struct text_sink *s = ctx;
    if (!text)
        return -EINVAL;
    char *copy = strdup(text);
    if (!copy)
        return -ENOMEM;
    free(s->text);
    s->text = copy;
    return 0;
}

static int take_result(struct plugin *p, struct text_sink *sink, cJSON **ret, struct error **err)
{
    *ret = NULL;
    if (!sink->text)
        return 0;
    cJSON *v = cJSON_Parse(sink->text);
    free(sink->text);
    sink->text = NULL;
    if (!cJSON_IsObject(v)) {
        cJSON_Delete(v);
        return error_set_plain(err, EPROTO, "network driver '%s' reported invalid JSON",
                               p->desc->name);
    }
    *ret = v;
    return 0;
}

static int network_call(struct plugin *p, int op, const cJSON *network, const char *id,
                        const char *netns, const cJSON *join, cJSON **ret_result,
                        struct error **err)
{
    static const char *const op_names[] = {"create", "remove", "join", "leave"};
    const struct berth_network_ops *o = p->desc->ops;
    _cleanup_free_ char *net_text = cJSON_PrintUnformatted(network);
    _cleanup_free_ char *join_text = join ? cJSON_PrintUnformatted(join) : NULL;
    struct berth_network_request req = {
        .size = sizeof(req),
        .network_name = cJSON_GetStringValue(cJSON_GetObjectItem(network, "name")),
        .network_json = net_text,
        .container_id = id,
        .netns_path = netns,
        .join_json = join_text ? join_text : "{}",
    };
    struct text_sink sink = {0};
    struct berth_text_result res = {.size = sizeof(res), .host_ctx = &sink, .put = text_sink_put};
    struct berth_error perr = {0};
    int r = 0;
    switch (op) {
    case 0:
        r = PLUGIN_OPS_HAS(o, create) ? PLUGIN_RUN(p, "create", &perr, NULL, &sink,
                                                   o->create(p->state, &req, &res, &perr))
                                      : 0;
        break;
    case 1:
        r = PLUGIN_OPS_HAS(o, remove)
                ? PLUGIN_RUN(p, "remove", &perr, NULL, NULL, o->remove(p->state, &req, NULL, &perr))
                : 0;
        break;
    case 2:
        r = PLUGIN_RUN(p, "join", &perr, NULL, &sink, o->join(p->state, &req, &res, &perr));
        break;
    default:
        r = PLUGIN_RUN(p, "leave", &perr, NULL, NULL, o->leave(p->state, &req, NULL, &perr));
        break;
    }
    if (r < 0) {
        free(sink.text);
        plugin_call_result(r, &perr, "", err);
        return error_prefix(err, "network driver '%s' %s", p->desc->name, op_names[op]);
    }
    error_free(&perr.error);
    if (ret_result)
        return take_result(p, &sink, ret_result, err);
    free(sink.text);
    return 0;
}

int network_driver_create(struct plugin *p, const cJSON *network, cJSON **ret_result,
                          struct error **err)
{
    return network_call(p, 0, network, NULL, NULL, NULL, ret_result, err);
}

int network_driver_remove(struct plugin *p, const cJSON *network, struct error **err)
{
    return network_call(p, 1, network, NULL, NULL, NULL, NULL, err);
}

int network_driver_join(struct plugin *p, const cJSON *network, const char *id, const char *netns,
                        const cJSON *join, cJSON **ret_result, struct error **err)
{
    return network_call(p, 2, network, id, netns, join, ret_result, err);
}

int network_driver_leave(struct plugin *p, const cJSON *network, const char *id, const char *netns,
                         const cJSON *join, struct error **err)
{
    return network_call(p, 3, network, id, netns, join, NULL, err);
}
