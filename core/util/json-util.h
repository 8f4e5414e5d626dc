/* cJSON ownership helpers. */
#ifndef BERTH_JSON_UTIL_H
#define BERTH_JSON_UTIL_H

#include <cjson/cJSON.h>

static inline void cjson_deletep(cJSON **p)
{
    if (*p)
        cJSON_Delete(*p);
}

#define _cleanup_json_ __attribute__((cleanup(cjson_deletep)))

#endif
