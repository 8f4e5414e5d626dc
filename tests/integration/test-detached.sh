#!/usr/bin/env bash
# Detached containers: run -d and start leave a monitor that outlives berth,
# is the container's parent, holds its record lock, records the exit status
# and stops it through the plugins; --rm, rm -f, and a monitor killed with
# SIGKILL (the next berth command recovers).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

rec_field() { # rec_field CONTAINER KEY
    berth inspect "$1" 2>/dev/null | json_eval "d[0].get('$2')" 2>/dev/null || true
}

# --- run -d: the monitor ------------------------------------------------------
assert_status 0 berth run -d --name d1 busybox sh -c 'echo started; sleep 30; exit 3'
id=$OUT
assert_match "$id" '^[0-9a-f]{64}$' "run -d prints the full id"
assert_eq "running" "$(rec_field d1 state)" "the record says running after berth exited"
pid=$(rec_field d1 pid)
mon=$(rec_field d1 monitor_pid)
assert_true "the container process is alive" kill -0 "$pid"
assert_true "the monitor is alive" kill -0 "$mon"
assert_eq "$mon" "$(awk '{print $4}' "/proc/$pid/stat")" "the monitor is the container's parent"
sid=$(awk '{print $6}' "/proc/$mon/stat")
if [[ $sid != "$(awk '{print $6}' /proc/$$/stat)" && $sid != "$mon" ]]; then
    ok "the monitor is in a session of its own and not its leader (double fork + setsid)"
else
    fail "the monitor's session: $sid"
fi
if flock -n "$T/root/containers/$id.lock" true; then
    fail "the record lock is held while the container runs"
else
    ok "the record lock is held while the container runs"
fi
# An idle monitor trims itself a second after its last activity.
sleep 1.5
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$mon/status")
note "idle monitor VmRSS ${rss} kB (conmon: 2400 kB)"
if ldd "$BERTH" 2>/dev/null | grep -q libasan; then
    note "ASan build: its shadow memory makes the resident size meaningless, not checked"
elif [[ $rss -le 1200 ]]; then
    ok "idle monitor resident size ${rss} kB <= 1200 kB"
else
    fail "idle monitor resident size ${rss} kB > 1200 kB"
fi
assert_status 0 berth ps
assert_contains "$OUT" "d1" "ps lists the detached container"
assert_match "$OUT" 'Up' "ps shows it Up"
assert_status 125 berth start d1
assert_error start "start of a running container"
assert_status 125 berth rm d1
assert_error rm "rm of a running container without -f"

# It ends on its own with status 3: the monitor records it and stops it.
kill -KILL "$(pgrep -P "$pid" sleep)"
assert_status 0 berth wait d1
assert_eq "3" "$OUT" "wait prints the exit status the monitor recorded"
assert_eq "exited" "$(rec_field d1 state)" "state exited"
assert_eq "3" "$(rec_field d1 exit_code)" "exit_code 3 in the record"
assert_true "the monitor is gone" wait_for 5 bash -c "! kill -0 $mon"
assert_eq "" "$(leaked_mounts)" "a stopped container holds no mount"
assert_eq "" "$(dir_entries "$T/run/containers")" "a stopped container has no run dir"
assert_status 0 berth ps -a
assert_contains "$OUT" "Exited (3)" "ps -a shows Exited (3)"

# --- start (detached) again, and create + start ----------------------------------
assert_status 0 berth start d1
assert_eq "d1" "$OUT" "start prints the name"
assert_eq "running" "$(rec_field d1 state)" "started again, detached"
assert_status 0 berth rm -f d1
assert_status 125 berth inspect d1
assert_error inspect "rm -f removed the running detached container"

assert_status 0 berth create --name c1 busybox sh -c 'exit 4'
assert_status 0 berth start c1
assert_status 0 berth wait c1
assert_eq "4" "$OUT" "create + start (detached) + wait"
assert_status 0 berth rm c1

# --- --rm: the monitor removes it ------------------------------------------------
assert_status 0 berth run -d --rm --name gone busybox true
assert_true "run -d --rm: the record goes when the container exits" \
    wait_for 10 bash -c "! '$BERTH' --root '$T/root' --runroot '$T/run' --plugin-path '$PLUGIN_PATH' inspect gone"

# --- a start that fails leaves nothing, and says why ----------------------------
assert_status 127 berth run -d --name bad busybox /nonexistent
assert_contains "$ERR" "berth: run:" "a failed run -d reports on one line"
assert_status 125 berth inspect bad
assert_error inspect "a failed run -d leaves no record"

# --- kill -9 of the monitor: the next berth command recovers ----------------------
assert_status 0 berth run -d --name orphan busybox sleep 300
pid=$(rec_field orphan pid)
mon=$(rec_field orphan monitor_pid)
kill -KILL "$mon"
assert_true "the monitor died" wait_for 5 bash -c "! kill -0 $mon"
assert_status 0 berth ps -a
assert_true "the next berth command killed the container" wait_for 5 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
assert_eq "exited" "$(rec_field orphan state)" "the record is marked exited"
assert_eq "" "$(dir_entries "$T/run/containers")" "recovery removed the run dir"
assert_status 0 berth rm orphan

# --- many at once -------------------------------------------------------------------
for i in $(seq 1 10); do berth run -d --name "many$i" busybox sleep 300 >/dev/null; done
assert_eq 10 "$(berth ps -q | wc -l)" "10 detached containers listed"
capture berth rm -f $(seq -f 'many%g' 1 10)
assert_eq 0 "$RC" "rm -f of 10 detached containers"
assert_eq "" "$(berth ps -a -q)" "all gone"

finish
