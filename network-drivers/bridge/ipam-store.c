/* SPDX-License-Identifier: MIT */
/*
 * The allocations of one network on disk: state_dir/ipam/NETWORK.json,
 *
 *   {"subnet": "10.88.0.0/16", "gateway": "10.88.0.1", "hint": "10.88.0.8",
 *    "allocations": {"10.88.0.2": "<container id>", …}}
 *
 * read and written only under the lock "ipam-NETWORK", which every berth
 * process on the host shares: 50 joins at once from 50 processes each see
 * the others' addresses. Written whole to a temp file, fsynced and renamed,
 * so a crash leaves the old list or the new one, never half of either.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "bridge.h"

#define IPAM_FILE_MAX (16u << 20)

static int read_file_at(int dir_fd, const char *name, char **ret)
{
    _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_size > IPAM_FILE_MAX)
        return -EBADMSG;
    size_t len = 0, cap = (size_t)st.st_size + 1;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *ret = buf;
    buf = NULL;
    return 0;
}

static int write_file_at(int dir_fd, const char *name, const char *text)
{
    uint32_t rnd;
    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
        return -EAGAIN;
    char tmp[NETWORK_NAME_MAX + 32];
    snprintf(tmp, sizeof(tmp), ".%s.%08" PRIx32, name, rnd);
    _cleanup_close_ int fd =
        openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    int r = 0;
    for (const char *p = text; len > 0 && r == 0;) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            r = -errno;
        else
            p += n, len -= (size_t)n;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
        r = -errno;
    if (r < 0)
        unlinkat(dir_fd, tmp, 0);
    return r;
}

static int session_lock(struct bridge *b, const char *network, struct ipam_session *s,
                        struct berth_error *err)
{
    char lock[NETWORK_NAME_MAX + 8];
    snprintf(lock, sizeof(lock), "ipam-%s", network);
    snprintf(s->file, sizeof(s->file), "%s.json", network);
    s->b = b;
    int r = b->services->lock(b->services->host, lock, &s->lock_token);
    if (r < 0) {
        bridge_error(b, err, -r, "lock '%s': %s", lock, strerror(-r));
        return r;
    }
    s->locked = 1;
    return 0;
}

/* Reads the file into S->pool (already set up for the subnet). */
static int session_load(struct ipam_session *s, cJSON *root, struct berth_error *err)
{
    struct bridge *b = s->b;
    const cJSON *allocs = cJSON_GetObjectItemCaseSensitive(root, "allocations");
    const cJSON *e;
    cJSON_ArrayForEach(e, allocs)
    {
        uint32_t addr;
        if (!e->string || ipam_parse_addr(e->string, &addr) < 0 || !cJSON_IsString(e) ||
            !container_id_valid(e->valuestring)) {
            s->changed = 1; /* dropped: the next save writes it out */
            continue;
        }
        int r = ipam_insert(&s->pool, addr, e->valuestring);
        if (r == -ENOMEM) {
            bridge_error(b, err, ENOMEM, "ipam file '%s': out of memory", s->file);
            return r;
        }
    }
    const cJSON *hint = cJSON_GetObjectItemCaseSensitive(root, "hint");
    uint32_t h;
    if (cJSON_IsString(hint) && ipam_parse_addr(hint->valuestring, &h) == 0)
        s->pool.hint = h;
    return 0;
}

static int session_read(struct ipam_session *s, cJSON **ret_root, struct berth_error *err)
{
    struct bridge *b = s->b;
    _cleanup_free_ char *text = NULL;
    int r = read_file_at(b->ipam_fd, s->file, &text);
    if (r < 0) {
        if (r != -ENOENT)
            bridge_error(b, err, -r, "read ipam file '%s': %s", s->file, strerror(-r));
        return r;
    }
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        /* Only this driver writes the file, atomically: a bad one was
         * damaged from outside. Saying so beats guessing at the addresses. */
        bridge_error(b, err, EBADMSG, "ipam file '%s' is not valid JSON: remove it to reset",
                     s->file);
        return -EBADMSG;
    }
    *ret_root = root;
    return 0;
}

