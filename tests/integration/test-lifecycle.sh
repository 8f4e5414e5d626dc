#!/usr/bin/env bash
# create → start -a → (stopped) → start -a again → rm, and what ps and
# inspect show on the way.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

assert_status 0 berth create --name web -e A=1 -w /tmp --hostname web1 busybox sh -c 'echo "$A $(pwd) $(hostname)"; exit 7'
id=$OUT
assert_match "$id" '^[0-9a-f]{64}$' "create prints the full id"

assert_status 0 berth ps -a -q
assert_contains "$OUT" "${id:0:12}" "ps -a lists the created container"
assert_status 0 berth ps -q
assert_eq "" "$OUT" "ps (running only) does not list a created container"
assert_status 0 berth ps -a
assert_contains "$OUT" "web" "ps -a shows the name"
assert_contains "${OUT,,}" "created" "ps -a shows the state 'created'"
assert_contains "$OUT" 'sh -c echo "$A' "ps -a shows the command, its words joined by one space"

assert_status 0 berth inspect web
j=$OUT
assert_eq "1" "$(json_eval 'len(d)' <<<"$j" || true)" "inspect gives a JSON array of one"
assert_contains "$j" "$id" "inspect shows the full id"
assert_status 0 berth inspect "${id:0:12}"
assert_contains "$OUT" "$id" "inspect by id prefix"
assert_status 0 berth inspect "$id"
assert_contains "$OUT" "web" "inspect by full id"

assert_status 7 berth start -a web
assert_eq "1 /tmp web1" "$OUT" "start -a runs the created command with its settings"
assert_status 0 berth ps -a
assert_contains "${OUT,,}" "exited" "ps -a shows the state 'exited'"
assert_status 0 berth inspect web
assert_contains "$OUT" "7" "inspect records the exit status"
assert_eq "" "$(leaked_mounts)" "a stopped container holds no mount"

assert_status 7 berth start -a "${id:0:12}"
assert_eq "1 /tmp web1" "$OUT" "a stopped container starts again (by id prefix)"

assert_status 0 berth create --name two busybox true
assert_status 0 berth inspect web two
assert_eq "2" "$(json_eval 'len(d)' <<<"$OUT" || true)" "inspect of two gives two"
assert_status 125 berth inspect web nosuch
assert_error inspect "inspect with one unknown name"

assert_status 0 berth rm web two
assert_status 125 berth rm web
assert_error rm "rm of a removed container"
capture berth rm -f nosuch-but-forced
[[ $RC -eq 0 || $RC -eq 125 ]] && ok "rm -f of an unknown name: exit $RC" || fail "rm -f unknown: exit $RC"

# Hooks see every event of a run, in order (test-fault logs them).
capture env BERTH_TEST_EVENT_LOG="$T/events" \
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
    run --rm busybox true
assert_eq 0 "$RC" "run with the event log"
want="create prepare-storage create-process prestart started exited stopped deleted"
got=$(awk '{print $1}' "$T/events" 2>/dev/null | grep -x -E "${want// /|}" | paste -sd' ' || true)
assert_eq "$want" "$got" "hooks see every lifecycle event of a run, in order"
ids=$(awk '{print $2}' "$T/events" 2>/dev/null | sort -u | grep -c . || true)
assert_eq 1 "$ids" "every event names the container"

# run without --rm keeps the container, exited, until rm.
assert_status 0 berth run --name kept busybox echo hi
assert_status 0 berth ps -a
assert_contains "$OUT" "kept" "run without --rm keeps the container"
assert_status 0 berth rm kept

finish
