#include "plugin/plugin-host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/layer-pack.h"
#include "image/layer-unpack.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "util/lock.h"
#include "util/log.h"

static void host_log(struct berth_host *host, int level, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (level < BERTH_LOG_ERROR)
        level = BERTH_LOG_ERROR;
    if (level > BERTH_LOG_DEBUG)
        level = BERTH_LOG_DEBUG;
    log_msg((enum log_level)level, "plugin '%s': %s", host ? host->plugin_name : "?", line);
}

static void host_set_error(struct berth_error *perr, int errnum, const char *fmt, ...)
{
    if (!perr)
        return;
    va_list ap;
    va_start(ap, fmt);
    error_free(&perr->error);
    error_setv(&perr->error, errnum < 0 ? -errnum : errnum, fmt, ap);
    va_end(ap);
}

static int lock_name_is_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 200 || name[0] == '.')
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int host_lock(struct berth_host *host, const char *name, int *ret_token)
{
    if (!host || !lock_name_is_valid(name) || !ret_token)
        return -EINVAL;
    _cleanup_free_ char *path = xasprintf("%s/.locks/%s", host->state_dir, name);
    struct error *e = NULL;
    int fd = lock_path(path, &e);
    if (fd < 0) {
        log_warning("plugin '%s': %s", host->plugin_name, e ? e->msg : "lock failed");
        error_free(&e);
        return fd;
    }
    *ret_token = fd;
    return 0;
}

static void host_unlock(struct berth_host *host, int token)
{
    (void)host;
    unlock_fd(token);
}

static int host_unpack_layer(struct berth_host *host, const char *tar_path, const char *dest_dir,
                             uint32_t whiteout_mode, struct berth_error *perr)
{
    (void)host;
    if (whiteout_mode != BERTH_WHITEOUT_CHARDEV && whiteout_mode != BERTH_WHITEOUT_APPLY) {
        host_set_error(perr, EINVAL, "unpack layer: unknown whiteout mode %u", whiteout_mode);
        return -EINVAL;
    }
    struct error *e = NULL;
    int r = layer_unpack(tar_path, dest_dir, whiteout_mode, &e);
    if (r < 0 && perr) {
        error_free(&perr->error);
        perr->error = e;
        return r;
    }
    error_free(&e);
    return r;
}

static int host_pack_layer(struct berth_host *host, const char *dir, const char *tar_path,
                           uint32_t whiteout_mode, struct berth_error *perr)
{
    if (whiteout_mode != BERTH_WHITEOUT_NONE && whiteout_mode != BERTH_WHITEOUT_CHARDEV) {
        host_set_error(perr, EINVAL, "pack layer: unknown whiteout mode %u", whiteout_mode);
        return -EINVAL;
    }
    if (!dir || !tar_path) {
        host_set_error(perr, EINVAL, "pack layer: no directory or tar path");
        return -EINVAL;
    }
    struct error *e = NULL;
    int r = layer_pack(dir, tar_path, whiteout_mode, host ? host->pack_owners : NULL, NULL, &e);
    if (r < 0 && perr) {
        error_free(&perr->error);
        perr->error = e;
        return r;
    }
    error_free(&e);
    return r;
}

int plugin_host_new(const char *name, const char *state_root, const char *run_dir,
                    struct berth_services *services, struct berth_host **ret, struct error **err)
{
    struct berth_host *h = calloc(1, sizeof(*h));
    if (!h)
        return error_set(err, ENOMEM, "plugin '%s'", name);
    h->plugin_name = strdup(name);
    h->state_dir = xasprintf("%s/%s", state_root, name);
    h->run_dir = strdup(run_dir);
    h->config_json = strdup("{}");
    _cleanup_free_ char *locks = xasprintf("%s/.locks", h->state_dir);
    int r = mkdir_p(locks, 0700, err);
    if (r < 0) {
        plugin_host_free(h);
        return r;
    }
    chmod(h->state_dir, 0700);
    memset(services, 0, sizeof(*services));
    services->size = sizeof(*services);
    services->host = h;
    services->state_dir = h->state_dir;
    services->run_dir = h->run_dir;
    services->config_json = h->config_json;
    services->log = host_log;
    services->set_error = host_set_error;
    services->lock = host_lock;
    services->unlock = host_unlock;
    services->unpack_layer = host_unpack_layer;
    services->pack_layer = host_pack_layer;
    *ret = h;
    return 0;
}

void plugin_host_free(struct berth_host *host)
{
    if (!host)
        return;
    free(host->plugin_name);
    free(host->state_dir);
    free(host->run_dir);
    free(host->config_json);
    free(host);
}

int plugin_call_result(int r, struct berth_error *perr, const char *what, struct error **err)
{
    if (r >= 0) {
        error_free(&perr->error);
        return r;
    }
    if (perr->error) {
        error_free(err);
        *err = perr->error;
        perr->error = NULL;
        return *what ? error_prefix(err, "%s", what) : error_code(*err);
    }
    return error_set(err, -r, "%s", *what ? what : "failed");
}
