/*
 * A set of strings (open addressing, FNV-1a): the paths a layer put, the
 * paths an image holds. Keys are copied; an empty set is {0}.
 */
#ifndef BERTH_STRSET_H
#define BERTH_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset {
    char **slots;
    size_t cap, used; /* used counts live entries and tombstones */
};

void strset_done(struct strset *set);
/* Whether S[0..LEN) is in SET. */
bool strset_has(const struct strset *set, const char *s, size_t len);
/* Adds S[0..LEN); 0, or -ENOMEM. */
int strset_add(struct strset *set, const char *s, size_t len);
void strset_del(struct strset *set, const char *s, size_t len);
/* Removes every key below DIR ("DIR/…"), not DIR itself (nothing without memory). */
void strset_del_below(struct strset *set, const char *dir);
/* FN(CTX, key) for every key, in no order, until FN returns < 0 (returned). */
int strset_foreach(const struct strset *set, int (*fn)(void *ctx, const char *s), void *ctx);

#endif
