#include "network/network-ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "config/defaults.h"
#include "lifecycle/plugin-calls.h"
#include "network/cidr.h"
#include "network/network-store.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/lock.h"

/* The name the default network has; it is made on first use. */
#define DEFAULT_NETWORK_NAME "berth0"

static const char *jstr(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
}

/* Host routes other than the default one and berth's own bridges. */
static int overlaps_host_route(const struct cidr *c, const cJSON *networks, char *ret_route)
{
    _cleanup_free_ char *text = NULL;
    if (read_file("/proc/net/route", &text, NULL, NULL) < 0)
        return 0;
    char *save = NULL;
    int first = 1;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (first) {
            first = 0;
            continue;
        }
        char iface[64];
        unsigned dest, gw, flags, refcnt, use, metric, mask;
        if (sscanf(line, "%63s %x %x %x %u %u %u %x", iface, &dest, &gw, &flags, &refcnt, &use,
                   &metric, &mask) != 8)
            continue;
        if (mask == 0)
            continue;
        int ours = 0;
        const cJSON *n;
        cJSON_ArrayForEach(n, networks)
        {
            const cJSON *state;
            cJSON_ArrayForEach(state, cJSON_GetObjectItem(n, "driver_state"))
            {
                const char *link = jstr(state, "host_interface");
                if (link && !strcmp(link, iface))
                    ours = 1;
            }
        }
        if (ours)
            continue;
        /* /proc/net/route holds addresses in network byte order, little-endian read. */
        uint32_t d = __builtin_bswap32(dest), m = __builtin_bswap32(mask);
        struct cidr route = {.addr = d & m, .prefix = __builtin_popcount(m)};
        if (cidr_overlaps(c, &route)) {
            char r[19];
            cidr_format(&route, r);
            snprintf(ret_route, 80, "%s on %.32s", r, iface);
            return 1;
        }
    }
    return 0;
}

static int check_subnet_free(const struct cidr *c, const cJSON *networks, struct error **err)
{
    char buf[19];
    cidr_format(c, buf);
    const cJSON *n;
    cJSON_ArrayForEach(n, networks)
    {
        struct cidr other;
        const char *s = jstr(n, "subnet");
        if (s && cidr_parse(s, 0, &other) == 0 && cidr_overlaps(c, &other))
            return error_set_plain(err, EEXIST, "subnet %s overlaps network '%s' (%s)", buf,
                                   jstr(n, "name"), s);
    }
    char route[80] = "";
    if (overlaps_host_route(c, networks, route))
        return error_set_plain(err, EEXIST, "subnet %s overlaps the host's route %s", buf, route);
    return 0;
}

static int choose_subnet(const cJSON *networks, struct cidr *ret, struct error **err)
{
    for (uint32_t i = 0; i < 256 * 8; i++) {
        /* 10.89.0.0/24 … 10.96.255.0/24, as podman counts from 10.89. */
        struct cidr c = {.addr = (10u << 24) | ((89u + i / 256) << 16) | ((i % 256) << 8),
                         .prefix = 24};
        struct error *local = NULL;
        if (check_subnet_free(&c, networks, &local) == 0) {
            *ret = c;
            return 0;
        }
        error_free(&local);
    }
    return error_set_plain(err, ENOSPC, "no free subnet left in 10.89.0.0/13: give --subnet");
}

static cJSON *chain_from(const char *drivers)
{
    cJSON *chain = cJSON_CreateArray();
    if (!drivers || !strcmp(drivers, DEFAULT_NETWORK_DRIVER))
        drivers = DEFAULT_NETWORK_CHAIN;
    _cleanup_free_ char *copy = strdup(drivers);
    char *save = NULL;
    for (char *d = strtok_r(copy, ",", &save); d; d = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(chain, cJSON_CreateString(d));
    return chain;
}

static void random_id(char *out)
{
    unsigned char raw[32];
    if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
        memset(raw, 0x5a, sizeof(raw));
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* Runs the drivers' remove newest first; errors are collected, not fatal. */
static void drivers_remove(struct engine *e, const cJSON *rec, int upto)
{
    const cJSON *chain = cJSON_GetObjectItem(rec, "drivers");
    for (int i = upto - 1; i >= 0; i--) {
        struct plugin *p = NULL;
        struct error *local = NULL;
        const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(chain, i));
        /* Best effort, as before; gc removes what a failing driver left. */
        if (name && network_driver_find(e->plugins, name, &p, &local) == 0 &&
            network_driver_remove(p, rec, &local) < 0)
            log_warning("%s", local->msg);
        error_free(&local);
    }
}

static int drivers_create(struct engine *e, cJSON *rec, struct error **err)
{
    const cJSON *chain = cJSON_GetObjectItem(rec, "drivers");
    cJSON *state = cJSON_GetObjectItem(rec, "driver_state");
    if (!state)
        state = cJSON_AddObjectToObject(rec, "driver_state");
    int n = cJSON_GetArraySize(chain);
    for (int i = 0; i < n; i++) {
        const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(chain, i));
        struct plugin *p = NULL;
        cJSON *result = NULL;
        int r = network_driver_find(e->plugins, name ? name : "", &p, err);
        if (r == 0)
            r = network_driver_create(p, rec, &result, err);
        if (r < 0) {
            drivers_remove(e, rec, i);
            return r;
        }
        if (result) {
            cJSON_DeleteItemFromObjectCaseSensitive(state, name);
            cJSON_AddItemToObject(state, name, result);
        }
    }
    return 0;
}

