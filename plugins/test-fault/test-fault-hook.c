/* SPDX-License-Identifier: MIT */
/*
 * test-fault: a hook for berth's own tests, never installed. Driven by the
 * environment of the berth command under test:
 *
 *   BERTH_TEST_EVENT_LOG=FILE  append "EVENT_NAME CONTAINER_ID" per event
 *   BERTH_TEST_FAIL_AT=NAME    refuse the pre-phase event NAME (-EPERM)
 *   BERTH_TEST_KILL_AT=NAME    SIGKILL berth itself at event NAME, to test
 *                              recovery from a crash at that step
 *
 * The environment is read at each event, not at init, so that one loaded
 * plugin follows whatever the test sets for the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <berth/hook.h>

struct test_fault {
    const struct berth_services *services;
};

static int test_fault_init(const struct berth_services *services, void **ret_state)
{
    struct test_fault *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->services = services;
    *ret_state = t;
    return 0;
}

static void test_fault_fini(void *state)
{
    free(state);
}

/* One write per line with O_APPEND, so lines of concurrent berth processes
 * never interleave. */
static int append_line(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
        return -errno;
    size_t len = strlen(line);
    ssize_t n = write(fd, line, len);
    int r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

static int test_fault_on_event(void *state, const struct berth_event *event, void *res,
                               struct berth_error *err)
{
    struct test_fault *t = state;
    const char *name = event->event_name ? event->event_name : "?";
    (void)res;

    const char *log_path = getenv("BERTH_TEST_EVENT_LOG");
    if (log_path && *log_path) {
        char line[512];
        snprintf(line, sizeof(line), "%s %s\n", name,
                 event->container_id ? event->container_id : "-");
        int r = append_line(log_path, line);
        if (r < 0)
            t->services->log(t->services->host, BERTH_LOG_WARNING, "test-fault: append to '%s': %s",
                             log_path, strerror(-r));
    }

    const char *kill_at = getenv("BERTH_TEST_KILL_AT");
    if (kill_at && strcmp(kill_at, name) == 0)
        kill(getpid(), SIGKILL);

    const char *fail_at = getenv("BERTH_TEST_FAIL_AT");
    if (fail_at && strcmp(fail_at, name) == 0 && event->phase == BERTH_PHASE_PRE) {
        t->services->set_error(err, EPERM, "refused by test-fault at '%s'", name);
        return -EPERM;
    }
    return 0;
}

static const struct berth_hook_ops test_fault_ops = {
    .size = sizeof(struct berth_hook_ops),
    .on_event = test_fault_on_event,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_HOOK, "test-fault", "1.0",
                    "tests only: logs events, refuses or kills berth at a named event", 0,
                    test_fault_init, test_fault_fini, &test_fault_ops)
