/* berth network create|ls|inspect|rm|connect|disconnect|prune, and berth port. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/lifecycle.h"
#include "network/network-ops.h"
#include "network/network-store.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/lock.h"

static const char network_help[] =
    "Usage: berth network COMMAND\n"
    "\n"
    "Networks are chains of network driver plugins (bridge, then nat, by default).\n"
    "The default network 'berth0' (10.87.0.0/16, else the first free of 10.86.0.0/16\n"
    "… 10.80.0.0/16) is made on first use.\n"
    "\n"
    "Commands:\n"
    "  create [OPTIONS] NAME   make a network\n"
    "      --driver NAME[,NAME…]  'bridge' (= bridge,nat; the default) or an explicit chain,\n"
    "                             e.g. bridge,nat,my-plugin\n"
    "      --subnet CIDR          e.g. 10.90.0.0/24 (default: a free 10.89.x.0/24)\n"
    "      --gateway IP           default: the subnet's first address\n"
    "      --ip-range CIDR        allocate container addresses from this part only\n"
    "      --opt K=V              driver options: mtu=N, nat=iptables|nftables, bridge=NAME\n"
    "      --internal             no route out: no masquerade, forwarding out dropped\n"
    "  ls [--format json] [-q]    list networks\n"
    "  inspect NAME...            print networks as a JSON array\n"
    "  rm [-f] NAME...            remove networks; refused while containers are attached\n"
    "                             (-f detaches stopped containers first)\n"
    "  connect NETWORK CONTAINER     attach a stopped or created container (joined at start)\n"
    "  disconnect NETWORK CONTAINER  detach a stopped or created container\n"
    "  prune                      remove networks no container uses (not berth0)\n";

static int net_create(struct engine *e, int argc, char **argv)
{
    enum { O_DRIVER = 1, O_SUBNET, O_GATEWAY, O_RANGE, O_OPT, O_INTERNAL };
    static const struct cli_option opts[] = {{"driver", 'd', 1, O_DRIVER},
                                             {"subnet", 0, 1, O_SUBNET},
                                             {"gateway", 0, 1, O_GATEWAY},
                                             {"ip-range", 0, 1, O_RANGE},
                                             {"opt", 'o', 1, O_OPT},
                                             {"internal", 0, 0, O_INTERNAL},
                                             {NULL, 0, 0, 0}};
    struct network_create_options o = {0};
    _cleanup_json_ cJSON *options = cJSON_CreateObject();
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "network create");
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        switch (id) {
        case O_DRIVER:
            o.drivers = v;
            break;
        case O_SUBNET:
            o.subnet = v;
            break;
        case O_GATEWAY:
            o.gateway = v;
            break;
        case O_RANGE:
            o.ip_range = v;
            break;
        case O_OPT: {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v)
                return cli_usage_error("network create", "invalid --opt '%s': use KEY=VALUE", v);
            _cleanup_free_ char *key = strndup(v, (size_t)(eq - v));
            if (!strcmp(key, "mtu")) {
                char *end = NULL;
                long mtu = strtol(eq + 1, &end, 10);
                if (*end || mtu < 68 || mtu > 65535)
                    return cli_usage_error("network create", "invalid mtu '%s': 68 to 65535",
                                           eq + 1);
            }
            cJSON_DeleteItemFromObject(options, key);
            cJSON_AddStringToObject(options, key, eq + 1);
            break;
        }
        default:
            o.internal = 1;
            break;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc - 1)
        return cli_usage_error("network create", "expected one NAME (see 'berth network --help')");
    o.name = argv[p.index];
    o.options = options;
    struct error *err _cleanup_error_ = NULL;
    cJSON *rec = NULL;
    if (network_create(e, &o, &rec, &err) < 0)
        return cli_report("network create", err);
    printf("%s\n", cJSON_GetStringValue(cJSON_GetObjectItem(rec, "id")));
    cJSON_Delete(rec);
    return 0;
}

static int net_ls(struct engine *e, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"format", 0, 1, 1}, {"quiet", 'q', 0, 2}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "network ls");
    const char *v;
    int id, json = 0, quiet = 0;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            if (strcmp(v, "json") && strcmp(v, "table"))
                return cli_usage_error("network ls", "unknown format '%s'", v);
            json = !strcmp(v, "json");
        } else {
            quiet = 1;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_json_ cJSON *all = NULL;
    if (network_store_list(e->globals->root, &all, &err) < 0)
        return cli_report("network ls", err);
    if (json) {
        _cleanup_free_ char *text = cJSON_Print(all);
        printf("%s\n", text);
        return 0;
    }
    if (!quiet)
        printf("%-12s  %-20s  %-18s  %-16s  %s\n", "NETWORK ID", "NAME", "SUBNET", "GATEWAY",
               "DRIVERS");
    const cJSON *n;
    cJSON_ArrayForEach(n, all)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(n, "name"));
        if (quiet) {
            printf("%s\n", name);
            continue;
        }
        _cleanup_free_ char *chain = cJSON_PrintUnformatted(cJSON_GetObjectItem(n, "drivers"));
        printf("%-12.12s  %-20s  %-18s  %-16s  %s\n",
               cJSON_GetStringValue(cJSON_GetObjectItem(n, "id")), name,
               cJSON_GetStringValue(cJSON_GetObjectItem(n, "subnet")),
               cJSON_GetStringValue(cJSON_GetObjectItem(n, "gateway")), chain);
    }
    return 0;
}

static int net_inspect(struct engine *e, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("network inspect", "expected at least one network");
    cJSON *out = cJSON_CreateArray();
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        cJSON *rec = NULL;
        if (network_store_load(e->globals->root, argv[i], &rec, &err) < 0) {
            status = cli_report("network inspect", err);
            continue;
        }
        cJSON *users = NULL;
        if (network_users(e, argv[i], &users, &err) == 0) {
            cJSON *containers = cJSON_AddArrayToObject(rec, "containers");
            const cJSON *u;
            cJSON_ArrayForEach(u, users)
            {
                cJSON *c = cJSON_CreateObject();
                cJSON_AddStringToObject(c, "id", rec_str(u, "id"));
                cJSON_AddStringToObject(c, "name", rec_str(u, "name"));
                cJSON_AddStringToObject(c, "state", rec_str(u, "state"));
                if (rec_str(u, "ip"))
                    cJSON_AddStringToObject(c, "ip", rec_str(u, "ip"));
                cJSON_AddItemToArray(containers, c);
            }
            cJSON_Delete(users);
        }
        cJSON_AddItemToArray(out, rec);
    }
    _cleanup_free_ char *text = cJSON_Print(out);
    printf("%s\n", text);
    cJSON_Delete(out);
    return status;
}

static int net_rm(struct engine *e, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"force", 'f', 0, 1}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "network rm");
    const char *v;
    int id, force = 0;
    while ((id = cli_next_option(&p, opts, &v)) > 0)
        force = 1;
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error("network rm", "expected at least one network");
    int status = 0;
    for (int i = p.index; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        if (network_remove(e, argv[i], force, &err) < 0)
            status = cli_report("network rm", err);
        else
            printf("%s\n", argv[i]);
    }
    return status;
}

/* connect/disconnect change a container that is not running. */
static int net_attach(struct engine *e, int argc, char **argv, int connect)
{
    const char *verb = connect ? "network connect" : "network disconnect";
    if (argc != 3)
        return cli_usage_error(verb, "expected NETWORK CONTAINER");
    struct error *err _cleanup_error_ = NULL;
    _cleanup_json_ cJSON *net = NULL;
    if (network_get(e, argv[1], &net, &err) < 0)
        return cli_report(verb, err);
    _cleanup_json_ cJSON *rec = NULL;
    if (container_store_find(e->containers, argv[2], &rec, &err) < 0)
        return cli_report(verb, err);
    const char *id = rec_str(rec, "id");
    _cleanup_free_ char *lock_p = xasprintf("%s/containers/%s.lock", e->globals->root, id);
    int fd = try_lock_path(lock_p, &err);
    if (fd == -EWOULDBLOCK)
        return cli_usage_error(verb,
                               "container '%s' is running: connect and disconnect work on "
                               "created or stopped containers (joined at the next start)",
                               argv[2]);
    if (fd < 0)
        return cli_report(verb, err);
    cJSON_Delete(rec);
    rec = NULL;
    int status = 0;
    if (container_store_load(e->containers, id, &rec, &err) < 0) {
        unlock_fd(fd);
        return cli_report(verb, err);
    }
    const char *mode = rec_str(rec, "network");
    cJSON *nets = cJSON_GetObjectItem(rec, "networks");
    if (!nets)
        nets = cJSON_AddArrayToObject(rec, "networks");
    int found = -1;
    for (int i = 0; i < cJSON_GetArraySize(nets); i++)
        if (!strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(nets, i)) ?: "", argv[1]))
            found = i;
    if (connect && mode && !strcmp(mode, "host")) {
        status = cli_usage_error(verb, "container '%s' uses the host's network", argv[2]);
    } else if (connect && found >= 0) {
        status =
            cli_usage_error(verb, "container '%s' is already on network '%s'", argv[2], argv[1]);
    } else if (!connect && found < 0) {
        status = cli_usage_error(verb, "container '%s' is not on network '%s'", argv[2], argv[1]);
    } else {
        if (connect) {
            cJSON_AddItemToArray(nets, cJSON_CreateString(argv[1]));
            if (!cJSON_GetObjectItem(rec, "network_request"))
                cJSON_AddObjectToObject(rec, "network_request");
        } else {
            cJSON_DeleteItemFromArray(nets, found);
        }
        const char *first = cJSON_GetStringValue(cJSON_GetArrayItem(nets, 0));
        rec_set_str(rec, "network", first ? first : "none");
        if (container_store_save(e->containers, rec, &err) < 0)
            status = cli_report(verb, err);
    }
    unlock_fd(fd);
    return status;
}

