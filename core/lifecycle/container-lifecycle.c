#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "config/defaults.h"
#include "events/event-log.h"
#include "image/lazy-libs.h"
#include "lifecycle/container-cgroup.h"
#include "lifecycle/container-userns.h"
#include "lifecycle/container-control.h"
#include "lifecycle/container-mounts.h"
#include "lifecycle/container-network.h"
#include "lifecycle/etc-files.h"
#include "lifecycle/init-binary.h"
#include "lifecycle/journal.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/plugin-calls.h"
#include "lifecycle/undo.h"
#include "monitor/monitor.h"
#include "network/network-ops.h"
#include "runtime/runtime.h"
#include "runtime/security-opts.h"
#include "runtime/terminal.h"
#include "store/container-store.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/strv.h"
#include "util/lock.h"
#include "util/log.h"
#include "volume/volume-calls.h"

/* One container's transaction: its record, lock, run dir and journal. */
struct txn {
    struct engine *e;
    cJSON *rec;
    char id[CONTAINER_ID_LEN + 1];
    int lock_fd;
    char *run_dir;
    char *bundle;
    struct journal *journal;
    struct plugin *storage;
    struct mount_list mounts;       /* the root filesystem's */
    struct mount_list extra_mounts; /* volumes, binds, tmpfs */
    char *netns;                    /* the network namespace file, NULL for none/host */
    struct undo_ctx undo;
    struct cgroup_spec *cgroup; /* where the process goes (container-cgroup.h), or NULL */
};

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void txn_init(struct txn *t, struct engine *e)
{
    memset(t, 0, sizeof(*t));
    t->e = e;
    t->lock_fd = -1;
    t->undo.engine = e;
    t->undo.id = t->id;
}

/* Takes the record lock, makes the run dir and opens the journal. */
static int txn_begin(struct txn *t, int wait, struct error **err)
{
    int fd;
    if (wait) {
        fd = container_store_lock(t->e->containers, t->id, err);
    } else {
        _cleanup_free_ char *path = xasprintf("%s/containers/%s.lock", t->e->globals->root, t->id);
        fd = try_lock_path(path, err);
        if (fd == -EWOULDBLOCK)
            return error_set_plain(err, EBUSY,
                                   "container '%.12s' is in use by another berth process", t->id);
    }
    if (fd < 0)
        return fd;
    t->lock_fd = fd;
    t->run_dir = xasprintf("%s/containers/%s", t->e->globals->runroot, t->id);
    t->bundle = xasprintf("%s/bundle", t->run_dir);
    int r = mkdir_p(t->run_dir, 0700, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *jpath = xasprintf("%s/journal", t->run_dir);
    return journal_open(jpath, &t->journal, err);
}

static int txn_log(struct txn *t, cJSON *entry, struct error **err)
{
    int r = journal_append(t->journal, entry, err);
    cJSON_Delete(entry);
    return r;
}

/* Ends the transaction: the journal and run dir go, the lock is released. */
static void txn_end(struct txn *t)
{
    journal_close_remove(t->journal);
    t->journal = NULL;
    if (t->run_dir) {
        struct error *e = NULL;
        if (rm_rf(t->run_dir, &e) < 0)
            log_warning("%s", e->msg);
        error_free(&e);
    }
    unlock_fd(t->lock_fd);
    t->lock_fd = -1;
    free(t->run_dir);
    free(t->bundle);
    t->run_dir = t->bundle = NULL;
    mount_list_clear(&t->mounts);
    mount_list_clear(&t->extra_mounts);
    free(t->netns);
    t->netns = NULL;
    cgroup_spec_free(t->cgroup);
    t->cgroup = NULL;
    cJSON_Delete(t->rec);
    t->rec = NULL;
}

static void txn_rollback(struct txn *t)
{
    if (t->journal)
        journal_rollback(t->journal, undo_step, &t->undo);
}

static int emit(struct txn *t, uint32_t type, int pid, int exit_status, struct error **err)
{
    struct event_view v = {
        .id = t->id,
        .name = rec_str(t->rec, "name"),
        .image = rec_str(t->rec, "image"),
        .bundle = path_exists(t->bundle ? t->bundle : "") ? t->bundle : NULL,
        .netns = NULL,
        .pid = pid,
        .exit_status = exit_status,
    };
    /* The core's event journal first: it is the stream the hooks see (events/event-log.h). */
    struct event_record rec = {
        event_name(type), type <= BERTH_EVENT_PRESTART ? "pre" : "post", v.id, v.name, v.image, pid,
        exit_status};
    int lr = event_log_append(t->e->globals->root, &rec);
    if (lr < 0)
        log_warning("event journal: %s", strerror(-lr));
    return hooks_emit(t->e->plugins, type, &v, err);
}

/* OBJ[KEY] = the strings of V, when V has any. */
static void add_strings(cJSON *obj, const char *key, char *const *v)
{
    if (!v || !v[0])
        return;
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    for (size_t i = 0; v[i]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

/* Image env overridden by the user's, key by key. */
static cJSON *merge_env(char *const *image_env, char *const *user_env)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; image_env && image_env[i]; i++) {
        const char *eq = strchr(image_env[i], '=');
        size_t klen = eq ? (size_t)(eq - image_env[i]) : strlen(image_env[i]);
        int overridden = 0;
        for (size_t j = 0; user_env && user_env[j]; j++)
            if (!strncmp(user_env[j], image_env[i], klen) &&
                (user_env[j][klen] == '=' || user_env[j][klen] == '\0'))
                overridden = 1;
        if (!overridden)
            cJSON_AddItemToArray(arr, cJSON_CreateString(image_env[i]));
    }
    for (size_t j = 0; user_env && user_env[j]; j++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(user_env[j]));
    return arr;
}

static cJSON *build_process(const struct image *img, const struct create_options *o,
                            struct error **err)
{
    cJSON *args = cJSON_CreateArray();
    /* --entrypoint replaces the image's and, as docker, drops its cmd too. */
    if (o->entrypoint && *o->entrypoint)
        cJSON_AddItemToArray(args, cJSON_CreateString(o->entrypoint));
    for (size_t i = 0; !o->entrypoint && img->entrypoint && img->entrypoint[i]; i++)
        cJSON_AddItemToArray(args, cJSON_CreateString(img->entrypoint[i]));
    char *const *cmd = o->args && o->args[0] ? o->args : o->entrypoint ? NULL : img->cmd;
    for (size_t i = 0; cmd && cmd[i]; i++)
        cJSON_AddItemToArray(args, cJSON_CreateString(cmd[i]));
    if (cJSON_GetArraySize(args) == 0) {
        cJSON_Delete(args);
        error_set_plain(err, EINVAL, "no command given and image '%s' has none", img->id);
        return NULL;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "args", args);
    cJSON *env = merge_env(img->env, o->env);
    /* As docker: a terminal without a TERM gets xterm. */
    int has_term = 0;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, env)
    {
        if (!strncmp(cJSON_GetStringValue(kv), "TERM=", 5))
            has_term = 1;
    }
    if (o->tty && !has_term)
        cJSON_AddItemToArray(env, cJSON_CreateString("TERM=xterm"));
    cJSON_AddItemToObject(p, "env", env);
    const char *cwd =
        o->cwd ? o->cwd : (img->working_dir && *img->working_dir ? img->working_dir : "/");
    cJSON_AddStringToObject(p, "cwd", cwd);
    const char *user = o->user ? o->user : (img->user && *img->user ? img->user : NULL);
    if (user)
        cJSON_AddStringToObject(p, "user", user);
    if (o->tty)
        cJSON_AddBoolToObject(p, "terminal", 1);
    if (o->interactive)
        cJSON_AddBoolToObject(p, "interactive", 1);
    return p;
}

