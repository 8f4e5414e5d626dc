/* berth start, ps, inspect and rm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "cli/ps-filter.h"
#include "lifecycle/lifecycle.h"
#include "store/container-store.h"
#include "util/cleanup.h"

int cmd_start(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"attach", 'a', 0, 1}, {"help", 0, 0, 2}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "start");
    const char *v;
    int id, attach = 0;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 2) {
            printf("Usage: berth start [-a] CONTAINER\n\n"
                   "Start a created or exited container: detached under a monitor (its\n"
                   "output goes to its log), or with -a attached: its output goes to this\n"
                   "terminal and berth exits with its status.\n\n"
                   "Options:\n"
                   "  -a, --attach   attach and wait for the container's end\n"
                   "      --help     print this help\n");
            return 0;
        }
        attach = 1;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc - 1)
        return cli_usage_error("start",
                               "expected exactly one container (see 'berth start --help')");
    struct engine *e = NULL;
    int status = cli_open_engine(g, "start", &e);
    if (status)
        return status;
    struct error *err _cleanup_error_ = NULL;
    if (!attach) {
        if (container_start_detached(e, argv[p.index], &err) < 0)
            status = cli_report("start", err);
        else
            printf("%s\n", argv[p.index]);
    } else if (container_start_attached(e, argv[p.index], &status, &err) < 0)
        status = cli_report("start", err);
    engine_free(e);
    return status;
}

static void format_age(long long ms, char *buf, size_t len)
{
    long long secs = (long long)time(NULL) - ms / 1000;
    if (secs < 60)
        snprintf(buf, len, "%lld seconds ago", secs < 0 ? 0 : secs);
    else if (secs < 3600)
        snprintf(buf, len, "%lld minutes ago", secs / 60);
    else if (secs < 86400)
        snprintf(buf, len, "%lld hours ago", secs / 3600);
    else
        snprintf(buf, len, "%lld days ago", secs / 86400);
}

static void format_status(const cJSON *rec, char *buf, size_t len)
{
    const char *state = rec_str(rec, "state");
    if (!state)
        state = "unknown";
    if (!strcmp(state, "exited"))
        snprintf(buf, len, "Exited (%lld)", rec_int(rec, "exit_code", -1));
    else if (!strcmp(state, "running"))
        snprintf(buf, len, "Up");
    else if (!strcmp(state, "paused"))
        snprintf(buf, len, "Up (Paused)");
    else if (!strcmp(state, "created"))
        snprintf(buf, len, "Created");
    else
        snprintf(buf, len, "%s", state);
}

static char *command_line(const cJSON *rec)
{
    const cJSON *args = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "process"), "args");
    size_t len = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, args)
    {
        const char *arg = cJSON_GetStringValue(a);
        len += strlen(arg ? arg : "") + 1;
    }
    char *s = calloc(len + 1, 1);
    if (!s)
        abort();
    size_t at = 0;
    cJSON_ArrayForEach(a, args)
    {
        const char *arg = cJSON_GetStringValue(a);
        size_t n = strlen(arg ? arg : "");
        if (at > 0)
            s[at++] = ' ';
        memcpy(s + at, arg ? arg : "", n);
        at += n;
    }
    s[at] = '\0';
    return s;
}

/* "0.0.0.0:8080->80/tcp, …" as docker prints published ports. */
static char *ports_line(const cJSON *rec)
{
    char *s = strdup("");
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(rec, "ports"))
    {
        char *next = NULL;
        if (asprintf(&next, "%s%s%s:%d->%d/%s", s, *s ? ", " : "",
                     cJSON_GetStringValue(cJSON_GetObjectItem(p, "host_ip")),
                     cJSON_GetObjectItem(p, "host_port")->valueint,
                     cJSON_GetObjectItem(p, "container_port")->valueint,
                     cJSON_GetStringValue(cJSON_GetObjectItem(p, "protocol"))) < 0)
            break;
        free(s);
        s = next;
    }
    return s;
}

