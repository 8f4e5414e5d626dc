/* User namespace id maps and subordinate id files (userns-map.h). */
#include "runtime/userns-map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A decimal uint32 from S up to END (exclusive); no sign, no spaces. */
static int parse_u32(const char *s, const char *end, uint32_t *ret)
{
    if (s == end || end - s > 10)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *ret = (uint32_t)v;
    return 0;
}

/* [a, a+n) and [b, b+m) share an id (64-bit: no wrap). */
static int overlaps(uint32_t a, uint32_t n, uint32_t b, uint32_t m)
{
    return (uint64_t)a < (uint64_t)b + m && (uint64_t)b < (uint64_t)a + n;
}

int id_map_add(struct id_map *map, const struct id_range *r, const char *what, struct error **err)
{
    if (r->size == 0)
        return error_set_plain(err, EINVAL, "%s '%u:%u:%u': the size must be at least 1", what,
                               r->container, r->host, r->size);
    if ((uint64_t)r->container + r->size - 1 > UINT32_MAX - 1 ||
        (uint64_t)r->host + r->size - 1 > UINT32_MAX - 1)
        return error_set_plain(err, EINVAL, "%s '%u:%u:%u': the range passes 4294967294", what,
                               r->container, r->host, r->size);
    if (map->n >= ID_MAP_MAX)
        return error_set_plain(err, E2BIG, "%s: at most %d ranges", what, ID_MAP_MAX);
    for (size_t i = 0; i < map->n; i++) {
        const struct id_range *o = &map->ranges[i];
        if (overlaps(o->container, o->size, r->container, r->size))
            return error_set_plain(err, EINVAL, "%s '%u:%u:%u': container ids overlap '%u:%u:%u'",
                                   what, r->container, r->host, r->size, o->container, o->host,
                                   o->size);
        if (overlaps(o->host, o->size, r->host, r->size))
            return error_set_plain(err, EINVAL, "%s '%u:%u:%u': host ids overlap '%u:%u:%u'", what,
                                   r->container, r->host, r->size, o->container, o->host, o->size);
    }
    map->ranges[map->n++] = *r;
    return 0;
}

int id_map_add_spec(struct id_map *map, const char *spec, const char *what, struct error **err)
{
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    struct id_range r;
    if (!c2 || parse_u32(spec, c1, &r.container) < 0 || parse_u32(c1 + 1, c2, &r.host) < 0 ||
        parse_u32(c2 + 1, c2 + 1 + strlen(c2 + 1), &r.size) < 0)
        return error_set_plain(err, EINVAL, "%s '%s': use CONTAINER:HOST:SIZE (decimal ids)", what,
                               spec);
    return id_map_add(map, &r, what, err);
}

int64_t id_map_to_host(const struct id_map *map, uint32_t id)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct id_range *r = &map->ranges[i];
        if (id >= r->container && (uint64_t)id < (uint64_t)r->container + r->size)
            return (int64_t)r->host + (id - r->container);
    }
    return -1;
}

int64_t id_map_to_container(const struct id_map *map, uint32_t host_id)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct id_range *r = &map->ranges[i];
        if (host_id >= r->host && (uint64_t)host_id < (uint64_t)r->host + r->size)
            return (int64_t)r->container + (host_id - r->host);
    }
    return -1;
}

size_t subid_ranges(const char *text, const char *user, const char *uid_text, struct id_range *ret,
                    size_t max)
{
    size_t n = 0;
    for (const char *line = text; line && *line && n < max;) {
        const char *end = strchrnul(line, '\n');
        const char *c1 = memchr(line, ':', (size_t)(end - line));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        size_t name_len = c1 ? (size_t)(c1 - line) : 0;
        int mine =
            c1 && line[0] != '#' &&
            ((user && strlen(user) == name_len && !strncmp(line, user, name_len)) ||
             (uid_text && strlen(uid_text) == name_len && !strncmp(line, uid_text, name_len)));
        struct id_range r = {0};
        const char *count_end = end;
        if (count_end > line && count_end[-1] == '\r')
            count_end--;
        if (mine && c2 && parse_u32(c1 + 1, c2, &r.host) == 0 &&
            parse_u32(c2 + 1, count_end, &r.size) == 0 && r.size > 0 &&
            (uint64_t)r.host + r.size - 1 <= UINT32_MAX - 1)
            ret[n++] = r;
        line = *end ? end + 1 : end;
    }
    return n;
}

int id_map_within(const struct id_map *map, const struct id_range *sub, size_t n_sub,
                  const char *what, const char *file, struct error **err)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct id_range *r = &map->ranges[i];
        int inside = 0;
        for (size_t j = 0; j < n_sub && !inside; j++)
            inside = r->host >= sub[j].host &&
                     (uint64_t)r->host + r->size <= (uint64_t)sub[j].host + sub[j].size;
        if (!inside)
            return error_set_plain(err, EPERM,
                                   "%s '%u:%u:%u': host ids %u-%llu are not in the subordinate "
                                   "range of '%s'",
                                   what, r->container, r->host, r->size, r->host,
                                   (unsigned long long)r->host + r->size - 1, file);
    }
    return 0;
}

int subid_allocate(const struct id_range *sub, size_t n_sub, const struct id_range *used,
                   size_t n_used, uint32_t size, uint32_t *ret_host)
{
    if (size == 0)
        return -EINVAL;
    int found = 0;
    uint32_t best = 0;
    for (size_t i = 0; i < n_sub; i++) {
        uint64_t start = sub[i].host, limit = (uint64_t)sub[i].host + sub[i].size;
        /* Each pass moves START past a used range, so it ends after n_used + 1 passes. */
        for (size_t pass = 0; pass <= n_used && start + size <= limit; pass++) {
            int moved = 0;
            for (size_t j = 0; j < n_used; j++)
                if (overlaps((uint32_t)start, size, used[j].host, used[j].size)) {
                    start = (uint64_t)used[j].host + used[j].size;
                    moved = 1;
                }
            if (!moved) {
                if (!found || start < best)
                    best = (uint32_t)start;
                found = 1;
                break;
            }
        }
    }
    if (!found)
        return -ENOSPC;
    *ret_host = best;
    return 0;
}

cJSON *id_map_to_oci(const struct id_map *map)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < map->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "containerID", map->ranges[i].container);
        cJSON_AddNumberToObject(o, "hostID", map->ranges[i].host);
        cJSON_AddNumberToObject(o, "size", map->ranges[i].size);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static int u32_field(const cJSON *o, const char *key, uint32_t *ret)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 4294967295.0 ||
        j->valuedouble != (double)(uint32_t)j->valuedouble)
        return -1;
    *ret = (uint32_t)j->valuedouble;
    return 0;
}

int id_map_from_json(const cJSON *array, struct id_map *ret, const char *what, struct error **err)
{
    ret->n = 0;
    if (!cJSON_IsArray(array))
        return error_set_plain(err, EINVAL, "%s: not an array", what);
    const cJSON *e;
    cJSON_ArrayForEach(e, array)
    {
        struct id_range r;
        if (u32_field(e, "containerID", &r.container) < 0 || u32_field(e, "hostID", &r.host) < 0 ||
            u32_field(e, "size", &r.size) < 0)
            return error_set_plain(err, EINVAL, "%s: an entry needs containerID, hostID, size",
                                   what);
        int rr = id_map_add(ret, &r, what, err);
        if (rr < 0)
            return rr;
    }
    return 0;
}