static int do_create(struct txn *t, const struct create_options *o, struct error **err)
{
    struct engine *e = t->e;
    /* --storage-driver, else the configuration's "storage_driver", else the built-in. */
    const char *configured = o->storage_driver ? NULL : e->globals->storage_driver;
    const char *driver = o->storage_driver ? o->storage_driver
                         : configured      ? configured
                                           : DEFAULT_STORAGE_DRIVER;
    if (o->cwd && o->cwd[0] != '/')
        return error_set_plain(err, EINVAL, "working directory '%s' is not absolute", o->cwd);
    if (o->name && !container_name_is_valid(o->name))
        return error_set_plain(
            err, EINVAL, "invalid container name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*", o->name);
    /* Validated before anything is made; kept in the record for every start. */
    cJSON *security = NULL;
    int r = security_options_build(o->security, &security, err);
    if (r < 0)
        return r;
    r = storage_find(e->plugins, driver, &t->storage, err);
    if (r < 0 && configured)
        error_prefix(err, "'%s': \"storage_driver\"", e->globals->config_file);
    if (r < 0) {
        cJSON_Delete(security);
        return r;
    }
    struct image *img = NULL;
    r = image_store_resolve(e->images, o->image_ref, &img, err);
    if (r < 0) {
        cJSON_Delete(security);
        return r;
    }
    cJSON *process = build_process(img, o, err);
    if (!process) {
        cJSON_Delete(security);
        image_free(img);
        return error_code(*err);
    }
    r = storage_ensure_layers(t->storage, e->images, img, err);
    if (r < 0) {
        cJSON_Delete(security);
        cJSON_Delete(process);
        image_free(img);
        return r;
    }

    container_new_id(t->id);
    t->rec = cJSON_CreateObject();
    cJSON_AddItemToObject(t->rec, "security", security);
    rec_set_str(t->rec, "id", t->id);
    rec_set_str(t->rec, "image", o->image_ref);
    rec_set_str(t->rec, "image_id", img->id);
    rec_set_str(t->rec, "storage_driver", driver);
    cJSON_AddBoolToObject(t->rec, "read_only", o->read_only != 0);
    rec_set_str(t->rec, "state", "creating");
    rec_set_int(t->rec, "created", now_ms());
    cJSON *layers = cJSON_AddArrayToObject(t->rec, "layers");
    for (size_t i = 0; i < img->n_layers; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "diff_id", img->layers[i].diff_id);
        cJSON_AddStringToObject(l, "chain_id", img->layers[i].chain_id);
        cJSON_AddItemToArray(layers, l);
    }
    image_free(img);
    cJSON_AddItemToObject(t->rec, "process", process);
    char hostname[13];
    snprintf(hostname, sizeof(hostname), "%.12s", t->id);
    rec_set_str(t->rec, "hostname", o->hostname ? o->hostname : hostname);
    cJSON_AddBoolToObject(t->rec, "auto_remove", o->auto_remove != 0);
    if (o->dns || o->dns_search || o->dns_options) {
        cJSON *dns = cJSON_AddObjectToObject(t->rec, "dns");
        add_strings(dns, "servers", o->dns);
        add_strings(dns, "search", o->dns_search);
        add_strings(dns, "options", o->dns_options);
    }
    add_strings(t->rec, "extra_hosts", o->extra_hosts);
    if (o->labels && o->labels[0]) {
        /* {KEY: VALUE}; a later --label of the same key wins, as docker's. */
        cJSON *labels = cJSON_AddObjectToObject(t->rec, "labels");
        for (size_t i = 0; o->labels[i]; i++) {
            const char *eq = strchr(o->labels[i], '=');
            _cleanup_free_ char *key =
                eq ? strndup(o->labels[i], (size_t)(eq - o->labels[i])) : strdup(o->labels[i]);
            cJSON_DeleteItemFromObjectCaseSensitive(labels, key);
            cJSON_AddStringToObject(labels, key, eq ? eq + 1 : "");
        }
    }
    /* What the monitor of a detached start needs (core/monitor/). */
    if (o->restart)
        rec_set_str(t->rec, "restart_policy", o->restart);
    if (o->stop_signal)
        rec_set_str(t->rec, "stop_signal", o->stop_signal);
    if (o->log_opts)
        rec_set_str(t->rec, "log_opts", o->log_opts);
    if (o->init)
        cJSON_AddBoolToObject(t->rec, "init", 1);
    if ((r = container_network_create(e, t->rec, o, err)) < 0)
        return r;
    if ((r = container_mounts_create(e, t->rec, o, err)) < 0)
        return r;
    if ((r = container_cgroup_options(t->rec, o->limits, o->cgroup_parent, o->no_cgroup, err)) < 0)
        return r;

    r = txn_begin(t, 1, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *random_name = NULL;
    for (int attempt = 0;; attempt++) {
        const char *name = o->name;
        if (!name) {
            free(random_name);
            name = random_name = container_random_name();
        }
        struct error *local = NULL;
        r = container_store_reserve_name(e->containers, name, t->id, &local);
        if (r == -EEXIST && !o->name && attempt < 16) {
            error_free(&local);
            continue;
        }
        if (r < 0) {
            *err = local;
            return r;
        }
        rec_set_str(t->rec, "name", name);
        cJSON *u = undo_entry("release-name");
        cJSON_AddStringToObject(u, "name", name);
        if ((r = txn_log(t, u, err)) < 0)
            return r;
        break;
    }
    /* Chosen and saved under one lock: concurrent creates never share a range. */
    int userns_lock = -1;
    if ((r = container_userns_allocate(e, t->rec, &userns_lock, err)) < 0)
        return r;
    r = container_store_save(e->containers, t->rec, err);
    unlock_fd(userns_lock);
    if (r < 0)
        return r;
    if ((r = txn_log(t, undo_entry("delete-record"), err)) < 0)
        return r;
    if ((r = emit(t, BERTH_EVENT_CREATE, 0, -1, err)) < 0)
        return r;
    if ((r = emit(t, BERTH_EVENT_PREPARE_STORAGE, 0, -1, err)) < 0)
        return r;
    /* Journaled before the call: a driver killed half-way is undone too. */
    cJSON *u = undo_entry("storage-remove");
    cJSON_AddStringToObject(u, "driver", driver);
    if ((r = txn_log(t, u, err)) < 0)
        return r;
    if ((r = storage_prepare(t->storage, t->id, cJSON_GetObjectItem(t->rec, "layers"), 0,
                             o->auto_remove, &t->mounts, err)) < 0)
        return r;
    container_userns_note_mounts(t->rec, t->mounts.items, t->mounts.n);
    return 0;
}

