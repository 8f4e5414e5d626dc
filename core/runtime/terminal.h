/*
 * Terminals of containers (OCI process.terminal), as crun does it: the pty is
 * allocated inside the container, from the container's own devpts (its
 * /dev/ptmx, after pivot_root or after joining its mount namespace), so the
 * slave belongs to the container and nothing of the host's /dev/pts is
 * shown. The master goes back to berth over the sync socket with
 * SCM_RIGHTS; berth relays between its own terminal and the master.
 *
 * The hand-over (terminal_fd_send / terminal_fd_recv) is independent of who
 * holds the master afterwards: the CLI relays it (run -it, exec -it); a
 * monitor that keeps it for `attach` receives it the same way.
 */
#ifndef BERTH_RUNTIME_TERMINAL_H
#define BERTH_RUNTIME_TERMINAL_H

#include <sys/ioctl.h>
#include <sys/types.h>

#include "util/error.h"

/*
 * The hand-over of a pty master across a unix socket (any type; berth uses
 * the SOCK_SEQPACKET sync socket). terminal_fd_send sends one datagram, a
 * sync message of kind SYNC_TERMINAL carrying FD as SCM_RIGHTS; the sender
 * keeps its own FD (close it after). Returns 0 or -errno.
 */
int terminal_fd_send(int sock, int fd);
/*
 * Receives one sync message from SOCK like sync_recv (1 with a message, 0 at
 * end of file, -errno), and when it carries a descriptor stores it in
 * *RET_FD (O_CLOEXEC, owned by the caller), else *RET_FD = -1. A
 * descriptor on a message of another kind is closed.
 */
struct sync_msg;
int terminal_fd_recv(int sock, struct sync_msg *msg, int *ret_fd);

/*
 * In the container, as root, after the mount namespace shows the
 * container's root: opens /dev/ptmx there, gives the slave to UID, sets
 * WS (if non-NULL and non-zero), sends the master over SYNC_FD, then makes
 * the slave the controlling terminal (setsid, TIOCSCTTY) and stdin, stdout
 * and stderr. A process that must exec with a terminal calls this before
 * dropping privileges.
 */
int terminal_setup_in_container(int sync_fd, uid_t uid, const struct winsize *ws,
                                struct error **err);

/* Copies the window size of berth's terminal (stdin, else stdout) onto MASTER. */
void terminal_resize(int master);

/*
 * Runs the foreground side of a container with a terminal until PID (berth's
 * child) exits: berth's terminal in raw mode (restored on every way out),
 * stdin copied to MASTER when INTERACTIVE, MASTER copied to stdout, window
 * size at start and on SIGWINCH; SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1
 * and SIGUSR2 sent to berth are forwarded to PID (in raw mode ctrl-c and
 * ctrl-z make no signal here: they are characters that reach the container
 * through the pty). Closes MASTER. *RET_EXIT_STATUS: the exit code or
 * 128 + signal.
 */
int terminal_relay(int master, pid_t pid, int interactive, int *ret_exit_status,
                   struct error **err);

#endif
