#include "volume/mount-spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "volume/volume-store.h"

void mount_spec_clear(struct mount_spec *m)
{
    free(m->source);
    free(m->target);
    free(m->options);
    memset(m, 0, sizeof(*m));
}

const char *mount_kind_name(enum mount_kind kind)
{
    switch (kind) {
    case MOUNT_VOLUME:
        return "volume";
    case MOUNT_BIND:
        return "bind";
    case MOUNT_TMPFS:
        return "tmpfs";
    }
    return "unknown";
}

/* "/a//b/./c/" -> "/a/b/c"; refuses relative paths, "..", and "/" itself. */
static int normalise_target(const char *flag, const char *spec, const char *t, char **ret,
                            struct error **err)
{
    if (!t || t[0] != '/')
        return error_set_plain(err, EINVAL, "%s '%s': mount target '%s' is not an absolute path",
                               flag, spec, t ? t : "");
    size_t len = strlen(t);
    if (len > 4095)
        return error_set_plain(err, ENAMETOOLONG, "%s '%s': mount target is too long", flag, spec);
    _cleanup_free_ char *out = malloc(len + 2);
    if (!out)
        return error_set(err, ENOMEM, "%s '%s'", flag, spec);
    size_t n = 0;
    for (const char *p = t; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t seg = (size_t)(end - p);
        if (seg == 2 && p[0] == '.' && p[1] == '.')
            return error_set_plain(err, EINVAL, "%s '%s': mount target '%s' may not contain '..'",
                                   flag, spec, t);
        if (seg > 0 && !(seg == 1 && p[0] == '.')) {
            out[n++] = '/';
            memcpy(out + n, p, seg);
            n += seg;
        }
        p = end;
    }
    if (n == 0)
        return error_set_plain(err, EINVAL, "%s '%s': cannot mount onto '/'", flag, spec);
    out[n] = '\0';
    *ret = TAKE_PTR(out);
    return 0;
}

static int is_digits(const char *s, const char *allowed_suffixes)
{
    if (!s || *s < '0' || *s > '9')
        return 0;
    while (*s >= '0' && *s <= '9')
        s++;
    return *s == '\0' || (s[1] == '\0' && strchr(allowed_suffixes, *s));
}

static int is_mode(const char *s)
{
    if (!s || !*s || strlen(s) > 5)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '7')
            return 0;
    return 1;
}

/* tmpfs words berth passes through; "ro"/"rw" go to read_only. suid and dev
 * are not offered: a tmpfs is always nosuid,nodev. */
static int tmpfs_word_ok(const char *w, int *read_only)
{
    static const char *const flags[] = {"exec",    "noexec",     "nosuid",   "nodev",
                                        "noatime", "nodiratime", "relatime", "strictatime"};
    if (!strcmp(w, "ro") || !strcmp(w, "rw")) {
        *read_only = !strcmp(w, "ro");
        return 1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
        if (!strcmp(w, flags[i]))
            return 1;
    if (!strncmp(w, "size=", 5))
        return is_digits(w + 5, "kKmMgG%");
    if (!strncmp(w, "nr_inodes=", 10))
        return is_digits(w + 10, "kKmMgG%");
    if (!strncmp(w, "mode=", 5))
        return is_mode(w + 5);
    if (!strncmp(w, "uid=", 4))
        return is_digits(w + 4, "");
    if (!strncmp(w, "gid=", 4))
        return is_digits(w + 4, "");
    return 0;
}

/* Appends WORD to the comma-separated *OPTS. */
static void opts_append(char **opts, const char *word)
{
    char *n = *opts ? xasprintf("%s,%s", *opts, word) : xasprintf("%s", word);
    free(*opts);
    *opts = n;
}

/* Checks the tmpfs words in TEXT (comma-separated) into M. */
static int parse_tmpfs_options(const char *flag, const char *spec, const char *text,
                               struct mount_spec *m, struct error **err)
{
    _cleanup_free_ char *copy = strdup(text);
    if (!copy)
        return error_set(err, ENOMEM, "%s '%s'", flag, spec);
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int ro = m->read_only;
        if (!tmpfs_word_ok(w, &ro))
            return error_set_plain(err, EINVAL,
                                   "%s '%s': invalid tmpfs option '%s' (use size=N[k|m|g|%%], "
                                   "mode=OCTAL, uid=N, gid=N, nr_inodes=N, ro, noexec, …)",
                                   flag, spec, w);
        if (!strcmp(w, "ro") || !strcmp(w, "rw"))
            m->read_only = ro;
        else
            opts_append(&m->options, w);
    }
    return 0;
}

