/* SPDX-License-Identifier: MIT */
/* The JSON that crosses the plugin boundary (see <berth/network.h>), read
 * defensively: the core validates too, but a plugin trusts nobody's input. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bridge.h"

int network_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= NETWORK_NAME_MAX || name[0] == '.')
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int container_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n >= IPAM_OWNER_MAX)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* Interface names: what the kernel's dev_valid_name accepts, minus ':'
 * which would confuse anything that parses alias-style names. */
static int ifname_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

void host_veth_name(const char *container_id, const char *network, char ret[static IFNAMSIZ])
{
    /* FNV-1a: stable across versions and machines, which is all it needs
     * to be; a clash with another container is caught by the alias. */
    uint32_t h = 2166136261u;
    for (const char *p = container_id; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const char *p = network; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    snprintf(ret, IFNAMSIZ, "veth%08x", (unsigned)h);
}

void bridge_alias(const char *network, char ret[static ALIAS_MAX])
{
    snprintf(ret, ALIAS_MAX, ALIAS_PREFIX "%.*s", NETWORK_NAME_MAX - 1, network);
}

void veth_alias(const char *network, const char *container_id, char ret[static ALIAS_MAX])
{
    snprintf(ret, ALIAS_MAX, ALIAS_PREFIX "%.*s:%.*s", NETWORK_NAME_MAX - 1, network,
             IPAM_OWNER_MAX - 1, container_id);
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An option value may come as "1500" or 1500. Returns 0, -ENOENT or -EINVAL. */
static int get_uint_option(const cJSON *opts, const char *key, uint32_t max, uint32_t *ret)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
    if (!v || cJSON_IsNull(v))
        return -ENOENT;
    unsigned long long n;
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble < 0 || v->valuedouble > max ||
            v->valuedouble != (double)(long)v->valuedouble)
            return -EINVAL;
        n = (unsigned long long)v->valuedouble;
    } else if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        char *end;
        if (*s < '0' || *s > '9')
            return -EINVAL;
        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno || *end || n > max)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    *ret = (uint32_t)n;
    return 0;
}

int net_config_parse(struct bridge *b, const char *network_name, const char *json,
                     struct net_config *ret, struct berth_error *err)
{
    const struct berth_services *sv = b->services;
    memset(ret, 0, sizeof(*ret));
    if (!network_name_valid(network_name)) {
        sv->set_error(err, EINVAL, "invalid network name '%s'", network_name ? network_name : "");
        return -EINVAL;
    }
    _cleanup_cjson_ cJSON *root = json ? cJSON_Parse(json) : NULL;
    if (!cJSON_IsObject(root)) {
        sv->set_error(err, EINVAL, "network '%s': the record is not a JSON object", network_name);
        return -EINVAL;
    }
    const char *subnet = get_str(root, "subnet");
    const char *gateway = get_str(root, "gateway");
    const char *ip_range = get_str(root, "ip_range");
    char msg[256];
    if (!subnet) {
        sv->set_error(err, EINVAL, "network '%s' has no subnet", network_name);
        return -EINVAL;
    }
    struct ipam pool;
    if (ipam_init(&pool, subnet, gateway, ip_range, msg, sizeof(msg)) < 0) {
        sv->set_error(err, EINVAL, "network '%s': %s", network_name, msg);
        return -EINVAL;
    }

    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(root, "options");
    uint32_t mtu = 0;
    int r = get_uint_option(opts, "mtu", 65535, &mtu);
    if (r == -EINVAL || (r == 0 && mtu != 0 && mtu < 68)) {
        sv->set_error(err, EINVAL, "network '%s': option mtu must be a number from 68 to 65535",
                      network_name);
        return -EINVAL;
    }

    /* The name create chose is recorded in driver_state and wins, so that a
     * changed rule can never orphan an existing network's bridge. */
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(root, "driver_state");
    const char *bridge = get_str(cJSON_GetObjectItemCaseSensitive(ds, "bridge"), "bridge");
    if (!bridge)
        bridge = get_str(opts, "bridge");
    char derived[IFNAMSIZ];
    if (!bridge && !strcmp(network_name, "berth0")) {
        bridge = "berth0";
    } else if (!bridge) {
        const char *id = get_str(root, "id");
        if (!id || strlen(id) < 8) {
            sv->set_error(err, EINVAL, "network '%s' has no id to name its bridge after",
                          network_name);
            return -EINVAL;
        }
        snprintf(derived, sizeof(derived), "berth-%.8s", id);
        bridge = derived;
    }
    if (!ifname_valid(bridge)) {
        sv->set_error(err, EINVAL,
                      "network '%s': invalid bridge name '%s' (1 to %d characters, no '/', ':' "
                      "or spaces)",
                      network_name, bridge, IFNAMSIZ - 1);
        return -EINVAL;
    }
    snprintf(ret->bridge, sizeof(ret->bridge), "%s", bridge);
    ret->name = network_name;
    ret->subnet = subnet;
    ret->gateway = gateway;
    ret->ip_range = ip_range;
    ret->internal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "internal"));
    ret->mtu = mtu;
    ret->pool = pool;
    ret->root = root;
    root = NULL;
    return 0;
}

void net_config_done(struct net_config *cfg)
{
    if (!cfg)
        return;
    cJSON_Delete(cfg->root);
    cfg->root = NULL;
}

int join_request_parse(struct bridge *b, const char *json, struct join_request *ret,
                       struct berth_error *err)
{
    const struct berth_services *sv = b->services;
    memset(ret, 0, sizeof(*ret));
    _cleanup_cjson_ cJSON *root = cJSON_Parse(json && *json ? json : "{}");
    if (!cJSON_IsObject(root)) {
        sv->set_error(err, EINVAL, "the join request is not a JSON object");
        return -EINVAL;
    }
    const char *ifname = get_str(root, "interface");
    if (!ifname)
        ifname = "eth0";
    if (!ifname_valid(ifname)) {
        sv->set_error(err, EINVAL, "invalid interface name '%s'", ifname);
        return -EINVAL;
    }
    const char *ip = get_str(root, "ip");
    if (ip && *ip && ipam_parse_addr(ip, &ret->requested_ip) < 0) {
        sv->set_error(err, EINVAL, "malformed address '%s': expected A.B.C.D", ip);
        return -EINVAL;
    }
    const cJSON *mine = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "results"), "bridge");
    const char *host = get_str(mine, "host_interface");
    if (host && ifname_valid(host) && !strncmp(host, "veth", 4))
        ret->host_interface = host;
    const char *had = get_str(mine, "ip");
    if (had && ipam_parse_addr(had, &ret->result_ip) < 0)
        ret->result_ip = 0;
    ret->netns_teardown = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "netns_teardown"));
    ret->interface = ifname;
    ret->root = root;
    root = NULL;
    return 0;
}

void join_request_done(struct join_request *jr)
{
    if (!jr)
        return;
    cJSON_Delete(jr->root);
    jr->root = NULL;
}
