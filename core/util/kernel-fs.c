/* Kernel pseudo file systems (kernel-fs.h). */
#include "util/kernel-fs.h"

#include <linux/magic.h>
#include <sys/vfs.h>

#include "util/cleanup.h"

/* Not in every linux/magic.h. */
#define MQUEUE_FS_MAGIC 0x19800202L
#define CONFIGFS_FS_MAGIC 0x62656570L
#define FUSECTL_FS_MAGIC 0x65735543L

int kernel_fs_type(long f_type)
{
    static const long types[] = {
        PROC_SUPER_MAGIC,   SYSFS_MAGIC,     CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
        DEVPTS_SUPER_MAGIC, MQUEUE_FS_MAGIC, DEBUGFS_MAGIC,      TRACEFS_MAGIC,
        SECURITYFS_MAGIC,   SELINUX_MAGIC,   BPF_FS_MAGIC,       PSTOREFS_MAGIC,
        EFIVARFS_MAGIC,     BINFMTFS_MAGIC,  NSFS_MAGIC,         CONFIGFS_FS_MAGIC,
        FUSECTL_FS_MAGIC,
    };
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if ((f_type & 0xffffffffL) == (types[i] & 0xffffffffL))
            return 1;
    return 0;
}

int fd_on_kernel_fs(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && kernel_fs_type((long)sf.f_type);
}
