/* SPDX-License-Identifier: MIT */
/*
 * abi10-storage: an overlay storage driver built against the frozen ABI 1.0
 * headers (tests/abi/): its operations table is 1.0's (no diff, no
 * snapshots). It must keep loading, passing the storage suite and running
 * containers with every later berth 1.x.
 *
 *   STATE_DIR/layers/HEX           one unpacked layer (overlay whiteouts)
 *   STATE_DIR/layers/.tmp-XXXXXX   a layer being unpacked
 *   STATE_DIR/containers/ID/{upper,work}
 *   STATE_DIR/empty                the lower dir of an image without layers
 */
#include <stdlib.h>

#include <berth/storage.h>

#include "abi10-util.h"

static const struct berth_services *svc;

static int st_init(const struct berth_services *services, void **ret_state)
{
    svc = services;
    *ret_state = NULL;
    char dir[1024];
    const char *subs[] = {"layers", "containers", "empty"};
    for (int i = 0; i < 3; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", svc->state_dir, subs[i]);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return -errno;
    }
    return 0;
}

static void st_fini(void *state)
{
    (void)state;
}

/* STATE_DIR/layers/HEX of "ALGO:HEX"; 0 or -EINVAL. */
static int layer_dir(const char *chain_id, char *out, size_t len)
{
    const char *hex = chain_id ? strchr(chain_id, ':') : NULL;
    if (!hex || !abi10_name_ok(hex + 1))
        return -EINVAL;
    snprintf(out, len, "%s/layers/%s", svc->state_dir, hex + 1);
    return 0;
}

static int st_has_layer(void *state, const struct berth_layer_ref *req, void *res,
                        struct berth_error *err)
{
    (void)state, (void)res;
    char dir[1024];
    if (layer_dir(req->chain_id, dir, sizeof(dir)) < 0) {
        svc->set_error(err, EINVAL, "invalid chain id");
        return -EINVAL;
    }
    return access(dir, F_OK) == 0;
}

static int st_add_layer(void *state, const struct berth_layer_request *req, void *res,
                        struct berth_error *err)
{
    (void)state, (void)res;
    char dir[1024], parent[1024], tmp[1024];
    if (layer_dir(req->layer.chain_id, dir, sizeof(dir)) < 0) {
        svc->set_error(err, EINVAL, "invalid chain id");
        return -EINVAL;
    }
    if (access(dir, F_OK) == 0)
        return 0;
    if (req->layer.parent_chain_id &&
        (layer_dir(req->layer.parent_chain_id, parent, sizeof(parent)) < 0 ||
         access(parent, F_OK) < 0)) {
        svc->set_error(err, ENOENT, "parent layer '%s' is not present", req->layer.parent_chain_id);
        return -ENOENT;
    }
    snprintf(tmp, sizeof(tmp), "%s/layers/.tmp-XXXXXX", svc->state_dir);
    if (!mkdtemp(tmp))
        return -errno;
    int r = svc->unpack_layer(svc->host, req->tar_path, tmp, BERTH_WHITEOUT_CHARDEV, err);
    if (r == 0 && rename(tmp, dir) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
        r = -errno;
        svc->set_error(err, errno, "rename the layer into place");
    }
    abi10_rm_rf(tmp);
    return r;
}

static int st_remove_layer(void *state, const struct berth_layer_ref *req, void *res,
                           struct berth_error *err)
{
    (void)state, (void)res, (void)err;
    char dir[1024];
    if (layer_dir(req->chain_id, dir, sizeof(dir)) < 0)
        return -EINVAL;
    return abi10_rm_rf(dir);
}

