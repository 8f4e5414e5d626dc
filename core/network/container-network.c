#include "lifecycle/container-network.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/defaults.h"
#include "lifecycle/plugin-calls.h"
#include "network/cidr.h"
#include "network/netns.h"
#include "network/network-ops.h"
#include "network/network-store.h"
#include "network/port-spec.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/log.h"
#include "util/op-clock.h"

static const char *jstr(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
}

int container_network_create(struct engine *e, cJSON *rec, const struct create_options *o,
                             struct error **err)
{
    const char *configured = o->network ? NULL : e->globals->default_network;
    const char *network = o->network ? o->network : configured ? configured : DEFAULT_NETWORK;
    int has_ports = o->publish && o->publish[0];
    cJSON *names = cJSON_AddArrayToObject(rec, "networks");
    if (!strcmp(network, "none") || !strcmp(network, "host")) {
        if (has_ports || o->ip)
            return error_set_plain(err, EINVAL, "-p and --ip need a network; '%s' has none",
                                   network);
        rec_set_str(rec, "network", network);
        return 0;
    }
    _cleanup_json_ cJSON *net = NULL;
    int r = network_get(e, network, &net, err);
    if (r < 0)
        return configured ? error_prefix(err, "'%s': \"default_network\"", e->globals->config_file)
                          : r;
    cJSON *request = cJSON_AddObjectToObject(rec, "network_request");
    if (o->ip) {
        uint32_t ip;
        struct cidr subnet;
        if (ipv4_parse(o->ip, &ip) < 0)
            return error_set_plain(err, EINVAL, "invalid --ip '%s'", o->ip);
        if (cidr_parse(jstr(net, "subnet"), 0, &subnet) < 0 || !cidr_contains(&subnet, ip))
            return error_set_plain(err, EINVAL, "--ip %s is outside network '%s' (%s)", o->ip,
                                   network, jstr(net, "subnet"));
        cJSON_AddStringToObject(request, "ip", o->ip);
    }
    cJSON *ports = cJSON_AddArrayToObject(request, "ports");
    for (size_t i = 0; has_ports && o->publish[i]; i++) {
        struct port_spec p;
        const char *why = NULL;
        if (port_spec_parse(o->publish[i], &p, &why) < 0)
            return error_set_plain(err, EINVAL, "invalid -p '%s': %s", o->publish[i], why);
        const cJSON *q;
        cJSON_ArrayForEach(q, ports)
        {
            if (p.host_port && cJSON_GetObjectItem(q, "host_port")->valueint == p.host_port &&
                !strcmp(jstr(q, "protocol"), p.protocol))
                return error_set_plain(err, EINVAL, "host port %d/%s is published twice",
                                       p.host_port, p.protocol);
        }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "host_ip", p.host_ip[0] ? p.host_ip : "0.0.0.0");
        cJSON_AddNumberToObject(j, "host_port", p.host_port);
        cJSON_AddNumberToObject(j, "container_port", p.container_port);
        cJSON_AddStringToObject(j, "protocol", p.protocol);
        cJSON_AddItemToArray(ports, j);
    }
    rec_set_str(rec, "network", network);
    cJSON_AddItemToArray(names, cJSON_CreateString(network));
    return 0;
}

static char *netns_path_of(struct engine *e, const char *id)
{
    return xasprintf("%s/netns/%s", e->globals->runroot, id);
}

