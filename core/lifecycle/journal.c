#include "lifecycle/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/log.h"

struct journal {
    char *path;
    int fd;
};

int journal_open(const char *path, struct journal **ret, struct error **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return error_set(err, errno, "open journal '%s'", path);
    struct journal *j = calloc(1, sizeof(*j));
    if (!j) {
        close(fd);
        return error_set(err, ENOMEM, "open journal '%s'", path);
    }
    j->path = strdup(path);
    j->fd = fd;
    *ret = j;
    return 0;
}

int journal_append(struct journal *j, const cJSON *entry, struct error **err)
{
    _cleanup_free_ char *text = cJSON_PrintUnformatted(entry);
    if (!text)
        return error_set(err, ENOMEM, "journal");
    _cleanup_free_ char *line = xasprintf("%s\n", text);
    size_t len = strlen(line);
    /* One write per line: a reader never sees half of two entries. */
    ssize_t n = write(j->fd, line, len);
    if (n != (ssize_t)len)
        return error_set(err, n < 0 ? errno : EIO, "append to journal '%s'", j->path);
    return 0;
}

int journal_commit(struct journal *j, struct error **err)
{
    if (ftruncate(j->fd, 0) < 0)
        return error_set(err, errno, "commit journal '%s'", j->path);
    return 0;
}

static cJSON *read_entries(const char *path)
{
    _cleanup_free_ char *text = NULL;
    if (read_file(path, &text, NULL, NULL) < 0)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *e = cJSON_Parse(line);
        if (e && cJSON_IsObject(e))
            cJSON_AddItemToArray(arr, e);
        else
            cJSON_Delete(e);
    }
    return arr;
}

static int run_undos(cJSON *entries, journal_undo_fn fn, void *ctx)
{
    int failed = 0;
    for (int i = cJSON_GetArraySize(entries) - 1; i >= 0; i--) {
        struct error *e = NULL;
        if (fn(ctx, cJSON_GetArrayItem(entries, i), &e) < 0) {
            log_warning("rollback: %s", e ? e->msg : "undo failed");
            failed++;
        }
        error_free(&e);
    }
    return failed;
}

int journal_rollback(struct journal *j, journal_undo_fn fn, void *ctx)
{
    cJSON *entries = read_entries(j->path);
    int failed = entries ? run_undos(entries, fn, ctx) : 0;
    cJSON_Delete(entries);
    if (ftruncate(j->fd, 0) < 0)
        failed++;
    return failed;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    close(j->fd);
    free(j->path);
    free(j);
}

void journal_close_remove(struct journal *j)
{
    if (!j)
        return;
    unlink(j->path);
    journal_close(j);
}

int journal_recover(const char *path, journal_undo_fn fn, void *ctx)
{
    cJSON *entries = read_entries(path);
    if (!entries)
        return 0;
    int failed = run_undos(entries, fn, ctx);
    cJSON_Delete(entries);
    unlink(path);
    return failed;
}
