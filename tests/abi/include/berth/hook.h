/* SPDX-License-Identifier: MIT */
/*
 * Hook plugins (BERTH_KIND_HOOK) see every lifecycle event the router routes.
 * Events whose phase is BERTH_PHASE_PRE happen before the named step: a hook
 * that returns a negative errno refuses the step and berth rolls back every
 * step already done. Events in BERTH_PHASE_POST report what happened; their
 * return value is logged and ignored.
 */
#ifndef BERTH_HOOK_H
#define BERTH_HOOK_H

#include <berth/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Lifecycle events, in the order a container meets them. */
#define BERTH_EVENT_CREATE 1u          /* pre: before anything is made */
#define BERTH_EVENT_PREPARE_STORAGE 2u /* pre: before the root filesystem is prepared */
#define BERTH_EVENT_MOUNT_VOLUMES 3u   /* pre: before volumes are mounted */
#define BERTH_EVENT_JOIN_NETWORK 4u    /* pre: before network drivers join */
#define BERTH_EVENT_CREATE_PROCESS 5u  /* pre: before the container process is made */
#define BERTH_EVENT_PRESTART 6u        /* pre: process made, before it runs the command */
#define BERTH_EVENT_STARTED 7u         /* post: the command runs */
#define BERTH_EVENT_EXITED 8u          /* post: the process exited; exit_status is set */
#define BERTH_EVENT_STOPPED 9u         /* post: network left, storage released */
#define BERTH_EVENT_DELETED 10u        /* post: the container is gone */

#define BERTH_PHASE_PRE 1u
#define BERTH_PHASE_POST 2u

/* A read-only view of the container at the event. Owned by the host. */
struct berth_event {
    uint32_t size;
    uint32_t type;          /* BERTH_EVENT_* */
    uint32_t phase;         /* BERTH_PHASE_* */
    int32_t pid;            /* container's pid on the host, 0 if none */
    int32_t exit_status;    /* as a shell reports it (128+signal), -1 if unknown */
    const char *event_name; /* "create", "prestart", … */
    const char *container_id;
    const char *container_name;
    const char *image;
    const char *netns_path; /* NULL if the container has no own network namespace file */
    const char *bundle;     /* the OCI bundle directory, NULL before it exists */
};

struct berth_hook_ops {
    uint32_t size; /* sizeof(struct berth_hook_ops) */
    /* Called for every event. In the pre phase a negative errno refuses. */
    int (*on_event)(void *state, const struct berth_event *event, void *res,
                    struct berth_error *err);
    /* Removes whatever the hook holds for containers not in REQ. May be NULL. */
    int (*gc)(void *state, const struct berth_gc_request *req, void *res, struct berth_error *err);
};

#ifdef __cplusplus
}
#endif

#endif