/* The join_json of network number INDEX: only the first gets --ip and -p. */
static cJSON *join_request(const cJSON *rec, int index, const cJSON *results)
{
    char ifname[16];
    snprintf(ifname, sizeof(ifname), "eth%d", index);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "interface", ifname);
    const cJSON *req = cJSON_GetObjectItem(rec, "network_request");
    const char *ip = index == 0 ? jstr(req, "ip") : NULL;
    if (ip)
        cJSON_AddStringToObject(j, "ip", ip);
    else
        cJSON_AddNullToObject(j, "ip");
    const cJSON *ports = index == 0 ? cJSON_GetObjectItem(req, "ports") : NULL;
    cJSON_AddItemToObject(j, "ports", ports ? cJSON_Duplicate(ports, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(j, "results",
                          results ? cJSON_Duplicate(results, 1) : cJSON_CreateObject());
    return j;
}

/* Each step's cost at --log-level debug: what bench/network.sh reads to time
 * joins and leaves without the rest of a run. */
static void log_cost(const struct op_clock *clock, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void log_cost(const struct op_clock *clock, const char *fmt, ...)
{
    if (!log_enabled(LOG_LEVEL_DEBUG))
        return;
    double wall, cpu;
    op_clock_read(clock, &wall, &cpu);
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    log_debug("%s: %.3f ms (CPU %.3f ms)", what, wall, cpu);
}

/* Starts CLOCK only when log_cost will show it: every step of every join
 * and leave has one. */
static void cost_start(struct op_clock *clock)
{
    if (log_enabled(LOG_LEVEL_DEBUG))
        op_clock_start(clock);
}

/* Leaves the first N drivers of NET's chain, newest first. */
static int leave_drivers(struct engine *e, const cJSON *net, const char *id, const char *netns,
                         cJSON *join, int n, struct error **err)
{
    const cJSON *chain = cJSON_GetObjectItem(net, "drivers");
    int failed = 0;
    for (int i = n - 1; i >= 0; i--) {
        struct plugin *p = NULL;
        struct error *local = NULL;
        const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(chain, i));
        struct op_clock clock = {0};
        cost_start(&clock);
        if (network_driver_find(e->plugins, name ? name : "", &p, &local) == 0)
            network_driver_leave(p, net, id, netns, join, &local);
        log_cost(&clock, "network '%s': driver '%s' leave", jstr(net, "name"), name);
        if (local) {
            if (!failed && err) {
                error_free(err);
                *err = local;
                local = NULL;
            }
            failed++;
        }
        error_free(&local);
    }
    return failed ? -EIO : 0;
}

static void summarize(cJSON *rec, const cJSON *results)
{
    /* The first driver of the chain that reports a key wins. */
    static const char *const keys[] = {"ip", "gateway", "mac"};
    const cJSON *result;
    cJSON_ArrayForEach(result, results)
    {
        for (size_t i = 0; i < 3; i++)
            if (jstr(result, keys[i]) && !cJSON_GetObjectItem(rec, keys[i]))
                rec_set_str(rec, keys[i], jstr(result, keys[i]));
        const cJSON *ports = cJSON_GetObjectItem(result, "ports");
        if (cJSON_IsArray(ports) && !cJSON_GetObjectItem(rec, "ports"))
            cJSON_AddItemToObject(rec, "ports", cJSON_Duplicate(ports, 1));
    }
}

static void forget_results(cJSON *rec)
{
    cJSON_DeleteItemFromObject(rec, "network_results");
    cJSON_DeleteItemFromObject(rec, "ip");
    cJSON_DeleteItemFromObject(rec, "gateway");
    cJSON_DeleteItemFromObject(rec, "mac");
    cJSON_DeleteItemFromObject(rec, "ports");
}

int container_network_join(struct engine *e, const char *id, cJSON *rec, char **ret_netns,
                           struct error **err)
{
    *ret_netns = NULL;
    const cJSON *names = cJSON_GetObjectItem(rec, "networks");
    if (cJSON_GetArraySize(names) == 0)
        return 0;
    struct op_clock total = {0};
    cost_start(&total);
    _cleanup_free_ char *dir = xasprintf("%s/netns", e->globals->runroot);
    int r = mkdir_p(dir, 0700, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = netns_path_of(e, id);
    struct op_clock clock = {0};
    cost_start(&clock);
    if ((r = netns_create(path, err)) < 0)
        return r;
    log_cost(&clock, "network namespace create");
    forget_results(rec);
    cJSON *all_results = cJSON_AddObjectToObject(rec, "network_results");
    int index = 0;
    const cJSON *name;
    cJSON_ArrayForEach(name, names)
    {
        _cleanup_json_ cJSON *net = NULL;
        cost_start(&clock);
        r = network_get(e, name->valuestring, &net, err);
        if (r == 0)
            r = network_repair(e, net, err);
        if (r < 0)
            goto fail;
        log_cost(&clock, "network '%s': load and repair", name->valuestring);
        cJSON *results = cJSON_AddObjectToObject(all_results, name->valuestring);
        const cJSON *chain = cJSON_GetObjectItem(net, "drivers");
        int n = cJSON_GetArraySize(chain);
        for (int i = 0; i < n; i++) {
            const char *driver = cJSON_GetStringValue(cJSON_GetArrayItem(chain, i));
            struct plugin *p = NULL;
            _cleanup_json_ cJSON *join = join_request(rec, index, results);
            cJSON *result = NULL;
            cost_start(&clock);
            r = network_driver_find(e->plugins, driver ? driver : "", &p, err);
            if (r == 0)
                r = network_driver_join(p, net, id, path, join, &result, err);
            log_cost(&clock, "network '%s': driver '%s' join", name->valuestring, driver);
            if (r < 0) {
                /* This driver may have half-joined: its leave runs too. */
                cJSON_Delete(join);
                join = join_request(rec, index, results);
                leave_drivers(e, net, id, path, join, i + 1, NULL);
                cJSON_DeleteItemFromObject(all_results, name->valuestring);
                error_prefix(err, "network '%s'", name->valuestring);
                goto fail;
            }
            cJSON_AddItemToObject(results, driver, result ? result : cJSON_CreateObject());
        }
        summarize(rec, results);
        index++;
    }
    *ret_netns = TAKE_PTR(path);
    log_cost(&total, "network join");
    return 0;
fail:
    /* Networks joined before the failing one are left whole. */
    container_network_leave(e, id, rec, NULL);
    return r;
}

int container_network_leave(struct engine *e, const char *id, cJSON *rec, struct error **err)
{
    const cJSON *names = cJSON_GetObjectItem(rec, "networks");
    const cJSON *all_results = cJSON_GetObjectItem(rec, "network_results");
    _cleanup_free_ char *path = netns_path_of(e, id);
    struct op_clock total = {0};
    cost_start(&total);
    int failed = 0;
    for (int i = cJSON_GetArraySize(names) - 1; i >= 0; i--) {
        const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(names, i));
        _cleanup_json_ cJSON *net = NULL;
        struct error *local = NULL;
        if (!name || network_store_load(e->globals->root, name, &net, &local) < 0) {
            /* The network is gone: its drivers' gc cleans up. */
            error_free(&local);
            continue;
        }
        _cleanup_json_ cJSON *join = join_request(rec, i, cJSON_GetObjectItem(all_results, name));
        /* The namespace file goes right after: the kernel removes the veth
         * pair with the namespace, sparing a 20 ms delete (MACHINE.md). */
        cJSON_AddBoolToObject(join, "netns_teardown", 1);
        if (leave_drivers(e, net, id, path, join,
                          cJSON_GetArraySize(cJSON_GetObjectItem(net, "drivers")), &local) < 0) {
            log_warning("leave network '%s': %s", name, local ? local->msg : "failed");
            failed++;
        }
        error_free(&local);
    }
    struct op_clock clock = {0};
    cost_start(&clock);
    int r = netns_remove(path, err);
    if (cJSON_GetArraySize(names) > 0) {
        log_cost(&clock, "network namespace remove");
        log_cost(&total, "network leave");
    }
    forget_results(rec);
    if (r < 0)
        return r;
    return failed ? error_set_plain(err, EIO, "leaving %d network(s) failed", failed) : 0;
}
