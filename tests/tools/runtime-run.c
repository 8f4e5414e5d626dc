/*
 * berth-runtime-run: runs a command in a directory used as the rootfs,
 * through the runtime alone (bundle_write, runtime_create/start/wait), so
 * the runtime can be tested and timed without the rest of the CLI.
 *
 *   berth-runtime-run [-b BUNDLE] [-u USER] [-H HOSTNAME] [-r] [-n host|NETNS]
 *                     [-v SRC:DST[:OPTS]]... [-e K=V]... [-w CWD] [-S] [-T]
 *                     ROOTFS CMD [ARG...]
 *
 *   berth-runtime-run -c -b BUNDLE      runs an existing BUNDLE/config.json
 *
 * -S skips the sealed re-exec, -T prints the time of each phase on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(struct error **err, const char *what)
{
    int status = (*err)->exit_status ? (*err)->exit_status : EXIT_BERTH_ERROR;
    fprintf(stderr, "berth-runtime-run: %s: %s\n", what, (*err)->msg);
    error_free(err);
    return status;
}

static void usage(void)
{
    fprintf(stderr, "usage: berth-runtime-run [-b BUNDLE] [-u USER] [-H HOSTNAME] [-r] "
                    "[-n host|NETNS] [-v SRC:DST[:OPTS]]... [-e K=V]... [-w CWD] [-S] [-T] "
                    "ROOTFS CMD [ARG...]\n       berth-runtime-run -c -b BUNDLE\n");
}

int main(int argc, char **argv)
{
    _cleanup_error_ struct error *err = NULL;
    int timing = 0, seal = 1, existing = 0;
    struct run_spec spec = {.hostname = "berth"};
    const char *bundle = NULL;
    static struct mount_entry mounts[32];
    size_t n_mounts = 0;
    static char *env[64] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    size_t n_env = 1;

    /* Decided before anything else runs, as berth itself would. */
    for (int i = 1; i < argc && argv[i][0] == '-'; i++)
        if (strcmp(argv[i], "-S") == 0)
            seal = 0;
    if (seal && sealed_binary_ensure(argc, argv, &err) < 0)
        return fail(&err, "sealed binary");
    double t0 = now_ms();

    int c;
    while ((c = getopt(argc, argv, "+b:cu:H:rn:v:e:w:ST")) != -1) {
        switch (c) {
        case 'b':
            bundle = optarg;
            break;
        case 'c':
            existing = 1;
            break;
        case 'u':
            spec.user = optarg;
            break;
        case 'H':
            spec.hostname = optarg;
            break;
        case 'r':
            spec.read_only_root = 1;
            break;
        case 'n':
            if (strcmp(optarg, "host") == 0)
                spec.share_host_network = 1;
            else
                spec.netns_path = optarg;
            break;
        case 'v': {
            if (n_mounts == ARRAY_SIZE(mounts))
                return EXIT_BERTH_ERROR;
            char *src = optarg, *dst = strchr(src, ':');
            if (!dst) {
                usage();
                return EXIT_BERTH_ERROR;
            }
            *dst++ = '\0';
            char *opts = strchr(dst, ':');
            if (opts)
                *opts++ = '\0';
            mounts[n_mounts++] =
                (struct mount_entry){.type = "bind", .source = src, .target = dst, .options = opts};
            break;
        }
        case 'e':
            if (n_env + 1 < ARRAY_SIZE(env))
                env[n_env++] = optarg;
            break;
        case 'w':
            spec.cwd = optarg;
            break;
        case 'S':
            break;
        case 'T':
            timing = 1;
            break;
        default:
            usage();
            return EXIT_BERTH_ERROR;
        }
    }
    if (existing && !bundle) {
        usage();
        return EXIT_BERTH_ERROR;
    }
    if (!existing && argc - optind < 2) {
        usage();
        return EXIT_BERTH_ERROR;
    }
    _cleanup_free_ char *rootfs = existing ? strdup("/") : realpath(argv[optind], NULL);
    if (!rootfs) {
        perror(argv[optind]);
        return EXIT_BERTH_ERROR;
    }
    struct mount_entry root = {.type = "bind", .source = rootfs, .target = "/", .options = NULL};
    spec.rootfs_mounts = &root;
    spec.n_rootfs_mounts = 1;
    spec.extra_mounts = mounts;
    spec.n_extra_mounts = n_mounts;
    spec.args = existing ? NULL : argv + optind + 1;
    spec.env = env;

    _cleanup_free_ char *tmp = NULL;
    if (!bundle) {
        tmp = strdup("/tmp/berth-runtime-run.XXXXXX");
        if (!tmp || !mkdtemp(tmp)) {
            perror("mkdtemp");
            return EXIT_BERTH_ERROR;
        }
        bundle = tmp;
    } else if (!existing && mkdir_p(bundle, 0700, &err) < 0) {
        return fail(&err, "bundle");
    }

    int status = EXIT_BERTH_ERROR;
    struct container_process proc = {.sync_fd = -1};
    double t1 = now_ms(), t2 = t1, t3 = t1;
    if (!existing && bundle_write(bundle, &spec, &err) < 0) {
        status = fail(&err, "write bundle");
        goto out;
    }
    t1 = now_ms();
    if (runtime_create(bundle, &proc, &err) < 0) {
        status = fail(&err, "create");
        goto out;
    }
    t2 = now_ms();
    if (runtime_start(&proc, &err) < 0) {
        status = fail(&err, "start");
        goto out;
    }
    t3 = now_ms();
    if (runtime_wait(&proc, &status, &err) < 0)
        status = fail(&err, "wait");
    if (timing)
        fprintf(stderr, "bundle %.3f ms, create %.3f ms, start %.3f ms, run %.3f ms\n", t1 - t0,
                t2 - t1, t3 - t2, now_ms() - t3);
out:
    if (tmp && rm_rf(tmp, &err) < 0)
        fail(&err, "remove bundle");
    return status;
}
