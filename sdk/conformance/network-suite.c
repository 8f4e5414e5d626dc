/* SPDX-License-Identifier: MIT */
/*
 * The network contract (<berth/network.h>) as checks, in the suite's own
 * network namespace (the "host" here) with one namespace per container,
 * a bind-mounted nsfs file as berth makes them. The plugin is the last
 * driver of a chain (c->chain before it: bridge before nat), and gets the
 * JSON berth would send: the network record with every create result in
 * driver_state, join_json with the earlier drivers' results.
 *
 * What a join reports is checked against the namespaces: an "ip" must be an
 * address of "interface" in the container, a "gateway" its default route, a
 * "host_interface" a link on the host; leave must remove them; concurrent
 * joins get distinct addresses; gc removes containers and networks berth no
 * longer knows.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conformance.h"

#define MAX_CHAIN 8
#define RESULT_MAX 4096

struct driver {
    const struct berth_plugin_descriptor *desc;
    const struct berth_network_ops *ops;
    void *state;
    const char *name;
};

struct network_suite {
    struct conformance *c;
    struct driver chain[MAX_CHAIN];
    unsigned n; /* the plugin under test is chain[n - 1] */
    char name[64];
    char id[72];
    char subnet[32], gateway[32];
    char state_json[MAX_CHAIN][RESULT_MAX]; /* each driver's create result */
    char record[MAX_CHAIN * RESULT_MAX + 1024];
};

/* One joined container: its namespace file and each driver's join result. */
struct endpoint {
    char id[72];
    char netns[1024];
    char ports[256];
    char results[MAX_CHAIN][RESULT_MAX];
    unsigned joined; /* drivers whose join succeeded */
};

static struct driver *tested(struct network_suite *s)
{
    return &s->chain[s->n - 1];
}

/* --- minimal JSON reading: the value of "KEY" in flat result objects ------- */

/* Copies the string value of the first "KEY" in JSON into OUT; 1 if found. */
static int json_string(const char *json, const char *key, char *out, size_t len)
{
    char needle[80];
    snprintf(needle, sizeof(needle), "\"%s\"", key);
    const char *p = json ? strstr(json, needle) : NULL;
    if (!p)
        return 0;
    p += strlen(needle);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ':')
        p++;
    if (*p != '"')
        return 0;
    p++;
    size_t i = 0;
    while (*p && *p != '"' && i + 1 < len)
        out[i++] = *p++;
    out[i] = '\0';
    return 1;
}

/* The number after "KEY": in JSON, or -1. */
static long json_number(const char *json, const char *key)
{
    char needle[80];
    snprintf(needle, sizeof(needle), "\"%s\"", key);
    const char *p = json ? strstr(json, needle) : NULL;
    if (!p)
        return -1;
    p += strlen(needle);
    while (*p == ' ' || *p == ':')
        p++;
    return *p >= '0' && *p <= '9' ? strtol(p, NULL, 10) : -1;
}

/* --- the JSON berth sends ------------------------------------------------------ */

/*
 * snprintf at BUF + *USED (LEN bytes in all), advancing *USED but never past
 * the terminator: a full buffer cuts the text instead of letting LEN - *USED
 * wrap around for the next call.
 */
