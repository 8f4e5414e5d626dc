/* SPDX-License-Identifier: MIT */
/*
 * The allocations of one network on disk, one entry per address, so that a
 * join or a leave touches a few entries whatever the number of containers:
 *
 *   STATE_DIR/addresses/NETWORK/10.88.0.2       symlink -> "<container id>"
 *   STATE_DIR/addresses/NETWORK/<container id>  symlink -> "10.88.0.2"
 *   STATE_DIR/addresses/NETWORK/.hint           8 hex digits: the next address to try
 *
 * The address entry is the allocation: symlinkat() makes it with its content
 * in one step and fails with EEXIST if the address is taken, so a crash never
 * leaves half an entry. The owner entry is an index for leave and for a
 * retried join, trusted only when the address entry names the owner back.
 * Names cannot clash: addresses hold dots, container ids never do, and
 * neither starts with one.
 *
 * Changed only under the lock "ipam-NETWORK", which every berth process on
 * the host shares. Not fsynced: an address only matters while the
 * container's veth exists, which a reboot ends too; after one, leave or gc
 * releases what is left (as the nat driver's state, docs/drivers/nat.md).
 *
 * The former layout, one file rewritten whole on every change
 * (STATE_DIR/ipam/NETWORK.json), is moved into this one on the network's
 * first use, under the same lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bridge.h"

#define OLD_FILE_MAX (16u << 20)
#define HINT_FILE ".hint"

static int read_link_at(int dir_fd, const char *name, char *buf, size_t len)
{
    ssize_t n = readlinkat(dir_fd, name, buf, len);
    if (n < 0)
        return -errno;
    if ((size_t)n >= len)
        return -ENAMETOOLONG;
    buf[n] = '\0';
    return 0;
}

static int unlink_at(int dir_fd, const char *name)
{
    return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

/* The address OWNER holds, its entry naming OWNER back; 0 if none. */
static uint32_t owner_addr(int dir_fd, const char *owner)
{
    char a[IPAM_ADDR_STRLEN], o[IPAM_OWNER_MAX];
    uint32_t addr;
    if (read_link_at(dir_fd, owner, a, sizeof(a)) < 0 || ipam_parse_addr(a, &addr) < 0 ||
        read_link_at(dir_fd, ipam_format(addr, a), o, sizeof(o)) < 0 || strcmp(o, owner))
        return 0;
    return addr;
}

/* Whether the entry of ADDR names OWNER. */
static int addr_held_by(int dir_fd, uint32_t addr, const char *owner)
{
    char a[IPAM_ADDR_STRLEN], o[IPAM_OWNER_MAX];
    return read_link_at(dir_fd, ipam_format(addr, a), o, sizeof(o)) == 0 && !strcmp(o, owner);
}

/* The owner entry, replacing a stale one (a crash between the two unlinks of
 * a release, or an address that moved). */
static int write_owner_entry(int dir_fd, const char *owner, uint32_t addr)
{
    char a[IPAM_ADDR_STRLEN];
    ipam_format(addr, a);
    if (symlinkat(a, dir_fd, owner) == 0)
        return 0;
    if (errno != EEXIST || unlinkat(dir_fd, owner, 0) < 0 || symlinkat(a, dir_fd, owner) < 0)
        return -errno;
    return 0;
}

static uint32_t hint_read(int hint_fd)
{
    char buf[9] = {0};
    if (hint_fd < 0 || pread(hint_fd, buf, 8, 0) != 8)
        return 0;
    char *end;
    unsigned long v = strtoul(buf, &end, 16);
    return *end ? 0 : (uint32_t)v;
}

static void hint_write(int hint_fd, uint32_t hint)
{
    /* Fixed width, rewritten in place: no truncation, no block freed. A
     * torn or lost hint only makes the next search start elsewhere. */
    char buf[9];
    snprintf(buf, sizeof(buf), "%08" PRIx32, hint);
    if (hint_fd >= 0 && pwrite(hint_fd, buf, 8, 0) != 8) {
        /* Nothing to do: the next search starts from the range's start. */
    }
}

/* Opens (with CREATE, makes) the directory of NETWORK. */
static int open_network_dir(struct bridge *b, const char *network, int create, int *ret_fd)
{
    int fd = openat(b->addr_fd, network, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(b->addr_fd, network, 0700) < 0 && errno != EEXIST)
            return -errno;
        fd = openat(b->addr_fd, network, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return -errno;
    *ret_fd = fd;
    return 0;
}

static int read_old_file(int fd, char **ret)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_size > OLD_FILE_MAX)
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

/* Moves ipam/NETWORK.json, if there is one, into the network's directory,
 * then deletes it. Redone whole if interrupted: every step finds its own
 * earlier work in place. */
