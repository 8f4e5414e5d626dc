#!/usr/bin/env bash
# What the container may not do: podman's default capabilities (ambient
# empty), no_new_privs, seccomp, masked and read-only /proc paths, /sys
# read-only, no inherited descriptor, no write to berth's binary.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

# CHOWN(0) DAC_OVERRIDE(1) FOWNER(3) FSETID(4) KILL(5) SETGID(6) SETUID(7)
# SETPCAP(8) NET_BIND_SERVICE(10) SYS_CHROOT(18) SETFCAP(31)
mask=0
for bit in 0 1 3 4 5 6 7 8 10 18 31; do
    mask=$((mask | (1 << bit)))
done
want=$(printf '%016x' "$mask")
assert_eq "00000000800405fb" "$want" "podman's default set is 0x800405fb"

assert_status 0 berth run --rm busybox cat /proc/self/status
status=$OUT
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$status"; }
assert_eq "$want" "$(field CapEff)" "CapEff is podman's default set"
assert_eq "$want" "$(field CapPrm)" "CapPrm is podman's default set"
assert_eq "$want" "$(field CapBnd)" "CapBnd is podman's default set"
inh=$(field CapInh)
if [[ $inh == "$want" || $inh == 0000000000000000 ]]; then
    ok "CapInh is the default set or empty ($inh)"
else
    fail "CapInh is $inh"
fi
assert_eq "0000000000000000" "$(field CapAmb)" "CapAmb is empty"
assert_eq "1" "$(field NoNewPrivs)" "no_new_privs is set"
# docker's default seccomp profile, loaded last before exec (docs/security.md).
assert_eq "2" "$(field Seccomp)" "Seccomp: 2 (filter mode)"
assert_eq "1" "$(field Seccomp_filters)" "Seccomp_filters: 1"

# Masked paths read as empty (or cannot be read at all).
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats; do
    assert_status 0 berth run --rm busybox sh -c \
        "if [ -e $p ]; then head -c 64 $p 2>/dev/null | wc -c; else echo 0; fi"
    assert_eq "0" "$OUT" "$p is masked"
done
for p in /proc/acpi /proc/scsi; do
    assert_status 0 berth run --rm busybox sh -c "ls -A $p 2>/dev/null | wc -l"
    assert_eq "0" "$OUT" "$p is empty"
done

# Read-only: /proc/sys (hostname is in the container's uts namespace, so a
# write could not hurt the host even if the mount were writable).
assert_status 0 berth run --rm busybox sh -c 'echo pwned > /proc/sys/kernel/hostname 2>/dev/null && echo writable || echo refused'
assert_eq "refused" "$OUT" "/proc/sys is not writable"
assert_status 0 berth run --rm busybox cat /proc/self/mounts
mounts=$OUT
ro_opt() { awk -v m="$1" '$2 == m { split($4, o, ","); print o[1]; exit }' <<<"$mounts"; }
assert_eq "ro" "$(ro_opt /proc/sys)" "/proc/sys is mounted read-only"
# Kernels built without magic SysRq have no /proc/sysrq-trigger at all.
if [[ -e /proc/sysrq-trigger ]]; then
    assert_eq "ro" "$(ro_opt /proc/sysrq-trigger)" "/proc/sysrq-trigger is mounted read-only"
fi
assert_eq "ro" "$(ro_opt /sys)" "/sys is mounted read-only"
# As podman's (test-security-vs-podman.sh): masked files are read-only binds,
# /dev is noexec.
assert_eq "ro" "$(ro_opt /proc/keys)" "the mask of /proc/keys is read-only"
assert_match "$(awk '$2 == "/dev" { print $4 }' <<<"$mounts")" '(^|,)noexec(,|$)' "/dev is noexec"
assert_status 0 berth run --rm busybox sh -c 'touch /sys/x 2>/dev/null && echo writable || echo refused'
assert_eq "refused" "$OUT" "/sys is not writable"
assert_match "$mounts" $'(^|\n)[^ ]+ / overlay ' "the root is an overlay inside the container"

# /dev is minimal and has what programs need.
assert_status 0 berth run --rm busybox sh -c 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c'
assert_eq $'4\n4' "$OUT" "/dev/null, /dev/zero, /dev/urandom work"
assert_status 0 berth run --rm busybox sh -c 'for d in null zero full random urandom tty ptmx pts shm mqueue; do [ -e /dev/$d ] || echo "missing $d"; done; ls /dev | grep -E "^(sd|vd|nvme|loop|mem|kmem|port)"; echo end'
assert_eq "end" "$OUT" "/dev has null zero full random urandom tty ptmx pts shm mqueue and no host device"
assert_status 0 berth run --rm busybox sh -c 'mknod /dev/xx b 8 0 2>/dev/null && echo made || echo refused'
assert_eq "refused" "$OUT" "no MKNOD"

# No descriptor of the host leaks in: ls's own directory descriptor (3) is
# the only one beyond the standard three.
exec 7</dev/null 8>"$T/fd8"
assert_status 0 berth run --rm busybox ls /proc/self/fd
exec 7<&- 8>&-
fds=$(tr '\n' ' ' <<<"$OUT")
if [[ $fds == "0 1 2 " || $fds == "0 1 2 3 " ]]; then
    ok "only fds 0 1 2 (and ls's 3) in the container: $fds"
else
    fail "descriptors in the container: $fds"
fi

# The container cannot write berth's binary through /proc/self/exe or a
# /proc/PID/exe of the runtime.
sum_before=$(sha256sum <"$BERTH")
assert_status 0 berth run --rm busybox sh -c 'for p in /proc/[0-9]*/exe; do echo x 2>/dev/null >"$p" && echo "wrote $p"; done; echo end'
assert_eq "end" "$OUT" "no /proc/*/exe is writable"
assert_eq "$sum_before" "$(sha256sum <"$BERTH")" "berth's binary is unchanged"

# Root in the container is not root of the host's namespaces.
assert_status 0 berth run --rm busybox sh -c 'for n in pid mnt uts ipc net cgroup; do readlink /proc/1/ns/$n; done'
mapfile -t cns <<<"$OUT"
i=0
for ns in pid mnt uts ipc net cgroup; do
    assert_match "${cns[$i]:-}" "^$ns:" "container has a $ns namespace"
    if [[ ${cns[$i]:-} != "$(readlink "/proc/self/ns/$ns")" ]]; then
        ok "$ns namespace is new"
    else
        fail "$ns namespace is the test's own"
    fi
    i=$((i + 1))
done
assert_status 0 berth run --rm --network none busybox sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
assert_eq "lo" "$OUT" "--network none: only loopback in the container"
assert_status 0 berth run --rm --network none busybox cat /sys/class/net/lo/operstate
assert_match "$OUT" "^(unknown|up)$" "loopback is up"

finish