/* Volume name or absolute bind source: which one SOURCE is. */
static int classify_source(const char *flag, const char *spec, const char *source,
                           struct mount_spec *m, struct error **err)
{
    if (source[0] == '/') {
        m->kind = MOUNT_BIND;
    } else if (strchr(source, '/') || source[0] == '.' || source[0] == '~') {
        return error_set_plain(err, EINVAL, "%s '%s': bind source '%s' is not an absolute path",
                               flag, spec, source);
    } else {
        if (!volume_name_is_valid(source))
            return error_set_plain(
                err, EINVAL, "%s '%s': invalid volume name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                flag, spec, source);
        m->kind = MOUNT_VOLUME;
    }
    m->source = strdup(source);
    return 0;
}

int mount_spec_parse_volume(const char *spec, struct mount_spec *ret, struct error **err)
{
    static const char flag[] = "-v";
    struct mount_spec m = {0};
    _cleanup_free_ char *copy = strdup(spec ? spec : "");
    char *fields[4] = {0};
    int n = 0;
    for (char *p = copy, *colon; p && n < 4; p = colon ? colon + 1 : NULL) {
        colon = strchr(p, ':');
        if (colon)
            *colon = '\0';
        fields[n++] = p;
    }
    int r;
    if (!copy || !spec || !*spec || n > 3)
        return error_set_plain(err, EINVAL,
                               "%s '%s': use NAME:/path[:ro], /host/dir:/path[:ro] or /path", flag,
                               spec ? spec : "");
    if (n == 1) {
        /* Only a target: an anonymous volume. */
        m.kind = MOUNT_VOLUME;
        if ((r = normalise_target(flag, spec, fields[0], &m.target, err)) < 0)
            return r;
        *ret = m;
        return 0;
    }
    if (!*fields[0])
        return error_set_plain(err, EINVAL, "%s '%s': empty source", flag, spec);
    if ((r = classify_source(flag, spec, fields[0], &m, err)) < 0 ||
        (r = normalise_target(flag, spec, fields[1], &m.target, err)) < 0) {
        mount_spec_clear(&m);
        return r;
    }
    char *save = NULL;
    for (char *w = n == 3 ? strtok_r(fields[2], ",", &save) : NULL; w;
         w = strtok_r(NULL, ",", &save)) {
        if (!strcmp(w, "ro") || !strcmp(w, "rw"))
            m.read_only = !strcmp(w, "ro");
        else if (!strcmp(w, "nocopy") && m.kind == MOUNT_VOLUME)
            m.no_copy = 1;
        else if (strcmp(w, "z") && strcmp(w, "Z")) {
            mount_spec_clear(&m);
            return error_set_plain(err, EINVAL, "%s '%s': unknown option '%s' (use ro, rw%s)", flag,
                                   spec, w, fields[0][0] == '/' ? "" : " or nocopy");
        }
    }
    *ret = m;
    return 0;
}

static int bool_value(const char *v, int *ret)
{
    if (!v || !strcmp(v, "true") || !strcmp(v, "1")) {
        *ret = 1;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "0")) {
        *ret = 0;
        return 0;
    }
    return -EINVAL;
}