static int migrate_old_file(struct ipam_session *s, struct berth_error *err)
{
    struct bridge *b = s->b;
    char file[NETWORK_NAME_MAX + 8];
    snprintf(file, sizeof(file), "%s.json", s->network);
    _cleanup_close_ int fd =
        b->old_fd < 0 ? -1 : openat(b->old_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0; /* none (the common case), or no old directory at all */
    _cleanup_free_ char *text = NULL;
    int r = read_old_file(fd, &text);
    if (r < 0) {
        bridge_error(b, err, -r, "read ipam file 'ipam/%s': %s", file, strerror(-r));
        return r;
    }
    _cleanup_cjson_ cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        /* Only this driver wrote the file, atomically: a bad one was
         * damaged from outside. Saying so beats guessing at the addresses. */
        bridge_error(b, err, EBADMSG, "ipam file 'ipam/%s' is not valid JSON: remove it to reset",
                     file);
        return -EBADMSG;
    }
    _cleanup_close_ int dfd = -1;
    if ((r = open_network_dir(b, s->network, 1, &dfd)) < 0) {
        bridge_error(b, err, -r, "make 'addresses/%s': %s", s->network, strerror(-r));
        return r;
    }
    char a[IPAM_ADDR_STRLEN];
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "allocations"))
    {
        uint32_t addr;
        if (!e->string || ipam_parse_addr(e->string, &addr) < 0 || !cJSON_IsString(e) ||
            !container_id_valid(e->valuestring))
            continue; /* dropped, as the old loader dropped it */
        const char *owner = e->valuestring;
        if (symlinkat(owner, dfd, ipam_format(addr, a)) < 0 && errno != EEXIST)
            r = -errno;
        else if (addr_held_by(dfd, addr, owner))
            r = write_owner_entry(dfd, owner, addr);
        if (r < 0) {
            bridge_error(b, err, -r, "move ipam file 'ipam/%s': %s", file, strerror(-r));
            return r;
        }
    }
    const cJSON *hint = cJSON_GetObjectItemCaseSensitive(root, "hint");
    uint32_t h;
    if (cJSON_IsString(hint) && ipam_parse_addr(hint->valuestring, &h) == 0) {
        _cleanup_close_ int hfd =
            openat(dfd, HINT_FILE, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        hint_write(hfd, h);
    }
    if (unlinkat(b->old_fd, file, 0) < 0 && errno != ENOENT) {
        r = -errno;
        bridge_error(b, err, -r, "remove ipam file 'ipam/%s': %s", file, strerror(-r));
        return r;
    }
    b->services->log(b->services->host, BERTH_LOG_INFO,
                     "bridge: moved 'ipam/%s' to one entry per address in 'addresses/%s'", file,
                     s->network);
    return 0;
}

int ipam_session_open(struct bridge *b, const char *network, int create, struct ipam_session *s,
                      struct berth_error *err)
{
    memset(s, 0, sizeof(*s));
    s->b = b;
    s->dir_fd = -1;
    snprintf(s->network, sizeof(s->network), "%s", network);
    char lock[NETWORK_NAME_MAX + 8];
    snprintf(lock, sizeof(lock), "ipam-%s", network);
    int r = b->services->lock(b->services->host, lock, &s->lock_token);
    if (r < 0) {
        bridge_error(b, err, -r, "lock '%s': %s", lock, strerror(-r));
        return r;
    }
    s->locked = 1;
    if ((r = migrate_old_file(s, err)) < 0)
        goto fail;
    r = open_network_dir(b, network, create, &s->dir_fd);
    if (r == -ENOENT && !create)
        goto fail; /* nothing allocated: not an error for the caller to show */
    if (r < 0) {
        bridge_error(b, err, -r, "open 'addresses/%s': %s", network, strerror(-r));
        goto fail;
    }
    return 0;
fail:
    ipam_session_close(s);
    return r;
}

void ipam_session_close(struct ipam_session *s)
{
    if (!s)
        return;
    closep(&s->dir_fd);
    s->dir_fd = -1;
    if (s->locked)
        s->b->services->unlock(s->b->services->host, s->lock_token);
    s->locked = 0;
}

struct claim_ctx {
    int dir_fd;
    const char *owner;
};

static int claim_addr(void *userdata, uint32_t addr)
{
    const struct claim_ctx *c = userdata;
    char a[IPAM_ADDR_STRLEN];
    return symlinkat(c->owner, c->dir_fd, ipam_format(addr, a)) < 0 ? -errno : 0;
}

/* Unlinks ADDR's entry if OWNER holds it. */
static int release_addr(int dir_fd, uint32_t addr, const char *owner)
{
    char a[IPAM_ADDR_STRLEN];
    return addr && addr_held_by(dir_fd, addr, owner) ? unlink_at(dir_fd, ipam_format(addr, a)) : 0;
}

