/* String vectors (strv.h). */
#include "util/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int strv_append(char ***v, const char *s)
{
    size_t n = 0;
    while (*v && (*v)[n])
        n++;
    char **grown = realloc(*v, (n + 2) * sizeof(char *));
    if (!grown)
        return -ENOMEM;
    *v = grown;
    if (!(grown[n] = strdup(s)))
        return -ENOMEM;
    grown[n + 1] = NULL;
    return 0;
}

char **strv_from_json(const cJSON *arr)
{
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    char **v = calloc((size_t)n + 1, sizeof(char *));
    if (!v)
        abort();
    int m = 0;
    for (int i = 0; i < n; i++) {
        const char *s = cJSON_GetStringValue(cJSON_GetArrayItem(arr, i));
        if (s && !(v[m++] = strdup(s)))
            abort();
    }
    return v;
}
