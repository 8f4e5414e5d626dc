/*
 * berth stats: CPU, memory, pids, network and block I/O of running
 * containers, from their cgroups and from /proc/PID/net/dev (the container's
 * network namespace seen through its first process).
 *
 * CPU %: streaming, the cgroup's CPU time over the wall time between two
 * samples a second apart (100 % = one CPU busy, as docker); with --no-stream
 * a single sample, the CPU time over the container's lifetime.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/container-cgroup.h"
#include "lifecycle/engine.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/json-util.h"
#include "util/proc-path.h"
#include "util/time-spec.h"

struct sample {
    char id[65];
    char name[128];
    int ok;
    int64_t when_ns;
    int64_t started_ns;
    struct cgroup_stats cg;
    uint64_t net_rx, net_tx;
};

static void net_io(pid_t pid, uint64_t *rx, uint64_t *tx)
{
    *rx = *tx = 0;
    char path[64];
    _cleanup_fclose_ FILE *f =
        proc_pid_path(pid, "net/dev", path, sizeof(path)) == 0 ? fopen(path, "re") : NULL;
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *dev = line + strspn(line, " ");
        if (!strcmp(dev, "lo"))
            continue;
        unsigned long long r, t;
        if (sscanf(colon + 1, "%llu %*u %*u %*u %*u %*u %*u %*u %llu", &r, &t) == 2) {
            *rx += r;
            *tx += t;
        }
    }
}

static uint64_t host_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

static void take_sample(const cJSON *rec, struct sample *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", rec_str(rec, "id") ? rec_str(rec, "id") : "");
    snprintf(s->name, sizeof(s->name), "%s", rec_str(rec, "name") ? rec_str(rec, "name") : "");
    s->started_ns = rec_int(rec, "started", 0) * 1000000;
    _cleanup_cgroup_spec_ struct cgroup_spec *cg = NULL;
    struct error *local = NULL;
    if (container_cgroup_load(rec, &cg, &local) < 0 || !cg ||
        cgroup_read_stats(cg, &s->cg, &local) < 0) {
        error_free(&local);
        return;
    }
    pid_t pid = (pid_t)rec_int(rec, "pid", 0);
    if (pid > 0)
        net_io(pid, &s->net_rx, &s->net_tx);
    s->when_ns = time_now_ns();
    s->ok = 1;
}

static double cpu_percent(const struct sample *prev, const struct sample *cur)
{
    if (!cur->cg.has_cpu)
        return 0;
    if (prev && prev->ok && cur->when_ns > prev->when_ns)
        return (double)(cur->cg.cpu_usage_ns - prev->cg.cpu_usage_ns) * 100.0 /
               (double)(cur->when_ns - prev->when_ns);
    if (cur->started_ns > 0 && cur->when_ns > cur->started_ns)
        return (double)cur->cg.cpu_usage_ns * 100.0 / (double)(cur->when_ns - cur->started_ns);
    return 0;
}

static void human(uint64_t v, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double d = (double)v;
    size_t u = 0;
    while (d >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        d /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.2f%s" : "%.0f%s", d, units[u]);
}

static cJSON *sample_json(const struct sample *prev, const struct sample *s)
{
    cJSON *o = cJSON_CreateObject();
    uint64_t limit = s->cg.memory_limit ? s->cg.memory_limit : host_memory();
    cJSON_AddStringToObject(o, "id", s->id);
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddNumberToObject(o, "cpu_percent", cpu_percent(prev, s));
    cJSON_AddNumberToObject(o, "cpu_usage_ns", (double)s->cg.cpu_usage_ns);
    cJSON_AddNumberToObject(o, "memory_usage", (double)s->cg.memory_usage);
    cJSON_AddNumberToObject(o, "memory_limit", (double)limit);
    cJSON_AddNumberToObject(o, "memory_percent",
                            limit ? (double)s->cg.memory_usage * 100.0 / (double)limit : 0);
    cJSON_AddNumberToObject(o, "pids", (double)s->cg.pids_current);
    if (s->cg.pids_limit)
        cJSON_AddNumberToObject(o, "pids_limit", (double)s->cg.pids_limit);
    cJSON_AddNumberToObject(o, "net_rx_bytes", (double)s->net_rx);
    cJSON_AddNumberToObject(o, "net_tx_bytes", (double)s->net_tx);
    cJSON_AddNumberToObject(o, "block_read_bytes", (double)s->cg.blk_read);
    cJSON_AddNumberToObject(o, "block_write_bytes", (double)s->cg.blk_write);
    return o;
}

static void print_table(const struct sample *prev, const struct sample *cur, size_t n)
{
    printf("%-12s  %-20s  %-7s  %-21s  %-7s  %-21s  %-21s  %s\n", "CONTAINER ID", "NAME", "CPU %",
           "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
    for (size_t i = 0; i < n; i++) {
        const struct sample *s = &cur[i];
        if (!s->ok)
            continue;
        uint64_t limit = s->cg.memory_limit ? s->cg.memory_limit : host_memory();
        char mu[16], ml[16], rx[16], tx[16], br[16], bw[16], mem[40], net[40], blk[40];
        human(s->cg.memory_usage, mu, sizeof(mu));
        human(limit, ml, sizeof(ml));
        human(s->net_rx, rx, sizeof(rx));
        human(s->net_tx, tx, sizeof(tx));
        human(s->cg.blk_read, br, sizeof(br));
        human(s->cg.blk_write, bw, sizeof(bw));
        snprintf(mem, sizeof(mem), "%s / %s", mu, ml);
        snprintf(net, sizeof(net), "%s / %s", rx, tx);
        snprintf(blk, sizeof(blk), "%s / %s", br, bw);
        printf("%-12.12s  %-20s  %6.2f%%  %-21s  %6.2f%%  %-21s  %-21s  %llu\n", s->id, s->name,
               cpu_percent(prev ? &prev[i] : NULL, s), mem,
               limit ? (double)s->cg.memory_usage * 100.0 / (double)limit : 0.0, net, blk,
               (unsigned long long)s->cg.pids_current);
    }
    fflush(stdout);
}

static int is_live(const cJSON *rec)
{
    const char *state = rec_str(rec, "state");
    return state && (!strcmp(state, "running") || !strcmp(state, "paused"));
}

/* The records to show: the named ones (which must be running), or every running one. */
static int select_records(struct engine *e, char **names, int n, cJSON **ret, struct error **err)
{
    cJSON *out = cJSON_CreateArray();
    if (n == 0) {
        cJSON *all = NULL;
        int r = container_store_list(e->containers, &all, err);
        if (r < 0) {
            cJSON_Delete(out);
            return r;
        }
        const cJSON *rec;
        cJSON_ArrayForEach(rec, all) if (is_live(rec))
            cJSON_AddItemToArray(out, cJSON_Duplicate(rec, 1));
        cJSON_Delete(all);
    }
    for (int i = 0; i < n; i++) {
        cJSON *rec = NULL;
        int r = container_store_find(e->containers, names[i], &rec, err);
        if (r == 0 && !is_live(rec)) {
            cJSON_Delete(rec);
            r = error_set_plain(err, EBUSY, "container '%s' is not running", names[i]);
        }
        if (r < 0) {
            cJSON_Delete(out);
            return r;
        }
        cJSON_AddItemToArray(out, rec);
    }
    *ret = out;
    return 0;
}

