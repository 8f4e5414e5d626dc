/* SPDX-License-Identifier: MIT */
/*
 * The hook contract (<berth/hook.h>) as checks: a synthetic lifecycle
 * delivered in berth's order (create … deleted, each with the fields berth
 * sets at that point); every answer is 0 or a negative errno; a refusal in
 * the pre phase carries a message; post-phase events are never refused;
 * events from a newer berth (a larger struct, an unknown type, NULL optional
 * fields) do not crash the plugin; lifecycles of several containers at once.
 * Deliveries run in a child process, so a crash fails the case instead of
 * the suite.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conformance.h"

#define N_EVENTS 10

static const char *const event_names[N_EVENTS + 1] = {
    NULL,       "create",  "prepare-storage", "mount-volumes", "join-network", "create-process",
    "prestart", "started", "exited",          "stopped",       "deleted",
};

/* What a child saw, in memory shared with the parent. */
struct delivery {
    int delivered; /* events handed over so far */
    int ret[N_EVENTS + 2];
    char msg[N_EVENTS + 2][256];
};

/* A struct berth_event followed by members a future berth might add. */
struct future_event {
    struct berth_event event;
    uint64_t added_later[8];
};

static void fill_event(struct berth_event *ev, uint32_t type, const char *id, const char *bundle)
{
    memset(ev, 0, sizeof(*ev));
    ev->size = sizeof(*ev);
    ev->type = type;
    ev->phase = type <= BERTH_EVENT_PRESTART ? BERTH_PHASE_PRE : BERTH_PHASE_POST;
    ev->pid = type == BERTH_EVENT_PRESTART || type == BERTH_EVENT_STARTED ? (int32_t)getpid() : 0;
    ev->exit_status = type >= BERTH_EVENT_EXITED ? 0 : -1;
    ev->event_name = event_names[type];
    ev->container_id = id;
    ev->container_name = "conformance";
    ev->image = "conformance:latest";
    ev->netns_path = NULL;
    ev->bundle = type >= BERTH_EVENT_PRESTART ? bundle : NULL;
}

static int deliver(struct conformance *c, const struct berth_event *ev, struct delivery *d,
                   int slot)
{
    const struct berth_hook_ops *ops = c->desc->ops;
    int r = ops->on_event(c->state, ev, NULL, c->err);
    d->ret[slot] = r;
    const char *t = c->error_text ? c->error_text(c) : NULL;
    snprintf(d->msg[slot], sizeof(d->msg[slot]), "%s", t ? t : "");
    if (c->error_reset)
        c->error_reset(c);
    d->delivered = slot + 1;
    return r;
}

/* The lifecycle of container ID, stopping after a refusal as berth does
 * (it then rolls back and sends "deleted"). */
static int lifecycle(struct conformance *c, const char *id, struct delivery *d)
{
    char bundle[1024];
    snprintf(bundle, sizeof(bundle), "%s/bundle-%s", c->work_dir, id);
    for (uint32_t type = BERTH_EVENT_CREATE; type <= BERTH_EVENT_DELETED; type++) {
        struct berth_event ev;
        fill_event(&ev, type, id, bundle);
        int r = deliver(c, &ev, d, (int)type);
        if (r < 0 && ev.phase == BERTH_PHASE_PRE) {
            fill_event(&ev, BERTH_EVENT_DELETED, id, NULL);
            ev.exit_status = -1;
            deliver(c, &ev, d, N_EVENTS + 1);
            return 1;
        }
    }
    return 0;
}

/* Runs FN in a child process with a shared struct delivery. Returns the
 * child's wait status; *RET_D is the shared memory (munmap by the caller). */
