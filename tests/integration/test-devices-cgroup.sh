#!/usr/bin/env bash
# The devices cgroup: deny-all then the minimal /dev and each --device with
# its permissions. A node given read-only cannot be written, and no node of
# an unlisted device can be made, even with CAP_MKNOD added. On v1 through
# devices.deny/devices.allow; on v2 through a BPF_CGROUP_DEVICE program
# (checked here by mounting the unified hierarchy over /sys/fs/cgroup in
# this test's private mount namespace when the host is hybrid). With
# --userns=auto (the host's node bound, not made) the same rules hold.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/userns-lib.sh"

setup_busybox busybox
userns=0
use_subids "berth:200000:400000" && userns=1

# behaviour MODE : what a container can do with its devices.
behaviour() {
    local mode=$1
    # --device HOST:CONT:r: reading works, writing is refused by the cgroup
    # (the node itself is 0666, so only the cgroup can refuse).
    assert_status 0 berth run --rm --device /dev/null:/dev/foo:r busybox sh -c \
        'ls -l /dev/foo; cat /dev/foo && echo read-ok; echo x >/dev/foo 2>&- && echo written || echo refused'
    assert_match "$OUT" "^crw-rw-rw- " "$mode: the node is 0666"
    assert_contains "$OUT" "read-ok" "$mode: --device ...:r can be read"
    assert_contains "$OUT" "refused" "$mode: --device ...:r cannot be written"
    assert_not_contains "$OUT" "written" "$mode: no write went through"

    # The same with rw: the write goes through.
    assert_status 0 berth run --rm --device /dev/null:/dev/foo:rw busybox sh -c \
        'echo x >/dev/foo 2>/dev/null && echo written || echo refused'
    assert_eq "written" "$OUT" "$mode: --device ...:rw can be written"

    # In a user namespace the host's node is bound, not made: the same rule.
    if ((userns)); then
        assert_status 0 berth run --rm --userns=auto --device /dev/null:/dev/foo:r busybox sh -c \
            'cat /dev/foo && echo read-ok; echo x >/dev/foo 2>&- && echo written || echo refused'
        assert_eq $'read-ok\nrefused' "$OUT" "$mode: --userns=auto --device ...:r: read, not written"
        assert_status 0 berth run --rm --userns=auto --device /dev/null:/dev/foo:rw busybox sh -c \
            'echo x >/dev/foo 2>/dev/null && echo written || echo refused'
        assert_eq "written" "$OUT" "$mode: --userns=auto --device ...:rw can be written"
    fi

    # mknod of an unlisted device fails even with CAP_MKNOD: block 7:0
    # (loop0) and char 1:1 (/dev/mem); 1:3 (null) is allowed.
    assert_status 0 berth run --rm --cap-add MKNOD busybox sh -c \
        'mknod /tmp/loop b 7 0 2>/dev/null && echo made-b || echo refused-b;
         mknod /tmp/mem c 1 1 2>/dev/null && echo made-c || echo refused-c;
         mknod /tmp/null c 1 3 2>/dev/null && echo made-null || echo refused-null'
    assert_eq $'refused-b\nrefused-c\nmade-null' "$OUT" \
        "$mode: with CAP_MKNOD only the allowed devices' nodes can be made"

    # --privileged: allow-all.
    assert_status 0 berth run --rm --privileged busybox sh -c \
        'mknod /tmp/loop b 7 0 2>/dev/null && echo made-b || echo refused-b'
    assert_eq "made-b" "$OUT" "$mode: --privileged may make any node"
}

if [[ -e /sys/fs/cgroup/devices/devices.list ]]; then
    # The container's devices.list is the rule list, read from the host side.
    assert_status 0 berth run -d --name dev1 --device /dev/null:/dev/foo:r busybox sleep 30
    dir=$(find /sys/fs/cgroup/devices -type d -name "berth-$OUT*" | head -n 1)
    assert_true "the container has a devices cgroup" test -n "$dir"
    list=$(cat "$dir/devices.list")
    assert_not_contains "$list" "a *:* rwm" "not allow-all"
    assert_contains "$list" "c 1:5 rwm" "/dev/zero allowed"
    assert_contains "$list" "c 136:* rwm" "ptys allowed"
    # A --device with /dev/null's numbers replaces its default rule (m: the runtime makes the node).
    assert_contains "$list" "c 1:3 rm" "--device /dev/null:/dev/foo:r is read-only"
    assert_not_contains "$list" "c 1:3 rw" "and not writable"
    assert_not_contains "$list" "b " "no block device allowed"
    assert_status 0 berth rm -f dev1
    behaviour v1
else
    note "no cgroup v1 devices controller here"
fi

# v2: the unified hierarchy alone at /sys/fs/cgroup.
if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
    behaviour v2
elif mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null; then
    behaviour v2
    left=$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'berth-*' | head -n 3)
    assert_eq "" "$left" "v2: no container cgroup left"
    umount /sys/fs/cgroup
else
    note "cannot mount the unified hierarchy: v2 not checked"
fi

finish
