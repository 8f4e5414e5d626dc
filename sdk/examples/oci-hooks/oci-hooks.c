/* SPDX-License-Identifier: MIT */
/*
 * oci-hooks: runs OCI hooks declared in JSON files, in the format podman
 * and CRI-O read (oci-hooks(5), version 1.0.0):
 *
 *   {"version": "1.0.0",
 *    "hook": {"path": "/usr/libexec/my-hook", "args": ["my-hook", "--x"],
 *             "env": ["K=V"], "timeout": 5},
 *    "when": {"always": true, "commands": ["^/bin/sh$"],
 *             "annotations": {"^com\\.example\\.k$": "^v$"}, "hasBindMounts": true},
 *    "stages": ["createRuntime", "poststart", "poststop"]}
 *
 * An example of the SDK (sdk/examples/README.md). What it shows:
 *
 *  - mapping berth's lifecycle events to someone else's model: an OCI
 *    stage runs at one berth event (table below), and a hook that fails in
 *    a pre-phase event refuses the container, which berth rolls back;
 *  - configuration: the options JSON (services->config_json) may name the
 *    directory, {"hooks_dir": "/some/dir"}; the default is /etc/berth/hooks.d;
 *  - per-container state in the state dir, removed by the last event and by
 *    gc for containers that vanished in a crash;
 *  - running programs safely from inside berth: arguments prepared before
 *    fork, only async-signal-safe calls in the child, a deadline enforced
 *    with a pidfd and SIGKILL to the hook's own process group (never to a
 *    name), stdin from a memfd so a hook that does not read it cannot block
 *    or SIGPIPE berth.
 *
 *   OCI stage       berth event (phase)   container status in the state JSON
 *   createRuntime   prestart (pre)        "created": process made, command not run yet
 *   poststart       started (post)        "running"
 *   poststop        stopped (post)        "stopped"
 *
 * Which hooks apply is decided once, at createRuntime, from the bundle's
 * config.json (process.args[0] for "commands", "annotations", bind mounts
 * for "hasBindMounts"); the decision is kept in STATE_DIR/containers/ID.json
 * for poststart and poststop, which berth emits after the bundle is gone.
 * Files are read in name order and their hooks run in that order. Stages
 * other than these three (prestart, createContainer, startContainer) are
 * ignored. A file that is not valid refuses every container until it is
 * fixed: a hook that is not understood may be a security hook.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <berth/hook.h>

#define DEFAULT_HOOKS_DIR "/etc/berth/hooks.d"
#define DEFAULT_TIMEOUT 60 /* seconds, when a hook sets none */

struct hooks {
    const struct berth_services *s; /* valid until fini */
    char *hooks_dir;
    char *containers_dir; /* STATE_DIR/containers */
};

#define FAIL(h, err, errnum, ...) ((h)->s->set_error((err), (errnum), __VA_ARGS__), -(errnum))