static int isolated(struct conformance *c, const char *id,
                    int (*fn)(struct conformance *c, const char *id, struct delivery *d),
                    struct delivery **ret_d)
{
    struct delivery *d =
        mmap(NULL, sizeof(*d), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (d == MAP_FAILED)
        return -1;
    memset(d, 0, sizeof(*d));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        munmap(d, sizeof(*d));
        return -1;
    }
    if (pid == 0) {
        fn(c, id, d);
        fflush(NULL);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    *ret_d = d;
    return status;
}

static int is_errno(int r)
{
    return r <= 0 && r >= -4095;
}

static void case_lifecycle(struct conformance *c, const char *id)
{
    struct delivery *d = NULL;
    int status = isolated(c, id, lifecycle, &d);
    if (status < 0) {
        conf_fail(c, "lifecycle", "cannot fork: %s", strerror(errno));
        return;
    }
    if (WIFSIGNALED(status)) {
        int at = d->delivered + 1;
        conf_fail(c, "lifecycle events are delivered without a crash",
                  "killed by signal %d at event '%s'", WTERMSIG(status),
                  at <= N_EVENTS ? event_names[at] : "?");
    } else {
        conf_ok(c, "lifecycle events are delivered without a crash");
    }
    int refused_at = 0;
    int bad = 0;
    char why[512] = "";
    for (int type = 1; type <= N_EVENTS && type <= d->delivered; type++) {
        int r = d->ret[type];
        int pre = type <= (int)BERTH_EVENT_PRESTART;
        if (!is_errno(r)) {
            snprintf(why, sizeof(why), "'%s' returned %d, not 0 or a negative errno",
                     event_names[type], r);
            bad = 1;
        } else if (r < 0 && pre) {
            refused_at = type;
            break;
        } else if (r < 0 && !pre && !bad) {
            snprintf(why, sizeof(why), "post-phase '%s' returned %d (%s): %s", event_names[type], r,
                     strerror(-r), d->msg[type]);
            bad = 2;
        }
    }
    conf_check(c, bad != 1, "every answer is 0 or a negative errno", "%s", why);
    conf_check(c, bad != 2, "post-phase events are observed, not refused", "%s", why);
    if (refused_at) {
        const char *msg = d->msg[refused_at];
        char name[160];
        snprintf(name, sizeof(name), "the refusal of '%s' says why (set_error)",
                 event_names[refused_at]);
        conf_check(c, msg[0] != '\0', name, "returned %d with no message", d->ret[refused_at]);
        int r = d->ret[N_EVENTS + 1];
        conf_check(c, d->delivered == N_EVENTS + 2 && is_errno(r),
                   "after a refusal, 'deleted' is delivered", "delivered %d events, returned %d",
                   d->delivered, r);
    } else if (d->delivered >= N_EVENTS) {
        conf_ok(c, "the whole lifecycle create … deleted is accepted");
    }
    munmap(d, sizeof(*d));
}

static int future_events(struct conformance *c, const char *id, struct delivery *d)
{
    struct future_event fe;
    memset(&fe, 0, sizeof(fe));
    fill_event(&fe.event, BERTH_EVENT_STARTED, id, NULL);
    fe.event.size = sizeof(fe);
    for (int i = 0; i < 8; i++)
        fe.added_later[i] = 0xdeadbeefcafef00dull;
    deliver(c, &fe.event, d, 1);

    fill_event(&fe.event, BERTH_EVENT_STARTED, id, NULL);
    fe.event.size = sizeof(fe);
    fe.event.type = 99;
    fe.event.phase = BERTH_PHASE_POST;
    fe.event.event_name = "conformance-future-event";
    deliver(c, &fe.event, d, 2);

    struct berth_event bare;
    fill_event(&bare, BERTH_EVENT_EXITED, id, NULL);
    bare.container_name = NULL;
    bare.image = NULL;
    bare.bundle = NULL;
    bare.netns_path = NULL;
    deliver(c, &bare, d, 3);
    return 0;
}

static void case_future(struct conformance *c, const char *id)
{
    struct delivery *d = NULL;
    int status = isolated(c, id, future_events, &d);
    if (status < 0) {
        conf_fail(c, "future events", "cannot fork: %s", strerror(errno));
        return;
    }
    static const char *const what[] = {
        NULL,
        "an event struct larger than the plugin knows is handled",
        "an unknown event type is handled",
        "an event with NULL optional fields is handled",
    };
    for (int i = 1; i <= 3; i++) {
        if (WIFSIGNALED(status) && d->delivered < i)
            conf_fail(c, what[i], "killed by signal %d", WTERMSIG(status));
        else if (d->delivered < i)
            conf_fail(c, what[i], "not delivered");
        else
            conf_check(c, is_errno(d->ret[i]), what[i], "returned %d", d->ret[i]);
        if (WIFSIGNALED(status) && d->delivered < i)
            break;
    }
    munmap(d, sizeof(*d));
}

static int parallel_worker(struct conformance *c, unsigned i, void *arg)
{
    (void)arg;
    char id[128];
    snprintf(id, sizeof(id), "%s-par-%u", c->token, i);
    static struct delivery d;
    memset(&d, 0, sizeof(d));
    lifecycle(c, id, &d);
    for (int t = 1; t < d.delivered; t++)
        if (!is_errno(d.ret[t])) {
            printf("# worker %u: '%s' returned %d\n", i, event_names[t], d.ret[t]);
            return 1;
        }
    return 0;
}

static void case_parallel(struct conformance *c)
{
    char name[96];
    snprintf(name, sizeof(name), "%u lifecycles delivered at once from forked processes",
             c->concurrency);
    int failed = conf_parallel(c, c->concurrency, parallel_worker, NULL);
    conf_check(c, failed == 0, name, "%d of %u failed", failed, c->concurrency);
}

static void case_gc(struct conformance *c)
{
    const struct berth_hook_ops *ops = c->desc->ops;
    if (ops->size < offsetof(struct berth_hook_ops, gc) + sizeof(ops->gc) || !ops->gc) {
        conf_skip(c, "gc", "the hook has no gc (it may be NULL)");
        return;
    }
    const char *none[] = {NULL};
    struct berth_gc_request req = {
        .size = sizeof(req), .container_ids = none, .layer_ids = none, .object_ids = none};
    int r = ops->gc(c->state, &req, NULL, c->err);
    conf_check(c, r == 0, "gc with an empty keep-set", "%s", conf_why(c, r));
}

int conformance_hook(struct conformance *c)
{
    unsigned before = c->n_fail;
    char id[128];
    snprintf(id, sizeof(id), "%s-hooked", c->token);
    case_lifecycle(c, id);
    case_lifecycle(c, id);
    case_future(c, id);
    case_parallel(c);
    case_gc(c);
    return (int)(c->n_fail - before);
}
