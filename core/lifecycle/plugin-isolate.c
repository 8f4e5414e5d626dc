#include "lifecycle/plugin-isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plugin/plugin-host.h"
#include "util/cleanup.h"
#include "util/human-units.h"

/* The answer's last bytes: a child that died while writing sent no END. */
#define ANSWER_END 0x21444e45u /* "END!" */
#define NO_STRING UINT32_MAX
/* A bigger answer is a plugin gone wrong, not a result. */
#define ANSWER_MAX (16u << 20)

struct buf {
    char *data;
    size_t len, cap;
    int failed;
};

static void buf_put(struct buf *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
    buf_put(b, &v, sizeof(v));
}

static void put_str(struct buf *b, const char *s)
{
    if (!s) {
        put_u32(b, NO_STRING);
        return;
    }
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    buf_put(b, s, n);
}

struct reader {
    const char *p, *end;
    int bad;
};

static uint32_t get_u32(struct reader *r)
{
    uint32_t v = 0;
    if (r->bad || (size_t)(r->end - r->p) < sizeof(v)) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, sizeof(v));
    r->p += sizeof(v);
    return v;
}

/* A new string, NULL for a sent NULL (or a malformed answer: R->bad). */
static char *get_str(struct reader *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || n == NO_STRING)
        return NULL;
    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return NULL;
    }
    char *s = strndup(r->p, n);
    if (!s)
        r->bad = 1;
    r->p += n;
    return s;
}

int plugin_child_start(struct plugin *p, const char *op, struct plugin_child *ch,
                       const struct mount_list *mounts, struct berth_error *perr)
{
    *ch = (struct plugin_child){.plugin = p, .op = op, .pid = -1, .fd = -1};
    if (!p->isolate)
        return PLUGIN_RUN_HERE;
    ch->mounts_before = mounts ? mounts->n : 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        int e = errno;
        error_set(&perr->error, e, "isolate: pipe");
        return -e;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        error_set(&perr->error, e, "isolate: fork");
        return -e;
    }
    if (pid == 0) {
        close(fds[0]);
        /* Dies with berth, so that a killed berth leaves no plugin child. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        ch->pid = 0;
        ch->fd = fds[1];
        return PLUGIN_RUN_CHILD;
    }
    close(fds[1]);
    ch->pid = pid;
    ch->fd = fds[0];
    return PLUGIN_RUN_PARENT;
}

_Noreturn void plugin_child_exit(struct plugin_child *ch, int r, struct berth_error *perr,
                                 struct mount_list *mounts, struct text_sink *text)
{
    struct buf b = {0};
    put_u32(&b, (uint32_t)r);
    put_u32(&b, perr->error ? (uint32_t)perr->error->errnum : 0);
    put_str(&b, perr->error ? perr->error->msg : NULL);
    size_t from = mounts ? ch->mounts_before : 0;
    put_u32(&b, mounts && mounts->n > from ? (uint32_t)(mounts->n - from) : 0);
    for (size_t i = from; mounts && i < mounts->n; i++) {
        put_str(&b, mounts->items[i].type);
        put_str(&b, mounts->items[i].source);
        put_str(&b, mounts->items[i].target);
        put_str(&b, mounts->items[i].options);
    }
    put_str(&b, text ? text->text : NULL);
    put_u32(&b, ANSWER_END);
    if (b.failed)
        _exit(3);
    const char *p = b.data;
    size_t left = b.len;
    while (left > 0) {
        ssize_t n = write(ch->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(4);
        p += n;
        left -= (size_t)n;
    }
    /* No exit(): the parent's atexit handlers and stdio buffers are not ours. */
    _exit(0);
}

/* Reads the answer until EOF or the deadline. Returns 0 at EOF, -ETIMEDOUT
 * or -errno. */
static int read_answer(int fd, long long deadline, struct buf *b)
{
    char chunk[8192];
    for (;;) {
        long long left = deadline - monotonic_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            continue;
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0)
            return 0;
        if (b->len + (size_t)got > ANSWER_MAX)
            return -E2BIG;
        buf_put(b, chunk, (size_t)got);
        if (b->failed)
            return -ENOMEM;
    }
}

