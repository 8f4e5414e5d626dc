#include "image/image-history.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"

void image_history_free(struct image_history_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].created_by);
        free(rows[i].comment);
    }
    free(rows);
}

/* "2024-01-02T03:04:05[.frac](Z|±hh:mm)" → unix seconds; 0 if malformed. */
static long long parse_time(const char *s)
{
    struct tm tm = {0};
    const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!p)
        return 0;
    long long t = (long long)timegm(&tm);
    if (*p == '.')
        while (*++p >= '0' && *p <= '9')
            ;
    if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
        long long off =
            ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        t += *p == '+' ? -off : off;
    }
    return t;
}

static char *json_strdup(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

int image_history_parse(const char *config_json, const long long *layer_sizes, size_t n_layers,
                        struct image_history_row **ret, size_t *ret_n, struct error **err)
{
    cJSON *config = cJSON_Parse(config_json ? config_json : "");
    if (!cJSON_IsObject(config)) {
        cJSON_Delete(config);
        return error_set(err, 0, "image config is not a JSON object");
    }
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(config, "history");
    size_t n = cJSON_IsArray(hist) && cJSON_GetArraySize(hist) > 0
                   ? (size_t)cJSON_GetArraySize(hist)
                   : n_layers;
    struct image_history_row *rows = calloc(n ? n : 1, sizeof(*rows));
    int r = rows ? 0 : error_set(err, ENOMEM, "history");
    size_t layer = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        /* Oldest first in the config; newest first in the output. */
        struct image_history_row *row = &rows[n - 1 - i];
        const cJSON *h = cJSON_IsArray(hist) ? cJSON_GetArrayItem(hist, (int)i) : NULL;
        if (h && !cJSON_IsObject(h)) {
            r = error_set(err, 0, "image config: history entry %zu is not an object", i);
            break;
        }
        const cJSON *empty = cJSON_GetObjectItemCaseSensitive(h, "empty_layer");
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(h, "created");
        row->empty_layer = cJSON_IsTrue(empty);
        row->created = parse_time(cJSON_IsString(created) ? created->valuestring : NULL);
        row->created_by = json_strdup(h, "created_by");
        row->comment = json_strdup(h, "comment");
        if (!row->created_by || !row->comment) {
            r = error_set(err, ENOMEM, "history");
            break;
        }
        if (!row->empty_layer) {
            if (layer >= n_layers) {
                r = error_set(err, 0,
                              "image config: history lists more layers than the image has (%zu)",
                              n_layers);
                break;
            }
            row->size = layer_sizes[layer++];
        }
    }
    cJSON_Delete(config);
    if (r < 0) {
        image_history_free(rows, n);
        return r;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}
