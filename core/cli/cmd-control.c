/* berth stop, kill, restart, wait, logs and attach: verbs on a running container. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/container-control.h"
#include "lifecycle/lifecycle.h"
#include "monitor/json-log.h"
#include "monitor/monitor-options.h"
#include "monitor/monitor.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/time-spec.h"

static int parse_seconds(const char *verb, const char *v, int *ret)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < 0 || n > 1000000)
        return cli_usage_error(verb, "invalid timeout '%s': not a number of seconds", v);
    *ret = (int)n;
    return 0;
}

/* stop and restart: [-t SECONDS] CONTAINER... */
static int stop_or_restart(struct cli_globals *g, int argc, char **argv, int restart)
{
    const char *verb = argv[0];
    static const struct cli_option opts[] = {
        {"time", 't', 1, 1}, {"timeout", 0, 1, 1}, {"help", 0, 0, 2}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v;
    int id, timeout = -1;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 2) {
            printf("Usage: berth %s [-t SECONDS] CONTAINER...\n\n%s\n\n"
                   "Options:\n"
                   "  -t, --time SECONDS   wait this long after the stop signal before SIGKILL\n"
                   "                       (default 10)\n"
                   "      --help           print this help\n",
                   verb,
                   restart ? "Stop containers, then start them again detached."
                           : "Stop running containers: the stop signal (--stop-signal, default\n"
                             "SIGTERM), then SIGKILL after the timeout.");
            return 0;
        }
        if (parse_seconds(verb, v, &timeout))
            return EXIT_BERTH_ERROR;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error(verb, "expected at least one container");
    struct engine *e = NULL;
    int status = cli_open_engine(g, verb, &e);
    if (status)
        return status;
    for (int i = p.index; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        int r = container_stop(e, argv[i], timeout, &err);
        if (r == 0 && restart)
            r = container_start_detached(e, argv[i], &err);
        if (r < 0)
            status = cli_report(verb, err);
        else
            printf("%s\n", argv[i]);
    }
    engine_free(e);
    return status;
}

int cmd_stop(struct cli_globals *g, int argc, char **argv)
{
    return stop_or_restart(g, argc, argv, 0);
}

int cmd_restart(struct cli_globals *g, int argc, char **argv)
{
    return stop_or_restart(g, argc, argv, 1);
}

int cmd_kill(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"signal", 's', 1, 1}, {"help", 0, 0, 2}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "kill");
    const char *v;
    int id, sig = SIGKILL;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 2) {
            printf("Usage: berth kill [-s SIGNAL] CONTAINER...\n\n"
                   "Send a signal (default SIGKILL) to running containers.\n\n"
                   "Options:\n"
                   "  -s, --signal SIG   a name (TERM, SIGTERM) or a number\n"
                   "      --help         print this help\n");
            return 0;
        }
        sig = signal_parse(v);
        if (sig < 0)
            return cli_usage_error("kill", "invalid signal '%s'", v);
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error("kill", "expected at least one container");
    struct engine *e = NULL;
    int status = cli_open_engine(g, "kill", &e);
    if (status)
        return status;
    for (int i = p.index; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        if (container_kill(e, argv[i], sig, &err) < 0)
            status = cli_report("kill", err);
        else
            printf("%s\n", argv[i]);
    }
    engine_free(e);
    return status;
}

int cmd_wait(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("wait", "expected at least one container");
    if (cli_is_help(argv[1])) {
        printf("Usage: berth wait CONTAINER...\n\n"
               "Wait until containers stop, then print their exit statuses.\n");
        return 0;
    }
    struct engine *e = NULL;
    int status = cli_open_engine(g, "wait", &e);
    if (status)
        return status;
    for (int i = 1; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        int code = 0;
        if (container_wait(e, argv[i], &code, &err) < 0)
            status = cli_report("wait", err);
        else
            printf("%d\n", code);
        fflush(stdout);
    }
    engine_free(e);
    return status;
}

/* --- logs ------------------------------------------------------------------ */

struct logs_ctx {
    struct engine *e;
    const char *id;
    int timestamps;
};

