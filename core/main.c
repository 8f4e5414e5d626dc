/* berth: the command line entry. Parses global options and hands over to a verb. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "config/config-file.h"
#include "config/defaults.h"
#include "util/json-util.h"
#include "runtime/runtime.h"
#include <berth/plugin.h>
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/log.h"

struct verb {
    const char *name;
    int (*fn)(struct cli_globals *g, int argc, char **argv);
    int runs_containers; /* re-executes sealed first */
    const char *summary;
};

static const struct verb verbs[] = {
    {"run", cmd_run, 1, "run a command in a new container"},
    {"create", cmd_create, 0, "create a container without starting it"},
    {"start", cmd_start, 1, "start a created or stopped container"},
    {"exec", cmd_exec, 1, "run a command in a running container"},
    {"stop", cmd_stop, 0, "stop running containers"},
    {"kill", cmd_kill, 0, "send a signal to running containers"},
    {"restart", cmd_restart, 1, "stop, then start containers detached"},
    {"wait", cmd_wait, 0, "wait for containers to stop; print their exit statuses"},
    {"logs", cmd_logs, 0, "print a detached container's output"},
    {"attach", cmd_attach, 0, "attach to a detached container's output and input"},
    {"ps", cmd_ps, 0, "list containers"},
    {"inspect", cmd_inspect, 0, "print containers' records as JSON"},
    {"stats", cmd_stats, 0, "show containers' CPU, memory, pids and I/O"},
    {"top", cmd_top, 0, "list the processes of a container"},
    {"cp", cmd_cp, 0, "copy files between a container and the host"},
    {"export", cmd_export, 0, "write a container's root file system as a tar"},
    {"pause", cmd_pause, 0, "freeze the processes of containers"},
    {"unpause", cmd_unpause, 0, "thaw paused containers"},
    {"events", cmd_events, 0, "print lifecycle events, past and live"},
    {"rm", cmd_rm, 0, "remove containers"},
    {"container", cmd_container, 0, "the verbs above as 'container VERB'; container prune"},
    {"image", cmd_image, 0, "import, load, save, tag, list, inspect, push and remove images"},
    {"images", cmd_image, 0, "same as 'image ls'"},
    {"load", cmd_load, 0, "same as 'image load'"},
    {"save", cmd_save, 0, "same as 'image save'"},
    {"tag", cmd_tag, 0, "same as 'image tag'"},
    {"history", cmd_history, 0, "same as 'image history'"},
    {"push", cmd_push, 0, "upload an image to a registry"},
    {"network", cmd_network, 0, "create, list, inspect and remove networks"},
    {"port", cmd_port, 0, "print a container's published ports"},
    {"plugin", cmd_plugin, 0, "list, inspect and check plugins"},
    {"system", cmd_system, 0, "gc, info and prune"},
    {"info", cmd_system, 0, "same as 'system info': configuration, each storage driver's mode"},
    {"volume", cmd_volume, 0, "create, list, inspect and remove volumes"},
    {"pull", cmd_pull, 0, "download an image from a registry"},
    {"login", cmd_login, 0, "save credentials for a registry"},
    {"logout", cmd_logout, 0, "remove credentials for a registry"},
    {"commit", cmd_commit, 0, "make an image of a container's changes"},
    {"diff", cmd_diff, 0, "list a container's changes against its image"},
    {"snapshot", cmd_snapshot, 0, "save, list, restore and remove container snapshots"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: berth [GLOBAL OPTIONS] COMMAND [ARGS...]\n\n"
                 "A daemonless container platform whose storage and networking are plugins.\n\n"
                 "Global options:\n"
                 "  --root DIR           persistent state (default " DEFAULT_ROOT ")\n"
                 "  --runroot DIR        volatile state (default " DEFAULT_RUNROOT ")\n"
                 "  --plugin-path DIRS   colon-separated plugin directories, searched before\n"
                 "                       $BERTH_PLUGIN_PATH and " BERTH_PLUGIN_INSTALL_DIR "\n"
                 "  --log-level LEVEL    error, warning (default), info or debug\n"
                 "  --config FILE        configuration (default /etc/berth/berth.json if it\n"
                 "                       exists); keys in docs/configuration.md: plugins,\n"
                 "                       storage_driver, default_network, cgroup_parent,\n"
                 "                       userns_user\n"
                 "  --version            print the version\n"
                 "  --help               print this help\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        fprintf(out, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\nRun 'berth COMMAND --help' for a command's options.\n");
}

static void add_path_list(char ***v, size_t *n, const char *list)
{
    _cleanup_free_ char *copy = strdup(list);
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char **grown = realloc(*v, (*n + 2) * sizeof(char *));
        if (!grown)
            abort();
        *v = grown;
        (*v)[(*n)++] = strdup(d);
        (*v)[*n] = NULL;
    }
}

