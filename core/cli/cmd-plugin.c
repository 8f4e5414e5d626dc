/* berth plugin ls|inspect|check. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/plugin-enable.h"
#include "lifecycle/engine.h"
#include "plugin/plugin-elf.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/log.h"

static cJSON *plugin_json(const struct plugin *p)
{
    cJSON *o = cJSON_CreateObject();
    char abi[32];
    snprintf(abi, sizeof(abi), "%u.%u", p->desc->abi_major, p->desc->abi_minor);
    cJSON_AddStringToObject(o, "name", p->desc->name);
    cJSON_AddStringToObject(o, "kind", plugin_kind_name(p->desc->kind));
    cJSON_AddStringToObject(o, "version", p->desc->version ? p->desc->version : "");
    cJSON_AddStringToObject(o, "abi", abi);
    cJSON_AddStringToObject(o, "path", p->path);
    cJSON_AddStringToObject(o, "summary", p->desc->summary ? p->desc->summary : "");
    cJSON_AddStringToObject(o, "state_dir", p->services.state_dir);
    cJSON_AddBoolToObject(o, "enabled", 1);
    cJSON_AddBoolToObject(o, "isolate", p->isolate);
    cJSON_AddNumberToObject(o, "timeout", p->timeout);
    cJSON *options = cJSON_Parse(p->services.config_json);
    cJSON_AddItemToObject(o, "options", options ? options : cJSON_CreateObject());
    return o;
}

static int plugin_ls(struct engine *e, int json)
{
    struct plugin_registry *reg = e->plugins;
    plugin_registry_require(reg, 0);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(root, "plugins");
        for (size_t i = 0; i < reg->n_plugins; i++)
            cJSON_AddItemToArray(arr, plugin_json(reg->plugins[i]));
        cJSON *ref = cJSON_AddArrayToObject(root, "refused");
        for (size_t i = 0; i < reg->n_refused; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "path", reg->refused[i].path);
            cJSON_AddStringToObject(o, "reason", reg->refused[i].reason);
            cJSON_AddItemToArray(ref, o);
        }
        cJSON *off = cJSON_AddArrayToObject(root, "disabled");
        for (size_t i = 0; i < reg->n_disabled; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", reg->disabled[i].name);
            cJSON_AddStringToObject(o, "kind", plugin_kind_name(reg->disabled[i].kind));
            cJSON_AddStringToObject(o, "path", reg->disabled[i].path);
            cJSON_AddItemToArray(off, o);
        }
        _cleanup_free_ char *text = cJSON_Print(root);
        printf("%s\n", text);
        cJSON_Delete(root);
        return 0;
    }
    printf("%-16s  %-8s  %-10s  %-5s  %s\n", "NAME", "KIND", "VERSION", "ABI", "PATH");
    for (size_t i = 0; i < reg->n_plugins; i++) {
        const struct plugin *p = reg->plugins[i];
        printf("%-16s  %-8s  %-10s  %u.%-3u  %s\n", p->desc->name, plugin_kind_name(p->desc->kind),
               p->desc->version ? p->desc->version : "", p->desc->abi_major, p->desc->abi_minor,
               p->path);
    }
    for (size_t i = 0; i < reg->n_disabled; i++)
        printf("%-16s  %-8s  %-10s  %-5s  %s\n", reg->disabled[i].name,
               plugin_kind_name(reg->disabled[i].kind), "disabled", "-", reg->disabled[i].path);
    for (size_t i = 0; i < reg->n_refused; i++)
        printf("refused %s: %s\n", reg->refused[i].path, reg->refused[i].reason);
    return 0;
}

static const char plugin_help[] =
    "Usage: berth plugin COMMAND\n"
    "\n"
    "Commands:\n"
    "  ls [--format json]   list loaded plugins (name, kind, version, ABI, path) and\n"
    "                       refused files with the reason\n"
    "  inspect NAME...      print loaded plugins as a JSON array\n"
    "  check FILE.so        validate one file without enabling it: ELF, the one\n"
    "                       exported entry, ABI, sizes, kind, required operations\n"
    "  test FILE.so|NAME    run the conformance suite of the plugin's kind\n"
    "                       (see 'berth plugin test --help')\n"
    "  enable NAME          set plugins.NAME.enabled to true in the configuration\n"
    "  disable NAME         set it to false: the plugin is no longer loaded (plugin ls\n"
    "                       shows it as disabled); other keys of the file are kept\n";

/*
 * What a third party must fix before berth accepts the file, from the file
 * alone: it is an ELF shared object of berth's class that exports
 * berth_plugin_entry and nothing else. Returns 0 or an error saying what to do.
 */
