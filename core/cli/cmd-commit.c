/* berth commit and berth diff. */
#include <stdio.h>
#include <string.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/container-commit.h"
#include "util/cleanup.h"

static const char commit_help[] =
    "Usage: berth commit [-m MESSAGE] [--author AUTHOR] CONTAINER IMAGE[:TAG]\n"
    "\n"
    "Makes a new image of the container's image and one more layer holding the\n"
    "container's changes (new, changed and deleted files), and prints its id. The\n"
    "container may be running; it is not paused. Needs a storage driver that\n"
    "produces diffs (one that announces the diff capability).\n"
    "\n"
    "Options:\n"
    "  -m, --message TEXT   the history comment of the new layer\n"
    "  -a, --author TEXT    the image's author\n";

int cmd_commit(struct cli_globals *g, int argc, char **argv)
{
    enum { O_HELP = 1, O_MESSAGE, O_AUTHOR };
    static const struct cli_option opts[] = {{"help", 'h', 0, O_HELP},
                                             {"message", 'm', 1, O_MESSAGE},
                                             {"author", 'a', 1, O_AUTHOR},
                                             {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "commit");
    struct commit_options o = {0};
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        switch (id) {
        case O_HELP:
            fputs(commit_help, stdout);
            return 0;
        case O_MESSAGE:
            o.message = v;
            break;
        case O_AUTHOR:
            o.author = v;
            break;
        default:
            break;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index != 2)
        return cli_usage_error("commit", "expects CONTAINER and IMAGE[:TAG] (see --help)");
    o.container = argv[p.index];
    o.image_ref = argv[p.index + 1];
    _cleanup_(engine_freep) struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report("commit", err);
    _cleanup_free_ char *image_id = NULL;
    if (container_commit(e, &o, &image_id, &err) < 0)
        return cli_report("commit", err);
    printf("%s\n", image_id);
    return 0;
}

static const char diff_help[] =
    "Usage: berth diff CONTAINER\n"
    "\n"
    "Lists the container's changes against its image, one per line, as docker\n"
    "diff: A (added), C (changed: it was in the image; a directory whose content\n"
    "changed too) or D (deleted), then the path. The container may be running.\n"
    "Needs a storage driver that produces diffs, as commit does.\n";

int cmd_diff(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"help", 'h', 0, 1}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "diff");
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        fputs(diff_help, stdout);
        return 0;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index != 1)
        return cli_usage_error("diff", "expects one CONTAINER (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    struct layer_change *changes = NULL;
    size_t n = 0;
    if (engine_open(g, &e, &err) < 0 || container_diff(e, argv[p.index], &changes, &n, &err) < 0)
        return cli_report("diff", err);
    for (size_t i = 0; i < n; i++)
        printf("%c %s\n", changes[i].kind, changes[i].path);
    layer_changes_free(changes, n);
    return 0;
}
