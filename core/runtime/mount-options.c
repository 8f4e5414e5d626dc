/* Mount option words -> mount(2) flags, propagation and the data string. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "runtime-internal.h"
#include "util/cleanup.h"

static const struct {
    const char *name;
    int clear; /* the word turns the flag off */
    unsigned long flag;
} flag_words[] = {
    {"ro", 0, MS_RDONLY},
    {"rw", 1, MS_RDONLY},
    {"nosuid", 0, MS_NOSUID},
    {"suid", 1, MS_NOSUID},
    {"nodev", 0, MS_NODEV},
    {"dev", 1, MS_NODEV},
    {"noexec", 0, MS_NOEXEC},
    {"exec", 1, MS_NOEXEC},
    {"sync", 0, MS_SYNCHRONOUS},
    {"async", 1, MS_SYNCHRONOUS},
    {"dirsync", 0, MS_DIRSYNC},
    {"remount", 0, MS_REMOUNT},
    {"mand", 0, MS_MANDLOCK},
    {"nomand", 1, MS_MANDLOCK},
    {"noatime", 0, MS_NOATIME},
    {"atime", 1, MS_NOATIME},
    {"nodiratime", 0, MS_NODIRATIME},
    {"diratime", 1, MS_NODIRATIME},
    {"relatime", 0, MS_RELATIME},
    {"norelatime", 1, MS_RELATIME},
    {"strictatime", 0, MS_STRICTATIME},
    {"nostrictatime", 1, MS_STRICTATIME},
    {"lazytime", 0, MS_LAZYTIME},
    {"nolazytime", 1, MS_LAZYTIME},
    {"silent", 0, MS_SILENT},
    {"loud", 1, MS_SILENT},
};

static const struct {
    const char *name;
    unsigned long flags;
} propagation_words[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Words that only matter to other runtimes or tools. */
static const char *const ignored_words[] = {"defaults", "tmpcopyup", "notmpcopyup", "z", "Z"};

static int append_data(char **data, size_t *len, const char *word)
{
    size_t wl = strlen(word);
    char *n = realloc(*data, *len + wl + 2);
    if (!n)
        return -ENOMEM;
    if (*len)
        n[(*len)++] = ',';
    memcpy(n + *len, word, wl + 1);
    *len += wl;
    *data = n;
    return 0;
}

static int parse_word(struct oci_mount *m, const char *w, char **data, size_t *dlen)
{
    for (size_t i = 0; i < ARRAY_SIZE(flag_words); i++)
        if (strcmp(w, flag_words[i].name) == 0) {
            if (flag_words[i].clear)
                m->flags &= ~flag_words[i].flag;
            else
                m->flags |= flag_words[i].flag;
            return 0;
        }
    for (size_t i = 0; i < ARRAY_SIZE(propagation_words); i++)
        if (strcmp(w, propagation_words[i].name) == 0) {
            m->propagation = propagation_words[i].flags;
            return 0;
        }
    if (strcmp(w, "bind") == 0) {
        m->bind = 1;
        m->recursive = 0;
        return 0;
    }
    /* berth's own word, never passed to mount(2): see volume-copyup.c. */
    if (strcmp(w, "berth.copyup") == 0) {
        m->copy_up = 1;
        return 0;
    }
    if (strcmp(w, "rbind") == 0) {
        m->bind = 1;
        m->recursive = 1;
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(ignored_words); i++)
        if (strcmp(w, ignored_words[i]) == 0)
            return 0;
    return append_data(data, dlen, w);
}

int mount_options_parse(struct oci_mount *m, const char *const *optv, size_t n, struct error **err)
{
    m->flags = 0;
    m->propagation = 0;
    m->copy_up = 0;
    m->detached_fd = -1;
    /* A bare type "bind" is recursive: what a volume or bind of a tree needs. */
    m->bind = m->type && strcmp(m->type, "bind") == 0;
    m->recursive = m->bind;
    _cleanup_free_ char *data = NULL;
    size_t dlen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!optv[i] || !*optv[i])
            continue;
        if (parse_word(m, optv[i], &data, &dlen) < 0)
            return error_set(err, ENOMEM, "mount '%s': options", m->destination);
    }
    free(m->data);
    m->data = TAKE_PTR(data);
    return 0;
}
