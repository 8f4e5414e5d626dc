#!/usr/bin/env bash
# Limits through cgroups (docs/cgroups.md): the test first moves itself into
# a cgroup of its own (one per v1 controller, or one on v2), so that berth's
# default parent (its own cgroup + /berth) lands there and the test can check
# that nothing is left under it. Limits in the container's cgroup files, a
# pids limit stopping forks, a memory hog OOM-killed (137), bad values
# refused with one line, stats, top, pause/unpause, --cgroup-parent, and the
# cgroup gone when the container ends.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

# The test runs in a cgroup of its own (lib.sh), so berth's default parent
# (its own cgroup + /berth) lands under it.
[[ $CG_MODE == v2 ]] && note "cgroup v2: the checks read v1 file names where they differ"
MEM_DIR=${CG_DIR[memory]:-${CG_DIR[unified]:-}}
[[ -n $MEM_DIR ]] || die "no memory cgroup to test with"

bg_run() { # bg_run NAME ARGS… ; output in $T/NAME.out
    local name=$1
    shift
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
        run --rm --network none --name "$name" "$@" </dev/null >"$T/$name.out" 2>&1 &
    BG_PID=$!
}

wait_running() { # wait_running NAME → REC (inspect JSON)
    local state
    for _ in $(seq 100); do
        capture berth inspect "$1"
        state=$(json_eval 'd[0]["state"]' <<<"$OUT" 2>/dev/null || true)
        if [[ $state == running ]]; then
            REC=$OUT
            return 0
        fi
        sleep 0.1
    done
    fail "container '$1' never became running: $(cat "$T/$1.out" 2>/dev/null)"
    REC='[{}]'
    return 1
}

cg_path() { # cg_path CONTROLLER → the container's directory, from REC
    if [[ $CG_MODE == v2 ]]; then json_eval 'd[0]["cgroup_path"]' <<<"$REC"; else
        json_eval "d[0]['cgroup_path']['$1']" <<<"$REC"
    fi
}

refuse() { # refuse WHAT CMD… : one line, 125
    local what=$1
    shift
    capture "$@"
    assert_error run "$what"
}

# --- limits in the cgroup files -----------------------------------------------

bg_run lim -m 64m --memory-swap 128m --cpus 0.5 --cpu-shares 512 --pids-limit 50 \
    --cpuset-cpus 0 busybox sleep 60
wait_running lim
mem=$(cg_path memory)
assert_match "$mem" "^$MEM_DIR/berth/berth-[0-9a-f]{64}$" "the cgroup is under the test's own cgroup + /berth"
assert_eq "$CG_MODE" "$(json_eval 'd[0]["cgroup_mode"]' <<<"$REC")" "cgroup_mode detected ($CG_MODE)"
if [[ $CG_MODE == v1 ]]; then
    assert_eq 67108864 "$(cat "$mem/memory.limit_in_bytes")" "--memory 64m: memory.limit_in_bytes"
    assert_eq 134217728 "$(cat "$mem/memory.memsw.limit_in_bytes")" \
        "--memory-swap 128m: memory.memsw.limit_in_bytes"
    cpu=$(cg_path cpu)
    assert_eq 50000 "$(cat "$cpu/cpu.cfs_quota_us")" "--cpus 0.5: cpu.cfs_quota_us"
    assert_eq 100000 "$(cat "$cpu/cpu.cfs_period_us")" "--cpus 0.5: cpu.cfs_period_us"
    assert_eq 512 "$(cat "$cpu/cpu.shares")" "--cpu-shares 512: cpu.shares"
    assert_eq 50 "$(cat "$(cg_path pids)/pids.max")" "--pids-limit 50: pids.max"
    assert_eq 0 "$(cat "$(cg_path cpuset)/cpuset.cpus")" "--cpuset-cpus 0: cpuset.cpus"
    pid=$(json_eval 'd[0]["pid"]' <<<"$REC")
    assert_contains "$(cat "$mem/cgroup.procs")" "$pid" "the container's process is in its cgroup"
    config=$(find "$T/run/containers" -name config.json -print -quit)
    assert_contains "$(json_eval 'd["linux"]["resources"]' <"$config")" '"limit": 67108864' \
        "config.json carries linux.resources"
