/* berth volume create|ls|inspect|rm|prune. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/engine.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "volume/volume-calls.h"
#include "volume/volume-store.h"

static const char volume_help[] =
    "Usage: berth volume COMMAND\n"
    "\n"
    "Named volumes: data that outlive containers, kept by a volume driver\n"
    "('local' unless --driver says otherwise).\n"
    "\n"
    "Commands:\n"
    "  create [OPTIONS] [NAME]   create a volume (a random name if none) and print its name\n"
    "  ls [--format json] [-q]   list volumes\n"
    "  inspect NAME...           print volumes as a JSON array\n"
    "  rm [-f] NAME...           remove volumes no container uses\n"
    "  prune [-f]                remove every volume no container uses, printing their names\n"
    "\n"
    "Run 'berth volume COMMAND --help' for a command's options.\n";

static const char create_help[] =
    "Usage: berth volume create [OPTIONS] [NAME]\n"
    "\n"
    "Create a volume and print its name. Creating an existing volume with the same\n"
    "driver and options does nothing.\n"
    "\n"
    "Options:\n"
    "  -d, --driver NAME   volume driver (default 'local')\n"
    "  -o, --opt K=V       driver option; 'local' knows size=N[k|m|g|t], which needs\n"
    "                      project quotas on its filesystem\n"
    "      --label K=V     a label kept with the volume\n"
    "      --help          print this help\n";

static const char ls_help[] = "Usage: berth volume ls [--format json] [-q]\n"
                              "\n"
                              "Options:\n"
                              "      --format json   print a JSON array of records\n"
                              "  -q, --quiet         print names only\n"
                              "      --help          print this help\n";

static const char inspect_help[] = "Usage: berth volume inspect NAME...\n"
                                   "\n"
                                   "Print volumes as a JSON array: the record (name, driver, "
                                   "created,\nlabels, options), the driver's description "
                                   "(mountpoint, size_limit,\nusers: running containers) and "
                                   "the containers that mount it.\n";

static const char rm_help[] =
    "Usage: berth volume rm [-f] NAME...\n"
    "\n"
    "Remove volumes and their data. A volume that a container mounts (running or\n"
    "not) is refused; remove the container first.\n"
    "\n"
    "Options:\n"
    "  -f, --force   no error for a volume that does not exist (in use is still refused)\n"
    "      --help    print this help\n";

static const char prune_help[] =
    "Usage: berth volume prune [-f]\n"
    "\n"
    "Remove every volume that no container mounts and print their names.\n"
    "berth never prompts; -f is accepted for docker's sake.\n";

static void json_freep(cJSON **j)
{
    cJSON_Delete(*j);
}

struct ctx {
    struct engine *e;
    struct volume_store *vs;
};

static int ctx_open(struct cli_globals *g, const char *verb, struct ctx *c)
{
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &c->e, &err) < 0)
        return cli_report(verb, err);
    if (volume_store_open(g->root, &c->vs, &err) < 0) {
        engine_free(c->e);
        return cli_report(verb, err);
    }
    return 0;
}

static void ctx_close(struct ctx *c)
{
    volume_store_free(c->vs);
    engine_free(c->e);
}

static void print_json(const cJSON *j)
{
    _cleanup_free_ char *text = cJSON_Print(j);
    printf("%s\n", text ? text : "null");
}

/* K=V into OBJ; a label may have no value, an option may not. */
static int add_pair(const char *verb, cJSON *obj, const char *text, int need_value)
{
    const char *eq = strchr(text, '=');
    if (eq == text || !*text || (need_value && !eq))
        return cli_usage_error(verb, "'%s': expected KEY=VALUE", text);
    _cleanup_free_ char *key = strndup(text, eq ? (size_t)(eq - text) : strlen(text));
    cJSON_DeleteItemFromObject(obj, key);
    cJSON_AddStringToObject(obj, key, eq ? eq + 1 : "");
    return 0;
}

