/* SPDX-License-Identifier: MIT */
/* The nat driver's state directory; layout in nat-backend.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "nat-backend.h"

static void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}
static void cjson_deletep(cJSON **j)
{
    cJSON_Delete(*j);
}
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))
#define _cleanup_cjson_ __attribute__((cleanup(cjson_deletep)))

int nat_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n >= NAT_ID_MAX || id[0] == '.')
        return 0;
    return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

int nat_state_open(struct nat *nat)
{
    nat->state_fd = open(nat->services->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (nat->state_fd < 0)
        return -errno;
    if (mkdirat(nat->state_fd, "networks", 0700) < 0 && errno != EEXIST)
        return -errno;
    if (mkdirat(nat->state_fd, "ports", 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int read_text(int dir_fd, const char *path, char **ret)
{
    _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, len = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= (1u << 20))
                return -EFBIG;
            char *n = realloc(buf, cap * 2);
            if (!n)
                return -ENOMEM;
            buf = n;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    *ret = buf;
    buf = NULL;
    return 0;
}

/* Temp file and rename, so a reader never sees half a record. */
static int write_text(int dir_fd, const char *path, const char *text)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    _cleanup_close_ int fd =
        openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int r = -errno;
            unlinkat(dir_fd, tmp, 0);
            return r;
        }
        off += (size_t)w;
    }
    if (renameat(dir_fd, tmp, dir_fd, path) < 0) {
        int r = -errno;
        unlinkat(dir_fd, tmp, 0);
        return r;
    }
    return 0;
}

static int write_json(int dir_fd, const char *path, const cJSON *j)
{
    _cleanup_free_ char *text = cJSON_PrintUnformatted(j);
    if (!text)
        return -ENOMEM;
    return write_text(dir_fd, path, text);
}

static int read_json(int dir_fd, const char *path, cJSON **ret)
{
    _cleanup_free_ char *text = NULL;
    int r = read_text(dir_fd, path, &text);
    if (r < 0)
        return r;
    cJSON *j = cJSON_Parse(text);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -EBADMSG;
    }
    *ret = j;
    return 0;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int add_addr(cJSON *o, const char *key, uint32_t addr)
{
    char buf[INET_ADDRSTRLEN];
    struct in_addr a = {.s_addr = addr};
    inet_ntop(AF_INET, &a, buf, sizeof(buf));
    return cJSON_AddStringToObject(o, key, buf) ? 0 : -ENOMEM;
}

static int get_addr(const cJSON *o, const char *key, uint32_t *ret)
{
    const char *s = json_str(o, key);
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return -EBADMSG;
    *ret = a.s_addr;
    return 0;
}

static int copy_id(char dst[static NAT_ID_MAX], const char *src)
{
    if (!nat_id_valid(src))
        return -EBADMSG;
    snprintf(dst, NAT_ID_MAX, "%s", src);
    return 0;
}

int nat_network_save(struct nat *nat, const struct nat_network *net)
{
    char path[NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s", net->id);
    if (mkdirat(nat->state_fd, path, 0700) < 0 && errno != EEXIST)
        return -errno;
    _cleanup_cjson_ cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "id", net->id) ||
        !cJSON_AddStringToObject(j, "name", net->name) ||
        !cJSON_AddStringToObject(j, "backend",
                                 net->backend == NAT_BACKEND_NFTABLES ? nat_nftables_ops.name
                                                                      : nat_iptables_ops.name) ||
        add_addr(j, "subnet", net->subnet) < 0 ||
        !cJSON_AddNumberToObject(j, "prefix_len", net->prefix_len) ||
        !cJSON_AddStringToObject(j, "bridge", net->bridge) ||
        !cJSON_AddBoolToObject(j, "internal", net->internal))
        return -ENOMEM;
    snprintf(path, sizeof(path), "networks/%s/network.json", net->id);
    return write_json(nat->state_fd, path, j);
}

int nat_network_load(struct nat *nat, const char *net_id, struct nat_network *ret)
{
    if (!nat_id_valid(net_id))
        return -EINVAL;
    char path[NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s/network.json", net_id);
    _cleanup_cjson_ cJSON *j = NULL;
    int r = read_json(nat->state_fd, path, &j);
    if (r < 0)
        return r;
    struct nat_network net = {0};
    const char *backend = json_str(j, "backend");
    const char *bridge = json_str(j, "bridge");
    double prefix = json_num(j, "prefix_len");
    if (copy_id(net.id, json_str(j, "id")) < 0 || strcmp(net.id, net_id) != 0 || !backend ||
        !bridge || strlen(bridge) >= IFNAMSIZ || prefix < 0 || prefix > 32 ||
        get_addr(j, "subnet", &net.subnet) < 0)
        return -EBADMSG;
    const char *name = json_str(j, "name");
    snprintf(net.name, sizeof(net.name), "%s", name ? name : "");
    net.backend = strcmp(backend, "nftables") == 0 ? NAT_BACKEND_NFTABLES : NAT_BACKEND_IPTABLES;
    snprintf(net.bridge, sizeof(net.bridge), "%s", bridge);
    net.prefix_len = (uint8_t)prefix;
    net.mask = net.prefix_len ? htonl(~0u << (32 - net.prefix_len)) : 0;
    net.internal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "internal"));
    *ret = net;
    return 0;
}

