/*
 * --userns, --uidmap, --gidmap: validated into the "userns" member of the
 * security object (security-opts.h), allocated at create for auto, and
 * written into config.json (a "user" namespace, linux.uidMappings and
 * linux.gidMappings). docs/security.md "User namespaces".
 *
 *   "userns": {"mode": "auto" | "map", "size": N, "user": NAME (auto),
 *              "uid_map": [{"containerID", "hostID", "size"}], "gid_map": [...],
 *              "upper_host_ids": true (its writable layer holds host ids)}
 *
 * No "userns" member: the host's user namespace (--userns=host, the default).
 */
#ifndef BERTH_USERNS_OPTS_H
#define BERTH_USERNS_OPTS_H

#include <cjson/cJSON.h>

#include "runtime/userns-map.h"
#include "util/error.h"

#define SUBUID_FILE "/etc/subuid"
#define SUBGID_FILE "/etc/subgid"

/*
 * MODE ("host", "auto", "auto:size=N"; NULL: host unless maps are given),
 * UIDMAPS and GIDMAPS ("C:H:S" each; NULL-terminated or NULL) into SEC.
 * Explicit maps must lie within USER's subordinate ids and map id 0; a
 * --gidmap alone is refused, a --uidmap alone is used for gids too. One
 * plain line on bad input.
 */
int userns_options_build(const char *mode, char *const *uidmaps, char *const *gidmaps,
                         const char *user, cJSON *sec, struct error **err);
/*
 * For mode "auto" without maps yet: SIZE ids from USER's subordinate ranges
 * overlapping none of USED_UID/USED_GID (every other container's), recorded
 * in USERNS. The caller holds the lock that serialises allocations until
 * the record is saved. Other modes: nothing to do.
 */
int userns_allocate(cJSON *userns, const char *user, const struct id_range *used_uid,
                    size_t n_used_uid, const struct id_range *used_gid, size_t n_used_gid,
                    struct error **err);
/* The host ranges of USERNS's maps appended to *USED (grown with realloc). */
int userns_used_ranges(const cJSON *userns, const char *key, struct id_range **used, size_t *n);
/*
 * A mount whose OPTIONS list layers ("lowerdir=…"): with a user namespace
 * each layer is idmapped and the mount made over them, its upper directory
 * is not, so what the container writes there has host ids (userns-setup.c).
 */
int userns_mount_is_layered(const char *options);
/* Adds the user namespace and its maps to CONFIG (config.json being built). */
int userns_oci_apply(cJSON *config, const cJSON *userns, struct error **err);

#endif
