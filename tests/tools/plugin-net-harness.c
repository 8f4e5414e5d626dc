/* SPDX-License-Identifier: MIT */
/*
 * berth-net-harness: drives one network plugin without the core, so a driver
 * can be tried by hand and timed inside private namespaces:
 *
 *   unshare --net --mount sh -c '
 *     berth-net-harness build/plugins/bridge.so /tmp/st create NET JSON
 *     berth-net-harness build/plugins/bridge.so /tmp/st join NET JSON CID NETNS JOINJSON'
 *
 * Commands (NET: network name, JSON: the network record, see <berth/network.h>):
 *   create NET JSON | remove NET JSON
 *   join NET JSON CID NETNS [JOINJSON] | leave NET JSON CID NETNS [JOINJSON]
 *   gc NETS CIDS              comma-separated ids that still exist ("" for none)
 *   bench NET JSON N [delete] N join+leave rounds, each in a fresh namespace
 *                             that is dropped after leave (as the core does);
 *                             "delete": leave deletes the veth instead;
 *                             rounds are 40 ms apart so that one round's
 *                             namespace teardown does not slow the next
 * Results go to stdout, errors and timings (µs of the plugin call alone) to
 * stderr. Services: state in STATE_DIR, locks are flock()s on files in
 * STATE_DIR/locks, log to stderr.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <berth/network.h>

struct berth_error {
    int errnum;
    char msg[1024];
};

struct berth_host {
    char lock_dir[PATH_MAX];
};

static void host_log(struct berth_host *host, int level, const char *fmt, ...)
{
    (void)host;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[plugin %d] ", level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void host_set_error(struct berth_error *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->errnum = errnum;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

static int host_lock(struct berth_host *host, const char *name, int *ret_token)
{
    char path[PATH_MAX + 300];
    snprintf(path, sizeof(path), "%s/%s.lock", host->lock_dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int r = -errno;
            close(fd);
            return r;
        }
    }
    *ret_token = fd;
    return 0;
}

static void host_unlock(struct berth_host *host, int token)
{
    (void)host;
    close(token);
}

static int put_text(void *ctx, const char *text)
{
    (void)ctx;
    printf("%s\n", text);
    return 0;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int report(const char *what, int r, const struct berth_error *err, double us)
{
    if (r < 0)
        fprintf(stderr, "%s failed: %s (%s)\n", what, err->msg[0] ? err->msg : "no message",
                strerror(-r));
    else
        fprintf(stderr, "%s: %.0f us\n", what, us);
    return r < 0 ? 1 : 0;
}

static size_t split_ids(char *csv, const char **ids, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(csv, ",", &save); t && n < max;
         t = strtok_r(NULL, ",", &save))
        ids[n++] = t;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A new, anonymous network namespace kept alive only by the returned fd. */
static int new_netns(void)
{
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -1;
    int fd = -1;
    if (unshare(CLONE_NEWNET) == 0) {
        fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (setns(self, CLONE_NEWNET) < 0) {
            perror("setns back");
            abort();
        }
    }
    close(self);
    return fd;
}