static int st_prepare(void *state, const struct berth_storage_prepare_request *req,
                      struct berth_storage_prepare_result *res, struct berth_error *err)
{
    (void)state;
    if (!abi10_name_ok(req->container_id)) {
        svc->set_error(err, EINVAL, "invalid container id");
        return -EINVAL;
    }
    static char lower[16384];
    size_t used = 0;
    lower[0] = '\0';
    for (uint32_t i = req->n_layers; i > 0; i--) {
        char dir[1024];
        if (layer_dir(req->layers[i - 1].chain_id, dir, sizeof(dir)) < 0 || access(dir, F_OK) < 0) {
            svc->set_error(err, ENOENT, "layer '%s' is not present", req->layers[i - 1].chain_id);
            return -ENOENT;
        }
        used += (size_t)snprintf(lower + used, sizeof(lower) - used, "%s%s", used ? ":" : "", dir);
    }
    if (!used)
        snprintf(lower, sizeof(lower), "%s/empty", svc->state_dir);
    char top[1024], upper[1100], work[1100];
    snprintf(top, sizeof(top), "%s/containers/%s", svc->state_dir, req->container_id);
    snprintf(upper, sizeof(upper), "%s/upper", top);
    snprintf(work, sizeof(work), "%s/work", top);
    if ((mkdir(top, 0700) < 0 && errno != EEXIST) || (mkdir(upper, 0755) < 0 && errno != EEXIST) ||
        (mkdir(work, 0700) < 0 && errno != EEXIST)) {
        svc->set_error(err, errno, "make the layer of '%s'", req->container_id);
        return -errno;
    }
    static char options[20000];
    snprintf(options, sizeof(options), "lowerdir=%s,upperdir=%s,workdir=%s%s", lower, upper, work,
             req->read_only ? ",ro" : "");
    struct berth_mount m = {.size = sizeof(m),
                            .type = "overlay",
                            .source = "overlay",
                            .target = "/",
                            .options = options};
    return res->add_mount(res->host_ctx, &m);
}

static int st_release(void *state, const struct berth_storage_container_request *req, void *res,
                      struct berth_error *err)
{
    (void)state, (void)req, (void)res, (void)err;
    return 0;
}

static int st_remove(void *state, const struct berth_storage_container_request *req, void *res,
                     struct berth_error *err)
{
    (void)state, (void)res;
    if (!abi10_name_ok(req->container_id)) {
        svc->set_error(err, EINVAL, "invalid container id");
        return -EINVAL;
    }
    char top[1024];
    snprintf(top, sizeof(top), "%s/containers/%s", svc->state_dir, req->container_id);
    return abi10_rm_rf(top);
}

static void gc_dir(const char *sub, const char *prefix, const char *const *keep, uint32_t n)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/%s", svc->state_dir, sub);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char id[300];
        snprintf(id, sizeof(id), "%s%s", prefix, de->d_name);
        if (de->d_name[0] != '.' && abi10_listed(keep, n, id))
            continue;
        char path[1400];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        abi10_rm_rf(path);
    }
    if (d)
        closedir(d);
}

static int st_gc(void *state, const struct berth_gc_request *req, void *res,
                 struct berth_error *err)
{
    (void)state, (void)res, (void)err;
    gc_dir("containers", "", req->container_ids, req->n_container_ids);
    gc_dir("layers", "sha256:", req->layer_ids, req->n_layer_ids);
    return 0;
}

static int st_info(void *state, const void *req, struct berth_text_result *res,
                   struct berth_error *err)
{
    (void)state, (void)req, (void)err;
    return res->put(res->host_ctx, "{\"backing\": \"overlay\"}");
}

static const struct berth_storage_ops st_ops = {
    .size = sizeof(struct berth_storage_ops),
    .has_layer = st_has_layer,
    .add_layer = st_add_layer,
    .remove_layer = st_remove_layer,
    .prepare = st_prepare,
    .release = st_release,
    .remove = st_remove,
    .gc = st_gc,
    .info = st_info,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_STORAGE, "abi10-storage", "1.0",
                    "ABI 1.0 fixture: overlay containers", 0, st_init, st_fini, &st_ops)