int ipam_session_take(struct ipam_session *s, const struct ipam *pool, const char *owner,
                      uint32_t requested, uint32_t *ret_addr, struct berth_error *err)
{
    struct bridge *b = s->b;
    char msg[256], a[IPAM_ADDR_STRLEN];
    uint32_t had = owner_addr(s->dir_fd, owner);
    if (had && (!requested || requested == had)) {
        *ret_addr = had; /* a retried join */
        return 0;
    }
    struct claim_ctx c = {.dir_fd = s->dir_fd, .owner = owner};
    _cleanup_close_ int hint_fd = -1;
    uint32_t addr = 0;
    int r;
    if (requested) {
        if ((r = ipam_check_requested(pool, requested, msg, sizeof(msg))) < 0) {
            bridge_error(b, err, -r, "network '%s': %s", s->network, msg);
            return r;
        }
        r = claim_addr(&c, requested);
        /* Held by us without an owner entry: a join killed between the two. */
        if (r == -EEXIST && addr_held_by(s->dir_fd, requested, owner))
            r = 0;
        if (r == -EEXIST) {
            char holder[IPAM_OWNER_MAX] = "", sh[16];
            read_link_at(s->dir_fd, ipam_format(requested, a), holder, sizeof(holder));
            ipam_short_owner(holder, sh);
            bridge_error(b, err, EADDRINUSE,
                         "network '%s': address %s is already in use by container %s", s->network,
                         a, sh);
            return -EADDRINUSE;
        }
        addr = requested;
    } else {
        hint_fd = openat(s->dir_fd, HINT_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        r = ipam_claim_next(pool, hint_read(hint_fd), claim_addr, &c, &addr, msg, sizeof(msg));
        if (r == -ENOSPC)
            bridge_error(b, err, ENOSPC, "network '%s': %s", s->network, msg);
    }
    if (r < 0) {
        if (r != -ENOSPC)
            bridge_error(b, err, -r, "network '%s': record an address: %s", s->network,
                         strerror(-r));
        return r;
    }
    if ((r = write_owner_entry(s->dir_fd, owner, addr)) < 0) {
        unlink_at(s->dir_fd, ipam_format(addr, a));
        bridge_error(b, err, -r, "network '%s': record the owner of %s: %s", s->network, a,
                     strerror(-r));
        return r;
    }
    /* Moved to another address (--ip changed): the old one goes. */
    if (had && had != addr)
        release_addr(s->dir_fd, had, owner);
    if (!requested)
        hint_write(hint_fd, ipam_next_hint(pool, addr));
    *ret_addr = addr;
    return 0;
}

int ipam_session_release(struct ipam_session *s, const char *owner, uint32_t also,
                         struct berth_error *err)
{
    /* The address entry first: if we die before the owner entry goes, that
     * one no longer names an address held back and is replaced or gc'ed. */
    int r = release_addr(s->dir_fd, owner_addr(s->dir_fd, owner), owner);
    if (r == 0)
        r = release_addr(s->dir_fd, also, owner);
    if (r == 0)
        r = unlink_at(s->dir_fd, owner);
    if (r < 0)
        bridge_error(s->b, err, -r, "network '%s': release the address of '%s': %s", s->network,
                     owner, strerror(-r));
    return r;
}

int ipam_session_gc(struct ipam_session *s, int (*keep)(void *userdata, const char *owner),
                    void *userdata)
{
    int dfd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -errno;
    }
    int first = 0;
    struct dirent *de;
    /* Under the lock nothing else changes the directory while it is read. */
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (name[0] == '.')
            continue; /* ".", "..", the hint */
        uint32_t addr;
        int valid;
        if (ipam_parse_addr(name, &addr) == 0) {
            /* An address entry: its owner must be known and name it back. */
            char target[IPAM_OWNER_MAX];
            valid = read_link_at(s->dir_fd, name, target, sizeof(target)) == 0 &&
                    keep(userdata, target) && owner_addr(s->dir_fd, target) == addr;
        } else {
            /* An owner entry: known, and the address it names held by it. */
            valid = container_id_valid(name) && keep(userdata, name) &&
                    owner_addr(s->dir_fd, name) != 0;
        }
        if (valid)
            continue;
        int r = unlink_at(s->dir_fd, name);
        if (r < 0 && !first)
            first = r;
    }
    closedir(d);
    return first;
}

int ipam_forget_network(struct bridge *b, const char *network)
{
    struct ipam_session s;
    int r = ipam_session_open(b, network, 0, &s, NULL);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    int dfd = openat(s.dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
    if (!d) {
        r = -errno;
        if (dfd >= 0)
            close(dfd);
        ipam_session_close(&s);
        return r;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && r == 0)
            r = unlink_at(s.dir_fd, de->d_name);
    closedir(d);
    if (r == 0 && unlinkat(b->addr_fd, network, AT_REMOVEDIR) < 0 && errno != ENOENT)
        r = -errno;
    ipam_session_close(&s);
    return r;
}
