#include "store/container-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/lock.h"
#include "util/log.h"

struct container_store {
    char *dir;       /* ROOT/containers */
    char *names_dir; /* ROOT/containers/names */
};

int container_store_open(const char *root, struct container_store **ret, struct error **err)
{
    struct container_store *s = calloc(1, sizeof(*s));
    if (!s)
        return error_set(err, ENOMEM, "open container store");
    s->dir = xasprintf("%s/containers", root);
    s->names_dir = xasprintf("%s/containers/names", root);
    int r = mkdir_p(s->names_dir, 0700, err);
    if (r < 0) {
        container_store_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

void container_store_free(struct container_store *store)
{
    if (!store)
        return;
    free(store->dir);
    free(store->names_dir);
    free(store);
}

void container_new_id(char *id)
{
    unsigned char raw[CONTAINER_ID_LEN / 2];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(id + 2 * i, 3, "%02x", raw[i]);
}

int container_name_is_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 128)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum)
            continue;
        if (i > 0 && (c == '_' || c == '.' || c == '-'))
            continue;
        return 0;
    }
    return 1;
}

char *container_random_name(void)
{
    static const char *const adjectives[] = {"brave", "calm",  "eager", "fond",  "keen",
                                             "lucid", "merry", "quiet", "swift", "tidy"};
    static const char *const nouns[] = {"anchor", "buoy", "cove", "dock", "harbor",
                                        "jetty",  "keel", "mast", "quay", "wharf"};
    unsigned int r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (unsigned int)getpid();
    return xasprintf("%s_%s_%04x", adjectives[r % 10], nouns[(r / 10) % 10], (r >> 16) & 0xffff);
}

int container_store_reserve_name(struct container_store *store, const char *name, const char *id,
                                 struct error **err)
{
    if (!container_name_is_valid(name))
        return error_set_plain(err, EINVAL,
                               "invalid container name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*", name);
    _cleanup_free_ char *path = xasprintf("%s/%s", store->names_dir, name);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return error_set_plain(err, EEXIST, "name '%s' is already in use", name);
        return error_set(err, errno, "reserve name '%s'", name);
    }
    if (write(fd, id, strlen(id)) != (ssize_t)strlen(id)) {
        int e = errno ? errno : EIO;
        unlink(path);
        return error_set(err, e, "reserve name '%s'", name);
    }
    return 0;
}

void container_store_release_name(struct container_store *store, const char *name, const char *id)
{
    if (!name)
        return;
    _cleanup_free_ char *path = xasprintf("%s/%s", store->names_dir, name);
    _cleanup_free_ char *owner = NULL;
    if (read_file(path, &owner, NULL, NULL) < 0)
        return;
    if (!strcmp(owner, id))
        unlink(path);
}

int container_store_save(struct container_store *store, const cJSON *rec, struct error **err)
{
    const char *id = rec_str(rec, "id");
    if (!id)
        return error_set(err, EINVAL, "save record: no id");
    _cleanup_free_ char *text = cJSON_PrintUnformatted(rec);
    if (!text)
        return error_set(err, ENOMEM, "save record of '%s'", id);
    _cleanup_free_ char *path = xasprintf("%s/%s.json", store->dir, id);
    /* A --rm container does not outlive a power cut, so its record need not
     * either: sparing the fsync (milliseconds on a busy disk) is most of what
     * its state changes cost. Recovery treats a torn record as gone. */
    int flags = cJSON_IsTrue(cJSON_GetObjectItem(rec, "auto_remove")) ? WRITE_NO_SYNC : 0;
    return write_file_atomic_flags(path, text, strlen(text), 0600, flags, err);
}

static int is_hex_id(const char *s)
{
    if (strlen(s) != CONTAINER_ID_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

int container_store_load(struct container_store *store, const char *id, cJSON **ret,
                         struct error **err)
{
    if (!is_hex_id(id))
        return error_set_plain(err, ENOENT, "no such container '%s'", id);
    _cleanup_free_ char *path = xasprintf("%s/%s.json", store->dir, id);
    _cleanup_free_ char *text = NULL;
    struct error *local = NULL;
    int r = read_file(path, &text, NULL, &local);
    if (r < 0) {
        error_free(&local);
        if (r == -ENOENT)
            return error_set_plain(err, ENOENT, "no such container '%s'", id);
        return error_set(err, -r, "read record of container '%s'", id);
    }
    cJSON *rec = cJSON_Parse(text);
    if (!rec || !cJSON_IsObject(rec) || !rec_str(rec, "id") || strcmp(rec_str(rec, "id"), id)) {
        cJSON_Delete(rec);
        return error_set_plain(err, EBADMSG, "record of container '%s' is corrupt", id);
    }
    *ret = rec;
    return 0;
}

int container_store_ids(struct container_store *store, char ***ret_ids, size_t *ret_n,
                        struct error **err)
{
    _cleanup_closedir_ DIR *d = opendir(store->dir);
    if (!d)
        return error_set(err, errno, "open '%s'", store->dir);
    size_t n = 0, cap = 16;
    char **ids = calloc(cap + 1, sizeof(char *));
    if (!ids)
        return error_set(err, ENOMEM, "list containers");
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len != CONTAINER_ID_LEN + 5 || strcmp(de->d_name + CONTAINER_ID_LEN, ".json"))
            continue;
        if (n == cap) {
            char **grown = realloc(ids, (cap * 2 + 1) * sizeof(char *));
            if (!grown) {
                _cleanup_strv_ char **tmp = ids;
                (void)tmp; /* freed by its cleanup; clang's -Wunused-variable */
                return error_set(err, ENOMEM, "list containers");
            }
            ids = grown;
            cap *= 2;
        }
        ids[n++] = strndup(de->d_name, CONTAINER_ID_LEN);
        ids[n] = NULL;
    }
    ids[n] = NULL;
    *ret_ids = ids;
    *ret_n = n;
    return 0;
}

