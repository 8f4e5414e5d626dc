/* A container's /etc/hosts, /etc/resolv.conf and /etc/hostname (etc-files.h). */
#include "lifecycle/etc-files.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/userns-map.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"
#include "util/strv.h"

/* The host's resolver configuration, and systemd-resolved's real one. */
#define HOST_RESOLV_CONF "/etc/resolv.conf"
#define RESOLVED_RESOLV_CONF "/run/systemd/resolve/resolv.conf"
#define HOST_HOSTS "/etc/hosts"

/* An in-memory stream: the builders append with fprintf. */
struct text {
    char *buf;
    size_t len;
    FILE *f;
};

static void text_open(struct text *t)
{
    t->buf = NULL;
    t->len = 0;
    t->f = open_memstream(&t->buf, &t->len);
    if (!t->f)
        abort();
}

static char *text_close(struct text *t)
{
    if (fclose(t->f) != 0)
        abort();
    return t->buf;
}

int etc_is_loopback(const char *addr)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, addr, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, addr, a) == 1) {
        static const unsigned char one[16] = {[15] = 1};
        return !memcmp(a, one, sizeof(one));
    }
    return 0;
}

/* The first word of LINE (after blanks) if it is WORD: the rest, else NULL. */
static const char *keyword(const char *line, const char *word)
{
    line += strspn(line, " \t");
    size_t n = strlen(word);
    if (strncmp(line, word, n) || (line[n] != ' ' && line[n] != '\t'))
        return NULL;
    return line + n + strspn(line + n, " \t");
}

static size_t count(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* "WORD A B…" on a line of F, when V holds any. */
static void write_list(FILE *f, const char *word, char *const *v)
{
    if (!v || !v[0])
        return;
    fputs(word, f);
    for (size_t i = 0; v[i]; i++)
        fprintf(f, " %s", v[i]);
    fputs("\n", f);
}

char *etc_resolv_conf(const char *host_text, char *const *servers, char *const *search,
                      char *const *options, int host_network)
{
    struct text t;
    text_open(&t);
    int nameservers = 0;
    _cleanup_free_ char *copy = strdup(host_text ? host_text : "");
    if (!copy)
        abort();
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *ns = keyword(line, "nameserver");
        if (ns) {
            char addr[64] = "";
            (void)sscanf(ns, "%63s", addr);
            if (count(servers) > 0 || (!host_network && etc_is_loopback(addr)))
                continue;
            nameservers++;
        } else if ((count(search) > 0 && (keyword(line, "search") || keyword(line, "domain"))) ||
                   (count(options) > 0 && keyword(line, "options"))) {
            continue;
        }
        fprintf(t.f, "%s\n", line);
    }
    for (size_t i = 0; i < count(servers); i++, nameservers++)
        fprintf(t.f, "nameserver %s\n", servers[i]);
    if (nameservers == 0 && !host_network) {
        static const char *const fallback[] = {ETC_FALLBACK_DNS};
        for (size_t i = 0; i < ARRAY_SIZE(fallback); i++)
            fprintf(t.f, "nameserver %s\n", fallback[i]);
    }
    int no_search = search && search[0] && !search[1] && !strcmp(search[0], ".");
    write_list(t.f, "search", no_search ? NULL : search);
    write_list(t.f, "options", options);
    return text_close(&t);
}

char *etc_hosts(const char *host_text, const char *hostname, const char *ip, char *const *extra)
{
    struct text t;
    text_open(&t);
    if (host_text) {
        size_t n = strlen(host_text);
        fprintf(t.f, "%s%s", host_text, n && host_text[n - 1] != '\n' ? "\n" : "");
    } else {
        fputs("127.0.0.1\tlocalhost\n"
              "::1\tlocalhost ip6-localhost ip6-loopback\n"
              "fe00::0\tip6-localnet\n"
              "ff00::0\tip6-mcastprefix\n"
              "ff02::1\tip6-allnodes\n"
              "ff02::2\tip6-allrouters\n",
              t.f);
    }
    for (size_t i = 0; i < count(extra); i++) {
        const char *colon = strchr(extra[i], ':');
        if (colon)
            fprintf(t.f, "%s\t%.*s\n", colon + 1, (int)(colon - extra[i]), extra[i]);
    }
    if (!host_text && hostname) {
        size_t n = ip ? strcspn(ip, "/") : 0;
        fprintf(t.f, "%.*s\t%s\n", n ? (int)n : 9, n ? ip : "127.0.1.1", hostname);
    }
    return text_close(&t);
}

