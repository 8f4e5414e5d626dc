#include "lifecycle/container-control.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle/container-cgroup.h"
#include "monitor/monitor-options.h"
#include "runtime/runtime.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/lock.h"

/* Signals PID only if it still is the process that started at START (a
 * pidfd pins it, so a reused pid is never signalled). Returns 0 or -errno. */
static int signal_pinned(pid_t pid, unsigned long long start, int sig)
{
    if (pid <= 0 || start == 0)
        return -ESRCH;
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return -errno;
    if (process_start_time(pid) != start)
        return -ESRCH;
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        return -errno;
    return 0;
}

static char *lock_path_of(struct engine *e, const char *id)
{
    return xasprintf("%s/containers/%s.lock", e->globals->root, id);
}

int container_lock_held(struct engine *e, const char *id)
{
    _cleanup_free_ char *p = lock_path_of(e, id);
    struct error *local = NULL;
    int fd = try_lock_path(p, &local);
    error_free(&local);
    if (fd == -EWOULDBLOCK)
        return 1;
    unlock_fd(fd);
    return 0;
}

void container_tell_monitor_stop(const cJSON *rec)
{
    signal_pinned((pid_t)rec_int(rec, "monitor_pid", 0),
                  (unsigned long long)rec_int(rec, "monitor_start", 0), SIGUSR1);
}

static int is_running(const cJSON *rec)
{
    const char *state = rec_str(rec, "state");
    return state &&
           (!strcmp(state, "running") || !strcmp(state, "restarting") || !strcmp(state, "paused"));
}

int container_kill(struct engine *e, const char *ref, int sig, struct error **err)
{
    cJSON *rec = NULL;
    int r = container_store_find(e->containers, ref, &rec, err);
    if (r < 0)
        return r;
    const char *id = rec_str(rec, "id");
    if (!is_running(rec) || !container_lock_held(e, id)) {
        cJSON_Delete(rec);
        return error_set_plain(err, EINVAL, "container '%s' is not running", ref);
    }
    r = signal_pinned((pid_t)rec_int(rec, "pid", 0),
                      (unsigned long long)rec_int(rec, "pid_start", 0), sig);
    cJSON_Delete(rec);
    if (r == -ESRCH)
        return error_set_plain(err, EINVAL, "container '%s' is not running", ref);
    if (r < 0)
        return error_set(err, -r, "signal container '%s'", ref);
    return 0;
}

/* Waits up to TIMEOUT_MS (< 0: for ever) for ID's lock. 1 when it was free. */
static int wait_unlocked(struct engine *e, const char *id, long long timeout_ms)
{
    _cleanup_free_ char *p = lock_path_of(e, id);
    if (timeout_ms < 0) {
        struct error *local = NULL;
        int fd = lock_path(p, &local);
        error_free(&local);
        unlock_fd(fd);
        return 1;
    }
    for (long long waited = 0;; waited += 20) {
        struct error *local = NULL;
        int fd = try_lock_path(p, &local);
        error_free(&local);
        if (fd != -EWOULDBLOCK) {
            unlock_fd(fd);
            return 1;
        }
        if (waited >= timeout_ms)
            return 0;
        poll(NULL, 0, 20);
    }
}

int container_stop(struct engine *e, const char *ref, int timeout_s, struct error **err)
{
    cJSON *rec = NULL;
    int r = container_store_find(e->containers, ref, &rec, err);
    if (r < 0)
        return r;
    char id[CONTAINER_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", rec_str(rec, "id"));
    if (!container_lock_held(e, id)) {
        cJSON_Delete(rec);
        return 0;
    }
    int sig = signal_parse(rec_str(rec, "stop_signal"));
    if (sig < 0)
        sig = SIGTERM;
    pid_t pid = (pid_t)rec_int(rec, "pid", 0);
    unsigned long long start = (unsigned long long)rec_int(rec, "pid_start", 0);
    container_tell_monitor_stop(rec);
    container_cgroup_thaw(rec); /* a frozen process gets no signal, not even SIGKILL (v1) */
    cJSON_Delete(rec);
    /* While restarting there is no process: the monitor ends at the signal. */
    if (pid > 0)
        signal_pinned(pid, start, sig);
    if (!wait_unlocked(e, id, (long long)(timeout_s < 0 ? 10 : timeout_s) * 1000)) {
        signal_pinned(pid, start, SIGKILL);
        wait_unlocked(e, id, -1);
    }
    return 0;
}

int container_wait(struct engine *e, const char *ref, int *ret_status, struct error **err)
{
    cJSON *rec = NULL;
    int r = container_store_find(e->containers, ref, &rec, err);
    if (r < 0)
        return r;
    char id[CONTAINER_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", rec_str(rec, "id"));
    cJSON_Delete(rec);
    rec = NULL;
    wait_unlocked(e, id, -1);
    struct error *local = NULL;
    if (container_store_load(e->containers, id, &rec, &local) < 0) {
        error_free(&local);
        return error_set_plain(err, ENOENT,
                               "container '%s' was removed when it exited (--rm): its "
                               "exit status is gone",
                               ref);
    }
    long long status = rec_int(rec, "exit_code", -1);
    cJSON_Delete(rec);
    if (status < 0)
        return error_set_plain(err, EINVAL, "container '%s' has not run", ref);
    *ret_status = (int)status;
    return 0;
}
