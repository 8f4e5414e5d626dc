/*
 * User namespace id maps (--uidmap/--gidmap, --userns=auto) and the
 * subordinate id files (/etc/subuid, /etc/subgid). Pure logic: parsing,
 * validation and the allocation of a free host range; no system calls.
 * docs/security.md "User namespaces".
 */
#ifndef BERTH_USERNS_MAP_H
#define BERTH_USERNS_MAP_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* The kernel takes at most this many lines in uid_map/gid_map. */
#define ID_MAP_MAX 340
/* --userns=auto without size=: as podman's default. */
#define USERNS_AUTO_SIZE 65536
/* The user whose /etc/subuid and /etc/subgid entries berth allocates from. */
#define USERNS_DEFAULT_USER "berth"

/* CONTAINER ids from CONTAINER..CONTAINER+SIZE-1 are HOST.. on the host. */
struct id_range {
    uint32_t container, host, size;
};

struct id_map {
    struct id_range ranges[ID_MAP_MAX];
    size_t n;
};

/*
 * "CONTAINER:HOST:SIZE" (decimal, SIZE >= 1, no wrap past 2^32-1) appended
 * to MAP; refused when it overlaps an earlier entry on either side. WHAT
 * names the flag in the error ("--uidmap").
 */
int id_map_add_spec(struct id_map *map, const char *spec, const char *what, struct error **err);
/* The same check for a range already split. */
int id_map_add(struct id_map *map, const struct id_range *r, const char *what, struct error **err);
/* The host id of container id ID, or -1 when it is not mapped. */
int64_t id_map_to_host(const struct id_map *map, uint32_t id);
/* The container id that host id HOST_ID is, or -1 when it is not mapped. */
int64_t id_map_to_container(const struct id_map *map, uint32_t host_id);

/*
 * The ranges of USER (a name, or the decimal uid in UID_TEXT, may be NULL)
 * in TEXT, a subuid/subgid file ("name:start:count" lines, '#' comments).
 * Only HOST and SIZE are filled. Malformed lines are skipped, as shadow's
 * tools do. Returns the number found (0: none).
 */
size_t subid_ranges(const char *text, const char *user, const char *uid_text, struct id_range *ret,
                    size_t max);
/* Every host range of MAP lies within the subordinate ranges SUB. */
int id_map_within(const struct id_map *map, const struct id_range *sub, size_t n_sub,
                  const char *what, const char *file, struct error **err);
/*
 * The lowest HOST with HOST..HOST+SIZE-1 inside one range of SUB and
 * overlapping none of USED (their host sides). -ENOSPC when there is none.
 */
int subid_allocate(const struct id_range *sub, size_t n_sub, const struct id_range *used,
                   size_t n_used, uint32_t size, uint32_t *ret_host);

/* [{"containerID", "hostID", "size"}, …] (OCI linux.uidMappings) <-> MAP. */
cJSON *id_map_to_oci(const struct id_map *map);
int id_map_from_json(const cJSON *array, struct id_map *ret, const char *what, struct error **err);

#endif
