/* SPDX-License-Identifier: MIT */
/*
 * journal: appends every lifecycle event as one JSON line to
 * STATE_DIR/events.jsonl, the seed of berth's event journal
 * (docs/plugins/journal.md).
 *
 * Each line is built in memory and written with a single write() on an
 * O_APPEND descriptor, so lines from concurrent berth processes never
 * interleave. The file is opened per event, not kept open: events are rare,
 * and a rotated or deleted file is simply recreated.
 *
 * The journal observes and never refuses: a failed write is logged and the
 * event goes on, since losing a record is better than failing a container.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <berth/hook.h>

struct journal {
    const struct berth_services *services;
    char *path; /* STATE_DIR/events.jsonl */
};

static int journal_init(const struct berth_services *services, void **ret_state)
{
    struct journal *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->services = services;
    if (asprintf(&j->path, "%s/events.jsonl", services->state_dir) < 0) {
        free(j);
        return -ENOMEM;
    }
    *ret_state = j;
    return 0;
}

static void journal_fini(void *state)
{
    struct journal *j = state;
    if (!j)
        return;
    free(j->path);
    free(j);
}

/* A growing line: appends never fail halfway, a failure is remembered. */
struct line {
    char *p;
    size_t len, cap;
    int failed;
};

static void line_put(struct line *l, const char *s, size_t n)
{
    if (l->failed)
        return;
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 512;
        while (cap < l->len + n + 1)
            cap *= 2;
        char *p = realloc(l->p, cap);
        if (!p) {
            l->failed = 1;
            return;
        }
        l->p = p;
        l->cap = cap;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
    l->p[l->len] = '\0';
}

static void line_str(struct line *l, const char *s)
{
    line_put(l, s, strlen(s));
}

/* S as a JSON string, or null. */
static void line_json(struct line *l, const char *s)
{
    if (!s) {
        line_str(l, "null");
        return;
    }
    line_str(l, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            line_put(l, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            line_str(l, esc);
        } else {
            line_put(l, (const char *)p, 1);
        }
    }
    line_str(l, "\"");
}

static void line_int(struct line *l, long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%ld", v);
    line_str(l, buf);
}

/* RFC 3339 UTC with nanoseconds, as OCI and containerd events print time. */
static void line_time(struct line *l)
{
    struct timespec ts;
    struct tm tm;
    char buf[64], out[80];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    (void)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sizeof(out), "\"%s.%09ldZ\"", buf, ts.tv_nsec);
    line_str(l, out);
}

static int journal_on_event(void *state, const struct berth_event *event, void *res,
                            struct berth_error *err)
{
    struct journal *j = state;
    struct line l = {0};
    (void)res;
    (void)err;

    line_str(&l, "{\"time\":");
    line_time(&l);
    line_str(&l, ",\"event\":");
    line_json(&l, event->event_name);
    line_str(&l, ",\"phase\":");
    line_json(&l, event->phase == BERTH_PHASE_PRE ? "pre" : "post");
    line_str(&l, ",\"id\":");
    line_json(&l, event->container_id);
    line_str(&l, ",\"name\":");
    line_json(&l, event->container_name);
    line_str(&l, ",\"image\":");
    line_json(&l, event->image);
    line_str(&l, ",\"pid\":");
    line_int(&l, event->pid);
    line_str(&l, ",\"exit_status\":");
    if (event->exit_status >= 0)
        line_int(&l, event->exit_status);
    else
        line_str(&l, "null");
    line_str(&l, "}\n");

    int r = 0;
    if (l.failed) {
        r = -ENOMEM;
    } else {
        int fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0) {
            r = -errno;
        } else {
            ssize_t n = write(fd, l.p, l.len);
            r = n < 0 ? -errno : (size_t)n != l.len ? -ENOSPC : 0;
            if (close(fd) < 0 && r == 0)
                r = -errno;
        }
    }
    if (r < 0)
        j->services->log(j->services->host, BERTH_LOG_WARNING,
                         "journal: record event '%s' of '%s' in '%s': %s",
                         event->event_name ? event->event_name : "?",
                         event->container_id ? event->container_id : "-", j->path, strerror(-r));
    free(l.p);
    return 0;
}

static const struct berth_hook_ops journal_ops = {
    .size = sizeof(struct berth_hook_ops),
    .on_event = journal_on_event,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_HOOK, "journal", "0.1.0",
                    "appends every lifecycle event as a JSON line to events.jsonl", 0, journal_init,
                    journal_fini, &journal_ops)
