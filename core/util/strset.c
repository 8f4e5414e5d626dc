/* A set of strings by open addressing (strset.h). */
#include "util/strset.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char strset_tomb;

static uint64_t str_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

void strset_done(struct strset *set)
{
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i] && set->slots[i] != &strset_tomb)
            free(set->slots[i]);
    free(set->slots);
    *set = (struct strset){0};
}

/* The slot holding S[0..LEN) if present, else NULL. */
static char **strset_find(const struct strset *set, const char *s, size_t len)
{
    if (set->cap == 0)
        return NULL;
    size_t mask = set->cap - 1;
    for (size_t i = str_hash(s, len) & mask;; i = (i + 1) & mask) {
        char *slot = set->slots[i];
        if (!slot)
            return NULL;
        if (slot != &strset_tomb && strncmp(slot, s, len) == 0 && slot[len] == '\0')
            return &set->slots[i];
    }
}

bool strset_has(const struct strset *set, const char *s, size_t len)
{
    return strset_find(set, s, len) != NULL;
}

int strset_add(struct strset *set, const char *s, size_t len)
{
    if (strset_has(set, s, len))
        return 0;
    if ((set->used + 1) * 2 > set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 256;
        char **nslots = calloc(ncap, sizeof(*nslots));
        if (!nslots)
            return -ENOMEM;
        size_t live = 0;
        for (size_t i = 0; i < set->cap; i++) {
            char *e = set->slots[i];
            if (!e || e == &strset_tomb)
                continue;
            size_t j = str_hash(e, strlen(e)) & (ncap - 1);
            while (nslots[j])
                j = (j + 1) & (ncap - 1);
            nslots[j] = e;
            live++;
        }
        free(set->slots);
        set->slots = nslots;
        set->cap = ncap;
        set->used = live;
    }
    char *copy = strndup(s, len);
    if (!copy)
        return -ENOMEM;
    size_t j = str_hash(s, len) & (set->cap - 1);
    while (set->slots[j] && set->slots[j] != &strset_tomb)
        j = (j + 1) & (set->cap - 1);
    if (!set->slots[j])
        set->used++;
    set->slots[j] = copy;
    return 0;
}

void strset_del(struct strset *set, const char *s, size_t len)
{
    char **slot = strset_find(set, s, len);
    if (!slot)
        return;
    free(*slot);
    *slot = &strset_tomb;
}

void strset_del_below(struct strset *set, const char *dir)
{
    size_t n = strlen(dir) + 1;
    char *prefix = malloc(n + 1);
    if (!prefix)
        return;
    memcpy(prefix, dir, n - 1);
    memcpy(prefix + n - 1, "/", 2);
    for (size_t i = 0; i < set->cap; i++) {
        char *e = set->slots[i];
        if (e && e != &strset_tomb && !strncmp(e, prefix, n)) {
            free(e);
            set->slots[i] = &strset_tomb;
        }
    }
    free(prefix);
}

int strset_foreach(const struct strset *set, int (*fn)(void *ctx, const char *s), void *ctx)
{
    for (size_t i = 0; i < set->cap; i++) {
        const char *e = set->slots[i];
        int r = e && e != &strset_tomb ? fn(ctx, e) : 0;
        if (r < 0)
            return r;
    }
    return 0;
}
