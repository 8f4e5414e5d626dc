/* berth pull, login, logout; and the pull of a missing image by run/create. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "image/image-ref.h"
#include "lifecycle/engine.h"
#include "registry/auth-file.h"
#include "registry/image-pull.h"
#include "registry/registry-client.h"
#include "registry/registry-config.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

#define SECRET_MAX 4096

static const char pull_help[] =
    "Usage: berth pull [OPTIONS] REF\n\n"
    "Download an image from a registry into the image store and print its id.\n"
    "REF is [REGISTRY/]REPOSITORY[:TAG][@DIGEST]; a short name (busybox) comes from\n"
    "the default registry (docker.io unless the config file's \"registries\" says\n"
    "otherwise) and is stored under that short name (see docs/registries.md).\n\n"
    "Options:\n"
    "  --platform OS/ARCH[/VARIANT]  the manifest to take from an index\n"
    "                                (default: this host's)\n"
    "  --tls-verify=BOOL             false: allow plain http and unverified TLS\n"
    "                                (127.0.0.0/8 and localhost always may)\n"
    "  --authfile FILE               credentials file (default $REGISTRY_AUTH_FILE,\n"
    "                                else ~/.config/berth/auth.json)\n"
    "  -q, --quiet                   print only the image id\n"
    "  -h, --help                    print this help\n";

static const char login_help[] =
    "Usage: berth login [OPTIONS] [REGISTRY]\n\n"
    "Check credentials against REGISTRY (default: the default registry) and save\n"
    "them in the auth file (mode 0600). The password is read from stdin with\n"
    "--password-stdin, or asked for on a terminal; it is never an argument.\n\n"
    "Options:\n"
    "  -u, --username USER   the user name (asked for on a terminal if missing)\n"
    "  --password-stdin      read the password from stdin (one line)\n"
    "  --tls-verify=BOOL     false: allow plain http and unverified TLS\n"
    "  --authfile FILE       credentials file (default $REGISTRY_AUTH_FILE,\n"
    "                        else ~/.config/berth/auth.json)\n"
    "  -h, --help            print this help\n";

static const char logout_help[] =
    "Usage: berth logout [OPTIONS] [REGISTRY]\n\n"
    "Remove REGISTRY's credentials from the auth file.\n\n"
    "Options:\n"
    "  --authfile FILE   credentials file (default $REGISTRY_AUTH_FILE,\n"
    "                    else ~/.config/berth/auth.json)\n"
    "  -h, --help        print this help\n";

static int parse_bool(const char *verb, const char *opt, const char *v, int *ret)
{
    if (!strcmp(v, "true") || !strcmp(v, "1")) {
        *ret = 1;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "0")) {
        *ret = 0;
        return 0;
    }
    cli_usage_error(verb, "%s expects true or false, not '%s'", opt, v);
    return -1;
}

int cli_pull_image(struct cli_globals *g, struct engine *e, const char *ref, int quiet,
                   struct error **err)
{
    struct pull_options o = {
        .registries = g->registries,
        .tls_verify = 1,
        .progress = !quiet && isatty(STDERR_FILENO) ? stderr : NULL,
    };
    _cleanup_free_ char *id = NULL, *name = NULL;
    return image_pull(e->images, ref, &o, &id, &name, err);
}

int cmd_pull(struct cli_globals *g, int argc, char **argv)
{
    enum { O_HELP = 1, O_PLATFORM, O_TLS, O_QUIET, O_AUTHFILE };
    static const struct cli_option opts[] = {
        {"help", 'h', 0, O_HELP},   {"platform", 0, 1, O_PLATFORM}, {"tls-verify", 0, 1, O_TLS},
        {"quiet", 'q', 0, O_QUIET}, {"authfile", 0, 1, O_AUTHFILE}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "pull");
    struct pull_options o = {.registries = g->registries, .tls_verify = 1};
    bool quiet = false;
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        switch (id) {
        case O_HELP:
            fputs(pull_help, stdout);
            return 0;
        case O_PLATFORM:
            o.platform = v;
            break;
        case O_TLS:
            if (parse_bool("pull", "--tls-verify", v, &o.tls_verify) < 0)
                return EXIT_BERTH_ERROR;
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
    if (argc - p.index != 1)
        return cli_usage_error("pull", "expects one REF (see --help)");
    o.progress = !quiet && isatty(STDERR_FILENO) ? stderr : NULL;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_(engine_freep) struct engine *e = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report("pull", err);
    _cleanup_free_ char *image_id = NULL, *name = NULL;
    if (image_pull(e->images, argv[p.index], &o, &image_id, &name, &err) < 0)
        return cli_report("pull", err);
    printf("%s\n", image_id);
    return 0;
}

/* "https://host:5000/" → "host:5000"; Docker Hub's names → "docker.io". */
static char *registry_key(const char *arg)
{
    const char *s = arg;
    if (!strncmp(s, "https://", 8))
        s += 8;
    else if (!strncmp(s, "http://", 7))
        s += 7;
    size_t n = strcspn(s, "/");
    char *k = strndup(s, n);
    if (k && (!strcmp(k, "index.docker.io") || !strcmp(k, "registry-1.docker.io"))) {
        free(k);
        k = strdup("docker.io");
    }
    return k;
}