int cmd_stats(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"no-stream", 0, 0, 1}, {"format", 0, 1, 2}, {"help", 0, 0, 3}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "stats");
    const char *v;
    int id, no_stream = 0, json = 0;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            no_stream = 1;
        } else if (id == 2) {
            if (strcmp(v, "json") && strcmp(v, "table"))
                return cli_usage_error("stats", "unknown format '%s': use json or table", v);
            json = !strcmp(v, "json");
        } else {
            printf("Usage: berth stats [--no-stream] [--format table|json] [CONTAINER...]\n\n"
                   "Show CPU, memory, pids, network and block I/O of running containers\n"
                   "(all of them without names), every second until interrupted.\n\n"
                   "Options:\n"
                   "      --no-stream   print one sample and exit (CPU %% averaged over the\n"
                   "                    container's life)\n"
                   "      --format F    table (default) or json (an array per sample)\n");
            return 0;
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report("stats", err);
    _cleanup_json_ cJSON *recs = NULL;
    int r = select_records(e, argv + p.index, argc - p.index, &recs, &err);
    engine_free(e);
    if (r < 0)
        return cli_report("stats", err);
    size_t n = (size_t)cJSON_GetArraySize(recs);
    _cleanup_free_ struct sample *prev = calloc(n + 1, sizeof(*prev));
    _cleanup_free_ struct sample *cur = calloc(n + 1, sizeof(*cur));
    if (!prev || !cur)
        return cli_report("stats", NULL);
    int first = 1, tty = isatty(STDOUT_FILENO);
    for (;;) {
        for (size_t i = 0; i < n; i++)
            take_sample(cJSON_GetArrayItem(recs, (int)i), &cur[i]);
        if (no_stream || !first) {
            const struct sample *before = no_stream ? NULL : prev;
            if (json) {
                cJSON *arr = cJSON_CreateArray();
                for (size_t i = 0; i < n; i++)
                    if (cur[i].ok)
                        cJSON_AddItemToArray(arr, sample_json(before ? &before[i] : NULL, &cur[i]));
                _cleanup_free_ char *text =
                    no_stream ? cJSON_Print(arr) : cJSON_PrintUnformatted(arr);
                cJSON_Delete(arr);
                printf("%s\n", text ? text : "[]");
                fflush(stdout);
            } else {
                if (tty && !no_stream)
                    printf("\033[2J\033[H");
                print_table(before, cur, n);
            }
            if (no_stream)
                return 0;
        }
        first = 0;
        memcpy(prev, cur, n * sizeof(*cur));
        struct timespec ts = {.tv_sec = 1, .tv_nsec = 0};
        nanosleep(&ts, NULL);
    }
}
