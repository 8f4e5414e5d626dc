/* --userns, --uidmap, --gidmap -> the security object and config.json (userns-opts.h). */
#include "runtime/userns-opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"

/* USER's ranges in FILE; refused when there is none (the file may be missing). */
static int subid_of(const char *file, const char *user, struct id_range *ret, size_t max,
                    size_t *ret_n, struct error **err)
{
    _cleanup_free_ char *text = NULL;
    struct error *local = NULL;
    if (read_file(file, &text, NULL, &local) < 0) {
        int e = local ? local->errnum : EIO;
        error_free(&local);
        return error_set_plain(err, e == ENOENT ? ENOENT : e,
                               "no subordinate ids for '%s': cannot read '%s'", user, file);
    }
    size_t n = subid_ranges(text, user, NULL, ret, max);
    if (n == 0)
        return error_set_plain(err, ENOENT,
                               "no subordinate ids for '%s' in '%s' (add a line '%s:START:COUNT')",
                               user, file, user);
    *ret_n = n;
    return 0;
}

static int parse_size(const char *s, uint32_t *ret)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !*s || *end || *s == '-' || *s == '+' || v == 0 || v > 0xffffffffULL)
        return -1;
    *ret = (uint32_t)v;
    return 0;
}

int userns_options_build(const char *mode, char *const *uidmaps, char *const *gidmaps,
                         const char *user, cJSON *sec, struct error **err)
{
    int have_maps = (uidmaps && uidmaps[0]) || (gidmaps && gidmaps[0]);
    if (!mode && !have_maps)
        return 0;
    if (mode && strcmp(mode, "host") == 0) {
        if (have_maps)
            return error_set_plain(err, EINVAL,
                                   "--userns=host: --uidmap/--gidmap need a user "
                                   "namespace (leave --userns out)");
        return 0;
    }
    _cleanup_json_ cJSON *u = cJSON_CreateObject();
    if (!u)
        return error_set(err, ENOMEM, "--userns");
    if (mode && (strcmp(mode, "auto") == 0 || strncmp(mode, "auto:", 5) == 0)) {
        if (have_maps)
            return error_set_plain(err, EINVAL,
                                   "--userns=auto: --uidmap/--gidmap are chosen by auto");
        uint32_t size = USERNS_AUTO_SIZE;
        if (mode[4] == ':' &&
            (strncmp(mode + 5, "size=", 5) != 0 || parse_size(mode + 10, &size) < 0))
            return error_set_plain(err, EINVAL, "--userns '%s': use auto or auto:size=N (N >= 1)",
                                   mode);
        struct id_range sub[64];
        size_t n = 0;
        int r;
        if ((r = subid_of(SUBUID_FILE, user, sub, 64, &n, err)) < 0 ||
            (r = subid_of(SUBGID_FILE, user, sub, 64, &n, err)) < 0)
            return error_prefix(err, "--userns=auto");
        cJSON_AddStringToObject(u, "mode", "auto");
        cJSON_AddStringToObject(u, "user", user);
        cJSON_AddNumberToObject(u, "size", size);
        cJSON_AddItemToObject(sec, "userns", TAKE_PTR(u));
        return 0;
    }
    if (mode && (strcmp(mode, "keep-id") == 0 || strncmp(mode, "keep-id:", 8) == 0 ||
                 strcmp(mode, "nomap") == 0))
        return error_set_plain(err, EINVAL,
                               "--userns '%s': only for rootless podman; berth runs as root: use "
                               "auto or --uidmap",
                               mode);
    if (mode)
        return error_set_plain(err, EINVAL,
                               "--userns '%s': unknown mode: use host, auto[:size=N] (or "
                               "--uidmap/--gidmap)",
                               mode);
    if (!(uidmaps && uidmaps[0]))
        return error_set_plain(err, EINVAL, "--gidmap needs --uidmap");
    _cleanup_free_ struct id_map *umap = calloc(1, sizeof(*umap));
    _cleanup_free_ struct id_map *gmap = calloc(1, sizeof(*gmap));
    if (!umap || !gmap)
        return error_set(err, ENOMEM, "--uidmap");
    int r;
    for (char *const *m = uidmaps; *m; m++)
        if ((r = id_map_add_spec(umap, *m, "--uidmap", err)) < 0)
            return r;
    for (char *const *m = gidmaps; m && *m; m++)
        if ((r = id_map_add_spec(gmap, *m, "--gidmap", err)) < 0)
            return r;
    /* As podman: the uid map serves for gids too when no --gidmap is given. */
    if (gmap->n == 0)
        *gmap = *umap;
    if (id_map_to_host(umap, 0) < 0)
        return error_set_plain(err, EINVAL, "--uidmap: container uid 0 must be mapped");
    if (id_map_to_host(gmap, 0) < 0)
        return error_set_plain(err, EINVAL, "--gidmap: container gid 0 must be mapped");
    /* devpts is mounted with gid=5, which the kernel refuses when unmapped. */
    if (id_map_to_host(gmap, 5) < 0)
        return error_set_plain(
            err, EINVAL, "--gidmap: container gid 5 (tty, the group of /dev/pts) must be mapped");
    struct id_range sub[64];
    size_t n = 0;
    if ((r = subid_of(SUBUID_FILE, user, sub, 64, &n, err)) < 0 ||
        (r = id_map_within(umap, sub, n, "--uidmap", SUBUID_FILE, err)) < 0 ||
        (r = subid_of(SUBGID_FILE, user, sub, 64, &n, err)) < 0 ||
        (r = id_map_within(gmap, sub, n, "--gidmap", SUBGID_FILE, err)) < 0)
        return r;
    cJSON_AddStringToObject(u, "mode", "map");
    cJSON_AddItemToObject(u, "uid_map", id_map_to_oci(umap));
    cJSON_AddItemToObject(u, "gid_map", id_map_to_oci(gmap));
    cJSON_AddItemToObject(sec, "userns", TAKE_PTR(u));
    return 0;
}

