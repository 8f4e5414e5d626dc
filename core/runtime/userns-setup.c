/*
 * A container with its own user namespace (docs/security.md "User
 * namespaces"). The child is cloned into every namespace at once, the user
 * namespace first, so it owns the others. It cannot write its own maps with
 * more than one id, nor make an idmapped mount (that needs CAP_SYS_ADMIN
 * over the file system, in the host's namespace): the parent does both,
 * then hands each mount over the sync socket as a descriptor the child
 * attaches with move_mount.
 *
 * Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP with the child's user
 * namespace) show a file owned by id N on disk as owned by the host id that
 * container id N maps to: image files owned by root are the container's
 * root's, and nothing on disk is rewritten. A bind mount is idmapped as a
 * whole. A file system whose "lowerdir=" option lists layers (an overlay)
 * cannot itself be idmapped; its layers are, one by one, and it is made
 * here over them ("lowerdir+" per layer, through /proc/self/fd), with its
 * upper directory as it is: what the container writes is stored with the
 * host ids (the upper directory belongs to that container alone), and the
 * root directory is given to the container's root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "runtime/userns-map.h"
#include "runtime/userns-opts.h"
#include "util/cleanup.h"
#include "util/proc-path.h"

static int write_map(pid_t pid, const char *file, const struct id_map *map, struct error **err)
{
    char path[64], text[ID_MAP_MAX * 36];
    size_t len = 0;
    for (size_t i = 0; i < map->n; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%u %u %u\n",
                                map->ranges[i].container, map->ranges[i].host, map->ranges[i].size);
    int r = proc_pid_path(pid, file, path, sizeof(path));
    if (r < 0)
        return error_set(err, -r, "/proc of process %d", (int)pid);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "open '%s'", path);
    /* The kernel takes the whole map in one write, once. */
    if (write(fd, text, len) != (ssize_t)len)
        return error_set(err, errno, "write '%s'", path);
    return 0;
}

/* A detached copy of the tree at PATH, idmapped with USERNS_FD. */
static int idmapped_tree(const char *path, int recursive, int userns_fd, int *ret_fd,
                         struct error **err)
{
    unsigned int rec = recursive ? AT_RECURSIVE : 0;
    _cleanup_close_ int fd =
        (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
    if (fd < 0)
        return error_set(err, errno, "open_tree '%s'", path);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd};
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0)
        return error_set(err, errno, "idmapped mount of '%s' (the file system may not support it)",
                         path);
    *ret_fd = TAKE_FD(fd);
    return 0;
}

/* 1 if the directory FD (any open mode) has no entry, 0 if it has, -errno. */
static int dir_is_empty_at(int fd)
{
    _cleanup_close_ int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0)
        return -errno;
    DIR *dir = fdopendir(d);
    if (!dir)
        return -errno;
    d = -1;
    int empty = 1;
    struct dirent *e;
    while ((e = readdir(dir)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = 0;
            break;
        }
    closedir(dir);
    return empty;
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* The layered file system M over idmapped layers, as a detached mount. */
static int layered_mount(const struct oci_mount *m, int userns_fd, uid_t root_uid, gid_t root_gid,
                         int *ret_fd, struct error **err)
{
    _cleanup_close_ int fsfd = (int)syscall(SYS_fsopen, m->type, FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return error_set(err, errno, "fsopen '%s'", m->type);
    if (m->source && syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "source", m->source, 0) < 0)
        return error_set(err, errno, "fsconfig source '%s'", m->source);
    _cleanup_free_ char *data = strdup(m->data);
    if (!data)
        return error_set(err, ENOMEM, "mount '%s'", m->destination);
    /* The layers stay referenced by the file system once it is made. */
    int layers[512];
    size_t n_layers = 0;
    int r = 0;
    char *rest = data, *opt;
    while (r == 0 && (opt = split_escaped(&rest, ','))) {
        if (!*opt)
            continue;
        char *eq = strchr(opt, '=');
        if (!eq) {
            if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0) < 0)
                r = error_set(err, errno, "fsconfig '%s'", opt);
            continue;
        }
        *eq = '\0';
        char *value = eq + 1;
        if (strcmp(opt, "lowerdir") != 0) {
            if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, opt, value, 0) < 0)
                r = error_set(err, errno, "fsconfig '%s'", opt);
            continue;
        }
        char *list = value, *layer;
        while (r == 0 && (layer = split_escaped(&list, ':'))) {
            if (!*layer)
                continue;
            if (n_layers >= sizeof(layers) / sizeof(layers[0])) {
                r = error_set_plain(err, E2BIG, "more than 512 layers");
                break;
            }
            int fd = -1;
            if ((r = idmapped_tree(layer, 0, userns_fd, &fd, err)) < 0)
                break;
            layers[n_layers++] = fd;
            char path[64];
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
            if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir+", path, 0) < 0)
                r = error_set(err, errno, "fsconfig lowerdir+ idmapped '%s'", layer);
        }
    }
    if (r == 0 && (m->flags & MS_RDONLY) &&
        syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
        r = error_set(err, errno, "fsconfig 'ro'");
    if (r == 0 && syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        r = error_set(err, errno, "create '%s' over idmapped layers", m->type);
    int mfd = -1;
    if (r == 0 && (mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, 0)) < 0)
        r = error_set(err, errno, "fsmount '%s'", m->type);
    close_all(layers, n_layers);
    if (r < 0)
        return r;
    /* The root directory comes from the upper one, made by the storage driver as host root. */
    struct stat st;
    if (fstat(mfd, &st) == 0 && st.st_uid == 0 && st.st_gid == 0 &&
        fchownat(mfd, "", root_uid, root_gid, AT_EMPTY_PATH) < 0 && errno != EROFS) {
        r = error_set(err, errno, "chown the root of '%s'", m->type);
        close(mfd);
        return r;
    }
    *ret_fd = mfd;
    return 0;
}

