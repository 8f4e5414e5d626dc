/* berth exec: run a command in a running container. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/container-exec.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

enum { OPT_INTERACTIVE = 1, OPT_TTY, OPT_DETACH, OPT_ENV, OPT_WORKDIR, OPT_USER, OPT_HELP };

static const struct cli_option exec_options[] = {
    {"interactive", 'i', 0, OPT_INTERACTIVE},
    {"tty", 't', 0, OPT_TTY},
    {"detach", 'd', 0, OPT_DETACH},
    {"env", 'e', 1, OPT_ENV},
    {"workdir", 'w', 1, OPT_WORKDIR},
    {"user", 'u', 1, OPT_USER},
    {"help", 0, 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

static const char exec_help[] =
    "Usage: berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
    "\n"
    "Run COMMAND in the running CONTAINER: in all its namespaces and its cgroup,\n"
    "with its root, environment, user, capabilities, no_new_privs and security\n"
    "filter, and exit with COMMAND's status.\n"
    "\n"
    "Options:\n"
    "  -i, --interactive           connect berth's stdin (else /dev/null)\n"
    "  -t, --tty                   give COMMAND a terminal (with -i: stdin must be one)\n"
    "  -d, --detach                start COMMAND and return at once (output discarded)\n"
    "  -e, --env KEY=VALUE         set an environment variable (KEY alone: take berth's)\n"
    "  -w, --workdir DIR           working directory (absolute; default: the container's)\n"
    "  -u, --user UID[:GID]        user: numeric, or a name from the container's\n"
    "                              /etc/passwd (default: the container's)\n"
    "      --help                  print this help\n"
    "\n"
    "Exit status: COMMAND's own; 125 if berth fails (e.g. the container is not\n"
    "running), 126 if COMMAND cannot be run, 127 if it is not found.\n";

static void strv_add(char ***v, size_t *n, const char *s)
{
    char **grown = realloc(*v, (*n + 2) * sizeof(char *));
    if (!grown)
        abort();
    *v = grown;
    (*v)[(*n)++] = strdup(s);
    (*v)[*n] = NULL;
}

int cmd_exec(struct cli_globals *g, int argc, char **argv)
{
    const char *verb = "exec";
    struct exec_options o = {0};
    _cleanup_strv_ char **env = NULL;
    size_t n_env = 0;
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v;
    int id;
    while ((id = cli_next_option(&p, exec_options, &v)) > 0) {
        switch (id) {
        case OPT_INTERACTIVE:
            o.interactive = 1;
            break;
        case OPT_TTY:
            o.tty = 1;
            break;
        case OPT_DETACH:
            o.detach = 1;
            break;
        case OPT_ENV:
            if (!*v || *v == '=')
                return cli_usage_error(verb, "invalid environment variable '%s'", v);
            if (strchr(v, '=')) {
                strv_add(&env, &n_env, v);
            } else if (getenv(v)) {
                _cleanup_free_ char *kv = xasprintf("%s=%s", v, getenv(v));
                strv_add(&env, &n_env, kv);
            }
            break;
        case OPT_WORKDIR:
            if (v[0] != '/')
                return cli_usage_error(verb, "working directory '%s': must be absolute", v);
            o.cwd = v;
            break;
        case OPT_USER:
            if (!*v)
                return cli_usage_error(verb, "user: empty value");
            o.user = v;
            break;
        case OPT_HELP:
            fputs(exec_help, stdout);
            return 0;
        default:
            break;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index < 2)
        return cli_usage_error(verb,
                               "expected a container and a command (see 'berth exec --help')");
    if (o.detach && o.tty)
        return cli_usage_error(verb, "-d with -t: a detached terminal needs 'attach', which "
                                     "exec does not offer");
    if (o.tty && o.interactive && !isatty(STDIN_FILENO))
        return cli_usage_error(verb, "the input device is not a TTY");
    const char *ref = argv[p.index];
    o.args = argv + p.index + 1;
    o.env = env;

    struct error *err _cleanup_error_ = NULL;
    struct engine *e = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report(verb, err);
    int status = 0;
    if (container_exec(e, ref, &o, &status, &err) < 0)
        status = cli_report(verb, err);
    engine_free(e);
    return status;
}
