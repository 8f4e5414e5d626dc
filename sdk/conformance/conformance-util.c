/* SPDX-License-Identifier: MIT */
/* Reporting, result sinks, layer tars, mounts and files for the suites. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conformance.h"

void conf_ok(struct conformance *c, const char *name)
{
    c->n_ok++;
    printf("ok %s\n", name);
    fflush(stdout);
}

void conf_fail(struct conformance *c, const char *name, const char *fmt, ...)
{
    va_list ap;
    c->n_fail++;
    printf("FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void conf_skip(struct conformance *c, const char *name, const char *why)
{
    c->n_skip++;
    printf("skip %s: %s\n", name, why);
    fflush(stdout);
}

void conf_note(struct conformance *c, const char *fmt, ...)
{
    if (!c->verbose)
        return;
    va_list ap;
    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

int conf_check(struct conformance *c, int cond, const char *name, const char *fmt, ...)
{
    if (cond) {
        conf_ok(c, name);
        return 1;
    }
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    conf_fail(c, name, "%s", why);
    return 0;
}

const char *conf_why(struct conformance *c, int r)
{
    static char buf[1200];
    const char *t = c->error_text ? c->error_text(c) : NULL;
    if (r < 0)
        snprintf(buf, sizeof(buf), "returned %d (%s): %s", r, strerror(-r), t ? t : "(no message)");
    else
        snprintf(buf, sizeof(buf), "returned %d%s%s", r, t ? ": " : "", t ? t : "");
    if (c->error_reset)
        c->error_reset(c);
    return buf;
}

void conf_track(struct conformance *c, const char *name)
{
    if (c->n_tracked < CONF_MAX_TRACKED)
        snprintf(c->tracked[c->n_tracked++], sizeof(c->tracked[0]), "%s", name);
}

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static int add_mount_cb(void *ctx, const struct berth_mount *m)
{
    struct conf_mounts *ms = ctx;
    if (!m || m->size < sizeof(uint32_t) || !m->target || !m->type || !m->source) {
        ms->overflow = 1;
        return -EINVAL;
    }
    if (ms->n >= CONF_MAX_MOUNTS) {
        ms->overflow = 1;
        return -E2BIG;
    }
    copy_str(ms->m[ms->n].type, sizeof(ms->m[0].type), m->type);
    copy_str(ms->m[ms->n].source, sizeof(ms->m[0].source), m->source);
    copy_str(ms->m[ms->n].target, sizeof(ms->m[0].target), m->target);
    copy_str(ms->m[ms->n].options, sizeof(ms->m[0].options), m->options);
    ms->n++;
    return 0;
}

void conf_prepare_result(struct berth_storage_prepare_result *res, struct conf_mounts *mounts)
{
    memset(mounts, 0, sizeof(*mounts));
    memset(res, 0, sizeof(*res));
    res->size = sizeof(*res);
    res->host_ctx = mounts;
    res->add_mount = add_mount_cb;
}

static int put_text_cb(void *ctx, const char *text)
{
    struct conf_text *t = ctx;
    if (!text)
        return -EINVAL;
    copy_str(t->text, sizeof(t->text), text);
    t->set = 1;
    return 0;
}

void conf_text_result(struct berth_text_result *res, struct conf_text *text)
{
    memset(text, 0, sizeof(*text));
    memset(res, 0, sizeof(*res));
    res->size = sizeof(*res);
    res->host_ctx = text;
    res->put = put_text_cb;
}

/* --- ustar ---------------------------------------------------------------- */

static void octal(char *field, size_t len, unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%0*llo", (int)len - 1, v);
    memcpy(field, buf, len - 1);
    field[len - 1] = '\0';
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int conf_write_tar(const char *path, const struct conf_tar_entry *entries, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct conf_tar_entry *e = &entries[i];
        unsigned char h[512];
        memset(h, 0, sizeof(h));
        if (strlen(e->name) >= 100 || (e->type == 'l' && e->data && strlen(e->data) >= 100)) {
            r = -ENAMETOOLONG;
            break;
        }
        memcpy(h, e->name, strlen(e->name));
        size_t size = e->type == 'f' && e->data ? strlen(e->data) : 0;
        octal((char *)h + 100, 8, e->mode ? e->mode : (e->type == 'd' ? 0755 : 0644));
        octal((char *)h + 108, 8, 0);
        octal((char *)h + 116, 8, 0);
        octal((char *)h + 124, 12, size);
        octal((char *)h + 136, 12, 1700000000);
        h[156] = e->type == 'd' ? '5' : e->type == 'l' ? '2' : '0';
        if (e->type == 'l' && e->data)
            memcpy(h + 157, e->data, strlen(e->data));
        memcpy(h + 257, "ustar", 6);
        h[263] = '0'; /* version "00": two bytes, no NUL */
        h[264] = '0';
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t k = 0; k < sizeof(h); k++)
            sum += h[k];
        snprintf((char *)h + 148, 8, "%06o", sum);
        r = write_all(fd, h, sizeof(h));
        if (r == 0 && size > 0) {
            r = write_all(fd, e->data, size);
            static const char zeros[512];
            if (r == 0 && size % 512)
                r = write_all(fd, zeros, 512 - size % 512);
        }
    }
    if (r == 0) {
        static const char end[1024];
        r = write_all(fd, end, sizeof(end));
    }
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