static int logs_alive(void *ctx)
{
    struct logs_ctx *c = ctx;
    return container_lock_held(c->e, c->id);
}

static int logs_print(void *ctx, const struct log_entry *en)
{
    struct logs_ctx *c = ctx;
    FILE *out = en->stream == 2 ? stderr : stdout;
    if (c->timestamps)
        fprintf(out, "%s ", en->time);
    if (fwrite(en->data, 1, en->len, out) != en->len)
        return -EPIPE;
    if (c->timestamps || en->stream == 2)
        fflush(out);
    return 0;
}

int cmd_logs(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"follow", 'f', 0, 1}, {"tail", 'n', 1, 2},
                                             {"since", 0, 1, 3},    {"timestamps", 't', 0, 4},
                                             {"help", 0, 0, 5},     {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "logs");
    const char *v;
    int id;
    struct log_read_options o = {.tail = -1, .alive = logs_alive};
    struct logs_ctx c = {0};
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        switch (id) {
        case 1:
            o.follow = 1;
            break;
        case 2: {
            char *end = NULL;
            if (!strcmp(v, "all")) {
                o.tail = -1;
                break;
            }
            errno = 0;
            o.tail = strtol(v, &end, 10);
            if (!*v || *end || errno || o.tail < 0)
                return cli_usage_error("logs", "invalid --tail '%s': a number or 'all'", v);
            break;
        }
        case 3:
            if (parse_time_spec(v, time_now_ns(), &o.since_ns) < 0)
                return cli_usage_error("logs",
                                       "invalid --since '%s': a time (RFC 3339, unix seconds) "
                                       "or a duration like 10m",
                                       v);
            break;
        case 4:
            c.timestamps = 1;
            break;
        default:
            printf("Usage: berth logs [-f] [--tail N] [--since TIME] [-t] CONTAINER\n\n"
                   "Print the output of a detached container (json-file log).\n\n"
                   "Options:\n"
                   "  -f, --follow        keep printing new output until the container stops\n"
                   "  -n, --tail N        only the last N lines ('all': every line)\n"
                   "      --since TIME    only output since TIME: RFC 3339, unix seconds or a\n"
                   "                      duration before now (10m, 1h30m)\n"
                   "  -t, --timestamps    prefix each line with its RFC 3339 time\n"
                   "      --help          print this help\n");
            return 0;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc - 1)
        return cli_usage_error("logs", "expected exactly one container");
    struct engine *e = NULL;
    int status = cli_open_engine(g, "logs", &e);
    if (status)
        return status;
    struct error *err _cleanup_error_ = NULL;
    cJSON *rec = NULL;
    if (container_store_find(e->containers, argv[p.index], &rec, &err) < 0) {
        engine_free(e);
        return cli_report("logs", err);
    }
    _cleanup_free_ char *path = rec_str(rec, "log_path") ? strdup(rec_str(rec, "log_path"))
                                                         : xasprintf("%s/containers/%s/json.log",
                                                                     g->root, rec_str(rec, "id"));
    c.e = e;
    c.id = rec_str(rec, "id");
    o.ctx = &c;
    (void)signal(SIGPIPE, SIG_IGN);
    if (json_log_read(path, &o, logs_print, &c, &err) < 0)
        status = cli_report("logs", err);
    fflush(stdout);
    cJSON_Delete(rec);
    engine_free(e);
    return status;
}

/* --- attach ---------------------------------------------------------------- */

static struct termios saved_tio;
static int tio_saved;

static void restore_terminal(void)
{
    if (tio_saved)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
    tio_saved = 0;
}

static int connect_attach(const char *run_dir, struct error **err)
{
    _cleanup_close_ int dir = open(run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return error_set(err, errno, "open '%s'", run_dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return error_set(err, errno, "socket");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dir, MONITOR_ATTACH_SOCKET);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int saved = errno;
        close(fd);
        return error_set(err, saved, "connect to the container's monitor");
    }
    return fd;
}