int cmd_ps(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"all", 'a', 0, 1},    {"format", 0, 1, 2}, {"quiet", 'q', 0, 3}, {"no-trunc", 0, 0, 4},
        {"filter", 'f', 1, 6}, {"help", 0, 0, 5},   {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "ps");
    const char *v;
    int id, all = 0, json = 0, quiet = 0, no_trunc = 0;
    _cleanup_(ps_filter_clear) struct ps_filter filter = {0};
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        const char *why = NULL;
        switch (id) {
        case 6:
            if (ps_filter_add(&filter, v, &why) < 0)
                return cli_usage_error("ps", "--filter '%s': %s", v, why ? why : "out of memory");
            break;
        case 1:
            all = 1;
            break;
        case 2:
            if (strcmp(v, "json") && strcmp(v, "table"))
                return cli_usage_error("ps", "unknown format '%s': use json or table", v);
            json = !strcmp(v, "json");
            break;
        case 3:
            quiet = 1;
            break;
        case 4:
            no_trunc = 1;
            break;
        default:
            printf(
                "Usage: berth ps [-a] [-q] [--no-trunc] [--format table|json] [-f KEY=VALUE]...\n"
                "\n"
                "List containers (running ones; all with -a, or with a status filter).\n"
                "\n"
                "Options:\n"
                "  -a, --all                every container, not only running ones\n"
                "  -q, --quiet              ids only\n"
                "      --no-trunc           whole ids\n"
                "      --format table|json  a table (default) or the records as JSON\n"
                "  -f, --filter KEY=VALUE   label=K or label=K=V, name=PART, id=PREFIX,\n"
                "                           status=created|running|paused|exited,\n"
                "                           ancestor=IMAGE; one key's filters match if any\n"
                "                           does, different keys' if all do\n");
            return 0;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc)
        return cli_usage_error("ps", "unexpected argument '%s'", argv[p.index]);
    struct engine *e = NULL;
    int status = cli_open_engine(g, "ps", &e);
    if (status)
        return status;
    struct error *err _cleanup_error_ = NULL;
    cJSON *list = NULL;
    if (container_store_list(e->containers, &list, &err) < 0) {
        engine_free(e);
        return cli_report("ps", err);
    }
    cJSON *shown = cJSON_CreateArray();
    const cJSON *rec;
    cJSON_ArrayForEach(rec, list)
    {
        const char *state = rec_str(rec, "state");
        if (!all && !ps_filter_has_status(&filter) &&
            (!state || (strcmp(state, "running") && strcmp(state, "paused"))))
            continue;
        if (!ps_filter_match(&filter, rec))
            continue;
        cJSON_AddItemToArray(shown, cJSON_Duplicate(rec, 1));
    }
    if (json) {
        _cleanup_free_ char *text = cJSON_Print(shown);
        printf("%s\n", text);
    } else if (quiet) {
        cJSON_ArrayForEach(rec, shown) printf("%.*s\n", no_trunc ? 64 : 12, rec_str(rec, "id"));
    } else {
        printf("%-12s  %-20s  %-24s  %-16s  %-16s  %-24s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
               "CREATED", "STATUS", "PORTS", "NAMES");
        cJSON_ArrayForEach(rec, shown)
        {
            char age[32], st[32];
            format_age(rec_int(rec, "created", 0), age, sizeof(age));
            format_status(rec, st, sizeof(st));
            _cleanup_free_ char *cmd = command_line(rec);
            _cleanup_free_ char *ports = ports_line(rec);
            printf("%-12.*s  %-20s  %-24.24s  %-16s  %-16s  %-24s  %s\n", no_trunc ? 64 : 12,
                   rec_str(rec, "id"), rec_str(rec, "image"), cmd, age, st, ports,
                   rec_str(rec, "name"));
        }
    }
    cJSON_Delete(shown);
    cJSON_Delete(list);
    engine_free(e);
    return 0;
}

int cmd_inspect(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("inspect", "expected at least one container");
    if (cli_is_help(argv[1])) {
        printf("Usage: berth inspect CONTAINER...\n\nPrint the records of containers as a "
               "JSON array.\n");
        return 0;
    }
    struct engine *e = NULL;
    int status = cli_open_engine(g, "inspect", &e);
    if (status)
        return status;
    cJSON *out = cJSON_CreateArray();
    for (int i = 1; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        cJSON *rec = NULL;
        if (container_store_find(e->containers, argv[i], &rec, &err) < 0) {
            status = cli_report("inspect", err);
            continue;
        }
        cJSON_AddItemToArray(out, rec);
    }
    _cleanup_free_ char *text = cJSON_Print(out);
    printf("%s\n", text);
    cJSON_Delete(out);
    engine_free(e);
    return status;
}

int cmd_rm(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"force", 'f', 0, 1}, {"help", 0, 0, 2}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "rm");
    const char *v;
    int id, force = 0;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 2) {
            printf("Usage: berth rm [-f] CONTAINER...\n\n"
                   "Remove containers and their writable layers.\n\n"
                   "Options:\n"
                   "  -f, --force   kill a running container first\n"
                   "      --help    print this help\n");
            return 0;
        }
        force = 1;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error("rm", "expected at least one container");
    struct engine *e = NULL;
    int status = cli_open_engine(g, "rm", &e);
    if (status)
        return status;
    for (int i = p.index; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        if (container_remove(e, argv[i], force, &err) < 0)
            status = cli_report("rm", err);
        else
            printf("%s\n", argv[i]);
    }
    engine_free(e);
    return status;
}
