#include "lifecycle/undo.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

#include "lifecycle/container-cgroup.h"
#include "lifecycle/container-mounts.h"
#include "lifecycle/container-network.h"
#include "lifecycle/plugin-calls.h"
#include "runtime/runtime.h"
#include "store/container-store.h"
#include "util/fs-util.h"

cJSON *undo_entry(const char *kind)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "undo", kind);
    return e;
}

static const char *field(const cJSON *entry, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(entry, key));
}

static int remove_container(struct engine *e, const char *id, struct error **err)
{
    cJSON *rec = NULL;
    struct error *local = NULL;
    if (container_store_load(e->containers, id, &rec, &local) < 0) {
        error_free(&local);
        return 0;
    }
    const char *driver = rec_str(rec, "storage_driver");
    struct plugin *p = NULL;
    int r = 0;
    if (driver && (r = storage_find(e->plugins, driver, &p, err)) == 0)
        r = storage_remove(p, id, err);
    if (r == 0)
        r = container_store_delete(e->containers, id, err);
    if (r == 0)
        container_store_release_name(e->containers, rec_str(rec, "name"), id);
    cJSON_Delete(rec);
    return r;
}

static int mark_exited(struct engine *e, const char *id, struct error **err)
{
    cJSON *rec = NULL;
    struct error *local = NULL;
    if (container_store_load(e->containers, id, &rec, &local) < 0) {
        error_free(&local);
        return 0;
    }
    const char *state = rec_str(rec, "state");
    int r = 0;
    if (!state || strcmp(state, "exited")) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        rec_set_str(rec, "state", "exited");
        if (rec_int(rec, "exit_code", -1) < 0)
            rec_set_int(rec, "exit_code", 255); /* unknown: the owner died, as docker reports */
        rec_set_int(rec, "finished", (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
        rec_set_int(rec, "pid", 0);
        r = container_store_save(e->containers, rec, err);
    }
    cJSON_Delete(rec);
    return r;
}

int undo_step(void *ctx, const cJSON *entry, struct error **err)
{
    struct undo_ctx *u = ctx;
    struct engine *e = u->engine;
    const char *kind = field(entry, "undo");
    if (!kind)
        return error_set_plain(err, EBADMSG, "journal entry without 'undo'");
    if (!strcmp(kind, "release-name")) {
        container_store_release_name(e->containers, field(entry, "name"), u->id);
        return 0;
    }
    if (!strcmp(kind, "delete-record"))
        return container_store_delete(e->containers, u->id, err);
    if (!strcmp(kind, "storage-remove") || !strcmp(kind, "storage-release")) {
        struct plugin *p = NULL;
        int r = storage_find(e->plugins, field(entry, "driver"), &p, err);
        if (r < 0)
            return r;
        return !strcmp(kind, "storage-remove") ? storage_remove(p, u->id, err)
                                               : storage_release(p, u->id, err);
    }
    if (!strcmp(kind, "remove-bundle")) {
        const char *path = field(entry, "path");
        return path ? rm_rf(path, err) : 0;
    }
    if (!strcmp(kind, "kill")) {
        const cJSON *pid = cJSON_GetObjectItem(entry, "pid");
        const cJSON *start = cJSON_GetObjectItem(entry, "start");
        if (cJSON_IsNumber(pid) && cJSON_IsNumber(start))
            runtime_kill_if_alive((pid_t)pid->valuedouble, (unsigned long long)start->valuedouble);
        return 0;
    }
    if (!strcmp(kind, "volumes-detach") || !strcmp(kind, "network-leave")) {
        cJSON *rec = NULL;
        struct error *local = NULL;
        if (container_store_load(e->containers, u->id, &rec, &local) < 0) {
            error_free(&local);
            return 0; /* no record: nothing was attached */
        }
        int r = !strcmp(kind, "volumes-detach") ? container_mounts_detach(e, u->id, rec, err)
                                                : container_network_leave(e, u->id, rec, err);
        cJSON_Delete(rec);
        return r;
    }
    if (!strcmp(kind, "cgroup-remove"))
        return container_cgroup_remove_entry(entry, err);
    if (!strcmp(kind, "mark-exited"))
        return mark_exited(e, u->id, err);
    if (!strcmp(kind, "remove-container"))
        return remove_container(e, u->id, err);
    return error_set_plain(err, EBADMSG, "unknown undo '%s'", kind);
}