static int bench(const struct berth_network_ops *ops, void *state, const char *net,
                 const char *json, int n, int delete)
{
    double *tj = calloc((size_t)n, sizeof(double)), *tl = calloc((size_t)n, sizeof(double));
    if (!tj || !tl)
        return 1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char cid[65], nspath[64];
        snprintf(cid, sizeof(cid), "bench%059d", i);
        int fd = new_netns();
        if (fd < 0) {
            perror("new netns");
            return 1;
        }
        snprintf(nspath, sizeof(nspath), "/proc/self/fd/%d", fd);
        struct berth_error err = {0};
        struct berth_text_result res = {.size = sizeof(res), .put = NULL};
        struct berth_network_request req = {.size = sizeof(req),
                                            .network_name = net,
                                            .network_json = json,
                                            .container_id = cid,
                                            .netns_path = nspath,
                                            .join_json = "{\"interface\":\"eth0\"}"};
        double t0 = now_us();
        int r = ops->join(state, &req, &res, &err);
        tj[i] = now_us() - t0;
        if (r < 0) {
            rc = report("join", r, &err, 0);
            close(fd);
            break;
        }
        req.join_json = delete ? "{}" : "{\"netns_teardown\":true}";
        t0 = now_us();
        r = ops->leave(state, &req, NULL, &err);
        tl[i] = now_us() - t0;
        if (r < 0)
            rc = report("leave", r, &err, 0);
        close(fd); /* the namespace, and the veth with it, go asynchronously */
        /* Let that teardown finish outside the timed calls: it holds the
         * rtnl lock for a while, and the point here is the plugin's cost. */
        nanosleep(&(struct timespec){.tv_nsec = 40 * 1000 * 1000}, NULL);
    }
    if (rc == 0) {
        qsort(tj, (size_t)n, sizeof(double), cmp_double);
        qsort(tl, (size_t)n, sizeof(double), cmp_double);
        printf("rounds %d  join median %.0f us min %.0f max %.0f  leave median %.0f us min %.0f "
               "max %.0f\n",
               n, tj[n / 2], tj[0], tj[n - 1], tl[n / 2], tl[0], tl[n - 1]);
    }
    free(tj);
    free(tl);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: berth-net-harness PLUGIN.so STATE_DIR "
                    "create|remove|join|leave|gc|bench ARGS… (see the source)\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    const char *so = argv[1], *state_dir = argv[2], *cmd = argv[3];
    struct berth_host host;
    snprintf(host.lock_dir, sizeof(host.lock_dir), "%s/locks", state_dir);
    if ((mkdir(state_dir, 0700) < 0 && errno != EEXIST) ||
        (mkdir(host.lock_dir, 0700) < 0 && errno != EEXIST)) {
        perror(state_dir);
        return 1;
    }
    void *dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    const struct berth_plugin_descriptor *(*entry)(void) = NULL;
    *(void **)&entry = dlsym(dl, BERTH_PLUGIN_ENTRY_NAME);
    const struct berth_plugin_descriptor *d = entry ? entry() : NULL;
    if (!d || d->kind != BERTH_KIND_NETWORK || d->abi_major != BERTH_ABI_MAJOR) {
        fprintf(stderr, "%s: not a network plugin of ABI %d\n", so, BERTH_ABI_MAJOR);
        return 1;
    }
    const struct berth_network_ops *ops = d->ops;
    struct berth_services sv = {
        .size = sizeof(sv),
        .host = &host,
        .state_dir = state_dir,
        .run_dir = state_dir,
        .config_json = "{}",
        .log = host_log,
        .set_error = host_set_error,
        .lock = host_lock,
        .unlock = host_unlock,
    };
    void *state = NULL;
    if (d->init(&sv, &state) < 0) {
        fprintf(stderr, "%s: init failed\n", so);
        return 1;
    }
    struct berth_error err = {0};
    struct berth_text_result res = {.size = sizeof(res), .put = put_text};
    struct berth_network_request req = {.size = sizeof(req)};
    int rc = 0, r = 0;
    double t0 = now_us();
    if (!strcmp(cmd, "create") || !strcmp(cmd, "remove")) {
        if (argc != 6)
            return usage();
        req.network_name = argv[4];
        req.network_json = argv[5];
        r = cmd[0] == 'c' ? ops->create(state, &req, &res, &err)
                          : ops->remove(state, &req, NULL, &err);
        rc = report(cmd, r, &err, now_us() - t0);
    } else if (!strcmp(cmd, "join") || !strcmp(cmd, "leave")) {
        if (argc != 8 && argc != 9)
            return usage();
        req.network_name = argv[4];
        req.network_json = argv[5];
        req.container_id = argv[6];
        req.netns_path = argv[7];
        req.join_json = argc == 9 ? argv[8] : "{}";
        r = cmd[0] == 'j' ? ops->join(state, &req, &res, &err)
                          : ops->leave(state, &req, NULL, &err);
        rc = report(cmd, r, &err, now_us() - t0);
    } else if (!strcmp(cmd, "gc")) {
        if (argc != 6)
            return usage();
        static const char *nets[1024], *cids[4096];
        struct berth_gc_request gc = {
            .size = sizeof(gc), .object_ids = nets, .container_ids = cids};
        gc.n_object_ids = (uint32_t)split_ids(argv[4], nets, 1024);
        gc.n_container_ids = (uint32_t)split_ids(argv[5], cids, 4096);
        r = ops->gc(state, &gc, NULL, &err);
        rc = report(cmd, r, &err, now_us() - t0);
    } else if (!strcmp(cmd, "bench")) {
        if (argc != 7 && argc != 8)
            return usage();
        int n = atoi(argv[6]);
        rc = n > 0 ? bench(ops, state, argv[4], argv[5], n, argc == 8) : usage();
    } else {
        rc = usage();
    }
    d->fini(state);
    dlclose(dl);
    return rc;
}
