/* SPDX-License-Identifier: MIT */
/* abi10-hook: a hook built against the frozen ABI 1.0 headers (tests/abi/):
 * it must keep loading and passing its suite with every later berth 1.x. */
#include <berth/hook.h>

static int hook_init(const struct berth_services *services, void **ret_state)
{
    (void)services;
    *ret_state = NULL;
    return 0;
}

static void hook_fini(void *state)
{
    (void)state;
}

static int hook_on_event(void *state, const struct berth_event *event, void *res,
                         struct berth_error *err)
{
    (void)state, (void)res, (void)err;
    return event && event->size >= sizeof(uint32_t) ? 0 : -22;
}

static const struct berth_hook_ops hook_ops = {
    .size = sizeof(struct berth_hook_ops),
    .on_event = hook_on_event,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_HOOK, "abi10-hook", "1.0", "ABI 1.0 fixture: a hook", 0, hook_init,
                    hook_fini, &hook_ops)
