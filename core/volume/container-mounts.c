/* Placeholder until volumes land: a container with no mount specs. */
#include <errno.h>

#include "lifecycle/container-mounts.h"

int container_mounts_create(struct engine *e, cJSON *rec, const struct create_options *o,
                            struct error **err)
{
    (void)e;
    (void)rec;
    if ((o->volumes && o->volumes[0]) || (o->mount_specs && o->mount_specs[0]) ||
        (o->tmpfs && o->tmpfs[0]))
        return error_set_plain(err, ENOTSUP, "volumes and mounts are not supported yet");
    return 0;
}

int container_mounts_attach(struct engine *e, const char *id, const cJSON *rec,
                            struct mount_list *ret, struct error **err)
{
    (void)e;
    (void)id;
    (void)rec;
    (void)ret;
    (void)err;
    return 0;
}

int container_mounts_detach(struct engine *e, const char *id, const cJSON *rec, struct error **err)
{
    (void)e;
    (void)id;
    (void)rec;
    (void)err;
    return 0;
}