int userns_used_ranges(const cJSON *userns, const char *key, struct id_range **used, size_t *n)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(userns, key))
    {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "hostID");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "size");
        if (!cJSON_IsNumber(h) || !cJSON_IsNumber(s) || h->valuedouble < 0 || s->valuedouble < 1 ||
            h->valuedouble > 4294967295.0 || s->valuedouble > 4294967295.0)
            continue;
        struct id_range *grown = realloc(*used, (*n + 1) * sizeof(**used));
        if (!grown)
            return -ENOMEM;
        *used = grown;
        grown[(*n)++] = (struct id_range){0, (uint32_t)h->valuedouble, (uint32_t)s->valuedouble};
    }
    return 0;
}

int userns_allocate(cJSON *userns, const char *user, const struct id_range *used_uid,
                    size_t n_used_uid, const struct id_range *used_gid, size_t n_used_gid,
                    struct error **err)
{
    const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(userns, "mode"));
    if (!mode || strcmp(mode, "auto") != 0 || cJSON_GetObjectItemCaseSensitive(userns, "uid_map"))
        return 0;
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(userns, "size");
    uint32_t size = cJSON_IsNumber(js) && js->valuedouble >= 1 && js->valuedouble <= 4294967295.0
                        ? (uint32_t)js->valuedouble
                        : USERNS_AUTO_SIZE;
    static const char *const files[] = {SUBUID_FILE, SUBGID_FILE};
    static const char *const keys[] = {"uid_map", "gid_map"};
    const struct id_range *used[] = {used_uid, used_gid};
    size_t n_used[] = {n_used_uid, n_used_gid};
    for (size_t i = 0; i < 2; i++) {
        struct id_range sub[64];
        size_t n = 0;
        uint32_t host = 0;
        int r = subid_of(files[i], user, sub, 64, &n, err);
        if (r < 0)
            return error_prefix(err, "--userns=auto");
        if (subid_allocate(sub, n, used[i], n_used[i], size, &host) < 0)
            return error_set_plain(err, ENOSPC,
                                   "--userns=auto: no free range of %u ids left for '%s' in '%s' "
                                   "(other containers hold the rest)",
                                   size, user, files[i]);
        struct id_map map = {.n = 1};
        map.ranges[0] = (struct id_range){0, host, size};
        cJSON_AddItemToObject(userns, keys[i], id_map_to_oci(&map));
    }
    return 0;
}

int userns_mount_is_layered(const char *options)
{
    return options && (strncmp(options, "lowerdir=", 9) == 0 || strstr(options, ",lowerdir="));
}

int userns_oci_apply(cJSON *config, const cJSON *userns, struct error **err)
{
    if (!userns)
        return 0;
    const cJSON *umap = cJSON_GetObjectItemCaseSensitive(userns, "uid_map");
    const cJSON *gmap = cJSON_GetObjectItemCaseSensitive(userns, "gid_map");
    if (!cJSON_IsArray(umap) || !cJSON_IsArray(gmap))
        return error_set_plain(err, EINVAL, "user namespace: no id maps allocated");
    cJSON *linux_ = cJSON_GetObjectItemCaseSensitive(config, "linux");
    cJSON *ns = cJSON_GetObjectItemCaseSensitive(linux_, "namespaces");
    if (!cJSON_IsArray(ns))
        return error_set_plain(err, EINVAL, "user namespace: config has no namespaces");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "user");
    cJSON_AddItemToArray(ns, o);
    cJSON_AddItemToObject(linux_, "uidMappings", cJSON_Duplicate(umap, 1));
    cJSON_AddItemToObject(linux_, "gidMappings", cJSON_Duplicate(gmap, 1));
    return 0;
}
