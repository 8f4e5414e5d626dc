#include "cli/plugin-enable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config/config-file.h"
#include "lifecycle/engine.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

/* Serialises concurrent edits: an flock on the file's directory, which
 * leaves nothing behind. Returns the descriptor or -errno. */
static int lock_config_dir(const char *file, struct error **err)
{
    _cleanup_free_ char *dir = strdup(file);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (!slash)
        return error_set_plain(err, EINVAL, "'%s': the configuration file needs a directory", file);
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    int r = mkdir_p(dir, 0755, err);
    if (r < 0)
        return r;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "open '%s'", dir);
    if (flock(fd, LOCK_EX) < 0) {
        int e = errno;
        close(fd);
        return error_set(err, e, "lock '%s'", dir);
    }
    return fd;
}

static int edit(const char *file, const char *name, int enable, struct error **err)
{
    _cleanup_close_ int fd = lock_config_dir(file, err);
    if (fd < 0)
        return fd;
    cJSON *config = NULL;
    int r;
    if (path_exists(file))
        r = config_load(file, &config, err);
    else
        r = (config = cJSON_CreateObject()) ? 0 : error_set(err, ENOMEM, "edit '%s'", file);
    if (r < 0)
        return r;
    cJSON *plugins = cJSON_GetObjectItemCaseSensitive(config, "plugins");
    if (!plugins)
        plugins = cJSON_AddObjectToObject(config, "plugins");
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(plugins, name);
    if (entry && !cJSON_IsObject(entry)) {
        cJSON_Delete(config);
        return error_set_plain(err, EINVAL, "'%s': plugins.%s: must be an object", file, name);
    }
    if (!entry)
        entry = cJSON_AddObjectToObject(plugins, name);
    cJSON *flag = cJSON_CreateBool(enable);
    if (cJSON_GetObjectItemCaseSensitive(entry, "enabled"))
        cJSON_ReplaceItemInObjectCaseSensitive(entry, "enabled", flag);
    else
        cJSON_AddItemToObject(entry, "enabled", flag);
    r = config_save(file, config, err);
    cJSON_Delete(config);
    return r;
}

int plugin_set_enabled(struct cli_globals *g, const char *name, int enable)
{
    const char *verb = enable ? "plugin enable" : "plugin disable";
    struct engine *e = NULL;
    struct error *err _cleanup_error_ = NULL;
    if (engine_open(g, &e, &err) < 0)
        return cli_report(verb, err);
    int known = plugin_registry_find(e->plugins, 0, name) ||
                plugin_registry_find_disabled(e->plugins, name);
    engine_free(e);
    if (!known)
        return cli_usage_error(
            verb, "no plugin named '%s' in the plugin path (see 'berth plugin ls')", name);
    if (edit(g->config_file, name, enable, &err) < 0)
        return cli_report(verb, err);
    printf("%s\n", name);
    return 0;
}
