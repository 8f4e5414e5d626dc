/*
 * The start handshake between runtime_create/runtime_start and the child.
 * A SOCK_SEQPACKET pair keeps one message per datagram, and the child's end
 * is O_CLOEXEC: a successful exec closes it, which the parent reads as EOF.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime-internal.h"

int sync_send(int fd, int kind, int errnum, int status, const char *text)
{
    struct sync_msg msg;
    memset(&msg, 0, sizeof(msg));
    msg.kind = kind;
    msg.errnum = errnum;
    msg.status = status;
    size_t len = 0;
    if (text) {
        len = strnlen(text, sizeof(msg.text) - 1);
        memcpy(msg.text, text, len);
    }
    size_t size = offsetof(struct sync_msg, text) + len + 1;
    ssize_t n;
    do
        n = send(fd, &msg, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

int sync_recv(int fd, struct sync_msg *msg)
{
    memset(msg, 0, sizeof(*msg));
    ssize_t n;
    do
        n = recv(fd, msg, sizeof(*msg), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == ECONNRESET ? 0 : -errno;
    if (n == 0)
        return 0;
    if ((size_t)n < offsetof(struct sync_msg, text))
        return -EBADMSG;
    msg->text[sizeof(msg->text) - 1] = '\0';
    return 1;
}
