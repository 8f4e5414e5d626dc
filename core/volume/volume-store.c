#include "volume/volume-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/lock.h"

struct volume_store {
    char *dir; /* ROOT/volumes */
};

int volume_store_open(const char *root, struct volume_store **ret, struct error **err)
{
    struct volume_store *s = calloc(1, sizeof(*s));
    if (!s)
        return error_set(err, ENOMEM, "open volume store");
    s->dir = xasprintf("%s/volumes", root);
    int r = mkdir_p(s->dir, 0700, err);
    if (r < 0) {
        volume_store_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

void volume_store_free(struct volume_store *store)
{
    if (!store)
        return;
    free(store->dir);
    free(store);
}

int volume_name_is_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > 128 || strstr(name, ".."))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return 0;
    }
    return 1;
}

char *volume_random_name(void)
{
    unsigned char raw[32];
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
    char *name = malloc(sizeof(raw) * 2 + 1);
    if (!name)
        abort();
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(name + 2 * i, 3, "%02x", raw[i]);
    return name;
}

static int check_name(const char *name, struct error **err)
{
    if (volume_name_is_valid(name))
        return 0;
    return error_set_plain(err, EINVAL, "invalid volume name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                           name ? name : "");
}

int volume_store_lock(struct volume_store *store, const char *name, struct error **err)
{
    int r = check_name(name, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = xasprintf("%s/%s.lock", store->dir, name);
    return lock_path(path, err);
}

int volume_store_lock_all(struct volume_store *store, struct error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/lock", store->dir);
    return lock_path(path, err);
}

int volume_store_load(struct volume_store *store, const char *name, cJSON **ret, struct error **err)
{
    int r = check_name(name, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = xasprintf("%s/%s.json", store->dir, name);
    _cleanup_free_ char *text = NULL;
    struct error *local = NULL;
    r = read_file(path, &text, NULL, &local);
    if (r == -ENOENT) {
        error_free(&local);
        return error_set_plain(err, ENOENT, "no such volume '%s'", name);
    }
    if (r < 0) {
        *err = local;
        return r;
    }
    cJSON *rec = cJSON_Parse(text);
    if (!rec || !cJSON_IsObject(rec) || !cJSON_IsString(cJSON_GetObjectItem(rec, "name")) ||
        !cJSON_IsString(cJSON_GetObjectItem(rec, "driver"))) {
        cJSON_Delete(rec);
        return error_set_plain(err, EBADMSG, "volume record '%s' is corrupt", path);
    }
    *ret = rec;
    return 0;
}

int volume_store_save(struct volume_store *store, const cJSON *rec, struct error **err)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "name"));
    int r = check_name(name, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *text = cJSON_PrintUnformatted(rec);
    if (!text)
        return error_set(err, ENOMEM, "save volume '%s'", name);
    _cleanup_free_ char *path = xasprintf("%s/%s.json", store->dir, name);
    return write_file_atomic(path, text, strlen(text), 0600, err);
}

int volume_store_delete(struct volume_store *store, const char *name, struct error **err)
{
    int r = check_name(name, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = xasprintf("%s/%s.json", store->dir, name);
    if (unlink(path) < 0 && errno != ENOENT)
        return error_set(err, errno, "delete '%s'", path);
    fsync_parent(path);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int volume_store_names(struct volume_store *store, char ***ret_names, size_t *ret_n,
                       struct error **err)
{
    _cleanup_closedir_ DIR *d = opendir(store->dir);
    if (!d)
        return error_set(err, errno, "read '%s'", store->dir);
    char **names = calloc(1, sizeof(char *));
    size_t n = 0;
    struct dirent *de = NULL;
    while (names && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
            continue;
        char *name = strndup(de->d_name, len - 5);
        if (!name || !volume_name_is_valid(name)) {
            free(name);
            continue;
        }
        char **grown = realloc(names, (n + 2) * sizeof(char *));
        if (!grown) {
            free(name);
            break;
        }
        names = grown;
        names[n++] = name;
        names[n] = NULL;
    }
    if (!names || de) {
        strvfreep(&names);
        return error_set(err, ENOMEM, "list volumes");
    }
    qsort(names, n, sizeof(char *), by_name);
    *ret_names = names;
    *ret_n = n;
    return 0;
}
