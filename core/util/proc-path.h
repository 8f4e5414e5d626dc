/* /proc/PID paths for the pids of this process's pid namespace. */
#ifndef BERTH_PROC_PATH_H
#define BERTH_PROC_PATH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * "/proc/N/FILE" into BUF, N being PID as the /proc mounted here numbers it.
 * That is PID itself, unless /proc is an outer pid namespace's (berth run in
 * `unshare --pid --fork` without --mount-proc), where the same number is
 * another process: then N comes from a pidfd of PID, whose fdinfo shows it
 * in that /proc's numbering. Returns 0, -ESRCH (PID is gone or /proc does
 * not show it), -ENAMETOOLONG, or another -errno.
 */
int proc_pid_path(pid_t pid, const char *file, char *buf, size_t len);

#endif
