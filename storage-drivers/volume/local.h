/* SPDX-License-Identifier: MIT */
/*
 * The "local" volume driver's private declarations. Only this driver's files
 * include it; like any plugin it sees nothing of berth but <berth/…>.
 *
 * State directory layout (services->state_dir):
 *
 *   volumes/NAME/_data           the volume's content, bind-mounted by the runtime
 *   volumes/NAME/meta            "created=MS\nsize=BYTES\nprojid=N\n" and the options
 *   volumes/NAME/users/ID        one empty file per container that mounts it
 *   volumes/.tmp-NAME-XXXXXX     a volume being created (renamed into place)
 *   volumes/.trash-XXXXXX        a volume being deleted (renamed out of place)
 *   next-projid                  the next project quota id to hand out
 */
#ifndef LOCAL_VOLUME_H
#define LOCAL_VOLUME_H

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <berth/fsutil.h>
#include <berth/volume.h>

struct local {
    const struct berth_services *services;
    int state_fd;   /* the state dir */
    int volumes_fd; /* state_dir/volumes */
};

/* Cleanup attributes: the SDK has none and plugins may not use the core's. */
static inline void freep(void *p)
{
    free(*(void **)p);
}
static inline void closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
static inline void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))

/* local-util.c */

/* A volume name as docker takes it: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128
 * bytes, no "..". Also what a container id must look like ([A-Za-z0-9]). */
int volume_name_valid(const char *name);
int container_id_valid(const char *id);

/* One "key": "value" pair of a flat JSON object of strings. */
struct kv {
    char *key;
    char *value;
};
/* Parses a flat JSON object whose values are strings ("{}" gives none).
 * Returns the number of pairs (*RET: caller frees with kv_free) or -EINVAL. */
int kv_parse_json(const char *json, struct kv **ret);
void kv_free(struct kv *kv, int n);

/* Appends TEXT to the growing buffer *BUF as a JSON string, quoted and escaped. */
int json_put_string(char **buf, size_t *len, const char *text);
/* Appends printf output to *BUF. */
int buf_printf(char **buf, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "10m", "1G", "512KiB", "4096" -> bytes (1024-based, as docker). -EINVAL if bad. */
int parse_size(const char *text, uint64_t *ret);

/* local-quota.c */

/*
 * Whether the filesystem holding DIR_FD enforces project quotas: 1 yes, 0 no
 * (not supported, or accounting without enforcement), -errno on failure.
 */
int project_quota_enforced(int dir_fd);
/* Gives DIR_FD project id PROJID (inherited by everything made below it) and
 * a hard block limit of BYTES on that project. */
int project_quota_set(int dir_fd, uint32_t projid, uint64_t bytes);
/* Drops the limit of PROJID on DIR_FD's filesystem (0 = no limit). */
int project_quota_clear(int dir_fd, uint32_t projid);

#endif
