#include "monitor/json-log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/time-spec.h"

struct json_log {
    int fd;
    char *path;
    int64_t size;
    struct log_options opts;
    char *buf; /* one encoded entry, reused */
    size_t cap;
};

int json_log_open(const char *path, const struct log_options *o, struct json_log **ret,
                  struct error **err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return error_set(err, errno, "open log '%s'", path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        return error_set(err, saved, "stat log '%s'", path);
    }
    struct json_log *l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    l->fd = fd;
    l->path = strdup(path);
    l->size = st.st_size;
    l->opts = *o;
    if (l->opts.max_file < 1)
        l->opts.max_file = 1;
    *ret = l;
    return 0;
}

void json_log_close(struct json_log *l)
{
    if (!l)
        return;
    if (l->fd >= 0)
        close(l->fd);
    free(l->path);
    free(l->buf);
    free(l);
}

/* Worst case: every byte becomes \u00XX. */
static size_t encoded_max(size_t len)
{
    return len * 6 + 128;
}

static size_t encode_into(char *out, const char *stream, const char *data, size_t len,
                          const char *time)
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    memcpy(p, "{\"log\":\"", 8);
    p += 8;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        switch (c) {
        case '"':
            *p++ = '\\';
            *p++ = '"';
            break;
        case '\\':
            *p++ = '\\';
            *p++ = '\\';
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        case '\r':
            *p++ = '\\';
            *p++ = 'r';
            break;
        case '\t':
            *p++ = '\\';
            *p++ = 't';
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(p, "\\u00", 4);
                p[4] = hex[c >> 4];
                p[5] = hex[c & 15];
                p += 6;
            } else {
                *p++ = (char)c;
            }
        }
    }
    /* The tail without printf, for the same reason as json_log_format_time. */
    static const char mid[] = "\",\"stream\":\"", tm[] = "\",\"time\":\"";
    size_t n;
    memcpy(p, mid, sizeof(mid) - 1);
    p += sizeof(mid) - 1;
    memcpy(p, stream, n = strlen(stream));
    p += n;
    memcpy(p, tm, sizeof(tm) - 1);
    p += sizeof(tm) - 1;
    memcpy(p, time, n = strlen(time));
    p += n;
    *p++ = '"';
    *p++ = '}';
    return (size_t)(p - out);
}

char *json_log_encode(const char *stream, const char *data, size_t len, const char *time,
                      size_t *ret_len)
{
    char *out = malloc(encoded_max(len) + strlen(time));
    if (!out)
        abort();
    *ret_len = encode_into(out, stream, data, len, time);
    return out;
}