/* How many nameserver lines TEXT has, and how many of them are not loopback. */
static int nameservers(const char *text, int *ret_usable)
{
    int n = 0;
    *ret_usable = 0;
    for (const char *line = text; line && *line;) {
        const char *ns = keyword(line, "nameserver");
        char addr[64] = "";
        if (ns && sscanf(ns, "%63s", addr) == 1) {
            n++;
            *ret_usable += !etc_is_loopback(addr);
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return n;
}

/* The host's resolver file; systemd-resolved's own when the host's names only its stub. */
static char *host_resolv_conf(int host_network)
{
    char *text = NULL;
    struct error *local = NULL;
    if (read_file(HOST_RESOLV_CONF, &text, NULL, &local) < 0) {
        error_free(&local);
        return NULL;
    }
    int usable;
    if (host_network || nameservers(text, &usable) == 0 || usable > 0)
        return text;
    char *resolved = NULL;
    if (read_file(RESOLVED_RESOLV_CONF, &resolved, NULL, &local) < 0) {
        error_free(&local);
        return text;
    }
    free(text);
    return resolved;
}

/* Whether a user mount covers TARGET (itself, or /etc, or /). */
static int covered(const struct mount_entry *m, size_t n, const char *target)
{
    for (size_t i = 0; i < n; i++) {
        const char *t = m[i].target ? m[i].target : "";
        size_t len = strlen(t);
        while (len > 1 && t[len - 1] == '/')
            len--;
        if ((len == strlen(target) && !strncmp(t, target, len)) ||
            (len == 4 && !strncmp(t, "/etc", 4)) || (len == 1 && t[0] == '/'))
            return 1;
    }
    return 0;
}

/* The host ids of the container's root, when it has a user namespace. */
static int userns_root(const cJSON *rec, uid_t *uid, gid_t *gid)
{
    const cJSON *userns = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "security"), "userns");
    struct id_map u, g;
    struct error *local = NULL;
    if (!cJSON_GetObjectItem(userns, "uid_map") ||
        id_map_from_json(cJSON_GetObjectItem(userns, "uid_map"), &u, "uid_map", &local) < 0 ||
        id_map_from_json(cJSON_GetObjectItem(userns, "gid_map"), &g, "gid_map", &local) < 0) {
        error_free(&local);
        return 0;
    }
    int64_t hu = id_map_to_host(&u, 0), hg = id_map_to_host(&g, 0);
    if (hu < 0 || hg < 0)
        return 0;
    *uid = (uid_t)hu;
    *gid = (gid_t)hg;
    return 1;
}

/* Writes TEXT to PATH in the bundle, berth's private directory: no
 * temporary file and rename, which a start would pay three times. */
static int write_new_file(const char *path, const char *text, struct error **err)
{
    _cleanup_close_ int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len)
        return error_set(err, fd < 0 ? errno : EIO, "write '%s'", path);
    return 0;
}

void etc_files_free_sources(struct mount_entry *m, size_t n_user, size_t n)
{
    for (size_t i = n_user; m && i < n; i++)
        free(m[i].source);
}

int etc_files_prepare(const cJSON *rec, const char *dir, const struct mount_entry *user, size_t n,
                      struct mount_entry **ret, size_t *ret_n, struct error **err)
{
    static const char *const targets[] = {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"};
    int host_network = !strcmp(rec_str(rec, "network") ?: "", "host");
    const char *hostname = rec_str(rec, "hostname");
    const cJSON *dns = cJSON_GetObjectItem(rec, "dns");
    _cleanup_strv_ char **servers = strv_from_json(cJSON_GetObjectItem(dns, "servers"));
    _cleanup_strv_ char **search = strv_from_json(cJSON_GetObjectItem(dns, "search"));
    _cleanup_strv_ char **options = strv_from_json(cJSON_GetObjectItem(dns, "options"));
    _cleanup_strv_ char **extra = strv_from_json(cJSON_GetObjectItem(rec, "extra_hosts"));
    _cleanup_free_ char *host_resolv = host_resolv_conf(host_network);
    _cleanup_free_ char *host_hosts = NULL;
    struct error *local = NULL;
    if (host_network && read_file(HOST_HOSTS, &host_hosts, NULL, &local) < 0)
        error_free(&local);
    char *texts[3] = {
        etc_hosts(host_network ? host_hosts ?: "" : NULL, hostname, rec_str(rec, "ip"), extra),
        etc_resolv_conf(host_resolv, servers, search, options, host_network),
        xasprintf("%s\n", hostname ? hostname : ""),
    };
    struct mount_entry *m = calloc(n + ARRAY_SIZE(targets), sizeof(*m));
    if (!m)
        abort();
    if (n)
        memcpy(m, user, n * sizeof(*m));
    size_t k = n;
    uid_t uid = 0;
    gid_t gid = 0;
    int shifted = userns_root(rec, &uid, &gid);
    int r = 0;
    for (size_t i = 0; i < ARRAY_SIZE(targets) && r == 0; i++) {
        if (covered(user, n, targets[i]))
            continue;
        char *path = xasprintf("%s/%s", dir, targets[i] + strlen("/etc/"));
        r = write_new_file(path, texts[i], err);
        /* The container's root owns them, also in a user namespace, as docker's. */
        if (r == 0 && shifted && chown(path, uid, gid) < 0)
            r = error_set(err, errno, "chown '%s'", path);
        m[k++] = (struct mount_entry){.type = (char *)"bind",
                                      .source = path,
                                      .target = (char *)targets[i],
                                      .options = (char *)"rbind,nosuid,nodev,noexec"};
    }
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
        free(texts[i]);
    if (r < 0) {
        etc_files_free_sources(m, n, k);
        free(m);
        return error_prefix(err, "the container's /etc files");
    }
    *ret = m;
    *ret_n = k;
    return 0;
}