static void wipe_free(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
    }
}

/* Reads one line from FD (without the newline), up to SECRET_MAX bytes. */
static int read_line(FILE *f, char **ret, struct error **err)
{
    char *buf = calloc(1, SECRET_MAX + 2);
    if (!buf)
        return error_set(err, ENOMEM, "read");
    if (!fgets(buf, SECRET_MAX + 2, f)) {
        free(buf);
        return error_set_plain(err, EINVAL, "nothing to read on stdin");
    }
    size_t len = strlen(buf);
    if (len > SECRET_MAX) {
        explicit_bzero(buf, len);
        free(buf);
        return error_set_plain(err, EINVAL, "input longer than %d bytes", SECRET_MAX);
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    *ret = buf;
    return 0;
}

static int prompt(const char *what, bool secret, char **ret, struct error **err)
{
    fprintf(stderr, "%s: ", what);
    fflush(stderr);
    struct termios old, quiet;
    bool restored = true;
    if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0)
            restored = false;
    }
    int r = read_line(stdin, ret, err);
    if (!restored) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    return r;
}

int cmd_login(struct cli_globals *g, int argc, char **argv)
{
    enum { O_HELP = 1, O_USER, O_STDIN, O_TLS, O_AUTHFILE };
    static const struct cli_option opts[] = {
        {"help", 'h', 0, O_HELP},          {"username", 'u', 1, O_USER},
        {"password-stdin", 0, 0, O_STDIN}, {"tls-verify", 0, 1, O_TLS},
        {"authfile", 0, 1, O_AUTHFILE},    {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "login");
    const char *v, *user_arg = NULL, *authfile_arg = NULL;
    bool from_stdin = false;
    int tls_verify = 1, id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        switch (id) {
        case O_HELP:
            fputs(login_help, stdout);
            return 0;
        case O_USER:
            user_arg = v;
            break;
        case O_STDIN:
            from_stdin = true;
            break;
        case O_TLS:
            if (parse_bool("login", "--tls-verify", v, &tls_verify) < 0)
                return EXIT_BERTH_ERROR;
            break;
        default:
            authfile_arg = v;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index > 1)
        return cli_usage_error("login", "expects at most one REGISTRY (see --help)");
    const cJSON *regs = g->registries;
    _cleanup_free_ char *key =
        registry_key(p.index < argc ? argv[p.index] : registry_config_default(regs));
    if (!key || !*key)
        return cli_usage_error("login", "invalid registry");
    struct error *err _cleanup_error_ = NULL;
    _cleanup_(wipe_free) char *user = user_arg ? strdup(user_arg) : NULL;
    _cleanup_(wipe_free) char *pass = NULL;
    if (from_stdin) {
        if (!user)
            return cli_usage_error("login", "--password-stdin needs --username");
        if (read_line(stdin, &pass, &err) < 0)
            return cli_report("login", err);
    } else {
        if (!isatty(STDIN_FILENO))
            return cli_usage_error("login", "not a terminal: use --password-stdin");
        if (!user && prompt("Username", false, &user, &err) < 0)
            return cli_report("login", err);
        if (prompt("Password", true, &pass, &err) < 0)
            return cli_report("login", err);
    }
    if (!user || !*user || strchr(user, ':'))
        return cli_usage_error("login", "a user name is needed, without ':'");
    if (!pass || !*pass)
        return cli_usage_error("login", "empty password");
    const char *host = registry_endpoint(key);
    struct registry_options ro = {
        .host = host,
        .insecure = !tls_verify || registry_config_insecure(regs, host),
        .username = user,
        .password = pass,
    };
    struct registry_client *c = NULL;
    int r = registry_client_new(&ro, &c, &err);
    if (r == 0)
        r = registry_check_login(c, &err);
    registry_client_free(c);
    if (r < 0)
        return cli_report("login", err);
    _cleanup_free_ char *path = auth_file_path(authfile_arg);
    if (auth_file_set(path, key, user, pass, &err) < 0)
        return cli_report("login", err);
    printf("Login Succeeded\n");
    return 0;
}

int cmd_logout(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"help", 'h', 0, 1}, {"authfile", 0, 1, 2}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "logout");
    const char *v, *authfile_arg = NULL;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(logout_help, stdout);
            return 0;
        }
        authfile_arg = v;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index > 1)
        return cli_usage_error("logout", "expects at most one REGISTRY (see --help)");
    _cleanup_free_ char *key =
        registry_key(p.index < argc ? argv[p.index] : registry_config_default(g->registries));
    if (!key || !*key)
        return cli_usage_error("logout", "invalid registry");
    _cleanup_free_ char *path = auth_file_path(authfile_arg);
    struct error *err _cleanup_error_ = NULL;
    if (auth_file_remove(path, key, &err) < 0)
        return cli_report("logout", err);
    printf("Removed login credentials for %s\n", key);
    return 0;
}
