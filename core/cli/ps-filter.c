/* berth ps --filter (ps-filter.h). */
#include "cli/ps-filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image-ref.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/strv.h"

int ps_filter_add(struct ps_filter *f, const char *spec, const char **why)
{
    static const char *const states[] = {"created", "running", "paused", "exited"};
    const char *eq = strchr(spec, '=');
    *why = "expected KEY=VALUE";
    if (!eq || eq == spec || !eq[1])
        return -EINVAL;
    size_t klen = (size_t)(eq - spec);
    const char *value = eq + 1;
    if (klen == 5 && !strncmp(spec, "label", 5))
        return strv_append(&f->labels, value);
    if (klen == 4 && !strncmp(spec, "name", 4))
        return strv_append(&f->names, value);
    if (klen == 2 && !strncmp(spec, "id", 2))
        return strv_append(&f->ids, value);
    if (klen == 8 && !strncmp(spec, "ancestor", 8))
        return strv_append(&f->ancestors, value);
    if (klen == 6 && !strncmp(spec, "status", 6)) {
        for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
            if (!strcmp(value, states[i]))
                return strv_append(&f->statuses, value);
        *why = "status is one of created, running, paused, exited";
        return -EINVAL;
    }
    *why = "the keys are label, name, id, status and ancestor";
    return -EINVAL;
}

/* Whether any of V passes TEST(REC, it); true when V is empty. */
static int any(char *const *v, int (*test)(const cJSON *rec, const char *want), const cJSON *rec)
{
    if (!v || !v[0])
        return 1;
    for (size_t i = 0; v[i]; i++)
        if (test(rec, v[i]))
            return 1;
    return 0;
}

static int has_label(const cJSON *rec, const char *want)
{
    const char *eq = strchr(want, '=');
    size_t klen = eq ? (size_t)(eq - want) : strlen(want);
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(rec, "labels"))
    {
        if (l->string && strlen(l->string) == klen && !strncmp(l->string, want, klen) &&
            (!eq || (cJSON_IsString(l) && !strcmp(l->valuestring, eq + 1))))
            return 1;
    }
    return 0;
}

static int name_has(const cJSON *rec, const char *want)
{
    const char *name = rec_str(rec, "name");
    return name && strstr(name, want) != NULL;
}

static int id_starts(const cJSON *rec, const char *want)
{
    const char *id = rec_str(rec, "id");
    return id && !strncmp(id, want, strlen(want));
}

static int state_is(const cJSON *rec, const char *want)
{
    const char *state = rec_str(rec, "state");
    return state && !strcmp(state, want);
}

static int made_from(const cJSON *rec, const char *want)
{
    const char *image = rec_str(rec, "image"), *id = rec_str(rec, "image_id");
    const char *hex = id && !strncmp(id, "sha256:", 7) ? id + 7 : id;
    size_t n = strlen(want);
    if ((id && !strcmp(id, want)) || (hex && n >= 4 && !strncmp(hex, want, n)))
        return 1;
    /* busybox, busybox:latest and docker.io/library/busybox:latest are one. */
    _cleanup_free_ char *a = image ? image_ref_normalize(image) : NULL;
    _cleanup_free_ char *b = image_ref_normalize(want);
    return a && b && !strcmp(a, b);
}

int ps_filter_match(const struct ps_filter *f, const cJSON *rec)
{
    for (size_t i = 0; f->labels && f->labels[i]; i++)
        if (!has_label(rec, f->labels[i]))
            return 0;
    return any(f->names, name_has, rec) && any(f->ids, id_starts, rec) &&
           any(f->statuses, state_is, rec) && any(f->ancestors, made_from, rec);
}

int ps_filter_has_status(const struct ps_filter *f)
{
    return f->statuses && f->statuses[0];
}

void ps_filter_clear(struct ps_filter *f)
{
    char **all[] = {f->labels, f->names, f->ids, f->statuses, f->ancestors};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
        for (size_t i = 0; all[k] && all[k][i]; i++)
            free(all[k][i]);
        free(all[k]);
    }
    *f = (struct ps_filter){0};
}
