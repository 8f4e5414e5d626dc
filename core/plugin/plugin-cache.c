#include "plugin/plugin-cache.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <berth/berth.h>
#include <cjson/cJSON.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/json-util.h"

/* A cache written by another berth (another ABI, another loader) is a miss. */
#define CACHE_FORMAT "berth-plugin-cache 1"

static int so_filter(const struct dirent *de)
{
    size_t len = strlen(de->d_name);
    return de->d_name[0] != '.' && len > 3 && !strcmp(de->d_name + len - 3, ".so");
}

void plugin_files_free(struct plugin_file *files, size_t n)
{
    for (size_t i = 0; files && i < n; i++) {
        free(files[i].path);
        free(files[i].name);
        free(files[i].refused);
    }
    free(files);
}

int plugin_files_scan(char *const *dirs, struct plugin_file **ret, size_t *ret_n)
{
    struct plugin_file *files = NULL;
    size_t n = 0;
    for (size_t i = 0; dirs && dirs[i]; i++) {
        struct dirent **list = NULL;
        int n_list = scandir(dirs[i], &list, so_filter, alphasort);
        if (n_list < 0)
            continue; /* the loader reports unreadable directories */
        for (int j = 0; j < n_list; j++) {
            char *path = xasprintf("%s/%s", dirs[i], list[j]->d_name);
            free(list[j]);
            struct stat st;
            struct plugin_file *grown = realloc(files, (n + 1) * sizeof(*files));
            if (!grown) {
                free(path);
                continue;
            }
            files = grown;
            files[n] = (struct plugin_file){.path = path};
            /* A file that vanished keeps a zero identity: the loader refuses it. */
            if (stat(path, &st) == 0) {
                files[n].dev = st.st_dev;
                files[n].ino = st.st_ino;
                files[n].size = st.st_size;
                files[n].mtime_ns =
                    (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
            }
            n++;
        }
        free(list);
    }
    *ret = files;
    *ret_n = n;
    return 0;
}

static char *cache_format(void)
{
    return xasprintf("%s abi %d.%d berth %s", CACHE_FORMAT, BERTH_ABI_MAJOR, BERTH_ABI_MINOR,
                     BERTH_VERSION);
}

static int dirs_match(const cJSON *arr, char *const *dirs)
{
    size_t i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, arr)
    {
        if (!dirs || !dirs[i] || !cJSON_IsString(d) || strcmp(d->valuestring, dirs[i]))
            return 0;
        i++;
    }
    return !dirs || !dirs[i];
}

/* As text: a JSON number (a double) cannot hold every inode or nanosecond. */
static char *file_identity(const struct plugin_file *f)
{
    return xasprintf("%llu:%llu:%lld:%lld", f->dev, f->ino, f->size, f->mtime_ns);
}

int plugin_cache_read(const char *cache_path, char *const *dirs, struct plugin_file *files,
                      size_t n)
{
    _cleanup_free_ char *text = NULL;
    struct error *ignored = NULL;
    if (read_file(cache_path, &text, NULL, &ignored) < 0) {
        error_free(&ignored);
        return 0;
    }
    _cleanup_json_ cJSON *cache = cJSON_Parse(text);
    _cleanup_free_ char *format = cache_format();
    const char *got = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cache, "format"));
    if (!got || strcmp(got, format) ||
        !dirs_match(cJSON_GetObjectItemCaseSensitive(cache, "dirs"), dirs))
        return 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cache, "files");
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n)
        return 0;
    /* Check every file before filling any, so that a miss leaves FILES as scanned. */
    size_t i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, arr)
    {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "path"));
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name"));
        const char *refused = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "refused"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "identity"));
        _cleanup_free_ char *want = file_identity(&files[i]);
        if (!path || strcmp(path, files[i].path) || files[i].ino == 0 || !id || strcmp(id, want) ||
            (!name && !refused))
            return 0;
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(f, arr)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name"));
        const char *refused = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "refused"));
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(f, "kind");
        files[i].name = name ? strdup(name) : NULL;
        files[i].refused = refused ? strdup(refused) : NULL;
        files[i].kind = cJSON_IsNumber(kind) ? (uint32_t)kind->valuedouble : 0;
        i++;
    }
    return 1;
}

void plugin_cache_write(const char *cache_path, char *const *dirs, const struct plugin_file *files,
                        size_t n)
{
    _cleanup_json_ cJSON *cache = cJSON_CreateObject();
    _cleanup_free_ char *format = cache_format();
    cJSON_AddStringToObject(cache, "format", format);
    cJSON *arr = cJSON_AddArrayToObject(cache, "dirs");
    for (size_t i = 0; dirs && dirs[i]; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(dirs[i]));
    arr = cJSON_AddArrayToObject(cache, "files");
    for (size_t i = 0; i < n; i++) {
        /* A file whose descriptor was never read (it could not be opened) is
         * not cached: the cache would then claim to know it. */
        if (!files[i].name && !files[i].refused)
            return;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", files[i].path);
        _cleanup_free_ char *id = file_identity(&files[i]);
        cJSON_AddStringToObject(f, "identity", id);
        if (files[i].name)
            cJSON_AddStringToObject(f, "name", files[i].name);
        if (files[i].kind)
            cJSON_AddNumberToObject(f, "kind", files[i].kind);
        if (files[i].refused)
            cJSON_AddStringToObject(f, "refused", files[i].refused);
        cJSON_AddItemToArray(arr, f);
    }
    _cleanup_free_ char *text = cJSON_PrintUnformatted(cache);
    struct error *ignored = NULL;
    if (text)
        write_file_atomic_flags(cache_path, text, strlen(text), 0600, WRITE_NO_SYNC, &ignored);
    error_free(&ignored);
}