static int check_exports(const char *file, struct error **err)
{
    _cleanup_strv_ char **names = NULL;
    int r = plugin_elf_exports(file, &names, err);
    if (r < 0)
        return r;
    int has_entry = 0;
    _cleanup_free_ char *extra = NULL;
    size_t n_extra = 0;
    for (char **n = names; *n; n++) {
        if (!strcmp(*n, BERTH_PLUGIN_ENTRY_NAME)) {
            has_entry = 1;
            continue;
        }
        if (++n_extra > 5)
            continue;
        char *grown = xasprintf("%s%s'%s'", extra ? extra : "", extra ? ", " : "", *n);
        free(extra);
        extra = grown;
    }
    if (!has_entry)
        return error_set_plain(err, ENOENT,
                               "plugin '%s': does not export %s: not a berth plugin; define it "
                               "with BERTH_PLUGIN_DEFINE",
                               file, BERTH_PLUGIN_ENTRY_NAME);
    if (n_extra)
        return error_set_plain(err, EINVAL,
                               "plugin '%s': exports %s%s besides %s: build with "
                               "-fvisibility=hidden and the SDK's version script "
                               "(berth-plugin.map)",
                               file, extra, n_extra > 5 ? " and more" : "",
                               BERTH_PLUGIN_ENTRY_NAME);
    return 0;
}

static int plugin_check(struct cli_globals *g, const char *file)
{
    struct error *err _cleanup_error_ = NULL;
    (void)g;
    if (check_exports(file, &err) < 0 && (!err || err->errnum != EINVAL))
        return cli_report("plugin check", err);
    /* Extra exports are reported after what the loader says about the descriptor. */
    struct error *exports_err _cleanup_error_ = TAKE_PTR(err);
    _cleanup_free_ char *tmp = strdup("/tmp/berth-check-XXXXXX");
    if (!mkdtemp(tmp))
        return cli_usage_error("plugin check", "cannot make a temporary directory");
    _cleanup_free_ char *dir = xasprintf("%s/plugins", tmp);
    _cleanup_free_ char *state = xasprintf("%s/state", tmp);
    mkdir_p(dir, 0700, NULL);
    char abs[4096];
    if (!realpath(file, abs)) {
        rm_rf(tmp, NULL);
        return cli_usage_error("plugin check", "'%s': no such file", file);
    }
    const char *base = strrchr(abs, '/') + 1;
    _cleanup_free_ char *link = xasprintf("%s/%s%s", dir, base, strstr(base, ".so") ? "" : ".so");
    if (symlink(abs, link) < 0) {
        rm_rf(tmp, NULL);
        return cli_usage_error("plugin check", "cannot stage '%s'", file);
    }
    char *paths[] = {dir, NULL};
    struct plugin_registry *reg = NULL;
    int status = 0;
    /* The verdict below is the one line; the loader's warning would repeat it. */
    log_set_level(LOG_LEVEL_ERROR);
    if (plugin_registry_load(paths, state, tmp, &reg, &err) < 0) {
        status = cli_report("plugin check", err);
    } else if (reg->n_refused > 0) {
        status = cli_usage_error("plugin check", "plugin '%s': %s", file, reg->refused[0].reason);
    } else if (exports_err) {
        status = cli_report("plugin check", exports_err);
    } else if (reg->n_plugins == 1) {
        const struct plugin *p = reg->plugins[0];
        printf("%s: ok: %s plugin '%s' %s, ABI %u.%u\n", file, plugin_kind_name(p->desc->kind),
               p->desc->name, p->desc->version ? p->desc->version : "", p->desc->abi_major,
               p->desc->abi_minor);
    }
    plugin_registry_free(reg);
    rm_rf(tmp, NULL);
    return status;
}

int cmd_plugin(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(plugin_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "test"))
        return cmd_plugin_test(g, argc, argv);
    if (argc >= 3 && cli_is_help(argv[2])) {
        fputs(plugin_help, stdout);
        return 0;
    }
    if (!strcmp(sub, "check")) {
        if (argc != 3)
            return cli_usage_error("plugin check", "expected one FILE.so");
        return plugin_check(g, argv[2]);
    }
    if (!strcmp(sub, "enable") || !strcmp(sub, "disable")) {
        if (argc != 3)
            return cli_usage_error(!strcmp(sub, "enable") ? "plugin enable" : "plugin disable",
                                   "expected one plugin NAME");
        return plugin_set_enabled(g, argv[2], !strcmp(sub, "enable"));
    }
    int json = 0;
    if (!strcmp(sub, "ls")) {
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--format=json") ||
                (!strcmp(argv[i], "--format") && i + 1 < argc && !strcmp(argv[++i], "json")))
                json = 1;
            else if (strcmp(argv[i], "table"))
                return cli_usage_error("plugin ls", "unexpected argument '%s'", argv[i]);
        }
    } else if (strcmp(sub, "inspect")) {
        return cli_usage_error("plugin", "unknown command '%s' (see 'berth plugin --help')", sub);
    }
    struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report("plugin", err);
    int status = 0;
    if (!strcmp(sub, "ls")) {
        status = plugin_ls(e, json);
    } else {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 2; i < argc; i++) {
            struct plugin *p = plugin_registry_find(e->plugins, 0, argv[i]);
            if (!p)
                status = cli_usage_error("plugin inspect", "no such plugin '%s'", argv[i]);
            else
                cJSON_AddItemToArray(arr, plugin_json(p));
        }
        _cleanup_free_ char *text = cJSON_Print(arr);
        printf("%s\n", text);
        cJSON_Delete(arr);
    }
    engine_free(e);
    return status;
}