static int mark_created(struct txn *t, struct error **err)
{
    rec_set_str(t->rec, "state", "created");
    return container_store_save(t->e->containers, t->rec, err);
}

static int write_bundle(struct txn *t, struct error **err)
{
    const cJSON *process = cJSON_GetObjectItem(t->rec, "process");
    _cleanup_strv_ char **args = strv_from_json(cJSON_GetObjectItem(process, "args"));
    _cleanup_strv_ char **env = strv_from_json(cJSON_GetObjectItem(process, "env"));
    _cleanup_free_ char *seccomp_cache = xasprintf("%s/seccomp", t->e->globals->runroot);
    int r = mkdir_p(t->bundle, 0700, err);
    if (r < 0)
        return r;
    /* /etc/hosts, resolv.conf and hostname, bind-mounted from the bundle. */
    _cleanup_free_ struct mount_entry *with_etc = NULL;
    size_t n_etc = 0;
    if ((r = etc_files_prepare(t->rec, t->bundle, t->extra_mounts.items, t->extra_mounts.n,
                               &with_etc, &n_etc, err)) < 0)
        return r;
    const struct mount_entry *extra = with_etc;
    size_t n_extra = n_etc;
    /* --init: berth-init as pid 1, bind-mounted (lifecycle/init-binary.h). */
    _cleanup_free_ struct mount_entry *with_init = NULL;
    _cleanup_free_ char *init_path = NULL;
    if (cJSON_IsTrue(cJSON_GetObjectItem(t->rec, "init"))) {
        r = init_binary_apply(&args, extra, n_extra, &with_init, &init_path, err);
        if (r < 0) {
            etc_files_free_sources(with_etc, t->extra_mounts.n, n_etc);
            return r;
        }
        extra = with_init;
        n_extra++;
    }
    struct run_spec spec = {
        .args = args,
        .env = env,
        .cwd = cJSON_GetStringValue(cJSON_GetObjectItem(process, "cwd")),
        .user = cJSON_GetStringValue(cJSON_GetObjectItem(process, "user")),
        .hostname = rec_str(t->rec, "hostname"),
        .read_only_root = cJSON_IsTrue(cJSON_GetObjectItem(t->rec, "read_only")),
        .share_host_network = !strcmp(rec_str(t->rec, "network"), "host"),
        .terminal = cJSON_IsTrue(cJSON_GetObjectItem(process, "terminal")),
        .netns_path = t->netns,
        .rootfs_mounts = t->mounts.items,
        .n_rootfs_mounts = t->mounts.n,
        .extra_mounts = extra,
        .n_extra_mounts = n_extra,
        .security = cJSON_GetObjectItem(t->rec, "security"),
        .seccomp_cache_dir = seccomp_cache,
        .cgroup = t->cgroup,
    };
    r = bundle_write(t->bundle, &spec, err);
    etc_files_free_sources(with_etc, t->extra_mounts.n, n_etc);
    return r;
}