static int waitpid_eintr(pid_t pid, int *status)
{
    for (;;) {
        pid_t w = waitpid(pid, status, 0);
        if (w >= 0 || errno != EINTR)
            return w < 0 ? -errno : 0;
    }
}

static int parse_answer(const struct buf *b, struct berth_error *perr, struct mount_list *mounts,
                        struct text_sink *text)
{
    struct reader rd = {.p = b->data, .end = b->data + b->len};
    int r = (int)get_u32(&rd);
    int errnum = (int)get_u32(&rd);
    _cleanup_free_ char *msg = get_str(&rd);
    uint32_t n = get_u32(&rd);
    struct mount_list got = {0};
    for (uint32_t i = 0; i < n && !rd.bad; i++) {
        _cleanup_free_ char *type = get_str(&rd), *source = get_str(&rd), *target = get_str(&rd),
                            *options = get_str(&rd);
        struct berth_mount m = {.size = sizeof(m),
                                .type = type,
                                .source = source,
                                .target = target,
                                .options = options};
        if (!rd.bad && mount_list_add_cb(&got, &m) < 0)
            rd.bad = 1;
    }
    _cleanup_free_ char *t = get_str(&rd);
    if (get_u32(&rd) != ANSWER_END || rd.p != rd.end)
        rd.bad = 1;
    if (rd.bad) {
        mount_list_clear(&got);
        return -EPROTO;
    }
    for (size_t i = 0; mounts && i < got.n; i++) {
        struct berth_mount m = {.size = sizeof(m),
                                .type = got.items[i].type,
                                .source = got.items[i].source,
                                .target = got.items[i].target,
                                .options = got.items[i].options};
        mount_list_add_cb(mounts, &m);
    }
    mount_list_clear(&got);
    if (text && t) {
        free(text->text);
        text->text = t;
        t = NULL;
    }
    if (msg) {
        error_free(&perr->error);
        error_set_plain(&perr->error, errnum, "%s", msg);
    }
    return r;
}

int plugin_child_wait(struct plugin_child *ch, struct berth_error *perr, struct mount_list *mounts,
                      struct text_sink *text)
{
    struct plugin *p = ch->plugin;
    long long deadline = monotonic_ms() + (long long)p->timeout * 1000;
    struct buf b = {0};
    int rr = read_answer(ch->fd, deadline, &b);
    close(ch->fd);
    ch->fd = -1;
    int timed_out = rr == -ETIMEDOUT;
    if (rr < 0)
        kill(ch->pid, SIGKILL); /* our own child, by its pid */
    int status = 0;
    int wr = waitpid_eintr(ch->pid, &status);
    int r;
    error_free(&perr->error);
    if (wr < 0) {
        r = wr;
        error_set(&perr->error, -wr, "isolate: wait for the child");
    } else if (timed_out) {
        r = -ETIMEDOUT;
        error_set_plain(&perr->error, ETIMEDOUT, "no answer within %u s: killed", p->timeout);
    } else if (WIFSIGNALED(status)) {
        r = -EIO;
        const char *sig = sigabbrev_np(WTERMSIG(status));
        error_set_plain(&perr->error, EIO, "killed by SIG%s", sig ? sig : "?");
    } else if (rr < 0) {
        r = rr;
        error_set(&perr->error, -rr, "isolate: read the answer");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        r = -EIO;
        error_set_plain(&perr->error, EIO, "exited with status %d without an answer",
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    } else {
        r = parse_answer(&b, perr, mounts, text);
        if (r == -EPROTO && !perr->error)
            error_set_plain(&perr->error, EPROTO, "malformed answer from the child");
    }
    free(b.data);
    /* Not the plugin's own words: callers name the plugin and the operation. */
    perr->contained = r < 0 && (wr < 0 || timed_out || rr < 0 || WIFSIGNALED(status) ||
                                !WIFEXITED(status) || WEXITSTATUS(status) != 0);
    return r;
}
