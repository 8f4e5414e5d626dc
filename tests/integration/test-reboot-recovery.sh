#!/usr/bin/env bash
# What a reboot (or a power cut) leaves: the run dir wiped, every process
# gone, records on disk in a transitional state or torn (records of --rm
# containers are written without fsync). `berth system gc` removes --rm
# containers, marks the others exited, and drops unreadable records and the
# names they held.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

rec_field() { # rec_field CONTAINER KEY
    berth inspect "$1" 2>/dev/null | json_eval "d[0].get('$2')" 2>/dev/null || true
}

# "reboot": kill each container's monitor and process, then wipe the run dir.
reboot() {
    local c pids=()
    # Every pid first: the next berth command would already recover.
    for c in "$@"; do
        pids+=("$(rec_field "$c" pid)" "$(rec_field "$c" monitor_pid)")
    done
    kill -KILL "${pids[@]}"
    for pid in "${pids[@]}"; do
        wait_for 5 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" ||
            fail "process $pid still alive after kill"
    done
    rm -rf --one-file-system "${T:?}/run/"*
    # A reboot takes the cgroups too (only empty ones can be removed).
    leaked_cgroups | sort -r | xargs -r rmdir
}

assert_status 0 berth run -d --rm --network none --name transient busybox sleep 300
assert_status 0 berth run -d --network none --name kept busybox sleep 300
reboot transient kept
assert_status 0 berth system gc
assert_status 0 berth ps -a --format json
names=$(json_eval '" ".join(sorted(c["name"] for c in d))' <<<"$OUT" || true)
assert_eq "kept" "$names" "after a reboot, gc removes the --rm container and keeps the other"
assert_eq "exited" "$(rec_field kept state)" "the kept container is marked exited"
assert_status 0 berth run --rm --name transient busybox true
assert_status 0 berth rm kept

# A torn record (a power cut before the data reached the disk) and its name.
id=$(printf 'f%.0s' $(seq 1 64))
: >"$T/root/containers/$id.json"
printf '%s' "$id" >"$T/root/containers/names/torn"
touch -d '2 minutes ago' "$T/root/containers/names/torn"
capture berth ps -a
assert_contains "$ERR" "corrupt" "ps warns about the torn record"
capture berth system gc
assert_eq 0 "$RC" "system gc with a torn record"
assert_contains "$ERR" "unreadable record" "gc says it removes the torn record"
assert_true "the torn record is gone" test ! -e "$T/root/containers/$id.json"
assert_true "the name it held is free" test ! -e "$T/root/containers/names/torn"
assert_status 0 berth run --rm --name torn busybox true

finish
