#!/bin/sh
# /init of the cgroup v2 VM (tests/vm/cgroup-v2.sh builds the initramfs).
# Stage 1 (the initramfs): copies itself into a tmpfs and switch_roots there,
# because pivot_root (which berth's runtime uses) refuses the initramfs's
# rootfs as the old root. Stage 2: proc, sys, devtmpfs, a tmpfs on /tmp,
# cgroup2 on /sys/fs/cgroup with every controller enabled below the root,
# the kernel modules, then the checks; always ends in poweroff.
PATH=/bin:/sbin
export PATH

if [ "$1" != stage2 ]; then
    /bin/busybox mkdir -p /newroot /proc
    /bin/busybox mount -t proc proc /proc
    /bin/busybox mount -t tmpfs -o mode=0755 tmpfs /newroot
    for d in bin etc lib lib64 usr berth init; do
        [ -e "/$d" ] && /bin/busybox cp -a "/$d" /newroot/
    done
    /bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/sbin \
        /newroot/run
    /bin/busybox umount /proc
    exec /bin/busybox switch_root /newroot /init stage2
fi

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "# vm: kernel $(uname -r), cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
while read -r m; do
    insmod "$m" || echo "# vm: insmod $m failed"
done </etc/modules.list
read -r controllers </sys/fs/cgroup/cgroup.controllers
for c in $controllers; do
    echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || echo "# vm: cannot enable $c"
done
ip link set lo up 2>/dev/null
cd /berth && sh /berth/checks.sh
echo "# vm: checks exited $?"
sync
poweroff -f