int nat_network_delete(struct nat *nat, const char *net_id)
{
    if (!nat_id_valid(net_id))
        return -EINVAL;
    char path[NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s", net_id);
    int fd = openat(nat->state_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
            return -errno;
    if (unlinkat(nat->state_fd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int nat_endpoint_save(struct nat *nat, const char *net_id, const struct nat_endpoint *ep)
{
    _cleanup_cjson_ cJSON *j = cJSON_CreateObject();
    cJSON *ports = j ? cJSON_AddArrayToObject(j, "ports") : NULL;
    if (!ports || add_addr(j, "container_ip", ep->container_addr) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < ep->n_ports; i++) {
        const struct port_map *m = &ep->ports[i];
        cJSON *p = cJSON_CreateObject();
        if (!p || !cJSON_AddItemToArray(ports, p))
            return cJSON_Delete(p), -ENOMEM;
        if (add_addr(p, "host_ip", m->host_addr) < 0 ||
            !cJSON_AddNumberToObject(p, "host_port", m->host_port) ||
            !cJSON_AddNumberToObject(p, "container_port", m->container_port) ||
            !cJSON_AddStringToObject(p, "protocol", port_proto_name(m->proto)))
            return -ENOMEM;
    }
    char path[2 * NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s/%s.ep", net_id, ep->container_id);
    return write_json(nat->state_fd, path, j);
}

int nat_endpoint_load(struct nat *nat, const char *net_id, const char *ctr_id,
                      struct nat_endpoint *ret)
{
    if (!nat_id_valid(net_id) || !nat_id_valid(ctr_id))
        return -EINVAL;
    char path[2 * NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s/%s.ep", net_id, ctr_id);
    _cleanup_cjson_ cJSON *j = NULL;
    int r = read_json(nat->state_fd, path, &j);
    if (r < 0)
        return r;
    struct nat_endpoint ep = {0};
    snprintf(ep.container_id, sizeof(ep.container_id), "%s", ctr_id);
    if (get_addr(j, "container_ip", &ep.container_addr) < 0)
        return -EBADMSG;
    const cJSON *ports = cJSON_GetObjectItemCaseSensitive(j, "ports");
    int n = cJSON_GetArraySize(ports);
    if (n > 0) {
        ep.ports = calloc((size_t)n, sizeof(*ep.ports));
        if (!ep.ports)
            return -ENOMEM;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, ports)
    {
        struct port_map *m = &ep.ports[ep.n_ports];
        if (get_addr(p, "host_ip", &m->host_addr) < 0 ||
            port_number_parse(json_num(p, "host_port"), 0, &m->host_port) < 0 ||
            port_number_parse(json_num(p, "container_port"), 0, &m->container_port) < 0 ||
            port_proto_parse(json_str(p, "protocol"), &m->proto) < 0) {
            free(ep.ports);
            return -EBADMSG;
        }
        ep.n_ports++;
    }
    *ret = ep;
    return 0;
}

int nat_endpoint_delete(struct nat *nat, const char *net_id, const char *ctr_id)
{
    if (!nat_id_valid(net_id) || !nat_id_valid(ctr_id))
        return -EINVAL;
    char path[2 * NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s/%s.ep", net_id, ctr_id);
    if (unlinkat(nat->state_fd, path, 0) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

void nat_endpoint_done(struct nat_endpoint *ep)
{
    free(ep->ports);
    ep->ports = NULL;
    ep->n_ports = 0;
}

int nat_state_has_network(struct nat *nat, const char *net_id)
{
    if (!nat_id_valid(net_id))
        return 0;
    char path[NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s/network.json", net_id);
    return faccessat(nat->state_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int nat_state_has_endpoint(struct nat *nat, const char *net_id, const char *ctr_id)
{
    if (!nat_id_valid(net_id) || !nat_id_valid(ctr_id))
        return 0;
    char path[2 * NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s/%s.ep", net_id, ctr_id);
    return faccessat(nat->state_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static DIR *open_dir(struct nat *nat, const char *path)
{
    int fd = openat(nat->state_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

int nat_foreach_network(struct nat *nat,
                        int (*cb)(struct nat *nat, struct nat_network *net, void *ctx), void *ctx)
{
    _cleanup_closedir_ DIR *d = open_dir(nat, "networks");
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!nat_id_valid(de->d_name))
            continue;
        struct nat_network net;
        if (nat_network_load(nat, de->d_name, &net) < 0) {
            nat->services->log(nat->services->host, BERTH_LOG_WARNING,
                               "nat: ignoring unreadable state of network '%s'", de->d_name);
            continue;
        }
        int r = cb(nat, &net, ctx);
        if (r < 0)
            return r;
    }
    return 0;
}

int nat_foreach_endpoint(struct nat *nat, const char *net_id,
                         int (*cb)(struct nat *nat, struct nat_endpoint *ep, void *ctx), void *ctx)
{
    if (!nat_id_valid(net_id))
        return -EINVAL;
    char path[NAT_ID_MAX + 32];
    snprintf(path, sizeof(path), "networks/%s", net_id);
    _cleanup_closedir_ DIR *d = open_dir(nat, path);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 4 || n - 3 >= NAT_ID_MAX || strcmp(de->d_name + n - 3, ".ep") != 0)
            continue;
        char ctr[NAT_ID_MAX];
        snprintf(ctr, sizeof(ctr), "%.*s", (int)(n - 3), de->d_name);
        struct nat_endpoint ep;
        if (nat_endpoint_load(nat, net_id, ctr, &ep) < 0) {
            nat->services->log(nat->services->host, BERTH_LOG_WARNING,
                               "nat: ignoring unreadable state of container '%s'", ctr);
            continue;
        }
        int r = cb(nat, &ep, ctx);
        nat_endpoint_done(&ep);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Owner line: "NETID CTRID\n". */
static int port_owner(struct nat *nat, const char *key, char net[static NAT_ID_MAX],
                      char ctr[static NAT_ID_MAX])
{
    char path[PORT_KEY_MAX + 8];
    snprintf(path, sizeof(path), "ports/%s", key);
    _cleanup_free_ char *text = NULL;
    int r = read_text(nat->state_fd, path, &text);
    if (r < 0)
        return r;
    char *sp = text ? strchr(text, ' ') : NULL;
    char *nl = sp ? strchr(sp, '\n') : NULL;
    if (!sp || !nl)
        return -EBADMSG;
    *sp = *nl = '\0';
    if (copy_id(net, text) < 0 || copy_id(ctr, sp + 1) < 0)
        return -EBADMSG;
    return 0;
}

int nat_port_reserve(struct nat *nat, uint8_t proto, uint16_t port, const char *net_id,
                     const char *ctr_id, char ret_owner[static NAT_ID_MAX])
{
    char key[PORT_KEY_MAX], path[PORT_KEY_MAX + 8];
    int r = port_key(proto, port, key);
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "ports/%s", key);
    /* O_EXCL makes the reservation itself the conflict check. */
    _cleanup_close_ int fd =
        openat(nat->state_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno != EEXIST)
        return -errno;
    if (fd < 0) {
        char net[NAT_ID_MAX], ctr[NAT_ID_MAX];
        r = port_owner(nat, key, net, ctr);
        if (r == -EBADMSG) {
            /* A reservation torn by a crash: nobody owns it. */
            unlinkat(nat->state_fd, path, 0);
            return nat_port_reserve(nat, proto, port, net_id, ctr_id, ret_owner);
        }
        if (r < 0)
            return r;
        if (strcmp(net, net_id) == 0 && strcmp(ctr, ctr_id) == 0)
            return 0;
        snprintf(ret_owner, NAT_ID_MAX, "%s", ctr);
        return -EADDRINUSE;
    }
    char line[2 * NAT_ID_MAX + 4];
    int n = snprintf(line, sizeof(line), "%s %s\n", net_id, ctr_id);
    if (write(fd, line, (size_t)n) != n) {
        r = errno ? -errno : -EIO;
        unlinkat(nat->state_fd, path, 0);
        return r;
    }
    return 0;
}

int nat_port_reserved(struct nat *nat, uint8_t proto, uint16_t port)
{
    char key[PORT_KEY_MAX], path[PORT_KEY_MAX + 8];
    if (port_key(proto, port, key) < 0)
        return 0;
    snprintf(path, sizeof(path), "ports/%s", key);
    return faccessat(nat->state_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int nat_port_release(struct nat *nat, uint8_t proto, uint16_t port, const char *net_id,
                     const char *ctr_id)
{
    char key[PORT_KEY_MAX], path[PORT_KEY_MAX + 8], net[NAT_ID_MAX], ctr[NAT_ID_MAX];
    int r = port_key(proto, port, key);
    if (r < 0)
        return r;
    r = port_owner(nat, key, net, ctr);
    if (r == -ENOENT)
        return 0;
    if (r == 0 && (strcmp(net, net_id) != 0 || strcmp(ctr, ctr_id) != 0))
        return 0; /* someone else's now */
    snprintf(path, sizeof(path), "ports/%s", key);
    if (unlinkat(nat->state_fd, path, 0) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int nat_ports_gc(struct nat *nat)
{
    _cleanup_closedir_ DIR *d = open_dir(nat, "ports");
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) >= PORT_KEY_MAX)
            continue;
        char net[NAT_ID_MAX], ctr[NAT_ID_MAX];
        int r = port_owner(nat, de->d_name, net, ctr);
        if (r == 0 && nat_state_has_endpoint(nat, net, ctr))
            continue;
        if (r == 0 || r == -EBADMSG)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    return 0;
}
