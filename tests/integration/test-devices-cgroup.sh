#!/usr/bin/env bash
# The devices cgroup: deny-all then the minimal /dev and each --device with
# its permissions. A node given read-only cannot be written, and no node of
# an unlisted device can be made, even with CAP_MKNOD added.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

if [[ ! -e /sys/fs/cgroup/devices/devices.list ]]; then
    note "no cgroup v1 devices controller here: v2 relies on the missing node (docs/security.md)"
    finish
    exit 0
fi

# The container's devices.list is the rule list, read from the host side.
assert_status 0 berth run -d --name dev1 --device /dev/null:/dev/foo:r busybox sleep 30
dir=$(find /sys/fs/cgroup/devices -type d -name "berth-$OUT*" | head -n 1)
assert_true "the container has a devices cgroup" test -n "$dir"
list=$(cat "$dir/devices.list")
assert_not_contains "$list" "a *:* rwm" "not allow-all"
assert_contains "$list" "c 1:5 rwm" "/dev/zero allowed"
# A --device with /dev/null's numbers replaces its default rule (m: the runtime makes the node).
assert_contains "$list" "c 1:3 rm" "--device /dev/null:/dev/foo:r is read-only"
assert_not_contains "$list" "c 1:3 rw" "and not writable"
assert_contains "$list" "c 136:* rwm" "ptys allowed"
assert_not_contains "$list" "b " "no block device allowed"
assert_status 0 berth rm -f dev1

# --device HOST:CONT:r: reading works, writing is refused by the cgroup
# (the node itself is 0666, so only the cgroup can refuse).
assert_status 0 berth run --rm --device /dev/null:/dev/foo:r busybox sh -c \
    'ls -l /dev/foo; cat /dev/foo && echo read-ok; echo x >/dev/foo 2>/dev/null && echo written || echo refused'
assert_match "$OUT" "^crw-rw-rw- " "the node is 0666"
assert_contains "$OUT" "read-ok" "--device ...:r can be read"
assert_contains "$OUT" "refused" "--device ...:r cannot be written"
assert_not_contains "$OUT" "written" "no write went through"

# The same with rw: the write goes through.
assert_status 0 berth run --rm --device /dev/null:/dev/foo:rw busybox sh -c \
    'echo x >/dev/foo 2>/dev/null && echo written || echo refused'
assert_eq "written" "$OUT" "--device ...:rw can be written"

# mknod of an unlisted device fails even with CAP_MKNOD: block 7:0 (loop0)
# and char 1:1 (/dev/mem).
assert_status 0 berth run --rm --cap-add MKNOD busybox sh -c \
    'grep CapEff /proc/self/status; mknod /tmp/loop b 7 0 2>/dev/null && echo made-b || echo refused-b;
     mknod /tmp/mem c 1 1 2>/dev/null && echo made-c || echo refused-c;
     mknod /tmp/null c 1 3 2>/dev/null && echo made-null || echo refused-null'
assert_contains "$OUT" "refused-b" "mknod of a block device is refused"
assert_contains "$OUT" "refused-c" "mknod of /dev/mem's numbers is refused"
assert_contains "$OUT" "made-null" "mknod of an allowed device works with CAP_MKNOD (the test can fail)"

# --privileged: allow-all.
assert_status 0 berth run --rm --privileged busybox sh -c \
    'mknod /tmp/loop b 7 0 2>/dev/null && echo made-b || echo refused-b'
assert_eq "made-b" "$OUT" "--privileged may make any node"

finish