else
    assert_eq 67108864 "$(cat "$mem/memory.max")" "--memory 64m: memory.max"
    assert_eq "50000 100000" "$(cat "$mem/cpu.max")" "--cpus 0.5: cpu.max"
    assert_eq 50 "$(cat "$mem/pids.max")" "--pids-limit 50: pids.max"
fi

# stats and top
capture berth stats --no-stream --format json lim
if [[ $RC -eq 0 ]]; then
    assert_eq 67108864 "$(json_eval 'd[0]["memory_limit"]' <<<"$OUT")" "stats: the memory limit"
    assert_eq 50 "$(json_eval 'd[0]["pids_limit"]' <<<"$OUT")" "stats: the pids limit"
    assert_eq 1 "$(json_eval 'd[0]["pids"]' <<<"$OUT")" "stats: one process"
    assert_match "$(json_eval 'd[0]["memory_usage"]' <<<"$OUT")" '^[1-9][0-9]*$' "stats: memory in use"
else
    fail "stats --no-stream --format json: exit $RC"
    _show
fi
capture berth stats --no-stream
assert_contains "$OUT" "lim" "stats (table) lists the container"
assert_contains "$OUT" "64.00MiB" "stats (table) shows the limit"
capture berth top lim
assert_contains "$OUT" "sleep 60" "top shows the container's process"
assert_match "$OUT" "PID +USER +TIME +COMMAND" "top prints its header"
capture berth top lim aux
assert_error top "ps options"

berth rm -f lim >/dev/null
wait "$BG_PID" || true
assert_true "the cgroup is removed when the container ends" test ! -e "$mem"

# --- pause and unpause: a busy loop's CPU time stops, then goes on -----------

bg_run spin busybox sh -c 'while :; do :; done'
wait_running spin
cpu_ns() {
    berth stats --no-stream --format json spin | json_eval 'd[0]["cpu_usage_ns"]'
}
assert_status 0 berth pause spin
assert_eq FROZEN "$(cat "$(cg_path freezer)/freezer.state" 2>/dev/null || echo FROZEN)" \
    "pause: freezer.state FROZEN"
capture berth ps
assert_contains "$OUT" "Up (Paused)" "ps shows Up (Paused)"
a=$(cpu_ns)
sleep 0.5
b=$(cpu_ns)
assert_eq "$a" "$b" "paused: the CPU time does not advance"
capture berth pause spin
assert_error pause "pause of a paused container"
assert_status 0 berth unpause spin
sleep 0.5
c=$(cpu_ns)
[[ $c -gt $b ]] && ok "unpaused: the CPU time advances again" || fail "unpaused: $b → $c"
capture berth ps
assert_not_contains "$OUT" "Paused" "ps: running again"
# A paused container can be removed: it is thawed before the kill.
berth pause spin >/dev/null
assert_status 0 berth rm -f spin
wait "$BG_PID" || true
# And stopped: pid 1 ignores SIGTERM, the SIGKILL after 1 s must reach it.
bg_run spin2 busybox sh -c 'while :; do :; done'
wait_running spin2
berth pause spin2 >/dev/null
assert_status 0 timeout 15 "$BERTH" --root "$T/root" --runroot "$T/run" \
    --plugin-path "$PLUGIN_PATH" stop -t 1 spin2
wait "$BG_PID" || true

# --- pids limit and OOM ----------------------------------------------------------

capture berth run --rm --network none --pids-limit 5 busybox sh -c \
    'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; wait'
assert_contains "$ERR$OUT" "can't fork" "a process beyond --pids-limit fails to fork"

