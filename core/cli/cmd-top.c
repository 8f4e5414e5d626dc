/* berth top: the processes of a container's cgroup, read from /proc. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "lifecycle/container-cgroup.h"
#include "lifecycle/engine.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/proc-path.h"

/* uid, CPU time and command line of PID; 0, or -errno when it is gone. */
static int process_info(pid_t pid, char *user, size_t ulen, char *cpu, size_t clen, char **ret_cmd)
{
    char dir[64], path[80];
    int r = proc_pid_path(pid, "", dir, sizeof(dir));
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "%sstatus", dir);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char line[256];
    long uid = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Uid: %ld", &uid) == 1)
            break;
    struct passwd *pw = uid >= 0 ? getpwuid((uid_t)uid) : NULL;
    if (pw)
        snprintf(user, ulen, "%s", pw->pw_name);
    else
        snprintf(user, ulen, "%ld", uid);

    snprintf(path, sizeof(path), "%sstat", dir);
    _cleanup_free_ char *stat = NULL;
    struct error *local = NULL;
    if (read_file(path, &stat, NULL, &local) < 0) {
        error_free(&local);
        return -ESRCH;
    }
    char *p = strrchr(stat, ')');
    unsigned long long utime = 0, stime = 0;
    /* After ") ": state is field 3; utime and stime are fields 14 and 15. */
    if (p)
        (void)sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                     &stime);
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long secs = (utime + stime) / (unsigned long long)(hz > 0 ? hz : 100);
    snprintf(cpu, clen, "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);

    snprintf(path, sizeof(path), "%scmdline", dir);
    _cleanup_free_ char *cmd = NULL;
    size_t len = 0;
    if (read_file(path, &cmd, &len, &local) < 0)
        error_free(&local);
    if (cmd && len > 0) {
        for (size_t i = 0; i + 1 < len; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        *ret_cmd = TAKE_PTR(cmd);
        return 0;
    }
    /* A kernel thread or a zombie: its name in brackets, as ps. */
    char *open_paren = strchr(stat, '(');
    if (open_paren && p && p > open_paren)
        *ret_cmd = xasprintf("[%.*s]", (int)(p - open_paren - 1), open_paren + 1);
    else
        *ret_cmd = strdup("?");
    return 0;
}

int cmd_top(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"help", 0, 0, 1}, {NULL, 0, 0, 0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "top");
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        printf("Usage: berth top CONTAINER\n\n"
               "List the processes of a running container (its cgroup): PID (on the host),\n"
               "USER, TIME (CPU) and COMMAND.\n");
        return 0;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error("top", "no container given (see 'berth top --help')");
    if (p.index + 1 < argc)
        return cli_usage_error("top", "ps options are not supported ('%s')", argv[p.index + 1]);
    struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report("top", err);
    _cleanup_json_ cJSON *rec = NULL;
    _cleanup_cgroup_spec_ struct cgroup_spec *cg = NULL;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    int r = container_store_find(e->containers, argv[p.index], &rec, &err);
    engine_free(e);
    if (r < 0)
        return cli_report("top", err);
    const char *state = rec_str(rec, "state");
    if (!state || (strcmp(state, "running") && strcmp(state, "paused")))
        error_set_plain(&err, EBUSY, "container '%s' is not running", argv[p.index]);
    else if (container_cgroup_load(rec, &cg, &err) == 0 && !cg)
        error_set_plain(&err, EOPNOTSUPP, "container '%s' has no cgroup", argv[p.index]);
    else if (cg)
        cgroup_list_pids(cg, &pids, &n, &err);
    if (err)
        return cli_report("top", err);
    printf("%-8s  %-10s  %-8s  %s\n", "PID", "USER", "TIME", "COMMAND");
    for (size_t i = 0; i < n; i++) {
        char user[64], cpu[32];
        _cleanup_free_ char *cmd = NULL;
        if (process_info(pids[i], user, sizeof(user), cpu, sizeof(cpu), &cmd) < 0)
            continue; /* gone meanwhile */
        printf("%-8d  %-10s  %-8s  %s\n", (int)pids[i], user, cpu, cmd);
    }
    return 0;
}
