/* The minimal /dev every container gets: the OCI default devices and links. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "util/cleanup.h"

static const struct {
    const char *name;
    unsigned int major, minor;
} devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
    const char *name, *target;
} links[] = {
    {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"},
};

/* Where mknod is refused (a user namespace), the host's node is bound instead. */
static int bind_host_device(int devfd, const char *name, struct error **err)
{
    int fd = openat(devfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
        return error_set(err, errno, "create '/dev/%s'", name);
    char host[64], target[32];
    snprintf(host, sizeof(host), "/dev/%s", name);
    snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
    int r = mount(host, target, NULL, MS_BIND, NULL);
    int saved = errno;
    close(fd);
    if (r < 0)
        return error_set(err, saved, "bind '/dev/%s'", name);
    return 0;
}

int devices_setup(int rootfd, struct error **err)
{
    _cleanup_close_ int devfd = -1;
    int r = open_in_root(rootfd, "/dev", 1, 0, &devfd, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
        dev_t dev = makedev(devices[i].major, devices[i].minor);
        /* The caller runs with umask 0, so the nodes really are 0666. */
        if (mknodat(devfd, devices[i].name, S_IFCHR | 0666, dev) == 0)
            continue;
        if (errno == EEXIST)
            continue;
        if (errno != EPERM)
            return error_set(err, errno, "mknod '/dev/%s'", devices[i].name);
        if ((r = bind_host_device(devfd, devices[i].name, err)) < 0)
            return r;
    }
    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        if (symlinkat(links[i].target, devfd, links[i].name) < 0 && errno != EEXIST)
            return error_set(err, errno, "symlink '/dev/%s'", links[i].name);
    return 0;
}

/* Each node is made through a descriptor of its directory resolved in the rootfs. */
int devices_create(int rootfd, const struct oci_config *cfg, struct error **err)
{
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct oci_device *d = &cfg->devices[i];
        const char *slash = strrchr(d->path, '/');
        if (d->path[0] != '/' || !slash || !slash[1] || strstr(d->path, "/../") ||
            strcmp(slash, "/..") == 0 || strcmp(slash, "/.") == 0)
            return error_set_plain(err, EINVAL, "device '%s': not an absolute file path", d->path);
        _cleanup_free_ char *dir = strndup(d->path, (size_t)(slash - d->path));
        if (!dir)
            return error_set(err, ENOMEM, "device '%s'", d->path);
        _cleanup_close_ int dirfd = -1;
        int r = open_in_root(rootfd, *dir ? dir : "/", 1, 0, &dirfd, err);
        if (r < 0)
            return error_prefix(err, "device '%s'", d->path);
        /* O_PATH is enough for the *at calls on a directory. */
        mode_t type = d->type == 'b' ? S_IFBLK : S_IFCHR;
        if (mknodat(dirfd, slash + 1, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0) {
            if (errno != EEXIST)
                return error_set(err, errno, "mknod '%s'", d->path);
            /* One of the defaults (privileged lists /dev/null too): keep it. */
            continue;
        }
        if (fchownat(dirfd, slash + 1, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
            return error_set(err, errno, "chown '%s'", d->path);
    }
    return 0;
}
