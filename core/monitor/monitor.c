/* The monitor process: fork, report the first start, relay, reap, restart. */
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/json-log.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/human-units.h"

/* What the monitor tells the berth that spawned it about the first start. */
struct start_report {
    int rc; /* 0 or -errno */
    int errnum;
    int exit_status;
    char msg[2048];
};

#define MAX_CLIENTS 16
#define CHUNK (64 * 1024)

struct monitor {
    const struct monitor_config *cfg;
    const struct monitor_callbacks *cb;
    struct json_log *log;
    int devnull;
    int sigfd;
    int listen_fd;
    int clients[MAX_CLIENTS];
    int out_fd, err_fd; /* read ends of the container's stdout and stderr (or its pty master) */
    int in_fd;          /* write end of its stdin (open_stdin), or its pty master, or -1 */
    int tty_fd;         /* the pty master, or -1 */
    pid_t pid;
    int exited, status;
    int stop_requested;
    int dirty; /* busy since the last trim */
};

/* An idle monitor gives back what a burst of work made resident, after: */
#define IDLE_TRIM_MS 1000

static char chunk[CHUNK];

static int exit_status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return EXIT_BERTH_ERROR;
}

static void send_report(int fd, int rc, const struct error *err)
{
    struct start_report rep = {.rc = rc};
    if (err) {
        rep.errnum = err->errnum;
        rep.exit_status = err->exit_status;
        snprintf(rep.msg, sizeof(rep.msg), "%s", err->msg ? err->msg : "start failed");
    }
    ssize_t w;
    do
        w = write(fd, &rep, sizeof(rep));
    while (w < 0 && errno == EINTR);
}

static void client_drop(struct monitor *m, int i)
{
    close(m->clients[i]);
    m->clients[i] = -1;
}

/* Output goes to the log first (it must lose nothing), then to attached
 * clients; a client that cannot keep up loses output (the log has it). */
static void relay(struct monitor *m, int stream, const char *data, size_t len)
{
    struct error *err = NULL;
    if (m->log && json_log_write(m->log, stream == 1 ? "stdout" : "stderr", data, len, &err) < 0)
        error_free(&err);
    struct attach_frame_header h = {.stream = (unsigned char)stream, .len = (unsigned int)len};
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (m->clients[i] < 0)
            continue;
        struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)data, len}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t w = sendmsg(m->clients[i], &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        /* A torn frame (the client cannot follow any more) or a broken
         * connection; a full socket (EAGAIN) only loses this frame. */
        if ((w >= 0 && (size_t)w < sizeof(h) + len) ||
            (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            client_drop(m, i);
    }
}

static void write_input(struct monitor *m, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(m->in_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {m->in_fd, POLLOUT, 0};
            /* A container that does not read its input stalls the input only. */
            if (poll(&pfd, 1, 1000) <= 0)
                return;
            continue;
        }
        if (w < 0) {
            if (m->in_fd != m->tty_fd)
                close(m->in_fd);
            m->in_fd = -1;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static int setup_listen(struct monitor *m)
{
    _cleanup_close_ int dir = open(m->cfg->run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -errno;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    /* Through the directory's descriptor: a long run dir path fits sun_path. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dir, MONITOR_ATTACH_SOCKET);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    m->listen_fd = fd;
    return 0;
}

static void accept_client(struct monitor *m)
{
    int c = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (m->clients[i] < 0) {
            m->clients[i] = c;
            return;
        }
    close(c);
}

static void handle_signals(struct monitor *m)
{
    struct signalfd_siginfo si;
    while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            int st;
            pid_t w;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                if (w == m->pid) {
                    m->exited = 1;
                    m->status = exit_status_of(st);
                }
        } else {
            /* SIGUSR1 from berth stop/rm -f, or SIGTERM/SIGINT/SIGHUP sent to
             * the monitor: the user wants the container to end for good. */
            m->stop_requested = 1;
        }
    }
}

/* Relays output until the container has exited and both pipes are closed. */
static void run_until_exit(struct monitor *m)
{
    while (!m->exited || m->out_fd >= 0 || m->err_fd >= 0) {
        struct pollfd p[4 + MAX_CLIENTS];
        int n = 0;
        p[n++] = (struct pollfd){m->sigfd, POLLIN, 0};
        p[n++] = (struct pollfd){m->out_fd, POLLIN, 0};
        p[n++] = (struct pollfd){m->err_fd, POLLIN, 0};
        p[n++] = (struct pollfd){m->listen_fd, POLLIN, 0};
        for (int i = 0; i < MAX_CLIENTS; i++)
            p[n++] = (struct pollfd){m->clients[i], POLLIN, 0};
        int ready = poll(p, (nfds_t)n, m->dirty ? IDLE_TRIM_MS : -1);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready == 0) {
            monitor_trim_memory();
            m->dirty = 0;
            continue;
        }
        m->dirty = 1;
        if (p[0].revents)
            handle_signals(m);
        for (int s = 1; s <= 2; s++) {
            int *fd = s == 1 ? &m->out_fd : &m->err_fd;
            if (!p[s].revents || *fd < 0)
                continue;
            ssize_t r = read(*fd, chunk, sizeof(chunk));
            if (r > 0) {
                relay(m, s, chunk, (size_t)r);
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                if (*fd == m->tty_fd && m->in_fd == m->tty_fd)
                    m->in_fd = -1;
                close(*fd);
                *fd = -1;
            }
        }
        if (p[3].revents)
            accept_client(m);
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (m->clients[i] < 0 || !p[4 + i].revents)
                continue;
            /* A client's input goes to the container's stdin or terminal, if
             * it has one (dropped otherwise); its end of file is its detach. */
            ssize_t r = read(m->clients[i], chunk, sizeof(chunk));
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                client_drop(m, i);
            else if (r > 0 && m->in_fd >= 0)
                write_input(m, chunk, (size_t)r);
        }
    }
}