int network_create(struct engine *e, const struct network_create_options *o, cJSON **ret_rec,
                   struct error **err)
{
    const char *root = e->globals->root;
    if (!network_name_is_valid(o->name))
        return error_set_plain(
            err, EINVAL, "invalid network name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*", o->name);
    if (!strcmp(o->name, "none") || !strcmp(o->name, "host"))
        return error_set_plain(err, EINVAL, "'%s' is a built-in network mode", o->name);
    _cleanup_json_ cJSON *chain = chain_from(o->drivers);
    const cJSON *d;
    cJSON_ArrayForEach(d, chain)
    {
        struct plugin *p = NULL;
        if (network_driver_find(e->plugins, d->valuestring, &p, err) < 0)
            return error_code(*err);
    }
    struct cidr subnet;
    if (o->subnet && cidr_parse(o->subnet, 0, &subnet) < 0)
        return error_set_plain(
            err, EINVAL, "invalid subnet '%s': give a.b.c.d/N with the host bits zero", o->subnet);
    if (o->subnet && subnet.prefix > 30)
        return error_set_plain(err, EINVAL, "subnet '%s' is too small: at most /30", o->subnet);

    /* One lock for every network's creation: subnets are checked against all. */
    int lock = network_store_lock(root, "all", err);
    if (lock < 0)
        return lock;
    cJSON *existing = NULL;
    int r = network_store_load(root, o->name, &existing, NULL);
    cJSON_Delete(existing);
    if (r == 0) {
        unlock_fd(lock);
        return error_set_plain(err, EEXIST, "network '%s' already exists", o->name);
    }
    cJSON *all = NULL;
    if ((r = network_store_list(root, &all, err)) < 0) {
        unlock_fd(lock);
        return r;
    }
    if (o->subnet)
        r = check_subnet_free(&subnet, all, err);
    else
        r = choose_subnet(all, &subnet, err);
    cJSON_Delete(all);
    if (r < 0) {
        unlock_fd(lock);
        return r;
    }
    uint32_t gw = subnet.addr + 1;
    if (o->gateway) {
        if (ipv4_parse(o->gateway, &gw) < 0) {
            unlock_fd(lock);
            return error_set_plain(err, EINVAL, "invalid gateway '%s'", o->gateway);
        }
        uint32_t bcast = subnet.addr | ~cidr_mask(subnet.prefix);
        if (!cidr_contains(&subnet, gw) || gw == subnet.addr || gw == bcast) {
            unlock_fd(lock);
            return error_set_plain(err, EINVAL, "gateway %s is not a host address of %s",
                                   o->gateway, o->subnet ? o->subnet : "the subnet");
        }
    }
    struct cidr range;
    if (o->ip_range && (cidr_parse(o->ip_range, 0, &range) < 0 || !cidr_within(&range, &subnet))) {
        unlock_fd(lock);
        return error_set_plain(err, EINVAL, "ip range '%s' is not a subnet of the network's",
                               o->ip_range);
    }
    char sbuf[19], gbuf[16], id[65];
    cidr_format(&subnet, sbuf);
    ipv4_format(gw, gbuf);
    random_id(id);
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "name", o->name);
    cJSON_AddStringToObject(rec, "id", id);
    cJSON_AddItemToObject(rec, "drivers", TAKE_PTR(chain));
    cJSON_AddStringToObject(rec, "subnet", sbuf);
    cJSON_AddStringToObject(rec, "gateway", gbuf);
    if (o->ip_range)
        cJSON_AddStringToObject(rec, "ip_range", o->ip_range);
    else
        cJSON_AddNullToObject(rec, "ip_range");
    cJSON_AddBoolToObject(rec, "internal", o->internal != 0);
    cJSON_AddItemToObject(rec, "options",
                          o->options ? cJSON_Duplicate(o->options, 1) : cJSON_CreateObject());
    cJSON_AddNumberToObject(rec, "created", (double)time(NULL));
    cJSON_AddObjectToObject(rec, "driver_state");
    r = drivers_create(e, rec, err);
    if (r == 0) {
        r = network_store_save(root, rec, err);
        if (r < 0)
            drivers_remove(e, rec, cJSON_GetArraySize(cJSON_GetObjectItem(rec, "drivers")));
    }
    unlock_fd(lock);
    if (r < 0) {
        cJSON_Delete(rec);
        return error_prefix(err, "create network '%s'", o->name);
    }
    if (ret_rec)
        *ret_rec = rec;
    else
        cJSON_Delete(rec);
    return 0;
}