BERTH_PRINTF(3, 4) static void pathf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static char *read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2) {
            char *b = cap < (1u << 24) ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static cJSON *read_json(const char *path)
{
    char *text = read_file(path);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

/* Writes PATH atomically (temp file, fsync, rename). */
static int write_json(const char *path, const cJSON *j)
{
    char tmp[PATH_MAX];
    pathf(tmp, sizeof(tmp), "%s.tmp", path);
    char *text = cJSON_PrintUnformatted(j);
    if (!text)
        return -ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int r = fd < 0 ? -errno : 0;
    if (fd >= 0) {
        size_t n = strlen(text);
        if (write(fd, text, n) != (ssize_t)n || fsync(fd) < 0)
            r = -EIO;
        close(fd);
    }
    free(text);
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        unlink(tmp);
    return r;
}

/* ---- init and fini ---------------------------------------------------- */

static int hooks_init(const struct berth_services *services, void **ret_state)
{
    struct hooks *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->s = services;
    /* Options: {"hooks_dir": "/path"}; anything else is refused so that a
     * typo does not silently run the wrong hooks. */
    cJSON *cfg = cJSON_Parse(services->config_json ? services->config_json : "{}");
    const cJSON *o, *dir = NULL;
    int r = cJSON_IsObject(cfg) ? 0 : -EINVAL;
    cJSON_ArrayForEach(o, cfg)
    {
        if (strcmp(o->string, "hooks_dir") == 0 && cJSON_IsString(o) && o->valuestring[0] == '/')
            dir = o;
        else
            r = -EINVAL;
    }
    if (r < 0)
        services->log(services->host, BERTH_LOG_ERROR,
                      "oci-hooks: options must be {\"hooks_dir\": \"/absolute/path\"}");
    h->hooks_dir = strdup(dir ? dir->valuestring : DEFAULT_HOOKS_DIR);
    cJSON_Delete(cfg);
    if (r == 0 &&
        (!h->hooks_dir || asprintf(&h->containers_dir, "%s/containers", services->state_dir) < 0))
        r = -ENOMEM;
    if (r == 0 && mkdir(h->containers_dir, 0700) < 0 && errno != EEXIST)
        r = -errno;
    if (r < 0) {
        free(h->hooks_dir);
        free(h->containers_dir);
        free(h);
        return r;
    }
    *ret_state = h;
    return 0;
}

static void hooks_fini(void *state)
{
    struct hooks *h = state;
    if (!h)
        return;
    free(h->hooks_dir);
    free(h->containers_dir);
    free(h);
}

/* ---- which hooks apply -------------------------------------------------- */

static int regex_match(const char *pattern, const char *text)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return -1;
    int m = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

static int string_array(const cJSON *a)
{
    const cJSON *e;
    if (!cJSON_IsArray(a))
        return 0;
    cJSON_ArrayForEach(e, a) if (!cJSON_IsString(e)) return 0;
    return 1;
}

/* Checks one hook file; returns NULL or what is wrong with it. */
static const char *invalid_hook(const cJSON *f)
{
    const cJSON *v = cJSON_GetObjectItem(f, "version");
    const cJSON *hook = cJSON_GetObjectItem(f, "hook"), *when = cJSON_GetObjectItem(f, "when");
    const cJSON *stages = cJSON_GetObjectItem(f, "stages");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, "1.0.0") != 0)
        return "\"version\" must be \"1.0.0\"";
    const cJSON *path = cJSON_GetObjectItem(hook, "path");
    if (!cJSON_IsString(path) || path->valuestring[0] != '/')
        return "\"hook.path\" must be an absolute path";
    if (cJSON_GetObjectItem(hook, "args") && !string_array(cJSON_GetObjectItem(hook, "args")))
        return "\"hook.args\" must be an array of strings";
    if (cJSON_GetObjectItem(hook, "env") && !string_array(cJSON_GetObjectItem(hook, "env")))
        return "\"hook.env\" must be an array of strings";
    const cJSON *t = cJSON_GetObjectItem(hook, "timeout");
    if (t && (!cJSON_IsNumber(t) || t->valuedouble < 1))
        return "\"hook.timeout\" must be a number of seconds, at least 1";
    if (!string_array(stages) || cJSON_GetArraySize(stages) == 0)
        return "\"stages\" must be a non-empty array of strings";
    if (!cJSON_IsObject(when) || cJSON_GetArraySize(when) == 0)
        return "\"when\" must set at least one condition";
    return NULL;
}

/*
 * Whether mount M of config.json is a bind the caller asked for: the binds
 * berth makes itself (/etc/hosts, /etc/resolv.conf, /etc/hostname) have
 * their source in the container's BUNDLE, and are not, as podman's own are
 * not for CRI-O's hasBindMounts.
 */
static int callers_bind(const cJSON *m, const char *bundle)
{
    const cJSON *src = cJSON_GetObjectItem(m, "source");
    size_t n = bundle ? strlen(bundle) : 0;
    if (n && cJSON_IsString(src) && !strncmp(src->valuestring, bundle, n) &&
        src->valuestring[n] == '/')
        return 0;
    const cJSON *type = cJSON_GetObjectItem(m, "type"), *o;
    if (cJSON_IsString(type) && strcmp(type->valuestring, "bind") == 0)
        return 1;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(m, "options"))
    {
        if (cJSON_IsString(o) &&
            (strcmp(o->valuestring, "bind") == 0 || strcmp(o->valuestring, "rbind") == 0))
            return 1;
    }
    return 0;
}