static int volume_create_cmd(struct cli_globals *g, int argc, char **argv)
{
    enum { O_HELP = 1, O_DRIVER, O_OPT, O_LABEL };
    static const struct cli_option opts[] = {{"help", 'h', 0, O_HELP},
                                             {"driver", 'd', 1, O_DRIVER},
                                             {"opt", 'o', 1, O_OPT},
                                             {"label", 0, 1, O_LABEL},
                                             {NULL, 0, 0, 0}};
    const char *verb = "volume create";
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v, *driver = NULL, *name = NULL;
    cJSON *options _cleanup_(json_freep) = cJSON_CreateObject();
    cJSON *labels _cleanup_(json_freep) = cJSON_CreateObject();
    for (;;) {
        int id = cli_next_option(&p, opts, &v);
        if (id < 0)
            return EXIT_BERTH_ERROR;
        if (id == 0) {
            if (p.index >= argc)
                break;
            if (name)
                return cli_usage_error(verb, "expected at most one NAME");
            name = argv[p.index++];
            continue;
        }
        switch (id) {
        case O_HELP:
            fputs(create_help, stdout);
            return 0;
        case O_DRIVER:
            driver = v;
            break;
        case O_OPT:
            if (add_pair(verb, options, v, 1))
                return EXIT_BERTH_ERROR;
            break;
        default:
            if (add_pair(verb, labels, v, 0))
                return EXIT_BERTH_ERROR;
            break;
        }
    }
    _cleanup_free_ char *random_name = NULL;
    if (!name)
        name = random_name = volume_random_name();
    if (!volume_name_is_valid(name))
        return cli_usage_error(verb, "invalid volume name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                               name);
    struct ctx c = {0};
    int status = ctx_open(g, verb, &c);
    if (status)
        return status;
    struct error *err _cleanup_error_ = NULL;
    if (volume_create(c.e, c.vs, name, driver, options, labels, NULL, NULL, &err) < 0)
        status = cli_report(verb, err);
    else
        printf("%s\n", name);
    ctx_close(&c);
    return status;
}

static int volume_ls_cmd(struct cli_globals *g, int argc, char **argv)
{
    enum { O_HELP = 1, O_FORMAT, O_QUIET };
    static const struct cli_option opts[] = {{"help", 'h', 0, O_HELP},
                                             {"format", 0, 1, O_FORMAT},
                                             {"quiet", 'q', 0, O_QUIET},
                                             {NULL, 0, 0, 0}};
    const char *verb = "volume ls";
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v;
    int id, json = 0, quiet = 0;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == O_HELP) {
            fputs(ls_help, stdout);
            return 0;
        }
        if (id == O_FORMAT) {
            if (strcmp(v, "json") && strcmp(v, "table"))
                return cli_usage_error(verb, "unknown format '%s' (json or table)", v);
            json = !strcmp(v, "json");
        } else {
            quiet = 1;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index < argc)
        return cli_usage_error(verb, "unexpected argument '%s'", argv[p.index]);
    /* Listing needs no plugin: the records say it all. */
    struct volume_store *vs = NULL;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    if (volume_store_open(g->root, &vs, &err) < 0 || volume_store_names(vs, &names, &n, &err) < 0) {
        volume_store_free(vs);
        return cli_report(verb, err);
    }
    cJSON *arr = cJSON_CreateArray();
    if (!json && !quiet)
        printf("%-10s  %s\n", "DRIVER", "VOLUME NAME");
    for (size_t i = 0; i < n; i++) {
        cJSON *rec = NULL;
        struct error *local = NULL;
        if (volume_store_load(vs, names[i], &rec, &local) < 0) {
            /* Removed meanwhile, or corrupt: the others are still listed. */
            if (local->errnum != ENOENT)
                fprintf(stderr, "berth: %s: %s\n", verb, local->msg);
            error_free(&local);
            continue;
        }
        if (quiet)
            printf("%s\n", names[i]);
        else if (!json)
            printf("%-10s  %s\n", rec_str(rec, "driver"), names[i]);
        cJSON_AddItemToArray(arr, rec);
    }
    if (json)
        print_json(arr);
    cJSON_Delete(arr);
    volume_store_free(vs);
    return 0;
}

