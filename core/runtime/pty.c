/*
 * The container's pty: allocated inside the container from its own devpts
 * and handed to berth over the sync socket (terminal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "terminal.h"
#include "util/cleanup.h"

int terminal_fd_send(int sock, int fd)
{
    struct sync_msg msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = SYNC_TERMINAL;
    struct iovec iov = {.iov_base = &msg, .iov_len = offsetof(struct sync_msg, text) + 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
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

int terminal_fd_recv(int sock, struct sync_msg *msg, int *ret_fd)
{
    *ret_fd = -1;
    memset(msg, 0, sizeof(*msg));
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof(*msg)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == ECONNRESET ? 0 : -errno;
    int fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len >= CMSG_LEN(sizeof(int)))
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
    if (n == 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    if ((size_t)n < offsetof(struct sync_msg, text)) {
        if (fd >= 0)
            close(fd);
        return -EBADMSG;
    }
    msg->text[sizeof(msg->text) - 1] = '\0';
    if (fd >= 0 && msg->kind != SYNC_TERMINAL) {
        close(fd);
        fd = -1;
    }
    *ret_fd = fd;
    return 1;
}

int terminal_setup_in_container(int sync_fd, uid_t uid, const struct winsize *ws,
                                struct error **err)
{
    /* /dev/ptmx -> pts/ptmx: the container's own devpts instance. */
    _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return error_set(err, errno, "terminal: open '/dev/ptmx'");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
        return error_set(err, errno, "terminal: unlock the pty");
    /* TIOCGPTPEER: the slave of this master, never a path someone swapped. */
    _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return error_set(err, errno, "terminal: open the pty slave");
    /* As runc: the user owns its terminal (devpts' gid=5 stays the group). */
    if (fchown(slave, uid, (gid_t)-1) < 0)
        return error_set(err, errno, "terminal: chown the pty slave");
    if (ws && ws->ws_row && ws->ws_col)
        ioctl(master, TIOCSWINSZ, ws);
    int r = terminal_fd_send(sync_fd, master);
    if (r < 0)
        return error_set(err, -r, "terminal: send the pty master");

    if (setsid() < 0)
        return error_set(err, errno, "terminal: setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return error_set(err, errno, "terminal: make the pty the controlling terminal");
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0)
            return error_set(err, errno, "terminal: dup2");
    return 0;
}
