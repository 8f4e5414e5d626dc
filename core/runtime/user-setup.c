/*
 * The container's user: names are resolved from the container's own
 * /etc/passwd and /etc/group after pivot_root. The files are parsed with
 * fgetpwent/fgetgrent rather than getpwnam, which would go through NSS and
 * could dlopen modules from the container's root.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "util/cleanup.h"

/* A FIFO or device planted as /etc/passwd must not hang or confuse the runtime. */
static FILE *open_db(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    FILE *f = fdopen(fd, "re");
    if (!f)
        close(fd);
    return f;
}

static int parse_id(const char *s, unsigned int *ret)
{
    if (!*s)
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v >= (unsigned long)(unsigned int)-1 || s[0] == '-' || s[0] == '+')
        return -1;
    *ret = (unsigned int)v;
    return 0;
}

static int add_gid(struct oci_config *cfg, gid_t gid)
{
    for (size_t i = 0; i < cfg->n_additional_gids; i++)
        if (cfg->additional_gids[i] == gid)
            return 0;
    gid_t *n = realloc(cfg->additional_gids, (cfg->n_additional_gids + 1) * sizeof(gid_t));
    if (!n)
        return -ENOMEM;
    n[cfg->n_additional_gids++] = gid;
    cfg->additional_gids = n;
    return 0;
}

int user_resolve(struct oci_config *cfg, struct error **err)
{
    if (!cfg->user)
        return 0;
    _cleanup_free_ char *spec = strdup(cfg->user);
    if (!spec)
        return error_set(err, ENOMEM, "user '%s'", cfg->user);
    char *group = strchr(spec, ':');
    if (group)
        *group++ = '\0';

    unsigned int uid = 0, gid = cfg->gid;
    int uid_numeric = parse_id(spec, &uid) == 0;
    _cleanup_free_ char *name = NULL;
    int found = 0;
    _cleanup_fclose_ FILE *pw = open_db("/etc/passwd");
    if (pw) {
        struct passwd *p;
        while ((p = fgetpwent(pw))) {
            if (uid_numeric ? p->pw_uid == uid : strcmp(p->pw_name, spec) == 0) {
                uid = p->pw_uid;
                gid = p->pw_gid;
                name = strdup(p->pw_name);
                found = 1;
                break;
            }
        }
    }
    if (!found && !uid_numeric)
        return error_set(err, ENOENT, "user '%s': not found in /etc/passwd", spec);

    if (group) {
        if (parse_id(group, &gid) < 0) {
            int gfound = 0;
            _cleanup_fclose_ FILE *gr = open_db("/etc/group");
            struct group *g;
            while (gr && (g = fgetgrent(gr)))
                if (strcmp(g->gr_name, group) == 0) {
                    gid = g->gr_gid;
                    gfound = 1;
                    break;
                }
            if (!gfound)
                return error_set(err, ENOENT, "group '%s': not found in /etc/group", group);
        }
    } else if (name) {
        /* As runc: supplementary groups only when the group was not chosen explicitly. */
        _cleanup_fclose_ FILE *gr = open_db("/etc/group");
        struct group *g;
        while (gr && (g = fgetgrent(gr))) {
            if (g->gr_gid == gid)
                continue;
            for (char **m = g->gr_mem; m && *m; m++)
                if (strcmp(*m, name) == 0) {
                    if (add_gid(cfg, g->gr_gid) < 0)
                        return error_set(err, ENOMEM, "user '%s'", spec);
                    break;
                }
        }
    }
    cfg->uid = uid;
    cfg->gid = gid;
    return 0;
}

/*
 * Raw syscalls: glibc's wrappers broadcast to every thread it believes exists,
 * and after a raw clone() its thread list may still name the parent's.
 */
int user_switch(const struct oci_config *cfg, struct error **err)
{
    /* Always: the host's root groups must not leak in. */
    if (syscall(SYS_setgroups, cfg->n_additional_gids, cfg->additional_gids) < 0)
        return error_set(err, errno, "setgroups");
    if (syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid) < 0)
        return error_set(err, errno, "setgid %u", (unsigned int)cfg->gid);
    if (syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid) < 0)
        return error_set(err, errno, "setuid %u", (unsigned int)cfg->uid);
    return 0;
}
