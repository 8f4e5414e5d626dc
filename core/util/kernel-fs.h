/*
 * The kernel's pseudo file systems (proc, sysfs, cgroup, devpts…): files
 * that are views of kernel state, not content. berth cp neither copies
 * from nor writes into them, as docker cp, which copies a container's
 * root and volumes, never sees them.
 */
#ifndef BERTH_KERNEL_FS_H
#define BERTH_KERNEL_FS_H

/* Pure: whether F_TYPE (statfs) is one of them. */
int kernel_fs_type(long f_type);
/* Whether the file system of FD is one of them (0 when fstatfs fails). */
int fd_on_kernel_fs(int fd);

#endif
