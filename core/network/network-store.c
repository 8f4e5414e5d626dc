#include "network/network-store.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/lock.h"
#include "util/log.h"

int network_name_is_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !(i > 0 && (c == '_' || c == '.' || c == '-')))
            return 0;
    }
    return 1;
}

static char *dir_of(const char *root)
{
    return xasprintf("%s/networks", root);
}

int network_store_load(const char *root, const char *name, cJSON **ret, struct error **err)
{
    if (!network_name_is_valid(name))
        return error_set_plain(err, ENOENT, "no such network '%s'", name);
    _cleanup_free_ char *path = xasprintf("%s/networks/%s.json", root, name);
    _cleanup_free_ char *text = NULL;
    struct error *local = NULL;
    int r = read_file(path, &text, NULL, &local);
    error_free(&local);
    if (r == -ENOENT)
        return error_set_plain(err, ENOENT, "no such network '%s'", name);
    if (r < 0)
        return error_set(err, -r, "read network '%s'", name);
    cJSON *rec = cJSON_Parse(text);
    const cJSON *n = cJSON_GetObjectItem(rec, "name");
    if (!cJSON_IsObject(rec) || !cJSON_IsString(n) || strcmp(n->valuestring, name)) {
        cJSON_Delete(rec);
        return error_set_plain(err, EBADMSG, "record of network '%s' is corrupt", name);
    }
    *ret = rec;
    return 0;
}

int network_store_save(const char *root, const cJSON *rec, struct error **err)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "name"));
    _cleanup_free_ char *dir = dir_of(root);
    int r = mkdir_p(dir, 0700, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *text = cJSON_PrintUnformatted(rec);
    _cleanup_free_ char *path = xasprintf("%s/%s.json", dir, name);
    return write_file_atomic(path, text, strlen(text), 0600, err);
}

int network_store_delete(const char *root, const char *name, struct error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/networks/%s.json", root, name);
    if (unlink(path) < 0 && errno != ENOENT)
        return error_set(err, errno, "delete network '%s'", name);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int network_store_list(const char *root, cJSON **ret_array, struct error **err)
{
    _cleanup_free_ char *dir = dir_of(root);
    cJSON *arr = cJSON_CreateArray();
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) {
            *ret_array = arr;
            return 0;
        }
        cJSON_Delete(arr);
        return error_set(err, errno, "open '%s'", dir);
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof(char *));
        if (!grown)
            break;
        names = grown;
        names[n++] = strndup(de->d_name, len - 5);
    }
    if (n > 1)
        qsort(names, n, sizeof(char *), by_name);
    for (size_t i = 0; i < n; i++) {
        cJSON *rec = NULL;
        struct error *local = NULL;
        if (network_store_load(root, names[i], &rec, &local) == 0)
            cJSON_AddItemToArray(arr, rec);
        else if (local && local->errnum != ENOENT)
            log_warning("%s", local->msg);
        error_free(&local);
        free(names[i]);
    }
    free(names);
    *ret_array = arr;
    return 0;
}

int network_store_lock(const char *root, const char *name, struct error **err)
{
    _cleanup_free_ char *dir = dir_of(root);
    int r = mkdir_p(dir, 0700, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = xasprintf("%s/%s.lock", dir, name);
    return lock_path(path, err);
}