static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void write_full(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Relays until the container ends (1) or the user types the detach keys (0). */
static int attach_relay(int sock, const unsigned char *keys, int n_keys)
{
    int matched = 0, stdin_open = 1;
    static char buf[65536];
    for (;;) {
        struct pollfd p[2] = {{sock, POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (p[0].revents) {
            struct attach_frame_header h;
            if (read_full(sock, &h, sizeof(h)) < 0)
                return 1;
            while (h.len > 0) {
                size_t n = h.len > sizeof(buf) ? sizeof(buf) : h.len;
                if (read_full(sock, buf, n) < 0)
                    return 1;
                write_full(h.stream == 2 ? STDERR_FILENO : STDOUT_FILENO, buf, n);
                h.len -= (unsigned int)n;
            }
        }
        if (p[1].revents) {
            ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
            if (r <= 0) {
                stdin_open = 0;
                continue;
            }
            /* The detach sequence is held back while it may still match. */
            char out[sizeof(buf) + DETACH_KEYS_MAX];
            size_t n_out = 0;
            for (ssize_t i = 0; i < r; i++) {
                unsigned char ch = (unsigned char)buf[i];
                if (n_keys > 0 && ch == keys[matched]) {
                    if (++matched == n_keys)
                        return 0;
                    continue;
                }
                memcpy(out + n_out, keys, (size_t)matched);
                n_out += (size_t)matched;
                matched = 0;
                out[n_out++] = (char)ch;
            }
            write_full(sock, out, n_out);
        }
    }
}

int cmd_attach(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"detach-keys", 0, 1, 1}, {"help", 0, 0, 2}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "attach");
    const char *v;
    int id;
    unsigned char keys[DETACH_KEYS_MAX];
    int n_keys = 0;
    detach_keys_parse("ctrl-p,ctrl-q", keys, &n_keys);
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 2) {
            printf("Usage: berth attach [--detach-keys KEYS] CONTAINER\n\n"
                   "Attach to a detached container's output (and its input or terminal when\n"
                   "it was run with -i or -t). Detach with ctrl-p ctrl-q; the exit status is\n"
                   "the container's when it ends.\n\n"
                   "Options:\n"
                   "      --detach-keys KEYS   the detach sequence, e.g. ctrl-x or ctrl-p,ctrl-q\n"
                   "      --help               print this help\n");
            return 0;
        }
        if (detach_keys_parse(v, keys, &n_keys) < 0)
            return cli_usage_error("attach", "invalid detach keys '%s': e.g. ctrl-p,ctrl-q", v);
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc - 1)
        return cli_usage_error("attach", "expected exactly one container");
    struct engine *e = NULL;
    int status = cli_open_engine(g, "attach", &e);
    if (status)
        return status;
    struct error *err _cleanup_error_ = NULL;
    cJSON *rec = NULL;
    if (container_store_find(e->containers, argv[p.index], &rec, &err) < 0) {
        engine_free(e);
        return cli_report("attach", err);
    }
    _cleanup_free_ char *run_dir = xasprintf("%s/containers/%s", g->runroot, rec_str(rec, "id"));
    _cleanup_free_ char *id_s = strdup(rec_str(rec, "id"));
    int tty = cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "process"), "terminal"));
    const char *state = rec_str(rec, "state");
    int running = state && !strcmp(state, "running") && rec_int(rec, "monitor_pid", 0) > 0 &&
                  container_lock_held(e, id_s);
    cJSON_Delete(rec);
    if (!running) {
        engine_free(e);
        return cli_usage_error("attach", "container '%s' is not running detached", argv[p.index]);
    }
    _cleanup_close_ int sock = connect_attach(run_dir, &err);
    if (sock < 0) {
        engine_free(e);
        return cli_report("attach", err);
    }
    if (tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        cfmakeraw(&raw);
        tio_saved = 1;
        (void)atexit(restore_terminal); /* fails only past 32 handlers */
        tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
    }
    (void)signal(SIGPIPE, SIG_IGN);
    int ended = attach_relay(sock, keys, n_keys);
    restore_terminal();
    if (ended) {
        int code = 0;
        struct error *werr _cleanup_error_ = NULL;
        status = container_wait(e, id_s, &code, &werr) < 0 ? 0 : code;
    } else {
        status = 0;
    }
    engine_free(e);
    return status;
}
