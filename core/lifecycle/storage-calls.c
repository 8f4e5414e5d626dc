#include "lifecycle/storage-calls.h"
#include "lifecycle/plugin-calls.h"
#include "lifecycle/plugin-isolate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin-host.h"
#include "util/cleanup.h"

static int not_supported(struct plugin *p, struct error **err)
{
    return error_set_plain(err, ENOTSUP, "not supported by driver '%s'", p->desc->name);
}

static const struct berth_storage_ops *sops(struct plugin *p)
{
    return p->desc->ops;
}

int snapshot_name_is_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 128 ||
        !strchr("abcdefghijklmnopqrstuvwxyz"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                name[0]))
        return 0;
    for (const char *c = name; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *c))
            return 0;
    return 1;
}

int storage_diff(struct plugin *p, const char *id, const cJSON *layers, const char *tar_path,
                 struct error **err)
{
    const struct berth_storage_ops *o = sops(p);
    if (!(p->desc->capabilities & BERTH_CAP_DIFF) || !PLUGIN_OPS_HAS(o, diff))
        return not_supported(p, err);
    int n = cJSON_GetArraySize(layers);
    _cleanup_free_ struct berth_layer_ref *refs = calloc((size_t)n + 1, sizeof(*refs));
    if (!refs)
        return error_set(err, ENOMEM, "diff");
    for (int i = 0; i < n; i++) {
        const cJSON *l = cJSON_GetArrayItem(layers, i);
        refs[i].size = sizeof(refs[i]);
        refs[i].diff_id = cJSON_GetStringValue(cJSON_GetObjectItem(l, "diff_id"));
        refs[i].chain_id = cJSON_GetStringValue(cJSON_GetObjectItem(l, "chain_id"));
        refs[i].parent_chain_id = i > 0 ? refs[i - 1].chain_id : NULL;
    }
    struct berth_storage_diff_request req = {
        .size = sizeof(req),
        .container_id = id,
        .layers = refs,
        .n_layers = (uint32_t)n,
        .tar_path = tar_path,
    };
    struct berth_error perr = {0};
    int r = PLUGIN_RUN(p, "diff", &perr, NULL, NULL, o->diff(p->state, &req, NULL, &perr));
    if (r < 0) {
        plugin_call_result(r, &perr, "diff", err);
        return error_prefix(err, "storage driver '%s'", p->desc->name);
    }
    return 0;
}

int storage_snapshot(struct plugin *p, enum storage_snapshot_op op, const char *id,
                     const char *name, struct error **err)
{
    const struct berth_storage_ops *o = sops(p);
    if (!(p->desc->capabilities & BERTH_CAP_SNAPSHOTS))
        return not_supported(p, err);
    struct berth_storage_snapshot_request req = {
        .size = sizeof(req), .container_id = id, .name = name};
    struct berth_error perr = {0};
    int r;
    const char *what;
    switch (op) {
    case STORAGE_SNAPSHOT_SAVE:
        if (!PLUGIN_OPS_HAS(o, snapshot_save))
            return not_supported(p, err);
        what = "snapshot save";
        r = PLUGIN_RUN(p, "snapshot_save", &perr, NULL, NULL,
                       o->snapshot_save(p->state, &req, NULL, &perr));
        break;
    case STORAGE_SNAPSHOT_RESTORE:
        if (!PLUGIN_OPS_HAS(o, snapshot_restore))
            return not_supported(p, err);
        what = "snapshot restore";
        r = PLUGIN_RUN(p, "snapshot_restore", &perr, NULL, NULL,
                       o->snapshot_restore(p->state, &req, NULL, &perr));
        break;
    case STORAGE_SNAPSHOT_REMOVE:
    default:
        if (!PLUGIN_OPS_HAS(o, snapshot_remove))
            return not_supported(p, err);
        what = "snapshot remove";
        r = PLUGIN_RUN(p, "snapshot_remove", &perr, NULL, NULL,
                       o->snapshot_remove(p->state, &req, NULL, &perr));
        break;
    }
    if (r < 0) {
        plugin_call_result(r, &perr, what, err);
        return error_prefix(err, "storage driver '%s'", p->desc->name);
    }
    return 0;
}

int storage_snapshot_list(struct plugin *p, const char *id, char **ret_json, struct error **err)
{
    const struct berth_storage_ops *o = sops(p);
    if (!(p->desc->capabilities & BERTH_CAP_SNAPSHOTS) || !PLUGIN_OPS_HAS(o, snapshot_list))
        return not_supported(p, err);
    struct berth_storage_snapshot_request req = {.size = sizeof(req), .container_id = id};
    struct text_sink sink = {0};
    struct berth_text_result res = {.size = sizeof(res), .host_ctx = &sink, .put = text_sink_put};
    struct berth_error perr = {0};
    int r = PLUGIN_RUN(p, "snapshot_list", &perr, NULL, &sink,
                       o->snapshot_list(p->state, &req, &res, &perr));
    if (r < 0) {
        free(sink.text);
        plugin_call_result(r, &perr, "snapshot list", err);
        return error_prefix(err, "storage driver '%s'", p->desc->name);
    }
    *ret_json = sink.text ? sink.text : strdup("[]");
    return *ret_json ? 0 : error_set(err, ENOMEM, "snapshot list");
}