/* One start: the container's stdio are pipes to us while it is created. */
static int start_once(struct monitor *m, struct error **err)
{
    int out[2], errp[2], in[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) < 0)
        return error_set(err, errno, "pipe");
    if (pipe2(errp, O_CLOEXEC) < 0 || (m->cfg->open_stdin && pipe2(in, O_CLOEXEC) < 0)) {
        int saved = errno;
        close(out[0]);
        close(out[1]);
        return error_set(err, saved, "pipe");
    }
    /* Bigger pipes: fewer wake-ups for a container that writes a lot. */
    fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
    fcntl(errp[0], F_SETPIPE_SZ, 1 << 20);
    dup2(in[0] >= 0 ? in[0] : m->devnull, 0);
    dup2(out[1], 1);
    dup2(errp[1], 2);
    close(out[1]);
    close(errp[1]);
    if (in[0] >= 0)
        close(in[0]);
    m->exited = 0;
    m->pid = 0;
    m->tty_fd = -1;
    int r = m->cb->start(m->cb->ctx, &m->pid, &m->tty_fd, err);
    dup2(m->devnull, 0);
    dup2(m->devnull, 1);
    dup2(m->devnull, 2);
    if (r < 0) {
        close(out[0]);
        close(errp[0]);
        if (in[1] >= 0)
            close(in[1]);
        return r;
    }
    if (m->tty_fd >= 0) {
        /* A terminal: its master is both the output and the input. */
        close(out[0]);
        out[0] = m->tty_fd;
        if (in[1] >= 0)
            close(in[1]);
        in[1] = m->tty_fd;
    }
    if (in[1] >= 0)
        fcntl(in[1], F_SETFL, O_NONBLOCK);
    m->out_fd = out[0];
    m->err_fd = errp[0];
    m->in_fd = in[1];
    return 0;
}

static void close_input(struct monitor *m)
{
    if (m->in_fd >= 0 && m->in_fd != m->tty_fd)
        close(m->in_fd);
    m->in_fd = -1;
    m->tty_fd = -1; /* closed with out_fd */
}

/* Sleeps MS milliseconds unless the user stops the container meanwhile. */
static void backoff(struct monitor *m, long long ms)
{
    long long until = monotonic_ms() + ms;
    while (!m->stop_requested) {
        long long left = until - monotonic_ms();
        if (left <= 0)
            return;
        struct pollfd p = {m->sigfd, POLLIN, 0};
        if (poll(&p, 1, (int)left) > 0)
            handle_signals(m);
    }
}