int ipam_session_open(struct bridge *b, const struct net_config *cfg, struct ipam_session *s,
                      struct berth_error *err)
{
    _cleanup_cjson_ cJSON *root = NULL;
    memset(s, 0, sizeof(*s));
    int r = session_lock(b, cfg->name, s, err);
    if (r < 0)
        return r;
    /* cfg->pool was checked in net_config_parse; this cannot fail. */
    if ((r = ipam_init(&s->pool, cfg->subnet, cfg->gateway, cfg->ip_range, NULL, 0)) < 0) {
        bridge_error(b, err, EINVAL, "network '%s': bad subnet", cfg->name);
        goto fail;
    }
    r = session_read(s, &root, err);
    if (r == -ENOENT)
        return 0;
    if (r < 0 || (r = session_load(s, root, err)) < 0)
        goto fail;
    return 0;
fail:
    ipam_session_close(s);
    return r;
}

int ipam_session_open_saved(struct bridge *b, const char *network, struct ipam_session *s,
                            struct berth_error *err)
{
    _cleanup_cjson_ cJSON *root = NULL;
    memset(s, 0, sizeof(*s));
    int r = session_lock(b, network, s, err);
    if (r < 0)
        return r;
    if ((r = session_read(s, &root, err)) < 0)
        goto fail;
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(root, "subnet");
    const cJSON *gw = cJSON_GetObjectItemCaseSensitive(root, "gateway");
    char msg[200];
    if (ipam_init(&s->pool, cJSON_IsString(sub) ? sub->valuestring : NULL,
                  cJSON_IsString(gw) ? gw->valuestring : NULL, NULL, msg, sizeof(msg)) < 0) {
        bridge_error(b, err, EBADMSG, "ipam file '%s': %s", s->file, msg);
        r = -EBADMSG;
        goto fail;
    }
    if ((r = session_load(s, root, err)) < 0)
        goto fail;
    return 0;
fail:
    ipam_session_close(s);
    return r;
}

int ipam_session_save(struct ipam_session *s, struct berth_error *err)
{
    struct bridge *b = s->b;
    if (!s->changed)
        return 0;
    char a[IPAM_ADDR_STRLEN], sub[IPAM_ADDR_STRLEN + 4];
    /* The subnet and gateway as the pool holds them, so that gc can rebuild
     * the pool without the network's record. The range is left out: gc only
     * releases, and every join rebuilds the pool from the record. */
    snprintf(sub, sizeof(sub), "%s/%u", ipam_format(s->pool.network, a), s->pool.prefix);
    _cleanup_cjson_ cJSON *root = cJSON_CreateObject();
    cJSON *allocs = NULL;
    int ok = root && cJSON_AddStringToObject(root, "subnet", sub) &&
             cJSON_AddStringToObject(root, "gateway", ipam_format(s->pool.gateway, a)) &&
             cJSON_AddStringToObject(root, "hint", ipam_format(s->pool.hint, a)) &&
             (allocs = cJSON_AddObjectToObject(root, "allocations"));
    for (size_t i = 0; ok && i < s->pool.n; i++)
        ok = cJSON_AddStringToObject(allocs, ipam_format(s->pool.entries[i].addr, a),
                                     s->pool.entries[i].owner) != NULL;
    _cleanup_free_ char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    if (!text) {
        bridge_error(b, err, ENOMEM, "ipam file '%s': out of memory", s->file);
        return -ENOMEM;
    }
    int r = write_file_at(b->ipam_fd, s->file, text);
    if (r < 0) {
        bridge_error(b, err, -r, "write ipam file '%s': %s", s->file, strerror(-r));
        return r;
    }
    s->changed = 0;
    return 0;
}

void ipam_session_close(struct ipam_session *s)
{
    if (!s)
        return;
    ipam_free(&s->pool);
    if (s->locked)
        s->b->services->unlock(s->b->services->host, s->lock_token);
    s->locked = 0;
}

int ipam_forget_network(struct bridge *b, const char *network)
{
    struct ipam_session s = {0};
    int r = session_lock(b, network, &s, NULL);
    if (r < 0)
        return r;
    r = unlinkat(b->ipam_fd, s.file, 0) < 0 && errno != ENOENT ? -errno : 0;
    ipam_session_close(&s);
    return r;
}
