/*
 * berth plugin test: runs the conformance suite of a plugin's kind
 * (sdk/conformance/) in mount and network namespaces of its own, with a
 * temporary state and run directory, then checks that the plugin left
 * nothing: no mount, no link, no file named after an object the suite made,
 * no child process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../sdk/conformance/conformance.h"
#include "cli/cli.h"
#include "plugin/plugin-host.h"
#include "plugin/plugin-registry.h"
#include "runtime/runtime-internal.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/log.h"

static const char test_help[] =
    "Usage: berth plugin test [--kind KIND] [-v] [-j N] FILE.so|NAME\n"
    "\n"
    "Runs the conformance suite of the plugin's kind (storage, volume, network,\n"
    "hook) against FILE.so, or against the plugin NAME found in the plugin path.\n"
    "The suite runs in new mount and network namespaces with a temporary state\n"
    "and run directory, so nothing outside it is touched; at the end it checks\n"
    "that the plugin left no mount, link, file or process behind. Each case\n"
    "prints 'ok NAME' or 'FAIL NAME: why'. Exit status 0 if every case passed,\n"
    "1 if one failed, 125 if the suite could not run.\n"
    "\n"
    "Options:\n"
    "  --kind KIND   refuse to run unless the plugin is of KIND\n"
    "  -v            also print what each case does (# lines)\n"
    "  -j N          processes for the concurrency cases (default 4, at most 32)\n"
    "  --chain NAMES network: comma-separated drivers that join before this one\n"
    "                (e.g. --chain bridge to test nat), found in the plugin path\n";

struct runner {
    struct conformance c;
    struct berth_error perr;
};

static const char *runner_error_text(struct conformance *c)
{
    struct runner *r = c->runner;
    return r->perr.error ? r->perr.error->msg : NULL;
}

static void runner_error_reset(struct conformance *c)
{
    struct runner *r = c->runner;
    error_free(&r->perr.error);
}

/* The mount points of this namespace, one per line. */
static char *mount_points(void)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return strdup("");
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    if (!m)
        return strdup("");
    char line[8192];
    while (fgets(line, sizeof(line), f)) {
        char *save = NULL, *field = strtok_r(line, " ", &save);
        for (int i = 0; field && i < 4; i++)
            field = strtok_r(NULL, " ", &save);
        if (field)
            fprintf(m, "%s\n", field);
    }
    if (fclose(m) != 0) {
        free(out);
        return strdup("");
    }
    return out;
}

/* The links of this network namespace (not /sys/class/net: sysfs shows the
 * namespace of whoever mounted it). */
static char *link_names(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    if (!m)
        return strdup("");
    struct if_nameindex *links = if_nameindex();
    for (struct if_nameindex *l = links; l && l->if_index; l++)
        fprintf(m, "%s\n", l->if_name);
    if (links)
        if_freenameindex(links);
    if (fclose(m) != 0) {
        free(out);
        return strdup("");
    }
    return out;
}

static char *netfilter_rules(void)
{
    char *buf = calloc(1, 1 << 16);
    if (buf)
        conf_netfilter_rules(buf, 1 << 16);
    return buf ? buf : strdup("");
}

/* Lines of AFTER that BEFORE does not have, joined with ", ". */
static char *new_lines(const char *before, const char *after)
{
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    if (!m)
        return strdup("");
    _cleanup_free_ char *copy = strdup(after);
    char *save = NULL;
    int first = 1;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        _cleanup_free_ char *needle = xasprintf("\n%s\n", l);
        _cleanup_free_ char *hay = xasprintf("\n%s", before);
        if (strstr(hay, needle))
            continue;
        fprintf(m, "%s'%s'", first ? "" : ", ", l);
        first = 0;
    }
    if (fclose(m) != 0) {
        free(out);
        return strdup("");
    }
    return out;
}

/* Our own children still alive (the suite waits for every worker). */
static char *child_processes(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
    char *text = NULL;
    if (read_file(path, &text, NULL, NULL) < 0)
        return strdup("");
    char *p = text + strlen(text);
    while (p > text && (p[-1] == ' ' || p[-1] == '\n'))
        *--p = '\0';
    return text;
}

