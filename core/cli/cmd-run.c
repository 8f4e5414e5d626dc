/* berth run and berth create: parse the container's flags into create_options. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "cli/security-opts.h"
#include "cli/limit-options.h"
#include "image/image-store.h"
#include "lifecycle/engine.h"
#include "lifecycle/lifecycle.h"
#include "monitor/monitor-options.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

enum {
    OPT_RM = 1,
    OPT_NAME,
    OPT_ENV,
    OPT_ENV_FILE,
    OPT_WORKDIR,
    OPT_USER,
    OPT_HOSTNAME,
    OPT_ENTRYPOINT,
    OPT_DNS,
    OPT_DNS_SEARCH,
    OPT_DNS_OPTION,
    OPT_ADD_HOST,
    OPT_LABEL,
    OPT_STORAGE,
    OPT_NETWORK,
    OPT_VOLUME,
    OPT_MOUNT,
    OPT_TMPFS,
    OPT_READ_ONLY,
    OPT_PUBLISH,
    OPT_IP,
    OPT_INTERACTIVE,
    OPT_TTY,
    OPT_CGROUP_PARENT,
    OPT_CGROUPS,
    OPT_MEMORY, /* the limits, in enum limit_option's order */
    OPT_MEMORY_SWAP,
    OPT_CPUS,
    OPT_CPU_SHARES,
    OPT_CPUSET_CPUS,
    OPT_PIDS_LIMIT,
    OPT_DETACH, /* detached containers: core/monitor/ */
    OPT_RESTART,
    OPT_STOP_SIGNAL,
    OPT_LOG_OPT,
    OPT_INIT,
    OPT_CAP_ADD, /* security flags, in enum security_flag's order */
    OPT_CAP_DROP,
    OPT_PRIVILEGED,
    OPT_SECURITY_OPT,
    OPT_DEVICE,
    OPT_SYSCTL,
    OPT_ULIMIT,
    OPT_USERNS,
    OPT_UIDMAP,
    OPT_GIDMAP,
    OPT_HELP,
};