/*
 * The "when" of a hook against the container's config.json (in BUNDLE). As
 * in oci-hooks(5) the hook applies when ANY set condition matches.
 */
static int when_matches(const cJSON *when, const cJSON *config, const char *bundle)
{
    if (cJSON_IsTrue(cJSON_GetObjectItem(when, "always")))
        return 1;
    const cJSON *args = cJSON_GetObjectItem(cJSON_GetObjectItem(config, "process"), "args");
    const cJSON *arg0 = cJSON_GetArrayItem(args, 0), *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(when, "commands"))
    {
        if (cJSON_IsString(e) && cJSON_IsString(arg0) &&
            regex_match(e->valuestring, arg0->valuestring) == 1)
            return 1;
    }
    const cJSON *ann = cJSON_GetObjectItem(config, "annotations"), *want, *have;
    cJSON_ArrayForEach(want, cJSON_GetObjectItem(when, "annotations"))
    {
        cJSON_ArrayForEach(have, ann)
        {
            if (cJSON_IsString(want) && cJSON_IsString(have) &&
                regex_match(want->string, have->string) == 1 &&
                regex_match(want->valuestring, have->valuestring) == 1)
                return 1;
        }
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(when, "hasBindMounts"))) {
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(config, "mounts"))
        {
            if (callers_bind(m, bundle))
                return 1;
        }
    }
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Reads every *.json in the hooks dir (name order) and appends to OUT one
 * {"file", "stage", "hook"} per stage we run, for the hooks whose "when"
 * matches CONFIG. A missing directory means no hooks.
 */
