/* The --filter of `berth events` (event-filter.h). */
#include "events/event-filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strv.h"

int event_filter_add(struct event_filter *f, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return -EINVAL;
    size_t klen = (size_t)(eq - spec);
    if (klen == 9 && !strncmp(spec, "container", klen))
        return strv_append(&f->containers, eq + 1);
    if (klen == 5 && !strncmp(spec, "event", klen))
        return strv_append(&f->events, eq + 1);
    if (klen == 5 && !strncmp(spec, "image", klen))
        return strv_append(&f->images, eq + 1);
    return -ENOENT;
}

static const char *str(const cJSON *ev, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, key));
    return s ? s : "";
}

static int any(char **values, const char *s)
{
    for (size_t i = 0; values && values[i]; i++)
        if (!strcmp(values[i], s))
            return 1;
    return 0;
}

int event_filter_match(const struct event_filter *f, const cJSON *ev)
{
    if (f->events && !any(f->events, str(ev, "event")))
        return 0;
    if (f->images && !any(f->images, str(ev, "image")))
        return 0;
    if (f->containers) {
        const char *id = str(ev, "id"), *name = str(ev, "name");
        int hit = 0;
        for (size_t i = 0; f->containers[i] && !hit; i++) {
            const char *c = f->containers[i];
            hit = !strcmp(c, name) || (*id && !strncmp(id, c, strlen(c)));
        }
        if (!hit)
            return 0;
    }
    return 1;
}

void event_filter_clear(struct event_filter *f)
{
    strvfreep(&f->containers);
    strvfreep(&f->events);
    strvfreep(&f->images);
    f->containers = f->events = f->images = NULL;
}
