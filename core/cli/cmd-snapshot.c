/* berth snapshot save|ls|restore|rm. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/container-commit.h"
#include "util/cleanup.h"

static const char snapshot_help[] =
    "Usage: berth snapshot COMMAND\n"
    "\n"
    "Filesystem snapshots of a container's writable layer, kept by its storage\n"
    "driver (a filesystem snapshot, or a copy) and removed with the container.\n"
    "\n"
    "Commands:\n"
    "  save CONTAINER NAME        save the container's files as snapshot NAME\n"
    "  ls [--format json] CONTAINER   list the container's snapshots\n"
    "  restore CONTAINER NAME     make the container's files those of NAME again\n"
    "                             (the container must not be running)\n"
    "  rm CONTAINER NAME          remove snapshot NAME\n"
    "\n"
    "NAME is [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 bytes.\n";

static void cjson_deletep(cJSON **j)
{
    if (*j)
        cJSON_Delete(*j);
}

/* Parses SUB's options (-h, and --format for ls); returns the first operand
 * index, or -1 with *RET_EXIT set. */
static int parse(int argc, char **argv, const char *verb, int *ret_json, int *ret_exit)
{
    static const struct cli_option opts[] = {{"help", 'h', 0, 1}, {"format", 0, 1, 2}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(snapshot_help, stdout);
            *ret_exit = 0;
            return -1;
        }
        if (!ret_json || strcmp(v, "json")) {
            *ret_exit = cli_usage_error(verb, "unknown option or format (see --help)");
            return -1;
        }
        *ret_json = 1;
    }
    if (id < 0) {
        *ret_exit = EXIT_BERTH_ERROR;
        return -1;
    }
    return p.index;
}

static int print_list(const char *json, int as_json)
{
    if (as_json) {
        printf("%s\n", json);
        return 0;
    }
    _cleanup_(cjson_deletep) cJSON *a = cJSON_Parse(json);
    printf("%-32s %s\n", "NAME", "CREATED");
    const cJSON *s;
    cJSON_ArrayForEach(s, a)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(s, "created");
        char when[64] = "unknown";
        if (cJSON_IsNumber(created)) {
            time_t t = (time_t)created->valuedouble;
            struct tm tm;
            if (gmtime_r(&t, &tm))
                (void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        printf("%-32s %s\n", cJSON_IsString(name) ? name->valuestring : "?", when);
    }
    return 0;
}

int cmd_snapshot(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(snapshot_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    static const struct {
        const char *name, *verb;
        int op; /* enum storage_snapshot_op, or -1 for ls */
    } subs[] = {
        {"save", "snapshot save", STORAGE_SNAPSHOT_SAVE},
        {"restore", "snapshot restore", STORAGE_SNAPSHOT_RESTORE},
        {"rm", "snapshot rm", STORAGE_SNAPSHOT_REMOVE},
        {"remove", "snapshot rm", STORAGE_SNAPSHOT_REMOVE},
        {"ls", "snapshot ls", -1},
        {"list", "snapshot ls", -1},
    };
    size_t k = 0;
    while (k < ARRAY_SIZE(subs) && strcmp(argv[1], subs[k].name))
        k++;
    if (k == ARRAY_SIZE(subs))
        return cli_usage_error("snapshot", "unknown command '%s' (see --help)", argv[1]);
    const char *verb = subs[k].verb;
    int status = 0, as_json = 0;
    int i = parse(argc - 1, argv + 1, verb, subs[k].op < 0 ? &as_json : NULL, &status);
    if (i < 0)
        return status;
    int n = argc - 1 - i;
    char **args = argv + 1 + i;
    if (subs[k].op < 0 ? n != 1 : n != 2)
        return cli_usage_error(verb, subs[k].op < 0 ? "expects CONTAINER (see --help)"
                                                    : "expects CONTAINER and NAME (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report(verb, err);
    if (subs[k].op < 0) {
        _cleanup_free_ char *json = NULL;
        if (container_snapshot_list(e, args[0], &json, &err) < 0)
            return cli_report(verb, err);
        return print_list(json, as_json);
    }
    if (container_snapshot(e, (enum storage_snapshot_op)subs[k].op, args[0], args[1], &err) < 0)
        return cli_report(verb, err);
    return 0;
}
