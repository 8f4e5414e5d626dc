/*
 * --filter KEY=VALUE for `berth events`: container= (id, id prefix or name),
 * event= (event name), image= (as the container was created from). As
 * docker: values of one key are alternatives, different keys must all match.
 */
#ifndef BERTH_EVENT_FILTER_H
#define BERTH_EVENT_FILTER_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct event_filter {
    char **containers, **events, **images; /* NULL-terminated or NULL */
};

/* Adds "KEY=VALUE"; -EINVAL for a malformed one, -ENOENT for an unknown key. */
int event_filter_add(struct event_filter *f, const char *spec);
/* 1 if the event line EV (parsed) passes. */
int event_filter_match(const struct event_filter *f, const cJSON *ev);
void event_filter_clear(struct event_filter *f);

#endif