capture berth run --rm --network none -m 8m busybox sh -c 'x=a; while :; do x="$x$x"; done'
assert_eq 137 "$RC" "a memory hog over --memory 8m is OOM-killed (137)"

# --- bad values: one line, 125, nothing made ----------------------------------------

refuse "--memory 12q" berth run --rm --memory 12q busybox true
refuse "--cpus abc" berth run --rm --cpus abc busybox true
refuse "--cpus 0" berth run --rm --cpus 0 busybox true
refuse "--cpus beyond the machine" berth run --rm --cpus 4096 busybox true
refuse "--pids-limit x" berth run --rm --pids-limit x busybox true
refuse "--cpu-shares 1" berth run --rm --cpu-shares 1 busybox true
refuse "--memory-swap without --memory" berth run --rm --memory-swap 1g busybox true
refuse "--memory-swap below --memory" berth run --rm -m 64m --memory-swap 32m busybox true
refuse "--cpuset-cpus the kernel refuses" berth run --rm --network none --cpuset-cpus 4000 \
    busybox true
refuse "--cgroup-parent with .." berth run --rm --cgroup-parent ../x busybox true
refuse "--cgroups disabled with a limit" berth run --rm --cgroups disabled -m 64m busybox true
refuse "--cgroups maybe" berth run --rm --cgroups maybe busybox true
capture berth run --rm --network none --cgroups disabled busybox cat /proc/self/cgroup
assert_eq "0:$(grep -c 'berth-' <<<"$OUT")" "$RC:0" "--cgroups disabled: no cgroup of its own"
capture berth create --memory 1q busybox true
assert_error create "create --memory 1q"
capture berth ps -a -q
assert_eq "" "$OUT" "refused runs left no container"
assert_eq "" "$(leaked_cgroups)" "refused runs left no cgroup"

# --- --cgroup-parent ----------------------------------------------------------------

# The same path in every hierarchy: one next to the test's cgroups, removed here
# (berth keeps a parent it did not make).
parent="/$CG_NAME-parent"
capture berth run --rm --network none --cgroup-parent "$parent" busybox cat /proc/self/cgroup
assert_eq 0 "$RC" "run --cgroup-parent"
assert_match "$OUT" "$CG_NAME-parent/berth-[0-9a-f]{64}" "--cgroup-parent puts the cgroup there"
left=$(find /sys/fs/cgroup -maxdepth 2 -path "*$parent/*" -type d 2>/dev/null)
assert_eq "" "$left" "the container's cgroup under --cgroup-parent is removed"
find /sys/fs/cgroup -maxdepth 2 -name "$CG_NAME-parent" -type d -exec rmdir {} + 2>/dev/null || true

# --- the cgroup parent from the configuration file ---------------------------------
cfg_parent="/$CG_NAME-cfgparent"
printf '{"cgroup_parent": "%s"}\n' "$cfg_parent" >"$T/berth.json"
capture "$BERTH" --config "$T/berth.json" --root "$T/root" --runroot "$T/run" \
    --plugin-path "$PLUGIN_PATH" run --rm --network none busybox cat /proc/self/cgroup
assert_eq 0 "$RC" "run with cgroup_parent from --config"
assert_match "$OUT" "$CG_NAME-cfgparent/berth-[0-9a-f]{64}" "the configuration file's cgroup_parent is used"
find /sys/fs/cgroup -maxdepth 2 -name "$CG_NAME-cfgparent" -type d -exec rmdir {} + 2>/dev/null || true
printf '{"cgroup_parent": 5}\n' >"$T/bad.json"
capture "$BERTH" --config "$T/bad.json" --root "$T/root" --runroot "$T/run" ps
assert_error config "a configuration file with a wrong type"
capture "$BERTH" --config "$T/nosuch.json" --root "$T/root" --runroot "$T/run" ps
assert_error config "a missing --config file"

assert_eq "" "$(leaked_cgroups)" "no cgroup left under the test's cgroup"
finish
