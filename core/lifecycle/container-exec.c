/*
 * berth exec: finds the running container's first process in its record
 * (pid and start time, so a reused pid is never joined), its bundle and its
 * cgroup, and has the runtime start the process there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lifecycle/container-exec.h"
#include "runtime/exec.h"
#include "runtime/terminal.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"

#define CGROUP_MOUNT "/sys/fs/cgroup"

/*
 * "cgroup_path" of the record: one directory (v2), or one per v1 hierarchy
 * ({"memory": DIR, …}, or a list); relative paths are under /sys/fs/cgroup.
 * Absent: none to join.
 */
static char **record_cgroups(const cJSON *rec)
{
    const cJSON *j = cJSON_GetObjectItem(rec, "cgroup_path");
    int many = cJSON_IsArray(j) || cJSON_IsObject(j);
    int n = many ? cJSON_GetArraySize(j) : cJSON_IsString(j) ? 1 : 0;
    char **v = calloc((size_t)n + 1, sizeof(char *));
    if (!v)
        abort();
    int m = 0;
    for (int i = 0; i < n; i++) {
        const char *s =
            many ? cJSON_GetStringValue(cJSON_GetArrayItem(j, i)) : cJSON_GetStringValue(j);
        if (!s || !*s)
            continue;
        v[m++] = s[0] == '/' ? strdup(s) : xasprintf(CGROUP_MOUNT "/%s", s);
    }
    return v;
}

int container_exec(struct engine *e, const char *ref, const struct exec_options *o,
                   int *ret_exit_status, struct error **err)
{
    cJSON *rec = NULL;
    int r = container_store_find(e->containers, ref, &rec, err);
    if (r < 0)
        return r;
    _cleanup_json_ cJSON *owned = rec;
    (void)owned; /* only freed; clang's -Wunused-variable */
    const char *state = rec_str(rec, "state");
    pid_t pid = (pid_t)rec_int(rec, "pid", 0);
    unsigned long long start = (unsigned long long)rec_int(rec, "pid_start", 0);
    if (!state || strcmp(state, "running") || pid <= 0 || start == 0 ||
        process_start_time(pid) != start)
        return error_set_plain(err, ESRCH, "container '%s' is not running", ref);

    _cleanup_free_ char *bundle =
        xasprintf("%s/containers/%s/bundle", e->globals->runroot, rec_str(rec, "id"));
    _cleanup_strv_ char **cgroups = record_cgroups(rec);
    /* As docker: a terminal gets TERM=xterm unless -e says otherwise. */
    _cleanup_strv_ char **env = NULL;
    size_t n_env = 0;
    int has_term = 0;
    for (char **kv = o->env; kv && *kv; kv++) {
        has_term |= !strncmp(*kv, "TERM=", 5);
        n_env++;
    }
    env = calloc(n_env + 2, sizeof(char *));
    if (!env)
        return error_set(err, ENOMEM, "exec");
    for (size_t i = 0; i < n_env; i++)
        env[i] = strdup(o->env[i]);
    if (o->tty && !has_term)
        env[n_env] = strdup("TERM=xterm");
    struct exec_spec spec = {
        .args = o->args,
        .env = env,
        .cwd = o->cwd,
        .user = o->user,
        .terminal = o->tty,
        .stdin_null = !o->interactive,
        .stdio_null = o->detach,
        .cgroups = (const char *const *)cgroups,
    };
    if (o->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &spec.ws) < 0)
        ioctl(STDOUT_FILENO, TIOCGWINSZ, &spec.ws);
    struct container_process proc = {.pid = 0, .sync_fd = -1, .terminal_fd = -1};
    r = runtime_exec(bundle, pid, start, &spec, &proc, err);
    if (r == -ESRCH) {
        /* It ended between the check and the join. */
        error_free(err);
        return error_set_plain(err, ESRCH, "container '%s' is not running", ref);
    }
    if (r < 0)
        return r;
    if (o->detach) {
        if (proc.terminal_fd >= 0)
            close(proc.terminal_fd);
        *ret_exit_status = 0;
        return 0;
    }
    if (proc.terminal_fd >= 0)
        return terminal_relay(proc.terminal_fd, proc.pid, o->interactive, ret_exit_status, err);
    return runtime_wait(&proc, ret_exit_status, err);
}