int network_get(struct engine *e, const char *name, cJSON **ret, struct error **err)
{
    struct error *local = NULL;
    int r = network_store_load(e->globals->root, name, ret, &local);
    if (r != -ENOENT || strcmp(name, DEFAULT_NETWORK_NAME)) {
        if (r < 0)
            *err = local;
        return r;
    }
    error_free(&local);
    struct error *first = NULL;
    for (int b = DEFAULT_NETWORK_SUBNET_FIRST; b >= DEFAULT_NETWORK_SUBNET_LAST; b--) {
        char subnet[32];
        snprintf(subnet, sizeof(subnet), "10.%d.0.0/16", b);
        struct network_create_options o = {.name = DEFAULT_NETWORK_NAME, .subnet = subnet};
        r = network_create(e, &o, ret, &local);
        if (r != -EEXIST) {
            error_free(&first);
            if (r < 0)
                *err = local;
            return r;
        }
        /* Another berth made it meanwhile, or this subnet is taken. */
        if (network_store_load(e->globals->root, name, ret, NULL) == 0) {
            error_free(&local);
            error_free(&first);
            return 0;
        }
        if (!first)
            first = TAKE_PTR(local);
        error_free(&local);
    }
    *err = first;
    return error_prefix(err,
                        "default network '%s': 10.%d.0.0/16 to 10.%d.0.0/16 are all taken "
                        "(make it yourself: berth network create --subnet CIDR %s); the first",
                        name, DEFAULT_NETWORK_SUBNET_LAST, DEFAULT_NETWORK_SUBNET_FIRST, name);
}

int network_repair(struct engine *e, cJSON *rec, struct error **err)
{
    return drivers_create(e, rec, err);
}

int network_users(struct engine *e, const char *name, cJSON **ret_array, struct error **err)
{
    cJSON *all = NULL;
    int r = container_store_list(e->containers, &all, err);
    if (r < 0)
        return r;
    cJSON *users = cJSON_CreateArray();
    const cJSON *rec, *n;
    cJSON_ArrayForEach(rec, all)
    {
        cJSON_ArrayForEach(n, cJSON_GetObjectItem(rec, "networks"))
        {
            if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
                cJSON_AddItemToArray(users, cJSON_Duplicate(rec, 1));
        }
    }
    cJSON_Delete(all);
    *ret_array = users;
    return 0;
}

int network_remove(struct engine *e, const char *name, int force, struct error **err)
{
    const char *root = e->globals->root;
    cJSON *rec = NULL;
    int r = network_store_load(root, name, &rec, err);
    if (r < 0)
        return r;
    cJSON *users = NULL;
    if ((r = network_users(e, name, &users, err)) < 0) {
        cJSON_Delete(rec);
        return r;
    }
    const cJSON *u;
    cJSON_ArrayForEach(u, users)
    {
        const char *state = rec_str(u, "state");
        if (!force || (state && !strcmp(state, "running"))) {
            r = error_set_plain(err, EBUSY,
                                "network '%s' has containers attached (%s '%s'): remove or "
                                "disconnect them first%s",
                                name, state ? state : "container", rec_str(u, "name"),
                                force ? "" : ", or use -f for stopped ones");
            cJSON_Delete(users);
            cJSON_Delete(rec);
            return r;
        }
    }
    /* -f: stopped containers forget the network. */
    cJSON_ArrayForEach(u, users)
    {
        const char *id = rec_str(u, "id");
        int fd = container_store_lock(e->containers, id, NULL);
        cJSON *c = NULL;
        if (fd >= 0 && container_store_load(e->containers, id, &c, NULL) == 0) {
            cJSON *nets = cJSON_GetObjectItem(c, "networks");
            for (int i = cJSON_GetArraySize(nets) - 1; i >= 0; i--)
                if (!strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(nets, i)) ?: "", name))
                    cJSON_DeleteItemFromArray(nets, i);
            if (cJSON_GetArraySize(nets) == 0)
                rec_set_str(c, "network", "none");
            container_store_save(e->containers, c, NULL);
        }
        cJSON_Delete(c);
        unlock_fd(fd);
    }
    cJSON_Delete(users);
    int lock = network_store_lock(root, "all", err);
    if (lock < 0) {
        cJSON_Delete(rec);
        return lock;
    }
    drivers_remove(e, rec, cJSON_GetArraySize(cJSON_GetObjectItem(rec, "drivers")));
    r = network_store_delete(root, name, err);
    unlock_fd(lock);
    cJSON_Delete(rec);
    return r;
}

int network_names(struct engine *e, char ***ret, size_t *ret_n, struct error **err)
{
    cJSON *all = NULL;
    int r = network_store_list(e->globals->root, &all, err);
    if (r < 0)
        return r;
    size_t n = (size_t)cJSON_GetArraySize(all);
    char **v = calloc(n + 1, sizeof(char *));
    if (!v) {
        cJSON_Delete(all);
        return error_set(err, ENOMEM, "list networks");
    }
    for (size_t i = 0; i < n; i++)
        v[i] = strdup(jstr(cJSON_GetArrayItem(all, (int)i), "name"));
    cJSON_Delete(all);
    *ret = v;
    *ret_n = n;
    return 0;
}
