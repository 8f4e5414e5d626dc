/*
 * berth's side of a container's terminal: its own terminal in raw mode, a
 * poll() loop copying both ways through the pty master, window size changes,
 * signals read from a signalfd so that every way out restores the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "terminal.h"
#include "util/cleanup.h"

#define RELAY_BUF 8192

struct relay_buf {
    char data[RELAY_BUF];
    size_t len;
};

void terminal_resize(int master)
{
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
        return;
    ioctl(master, TIOCSWINSZ, &ws);
}

/* Reads what FD has into B. Returns bytes read, 0 at end, -errno (-EAGAIN: none now). */
static ssize_t fill(int fd, struct relay_buf *b)
{
    ssize_t n;
    do
        n = read(fd, b->data + b->len, sizeof(b->data) - b->len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    b->len += (size_t)n;
    return n;
}

/* Writes what B holds to FD. Returns 0 (maybe partially written) or -errno. */
static int drain(int fd, struct relay_buf *b)
{
    while (b->len > 0) {
        ssize_t n = write(fd, b->data, b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? 0 : -errno;
        memmove(b->data, b->data + n, b->len - (size_t)n);
        b->len -= (size_t)n;
    }
    return 0;
}

static int exit_status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return EXIT_BERTH_ERROR;
}

static void set_nonblock(int fd, int on, int *saved)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return;
    if (saved)
        *saved = fl;
    fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int terminal_relay(int master_fd, pid_t pid, int interactive, int *ret_exit_status,
                   struct error **err)
{
    _cleanup_close_ int master = master_fd;
    static const int handled[] = {SIGCHLD, SIGWINCH, SIGINT,  SIGTERM,
                                  SIGHUP,  SIGQUIT,  SIGUSR1, SIGUSR2};
    sigset_t set, old_mask;
    sigemptyset(&set);
    for (size_t i = 0; i < ARRAY_SIZE(handled); i++)
        sigaddset(&set, handled[i]);
    if (sigprocmask(SIG_BLOCK, &set, &old_mask) < 0)
        return error_set(err, errno, "block signals");
    _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return error_set(err, e, "signalfd");
    }

    /* Raw: no echo, no line editing, no signals made from ctrl-c/ctrl-z here. */
    int in_tty = interactive && isatty(STDIN_FILENO);
    struct termios saved_tio;
    int raw = 0;
    if (in_tty && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
        struct termios tio = saved_tio;
        /* Output too (as docker): the container's pty already turned \n into \r\n. */
        cfmakeraw(&tio);
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &tio) == 0)
            raw = 1;
    }
    /* Both saved first: stdin and stdout may be one open file description. */
    int in_flags = interactive ? fcntl(STDIN_FILENO, F_GETFL) : -1;
    int out_flags = fcntl(STDOUT_FILENO, F_GETFL);
    if (in_flags >= 0)
        set_nonblock(STDIN_FILENO, 1, NULL);
    if (out_flags >= 0)
        set_nonblock(STDOUT_FILENO, 1, NULL);
    set_nonblock(master, 1, NULL);
    terminal_resize(master);

    struct relay_buf to_master = {.len = 0}, to_out = {.len = 0};
    int stdin_open = interactive, master_open = 1, exited = 0, status = 0, r = 0;
    for (;;) {
        /*
         * Checked before every sleep: SIGCHLD is blocked from here on, but the
         * process may have ended before, its signal long gone.
         */
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            status = exit_status_of(st);
            exited = 1;
            break;
        }
        if (w < 0 && errno != EINTR) {
            r = error_set(err, errno, "wait for container process %d", (int)pid);
            break;
        }
        struct pollfd p[4];
        nfds_t n = 0;
        p[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
        int i_in = -1, i_master = -1, i_out = -1;
        if (stdin_open && to_master.len < sizeof(to_master.data)) {
            i_in = (int)n;
            p[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        }
        if (master_open) {
            i_master = (int)n;
            short ev = 0;
            if (to_out.len < sizeof(to_out.data))
                ev |= POLLIN;
            if (to_master.len > 0)
                ev |= POLLOUT;
            p[n++] = (struct pollfd){.fd = master, .events = ev};
        }
        if (to_out.len > 0) {
            i_out = (int)n;
            p[n++] = (struct pollfd){.fd = STDOUT_FILENO, .events = POLLOUT};
        }
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            r = error_set(err, errno, "poll");
            break;
        }
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGWINCH)
                    terminal_resize(master);
                else if (sig != SIGCHLD)
                    kill(pid, sig);
            }
        }
        if (i_in >= 0 && (p[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = fill(STDIN_FILENO, &to_master);
            if (got == 0 || (got < 0 && got != -EAGAIN)) {
                stdin_open = 0;
                /* Without a terminal on our side, end of input is ctrl-d for the container. */
                if (!in_tty && to_master.len < sizeof(to_master.data))
                    to_master.data[to_master.len++] = 0x04;
            }
        }
        if (i_master >= 0) {
            short rev = p[i_master].revents;
            if (rev & POLLOUT)
                drain(master, &to_master);
            if (rev & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t got = fill(master, &to_out);
                /* EIO: every slave is closed; the process may still run. */
                if (got == 0 || (got < 0 && got != -EAGAIN))
                    master_open = 0;
            }
        }
        if (i_out >= 0 && (p[i_out].revents & (POLLOUT | POLLERR | POLLHUP))) {
            if (drain(STDOUT_FILENO, &to_out) < 0)
                to_out.len = 0; /* nobody reads our output: drop it */
        }
    }
    /* What the process wrote just before it ended. */
    if (exited) {
        if (out_flags >= 0)
            fcntl(STDOUT_FILENO, F_SETFL, out_flags & ~O_NONBLOCK);
        while (master_open) {
            drain(STDOUT_FILENO, &to_out);
            to_out.len = 0;
            ssize_t got = fill(master, &to_out);
            if (got <= 0)
                break;
        }
        drain(STDOUT_FILENO, &to_out);
    }

    if (out_flags >= 0)
        fcntl(STDOUT_FILENO, F_SETFL, out_flags);
    if (in_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, in_flags);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (r < 0)
        return r;
    *ret_exit_status = status;
    return 0;
}