int main(int argc, char **argv)
{
    enum { G_ROOT = 1, G_RUNROOT, G_PLUGIN_PATH, G_LOG_LEVEL, G_VERSION, G_HELP, G_CONFIG };
    static const struct cli_option global_options[] = {
        {"root", 0, 1, G_ROOT},
        {"runroot", 0, 1, G_RUNROOT},
        {"plugin-path", 0, 1, G_PLUGIN_PATH},
        {"log-level", 0, 1, G_LOG_LEVEL},
        {"config", 0, 1, G_CONFIG},
        {"version", 0, 0, G_VERSION},
        {"help", 'h', 0, G_HELP},
        {NULL, 0, 0, 0},
    };
    struct cli_globals g = {.root = DEFAULT_ROOT, .runroot = DEFAULT_RUNROOT, .log_level = 1};
    _cleanup_strv_ char **plugin_path = NULL;
    size_t n_path = 0;
    const char *config_path = NULL;
    _cleanup_(cjson_deletep) cJSON *config = NULL;
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "berth");
    const char *v;
    int id;
    while ((id = cli_next_option(&p, global_options, &v)) > 0) {
        switch (id) {
        case G_ROOT:
            g.root = v;
            break;
        case G_RUNROOT:
            g.runroot = v;
            break;
        case G_CONFIG:
            config_path = v;
            break;
        case G_PLUGIN_PATH:
            add_path_list(&plugin_path, &n_path, v);
            break;
        case G_LOG_LEVEL:
            g.log_level = log_parse_level(v);
            if (g.log_level < 0)
                return cli_usage_error("berth",
                                       "unknown log level '%s': use error, warning, "
                                       "info or debug",
                                       v);
            break;
        case G_VERSION:
            printf("berth version %s (plugin ABI %d.%d)\n", BERTH_VERSION, BERTH_ABI_MAJOR,
                   BERTH_ABI_MINOR);
            return 0;
        default:
            usage(stdout);
            return 0;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc) {
        usage(stderr);
        return EXIT_BERTH_ERROR;
    }
    if (g.root[0] != '/' || g.runroot[0] != '/')
        return cli_usage_error("berth", "--root and --runroot must be absolute paths");
    log_set_level((enum log_level)g.log_level);
    {
        struct error *err _cleanup_error_ = NULL;
        /* plugin enable|disable make the file they are asked to edit. */
        int edits_config =
            p.index + 1 < argc && !strcmp(argv[p.index], "plugin") &&
            (!strcmp(argv[p.index + 1], "enable") || !strcmp(argv[p.index + 1], "disable"));
        if (edits_config && config_path && !path_exists(config_path))
            config = cJSON_CreateObject();
        else if (config_load(config_path, &config, &err) < 0)
            return cli_report("config", err);
        g.cgroup_parent = config_string(config, "cgroup_parent");
        g.userns_user = config_string(config, "userns_user");
        g.registries = cJSON_GetObjectItemCaseSensitive(config, "registries");
        g.config_file = config_file_path(config_path);
        g.config = config;
        g.storage_driver = config_string(config, "storage_driver");
        g.default_network = config_string(config, "default_network");
    }
    const char *env_path = getenv("BERTH_PLUGIN_PATH");
    if (env_path && *env_path)
        add_path_list(&plugin_path, &n_path, env_path);
    add_path_list(&plugin_path, &n_path, BERTH_PLUGIN_INSTALL_DIR);
    g.plugin_path = plugin_path;

    const char *name = argv[p.index];
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        if (strcmp(verbs[i].name, name))
            continue;
        int verb_argc = argc - p.index;
        char **verb_argv = argv + p.index;
        int wants_help = verb_argc > 1 && !strcmp(verb_argv[1], "--help");
        int runs_containers = verbs[i].runs_containers;
        if (!strcmp(name, "container") && verb_argc > 1) {
            /* "container run" is "run": sealed as it is. */
            for (size_t k = 0; k < ARRAY_SIZE(verbs); k++)
                if (!strcmp(verbs[k].name, verb_argv[1]))
                    runs_containers = verbs[k].runs_containers;
            wants_help = verb_argc > 2 && !strcmp(verb_argv[2], "--help");
        }
        if (runs_containers && !wants_help) {
            struct error *err _cleanup_error_ = NULL;
            if (sealed_binary_ensure(argc, argv, &err) < 0)
                return cli_report(name, err);
        }
        if (!strcmp(name, "info")) {
            /* "info ARGS" is "system info ARGS": the verb slot becomes "info". */
            verb_argv[0] = "info";
            return cmd_system(&g, verb_argc + 1, verb_argv - 1);
        }
        if (!strcmp(name, "images")) {
            /* "images ARGS" is "image ls ARGS": the verb slot becomes "ls". */
            verb_argv[0] = "ls";
            return cmd_image(&g, verb_argc + 1, verb_argv - 1);
        }
        return verbs[i].fn(&g, verb_argc, verb_argv);
    }
    return cli_usage_error("berth", "unknown command '%s' (see 'berth --help')", name);
}
