/*
 * berth container COMMAND (docker's management-command spelling of the
 * container verbs), berth container prune and berth system prune.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "cli/ps-filter.h"
#include "lifecycle/lifecycle.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/json-util.h"

static const char container_help[] =
    "Usage: berth container COMMAND [ARGS...]\n"
    "\n"
    "The container verbs under one name, as docker container: 'berth container ls'\n"
    "is 'berth ps', 'berth container rm' is 'berth rm', and so on.\n"
    "\n"
    "Commands:\n"
    "  ls, list, ps   attach   commit   cp       create   diff     exec\n"
    "  export         inspect  kill     logs     pause    port     restart\n"
    "  rm             run      start    stats    stop     top      unpause\n"
    "  wait\n"
    "  prune [-f]     remove every container that is not running (created or\n"
    "                 exited), printing their ids\n";

static const char container_prune_help[] =
    "Usage: berth container prune [-f] [--filter KEY=VALUE]...\n"
    "\n"
    "Removes every container that is not running (created or exited) with its\n"
    "writable layer, and prints their ids. Running and paused containers are left\n"
    "alone, also one that starts meanwhile.\n"
    "\n"
    "Options:\n"
    "  -f, --force            do not ask for confirmation\n"
    "      --filter KEY=VALUE  only containers that pass it, as ps's: label=K[=V],\n"
    "                         name=PART, id=PREFIX, ancestor=IMAGE\n";

static const char system_prune_help[] =
    "Usage: berth system prune [-a] [--volumes] [-f]\n"
    "\n"
    "Removes every container that is not running, every network no container\n"
    "uses (berth0 stays), every dangling image (untagged, used by no container)\n"
    "and, with --volumes, every volume no container uses.\n"
    "\n"
    "Options:\n"
    "  -a, --all       every image no container uses, not only dangling ones\n"
    "      --volumes   volumes too\n"
    "  -f, --force     do not ask for confirmation\n";

static bool confirm(const char *what)
{
    fprintf(stderr, "WARNING! This will remove:\n%sAre you sure you want to continue? [y/N] ",
            what);
    char answer[16] = "";
    return fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
}

static bool not_running(const cJSON *rec)
{
    const char *state = rec_str(rec, "state");
    return state && (!strcmp(state, "created") || !strcmp(state, "exited"));
}

/* Removes every container not running that passes F (NULL: all); 0, or the
 * status of the last failure. */
static int prune_containers(struct engine *e, const struct ps_filter *f, bool *printed)
{
    struct error *err _cleanup_error_ = NULL;
    _cleanup_json_ cJSON *all = NULL;
    if (container_store_list(e->containers, &all, &err) < 0)
        return cli_report("container prune", err);
    int status = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, all)
    {
        const char *id = rec_str(rec, "id");
        if (!id || !not_running(rec) || (f && !ps_filter_match(f, rec)))
            continue;
        /* Without force: one that started since the listing is refused, and kept. */
        if (container_remove(e, id, 0, &err) < 0) {
            if (err->errnum != EBUSY && err->errnum != ENOENT)
                status = cli_report("container prune", err);
            error_free(&err);
            continue;
        }
        if (!*printed)
            printf("Deleted Containers:\n");
        *printed = true;
        printf("%s\n", id);
    }
    return status;
}

static int container_prune(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"help", 'h', 0, 1}, {"force", 'f', 0, 2}, {"filter", 0, 1, 3}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "container prune");
    const char *v, *why = NULL;
    bool force = false;
    _cleanup_(ps_filter_clear) struct ps_filter filter = {0};
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(container_prune_help, stdout);
            return 0;
        }
        if (id == 3 && !strncmp(v, "status=", 7))
            return cli_usage_error("container prune",
                                   "--filter '%s': prune takes what is not "
                                   "running; status is not a filter here",
                                   v);
        if (id == 3 && ps_filter_add(&filter, v, &why) < 0)
            return cli_usage_error("container prune", "--filter '%s': %s", v,
                                   why ? why : "out of memory");
        force |= id == 2;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc)
        return cli_usage_error("container prune", "takes no arguments (see --help)");
    if (!force && !confirm("  - all stopped containers\n"))
        return 0;
    _cleanup_(engine_freep) struct engine *e = NULL;
    int status = cli_open_engine(g, "container prune", &e);
    bool printed = false;
    return status ? status : prune_containers(e, &filter, &printed);
}

int cmd_system_prune(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"help", 'h', 0, 1}, {"all", 'a', 0, 2}, {"volumes", 0, 0, 3}, {"force", 'f', 0, 4}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "system prune");
    const char *v;
    bool all = false, volumes = false, force = false;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(system_prune_help, stdout);
            return 0;
        }
        all |= id == 2;
        volumes |= id == 3;
        force |= id == 4;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc)
        return cli_usage_error("system prune", "takes no arguments (see --help)");
    char what[512];
    snprintf(what, sizeof(what),
             "  - all stopped containers\n"
             "  - all networks not used by at least one container\n"
             "%s  - all %s\n",
             volumes ? "  - all volumes not used by at least one container\n" : "",
             all ? "images without at least one container associated to them" : "dangling images");
    if (!force && !confirm(what))
        return 0;
    int status;
    {
        _cleanup_(engine_freep) struct engine *e = NULL;
        if ((status = cli_open_engine(g, "system prune", &e)) != 0)
            return status;
        bool printed = false;
        status = prune_containers(e, NULL, &printed);
    }
    /* What the containers held is free now: the others' own prunes, in turn. */
    printf("Deleted Networks:\n");
    char *net[] = {"network", "prune", NULL};
    int r = cmd_network(g, 2, net);
    status = r ? r : status;
    if (volumes) {
        printf("Deleted Volumes:\n");
        char *vol[] = {"volume", "prune", "-f", NULL};
        r = cmd_volume(g, 3, vol);
        status = r ? r : status;
    }
    char *img[] = {"image prune", "-f", all ? "-a" : NULL, NULL};
    r = cmd_image_prune(g, all ? 3 : 2, img);
    return r ? r : status;
}

int cmd_container(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(container_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    static const struct {
        const char *name;
        int (*fn)(struct cli_globals *g, int argc, char **argv);
    } subs[] = {
        {"ls", cmd_ps},
        {"list", cmd_ps},
        {"ps", cmd_ps},
        {"attach", cmd_attach},
        {"commit", cmd_commit},
        {"cp", cmd_cp},
        {"create", cmd_create},
        {"diff", cmd_diff},
        {"exec", cmd_exec},
        {"export", cmd_export},
        {"inspect", cmd_inspect},
        {"kill", cmd_kill},
        {"logs", cmd_logs},
        {"pause", cmd_pause},
        {"port", cmd_port},
        {"restart", cmd_restart},
        {"rm", cmd_rm},
        {"run", cmd_run},
        {"start", cmd_start},
        {"stats", cmd_stats},
        {"stop", cmd_stop},
        {"top", cmd_top},
        {"unpause", cmd_unpause},
        {"wait", cmd_wait},
        {"prune", container_prune},
    };
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        if (!strcmp(argv[1], subs[i].name))
            return subs[i].fn(g, argc - 1, argv + 1);
    return cli_usage_error("container", "unknown command '%s' (see 'berth container --help')",
                           argv[1]);
}
