/*
 * berth events: the core's event journal (ROOT/events.jsonl and its rotated
 * predecessor, events/event-log.h), past events from --since, then new ones
 * as they are appended (inotify on ROOT) until --until passes or the user
 * interrupts. Without --since only new events are shown, as docker.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "events/event-filter.h"
#include "events/event-log.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/time-spec.h"

struct events_ctx {
    int64_t since, until; /* ns; since < 0: none; until < 0: none */
    int json;
    struct event_filter filter;
    char *partial; /* an incomplete last line read so far */
    size_t partial_len;
};

static void print_line(struct events_ctx *c, const char *line)
{
    cJSON *ev = cJSON_Parse(line);
    if (!ev)
        return; /* a torn line of a crashed writer */
    int64_t t = 0;
    const char *stamp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "time"));
    if (!stamp || parse_time_spec(stamp, 0, &t) < 0 || (c->since >= 0 && t < c->since) ||
        (c->until >= 0 && t > c->until) || !event_filter_match(&c->filter, ev)) {
        cJSON_Delete(ev);
        return;
    }
    if (c->json) {
        printf("%s\n", line);
    } else {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "name"));
        const char *image = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "image"));
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(ev, "exit_status");
        printf("%s container %s %s (image=%s, name=%s", stamp,
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "event")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "id")), image ? image : "",
               name ? name : "");
        if (cJSON_IsNumber(status))
            printf(", exitCode=%d", status->valueint);
        printf(")\n");
    }
    fflush(stdout);
    cJSON_Delete(ev);
}

/* Reads what FD has from its offset on, printing complete lines. */
static void drain(struct events_ctx *c, int fd)
{
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        char *grown = realloc(c->partial, c->partial_len + (size_t)n + 1);
        if (!grown)
            return;
        c->partial = grown;
        memcpy(c->partial + c->partial_len, buf, (size_t)n);
        c->partial_len += (size_t)n;
        c->partial[c->partial_len] = '\0';
        char *start = c->partial, *nl;
        while ((nl = memchr(start, '\n', c->partial_len - (size_t)(start - c->partial)))) {
            *nl = '\0';
            print_line(c, start);
            start = nl + 1;
        }
        c->partial_len -= (size_t)(start - c->partial);
        memmove(c->partial, start, c->partial_len);
    }
}

static int same_file(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
           a.st_dev == b.st_dev;
}

static int follow(struct events_ctx *c, const char *root, int inotify_fd, int fd)
{
    _cleanup_free_ char *path = xasprintf("%s/" EVENT_LOG_FILE, root);
    for (;;) {
        int timeout = -1;
        if (c->until >= 0) {
            int64_t left = c->until - time_now_ns();
            if (left <= 0)
                return 0;
            timeout = left / 1000000 > INT_MAX ? INT_MAX : (int)(left / 1000000) + 1;
        }
        struct pollfd pfd = {.fd = inotify_fd, .events = POLLIN};
        int r = poll(&pfd, 1, timeout);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r > 0) {
            char evbuf[4096];
            while (read(inotify_fd, evbuf, sizeof(evbuf)) > 0)
                ;
        }
        if (fd >= 0)
            drain(c, fd);
        /* Rotated or made anew: finish the old file, then read the new one from its start. */
        if (fd < 0 || !same_file(fd, path)) {
            int nfd = open(path, O_RDONLY | O_CLOEXEC);
            if (nfd >= 0) {
                if (fd >= 0)
                    close(fd);
                fd = nfd;
                c->partial_len = 0;
                drain(c, fd);
            }
        }
    }
}

int cmd_events(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"since", 0, 1, 1},    {"until", 0, 1, 2},
                                             {"filter", 'f', 1, 3}, {"format", 0, 1, 4},
                                             {"help", 0, 0, 5},     {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "events");
    const char *v;
    int id, status = 0;
    int64_t now = time_now_ns();
    struct events_ctx c = {.since = -1, .until = -1};
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        int r = 0;
        switch (id) {
        case 1:
        case 2:
            r = parse_time_spec(v, now, id == 1 ? &c.since : &c.until);
            if (r < 0)
                status = cli_usage_error("events",
                                         "--%s '%s': not a time (RFC 3339, unix seconds or a "
                                         "duration like 10m)",
                                         id == 1 ? "since" : "until", v);
            break;
        case 3:
            r = event_filter_add(&c.filter, v);
            if (r < 0)
                status = cli_usage_error("events",
                                         r == -ENOENT ? "--filter '%s': unknown key (use "
                                                        "container, event or image)"
                                                      : "--filter '%s': expected KEY=VALUE",
                                         v);
            break;
        case 4:
            if (strcmp(v, "json") && strcmp(v, "table"))
                status = cli_usage_error("events", "unknown format '%s': use json or table", v);
            c.json = !strcmp(v, "json");
            break;
        default:
            printf("Usage: berth events [--since T] [--until T] [--filter K=V]... "
                   "[--format table|json]\n\n"
                   "Print containers' lifecycle events from berth's event journal: past ones\n"
                   "from --since, then new ones as they happen, until --until or interrupt.\n\n"
                   "Times: RFC 3339 (2026-11-28T19:20:00Z), unix seconds, or a duration\n"
                   "before now (10m, 1h30m).\n"
                   "Filters: container=ID|NAME, event=NAME, image=REF; a key given twice\n"
                   "matches either value.\n");
            event_filter_clear(&c.filter);
            return 0;
        }
        if (status)
            break;
    }
    if (id < 0 || status) {
        event_filter_clear(&c.filter);
        return EXIT_BERTH_ERROR;
    }
    if (p.index != argc) {
        event_filter_clear(&c.filter);
        return cli_usage_error("events", "unexpected argument '%s'", argv[p.index]);
    }
    struct error *err _cleanup_error_ = NULL;
    int r = mkdir_p(g->root, 0700, &err);
    /* Watch first, then read: nothing appended in between is missed. */
    _cleanup_close_ int inotify_fd = -1;
    if (r == 0) {
        inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (inotify_fd < 0 ||
            inotify_add_watch(inotify_fd, g->root,
                              IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM) < 0)
            r = error_set(&err, errno, "watch '%s'", g->root);
    }
    if (r < 0) {
        event_filter_clear(&c.filter);
        return cli_report("events", err);
    }
    int follow_on = c.until < 0 || c.until > now;
    if (c.since < 0)
        c.since = now; /* only new events */
    _cleanup_free_ char *rotated = xasprintf("%s/" EVENT_LOG_ROTATED, g->root);
    _cleanup_free_ char *path = xasprintf("%s/" EVENT_LOG_FILE, g->root);
    int old = open(rotated, O_RDONLY | O_CLOEXEC);
    if (old >= 0) {
        drain(&c, old);
        close(old);
        c.partial_len = 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        drain(&c, fd);
    if (follow_on)
        r = follow(&c, g->root, inotify_fd, fd);
    else if (fd >= 0)
        close(fd);
    free(c.partial);
    event_filter_clear(&c.filter);
    if (r < 0)
        return cli_report("events", NULL);
    return 0;
}