/* Everything from the prepared storage to a running process. */
static int do_start(struct txn *t, struct container_process *proc, struct error **err)
{
    int r;
    const char *driver = rec_str(t->rec, "storage_driver");
    if (!t->storage && (r = storage_find(t->e->plugins, driver, &t->storage, err)) < 0)
        return r;
    if (t->mounts.n == 0) {
        if ((r = emit(t, BERTH_EVENT_PREPARE_STORAGE, 0, -1, err)) < 0)
            return r;
        r = storage_prepare(t->storage, t->id, cJSON_GetObjectItem(t->rec, "layers"), 0,
                            cJSON_IsTrue(cJSON_GetObjectItem(t->rec, "auto_remove")), &t->mounts,
                            err);
        if (r < 0)
            return r;
    }
    cJSON *u = undo_entry("storage-release");
    cJSON_AddStringToObject(u, "driver", driver);
    if ((r = txn_log(t, u, err)) < 0)
        return r;
    if ((r = emit(t, BERTH_EVENT_MOUNT_VOLUMES, 0, -1, err)) < 0)
        return r;
    if ((r = txn_log(t, undo_entry("volumes-detach"), err)) < 0)
        return r;
    if ((r = container_mounts_attach(t->e, t->id, t->rec, &t->extra_mounts, err)) < 0)
        return r;
    if ((r = emit(t, BERTH_EVENT_JOIN_NETWORK, 0, -1, err)) < 0)
        return r;
    /* Journaled first: a join killed half-way is left by the recovery. */
    if ((r = txn_log(t, undo_entry("network-leave"), err)) < 0)
        return r;
    if ((r = container_network_join(t->e, t->id, t->rec, &t->netns, err)) < 0)
        return r;
    /* The drivers' results on disk: what leave needs after a crash. */
    if (t->netns && (r = container_store_save(t->e->containers, t->rec, err)) < 0)
        return r;
    u = undo_entry("remove-bundle");
    cJSON_AddStringToObject(u, "path", t->bundle);
    if ((r = txn_log(t, u, err)) < 0)
        return r;
    if ((r = container_cgroup_prepare(t->id, t->rec, &t->cgroup, err)) < 0)
        return r;
    if (t->cgroup && (r = txn_log(t, container_cgroup_undo(t->cgroup), err)) < 0)
        return r;
    if ((r = write_bundle(t, err)) < 0)
        return r;
    if ((r = emit(t, BERTH_EVENT_CREATE_PROCESS, 0, -1, err)) < 0)
        return r;
    if ((r = runtime_create(t->bundle, proc, err)) < 0)
        return r;
    u = undo_entry("kill");
    cJSON_AddNumberToObject(u, "pid", proc->pid);
    cJSON_AddNumberToObject(u, "start", (double)proc->start_time);
    if ((r = txn_log(t, u, err)) < 0)
        return r;
    if ((r = emit(t, BERTH_EVENT_PRESTART, proc->pid, -1, err)) < 0)
        return r;
    if ((r = runtime_start(proc, err)) < 0)
        return r;
    rec_set_str(t->rec, "state", "running");
    rec_set_int(t->rec, "pid", proc->pid);
    rec_set_int(t->rec, "pid_start", (long long)proc->start_time);
    rec_set_int(t->rec, "started", now_ms());
    cJSON_DeleteItemFromObject(t->rec, "exit_code");
    if ((r = container_store_save(t->e->containers, t->rec, err)) < 0)
        return r;
    /* Running: what is left to undo is the stop transaction itself. */
    if ((r = journal_commit(t->journal, err)) < 0)
        return r;
    if (cJSON_IsTrue(cJSON_GetObjectItem(t->rec, "auto_remove")))
        txn_log(t, undo_entry("remove-container"), NULL);
    txn_log(t, undo_entry("mark-exited"), NULL);
    u = undo_entry("storage-release");
    cJSON_AddStringToObject(u, "driver", driver);
    txn_log(t, u, NULL);
    txn_log(t, undo_entry("volumes-detach"), NULL);
    txn_log(t, undo_entry("network-leave"), NULL);
    if (t->cgroup)
        txn_log(t, container_cgroup_undo(t->cgroup), NULL);
    u = undo_entry("remove-bundle");
    cJSON_AddStringToObject(u, "path", t->bundle);
    txn_log(t, u, NULL);
    u = undo_entry("kill");
    cJSON_AddNumberToObject(u, "pid", proc->pid);
    cJSON_AddNumberToObject(u, "start", (double)proc->start_time);
    txn_log(t, u, NULL);
    emit(t, BERTH_EVENT_STARTED, proc->pid, -1, NULL);
    return 0;
}

