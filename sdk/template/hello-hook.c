/* SPDX-License-Identifier: MIT */
/*
 * hello: the smallest useful berth plugin, a hook that logs every lifecycle
 * event through berth's log. Copy this directory to start a plugin.
 *
 * A plugin keeps no global state: what it needs lives behind the state
 * pointer that init returns and every operation receives.
 */
#include <errno.h>
#include <stdlib.h>

#include <berth/hook.h>

struct hello {
    const struct berth_services *services; /* valid until fini */
};

static int hello_init(const struct berth_services *services, void **ret_state)
{
    struct hello *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->services = services;
    *ret_state = h;
    return 0;
}

static void hello_fini(void *state)
{
    free(state);
}

static int hello_on_event(void *state, const struct berth_event *event, void *res,
                          struct berth_error *err)
{
    struct hello *h = state;
    (void)res;
    (void)err;
    h->services->log(h->services->host, BERTH_LOG_INFO, "hello: %s %s (%s)", event->event_name,
                     event->container_id ? event->container_id : "-",
                     event->phase == BERTH_PHASE_PRE ? "pre" : "post");
    return 0; /* a negative errno in the pre phase would refuse the step */
}

static const struct berth_hook_ops hello_ops = {
    .size = sizeof(struct berth_hook_ops),
    .on_event = hello_on_event,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_HOOK, "hello", "1.0", "logs every lifecycle event", 0, hello_init,
                    hello_fini, &hello_ops)
