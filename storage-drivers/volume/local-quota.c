/* SPDX-License-Identifier: MIT */
/*
 * Size limits of volumes with project quotas (ext4 with the "quota" and
 * "project" features mounted with prjquota, or xfs mounted with prjquota):
 * the volume's directory gets its own project id, inherited by everything
 * created below it, and that project a hard block limit. The driver never
 * mounts anything on the host, so a loop-mounted image per volume is not an
 * option; where the filesystem cannot enforce a limit, create refuses size=.
 *
 * quotactl_fd (Linux 5.14) addresses the filesystem by a descriptor, so the
 * driver needs no block device path.
 */
#include <errno.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/quota.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "local.h"

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

static int quotactl_fd(int fd, unsigned cmd, uint32_t id, void *addr)
{
    return (int)syscall(SYS_quotactl_fd, fd, QCMD(cmd, PRJQUOTA), id, addr);
}

int project_quota_enforced(int dir_fd)
{
    struct fs_quota_statv st;
    memset(&st, 0, sizeof(st));
    st.qs_version = FS_QSTATV_VERSION1;
    if (quotactl_fd(dir_fd, Q_XGETQSTATV, 0, &st) < 0) {
        /* No quota support, project quotas off, or an old kernel. (On
         * Linux EOPNOTSUPP is ENOTSUP: one test covers both.) */
        if (errno == ENOSYS || errno == ENOTSUP || errno == ESRCH || errno == EINVAL ||
            errno == ENOENT || errno == ENOTTY)
            return 0;
        return -errno;
    }
    return (st.qs_flags & FS_QUOTA_PDQ_ACCT) && (st.qs_flags & FS_QUOTA_PDQ_ENFD) ? 1 : 0;
}

int project_quota_set(int dir_fd, uint32_t projid, uint64_t bytes)
{
    struct fsxattr fsx;
    if (ioctl(dir_fd, FS_IOC_FSGETXATTR, &fsx) < 0)
        return -errno;
    fsx.fsx_projid = projid;
    fsx.fsx_xflags |= FS_XFLAG_PROJINHERIT;
    if (ioctl(dir_fd, FS_IOC_FSSETXATTR, &fsx) < 0)
        return -errno;
    struct if_dqblk q;
    memset(&q, 0, sizeof(q));
    /* Limits count QIF_DQBLKSIZE (1 KiB) blocks; round up. */
    q.dqb_bhardlimit = (bytes + QIF_DQBLKSIZE - 1) / QIF_DQBLKSIZE;
    q.dqb_bsoftlimit = q.dqb_bhardlimit;
    q.dqb_valid = QIF_BLIMITS;
    if (quotactl_fd(dir_fd, Q_SETQUOTA, projid, &q) < 0)
        return -errno;
    return 0;
}

int project_quota_clear(int dir_fd, uint32_t projid)
{
    struct if_dqblk q;
    memset(&q, 0, sizeof(q));
    q.dqb_valid = QIF_BLIMITS;
    return quotactl_fd(dir_fd, Q_SETQUOTA, projid, &q) < 0 ? -errno : 0;
}