static int stop_and_maybe_remove(struct txn *t, int exit_status, struct error **err)
{
    emit(t, BERTH_EVENT_EXITED, 0, exit_status, NULL);
    int r = 0;
    struct error *local = NULL;
    if (container_network_leave(t->e, t->id, t->rec, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    if (container_mounts_detach(t->e, t->id, t->rec, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    if (rm_rf(t->bundle, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    if (storage_release(t->storage, t->id, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    if (container_cgroup_remove_entry(t->rec, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    rec_set_str(t->rec, "state", "exited");
    rec_set_int(t->rec, "exit_code", exit_status);
    rec_set_int(t->rec, "finished", now_ms());
    rec_set_int(t->rec, "pid", 0);
    int auto_remove = cJSON_IsTrue(cJSON_GetObjectItem(t->rec, "auto_remove"));
    /* A container about to be removed needs no exited record first. */
    if (!auto_remove)
        r = container_store_save(t->e->containers, t->rec, err);
    journal_commit(t->journal, NULL);
    emit(t, BERTH_EVENT_STOPPED, 0, exit_status, NULL);
    if (auto_remove && r == 0) {
        r = storage_remove(t->storage, t->id, err);
        if (r == 0)
            r = container_store_delete(t->e->containers, t->id, err);
        if (r == 0) {
            container_store_release_name(t->e->containers, rec_str(t->rec, "name"), t->id);
            emit(t, BERTH_EVENT_DELETED, 0, exit_status, NULL);
        }
    }
    return r;
}

static int run_attached(struct txn *t, int *ret_exit_status, struct error **err)
{
    struct container_process proc = {.pid = 0, .sync_fd = -1, .terminal_fd = -1};
    int r = do_start(t, &proc, err);
    if (r < 0) {
        if (proc.sync_fd >= 0)
            close(proc.sync_fd);
        if (proc.terminal_fd >= 0)
            close(proc.terminal_fd);
        txn_rollback(t);
        return r;
    }
    int status = 0;
    if (proc.terminal_fd >= 0) {
        const cJSON *process = cJSON_GetObjectItem(t->rec, "process");
        r = terminal_relay(TAKE_FD(proc.terminal_fd), proc.pid,
                           cJSON_IsTrue(cJSON_GetObjectItem(process, "interactive")), &status, err);
    } else {
        r = runtime_wait(&proc, &status, err);
    }
    if (r < 0) {
        txn_rollback(t);
        return r;
    }
    r = stop_and_maybe_remove(t, status, err);
    if (r < 0)
        return r;
    *ret_exit_status = status;
    return 0;
}

int container_create(struct engine *e, const struct create_options *o, char **ret_id,
                     struct error **err)
{
    struct txn t;
    txn_init(&t, e);
    int r = do_create(&t, o, err);
    if (r == 0)
        r = mark_created(&t, err);
    if (r == 0)
        r = journal_commit(t.journal, err);
    if (r < 0)
        txn_rollback(&t);
    else
        *ret_id = strdup(t.id);
    txn_end(&t);
    return r;
}

int container_run(struct engine *e, const struct create_options *o, int *ret_exit_status,
                  struct error **err)
{
    struct txn t;
    txn_init(&t, e);
    int r = do_create(&t, o, err);
    if (r < 0) {
        txn_rollback(&t);
        txn_end(&t);
        return r;
    }
    rec_set_str(t.rec, "state", "created");
    r = run_attached(&t, ret_exit_status, err);
    txn_end(&t);
    return r;
}

int container_start_attached(struct engine *e, const char *ref, int *ret_exit_status,
                             struct error **err)
{
    struct txn t;
    txn_init(&t, e);
    int r = container_store_find(e->containers, ref, &t.rec, err);
    if (r < 0)
        return r;
    snprintf(t.id, sizeof(t.id), "%s", rec_str(t.rec, "id"));
    r = txn_begin(&t, 0, err);
    if (r < 0) {
        unlock_fd(t.lock_fd);
        t.lock_fd = -1;
        free(t.run_dir);
        free(t.bundle);
        t.run_dir = t.bundle = NULL;
        journal_close(t.journal);
        t.journal = NULL;
        cJSON_Delete(t.rec);
        if (r == -EBUSY)
            return error_set_plain(err, EBUSY, "container '%s' is already running", ref);
        return r;
    }
    /* Reload under the lock: another command may have changed it. */
    cJSON_Delete(t.rec);
    t.rec = NULL;
    r = container_store_load(e->containers, t.id, &t.rec, err);
    if (r == 0) {
        const char *state = rec_str(t.rec, "state");
        if (!state || (strcmp(state, "created") && strcmp(state, "exited")))
            r = error_set_plain(err, EBUSY, "container '%s' is %s", ref, state ? state : "unknown");
    }
    if (r == 0)
        r = run_attached(&t, ret_exit_status, err);
    txn_end(&t);
    return r;
}

/* ---- Detached containers: the monitor (core/monitor/) runs them ---------- */

static int detached_start(void *ctx, pid_t *ret_pid, int *ret_tty_fd, struct error **err)
{
    struct txn *t = ctx;
    struct container_process proc = {.pid = 0, .sync_fd = -1, .terminal_fd = -1};
    /* In the monitor, which never unpacks: it stays small. */
    image_lazy_libraries_unload();
    rec_set_int(t->rec, "monitor_pid", getpid());
    rec_set_int(t->rec, "monitor_start", (long long)process_start_time(getpid()));
    int r = do_start(t, &proc, err);
    if (r < 0) {
        if (proc.sync_fd >= 0)
            close(proc.sync_fd);
        if (proc.terminal_fd >= 0)
            close(proc.terminal_fd);
        txn_rollback(t);
        return r;
    }
    *ret_pid = proc.pid;
    *ret_tty_fd = proc.terminal_fd;
    return 0;
}

static void detached_stopped(void *ctx, int exit_status, int oom_killed, int restarting)
{
    struct txn *t = ctx;
    struct error *local = NULL;
    cJSON_DeleteItemFromObject(t->rec, "oom_killed");
    cJSON_AddBoolToObject(t->rec, "oom_killed", oom_killed != 0);
    if (!restarting)
        cJSON_DeleteItemFromObject(t->rec, "monitor_pid");
    if (stop_and_maybe_remove(t, exit_status, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    if (!restarting)
        return;
    rec_set_str(t->rec, "state", "restarting");
    rec_set_int(t->rec, "restart_count", rec_int(t->rec, "restart_count", 0) + 1);
    if (container_store_save(t->e->containers, t->rec, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
    /* The next start prepares storage, volumes and network afresh. */
    mount_list_clear(&t->mounts);
    mount_list_clear(&t->extra_mounts);
    free(t->netns);
    t->netns = NULL;
    cgroup_spec_free(t->cgroup);
    t->cgroup = NULL;
}

static void detached_gave_up(void *ctx, int exit_status)
{
    struct txn *t = ctx;
    struct error *local = NULL;
    rec_set_str(t->rec, "state", "exited");
    rec_set_int(t->rec, "exit_code", exit_status);
    rec_set_int(t->rec, "finished", now_ms());
    rec_set_int(t->rec, "pid", 0);
    cJSON_DeleteItemFromObject(t->rec, "monitor_pid");
    if (container_store_save(t->e->containers, t->rec, &local) < 0)
        log_warning("%s", local->msg);
    error_free(&local);
}

/* The memory controller's directory: "cgroup_path" is the v2 directory, or
 * on v1 an object of one directory per controller. */
static const char *detached_cgroup_path(void *ctx)
{
    struct txn *t = ctx;
    const cJSON *path = cJSON_GetObjectItem(t->rec, "cgroup_path");
    if (cJSON_IsObject(path))
        path = cJSON_GetObjectItem(path, "memory");
    return cJSON_GetStringValue(path);
}

static void detached_finish(void *ctx)
{
    txn_end(ctx);
}

/* The CLI's copy of a transaction the monitor took over: forgotten without
 * unlocking (closing our descriptor leaves the monitor's lock in place) and
 * without touching the run dir or the journal, which are the monitor's. */
static void txn_hand_over(struct txn *t)
{
    journal_close(t->journal);
    t->journal = NULL;
    free(t->run_dir);
    t->run_dir = NULL;
    txn_end(t);
}

static int spawn_monitor(struct txn *t, struct error **err)
{
    struct monitor_config cfg = {.run_dir = t->run_dir};
    char why[256];
    if (log_options_parse(rec_str(t->rec, "log_opts"), &cfg.log, why, sizeof(why)) < 0)
        return error_set_plain(err, EINVAL, "%s", why);
    if (restart_policy_parse(rec_str(t->rec, "restart_policy"), &cfg.restart) < 0)
        return error_set_plain(err, EINVAL, "invalid restart policy '%s'",
                               rec_str(t->rec, "restart_policy"));
    const cJSON *process = cJSON_GetObjectItem(t->rec, "process");
    cfg.open_stdin = cJSON_IsTrue(cJSON_GetObjectItem(process, "interactive")) &&
                     !cJSON_IsTrue(cJSON_GetObjectItem(process, "terminal"));
    _cleanup_free_ char *log_dir = xasprintf("%s/containers/%s", t->e->globals->root, t->id);
    int r = mkdir_p(log_dir, 0700, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *log_path = xasprintf("%s/json.log", log_dir);
    rec_set_str(t->rec, "log_path", log_path);
    cfg.log_path = log_path;
    struct monitor_callbacks cb = {
        .ctx = t,
        .start = detached_start,
        .stopped = detached_stopped,
        .gave_up = detached_gave_up,
        .cgroup_path = detached_cgroup_path,
        .finish = detached_finish,
    };
    return monitor_spawn(&cfg, &cb, err);
}

int container_run_detached(struct engine *e, const struct create_options *o, char **ret_id,
                           struct error **err)
{
    struct txn t;
    txn_init(&t, e);
    int r = do_create(&t, o, err);
    if (r == 0) {
        rec_set_str(t.rec, "state", "created");
        r = spawn_monitor(&t, err);
    }
    if (r < 0) {
        /* The monitor rolled its steps back; what is left (all of it if the
         * monitor never ran or died) is in the journal. */
        txn_rollback(&t);
        txn_end(&t);
        return r;
    }
    *ret_id = strdup(t.id);
    txn_hand_over(&t);
    return 0;
}

int container_start_detached(struct engine *e, const char *ref, struct error **err)
{
    struct txn t;
    txn_init(&t, e);
    int r = container_store_find(e->containers, ref, &t.rec, err);
    if (r < 0)
        return r;
    snprintf(t.id, sizeof(t.id), "%s", rec_str(t.rec, "id"));
    cJSON_Delete(t.rec);
    t.rec = NULL;
    _cleanup_free_ char *lock_p = xasprintf("%s/containers/%s.lock", e->globals->root, t.id);
    struct error *local = NULL;
    t.lock_fd = try_lock_path(lock_p, &local);
    error_free(&local);
    if (t.lock_fd == -EWOULDBLOCK) {
        t.lock_fd = -1;
        return error_set_plain(err, EBUSY, "container '%s' is already running", ref);
    }
    if (t.lock_fd < 0)
        return error_set(err, -t.lock_fd, "lock container '%s'", ref);
    /* Reload under the lock: another command may have changed it. */
    r = container_store_load(e->containers, t.id, &t.rec, err);
    if (r == 0) {
        const char *state = rec_str(t.rec, "state");
        if (!state || (strcmp(state, "created") && strcmp(state, "exited")))
            r = error_set_plain(err, EBUSY, "container '%s' is %s", ref, state ? state : "unknown");
    }
    if (r < 0) {
        txn_end(&t);
        return r;
    }
    t.run_dir = xasprintf("%s/containers/%s", e->globals->runroot, t.id);
    t.bundle = xasprintf("%s/bundle", t.run_dir);
    _cleanup_free_ char *jpath = xasprintf("%s/journal", t.run_dir);
    if ((r = mkdir_p(t.run_dir, 0700, err)) == 0 && (r = journal_open(jpath, &t.journal, err)) == 0)
        r = spawn_monitor(&t, err);
    if (r < 0) {
        txn_rollback(&t);
        txn_end(&t);
        return r;
    }
    txn_hand_over(&t);
    return 0;
}

int container_remove(struct engine *e, const char *ref, int force, struct error **err)
{
    struct txn t;
    txn_init(&t, e);
    int r = container_store_find(e->containers, ref, &t.rec, err);
    if (r < 0)
        return r;
    snprintf(t.id, sizeof(t.id), "%s", rec_str(t.rec, "id"));
    _cleanup_free_ char *lock_path_s = xasprintf("%s/containers/%s.lock", e->globals->root, t.id);
    struct error *local = NULL;
    int fd = try_lock_path(lock_path_s, &local);
    error_free(&local);
    if (fd == -EWOULDBLOCK) {
        if (!force) {
            cJSON_Delete(t.rec);
            return error_set_plain(err, EBUSY,
                                   "container '%s' is running: stop it first or use 'rm -f'", ref);
        }
        /* The owning berth sees its process die and stops the container;
         * a monitor is told first not to restart it. */
        container_tell_monitor_stop(t.rec);
        pid_t pid = (pid_t)rec_int(t.rec, "pid", 0);
        if (pid > 0) {
            container_cgroup_thaw(t.rec); /* a frozen process cannot die */
            runtime_kill_if_alive(pid, (unsigned long long)rec_int(t.rec, "pid_start", 0));
        }
        fd = lock_path(lock_path_s, err);
    }
    if (fd < 0) {
        cJSON_Delete(t.rec);
        return fd;
    }
    t.lock_fd = fd;
    cJSON_Delete(t.rec);
    t.rec = NULL;
    r = container_store_load(e->containers, t.id, &t.rec, err);
    if (r < 0) {
        unlock_fd(t.lock_fd);
        /* Removed meanwhile by its own --rm: that is what was asked. */
        return r == -ENOENT ? 0 : r;
    }
    const char *driver = rec_str(t.rec, "storage_driver");
    r = storage_find(e->plugins, driver, &t.storage, err);
    if (r == 0)
        r = storage_remove(t.storage, t.id, err);
    if (r == 0)
        r = container_store_delete(e->containers, t.id, err);
    if (r == 0) {
        container_store_release_name(e->containers, rec_str(t.rec, "name"), t.id);
        emit(&t, BERTH_EVENT_DELETED, 0, (int)rec_int(t.rec, "exit_code", -1), NULL);
    }
    t.run_dir = xasprintf("%s/containers/%s", e->globals->runroot, t.id);
    txn_end(&t);
    return r;
}

static int is_container_id(const char *s)
{
    if (strlen(s) != CONTAINER_ID_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

void lifecycle_recover(struct engine *e)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", e->globals->runroot);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return;
    /*
     * Each running container's owner is probed with a non-blocking flock on
     * its lock file (about 4 us here). Not /proc/locks: the kernel takes
     * its file-lock rwsem for writing to print it, an RCU grace period
     * (6-16 ms on this machine) on every command, stalling every flock on
     * the machine meanwhile.
     */
    _cleanup_free_ char *lock_dir = xasprintf("%s/containers", e->globals->root);
    _cleanup_close_ int lock_dfd = open(lock_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock_dfd < 0)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_container_id(de->d_name))
            continue;
        char lock_name[CONTAINER_ID_LEN + sizeof(".lock")];
        snprintf(lock_name, sizeof(lock_name), "%s.lock", de->d_name);
        int fd = try_lock_at(lock_dfd, lock_name);
        if (fd < 0)
            continue; /* its owner is alive */
        struct error *local = NULL;
        _cleanup_free_ char *run_dir = xasprintf("%s/%s", dir, de->d_name);
        _cleanup_free_ char *journal = xasprintf("%s/journal", run_dir);
        struct undo_ctx u = {.engine = e, .id = de->d_name};
        log_info("recovering container '%.12s' left by a berth that died", de->d_name);
        journal_recover(journal, undo_step, &u);
        if (rm_rf(run_dir, &local) < 0)
            log_warning("%s", local->msg);
        error_free(&local);
        /* A record that lost its owner mid-transaction is no longer running. */
        cJSON *rec = NULL;
        if (container_store_load(e->containers, de->d_name, &rec, &local) == 0) {
            const char *state = rec_str(rec, "state");
            if (state && strcmp(state, "created") && strcmp(state, "exited")) {
                struct error *ignored = NULL;
                cJSON *entry = undo_entry("mark-exited");
                undo_step(&u, entry, &ignored);
                cJSON_Delete(entry);
                error_free(&ignored);
            }
            cJSON_Delete(rec);
        }
        error_free(&local);
        unlock_fd(fd);
    }
}

static int add_container_chain_ids(struct engine *e, char ***chains, size_t *n, struct error **err)
{
    cJSON *all = NULL;
    int r = container_store_list(e->containers, &all, err);
    if (r < 0)
        return r;
    const cJSON *rec, *layer;
    cJSON_ArrayForEach(rec, all)
    {
        cJSON_ArrayForEach(layer, cJSON_GetObjectItem(rec, "layers"))
        {
            const char *chain = cJSON_GetStringValue(cJSON_GetObjectItem(layer, "chain_id"));
            if (!chain)
                continue;
            char **grown = realloc(*chains, (*n + 2) * sizeof(char *));
            if (!grown) {
                cJSON_Delete(all);
                return error_set(err, ENOMEM, "gc");
            }
            *chains = grown;
            (*chains)[(*n)++] = strdup(chain);
            (*chains)[*n] = NULL;
        }
    }
    cJSON_Delete(all);
    return 0;
}

/*
 * Records that cannot be read and have no live owner: only a power cut
 * tears a record (they are replaced by rename), and --rm containers' records
 * are written without fsync. Their storage goes with the plugins' gc below.
 */
static void gc_orphan_records(struct engine *e)
{
    _cleanup_strv_ char **ids = NULL;
    size_t n_ids = 0;
    struct error *local = NULL;
    if (container_store_ids(e->containers, &ids, &n_ids, &local) < 0) {
        error_free(&local);
        return;
    }
    for (size_t i = 0; i < n_ids; i++) {
        cJSON *rec = NULL;
        int r = container_store_load(e->containers, ids[i], &rec, &local);
        cJSON_Delete(rec);
        error_free(&local);
        if (r != -EBADMSG)
            continue;
        _cleanup_free_ char *lock_p = xasprintf("%s/containers/%s.lock", e->globals->root, ids[i]);
        int fd = try_lock_path(lock_p, &local);
        error_free(&local);
        if (fd < 0)
            continue;
        log_warning("removing the unreadable record of container '%.12s'", ids[i]);
        if (container_store_delete(e->containers, ids[i], &local) < 0)
            log_warning("%s", local->msg);
        error_free(&local);
        unlock_fd(fd);
    }
    container_store_sweep_names(e->containers);
}

int engine_gc(struct engine *e, struct error **err)
{
    gc_orphan_records(e);
    cJSON *all = NULL;
    int r = container_store_list(e->containers, &all, err);
    if (r < 0)
        return r;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, all)
    {
        const char *state = rec_str(rec, "state");
        const char *id = rec_str(rec, "id");
        if (!state || !strcmp(state, "created") || !strcmp(state, "exited"))
            continue;
        _cleanup_free_ char *lock_p = xasprintf("%s/containers/%s.lock", e->globals->root, id);
        struct error *local = NULL;
        int fd = try_lock_path(lock_p, &local);
        error_free(&local);
        if (fd < 0)
            continue;
        /* Stuck in a transitional state with no live owner (a reboot wiped
         * the run dir): exited, and gone if it was a --rm container, as
         * docker removes those when its daemon comes back. */
        struct undo_ctx u = {.engine = e, .id = id};
        int auto_remove = cJSON_IsTrue(cJSON_GetObjectItem(rec, "auto_remove"));
        cJSON *entry = undo_entry(auto_remove ? "remove-container" : "mark-exited");
        undo_step(&u, entry, &local);
        cJSON_Delete(entry);
        if (local)
            log_warning("%s", local->msg);
        error_free(&local);
        unlock_fd(fd);
    }
    cJSON_Delete(all);

    _cleanup_strv_ char **ids = NULL;
    size_t n_ids = 0;
    if ((r = container_store_ids(e->containers, &ids, &n_ids, err)) < 0)
        return r;
    _cleanup_strv_ char **chains = NULL;
    size_t n_chains = 0;
    if ((r = image_store_all_chain_ids(e->images, &chains, &n_chains, err)) < 0)
        return r;
    /* A container outlives its image after 'image rm -f': its layers stay. */
    if ((r = add_container_chain_ids(e, &chains, &n_chains, err)) < 0)
        return r;
    _cleanup_strv_ char **networks = NULL;
    size_t n_networks = 0;
    if ((r = network_names(e, &networks, &n_networks, err)) < 0)
        return r;
    int failed = 0;
    plugin_registry_require(e->plugins, 0);
    for (size_t i = 0; i < e->plugins->n_plugins; i++) {
        struct error *local = NULL;
        struct plugin *p = e->plugins->plugins[i];
        char **objects = NULL;
        size_t n_objects = 0;
        if (p->desc->kind == BERTH_KIND_NETWORK) {
            objects = networks;
            n_objects = n_networks;
        }
        /* Volumes: volume_gc names the driver's volumes under the volume store's lock. */
        int r_gc = p->desc->kind == BERTH_KIND_VOLUME
                       ? volume_gc(e, p, ids, n_ids, &local)
                       : plugin_gc(p, ids, n_ids, chains, n_chains, objects, n_objects, &local);
        if (r_gc < 0) {
            /* The first failure is the command's one-line error; later ones are logged. */
            if (!failed) {
                error_free(err);
                *err = local;
                local = NULL;
            } else {
                log_error("%s", local->msg);
            }
            failed++;
        }
        error_free(&local);
    }
    return failed ? error_code(*err) : 0;
}
