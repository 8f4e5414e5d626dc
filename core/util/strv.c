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
