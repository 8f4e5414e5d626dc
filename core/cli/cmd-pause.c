/* berth pause and unpause: freeze and thaw containers' processes. */
#include <stdio.h>
#include <string.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/container-cgroup.h"
#include "lifecycle/engine.h"

static int pause_or_unpause(struct cli_globals *g, int argc, char **argv, int pause)
{
    const char *verb = pause ? "pause" : "unpause";
    static const struct cli_option opts[] = {{"help", 0, 0, 1}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        printf("Usage: berth %s CONTAINER...\n\n%s\n", verb,
               pause ? "Freeze every process of the containers (cgroup freezer)."
                     : "Thaw the processes of paused containers.");
        return 0;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error(verb, "no container given (see 'berth %s --help')", verb);
    struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report(verb, err);
    int status = 0;
    for (int i = p.index; i < argc; i++) {
        struct error *one _cleanup_error_ = NULL;
        if (container_pause(e, argv[i], pause, &one) < 0)
            status = cli_report(verb, one);
        else
            printf("%s\n", argv[i]);
    }
    engine_free(e);
    return status;
}

int cmd_pause(struct cli_globals *g, int argc, char **argv)
{
    return pause_or_unpause(g, argc, argv, 1);
}

int cmd_unpause(struct cli_globals *g, int argc, char **argv)
{
    return pause_or_unpause(g, argc, argv, 0);
}
