/* berth system gc|info. */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "lifecycle/plugin-calls.h"
#include "lifecycle/lifecycle.h"
#include "plugin/plugin-host.h"
#include "util/cleanup.h"

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
        if (PLUGIN_OPS_HAS(o, info) && o->info(p->state, NULL, &res, &perr) >= 0 && sink.text)
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
    if (argc < 2 || cli_is_help(argv[1]) || (argc > 2 && cli_is_help(argv[2]))) {
        fputs("Usage: berth system COMMAND\n\n"
              "Commands:\n"
              "  gc     roll back what killed berth processes left, then ask every plugin\n"
              "         to remove what no container, image or object still uses\n"
              "  info   print the effective configuration and each storage driver's info\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    if (strcmp(argv[1], "gc") && strcmp(argv[1], "info"))
        return cli_usage_error("system", "unknown command '%s' (see 'berth system --help')",
                               argv[1]);
    if (argc > 2)
        return cli_usage_error("system", "unexpected argument '%s'", argv[2]);
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