static int rotate(struct json_log *l, struct error **err)
{
    if (l->opts.max_file <= 1) {
        if (ftruncate(l->fd, 0) < 0)
            return error_set(err, errno, "truncate log '%s'", l->path);
        l->size = 0;
        return 0;
    }
    for (int i = l->opts.max_file - 1; i >= 1; i--) {
        _cleanup_free_ char *from = i == 1 ? strdup(l->path) : xasprintf("%s.%d", l->path, i - 1);
        _cleanup_free_ char *to = xasprintf("%s.%d", l->path, i);
        if (rename(from, to) < 0 && errno != ENOENT)
            return error_set(err, errno, "rotate log '%s'", from);
    }
    int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return error_set(err, errno, "open log '%s'", l->path);
    close(l->fd);
    l->fd = fd;
    l->size = 0;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil_from_days(long long z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put_digits(char *p, unsigned long long v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/*
 * RFC 3339 with nanoseconds, UTC, without gmtime/strftime/printf: the
 * monitor stamps every chunk, and staying off those keeps its resident
 * size small (each libc function touched maps its page cache pages).
 */
void json_log_format_time(int64_t ns, char out[32])
{
    long long secs = ns / 1000000000LL, frac = ns % 1000000000LL;
    long long days = secs / 86400, rem = secs % 86400;
    int y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    char *p = put_digits(out, (unsigned long long)y, 4);
    *p++ = '-';
    p = put_digits(p, mo, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned long long)(rem / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned long long)(rem / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned long long)(rem % 60), 2);
    *p++ = '.';
    p = put_digits(p, (unsigned long long)frac, 9);
    *p++ = 'Z';
    *p = '\0';
}

int json_log_write(struct json_log *l, const char *stream, const char *data, size_t len,
                   struct error **err)
{
    char now[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_log_format_time((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, now);
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) + 1 : len;
        size_t need = encoded_max(n) + sizeof(now);
        if (need > l->cap) {
            char *grown = realloc(l->buf, need);
            if (!grown)
                abort();
            l->buf = grown;
            l->cap = need;
        }
        size_t m = encode_into(l->buf, stream, data, n, now);
        l->buf[m++] = '\n';
        if (l->opts.max_size > 0 && l->size > 0 && l->size + (int64_t)m > l->opts.max_size) {
            int r = rotate(l, err);
            if (r < 0)
                return r;
        }
        /* One write per entry: a reader never sees two entries interleaved. */
        int r = write_all(l->fd, l->buf, m);
        if (r < 0)
            return error_set(err, -r, "write log '%s'", l->path);
        l->size += (int64_t)m;
        data += n;
        len -= n;
    }
    return 0;
}

void log_entry_clear(struct log_entry *e)
{
    free(e->data);
    e->data = NULL;
    e->len = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *p, unsigned cp)
{
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xc0 | (cp >> 6));
        p[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xe0 | (cp >> 12));
        p[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        p[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    p[0] = (char)(0xf0 | (cp >> 18));
    p[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    p[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    p[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decodes the JSON string starting after its opening quote at S (END bounds
 * the line). Returns the position after the closing quote, or NULL. */
static const char *decode_string(const char *s, const char *end, char **ret, size_t *ret_len)
{
    char *out = malloc((size_t)(end - s) + 1);
    if (!out)
        abort();
    char *p = out;
    while (s < end && *s != '"') {
        if (*s != '\\') {
            *p++ = *s++;
            continue;
        }
        if (++s >= end)
            break;
        char c = *s++;
        switch (c) {
        case 'n':
            *p++ = '\n';
            break;
        case 'r':
            *p++ = '\r';
            break;
        case 't':
            *p++ = '\t';
            break;
        case 'b':
            *p++ = '\b';
            break;
        case 'f':
            *p++ = '\f';
            break;
        case 'u': {
            if (end - s < 4)
                goto bad;
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = hexval(s[i]);
                if (h < 0)
                    goto bad;
                cp = cp * 16 + (unsigned)h;
            }
            s += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                unsigned lo = 0;
                int ok = 1;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(s[2 + i]);
                    if (h < 0)
                        ok = 0;
                    lo = lo * 16 + (unsigned)(h < 0 ? 0 : h);
                }
                if (ok && lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    s += 6;
                }
            }
            p += put_utf8(p, cp);
            break;
        }
        default: /* \" \\ \/ */
            *p++ = c;
        }
    }
    if (s >= end)
        goto bad;
    *ret = out;
    *ret_len = (size_t)(p - out);
    return s + 1;
bad:
    free(out);
    return NULL;
}

static const char *find_key(const char *line, const char *end, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = line; p + klen <= end; p++) {
        p = memchr(p, '"', (size_t)(end - p));
        if (!p || p + klen > end)
            return NULL;
        if (!memcmp(p, key, klen))
            return p + klen;
    }
    return NULL;
}

int json_log_parse_line(const char *line, size_t len, struct log_entry *ret)
{
    const char *end = line + len;
    struct log_entry e = {0};
    const char *v = find_key(line, end, "\"log\":\"");
    if (!v || !decode_string(v, end, &e.data, &e.len))
        return -EINVAL;
    char *s = NULL;
    size_t n = 0;
    v = find_key(line, end, "\"stream\":\"");
    if (!v || !decode_string(v, end, &s, &n)) {
        log_entry_clear(&e);
        return -EINVAL;
    }
    e.stream = n == 6 && !memcmp(s, "stderr", 6) ? 2 : 1;
    free(s);
    s = NULL;
    v = find_key(line, end, "\"time\":\"");
    if (!v || !decode_string(v, end, &s, &n) || n >= sizeof(e.time)) {
        free(s);
        log_entry_clear(&e);
        return -EINVAL;
    }
    memcpy(e.time, s, n);
    e.time[n] = '\0';
    free(s);
    if (parse_time_spec(e.time, 0, &e.time_ns) < 0)
        e.time_ns = 0;
    *ret = e;
    return 0;
}

/* A growing buffer of what was read but not yet a complete line. */
struct line_reader {
    char *buf;
    size_t len, cap;
};

static long count_lines(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[65536];
    long n = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0)
        for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + r - p))); p++)
            n++;
    return n;
}