__attribute__((format(printf, 4, 5))) static void appendf(char *buf, size_t len, size_t *used,
                                                          const char *fmt, ...)
{
    if (*used >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used = (size_t)n < len - *used ? *used + (size_t)n : len - 1;
}

static void build_record(struct network_suite *s)
{
    size_t used = 0, len = sizeof(s->record);
    appendf(s->record, len, &used, "{\"name\": \"%s\", \"id\": \"%s\", \"drivers\": [", s->name,
            s->id + 7);
    for (unsigned i = 0; i < s->n; i++)
        appendf(s->record, len, &used, "%s\"%s\"", i ? ", " : "", s->chain[i].name);
    appendf(s->record, len, &used,
            "], \"subnet\": \"%s\", \"gateway\": \"%s\", \"ip_range\": null, "
            "\"internal\": false, \"options\": {}, \"created\": 1700000000, "
            "\"driver_state\": {",
            s->subnet, s->gateway);
    int first = 1;
    for (unsigned i = 0; i < s->n; i++) {
        if (!s->state_json[i][0])
            continue;
        appendf(s->record, len, &used, "%s\"%s\": %s", first ? "" : ", ", s->chain[i].name,
                s->state_json[i]);
        first = 0;
    }
    appendf(s->record, len, &used, "}}");
}

static void build_join(struct network_suite *s, const struct endpoint *ep, unsigned upto,
                       int teardown, char *out, size_t len)
{
    size_t used = 0;
    appendf(out, len, &used,
            "{\"interface\": \"eth0\", \"ip\": null, \"ports\": %s, "
            "\"results\": {",
            ep->ports[0] ? ep->ports : "[]");
    for (unsigned i = 0; i < upto && i < s->n; i++)
        appendf(out, len, &used, "%s\"%s\": %s", i ? ", " : "", s->chain[i].name,
                ep->results[i][0] ? ep->results[i] : "{}");
    appendf(out, len, &used, "}%s}", teardown ? ", \"netns_teardown\": true" : "");
}

static void request(struct network_suite *s, const struct endpoint *ep, const char *join,
                    struct berth_network_request *req)
{
    memset(req, 0, sizeof(*req));
    req->size = sizeof(*req);
    req->network_name = s->name;
    req->network_json = s->record;
    req->container_id = ep ? ep->id : NULL;
    req->netns_path = ep ? ep->netns : NULL;
    req->join_json = join;
}

/* --- operations through the chain ---------------------------------------------- */

static int create_one(struct network_suite *s, unsigned i)
{
    struct berth_network_request req;
    build_record(s);
    request(s, NULL, NULL, &req);
    struct conf_text text;
    struct berth_text_result res;
    conf_text_result(&res, &text);
    if (!s->chain[i].ops->create)
        return 0;
    int r = s->chain[i].ops->create(s->chain[i].state, &req, &res, s->c->err);
    if (r == 0 && text.set)
        snprintf(s->state_json[i], sizeof(s->state_json[i]), "%s", text.text);
    build_record(s);
    return r;
}

static int remove_one(struct network_suite *s, unsigned i)
{
    struct berth_network_request req;
    request(s, NULL, NULL, &req);
    if (!s->chain[i].ops->remove)
        return 0;
    return s->chain[i].ops->remove(s->chain[i].state, &req, NULL, s->c->err);
}

static int join_one(struct network_suite *s, struct endpoint *ep, unsigned i)
{
    static char join[MAX_CHAIN * RESULT_MAX + 512];
    build_join(s, ep, i, 0, join, sizeof(join));
    struct berth_network_request req;
    request(s, ep, join, &req);
    struct conf_text text;
    struct berth_text_result res;
    conf_text_result(&res, &text);
    int r = s->chain[i].ops->join(s->chain[i].state, &req, &res, s->c->err);
    if (r == 0) {
        snprintf(ep->results[i], sizeof(ep->results[i]), "%s", text.set ? text.text : "{}");
        ep->joined = i + 1;
    }
    return r;
}

/* Leaves driver I with every result known, as berth does. */
static int leave_one(struct network_suite *s, struct endpoint *ep, unsigned i, int teardown)
{
    static char join[MAX_CHAIN * RESULT_MAX + 512];
    build_join(s, ep, s->n, teardown, join, sizeof(join));
    struct berth_network_request req;
    request(s, ep, join, &req);
    return s->chain[i].ops->leave(s->chain[i].state, &req, NULL, s->c->err);
}

/* Joins the drivers before the tested one; fills WHY on failure. */
static int join_prefix(struct network_suite *s, struct endpoint *ep, char *why, size_t len)
{
    for (unsigned i = 0; i + 1 < s->n; i++) {
        int r = join_one(s, ep, i);
        if (r < 0) {
            snprintf(why, len, "join of chain driver '%s' %s", s->chain[i].name, conf_why(s->c, r));
            return r;
        }
    }
    return 0;
}

static void leave_all(struct network_suite *s, struct endpoint *ep)
{
    for (unsigned i = s->n; i > 0; i--) {
        int r = leave_one(s, ep, i - 1, 0);
        if (r < 0)
            conf_why(s->c, r);
    }
}

/* --- namespaces ---------------------------------------------------------------- */

/* Makes a network namespace bound at PATH, as berth's netns.c does. */
static int netns_make(const char *path)
{
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0)
        return -errno;
    close(fd);
    /* The child binds its own namespace, named through /proc/self (not
     * /proc/PID, which is another process's where /proc is an outer pid
     * namespace's). */
    int status[2];
    if (pipe2(status, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    int r = pid < 0 ? -errno : 0;
    if (pid == 0) {
        close(status[0]);
        r = unshare(CLONE_NEWNET) < 0 ? -errno : 0;
        if (r == 0 && mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
            r = -errno;
        _exit(write(status[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
    }
    close(status[1]);
    if (r == 0 && read(status[0], &r, sizeof(r)) != sizeof(r))
        r = -EIO;
    close(status[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (r < 0) {
        umount2(path, MNT_DETACH);
        unlink(path);
    }
    return r;
}

static void netns_drop(const char *path)
{
    umount2(path, MNT_DETACH);
    unlink(path);
}

/* What a namespace holds: "link NAME" lines, "addr NAME IP" lines and
 * "route default GATEWAY" if there is a default route. */
struct ns_view {
    char text[8192];
    int ok;
};

static void describe_current(struct ns_view *v)
{
    size_t used = 0, len = sizeof(v->text);
    struct if_nameindex *links = if_nameindex();
    for (struct if_nameindex *l = links; l && l->if_index; l++)
        appendf(v->text, len, &used, "link %s\n", l->if_name);
    if (links)
        if_freenameindex(links);
    struct ifaddrs *addrs = NULL;
    if (getifaddrs(&addrs) == 0) {
        for (struct ifaddrs *a = addrs; a; a = a->ifa_next) {
            if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET)
                continue;
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &((struct sockaddr_in *)a->ifa_addr)->sin_addr, ip, sizeof(ip));
            appendf(v->text, len, &used, "addr %s %s\n", a->ifa_name, ip);
        }
        freeifaddrs(addrs);
    }
    FILE *f = fopen("/proc/self/net/route", "re");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        char ifname[64];
        unsigned dest, gw;
        if (sscanf(line, "%63s %x %x", ifname, &dest, &gw) == 3 && dest == 0) {
            struct in_addr in = {.s_addr = gw};
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &in, ip, sizeof(ip));
            appendf(v->text, len, &used, "route default %s\n", ip);
        }
    }
    if (f)
        (void)fclose(f); /* read side: nothing to flush or report */
    v->ok = 1;
}

/* Describes the namespace at PATH (NULL: this one). */
static void describe(const char *path, struct ns_view *out)
{
    memset(out, 0, sizeof(*out));
    if (!path) {
        describe_current(out);
        return;
    }
    struct ns_view *shared =
        mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        return;
    memset(shared, 0, sizeof(*shared));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && setns(fd, CLONE_NEWNET) == 0)
            describe_current(shared);
        _exit(0);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
    *out = *shared;
    munmap(shared, sizeof(*shared));
}

static int view_has(const struct ns_view *v, const char *line)
{
    char needle[256];
    snprintf(needle, sizeof(needle), "%s\n", line);
    return strstr(v->text, needle) != NULL;
}

/* --- cases ---------------------------------------------------------------------- */

static void endpoint_init(struct network_suite *s, struct endpoint *ep, const char *word)
{
    memset(ep, 0, sizeof(*ep));
    char text[160], digest[72];
    snprintf(text, sizeof(text), "%s-%s", s->c->token, word);
    conf_fake_digest(text, digest);
    snprintf(ep->id, sizeof(ep->id), "%s", digest + 7);
    snprintf(ep->netns, sizeof(ep->netns), "%s/netns-%.12s", s->c->work_dir, ep->id);
    conf_track(s->c, ep->id);
}

/* Checks what the tested driver's join result claims against the namespaces. */
static void check_joined(struct network_suite *s, struct endpoint *ep, const char *label)
{
    struct conformance *c = s->c;
    const char *res = ep->results[s->n - 1];
    char name[160], ip[64], ifname[64], gw[64], host_if[64];
    snprintf(name, sizeof(name), "%s: join reports a JSON object", label);
    conf_check(c, res[0] == '{', name, "result '%.80s'", res);
    struct ns_view inside, host;
    describe(ep->netns, &inside);
    describe(NULL, &host);
    if (json_string(res, "ip", ip, sizeof(ip))) {
        if (!json_string(res, "interface", ifname, sizeof(ifname)))
            snprintf(ifname, sizeof(ifname), "eth0");
        char line[160];
        snprintf(line, sizeof(line), "link %s", ifname);
        snprintf(name, sizeof(name), "%s: the interface is in the container's namespace", label);
        conf_check(c, view_has(&inside, line), name, "no '%s'; the namespace has: %s", ifname,
                   inside.text);
        snprintf(line, sizeof(line), "addr %s %s", ifname, ip);
        snprintf(name, sizeof(name), "%s: the reported address is on it", label);
        conf_check(c, view_has(&inside, line), name, "no %s on %s; the namespace has: %s", ip,
                   ifname, inside.text);
        long prefix = json_number(res, "prefix_len");
        snprintf(name, sizeof(name), "%s: the prefix length is reported", label);
        conf_check(c, prefix > 0 && prefix <= 32, name, "prefix_len %ld", prefix);
    }
    if (json_string(res, "gateway", gw, sizeof(gw))) {
        char line[160];
        snprintf(line, sizeof(line), "route default %s", gw);
        snprintf(name, sizeof(name), "%s: the default route goes through the gateway", label);
        conf_check(c, view_has(&inside, line), name, "no default route via %s: %s", gw,
                   inside.text);
    }
    if (json_string(res, "host_interface", host_if, sizeof(host_if))) {
        char line[160];
        snprintf(line, sizeof(line), "link %s", host_if);
        snprintf(name, sizeof(name), "%s: the host interface exists", label);
        conf_check(c, view_has(&host, line), name, "no link '%s' on the host", host_if);
    }
}

static void check_left(struct network_suite *s, struct endpoint *ep, const char *label)
{
    struct conformance *c = s->c;
    const char *res = ep->results[s->n - 1];
    char name[160], ip[64], ifname[64], host_if[64], line[160];
    struct ns_view inside, host;
    describe(ep->netns, &inside);
    describe(NULL, &host);
    if (json_string(res, "ip", ip, sizeof(ip))) {
        if (!json_string(res, "interface", ifname, sizeof(ifname)))
            snprintf(ifname, sizeof(ifname), "eth0");
        snprintf(line, sizeof(line), "addr %s %s", ifname, ip);
        snprintf(name, sizeof(name), "%s: leave removes the container's address", label);
        conf_check(c, !view_has(&inside, line), name, "%s is still there", ip);
    }
    if (json_string(res, "host_interface", host_if, sizeof(host_if))) {
        snprintf(line, sizeof(line), "link %s", host_if);
        snprintf(name, sizeof(name), "%s: leave removes the host interface", label);
        conf_check(c, !view_has(&host, line), name, "link '%s' is still there", host_if);
    }
}

static int case_create(struct network_suite *s)
{
    struct conformance *c = s->c;
    for (unsigned i = 0; i + 1 < s->n; i++) {
        int r = create_one(s, i);
        if (r < 0) {
            conf_fail(c, "create", "chain driver '%s' create %s", s->chain[i].name, conf_why(c, r));
            return r;
        }
    }
    struct ns_view before;
    describe(NULL, &before);
    int r = create_one(s, s->n - 1);
    if (!conf_check(c, r == 0, "create", "%s", conf_why(c, r)))
        return r;
    conf_check(c, s->state_json[s->n - 1][0] == '\0' || s->state_json[s->n - 1][0] == '{',
               "create reports a JSON object (or nothing)", "result '%.80s'",
               s->state_json[s->n - 1]);
    char host_if[64];
    if (json_string(s->state_json[s->n - 1], "host_interface", host_if, sizeof(host_if))) {
        struct ns_view after;
        describe(NULL, &after);
        char line[96];
        snprintf(line, sizeof(line), "link %s", host_if);
        conf_check(c, view_has(&after, line), "create makes the host_interface it reports",
                   "no link '%s'", host_if);
    }
    r = create_one(s, s->n - 1);
    conf_check(c, r == 0, "create twice is 0 (idempotent)", "%s", conf_why(c, r));
    return 0;
}

static void case_join_leave(struct network_suite *s, struct endpoint *ep)
{
    struct conformance *c = s->c;
    char why[2048] = "";
    int r = netns_make(ep->netns);
    if (r < 0) {
        conf_fail(c, "join", "cannot make a network namespace: %s", strerror(-r));
        return;
    }
    snprintf(ep->ports, sizeof(ep->ports),
             "[{\"host_ip\": \"127.0.0.1\", \"host_port\": 0, \"container_port\": 80, "
             "\"protocol\": \"tcp\"}]");
    if (join_prefix(s, ep, why, sizeof(why)) < 0) {
        conf_fail(c, "join", "%s", why);
        leave_all(s, ep);
        netns_drop(ep->netns);
        return;
    }
    static char rules_before[1 << 16], rules_joined[1 << 16], rules_left[1 << 16];
    conf_netfilter_rules(rules_before, sizeof(rules_before));
    r = join_one(s, ep, s->n - 1);
    conf_netfilter_rules(rules_joined, sizeof(rules_joined));
    if (conf_check(c, r == 0, "join", "%s", conf_why(c, r))) {
        check_joined(s, ep, "join");
        const char *res = ep->results[s->n - 1];
        if (strstr(res, "\"ports\"")) {
            long port = json_number(res, "host_port");
            conf_check(c, port > 0 && port < 65536,
                       "a published port with host_port 0 gets a port chosen", "host_port %ld",
                       port);
        }
    }
    r = leave_one(s, ep, s->n - 1, 0);
    conf_check(c, r == 0, "leave", "%s", conf_why(c, r));
    check_left(s, ep, "leave");
    conf_netfilter_rules(rules_left, sizeof(rules_left));
    if (strcmp(rules_before, rules_joined))
        conf_check(c, !strcmp(rules_before, rules_left),
                   "leave removes the netfilter rules join added", "rules differ after leave");
    r = leave_one(s, ep, s->n - 1, 0);
    conf_check(c, r == 0, "leave twice is 0 (idempotent)", "%s", conf_why(c, r));
    for (unsigned i = s->n - 1; i > 0; i--) {
        r = leave_one(s, ep, i - 1, 0);
        if (r < 0)
            conf_why(c, r);
    }
    netns_drop(ep->netns);
}

static void case_leave_unjoined(struct network_suite *s, struct endpoint *ep)
{
    struct conformance *c = s->c;
    int r = netns_make(ep->netns);
    if (r < 0) {
        conf_fail(c, "leave", "cannot make a network namespace: %s", strerror(-r));
        return;
    }
    r = leave_one(s, ep, s->n - 1, 0);
    conf_check(c, r == 0, "leave of a container that never joined is 0", "%s", conf_why(c, r));
    netns_drop(ep->netns);
}

/* Concurrent joins: each child writes its result here. */
struct shared_results {
    struct endpoint eps[32];
    char why[32][512];
};

struct par_arg {
    struct network_suite *s;
    struct shared_results *out;
    struct endpoint *eps;
};

static int join_worker(struct conformance *c, unsigned i, void *arg)
{
    struct par_arg *a = arg;
    struct endpoint *ep = &a->eps[i];
    char why[1024] = "";
    if (join_prefix(a->s, ep, why, sizeof(why)) < 0) {
        snprintf(a->out->why[i], sizeof(a->out->why[i]), "%s", why);
        return 1;
    }
    int r = join_one(a->s, ep, a->s->n - 1);
    if (r < 0) {
        snprintf(a->out->why[i], sizeof(a->out->why[i]), "join %s", conf_why(c, r));
        return 1;
    }
    /* The parent leaves, with every driver's result as berth keeps them. */
    a->out->eps[i] = *ep;
    return 0;
}

static void case_concurrent(struct network_suite *s)
{
    struct conformance *c = s->c;
    unsigned n = c->concurrency > 32 ? 32 : c->concurrency;
    static struct endpoint eps[32];
    struct shared_results *out =
        mmap(NULL, sizeof(*out), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (out == MAP_FAILED) {
        conf_fail(c, "concurrent joins", "mmap: %s", strerror(errno));
        return;
    }
    memset(out, 0, sizeof(*out));
    unsigned made = 0;
    for (; made < n; made++) {
        char word[32];
        snprintf(word, sizeof(word), "par-%u", made);
        endpoint_init(s, &eps[made], word);
        if (netns_make(eps[made].netns) < 0)
            break;
    }
    struct par_arg arg = {s, out, eps};
    int failed = made < n ? (int)(n - made) : 0;
    failed += conf_parallel(c, made, join_worker, &arg);
    char name[96];
    snprintf(name, sizeof(name), "%u containers join at once from forked processes", n);
    char first_why[512] = "";
    for (unsigned i = 0; i < made && !first_why[0]; i++)
        snprintf(first_why, sizeof(first_why), "%s", out->why[i]);
    conf_check(c, failed == 0, name, "%d of %u failed: %s", failed, n, first_why);
    int distinct = 1, any_ip = 0;
    char dup[64] = "";
    for (unsigned i = 0; i < made; i++) {
        char ip_i[64];
        if (!json_string(out->eps[i].results[s->n - 1], "ip", ip_i, sizeof(ip_i)))
            continue;
        any_ip = 1;
        for (unsigned k = i + 1; k < made; k++) {
            char ip_k[64];
            if (json_string(out->eps[k].results[s->n - 1], "ip", ip_k, sizeof(ip_k)) &&
                !strcmp(ip_i, ip_k)) {
                distinct = 0;
                snprintf(dup, sizeof(dup), "%s", ip_i);
            }
        }
    }
    if (any_ip)
        conf_check(c, distinct, "…and get distinct addresses", "%s given twice", dup);
    for (unsigned i = 0; i < made; i++)
        if (out->eps[i].joined)
            memcpy(eps[i].results, out->eps[i].results, sizeof(eps[i].results));
    munmap(out, sizeof(*out));
    int left_ok = 1;
    for (unsigned i = 0; i < made; i++) {
        int r = leave_one(s, &eps[i], s->n - 1, 0);
        if (r < 0) {
            left_ok = 0;
            conf_why(c, r);
        }
        for (unsigned k = s->n - 1; k > 0; k--)
            if (leave_one(s, &eps[i], k - 1, 0) < 0)
                conf_why(c, -1);
    }
    conf_check(c, left_ok, "…and leave", "a leave failed");
    for (unsigned i = 0; i < made; i++) {
        check_left(s, &eps[i], "concurrent leave");
        netns_drop(eps[i].netns);
    }
}

static void case_gc(struct network_suite *s, struct endpoint *ep)
{
    struct conformance *c = s->c;
    char why[1024] = "";
    int r = netns_make(ep->netns);
    if (r < 0) {
        conf_fail(c, "gc", "cannot make a network namespace: %s", strerror(-r));
        return;
    }
    r = join_prefix(s, ep, why, sizeof(why));
    if (r == 0 && (r = join_one(s, ep, s->n - 1)) < 0)
        snprintf(why, sizeof(why), "join %s", conf_why(c, r));
    if (!conf_check(c, r == 0, "gc: a joined container berth forgot", "%s", why)) {
        leave_all(s, ep);
        netns_drop(ep->netns);
        return;
    }
    const char *none[] = {NULL};
    const char *networks[] = {s->name};
    struct berth_gc_request req = {.size = sizeof(req),
                                   .container_ids = none,
                                   .layer_ids = none,
                                   .object_ids = networks,
                                   .n_object_ids = 1};
    /* The chain drivers gc too, as `berth system gc` calls them all. */
    for (unsigned i = 0; i + 1 < s->n; i++)
        if (s->chain[i].ops->gc && s->chain[i].ops->gc(s->chain[i].state, &req, NULL, c->err) < 0)
            conf_why(c, -1);
    r = tested(s)->ops->gc(tested(s)->state, &req, NULL, c->err);
    conf_check(c, r == 0, "gc with the network kept and no container", "%s", conf_why(c, r));
    check_left(s, ep, "gc");
    leave_all(s, ep);
    netns_drop(ep->netns);
}

static void case_remove(struct network_suite *s)
{
    struct conformance *c = s->c;
    struct ns_view before, after;
    describe(NULL, &before);
    int r = remove_one(s, s->n - 1);
    conf_check(c, r == 0, "remove", "%s", conf_why(c, r));
    char host_if[64];
    if (json_string(s->state_json[s->n - 1], "host_interface", host_if, sizeof(host_if))) {
        describe(NULL, &after);
        char line[96];
        snprintf(line, sizeof(line), "link %s", host_if);
        conf_check(c, !view_has(&after, line), "remove deletes the host_interface",
                   "link '%s' is still there", host_if);
    }
    r = remove_one(s, s->n - 1);
    conf_check(c, r == 0 || r == -ENOENT, "remove twice is 0 or -ENOENT (idempotent)", "%s",
               conf_why(c, r));
    for (unsigned i = s->n - 1; i > 0; i--)
        if ((r = remove_one(s, i - 1)) < 0)
            conf_why(c, r);
}

static void case_gc_network(struct network_suite *s)
{
    struct conformance *c = s->c;
    /* A network berth no longer knows: made, then forgotten. */
    int r = 0;
    for (unsigned i = 0; i < s->n && r == 0; i++)
        r = create_one(s, i);
    if (!conf_check(c, r == 0, "gc: a network berth forgot", "%s", conf_why(c, r)))
        return;
    const char *none[] = {NULL};
    struct berth_gc_request req = {
        .size = sizeof(req), .container_ids = none, .layer_ids = none, .object_ids = none};
    r = tested(s)->ops->gc(tested(s)->state, &req, NULL, c->err);
    conf_check(c, r == 0, "gc with no network kept", "%s", conf_why(c, r));
    for (unsigned i = 0; i + 1 < s->n; i++)
        if (s->chain[i].ops->gc && s->chain[i].ops->gc(s->chain[i].state, &req, NULL, c->err) < 0)
            conf_why(c, -1);
    char host_if[64];
    if (json_string(s->state_json[s->n - 1], "host_interface", host_if, sizeof(host_if))) {
        struct ns_view after;
        describe(NULL, &after);
        char line[96];
        snprintf(line, sizeof(line), "link %s", host_if);
        conf_check(c, !view_has(&after, line), "gc removes the forgotten network's host_interface",
                   "link '%s' is still there", host_if);
    }
    /* Whatever gc left, the network's own remove must still clean. */
    for (unsigned i = s->n; i > 0; i--)
        if ((r = remove_one(s, i - 1)) < 0)
            conf_why(c, r);
}

int conformance_network(struct conformance *c)
{
    static struct network_suite s;
    memset(&s, 0, sizeof(s));
    s.c = c;
    unsigned before = c->n_fail;
    for (unsigned i = 0; i < c->n_chain && s.n + 1 < MAX_CHAIN; i++)
        s.chain[s.n++] = (struct driver){c->chain[i].desc, c->chain[i].desc->ops, c->chain[i].state,
                                         c->chain[i].desc->name};
    s.chain[s.n++] = (struct driver){c->desc, c->desc->ops, c->state, c->desc->name};
    for (unsigned i = 0; i < s.n; i++) {
        const struct berth_network_ops *o = s.chain[i].ops;
        if (!o->join || !o->leave || !o->gc) {
            conf_fail(c, "operations", "'%s' lacks join, leave or gc", s.chain[i].name);
            return (int)(c->n_fail - before);
        }
    }
    /* Network names are at most 15 bytes here so that a driver can name a
     * link after it; the id is what drivers name links after otherwise. */
    snprintf(s.name, sizeof(s.name), "cf%.10s", c->token + 4);
    char text[160];
    snprintf(text, sizeof(text), "%s-network", c->token);
    conf_fake_digest(text, s.id);
    snprintf(s.subnet, sizeof(s.subnet), "10.213.%u.0/24", (unsigned)(getpid() % 200) + 10);
    snprintf(s.gateway, sizeof(s.gateway), "10.213.%u.1", (unsigned)(getpid() % 200) + 10);
    conf_track(c, s.name);
    conf_track(c, s.id + 7);

    if (case_create(&s) == 0) {
        static struct endpoint one, never, forgot;
        endpoint_init(&s, &one, "one");
        endpoint_init(&s, &never, "never");
        endpoint_init(&s, &forgot, "forgot");
        case_join_leave(&s, &one);
        case_leave_unjoined(&s, &never);
        case_concurrent(&s);
        case_gc(&s, &forgot);
        case_remove(&s);
        case_gc_network(&s);
    }
    if (c->error_reset)
        c->error_reset(c);
    return (int)(c->n_fail - before);
}
