/* NULL-terminated string vectors (freed with strv_free, util/cleanup.h). */
#ifndef BERTH_STRV_H
#define BERTH_STRV_H

#include <cjson/cJSON.h>

/* Appends a copy of S to *V (NULL: an empty vector); 0, or -ENOMEM. */
int strv_append(char ***v, const char *s);
/* The strings of the JSON array ARR (anything else: none), as a new vector. */
char **strv_from_json(const cJSON *arr);

#endif