static const struct cli_option run_options[] = {
    {"rm", 0, 0, OPT_RM},
    {"name", 0, 1, OPT_NAME},
    {"env", 'e', 1, OPT_ENV},
    {"env-file", 0, 1, OPT_ENV_FILE},
    {"workdir", 'w', 1, OPT_WORKDIR},
    {"user", 'u', 1, OPT_USER},
    {"hostname", 'h', 1, OPT_HOSTNAME},
    {"entrypoint", 0, 1, OPT_ENTRYPOINT},
    {"dns", 0, 1, OPT_DNS},
    {"dns-search", 0, 1, OPT_DNS_SEARCH},
    {"dns-option", 0, 1, OPT_DNS_OPTION},
    {"add-host", 0, 1, OPT_ADD_HOST},
    {"label", 'l', 1, OPT_LABEL},
    {"storage-driver", 0, 1, OPT_STORAGE},
    {"network", 0, 1, OPT_NETWORK},
    {"net", 0, 1, OPT_NETWORK},
    {"volume", 'v', 1, OPT_VOLUME},
    {"mount", 0, 1, OPT_MOUNT},
    {"tmpfs", 0, 1, OPT_TMPFS},
    {"read-only", 0, 0, OPT_READ_ONLY},
    {"publish", 'p', 1, OPT_PUBLISH},
    {"ip", 0, 1, OPT_IP},
    {"interactive", 'i', 0, OPT_INTERACTIVE},
    {"tty", 't', 0, OPT_TTY},
    {"cgroup-parent", 0, 1, OPT_CGROUP_PARENT},
    {"cgroups", 0, 1, OPT_CGROUPS},
    {"memory", 'm', 1, OPT_MEMORY},
    {"memory-swap", 0, 1, OPT_MEMORY_SWAP},
    {"cpus", 0, 1, OPT_CPUS},
    {"cpu-shares", 'c', 1, OPT_CPU_SHARES},
    {"cpuset-cpus", 0, 1, OPT_CPUSET_CPUS},
    {"pids-limit", 0, 1, OPT_PIDS_LIMIT},
    {"detach", 'd', 0, OPT_DETACH},
    {"restart", 0, 1, OPT_RESTART},
    {"stop-signal", 0, 1, OPT_STOP_SIGNAL},
    {"log-opt", 0, 1, OPT_LOG_OPT},
    {"init", 0, 0, OPT_INIT},
    {"cap-add", 0, 1, OPT_CAP_ADD},
    {"cap-drop", 0, 1, OPT_CAP_DROP},
    {"privileged", 0, 0, OPT_PRIVILEGED},
    {"security-opt", 0, 1, OPT_SECURITY_OPT},
    {"device", 0, 1, OPT_DEVICE},
    {"sysctl", 0, 1, OPT_SYSCTL},
    {"ulimit", 0, 1, OPT_ULIMIT},
    {"userns", 0, 1, OPT_USERNS},
    {"uidmap", 0, 1, OPT_UIDMAP},
    {"gidmap", 0, 1, OPT_GIDMAP},
    {"help", 0, 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

static const char run_help[] =
    "Usage: berth %s [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
    "\n"
    "%s\n"
    "\n"
    "Options:\n"
    "      --rm                    remove the container when it exits%s\n"
    "      --name NAME             name the container (default: a random name)\n"
    "  -e, --env KEY=VALUE         set an environment variable (KEY alone: take berth's)\n"
    "      --env-file FILE         read KEY=VALUE lines from FILE ('#' comments)\n"
    "  -w, --workdir DIR           working directory inside the container (absolute)\n"
    "  -u, --user UID[:GID]        user to run as: numeric, or a name from the image's\n"
    "                              /etc/passwd\n"
    "  -h, --hostname NAME         container host name (default: the short id)\n"
    "      --entrypoint CMD        run CMD instead of the image's entrypoint, without\n"
    "                              the image's command ('': no entrypoint)\n"
    "      --dns IP                a nameserver for /etc/resolv.conf (replaces the host's)\n"
    "      --dns-search DOMAIN     a search domain ('.': none)\n"
    "      --dns-option OPT        a resolver option (ndots:2, edns0…)\n"
    "      --add-host HOST:IP      a line of /etc/hosts\n"
    "  -l, --label KEY[=VALUE]     a label of the container (ps --filter label=…)\n"
    "      --storage-driver NAME   storage plugin for the root filesystem (default: the\n"
    "                              configuration's storage_driver, else overlay)\n"
    "      --network NAME          network: none (own namespace, loopback only), host\n"
    "                              (the host's), or a network's name (default: the\n"
    "                              configuration's default_network, else berth0)\n"
    "  -p, --publish SPEC          publish a port: [HOSTIP:]HOSTPORT:PORT[/tcp|/udp],\n"
    "                              or PORT alone for a free host port\n"
    "      --ip ADDRESS            the container's address on its network\n"
    "  -v, --volume SRC:DST[:ro]   a named volume (made on first use) or a host\n"
    "                              directory (absolute SRC) at DST\n"
    "      --mount SPEC            type=bind|volume|tmpfs,source=…,target=…[,readonly]\n"
    "      --tmpfs DST[:OPTS]      a tmpfs at DST (OPTS: size=…, mode=…)\n"
    "      --read-only             mount the root filesystem read-only\n"
    "  -m, --memory SIZE           memory limit (512m, 1g; binary units)\n"
    "      --memory-swap SIZE      memory + swap limit (-1: unlimited swap)\n"
    "      --cpus N                CPU time limit in CPUs (1.5)\n"
    "  -c, --cpu-shares N          relative CPU weight (2 to 262144, default 1024)\n"
    "      --cpuset-cpus LIST      CPUs the container may use (0-1,3)\n"
    "      --pids-limit N          most processes at once (-1: unlimited)\n"
    "      --cgroup-parent PATH    cgroup under which the container's goes (default:\n"
    "                              berth's own cgroup + /berth)\n"
    "      --cgroups enabled|disabled  disabled: no cgroup of its own (no limits,\n"
    "                              stats, top or pause), as podman's --cgroups\n"
    "  -i, --interactive           with -t: berth's stdin goes to the terminal (without\n"
    "                              -t, stdin is always passed through)\n"
    "  -t, --tty                   give the command a terminal (with -i: stdin must be one)\n"
    "  -d, --detach                run in the background under a monitor; print the id\n"
    "      --restart POLICY        no (default), on-failure[:N], always, unless-stopped\n"
    "      --stop-signal SIG       signal 'stop' sends first (default SIGTERM)\n"
    "      --log-opt K=V           json-file log rotation: max-size=10m, max-file=3\n"
    "      --init                  run berth-init as pid 1: it reaps and forwards signals\n"
    "      --cap-add CAP           add a capability (CHOWN or CAP_CHOWN, any case; ALL)\n"
    "      --cap-drop CAP          drop a capability from the default set (ALL: every one)\n"
    "      --privileged            give the container every capability, no seccomp filter,\n"
    "                              every host device in /dev, /sys and /proc writable and\n"
    "                              no masked or read-only paths (as docker does): root in\n"
    "                              it is root of the host\n"
    "      --security-opt OPT      seccomp=PROFILE.json (docker's format), seccomp=unconfined,\n"
    "                              no-new-privileges (always on; =false is refused)\n"
    "      --device HOST[:CONT][:rwm]  the host's device node at CONT (default HOST)\n"
    "      --sysctl KEY=VALUE      a namespaced sysctl: net.*, fs.mqueue.*, kernel.msg*,\n"
    "                              kernel.sem, kernel.shm*, kernel.domainname\n"
    "      --ulimit NAME=SOFT[:HARD]  an rlimit (nofile, nproc, core…; not above the\n"
    "                              current hard limit)\n"
    "      --userns MODE           host (default): no user namespace; auto[:size=N]: a\n"
    "                              namespace whose root is an unprivileged host uid, N\n"
    "                              (65536) ids from the subordinate ranges of 'berth' in\n"
    "                              /etc/subuid and /etc/subgid, unused by other containers\n"
    "      --uidmap C:H:S          map container uids C.. to host uids H.. (S of them; in\n"
    "                              the subordinate range; repeatable; a user namespace)\n"
    "      --gidmap C:H:S          the same for gids (default: as --uidmap)\n"
    "      --help                  print this help\n"
    "\n"
    "Exit status: the command's own; 125 if berth fails, 126 if the command cannot be\n"
    "run, 127 if it is not found.\n";

struct strv_builder {
    char **v;
    size_t n;
};

struct run_lists {
    struct strv_builder env, args, volumes, mounts, tmpfs, publish;
    struct strv_builder dns, dns_search, dns_options, add_hosts, labels;
    struct security_flags security;
    struct cgroup_limits limits;
    int detach;     /* -d */
    char *log_opts; /* every --log-opt, joined with ',' */
};

static void strv_push(struct strv_builder *b, const char *s)
{
    char **grown = realloc(b->v, (b->n + 2) * sizeof(char *));
    if (!grown)
        abort();
    b->v = grown;
    b->v[b->n++] = strdup(s);
    b->v[b->n] = NULL;
}

static void push_env(struct strv_builder *b, const char *kv)
{
    if (strchr(kv, '=')) {
        strv_push(b, kv);
        return;
    }
    const char *value = getenv(kv);
    if (value) {
        _cleanup_free_ char *full = xasprintf("%s=%s", kv, value);
        strv_push(b, full);
    }
}

static int read_env_file(struct strv_builder *b, const char *path, struct error **err)
{
    _cleanup_free_ char *text = NULL;
    int r = read_file(path, &text, NULL, err);
    if (r < 0)
        return error_prefix(err, "env file");
    char *save = NULL;
    int lineno = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (!*line || *line == '#')
            continue;
        if (*line == '=')
            return error_set(err, EINVAL, "env file '%s' line %d: empty variable name", path,
                             lineno);
        push_env(b, line);
    }
    return 0;
}

/* An IPv4 or IPv6 address, as text. */
static bool ip_address_valid(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int parse_run(const char *verb, int argc, char **argv, struct create_options *o,
                     struct run_lists *l, int *ret_help)
{
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v;
    int id;
    *ret_help = 0;
    while ((id = cli_next_option(&p, run_options, &v)) > 0) {
        struct error *err _cleanup_error_ = NULL;
        switch (id) {
        case OPT_RM:
            o->auto_remove = 1;
            break;
        case OPT_NAME:
            o->name = v;
            break;
        case OPT_ENV:
            if (!*v || *v == '=')
                return cli_usage_error(verb, "invalid environment variable '%s'", v);
            push_env(&l->env, v);
            break;
        case OPT_ENV_FILE:
            if (read_env_file(&l->env, v, &err) < 0)
                return cli_report(verb, err);
            break;
        case OPT_WORKDIR:
            if (v[0] != '/')
                return cli_usage_error(verb, "working directory '%s': must be absolute", v);
            o->cwd = v;
            break;
        case OPT_USER:
            if (!*v)
                return cli_usage_error(verb, "user: empty value");
            o->user = v;
            break;
        case OPT_HOSTNAME:
            if (!*v || strlen(v) > 64)
                return cli_usage_error(verb, "hostname '%s': must be 1 to 64 bytes", v);
            o->hostname = v;
            break;
        case OPT_ENTRYPOINT:
            o->entrypoint = v;
            break;
        case OPT_DNS:
            if (!ip_address_valid(v))
                return cli_usage_error(verb, "--dns '%s': not an IP address", v);
            strv_push(&l->dns, v);
            break;
        case OPT_DNS_SEARCH:
        case OPT_DNS_OPTION:
            if (!*v || v[strcspn(v, " \t\n")])
                return cli_usage_error(verb, "%s '%s': one word expected",
                                       id == OPT_DNS_SEARCH ? "--dns-search" : "--dns-option", v);
            strv_push(id == OPT_DNS_SEARCH ? &l->dns_search : &l->dns_options, v);
            break;
        case OPT_ADD_HOST: {
            const char *sep = strchr(v, ':');
            if (!sep || sep == v || v[strcspn(v, " \t\n")] || !ip_address_valid(sep + 1))
                return cli_usage_error(verb, "--add-host '%s': expected HOST:IP", v);
            strv_push(&l->add_hosts, v);
            break;
        }
        case OPT_LABEL:
            if (!*v || *v == '=')
                return cli_usage_error(verb, "--label '%s': expected KEY[=VALUE]", v);
            strv_push(&l->labels, v);
            break;
        case OPT_STORAGE:
            o->storage_driver = v;
            break;
        case OPT_NETWORK:
            o->network = v;
            break;
        case OPT_VOLUME:
            strv_push(&l->volumes, v);
            break;
        case OPT_MOUNT:
            strv_push(&l->mounts, v);
            break;
        case OPT_TMPFS:
            strv_push(&l->tmpfs, v);
            break;
        case OPT_READ_ONLY:
            o->read_only = 1;
            break;
        case OPT_PUBLISH:
            strv_push(&l->publish, v);
            break;
        case OPT_IP:
            o->ip = v;
            break;
        case OPT_INTERACTIVE:
            o->interactive = 1;
            break;
        case OPT_CGROUP_PARENT:
            o->cgroup_parent = v;
            break;
        case OPT_CGROUPS:
            if (strcmp(v, "enabled") && strcmp(v, "disabled"))
                return cli_usage_error(verb, "--cgroups '%s': use enabled or disabled", v);
            o->no_cgroup = !strcmp(v, "disabled");
            break;
        case OPT_MEMORY:
        case OPT_MEMORY_SWAP:
        case OPT_CPUS:
        case OPT_CPU_SHARES:
        case OPT_CPUSET_CPUS:
        case OPT_PIDS_LIMIT:
            if (limit_option_parse(verb, (enum limit_option)(id - OPT_MEMORY), v, &l->limits))
                return EXIT_BERTH_ERROR;
            break;
        case OPT_TTY:
            o->tty = 1;
            break;
        case OPT_DETACH:
            l->detach = 1;
            break;
        case OPT_RESTART: {
            struct restart_policy rp;
            if (restart_policy_parse(v, &rp) < 0)
                return cli_usage_error(verb,
                                       "invalid restart policy '%s': use no, on-failure[:N], "
                                       "always or unless-stopped",
                                       v);
            o->restart = v;
            break;
        }
        case OPT_STOP_SIGNAL:
            if (signal_parse(v) < 0)
                return cli_usage_error(verb, "invalid stop signal '%s'", v);
            o->stop_signal = v;
            break;
        case OPT_LOG_OPT: {
            char *joined = l->log_opts ? xasprintf("%s,%s", l->log_opts, v) : strdup(v);
            free(l->log_opts);
            o->log_opts = l->log_opts = joined;
            break;
        }
        case OPT_INIT:
            o->init = 1;
            break;
        case OPT_CAP_ADD:
        case OPT_CAP_DROP:
        case OPT_PRIVILEGED:
        case OPT_SECURITY_OPT:
        case OPT_DEVICE:
        case OPT_SYSCTL:
        case OPT_ULIMIT:
        case OPT_USERNS:
        case OPT_UIDMAP:
        case OPT_GIDMAP:
            security_flags_add(&l->security, (enum security_flag)(id - OPT_CAP_ADD), v);
            break;
        case OPT_HELP:
            *ret_help = 1;
            return 0;
        default:
            break;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error(verb, "no image given (see 'berth %s --help')", verb);
    /* Detached, the terminal is the monitor's (attach relays it). */
    if (o->tty && o->interactive && !l->detach && !isatty(STDIN_FILENO))
        return cli_usage_error(verb, "the input device is not a TTY");
    if (o->log_opts) {
        struct log_options lo;
        char why[256];
        if (log_options_parse(o->log_opts, &lo, why, sizeof(why)) < 0)
            return cli_usage_error(verb, "%s", why);
    }
    if (o->auto_remove && o->restart && strcmp(o->restart, "no"))
        return cli_usage_error(verb, "conflicting options: --restart and --rm");
    o->image_ref = argv[p.index++];
    for (int i = p.index; i < argc; i++)
        strv_push(&l->args, argv[i]);
    o->env = l->env.v;
    o->args = l->args.v;
    o->volumes = l->volumes.v;
    o->mount_specs = l->mounts.v;
    o->tmpfs = l->tmpfs.v;
    o->publish = l->publish.v;
    o->dns = l->dns.v;
    o->dns_search = l->dns_search.v;
    o->dns_options = l->dns_options.v;
    o->extra_hosts = l->add_hosts.v;
    o->labels = l->labels.v;
    o->security = security_flags_request(&l->security, o->network);
    o->limits = &l->limits;
    return 0;
}

/* As docker: a missing image that a registry may have is pulled first. */
static int pull_if_missing(struct cli_globals *g, struct engine *e, const char *ref,
                           struct error **err)
{
    struct image *img = NULL;
    struct error *probe = NULL;
    int r = ref ? image_store_resolve(e->images, ref, &img, &probe) : 0;
    image_free(img);
    bool missing = r < 0 && probe->errnum == ENOENT;
    error_free(&probe);
    _cleanup_free_ char *name = missing ? image_ref_normalize(ref) : NULL;
    if (!name)
        return 0; /* found, or not a reference: container_create reports it */
    /* docker's notice, on a terminal only: on a pipe a failed pull must stay
     * one line, like every other error. */
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "Unable to find image '%s' locally\n", ref);
    if (cli_pull_image(g, e, ref, 0, err) < 0)
        return error_prefix(err, "no image '%s' here; pull", ref);
    return 0;
}

static int run_or_create(struct cli_globals *g, int argc, char **argv, int create_only)
{
    const char *verb = argv[0];
    struct create_options o = {0};
    struct run_lists lists = {0};
    struct error *err _cleanup_error_ = NULL;
    struct engine *e = NULL;
    int help = 0;
    int status = parse_run(verb, argc, argv, &o, &lists, &help);
    if (help) {
        printf(run_help, verb,
               create_only ? "Create a container from IMAGE without starting it; print its id."
                           : "Run COMMAND in a new container from IMAGE, attached, and exit "
                             "with its status.",
               create_only ? " (when started with start -a)" : "");
        status = 0;
    }
    if (status != 0 || help)
        goto out;
    lists.security.req.subid_user = g->userns_user;
    /* --cgroup-parent wins over the configuration file's. */
    if (!o.cgroup_parent && !o.no_cgroup)
        o.cgroup_parent = g->cgroup_parent;
    if (engine_open(g, &e, &err) < 0) {
        status = cli_report(verb, err);
        goto out;
    }
    if (pull_if_missing(g, e, o.image_ref, &err) < 0) {
        status = cli_report(verb, err);
        engine_free(e);
        goto out;
    }
    if (create_only) {
        _cleanup_free_ char *id = NULL;
        if (container_create(e, &o, &id, &err) < 0)
            status = cli_report(verb, err);
        else
            printf("%s\n", id);
    } else if (lists.detach) {
        _cleanup_free_ char *id = NULL;
        if (container_run_detached(e, &o, &id, &err) < 0)
            status = cli_report(verb, err);
        else
            printf("%s\n", id);
    } else if (container_run(e, &o, &status, &err) < 0) {
        status = cli_report(verb, err);
    }
    engine_free(e);
out:
    strvfreep(&lists.env.v);
    strvfreep(&lists.args.v);
    strvfreep(&lists.volumes.v);
    strvfreep(&lists.mounts.v);
    strvfreep(&lists.tmpfs.v);
    strvfreep(&lists.publish.v);
    strvfreep(&lists.dns.v);
    strvfreep(&lists.dns_search.v);
    strvfreep(&lists.dns_options.v);
    strvfreep(&lists.add_hosts.v);
    strvfreep(&lists.labels.v);
    security_flags_free(&lists.security);
    free(lists.log_opts);
    cgroup_limits_clear(&lists.limits);
    return status;
}

int cmd_run(struct cli_globals *g, int argc, char **argv)
{
    return run_or_create(g, argc, argv, 0);
}

int cmd_create(struct cli_globals *g, int argc, char **argv)
{
    return run_or_create(g, argc, argv, 1);
}
