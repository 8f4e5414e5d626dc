/* ROOT/events.jsonl: one O_APPEND write per event, rotated at a size cap. */
#include "events/event-log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/time-spec.h"

/*
 * The descriptor stays open for the life of the process (a run emits about
 * ten events): one write per event, plus a stat to notice that another
 * berth rotated the file.
 */
static int cached_fd = -1;
static char cached_path[PATH_MAX];

static int open_log(const char *path)
{
    if (cached_fd >= 0 && !strcmp(cached_path, path)) {
        struct stat a, b;
        if (fstat(cached_fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            return cached_fd;
        close(cached_fd);
        cached_fd = -1;
    }
    if (cached_fd >= 0)
        close(cached_fd);
    cached_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (cached_fd < 0)
        return -errno;
    snprintf(cached_path, sizeof(cached_path), "%s", path);
    return cached_fd;
}

/* Past the cap: the file becomes events.jsonl.1, under an flock so that one berth rotates. */
static void maybe_rotate(int fd, const char *root, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < EVENT_LOG_MAX_BYTES)
        return;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0)
        return;
    struct stat now;
    if (stat(path, &now) == 0 && now.st_ino == st.st_ino) {
        char rotated[PATH_MAX];
        snprintf(rotated, sizeof(rotated), "%s/" EVENT_LOG_ROTATED, root);
        (void)rename(path, rotated); /* best effort: the next append tries again */
    }
    flock(fd, LOCK_UN);
}

int event_log_append(const char *root, const struct event_record *ev)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/" EVENT_LOG_FILE, root);
    int64_t now = time_now_ns();
    char stamp[48];
    format_rfc3339_nano(now, stamp, sizeof(stamp));

    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -ENOMEM;
    cJSON_AddStringToObject(o, "time", stamp);
    cJSON_AddStringToObject(o, "event", ev->event);
    cJSON_AddStringToObject(o, "phase", ev->phase);
    cJSON_AddStringToObject(o, "id", ev->id ? ev->id : "");
    if (ev->name)
        cJSON_AddStringToObject(o, "name", ev->name);
    if (ev->image)
        cJSON_AddStringToObject(o, "image", ev->image);
    if (ev->pid > 0)
        cJSON_AddNumberToObject(o, "pid", ev->pid);
    if (ev->exit_status >= 0)
        cJSON_AddNumberToObject(o, "exit_status", ev->exit_status);
    _cleanup_free_ char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    text[len] = '\n'; /* the NUL becomes the line end: one write for the whole line */

    int fd = open_log(path);
    if (fd < 0)
        return fd;
    ssize_t n;
    do
        n = write(fd, text, len + 1);
    while (n < 0 && errno == EINTR);
    text[len] = '\0';
    if (n < 0)
        return -errno;
    if ((size_t)n != len + 1)
        return -EIO;
    maybe_rotate(fd, root, path);
    return 0;
}
