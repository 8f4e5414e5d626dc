/* Advisory whole-file locks (flock) on lock files. */
#ifndef BERTH_LOCK_H
#define BERTH_LOCK_H

#include "error.h"

/* Opens (creating) PATH and takes an exclusive flock, waiting for it.
 * Returns the descriptor holding the lock, or a negative errno. */
int lock_path(const char *path, struct error **err);
/* Like lock_path but returns -EWOULDBLOCK at once if another holds it. */
int try_lock_path(const char *path, struct error **err);
/* try_lock_path for NAME in the directory DIR_FD, without an error object:
 * the descriptor, -EWOULDBLOCK if another holds it, or another -errno. */
int try_lock_at(int dir_fd, const char *name);
/* Makes a new directory PARENT/PREFIX-XXXXXX and flocks it, so that a
 * sweep of PARENT can tell a live writer's directory (locked) from a crashed
 * one's. Returns the descriptor holding the lock and sets *RET_PATH (the
 * caller's to free), or a negative errno with nothing left behind. */
int mkdtemp_locked(const char *parent, const char *prefix, char **ret_path, struct error **err);
/* Removes what mkdtemp_locked made (PATH and all below it, ignoring
 * errors), frees PATH and closes FD, dropping the lock; accepts NULL and -1. */
void rmdir_locked(char *path, int fd);
/* Releases a lock returned by lock_path; accepts -1. */
void unlock_fd(int fd);

#endif
