/* berth push. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/engine.h"
#include "registry/image-push.h"
#include "util/cleanup.h"

static const char push_help[] =
    "Usage: berth push [OPTIONS] IMAGE [DEST]\n\n"
    "Upload the local IMAGE to a registry: to DEST ([REGISTRY/]REPOSITORY[:TAG]) if\n"
    "given, else to IMAGE's own name. Blobs the registry has are skipped; the\n"
    "manifest is sent as stored, so its digest stays the same. Prints\n"
    "'DEST: digest: sha256:… size: N'; on a terminal, a line per blob on stderr.\n"
    "Blobs larger than $BERTH_PUSH_CHUNK_SIZE bytes (default 16 MiB) are uploaded\n"
    "in chunks of that size.\n\n"
    "Options:\n"
    "  --tls-verify=BOOL   false: allow plain http and unverified TLS\n"
    "                      (127.0.0.0/8 and localhost always may)\n"
    "  --authfile FILE     credentials file (default $REGISTRY_AUTH_FILE,\n"
    "                      else ~/.config/berth/auth.json)\n"
    "  -q, --quiet         no per-blob lines\n"
    "  -h, --help          print this help\n";

int cmd_push(struct cli_globals *g, int argc, char **argv)
{
    enum { O_HELP = 1, O_TLS, O_QUIET, O_AUTHFILE };
    static const struct cli_option opts[] = {{"help", 'h', 0, O_HELP},
                                             {"tls-verify", 0, 1, O_TLS},
                                             {"quiet", 'q', 0, O_QUIET},
                                             {"authfile", 0, 1, O_AUTHFILE},
                                             {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "push");
    struct push_options o = {.registries = g->registries, .tls_verify = 1};
    bool quiet = false;
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        switch (id) {
        case O_HELP:
            fputs(push_help, stdout);
            return 0;
        case O_TLS:
            if (!strcmp(v, "true") || !strcmp(v, "1"))
                o.tls_verify = 1;
            else if (!strcmp(v, "false") || !strcmp(v, "0"))
                o.tls_verify = 0;
            else
                return cli_usage_error("push", "--tls-verify expects true or false, not '%s'", v);
            break;
        case O_QUIET:
            quiet = true;
            break;
        default:
            o.authfile = v;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index < 1 || argc - p.index > 2)
        return cli_usage_error("push", "expects IMAGE [DEST] (see --help)");
    const char *chunk = getenv("BERTH_PUSH_CHUNK_SIZE");
    if (chunk && *chunk) {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(chunk, &end, 10);
        if (errno || *end || n <= 0)
            return cli_usage_error("push", "BERTH_PUSH_CHUNK_SIZE: not a positive number '%s'",
                                   chunk);
        o.chunk_size = n;
    }
    o.progress = !quiet && isatty(STDERR_FILENO) ? stderr : NULL;
    const char *src = argv[p.index], *dest = argc - p.index == 2 ? argv[p.index + 1] : NULL;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_(engine_freep) struct engine *e = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report("push", err);
    _cleanup_free_ char *digest = NULL;
    long long size = 0;
    if (image_push(e->images, src, dest, &o, &digest, &size, &err) < 0)
        return cli_report("push", err);
    printf("%s: digest: %s size: %lld\n", dest ? dest : src, digest, size);
    return 0;
}
