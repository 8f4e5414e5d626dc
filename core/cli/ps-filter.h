/*
 * berth ps --filter KEY=VALUE, as docker's: label=K or label=K=V, name=S
 * (part of the name), id=PREFIX, status=created|running|paused|exited,
 * ancestor=IMAGE (the name the container was made from, or its image id).
 * Filters of one key match if any does, of different keys if all do; every
 * label filter must match.
 */
#ifndef BERTH_PS_FILTER_H
#define BERTH_PS_FILTER_H

#include <cjson/cJSON.h>

struct ps_filter {
    char **labels, **names, **ids, **statuses, **ancestors; /* NULL-terminated or NULL */
};

/* Adds SPEC; -EINVAL with *WHY (static text) for an unknown key or value. */
int ps_filter_add(struct ps_filter *f, const char *spec, const char **why);
/* Pure: whether the record REC passes F. */
int ps_filter_match(const struct ps_filter *f, const cJSON *rec);
/* Whether F names a status: then ps looks at every container, as with -a. */
int ps_filter_has_status(const struct ps_filter *f);
void ps_filter_clear(struct ps_filter *f);

#endif
