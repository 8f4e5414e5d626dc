/*
 * User namespace maps (runtime/userns-map.h): the first part
 * is a list of --uidmap strings separated by newlines, after "\n---\n" a
 * subuid file. Checks the invariants the runtime relies on: an accepted map
 * never overlaps itself, a map accepted "within" the subordinate ranges
 * lies inside them, and an allocated range is inside one and free.
 */
#include "fuzz-util.h"
#include "runtime/userns-map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int overlap(uint32_t a, uint32_t n, uint32_t b, uint32_t m)
{
    return (uint64_t)a < (uint64_t)b + m && (uint64_t)b < (uint64_t)a + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *specs = NULL, *subfile = NULL;
    fuzz_split(data, size, &specs, &subfile);
    struct id_map *map = calloc(1, sizeof(*map));
    FUZZ_ASSERT(map);
    for (char *save = NULL, *tok = strtok_r(specs, "\n", &save); tok;
         tok = strtok_r(NULL, "\n", &save)) {
        struct error *err = NULL;
        size_t before = map->n;
        if (id_map_add_spec(map, tok, "--uidmap", &err) < 0) {
            FUZZ_ASSERT(err && err->msg && !strchr(err->msg, '\n'));
            FUZZ_ASSERT(map->n == before);
        } else {
            FUZZ_ASSERT(!err && map->n == before + 1);
        }
        error_free(&err);
    }
    for (size_t i = 0; i < map->n; i++) {
        const struct id_range *a = &map->ranges[i];
        FUZZ_ASSERT(a->size > 0);
        FUZZ_ASSERT(id_map_to_host(map, a->container) == (int64_t)a->host);
        for (size_t j = i + 1; j < map->n; j++) {
            const struct id_range *b = &map->ranges[j];
            FUZZ_ASSERT(!overlap(a->container, a->size, b->container, b->size));
            FUZZ_ASSERT(!overlap(a->host, a->size, b->host, b->size));
        }
    }

    struct id_range sub[16];
    size_t n_sub = subid_ranges(subfile, "berth", "0", sub, 16);
    struct error *err = NULL;
    if (id_map_within(map, sub, n_sub, "--uidmap", "/etc/subuid", &err) == 0) {
        for (size_t i = 0; i < map->n; i++) {
            int inside = 0;
            for (size_t j = 0; j < n_sub; j++)
                inside |= map->ranges[i].host >= sub[j].host &&
                          (uint64_t)map->ranges[i].host + map->ranges[i].size <=
                              (uint64_t)sub[j].host + sub[j].size;
            FUZZ_ASSERT(inside);
        }
    }
    error_free(&err);
    uint32_t want = map->n ? map->ranges[0].size : 65536, host = 0;
    if (subid_allocate(sub, n_sub, map->ranges, map->n, want, &host) == 0) {
        int inside = 0;
        for (size_t j = 0; j < n_sub; j++)
            inside |=
                host >= sub[j].host && (uint64_t)host + want <= (uint64_t)sub[j].host + sub[j].size;
        FUZZ_ASSERT(inside);
        for (size_t i = 0; i < map->n; i++)
            FUZZ_ASSERT(!overlap(host, want, map->ranges[i].host, map->ranges[i].size));
    }
    cJSON *j = id_map_to_oci(map);
    struct id_map *back = calloc(1, sizeof(*back));
    FUZZ_ASSERT(back && id_map_from_json(j, back, "uidMappings", &err) == 0);
    FUZZ_ASSERT(back->n == map->n);
    cJSON_Delete(j);
    free(back);
    free(map);
    free(specs);
    free(subfile);
    return 0;
}
