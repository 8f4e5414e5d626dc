/* Small file system helpers that depend on nothing but libc. */
#ifndef BERTH_FS_UTIL_H
#define BERTH_FS_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* mkdir -p with MODE for every directory made. */
int mkdir_p(const char *path, mode_t mode, struct error **err);
/*
 * Removes PATH and everything below it. Never follows symlinks and never
 * crosses into another mount. A missing PATH is success.
 */
int rm_rf(const char *path, struct error **err);
/* Writes DATA to PATH through a temporary file, fsync and rename. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct error **err);
/*
 * The same, with WRITE_NO_SYNC: no fsync, for files that are worthless after
 * a power cut (run-dir caches, the records of --rm containers). Readers
 * still see the old or the new file whole; only durability is given up.
 */
#define WRITE_NO_SYNC 1
int write_file_atomic_flags(const char *path, const void *data, size_t len, mode_t mode, int flags,
                            struct error **err);
/* Reads the whole file into a NUL-terminated buffer the caller frees. */
int read_file(const char *path, char **ret_data, size_t *ret_len, struct error **err);
/* Returns 1 if PATH exists (lstat), 0 if not. */
int path_exists(const char *path);
/* asprintf that aborts on out-of-memory; returns the new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fsyncs the directory holding PATH. */
int fsync_parent(const char *path);

#endif