/* Options -h and (when FORCE is set) -f, then one or more NAMEs. */
static int parse_names(int argc, char **argv, const char *verb, const char *help, int *force,
                       char ***ret_names, size_t *ret_n)
{
    static const struct cli_option opts[] = {
        {"help", 'h', 0, 1}, {"force", 'f', 0, 2}, {NULL, 0, 0, 0}};
    static const struct cli_option opts_noforce[] = {{"help", 'h', 0, 1}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v;
    char **names = calloc((size_t)argc + 1, sizeof(char *));
    if (!names) {
        struct error *err _cleanup_error_ = NULL;
        error_set(&err, ENOMEM, "read arguments");
        return cli_report(verb, err);
    }
    size_t n = 0;
    for (;;) {
        int id = cli_next_option(&p, force ? opts : opts_noforce, &v);
        if (id < 0) {
            free(names);
            return EXIT_BERTH_ERROR;
        }
        if (id == 1) {
            fputs(help, stdout);
            free(names);
            return -1;
        }
        if (id == 2) {
            /* Only opts, used when FORCE is given, has -f (id 2). */
            if (force)
                *force = 1;
            continue;
        }
        if (p.index >= argc)
            break;
        names[n++] = argv[p.index++];
    }
    *ret_names = names;
    *ret_n = n;
    return 0;
}

static int volume_inspect_cmd(struct cli_globals *g, int argc, char **argv)
{
    const char *verb = "volume inspect";
    _cleanup_free_ char **names = NULL;
    size_t n = 0;
    int r = parse_names(argc, argv, verb, inspect_help, NULL, &names, &n);
    if (r)
        return r < 0 ? 0 : r;
    if (n == 0)
        return cli_usage_error(verb, "expected at least one NAME");
    struct ctx c = {0};
    int status = ctx_open(g, verb, &c);
    if (status)
        return status;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        struct error *err _cleanup_error_ = NULL;
        cJSON *o = NULL;
        if (volume_inspect(c.e, c.vs, names[i], &o, &err) < 0)
            status = cli_report(verb, err);
        else
            cJSON_AddItemToArray(arr, o);
    }
    print_json(arr);
    cJSON_Delete(arr);
    ctx_close(&c);
    return status;
}

static int volume_rm_cmd(struct cli_globals *g, int argc, char **argv)
{
    const char *verb = "volume rm";
    _cleanup_free_ char **names = NULL;
    size_t n = 0;
    int force = 0;
    int r = parse_names(argc, argv, verb, rm_help, &force, &names, &n);
    if (r)
        return r < 0 ? 0 : r;
    if (n == 0)
        return cli_usage_error(verb, "expected at least one NAME");
    struct ctx c = {0};
    int status = ctx_open(g, verb, &c);
    if (status)
        return status;
    for (size_t i = 0; i < n; i++) {
        struct error *err _cleanup_error_ = NULL;
        r = volume_remove(c.e, c.vs, names[i], &err);
        if (r == -ENOENT && force && volume_name_is_valid(names[i]))
            continue;
        if (r < 0)
            status = cli_report(verb, err);
        else
            printf("%s\n", names[i]);
    }
    ctx_close(&c);
    return status;
}

static int volume_prune_cmd(struct cli_globals *g, int argc, char **argv)
{
    const char *verb = "volume prune";
    _cleanup_free_ char **names_arg = NULL;
    size_t n_arg = 0;
    int force = 0;
    int r = parse_names(argc, argv, verb, prune_help, &force, &names_arg, &n_arg);
    if (r)
        return r < 0 ? 0 : r;
    if (n_arg > 0)
        return cli_usage_error(verb, "unexpected argument '%s'", names_arg[0]);
    struct ctx c = {0};
    int status = ctx_open(g, verb, &c);
    if (status)
        return status;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    if (volume_store_names(c.vs, &names, &n, &err) < 0) {
        status = cli_report(verb, err);
        ctx_close(&c);
        return status;
    }
    for (size_t i = 0; i < n; i++) {
        struct error *local _cleanup_error_ = NULL;
        r = volume_remove(c.e, c.vs, names[i], &local);
        /* In use, or removed by someone else meanwhile: not ours to prune. */
        if (r == -EBUSY || r == -ENOENT)
            continue;
        if (r < 0)
            status = cli_report(verb, local);
        else
            printf("%s\n", names[i]);
    }
    ctx_close(&c);
    return status;
}

int cmd_volume(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(volume_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    const char *sub = argv[1];
    static const struct {
        const char *name;
        int (*fn)(struct cli_globals *, int, char **);
    } subs[] = {
        {"create", volume_create_cmd},   {"ls", volume_ls_cmd}, {"list", volume_ls_cmd},
        {"inspect", volume_inspect_cmd}, {"rm", volume_rm_cmd}, {"remove", volume_rm_cmd},
        {"prune", volume_prune_cmd},
    };
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        if (!strcmp(subs[i].name, sub))
            return subs[i].fn(g, argc - 1, argv + 1);
    return cli_usage_error("volume", "unknown command '%s' (see 'berth volume --help')", sub);
}