static int select_hooks(struct hooks *h, const cJSON *config, const char *bundle, cJSON *out,
                        struct berth_error *err)
{
    DIR *d = opendir(h->hooks_dir);
    if (!d)
        return errno == ENOENT ? 0 : FAIL(h, err, errno, "open '%s'", h->hooks_dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    int r = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || e->d_name[0] == '.' || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char **grown = realloc(names, (n + 1) * sizeof(*names));
        if (!grown || !(grown[n] = strdup(e->d_name))) {
            names = grown ? grown : names;
            r = FAIL(h, err, ENOMEM, "list '%s'", h->hooks_dir);
            break;
        }
        names = grown;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n && r == 0; i++) {
        char path[PATH_MAX];
        pathf(path, sizeof(path), "%s/%s", h->hooks_dir, names[i]);
        cJSON *f = read_json(path);
        const char *why = f ? invalid_hook(f) : "not valid JSON";
        if (why) {
            r = FAIL(h, err, EINVAL, "hook file '%s': %s", path, why);
        } else if (when_matches(cJSON_GetObjectItem(f, "when"), config, bundle)) {
            const cJSON *st;
            cJSON_ArrayForEach(st, cJSON_GetObjectItem(f, "stages"))
            {
                if (strcmp(st->valuestring, "createRuntime") &&
                    strcmp(st->valuestring, "poststart") && strcmp(st->valuestring, "poststop"))
                    continue;
                cJSON *one = cJSON_CreateObject();
                cJSON_AddStringToObject(one, "file", path);
                cJSON_AddStringToObject(one, "stage", st->valuestring);
                cJSON_AddItemToObject(one, "hook",
                                      cJSON_Duplicate(cJSON_GetObjectItem(f, "hook"), 1));
                cJSON_AddItemToArray(out, one);
            }
        }
        cJSON_Delete(f);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

/* ---- running one hook -------------------------------------------------- */

/* NULL-terminated copy of a JSON string array (FIRST prepended if set). */
static char **strv(const cJSON *a, const char *first)
{
    size_t n = (size_t)cJSON_GetArraySize(a) + 2, i = 0;
    char **v = calloc(n, sizeof(*v));
    const cJSON *e;
    if (!v)
        return NULL;
    if (first)
        v[i++] = (char *)first;
    cJSON_ArrayForEach(e, a) v[i++] = e->valuestring;
    return v;
}

/*
 * Runs HOOK with STATE_JSON on stdin; waits at most its timeout. Returns 0
 * when it exits 0, else a negative errno with ERR set.
 */
static int run_hook(struct hooks *h, const cJSON *one, const char *state_json,
                    struct berth_error *err)
{
    const cJSON *hook = cJSON_GetObjectItem(one, "hook");
    const char *file = cJSON_GetObjectItem(one, "file")->valuestring;
    const char *path = cJSON_GetObjectItem(hook, "path")->valuestring;
    const cJSON *t = cJSON_GetObjectItem(hook, "timeout");
    int timeout = cJSON_IsNumber(t) ? (int)t->valuedouble : DEFAULT_TIMEOUT;
    const cJSON *args = cJSON_GetObjectItem(hook, "args");

    /* Everything the child needs is made before fork. */
    char **argv = cJSON_GetArraySize(args) > 0 ? strv(args, NULL) : strv(NULL, path);
    char **envp = strv(cJSON_GetObjectItem(hook, "env"), NULL);
    int in = memfd_create("oci-state", MFD_CLOEXEC);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int r = 0;
    size_t len = strlen(state_json);
    if (!argv || !envp)
        r = FAIL(h, err, ENOMEM, "hook '%s'", file);
    else if (in < 0 || null < 0)
        r = FAIL(h, err, errno, "hook '%s': stdin", file);
    else if (write(in, state_json, len) != (ssize_t)len || lseek(in, 0, SEEK_SET) < 0)
        r = FAIL(h, err, EIO, "hook '%s': write its stdin", file);
    pid_t pid = -1;
    if (r == 0 && (pid = fork()) < 0)
        r = FAIL(h, err, errno, "hook '%s': fork", file);
    if (pid == 0) {
        /* The child: its own process group, so that a timeout kills every
         * process the hook started. dup2 clears O_CLOEXEC on 0, 1, 2. */
        setpgid(0, 0);
        dup2(in, 0);
        dup2(null, 1);
        dup2(null, 2);
        execve(path, argv, envp);
        _exit(127);
    }
    if (in >= 0)
        close(in);
    if (null >= 0)
        close(null);
    free(argv);
    free(envp);
    if (r < 0)
        return r;

    /* Wait with a deadline: a pidfd becomes readable when the child exits. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int ready = 1;
    if (pidfd >= 0) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        long left = timeout * 1000L;
        while ((ready = poll(&p, 1, (int)left)) < 0 && errno == EINTR) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            left = timeout * 1000L - (now.tv_sec - start.tv_sec) * 1000L -
                   (now.tv_nsec - start.tv_nsec) / 1000000L;
            if (left < 0)
                left = 0;
        }
        close(pidfd);
    }
    if (ready == 0) {
        kill(-pid, SIGKILL); /* the group the child made: the hook and its children */
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (ready == 0) {
        kill(-pid, SIGKILL); /* in case the group outlived its leader */
        return FAIL(h, err, ETIMEDOUT, "hook '%s': %s did not finish within %d s, killed", file,
                    path, timeout);
    }
    if (WIFSIGNALED(status))
        return FAIL(h, err, EIO, "hook '%s': %s killed by signal %d", file, path, WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        return FAIL(h, err, EIO, "hook '%s': %s exited with status %d", file, path,
                    WEXITSTATUS(status));
    return 0;
}

/* Runs every saved hook of STAGE; stops at the first failure. */
static int run_stage(struct hooks *h, const cJSON *saved, const char *stage, const char *status,
                     int pid, struct berth_error *err)
{
    cJSON *state = cJSON_Duplicate(cJSON_GetObjectItem(saved, "state"), 1);
    if (!state)
        return FAIL(h, err, ENOMEM, "%s hooks", stage);
    cJSON_AddStringToObject(state, "status", status);
    if (pid > 0)
        cJSON_AddNumberToObject(state, "pid", pid);
    char *state_json = cJSON_PrintUnformatted(state);
    cJSON_Delete(state);
    if (!state_json)
        return FAIL(h, err, ENOMEM, "%s hooks", stage);
    int r = 0;
    const cJSON *one;
    cJSON_ArrayForEach(one, cJSON_GetObjectItem(saved, "hooks"))
    {
        if (strcmp(cJSON_GetObjectItem(one, "stage")->valuestring, stage) != 0)
            continue;
        if ((r = run_hook(h, one, state_json, err)) < 0)
            break;
    }
    free(state_json);
    return r;
}

/* ---- events -------------------------------------------------------------- */

static int valid_id(const char *id)
{
    if (!id || !*id || strlen(id) > 128)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return 0;
    return 1;
}

/* prestart: decide which hooks apply, keep that, run createRuntime. */
static int on_prestart(struct hooks *h, const struct berth_event *ev, const char *saved_path,
                       struct berth_error *err)
{
    char config_path[PATH_MAX];
    cJSON *config = NULL;
    if (ev->bundle) {
        pathf(config_path, sizeof(config_path), "%s/config.json", ev->bundle);
        config = read_json(config_path);
    }
    cJSON *saved = cJSON_CreateObject();
    cJSON *state = cJSON_AddObjectToObject(saved, "state");
    cJSON_AddStringToObject(state, "ociVersion", "1.0.2");
    cJSON_AddStringToObject(state, "id", ev->container_id);
    if (ev->bundle)
        cJSON_AddStringToObject(state, "bundle", ev->bundle);
    const cJSON *ann = cJSON_GetObjectItem(config, "annotations");
    cJSON_AddItemToObject(state, "annotations",
                          cJSON_IsObject(ann) ? cJSON_Duplicate(ann, 1) : cJSON_CreateObject());
    cJSON *list = cJSON_AddArrayToObject(saved, "hooks");
    int r = select_hooks(h, config, ev->bundle, list, err);
    cJSON_Delete(config);
    if (r == 0 && cJSON_GetArraySize(list) > 0 && (r = write_json(saved_path, saved)) < 0)
        r = FAIL(h, err, -r, "write '%s'", saved_path);
    if (r == 0)
        r = run_stage(h, saved, "createRuntime", "created", ev->pid, err);
    if (r < 0)
        unlink(saved_path); /* refused: berth rolls back and sends no later event */
    cJSON_Delete(saved);
    return r;
}

static int hooks_on_event(void *state, const struct berth_event *event, void *res,
                          struct berth_error *err)
{
    struct hooks *h = state;
    (void)res;
    if (event->type != BERTH_EVENT_PRESTART && event->type != BERTH_EVENT_STARTED &&
        event->type != BERTH_EVENT_STOPPED)
        return 0;
    if (!valid_id(event->container_id))
        return 0;
    char saved_path[PATH_MAX];
    pathf(saved_path, sizeof(saved_path), "%s/%s.json", h->containers_dir, event->container_id);
    if (event->type == BERTH_EVENT_PRESTART)
        return on_prestart(h, event, saved_path, err);

    cJSON *saved = read_json(saved_path);
    if (!saved)
        return 0; /* no hook applied to this container */
    int r;
    if (event->type == BERTH_EVENT_STARTED) {
        r = run_stage(h, saved, "poststart", "running", event->pid, err);
    } else {
        r = run_stage(h, saved, "poststop", "stopped", 0, err);
        unlink(saved_path); /* the next start decides again */
    }
    cJSON_Delete(saved);
    return r; /* post phase: berth logs a failure and goes on */
}

/* gc: forget containers berth no longer knows (a crash before "stopped"). */
static int hooks_gc(void *state, const struct berth_gc_request *req, void *res,
                    struct berth_error *err)
{
    struct hooks *h = state;
    (void)res;
    DIR *d = opendir(h->containers_dir);
    if (!d)
        return FAIL(h, err, errno, "open '%s'", h->containers_dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        char id[NAME_MAX + 1];
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) {
            if (strstr(e->d_name, ".json.tmp"))
                unlinkat(dirfd(d), e->d_name, 0);
            continue;
        }
        memcpy(id, e->d_name, len - 5);
        id[len - 5] = '\0';
        int known = 0;
        for (uint32_t i = 0; i < req->n_container_ids && !known; i++)
            known = strcmp(req->container_ids[i], id) == 0;
        if (!known)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    return 0;
}

static const struct berth_hook_ops hooks_ops = {
    .size = sizeof(struct berth_hook_ops),
    .on_event = hooks_on_event,
    .gc = hooks_gc,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_HOOK, "oci-hooks", "1.0",
                    "runs OCI hooks (oci-hooks(5)) at createRuntime, poststart, poststop", 0,
                    hooks_init, hooks_fini, &hooks_ops)
