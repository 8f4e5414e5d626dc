#include "lifecycle/init-binary.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"

static int is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* argv[0] of this process as it was run (the sealed re-exec keeps it). */
static char *invoked_as(void)
{
    _cleanup_close_ int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return strchr(buf, '/') ? strdup(buf) : NULL;
}

int init_binary_find(char **ret, struct error **err)
{
    const char *env = getenv("BERTH_INIT_PATH");
    if (env && *env) {
        if (!is_executable_file(env))
            return error_set_plain(err, ENOENT,
                                   "--init: BERTH_INIT_PATH '%s' is not an executable file", env);
        *ret = strdup(env);
        return 0;
    }
    _cleanup_free_ char *self = invoked_as();
    if (self) {
        _cleanup_free_ char *real = realpath(self, NULL);
        if (real) {
            _cleanup_free_ char *beside = xasprintf("%s/berth-init", dirname(real));
            if (is_executable_file(beside)) {
                *ret = TAKE_PTR(beside);
                return 0;
            }
        }
    }
    if (is_executable_file(BERTH_INIT_INSTALL_PATH)) {
        *ret = strdup(BERTH_INIT_INSTALL_PATH);
        return 0;
    }
    return error_set_plain(err, ENOENT,
                           "--init: berth-init not found (looked beside berth and at '%s'; "
                           "set BERTH_INIT_PATH)",
                           BERTH_INIT_INSTALL_PATH);
}

int init_binary_apply(char ***args, const struct mount_entry *mounts, size_t n,
                      struct mount_entry **ret_mounts, char **ret_path, struct error **err)
{
    _cleanup_free_ char *path = NULL;
    int r = init_binary_find(&path, err);
    if (r < 0)
        return r;
    size_t argc = 0;
    while ((*args)[argc])
        argc++;
    char **wrapped = calloc(argc + 3, sizeof(char *));
    struct mount_entry *m = calloc(n + 1, sizeof(*m));
    if (!wrapped || !m)
        abort();
    wrapped[0] = strdup(INIT_BINARY_TARGET);
    wrapped[1] = strdup("--");
    memcpy(wrapped + 2, *args, argc * sizeof(char *));
    free(*args); /* its strings moved to WRAPPED */
    *args = wrapped;
    if (n)
        memcpy(m, mounts, n * sizeof(*m));
    m[n] = (struct mount_entry){
        .type = (char *)"bind",
        .source = path,
        .target = (char *)INIT_BINARY_TARGET,
        .options = (char *)"ro,nosuid,nodev",
    };
    *ret_mounts = m;
    *ret_path = TAKE_PTR(path);
    return 0;
}