struct read_state {
    const struct log_read_options *o;
    int (*fn)(void *ctx, const struct log_entry *e);
    void *fn_ctx;
    long skip; /* entries to skip for --tail */
};

static int emit_line(struct read_state *st, const char *line, size_t len)
{
    if (st->skip > 0) {
        st->skip--;
        return 0;
    }
    struct log_entry e;
    if (json_log_parse_line(line, len, &e) < 0)
        return 0; /* a torn or foreign line: skipped */
    int r = 0;
    if (e.time_ns >= st->o->since_ns)
        r = st->fn(st->fn_ctx, &e);
    log_entry_clear(&e);
    return r;
}

/* Reads FD to its current end, emitting complete lines; keeps a partial one. */
static int drain(struct read_state *st, int fd, struct line_reader *lr)
{
    for (;;) {
        if (lr->cap - lr->len < 65536) {
            size_t cap = lr->cap ? lr->cap * 2 : 131072;
            char *grown = realloc(lr->buf, cap);
            if (!grown)
                abort();
            lr->buf = grown;
            lr->cap = cap;
        }
        ssize_t n = read(fd, lr->buf + lr->len, lr->cap - lr->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : 0;
        lr->len += (size_t)n;
        char *start = lr->buf, *nl;
        while ((nl = memchr(start, '\n', (size_t)(lr->buf + lr->len - start)))) {
            int r = emit_line(st, start, (size_t)(nl - start));
            if (r < 0)
                return r;
            start = nl + 1;
        }
        lr->len = (size_t)(lr->buf + lr->len - start);
        memmove(lr->buf, start, lr->len);
    }
}

int json_log_read(const char *path, const struct log_read_options *o,
                  int (*fn)(void *ctx, const struct log_entry *e), void *fn_ctx, struct error **err)
{
    int n_rotated = 0;
    for (;; n_rotated++) {
        _cleanup_free_ char *p = xasprintf("%s.%d", path, n_rotated + 1);
        if (access(p, F_OK) < 0)
            break;
    }
    struct read_state st = {.o = o, .fn = fn, .fn_ctx = fn_ctx, .skip = 0};
    if (o->tail >= 0) {
        long total = count_lines(path);
        for (int i = 1; i <= n_rotated; i++) {
            _cleanup_free_ char *p = xasprintf("%s.%d", path, i);
            total += count_lines(p);
        }
        st.skip = total > o->tail ? total - o->tail : 0;
    }
    struct line_reader lr = {0};
    int r = 0;
    for (int i = n_rotated; i >= 1 && r == 0; i--) {
        _cleanup_free_ char *p = xasprintf("%s.%d", path, i);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        lr.len = 0;
        if (fd >= 0)
            r = drain(&st, fd, &lr);
    }
    lr.len = 0;
    int fd = r == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (r == 0 && fd < 0 && errno != ENOENT)
        r = -errno;
    if (fd >= 0)
        r = drain(&st, fd, &lr);
    while (r == 0 && o->follow) {
        int alive = o->alive(o->ctx);
        /* Rotated away under us: finish the old file, then take the new one. */
        struct stat a, b;
        if (fd < 0 || (stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_ino != b.st_ino)) {
            if (fd >= 0 && (r = drain(&st, fd, &lr)) < 0)
                break;
            if (fd >= 0)
                close(fd);
            lr.len = 0;
            fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        if (fd >= 0 && (r = drain(&st, fd, &lr)) < 0)
            break;
        if (!alive)
            break;
        poll(NULL, 0, 100);
    }
    if (fd >= 0)
        close(fd);
    free(lr.buf);
    if (r < 0 && r != -EPIPE)
        return error_set(err, -r, "read log '%s'", path);
    return 0;
}
