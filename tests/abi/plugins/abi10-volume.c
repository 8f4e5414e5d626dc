/* SPDX-License-Identifier: MIT */
/* abi10-volume: a directory volume driver built against the frozen ABI 1.0
 * headers (tests/abi/): STATE_DIR/NAME, bind-mounted. It must keep loading
 * and passing the volume suite with every later berth 1.x. */
#include <stdlib.h>

#include <berth/volume.h>

#include "abi10-util.h"

static const struct berth_services *svc;

static int vol_init(const struct berth_services *services, void **ret_state)
{
    svc = services;
    *ret_state = NULL;
    return 0;
}

static void vol_fini(void *state)
{
    (void)state;
}

static int check_name(const char *name, struct berth_error *err)
{
    if (abi10_name_ok(name))
        return 0;
    svc->set_error(err, EINVAL, "invalid volume name '%s'", name ? name : "");
    return -EINVAL;
}

static int vol_create(void *state, const struct berth_volume_request *req, void *res,
                      struct berth_error *err)
{
    (void)state, (void)res;
    int r = check_name(req->volume_name, err);
    if (r < 0)
        return r;
    /* No options: only an empty JSON object is accepted. */
    const char *o = req->options_json ? req->options_json : "{}";
    while (*o == ' ')
        o++;
    if (*o != '{') {
        svc->set_error(err, EINVAL, "options are not a JSON object");
        return -EINVAL;
    }
    for (o++; *o == ' ' || *o == '\n'; o++)
        ;
    if (*o != '}') {
        svc->set_error(err, EINVAL, "abi10-volume takes no options");
        return -EINVAL;
    }
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/%s", svc->state_dir, req->volume_name);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        svc->set_error(err, errno, "mkdir '%s'", dir);
        return -errno;
    }
    return 0;
}

static int vol_remove(void *state, const struct berth_volume_request *req, void *res,
                      struct berth_error *err)
{
    (void)state, (void)res;
    int r = check_name(req->volume_name, err);
    if (r < 0)
        return r;
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/%s", svc->state_dir, req->volume_name);
    return abi10_rm_rf(dir);
}

static int vol_mount(void *state, const struct berth_volume_request *req,
                     struct berth_storage_prepare_result *res, struct berth_error *err)
{
    (void)state;
    int r = check_name(req->volume_name, err);
    if (r < 0)
        return r;
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/%s", svc->state_dir, req->volume_name);
    if (access(dir, F_OK) < 0) {
        svc->set_error(err, ENOENT, "no such volume '%s'", req->volume_name);
        return -ENOENT;
    }
    struct berth_mount m = {.size = sizeof(m),
                            .type = "bind",
                            .source = dir,
                            .target = req->target,
                            .options = req->read_only ? "rbind,ro" : "rbind"};
    return res->add_mount(res->host_ctx, &m);
}

static int vol_unmount(void *state, const struct berth_volume_request *req, void *res,
                       struct berth_error *err)
{
    (void)state, (void)req, (void)res, (void)err;
    return 0;
}

static int vol_inspect(void *state, const struct berth_volume_request *req,
                       struct berth_text_result *res, struct berth_error *err)
{
    (void)state, (void)err;
    char text[1200];
    snprintf(text, sizeof(text), "{\"mountpoint\": \"%s/%s\"}", svc->state_dir, req->volume_name);
    return res->put(res->host_ctx, text);
}

static int vol_gc(void *state, const struct berth_gc_request *req, void *res,
                  struct berth_error *err)
{
    (void)state, (void)res, (void)err;
    if (!req->object_ids)
        return 0;
    DIR *d = opendir(svc->state_dir);
    if (!d)
        return -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || abi10_listed(req->object_ids, req->n_object_ids, de->d_name))
            continue;
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/%s", svc->state_dir, de->d_name);
        abi10_rm_rf(dir);
    }
    closedir(d);
    return 0;
}

static const struct berth_volume_ops vol_ops = {
    .size = sizeof(struct berth_volume_ops),
    .create = vol_create,
    .remove = vol_remove,
    .mount = vol_mount,
    .unmount = vol_unmount,
    .inspect = vol_inspect,
    .gc = vol_gc,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_VOLUME, "abi10-volume", "1.0", "ABI 1.0 fixture: directory volumes",
                    0, vol_init, vol_fini, &vol_ops)
