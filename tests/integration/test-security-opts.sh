#!/usr/bin/env bash
# The security options of run/create (docs/security.md): --cap-add/--cap-drop,
# --privileged, --security-opt, --device, --sysctl, --ulimit; bad input is one
# line, exit 125 and no container.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$OUT"; }

# Capabilities.
assert_status 0 berth run --rm --cap-drop ALL --cap-add net_bind_service busybox cat /proc/self/status
assert_eq "0000000000000400" "$(field CapEff)" "--cap-drop ALL --cap-add net_bind_service"
assert_eq "0000000000000400" "$(field CapBnd)" "... in the bounding set too"
assert_status 0 berth run --rm --cap-add CAP_NET_ADMIN --cap-drop chown busybox cat /proc/self/status
assert_eq "00000000800415fa" "$(field CapEff)" "--cap-add CAP_NET_ADMIN --cap-drop chown"
assert_status 0 berth run --rm --cap-add SYS_ADMIN busybox sh -c 'mkdir -p /mnt && mount -t tmpfs x /mnt && echo mounted'
assert_eq "mounted" "$OUT" "CAP_SYS_ADMIN brings mount back (docker's includes)"

# seccomp.
assert_status 0 berth run --rm --security-opt seccomp=unconfined busybox cat /proc/self/status
assert_eq "0" "$(field Seccomp)" "seccomp=unconfined: no filter"
echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}' >"$T/p.json"
assert_status 0 berth run --rm --security-opt "seccomp=$T/p.json" busybox sh -c 'mkdir /x 2>&1; echo $?'
assert_contains "$OUT" "Permission denied" "a user profile: mkdir gets its errnoRet (EACCES)"
assert_status 0 berth run --rm --security-opt no-new-privileges busybox cat /proc/self/status
assert_eq "1" "$(field NoNewPrivs)" "no-new-privileges is accepted (always on)"

# --privileged.
assert_status 0 berth run --rm --privileged busybox sh -c 'cat /proc/self/status; cat /proc/self/mounts; ls /dev'
assert_eq "0" "$(field Seccomp)" "--privileged: no seccomp"
assert_match "$(field CapEff)" "^0000" "--privileged: capabilities"
[[ $(field CapEff) != 00000000800405fb ]] && ok "--privileged: more than the default set" || fail "--privileged: default set"
assert_match "$OUT" $'\nsysfs /sys sysfs rw' "--privileged: /sys read-write"
assert_not_contains "$OUT" " /proc/sys proc ro" "--privileged: /proc/sys not read-only"
assert_match "$OUT" $'\nloop0\n' "--privileged: host devices in /dev"

# --device, --sysctl, --ulimit.
assert_status 0 berth run --rm --device /dev/null:/dev/xnull:rw busybox sh -c 'ls -l /dev/xnull; echo hi >/dev/xnull && echo written'
assert_match "$OUT" "^crw-rw-rw- +1 root +root +1, +3 " "--device makes the node with the host's numbers"
assert_contains "$OUT" "written" "the device works"
assert_status 0 berth run --rm --sysctl net.ipv4.ip_forward=1 --sysctl kernel.shmmax=12345 busybox \
    cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax
assert_eq $'1\n12345' "$OUT" "--sysctl net.* and kernel.shm* are set in the container"
assert_eq "0" "$(grep -c '^12345$' /proc/sys/kernel/shmmax || true)" "the test's own kernel.shmmax is untouched"
assert_status 0 berth run --rm --ulimit nofile=100:200 busybox sh -c 'ulimit -n; ulimit -Hn'
assert_eq $'100\n200' "$OUT" "--ulimit nofile=100:200"

# Bad input: one line, 125, nothing made.
echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdirz"],"action":"SCMP_ACT_ERRNO"}]}' >"$T/unknown.json"
echo '{bad' >"$T/bad.json"
hard=$(ulimit -H -n)
bad=(
    "--cap-add BOGUS|unknown capability 'BOGUS'"
    "--cap-drop nope|unknown capability 'nope'"
    "--security-opt seccomp=$T/bad.json|not valid JSON"
    "--security-opt seccomp=$T/unknown.json|unknown syscall 'mkdirz'"
    "--security-opt seccomp=$T/missing.json|seccomp profile"
    "--security-opt no-new-privileges=false|always sets no_new_privs"
    "--security-opt bogus|unknown security option"
    "--device /dev/nope|/dev/nope"
    "--device /etc/passwd|not a character or block device"
    "--sysctl kernel.core_pattern=x|not a namespaced sysctl"
    "--sysctl vm.swappiness=1|not a namespaced sysctl"
    "--ulimit bogus=1|unknown limit"
    "--ulimit nofile=2:1|soft limit above the hard limit"
)
[[ $hard != unlimited ]] && bad+=("--ulimit nofile=1:$((hard + 1))|needs CAP_SYS_RESOURCE")
for entry in "${bad[@]}"; do
    args=${entry%%|*}
    want=${entry#*|}
    # shellcheck disable=SC2086 # the options are words
    assert_status 125 berth run --rm --name badsec $args busybox true
    assert_error run "$args"
    assert_contains "$ERR" "$want" "the error says: $want"
    # shellcheck disable=SC2086
    assert_status 125 berth create --name badsec $args busybox true
done
assert_status 0 berth ps -a -q
assert_eq "" "$OUT" "no container was made"

finish