static void check_leftovers(struct conformance *c, const char *mounts_before,
                            const char *links_before, const char *state_dir, const char *run_dir)
{
    _cleanup_free_ char *mounts_after = mount_points();
    _cleanup_free_ char *extra_mounts = new_lines(mounts_before, mounts_after);
    conf_check(c, !*extra_mounts, "nothing left: mounts", "still mounted: %s", extra_mounts);

    _cleanup_free_ char *links_after = link_names();
    _cleanup_free_ char *extra_links = new_lines(links_before, links_after);
    conf_check(c, !*extra_links, "nothing left: links", "links left: %s", extra_links);

    char found[4096] = "";
    int left = 0;
    for (unsigned i = 0; i < c->n_tracked && !left; i++)
        left = conf_find_name(state_dir, c->tracked[i], found, sizeof(found)) ||
               conf_find_name(run_dir, c->tracked[i], found, sizeof(found));
    conf_check(c, !left, "nothing left: files", "'%s' is left after remove and gc", found);

    _cleanup_free_ char *children = child_processes();
    conf_check(c, !*children, "nothing left: processes", "child processes left: %s", children);
    /* They are ours: do not let them outlive the test. */
    char *save = NULL;
    for (char *w = strtok_r(children, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        pid_t pid = (pid_t)atoi(w);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
}

/* Enters new mount and network namespaces: nothing the suite mounts or
 * links reaches the host, and all of it dies with this process. */
static int enter_namespaces(struct error **err)
{
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
        return error_set(err, errno, "cannot make mount and network namespaces (run as root)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return error_set(err, errno, "cannot make the mount namespace private");
    return loopback_up(err);
}

struct test_args {
    const char *kind;
    const char *target;
    const char *chain;
    int verbose;
    unsigned jobs;
};

static int parse_args(int argc, char **argv, struct test_args *a)
{
    a->jobs = 4;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
            a->verbose = 1;
        } else if (!strcmp(arg, "--kind") && i + 1 < argc) {
            a->kind = argv[++i];
        } else if (!strncmp(arg, "--kind=", 7)) {
            a->kind = arg + 7;
        } else if (!strcmp(arg, "--chain") && i + 1 < argc) {
            a->chain = argv[++i];
        } else if (!strcmp(arg, "-j") && i + 1 < argc) {
            long n = strtol(argv[++i], NULL, 10);
            if (n < 1 || n > 32)
                return cli_usage_error("plugin test", "-j takes 1 to 32, not '%s'", argv[i]);
            a->jobs = (unsigned)n;
        } else if (arg[0] == '-') {
            return cli_usage_error("plugin test", "unknown option '%s'", arg);
        } else if (a->target) {
            return cli_usage_error("plugin test", "expected one FILE.so or NAME");
        } else {
            a->target = arg;
        }
    }
    if (!a->target)
        return cli_usage_error("plugin test", "expected one FILE.so or NAME");
    if (a->kind && strcmp(a->kind, "storage") && strcmp(a->kind, "volume") &&
        strcmp(a->kind, "network") && strcmp(a->kind, "hook"))
        return cli_usage_error("plugin test", "unknown kind '%s' (storage, volume, network, hook)",
                               a->kind);
    return 0;
}

/* The directories to load from: TARGET's file staged alone, or the plugin
 * path when TARGET is a NAME (or --chain needs other plugins). */
static int stage(struct cli_globals *g, const struct test_args *a, const char *tmp,
                 char ***ret_dirs, char **ret_name, struct error **err)
{
    /* parse_args refused a missing target; the analyzer does not know that
     * cli_usage_error returns non-zero. */
    // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
    int is_file = strchr(a->target, '/') || strstr(a->target, ".so");
    size_t n = 0;
    _cleanup_strv_ char **dirs = calloc(16 + (g->plugin_path ? 16 : 0), sizeof(char *));
    if (!dirs)
        return error_set(err, ENOMEM, "plugin test");
    if (is_file) {
        char abs[4096];
        if (!realpath(a->target, abs))
            return error_set(err, errno, "'%s'", a->target);
        _cleanup_free_ char *dir = xasprintf("%s/plugins", tmp);
        if (mkdir_p(dir, 0700, err) < 0)
            return -EIO;
        const char *base = strrchr(abs, '/') + 1;
        _cleanup_free_ char *link =
            xasprintf("%s/%s%s", dir, base, strstr(base, ".so") ? "" : ".so");
        if (symlink(abs, link) < 0)
            return error_set(err, errno, "stage '%s'", a->target);
        dirs[n++] = TAKE_PTR(dir);
        *ret_name = NULL;
    } else {
        *ret_name = strdup(a->target);
    }
    if (!is_file || a->chain)
        for (size_t i = 0; g->plugin_path && g->plugin_path[i] && n < 31; i++)
            dirs[n++] = strdup(g->plugin_path[i]);
    *ret_dirs = TAKE_PTR(dirs);
    return 0;
}

static int run_suite(const struct plugin *p, const struct test_args *a,
                     const struct conf_plugin *chain, size_t n_chain, const char *work,
                     const char *run_dir)
{
    const char *kind = plugin_kind_name(p->desc->kind);
    printf("# %s plugin '%s' %s (ABI %u.%u), %s\n", kind, p->desc->name,
           p->desc->version ? p->desc->version : "", p->desc->abi_major, p->desc->abi_minor,
           p->path);
    fflush(stdout);
    _cleanup_free_ char *mounts_before = mount_points();
    _cleanup_free_ char *links_before = link_names();
    _cleanup_free_ char *rules_before = netfilter_rules();
    char token[32];
    snprintf(token, sizeof(token), "conf%x%04lx", (unsigned)getpid(),
             (unsigned long)time(NULL) & 0xffff);
    struct runner r = {
        .c =
            {
                .desc = p->desc,
                .state = p->state,
                .services = &p->services,
                .error_text = runner_error_text,
                .error_reset = runner_error_reset,
                .work_dir = work,
                .token = token,
                .verbose = a->verbose,
                .concurrency = a->jobs,
                .chain = chain,
                .n_chain = (unsigned)n_chain,
            },
    };
    r.c.err = &r.perr;
    r.c.runner = &r;
    conformance_run(&r.c);
    error_free(&r.perr.error);
    conf_undo_mounts(work);
    check_leftovers(&r.c, mounts_before, links_before, p->services.state_dir, run_dir);
    _cleanup_free_ char *rules_after = netfilter_rules();
    _cleanup_free_ char *extra_rules = new_lines(rules_before, rules_after);
    conf_check(&r.c, !*extra_rules, "nothing left: netfilter rules (iptables-save, nft)",
               "rules left: %s", extra_rules);
    printf("# %u passed, %u failed, %u skipped\n", r.c.n_ok, r.c.n_fail, r.c.n_skip);
    return r.c.n_fail ? 1 : 0;
}

int cmd_plugin_test(struct cli_globals *g, int argc, char **argv)
{
    if (argc >= 3 && cli_is_help(argv[2])) {
        fputs(test_help, stdout);
        return 0;
    }
    struct test_args a = {0};
    int status = parse_args(argc, argv, &a);
    if (status)
        return status;
    struct error *err _cleanup_error_ = NULL;
    if (enter_namespaces(&err) < 0)
        return cli_report("plugin test", err);
    const char *tmpdir = getenv("TMPDIR");
    _cleanup_free_ char *tmp =
        xasprintf("%s/berth-plugin-test-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(tmp))
        return cli_usage_error("plugin test", "cannot make a temporary directory: %s",
                               strerror(errno));
    _cleanup_free_ char *state_root = xasprintf("%s/state", tmp);
    _cleanup_free_ char *run_dir = xasprintf("%s/run", tmp);
    _cleanup_free_ char *work = xasprintf("%s/work", tmp);
    _cleanup_strv_ char **dirs = NULL;
    _cleanup_free_ char *name = NULL;
    struct plugin_registry *reg = NULL;
    if (mkdir_p(state_root, 0700, &err) < 0 || mkdir_p(run_dir, 0700, &err) < 0 ||
        mkdir_p(work, 0700, &err) < 0 || stage(g, &a, tmp, &dirs, &name, &err) < 0) {
        status = cli_report("plugin test", err);
        goto out;
    }
    if (!a.verbose)
        log_set_level(LOG_LEVEL_ERROR);
    if (plugin_registry_load(dirs, state_root, run_dir, &reg, &err) < 0) {
        status = cli_report("plugin test", err);
        goto out;
    }
    struct plugin *p = NULL;
    if (name) {
        p = plugin_registry_find(reg, 0, name);
        if (!p) {
            status =
                cli_usage_error("plugin test", "no plugin named '%s' in the plugin path", name);
            goto out;
        }
    } else if (reg->n_refused > 0 && !strncmp(reg->refused[0].path, dirs[0], strlen(dirs[0]))) {
        status =
            cli_usage_error("plugin test", "plugin '%s': %s", a.target, reg->refused[0].reason);
        goto out;
    } else if (reg->n_plugins > 0 && !strncmp(reg->plugins[0]->path, dirs[0], strlen(dirs[0]))) {
        p = reg->plugins[0];
    } else {
        status = cli_usage_error("plugin test", "plugin '%s': not loaded", a.target);
        goto out;
    }
    const char *kind = plugin_kind_name(p->desc->kind);
    if (a.kind && strcmp(a.kind, kind)) {
        status = cli_usage_error("plugin test", "plugin '%s' is a %s plugin, not %s", a.target,
                                 kind, a.kind);
        goto out;
    }
    if (a.chain && p->desc->kind != BERTH_KIND_NETWORK) {
        status = cli_usage_error("plugin test", "--chain is for network plugins");
        goto out;
    }
    struct conf_plugin chain[8];
    size_t n_chain = 0;
    if (a.chain) {
        _cleanup_free_ char *copy = strdup(a.chain);
        char *save = NULL;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
            const struct plugin *q = plugin_registry_find(reg, BERTH_KIND_NETWORK, w);
            if (!q || n_chain >= 7) {
                status = cli_usage_error("plugin test", "--chain: no network plugin '%s'", w);
                goto out;
            }
            chain[n_chain++] = (struct conf_plugin){q->desc, q->state, &q->services};
        }
    }

    status = run_suite(p, &a, chain, n_chain, work, run_dir);
out:
    plugin_registry_free(reg);
    conf_undo_mounts(tmp);
    rm_rf(tmp, NULL);
    return status;
}