void conf_fake_digest(const char *text, char out[72])
{
    /* FNV-1a, four lanes with different seeds: unique enough for ids. */
    uint64_t lanes[4] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull, 0x9e3779b97f4a7c15ull,
                         0xc2b2ae3d27d4eb4full};
    for (int l = 0; l < 4; l++)
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
            lanes[l] ^= *p;
            lanes[l] *= 0x100000001b3ull;
        }
    snprintf(out, 72, "sha256:%016llx%016llx%016llx%016llx", (unsigned long long)lanes[0],
             (unsigned long long)lanes[1], (unsigned long long)lanes[2],
             (unsigned long long)lanes[3]);
}

/* --- mounts ------------------------------------------------------------------ */

struct flag_word {
    const char *word;
    unsigned long set, clear;
};

static const struct flag_word flag_words[] = {
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},
    {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC},
    {"noatime", MS_NOATIME, 0},
    {"relatime", MS_RELATIME, 0},
    {"strictatime", MS_STRICTATIME, 0},
    {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0},
    {"private", 0, 0},
    {"rprivate", 0, 0},
    {"slave", 0, 0},
    {"rslave", 0, 0},
    {"shared", 0, 0},
    {"rshared", 0, 0},
};

static void parse_options(const char *options, unsigned long *flags, char *data, size_t len)
{
    *flags = 0;
    data[0] = '\0';
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", options ? options : "");
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++)
            if (!strcmp(w, flag_words[i].word))
                break;
        if (i < sizeof(flag_words) / sizeof(flag_words[0])) {
            *flags |= flag_words[i].set;
            *flags &= ~flag_words[i].clear;
            continue;
        }
        size_t used = strlen(data);
        snprintf(data + used, len - used, "%s%s", used ? "," : "", w);
    }
}

int conf_do_mounts(const struct conf_mounts *mounts, const char *root, char *why, size_t why_len)
{
    for (unsigned i = 0; i < mounts->n; i++) {
        const char *type = mounts->m[i].type;
        char target[2048];
        snprintf(target, sizeof(target), "%s%s", root,
                 strcmp(mounts->m[i].target, "/") ? mounts->m[i].target : "");
        if (conf_mkdir_p(target) < 0) {
            snprintf(why, why_len, "cannot make mount point '%s': %s", target, strerror(errno));
            return -errno;
        }
        unsigned long flags;
        char data[4096];
        parse_options(mounts->m[i].options, &flags, data, sizeof(data));
        int is_bind = !strcmp(type, "bind") || (flags & MS_BIND);
        if (is_bind)
            flags |= MS_BIND;
        unsigned long first = is_bind ? flags & (MS_BIND | MS_REC) : flags;
        if (mount(mounts->m[i].source, target, is_bind ? NULL : type, first,
                  is_bind || !data[0] ? NULL : data) < 0) {
            int e = errno;
            snprintf(why, why_len, "mount %s '%s' on '%s' (%s): %s", type, mounts->m[i].source,
                     target, mounts->m[i].options, strerror(e));
            return -e;
        }
        if (is_bind && (flags & ~(MS_BIND | MS_REC)) &&
            mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | (flags & ~(MS_BIND | MS_REC)), NULL) <
                0) {
            int e = errno;
            snprintf(why, why_len, "remount '%s' (%s): %s", target, mounts->m[i].options,
                     strerror(e));
            return -e;
        }
    }
    return 0;
}

struct mount_point {
    char path[2048];
};