/* One datagram: a SYNC_MOUNT_FD message for mount INDEX of LIST (0 rootfs, 1 OCI) carrying FD. */
static int send_mount_fd(int sock, int list, int index, int fd)
{
    struct sync_msg msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = SYNC_MOUNT_FD;
    msg.errnum = list;
    msg.status = index;
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof(control));
    struct iovec iov = {.iov_base = &msg, .iov_len = offsetof(struct sync_msg, text) + 1};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control,
                        .msg_controllen = sizeof(control)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

static int recv_with_fd(int sock, struct sync_msg *msg, int *ret_fd)
{
    memset(msg, 0, sizeof(*msg));
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof(*msg)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control,
                        .msg_controllen = sizeof(control)};
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    *ret_fd = -1;
    if (n < 0)
        return -errno;
    if (n == 0)
        return 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
    if ((size_t)n < offsetof(struct sync_msg, text))
        return -EBADMSG;
    msg->text[sizeof(msg->text) - 1] = '\0';
    return 1;
}

int userns_parent_setup(const struct oci_config *cfg, pid_t pid, int sync_fd, struct error **err)
{
    int r;
    if ((r = write_map(pid, "uid_map", cfg->uid_map, err)) < 0 ||
        (r = write_map(pid, "gid_map", cfg->gid_map, err)) < 0)
        return error_prefix(err, "user namespace");
    char path[64];
    if ((r = proc_pid_path(pid, "ns/user", path, sizeof(path))) < 0)
        return error_set(err, -r, "/proc of process %d", (int)pid);
    _cleanup_close_ int userns_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (userns_fd < 0)
        return error_set(err, errno, "open '%s'", path);
    uid_t root_uid = (uid_t)id_map_to_host(cfg->uid_map, 0);
    gid_t root_gid = (gid_t)id_map_to_host(cfg->gid_map, 0);
    for (size_t i = 0; i < cfg->n_rootfs_mounts; i++) {
        const struct oci_mount *m = &cfg->rootfs_mounts[i];
        _cleanup_close_ int fd = -1;
        if (m->bind && m->source)
            r = idmapped_tree(m->source, m->recursive, userns_fd, &fd, err);
        else if (userns_mount_is_layered(m->data))
            r = layered_mount(m, userns_fd, root_uid, root_gid, &fd, err);
        else
            continue; /* tmpfs and the like: the child mounts them in its namespace */
        if (r < 0)
            return error_prefix(err, "rootfs mount '%s'", m->destination);
        if ((r = send_mount_fd(sync_fd, 0, (int)i, fd)) < 0)
            return error_set(err, -r, "send the rootfs mount to the container");
    }
    /*
     * Binds (volumes, host directories) as plain detached copies: their
     * paths may not be walkable by the container's root, and they are not
     * idmapped, so host files keep their owners (root's show as nobody). A
     * new, empty named volume (berth.copyup) is given to the container's
     * root first, so that it can be filled and written.
     */
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        const struct oci_mount *m = &cfg->mounts[i];
        if (!m->bind || !m->source)
            continue;
        _cleanup_close_ int fd =
            (int)syscall(SYS_open_tree, AT_FDCWD, m->source,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0));
        if (fd < 0)
            return error_set(err, errno, "mount '%s': bind source '%s'", m->destination, m->source);
        struct stat st;
        if (m->copy_up && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
            st.st_gid == 0 && dir_is_empty_at(fd) == 1 &&
            fchownat(fd, "", root_uid, root_gid, AT_EMPTY_PATH) < 0)
            return error_set(err, errno, "mount '%s': give volume '%s' to the container's root",
                             m->destination, m->source);
        if ((r = send_mount_fd(sync_fd, 1, (int)i, fd)) < 0)
            return error_set(err, -r, "send a mount to the container");
    }
    if ((r = sync_send(sync_fd, SYNC_USERNS_DONE, 0, 0, NULL)) < 0)
        return error_set(err, -r, "user namespace: tell the container");
    return 0;
}

int userns_child_wait(struct oci_config *cfg, int sync_fd, struct error **err)
{
    for (;;) {
        struct sync_msg msg;
        int fd = -1;
        int r = recv_with_fd(sync_fd, &msg, &fd);
        if (r <= 0)
            return error_set(err, r < 0 ? -r : EPIPE, "user namespace: wait for the maps");
        if (msg.kind == SYNC_USERNS_DONE) {
            if (fd >= 0)
                close(fd);
            break;
        }
        struct oci_mount *list = msg.errnum == 0 ? cfg->rootfs_mounts : cfg->mounts;
        size_t n = msg.errnum == 0 ? cfg->n_rootfs_mounts : cfg->n_mounts;
        if (msg.kind != SYNC_MOUNT_FD || fd < 0 || msg.status < 0 || (size_t)msg.status >= n ||
            (msg.errnum != 0 && msg.errnum != 1)) {
            if (fd >= 0)
                close(fd);
            return error_set(err, EPROTO, "user namespace: unexpected message");
        }
        list[msg.status].detached_fd = fd;
    }
    /* Still host root here (unmapped): the bundle's directories can be walked. */
    cfg->rootfs_fd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cfg->rootfs_fd < 0)
        return error_set(err, errno, "open rootfs '%s'", cfg->rootfs);
    /* Root of the namespace (mapped now); the caps are the namespace's full set. */
    if (syscall(SYS_setresgid, 0, 0, 0) < 0)
        return error_set(err, errno, "user namespace: setgid 0");
    if (syscall(SYS_setresuid, 0, 0, 0) < 0)
        return error_set(err, errno, "user namespace: setuid 0");
    return 0;
}