static int by_created(const void *a, const void *b)
{
    const cJSON *ra = *(const cJSON *const *)a, *rb = *(const cJSON *const *)b;
    long long ca = rec_int(ra, "created", 0), cb = rec_int(rb, "created", 0);
    return ca < cb ? -1 : ca > cb;
}

int container_store_list(struct container_store *store, cJSON **ret_array, struct error **err)
{
    _cleanup_strv_ char **ids = NULL;
    size_t n = 0;
    int r = container_store_ids(store, &ids, &n, err);
    if (r < 0)
        return r;
    _cleanup_free_ cJSON **recs = calloc(n + 1, sizeof(cJSON *));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct error *e = NULL;
        cJSON *rec = NULL;
        if (container_store_load(store, ids[i], &rec, &e) < 0) {
            /* A record removed meanwhile is not worth a word; a corrupt one is. */
            if (e && e->errnum != ENOENT)
                log_warning("%s", e->msg);
            error_free(&e);
            continue;
        }
        recs[m++] = rec;
    }
    qsort(recs, m, sizeof(cJSON *), by_created);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < m; i++)
        cJSON_AddItemToArray(arr, recs[i]);
    *ret_array = arr;
    return 0;
}

int container_store_find(struct container_store *store, const char *ref, cJSON **ret,
                         struct error **err)
{
    if (is_hex_id(ref))
        return container_store_load(store, ref, ret, err);
    if (container_name_is_valid(ref)) {
        _cleanup_free_ char *path = xasprintf("%s/%s", store->names_dir, ref);
        _cleanup_free_ char *id = NULL;
        if (read_file(path, &id, NULL, NULL) == 0 && is_hex_id(id)) {
            struct error *e = NULL;
            int r = container_store_load(store, id, ret, &e);
            if (r != -ENOENT) {
                if (e) {
                    *err = e;
                    return r;
                }
                return r;
            }
            error_free(&e);
        }
    }
    /* A unique id prefix, as docker accepts. */
    size_t len = strlen(ref);
    int hex = len >= 3 && len < CONTAINER_ID_LEN;
    for (const char *p = ref; hex && *p; p++)
        hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
    if (hex) {
        _cleanup_strv_ char **ids = NULL;
        size_t n = 0;
        if (container_store_ids(store, &ids, &n, err) < 0)
            return error_code(*err);
        const char *match = NULL;
        for (size_t i = 0; i < n; i++) {
            if (strncmp(ids[i], ref, len))
                continue;
            if (match)
                return error_set_plain(err, EINVAL, "container id prefix '%s' is ambiguous", ref);
            match = ids[i];
        }
        if (match)
            return container_store_load(store, match, ret, err);
    }
    return error_set_plain(err, ENOENT, "no such container '%s'", ref);
}

int container_store_delete(struct container_store *store, const char *id, struct error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s.json", store->dir, id);
    if (unlink(path) < 0 && errno != ENOENT)
        return error_set(err, errno, "delete record of '%s'", id);
    _cleanup_free_ char *lock = xasprintf("%s/%s.lock", store->dir, id);
    unlink(lock);
    /* The container's own directory (its json-file log, core/monitor/). */
    _cleanup_free_ char *own = xasprintf("%s/%s", store->dir, id);
    struct error *ignored = NULL;
    rm_rf(own, &ignored);
    error_free(&ignored);
    /* No fsync of the directory: the container's storage is not removed
     * durably either, and a record that comes back after a power cut is
     * removed again by the next 'rm' or 'system gc'. */
    return 0;
}

void container_store_sweep_names(struct container_store *store)
{
    _cleanup_closedir_ DIR *d = opendir(store->names_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", store->names_dir, de->d_name);
        _cleanup_free_ char *owner = NULL;
        if (read_file(path, &owner, NULL, NULL) < 0 || !is_hex_id(owner))
            continue;
        _cleanup_free_ char *rec = xasprintf("%s/%s.json", store->dir, owner);
        /* A name is reserved before its record is written: spare young ones. */
        struct stat st;
        if (!path_exists(rec) && stat(path, &st) == 0 && time(NULL) - st.st_mtime > 60)
            unlink(path);
    }
}

int container_store_lock(struct container_store *store, const char *id, struct error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s.lock", store->dir, id);
    return lock_path(path, err);
}

const char *rec_str(const cJSON *rec, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

long long rec_int(const cJSON *rec, const char *key, long long def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : def;
}

void rec_set_str(cJSON *rec, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(rec, key);
    if (value)
        cJSON_AddStringToObject(rec, key, value);
}

void rec_set_int(cJSON *rec, const char *key, long long value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(rec, key);
    cJSON_AddNumberToObject(rec, key, (double)value);
}