int mount_spec_parse_mount(const char *spec, struct mount_spec *ret, struct error **err)
{
    static const char flag[] = "--mount";
    _cleanup_free_ char *copy = strdup(spec ? spec : "");
    if (!copy)
        return error_set(err, ENOMEM, "%s", flag);
    const char *type = "volume", *source = NULL, *target = NULL;
    const char *tmpfs_size = NULL, *tmpfs_mode = NULL;
    int read_only = 0, no_copy = 0, r;
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(w, '=');
        const char *v = NULL;
        if (eq) {
            *eq = '\0';
            v = eq + 1;
        }
        int need_value = 1;
        if (!strcmp(w, "type"))
            type = v;
        else if (!strcmp(w, "source") || !strcmp(w, "src"))
            source = v;
        else if (!strcmp(w, "target") || !strcmp(w, "dst") || !strcmp(w, "destination"))
            target = v;
        else if (!strcmp(w, "tmpfs-size"))
            tmpfs_size = v;
        else if (!strcmp(w, "tmpfs-mode"))
            tmpfs_mode = v;
        else if (!strcmp(w, "readonly") || !strcmp(w, "ro")) {
            need_value = 0;
            if (bool_value(v, &read_only) < 0)
                return error_set_plain(err, EINVAL, "%s '%s': '%s=%s': use true or false", flag,
                                       spec, w, v);
        } else if (!strcmp(w, "volume-nocopy")) {
            need_value = 0;
            if (bool_value(v, &no_copy) < 0)
                return error_set_plain(err, EINVAL, "%s '%s': '%s=%s': use true or false", flag,
                                       spec, w, v);
        } else
            return error_set_plain(err, EINVAL,
                                   "%s '%s': unknown key '%s' (use type, source, target, "
                                   "readonly, volume-nocopy, tmpfs-size, tmpfs-mode)",
                                   flag, spec, w);
        if (need_value && (!v || !*v))
            return error_set_plain(err, EINVAL, "%s '%s': '%s' needs a value", flag, spec, w);
    }
    struct mount_spec m = {0};
    if (!type || (strcmp(type, "volume") && strcmp(type, "bind") && strcmp(type, "tmpfs")))
        return error_set_plain(err, EINVAL,
                               "%s '%s': unknown type '%s' (use bind, volume or "
                               "tmpfs)",
                               flag, spec, type ? type : "");
    if (!target)
        return error_set_plain(err, EINVAL, "%s '%s': no target", flag, spec);
    if (strcmp(type, "tmpfs") && (tmpfs_size || tmpfs_mode))
        return error_set_plain(err, EINVAL, "%s '%s': tmpfs-size and tmpfs-mode need type=tmpfs",
                               flag, spec);
    if (!strcmp(type, "tmpfs")) {
        if (source || no_copy)
            return error_set_plain(err, EINVAL, "%s '%s': a tmpfs has no source", flag, spec);
        m.kind = MOUNT_TMPFS;
        m.read_only = read_only;
        if (tmpfs_size && !is_digits(tmpfs_size, "kKmMgG")) {
            mount_spec_clear(&m);
            return error_set_plain(err, EINVAL, "%s '%s': invalid tmpfs-size '%s'", flag, spec,
                                   tmpfs_size);
        }
        if (tmpfs_mode && !is_mode(tmpfs_mode))
            return error_set_plain(err, EINVAL, "%s '%s': invalid tmpfs-mode '%s' (octal)", flag,
                                   spec, tmpfs_mode);
        if (tmpfs_size) {
            _cleanup_free_ char *w = xasprintf("size=%s", tmpfs_size);
            opts_append(&m.options, w);
        }
        if (tmpfs_mode) {
            _cleanup_free_ char *w = xasprintf("mode=%s", tmpfs_mode);
            opts_append(&m.options, w);
        }
    } else if (!strcmp(type, "bind")) {
        if (!source)
            return error_set_plain(err, EINVAL, "%s '%s': a bind mount needs a source", flag, spec);
        if (source[0] != '/')
            return error_set_plain(err, EINVAL, "%s '%s': bind source '%s' is not an absolute path",
                                   flag, spec, source);
        if (no_copy)
            return error_set_plain(err, EINVAL, "%s '%s': volume-nocopy needs type=volume", flag,
                                   spec);
        m.kind = MOUNT_BIND;
        m.source = strdup(source);
    } else {
        m.kind = MOUNT_VOLUME;
        if (source && (r = classify_source(flag, spec, source, &m, err)) < 0)
            return r;
        if (m.kind != MOUNT_VOLUME) {
            mount_spec_clear(&m);
            return error_set_plain(err, EINVAL,
                                   "%s '%s': '%s' is a path: use type=bind for a bind mount", flag,
                                   spec, source);
        }
        m.no_copy = no_copy;
    }
    m.read_only = read_only;
    if ((r = normalise_target(flag, spec, target, &m.target, err)) < 0) {
        mount_spec_clear(&m);
        return r;
    }
    *ret = m;
    return 0;
}

int mount_spec_parse_tmpfs(const char *spec, struct mount_spec *ret, struct error **err)
{
    static const char flag[] = "--tmpfs";
    struct mount_spec m = {.kind = MOUNT_TMPFS};
    _cleanup_free_ char *copy = strdup(spec ? spec : "");
    if (!copy)
        return error_set(err, ENOMEM, "%s", flag);
    char *colon = strchr(copy, ':');
    if (colon)
        *colon = '\0';
    int r = normalise_target(flag, spec, copy, &m.target, err);
    if (r == 0 && colon)
        r = parse_tmpfs_options(flag, spec, colon + 1, &m, err);
    if (r < 0) {
        mount_spec_clear(&m);
        return r;
    }
    *ret = m;
    return 0;
}