static void __attribute__((noreturn))
monitor_main(const struct monitor_config *cfg, const struct monitor_callbacks *cb, int report_fd)
{
    struct monitor m = {.cfg = cfg,
                        .cb = cb,
                        .listen_fd = -1,
                        .out_fd = -1,
                        .err_fd = -1,
                        .in_fd = -1,
                        .tty_fd = -1};
    for (int i = 0; i < MAX_CLIENTS; i++)
        m.clients[i] = -1;
    struct error *err = NULL;
    m.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (chdir("/") < 0 || m.devnull < 0) {
        error_set(&err, errno, "monitor: set up");
        goto failed;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    m.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (m.sigfd < 0) {
        error_set(&err, errno, "monitor: signalfd");
        goto failed;
    }
    if (json_log_open(cfg->log_path, &cfg->log, &m.log, &err) < 0)
        goto failed;
    int r = setup_listen(&m);
    if (r < 0) {
        error_set(&err, -r, "monitor: attach socket in '%s'", cfg->run_dir);
        goto failed;
    }
    /* From here on nothing of ours may reach the caller's terminal. */
    dup2(m.devnull, 0);
    dup2(m.devnull, 1);
    dup2(m.devnull, 2);

    if (start_once(&m, &err) < 0)
        goto failed;

    int restarts = 0, attempt = 0;
    for (;;) {
        long long started = monotonic_ms();
        const char *cg = cb->cgroup_path(cb->ctx);
        long long oom_before = monitor_oom_kills(cg);
        /* Small before anyone looks (the first time: before the berth that
         * waits for the report returns), then idle in poll(). */
        monitor_trim_memory();
        if (report_fd >= 0) {
            send_report(report_fd, 0, NULL);
            close(report_fd);
            report_fd = -1;
        }
        run_until_exit(&m);
        close_input(&m);
        int oom = monitor_oom_kills(cg) > oom_before;
        int again =
            restart_policy_should_restart(&cfg->restart, m.status, restarts, m.stop_requested);
        cb->stopped(cb->ctx, m.status, oom, again);
        if (!again)
            break;
        if (monotonic_ms() - started >= RESTART_RESET_AFTER_MS)
            attempt = 0;
        backoff(&m, restart_delay_ms(attempt++));
        if (m.stop_requested) {
            cb->gave_up(cb->ctx, m.status);
            break;
        }
        restarts++;
        if (start_once(&m, &err) < 0) {
            cb->gave_up(cb->ctx, err->exit_status ? err->exit_status : EXIT_BERTH_ERROR);
            error_free(&err);
            break;
        }
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (m.clients[i] >= 0)
            close(m.clients[i]);
    json_log_close(m.log);
    cb->finish(cb->ctx);
    _exit(0);

failed:
    send_report(report_fd, err ? error_code(err) : -EIO, err);
    _exit(EXIT_BERTH_ERROR);
}

int monitor_spawn(const struct monitor_config *cfg, const struct monitor_callbacks *cb,
                  struct error **err)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return error_set(err, errno, "pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(pfd[0]);
        close(pfd[1]);
        return error_set(err, saved, "fork the monitor");
    }
    if (pid == 0) {
        /* The intermediate child: a new session, then the monitor is
         * orphaned at once (re-parented to init or a subreaper). */
        close(pfd[0]);
        if (setsid() < 0)
            _exit(EXIT_BERTH_ERROR);
        pid_t mon = fork();
        if (mon < 0)
            _exit(EXIT_BERTH_ERROR);
        if (mon == 0)
            monitor_main(cfg, cb, pfd[1]);
        _exit(0);
    }
    close(pfd[1]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    struct start_report rep;
    ssize_t n;
    do
        n = read(pfd[0], &rep, sizeof(rep));
    while (n < 0 && errno == EINTR);
    close(pfd[0]);
    if (n != (ssize_t)sizeof(rep))
        return error_set(err, EIO, "the container's monitor died before starting it");
    if (rep.rc == 0)
        return 0;
    error_set_plain(err, rep.errnum > 0 ? rep.errnum : EIO, "%s", rep.msg);
    if (rep.exit_status)
        (*err)->exit_status = rep.exit_status;
    return error_code(*err);
}
