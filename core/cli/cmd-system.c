/* berth system gc|info. */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "config/defaults.h"
#include "lifecycle/plugin-calls.h"
#include "lifecycle/plugin-isolate.h"
#include "lifecycle/lifecycle.h"
#include "plugin/plugin-host.h"
#include "util/cleanup.h"

/* The effective configuration: the file, the defaults it chose and every
 * plugin's settings, loaded or disabled. */
static void system_info_config(struct engine *e, cJSON *root)
{
    const struct cli_globals *g = e->globals;
    cJSON_AddStringToObject(root, "config_file", g->config_file ? g->config_file : "");
    cJSON_AddStringToObject(root, "storage_driver",
                            g->storage_driver ? g->storage_driver : DEFAULT_STORAGE_DRIVER);
    cJSON_AddStringToObject(root, "default_network",
                            g->default_network ? g->default_network : DEFAULT_NETWORK);
    if (g->cgroup_parent)
        cJSON_AddStringToObject(root, "cgroup_parent", g->cgroup_parent);
    /* Every plugin's settings: load the ones still pending. */
    plugin_registry_require(e->plugins, 0);
    cJSON *plugins = cJSON_AddObjectToObject(root, "plugins");
    for (size_t i = 0; i < e->plugins->n_plugins; i++) {
        const struct plugin *p = e->plugins->plugins[i];
        cJSON *o = cJSON_AddObjectToObject(plugins, p->desc->name);
        cJSON_AddStringToObject(o, "kind", plugin_kind_name(p->desc->kind));
        cJSON_AddBoolToObject(o, "enabled", 1);
        cJSON_AddBoolToObject(o, "isolate", p->isolate);
        cJSON_AddNumberToObject(o, "timeout", p->timeout);
        cJSON *options = cJSON_Parse(p->services.config_json);
        cJSON_AddItemToObject(o, "options", options ? options : cJSON_CreateObject());
    }
    for (size_t i = 0; i < e->plugins->n_disabled; i++) {
        cJSON *o = cJSON_AddObjectToObject(plugins, e->plugins->disabled[i].name);
        cJSON_AddStringToObject(o, "kind", plugin_kind_name(e->plugins->disabled[i].kind));
        cJSON_AddBoolToObject(o, "enabled", 0);
    }
    const cJSON *registries = cJSON_GetObjectItemCaseSensitive(g->config, "registries");
    if (registries)
        cJSON_AddItemToObject(root, "registries", cJSON_Duplicate(registries, 1));
}

static int system_info(struct engine *e)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", BERTH_VERSION);
    cJSON_AddStringToObject(root, "root", e->globals->root);
    cJSON_AddStringToObject(root, "runroot", e->globals->runroot);
    char abi[16];
    snprintf(abi, sizeof(abi), "%d.%d", BERTH_ABI_MAJOR, BERTH_ABI_MINOR);
    cJSON_AddStringToObject(root, "plugin_abi", abi);
    cJSON *path = cJSON_AddArrayToObject(root, "plugin_path");
    for (size_t i = 0; e->globals->plugin_path && e->globals->plugin_path[i]; i++)
        cJSON_AddItemToArray(path, cJSON_CreateString(e->globals->plugin_path[i]));
    system_info_config(e, root);
    cJSON *drivers = cJSON_AddObjectToObject(root, "storage_drivers");
    plugin_registry_require(e->plugins, BERTH_KIND_STORAGE);
    for (size_t i = 0; i < e->plugins->n_plugins; i++) {
        struct plugin *p = e->plugins->plugins[i];
        if (p->desc->kind != BERTH_KIND_STORAGE)
            continue;
        const struct berth_storage_ops *o = p->desc->ops;
        struct text_sink sink = {0};
        struct berth_text_result res = {
            .size = sizeof(res), .host_ctx = &sink, .put = text_sink_put};
        struct berth_error perr = {0};
        cJSON *info = NULL;
        if (PLUGIN_OPS_HAS(o, info) &&
            PLUGIN_RUN(p, "info", &perr, NULL, &sink, o->info(p->state, NULL, &res, &perr)) >= 0 &&
            sink.text)
            info = cJSON_Parse(sink.text);
        error_free(&perr.error);
        free(sink.text);
        cJSON_AddItemToObject(drivers, p->desc->name, info ? info : cJSON_CreateObject());
    }
    _cleanup_free_ char *text = cJSON_Print(root);
    printf("%s\n", text);
    cJSON_Delete(root);
    return 0;
}

int cmd_system(struct cli_globals *g, int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "prune"))
        return cmd_system_prune(g, argc - 1, argv + 1);
    if (argc < 2 || cli_is_help(argv[1]) || (argc > 2 && cli_is_help(argv[2]))) {
        fputs("Usage: berth system COMMAND\n\n"
              "Commands:\n"
              "  gc     roll back what killed berth processes left, then ask every plugin\n"
              "         to remove what no container, image or object still uses\n"
              "  prune [-a] [--volumes] [-f]\n"
              "         remove stopped containers, unused networks, dangling images\n"
              "         (-a: unused ones) and, with --volumes, unused volumes\n"
              "  info [--format json]\n"
              "         print, as JSON, the effective configuration (config_file, root,\n"
              "         runroot, storage_driver, default_network, each plugin's enabled,\n"
              "         isolate, timeout and options, registries) and each storage\n"
              "         driver's info\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    if (strcmp(argv[1], "gc") && strcmp(argv[1], "info"))
        return cli_usage_error("system", "unknown command '%s' (see 'berth system --help')",
                               argv[1]);
    /* info prints JSON; --format json says so explicitly. */
    int first_extra = 2;
    if (!strcmp(argv[1], "info") && argc > 2 &&
        (!strcmp(argv[2], "--format=json") ||
         (argc > 3 && !strcmp(argv[2], "--format") && !strcmp(argv[3], "json"))))
        first_extra = !strcmp(argv[2], "--format=json") ? 3 : 4;
    if (argc > first_extra)
        return cli_usage_error("system", "unexpected argument '%s'", argv[first_extra]);
    struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report("system", err);
    int status = 0;
    if (!strcmp(argv[1], "info"))
        status = system_info(e);
    else if (engine_gc(e, &err) < 0)
        status = cli_report("system gc", err);
    engine_free(e);
    return status;
}
