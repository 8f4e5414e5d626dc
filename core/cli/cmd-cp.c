/* berth cp and berth export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/container-copy.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static const char cp_help[] =
    "Usage: berth cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-\n"
    "       berth cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH\n"
    "\n"
    "Copies files and directories between a container, running or not, and the\n"
    "host. Paths in the container resolve inside its root (a symlink there never\n"
    "leads out of it) and include its volumes. As docker cp:\n"
    "  - a file copied onto an existing directory goes into it; onto anything\n"
    "    else it becomes DEST_PATH (which must not end in '/' unless it is a\n"
    "    directory); its parent must exist\n"
    "  - a directory copied onto an existing directory goes into it under its\n"
    "    own name, or, when SRC_PATH ends in '/.', its contents do; onto a path\n"
    "    that does not exist it becomes DEST_PATH\n"
    "  - '-' as DEST_PATH writes a tar of SRC_PATH to stdout; '-' as SRC_PATH\n"
    "    extracts a tar (plain, gzip, xz or zstd) from stdin into the directory\n"
    "    DEST_PATH\n"
    "A local path holding ':' is written as ./NAME or /PATH.\n"
    "\n"
    "Options:\n"
    "  -a, --archive       keep owners (uid:gid) as they are in the source; without\n"
    "                      it what is copied belongs to the container's root (into a\n"
    "                      container) or to the user running berth (out of one)\n"
    "  -L, --follow-link   copy what SRC_PATH links to, when it is a symlink\n";

/* "CONTAINER:PATH" → 1 with both parts; a local path or "-" → 0. */
static int container_spec(char *arg, const char **ret_container, const char **ret_path)
{
    if (!strcmp(arg, "-") || arg[0] == '/' || arg[0] == '.')
        return 0;
    char *colon = strchr(arg, ':');
    char *slash = strchr(arg, '/');
    if (!colon || (slash && slash < colon))
        return 0;
    *colon = '\0';
    *ret_container = arg;
    *ret_path = colon + 1;
    return 1;
}

int cmd_cp(struct cli_globals *g, int argc, char **argv)
{
    enum { O_HELP = 1, O_ARCHIVE, O_FOLLOW };
    static const struct cli_option opts[] = {{"help", 'h', 0, O_HELP},
                                             {"archive", 'a', 0, O_ARCHIVE},
                                             {"follow-link", 'L', 0, O_FOLLOW},
                                             {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "cp");
    struct copy_request c = {0};
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        switch (id) {
        case O_HELP:
            fputs(cp_help, stdout);
            return 0;
        case O_ARCHIVE:
            c.archive = 1;
            break;
        case O_FOLLOW:
            c.follow_link = 1;
            break;
        default:
            break;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index != 2)
        return cli_usage_error("cp", "expects SRC_PATH and DEST_PATH (see --help)");
    char *src = argv[p.index], *dst = argv[p.index + 1];
    const char *src_container = NULL, *src_path = NULL, *dst_container = NULL, *dst_path = NULL;
    int from = container_spec(src, &src_container, &src_path);
    int into = container_spec(dst, &dst_container, &dst_path);
    if (from && into)
        return cli_usage_error("cp", "copying between containers is not supported: copy to "
                                     "the host first");
    if (!from && !into)
        return cli_usage_error("cp", "one of SRC_PATH and DEST_PATH must be CONTAINER:PATH");
    c.container = from ? src_container : dst_container;
    c.container_path = from ? src_path : dst_path;
    const char *host = from ? dst : src;
    c.host_path = strcmp(host, "-") ? host : NULL;
    c.into_container = into;
    c.tar_fd = into ? STDIN_FILENO : STDOUT_FILENO;
    if (!*c.container || !*c.container_path)
        return cli_usage_error("cp", "'%s:%s': expects CONTAINER:PATH", c.container,
                               c.container_path);
    if (!*host)
        return cli_usage_error("cp", "empty local path");
    _cleanup_(engine_freep) struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0 || container_copy(e, &c, &err) < 0)
        return cli_report("cp", err);
    return 0;
}

static const char export_help[] =
    "Usage: berth export [-o FILE] CONTAINER\n"
    "\n"
    "Writes the container's root file system (running or not) as a tar to stdout,\n"
    "or to FILE, as docker export: without what is mounted on it (volumes, bind\n"
    "mounts, /proc and the like), whose mount points come as empty directories or\n"
    "files. Owners are kept.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   write to FILE (written whole, then renamed into place)\n";

int cmd_export(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"help", 'h', 0, 1}, {"output", 'o', 1, 2}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "export");
    const char *v, *output = NULL;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(export_help, stdout);
            return 0;
        }
        output = v;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index != 1)
        return cli_usage_error("export", "expects one CONTAINER (see --help)");
    if (!output && isatty(STDOUT_FILENO))
        return cli_usage_error("export", "refusing to write a tar to a terminal: use -o FILE or "
                                         "a redirection");
    struct error *err _cleanup_error_ = NULL;
    _cleanup_free_ char *tmp = output ? xasprintf("%s.XXXXXX", output) : NULL;
    int fd = STDOUT_FILENO;
    if (tmp) {
        mode_t mask = umask(0);
        umask(mask);
        if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0666 & ~mask) < 0) {
            error_set(&err, errno, "'%s'", output);
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            return cli_report("export", err);
        }
    }
    struct copy_request c = {
        .container = argv[p.index], .container_path = "/", .tar_fd = fd, .root_only = 1};
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = engine_open(g, &e, &err);
    if (r == 0)
        r = container_copy(e, &c, &err);
    if (tmp) {
        if (r == 0 && (fsync(fd) < 0 || rename(tmp, output) < 0))
            r = error_set(&err, errno, "'%s'", output);
        close(fd);
        if (r < 0)
            unlink(tmp);
    }
    return r < 0 ? cli_report("export", err) : 0;
}