static int net_prune(struct engine *e)
{
    struct error *err _cleanup_error_ = NULL;
    _cleanup_json_ cJSON *all = NULL;
    if (network_store_list(e->globals->root, &all, &err) < 0)
        return cli_report("network prune", err);
    const cJSON *n;
    int status = 0;
    cJSON_ArrayForEach(n, all)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(n, "name"));
        cJSON *users = NULL;
        if (!strcmp(name, "berth0") || network_users(e, name, &users, &err) < 0) {
            error_free(&err);
            continue;
        }
        int used = cJSON_GetArraySize(users) > 0;
        cJSON_Delete(users);
        if (used)
            continue;
        if (network_remove(e, name, 0, &err) < 0) {
            status = cli_report("network prune", err);
            error_free(&err);
        } else {
            printf("%s\n", name);
        }
    }
    return status;
}

int cmd_network(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1]) || (argc > 2 && cli_is_help(argv[2]))) {
        fputs(network_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    const char *sub = argv[1];
    static const char *const subs[] = {"create",  "ls",         "list",  "inspect", "rm",
                                       "connect", "disconnect", "prune", NULL};
    int known = 0;
    for (int i = 0; subs[i]; i++)
        known |= !strcmp(sub, subs[i]);
    if (!known)
        return cli_usage_error("network", "unknown command '%s' (see 'berth network --help')", sub);
    struct engine *e = NULL;
    int status = cli_open_engine(g, "network", &e);
    if (status)
        return status;
    if (!strcmp(sub, "create"))
        status = net_create(e, argc - 1, argv + 1);
    else if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
        status = net_ls(e, argc - 1, argv + 1);
    else if (!strcmp(sub, "inspect"))
        status = net_inspect(e, argc - 1, argv + 1);
    else if (!strcmp(sub, "rm"))
        status = net_rm(e, argc - 1, argv + 1);
    else if (!strcmp(sub, "connect"))
        status = net_attach(e, argc - 1, argv + 1, 1);
    else if (!strcmp(sub, "disconnect"))
        status = net_attach(e, argc - 1, argv + 1, 0);
    else
        status = net_prune(e);
    engine_free(e);
    return status;
}

int cmd_port(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs("Usage: berth port CONTAINER\n\nPrint the container's published ports as\n"
              "CONTAINERPORT/PROTO -> HOSTIP:HOSTPORT, one per line.\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    if (argc > 2)
        return cli_usage_error("port", "expected one container");
    struct engine *e = NULL;
    int status = cli_open_engine(g, "port", &e);
    if (status)
        return status;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_json_ cJSON *rec = NULL;
    if (container_store_find(e->containers, argv[1], &rec, &err) < 0) {
        engine_free(e);
        return cli_report("port", err);
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(rec, "ports"))
    {
        printf("%d/%s -> %s:%d\n", cJSON_GetObjectItem(p, "container_port")->valueint,
               cJSON_GetStringValue(cJSON_GetObjectItem(p, "protocol")),
               cJSON_GetStringValue(cJSON_GetObjectItem(p, "host_ip")),
               cJSON_GetObjectItem(p, "host_port")->valueint);
    }
    engine_free(e);
    return 0;
}
