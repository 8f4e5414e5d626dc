/*
 * The files someone holds a lock on, from /proc/locks: one read instead of
 * an open, flock(LOCK_NB) and close per file. Crash recovery uses it to skip
 * the lock probe of every container whose owner is plainly alive, so that a
 * command's start does not cost more the more containers run.
 *
 * Only a filter: a file found here is locked at the moment of the read (as
 * the probe would have found it); one not found is probed for real.
 */
#ifndef BERTH_UTIL_HELD_LOCKS_H
#define BERTH_UTIL_HELD_LOCKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct held_locks {
    uint64_t *inodes; /* sorted */
    size_t n;
};

/*
 * Collects from TEXT (the contents of /proc/locks) the inodes of device DEV
 * that hold a granted lock; waiters ("->" lines) are not locks. Lines that
 * do not parse are skipped. 0, or -ENOMEM.
 */
int held_locks_parse(const char *text, dev_t dev, struct held_locks *ret);
/* held_locks_parse of /proc/locks; a negative errno when it cannot be read. */
int held_locks_load(dev_t dev, struct held_locks *ret);
/* 1 when INODE is in L. */
int held_locks_has(const struct held_locks *l, uint64_t inode);
void held_locks_free(struct held_locks *l);

/*
 * The files of DIR named NAME + SUFFIX that someone holds a lock on, as a
 * sorted array of NAMEs (NULL-terminated, for _cleanup_strv_): one read of /proc/locks and
 * a readdir of DIR, whatever the number of files. When the inode numbers
 * the directory reports cannot be trusted (checked on one file) or
 * /proc/locks cannot be read, a negative errno: the caller probes each file.
 */
int held_locks_names(const char *dir, const char *suffix, char ***ret, size_t *ret_n);
/* 1 when NAME is in the sorted array NAMES. */
int held_locks_names_has(char *const *names, size_t n, const char *name);

#endif