static int collect_mounts(const char *prefix, struct mount_point *out, int max)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -errno;
    char line[8192];
    int n = 0;
    size_t plen = strlen(prefix);
    while (fgets(line, sizeof(line), f)) {
        /* id parent major:minor root mount-point ... */
        char *save = NULL, *field = strtok_r(line, " ", &save);
        for (int i = 0; field && i < 4; i++)
            field = strtok_r(NULL, " ", &save);
        if (!field)
            continue;
        if (strncmp(field, prefix, plen) || (field[plen] != '\0' && field[plen] != '/'))
            continue;
        if (n < max)
            snprintf(out[n].path, sizeof(out[n].path), "%s", field);
        n++;
    }
    (void)fclose(f);
    return n;
}

static int by_length_desc(const void *a, const void *b)
{
    return (int)strlen(((const struct mount_point *)b)->path) -
           (int)strlen(((const struct mount_point *)a)->path);
}

void conf_undo_mounts(const char *root)
{
    static struct mount_point points[256];
    for (int round = 0; round < 8; round++) {
        int n = collect_mounts(root, points, 256);
        if (n <= 0)
            return;
        if (n > 256)
            n = 256;
        qsort(points, (size_t)n, sizeof(points[0]), by_length_desc);
        for (int i = 0; i < n; i++)
            umount2(points[i].path, MNT_DETACH);
    }
}

int conf_count_mounts(const char *path)
{
    static struct mount_point points[4];
    return collect_mounts(path, points, 4);
}

/* --- files ------------------------------------------------------------------- */

int conf_write_file(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int r = write_all(fd, data, strlen(data));
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

int conf_read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(fd);
    return 0;
}

int conf_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int conf_mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int conf_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char child[4096];
            snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
            conf_rm_rf(child);
        }
        closedir(d);
        return rmdir(path) < 0 ? -errno : 0;
    }
    return unlink(path) < 0 ? -errno : 0;
}

int conf_find_name(const char *dir, const char *needle, char *found, size_t len)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    int hit = 0;
    while (!hit && (de = readdir(d))) {
        /* .locks holds the host's files for services->lock, not the plugin's. */
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".locks"))
            continue;
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", dir, de->d_name);
        if (strstr(de->d_name, needle)) {
            snprintf(found, len, "%s", child);
            hit = 1;
        } else if (de->d_type == DT_DIR) {
            hit = conf_find_name(child, needle, found, len);
        }
    }
    closedir(d);
    return hit;
}

int conf_parallel(struct conformance *c, unsigned n,
                  int (*fn)(struct conformance *c, unsigned i, void *arg), void *arg)
{
    pid_t pids[64];
    if (n > 64)
        n = 64;
    fflush(NULL);
    unsigned started = 0, failed = 0;
    for (unsigned i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            failed++;
            continue;
        }
        if (pid == 0) {
            int r = fn(c, i, arg);
            fflush(NULL);
            _exit(r == 0 ? 0 : 1);
        }
        pids[started++] = pid;
    }
    for (unsigned i = 0; i < started; i++) {
        int status;
        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            if (WIFSIGNALED(status))
                printf("# worker %u killed by signal %d\n", i, WTERMSIG(status));
            failed++;
        }
    }
    return (int)failed;
}

void conf_netfilter_rules(char *buf, size_t len)
{
    static const char *const commands[] = {
        "iptables-legacy-save 2>/dev/null | grep -E '^(-|:[^ ]+ - )' | sed 's/\\[[0-9:]*\\]//'",
        "iptables-nft-save 2>/dev/null | grep -E '^(-|:[^ ]+ - )' | sed 's/\\[[0-9:]*\\]//'",
        "nft list ruleset 2>/dev/null",
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        FILE *p = popen(commands[i], "re");
        char line[1024];
        while (p && fgets(line, sizeof(line), p))
            if (line[0] != '\n' && used + strlen(line) + 1 < len)
                used += (size_t)snprintf(buf + used, len - used, "%s", line);
        if (p)
            pclose(p);
    }
}

int conformance_run(struct conformance *c)
{
    switch (c->desc->kind) {
    case BERTH_KIND_STORAGE:
        return conformance_storage(c);
    case BERTH_KIND_VOLUME:
        return conformance_volume(c);
    case BERTH_KIND_NETWORK:
        return conformance_network(c);
    case BERTH_KIND_HOOK:
        return conformance_hook(c);
    default:
        conf_fail(c, "kind", "unknown plugin kind %u", c->desc->kind);
        return 1;
    }
}
