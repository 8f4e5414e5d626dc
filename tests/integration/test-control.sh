#!/usr/bin/env bash
# stop, kill, restart, wait, --stop-signal, --restart policies with back-off,
# attach with detach keys.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

rec_field() { # rec_field CONTAINER KEY
    berth inspect "$1" 2>/dev/null | json_eval "d[0].get('$2')" 2>/dev/null || true
}

# --- stop ---------------------------------------------------------------------------
# pid 1 without a handler ignores SIGTERM: stop -t 1 must SIGKILL after 1 s.
assert_status 0 berth run -d --name deaf busybox sleep 300
t0=$(date +%s.%N)
assert_status 0 berth stop -t 1 deaf
dt=$(echo "$(date +%s.%N) - $t0" | bc)
note "stop -t 1 of a container ignoring SIGTERM took $dt s"
assert_true "it stopped within the timeout + 1 s" test "$(echo "$dt < 2.5" | bc)" = 1
assert_eq "137" "$(rec_field deaf exit_code)" "killed by SIGKILL: 137"
assert_eq "exited" "$(rec_field deaf state)" "state exited"
assert_status 0 berth stop deaf
assert_eq "deaf" "$OUT" "stop of a stopped container is fine"
assert_status 0 berth rm deaf

# A container with a handler ends at once with its own status.
assert_status 0 berth run -d --name polite busybox sh -c 'trap "exit 5" TERM; while :; do sleep 0.1; done'
t0=$SECONDS
assert_status 0 berth stop -t 30 polite
assert_true "stop did not wait for the timeout" test $((SECONDS - t0)) -lt 10
assert_eq "5" "$(rec_field polite exit_code)" "the handler's exit status"
assert_status 0 berth rm polite

# --stop-signal
assert_status 0 berth run -d --name usr --stop-signal USR1 busybox sh -c 'trap "exit 7" USR1; while :; do sleep 0.1; done'
assert_status 0 berth stop -t 30 usr
assert_eq "7" "$(rec_field usr exit_code)" "stop sends --stop-signal"
assert_status 0 berth rm usr

assert_status 125 berth stop -t abc nosuch
assert_error stop "-t not a number"
assert_status 125 berth stop nosuch
assert_error stop "an unknown container"
assert_status 125 berth run -d --stop-signal SIGNOPE busybox true
assert_error run "an unknown stop signal"

# --- kill ------------------------------------------------------------------------------
assert_status 0 berth run -d --name k busybox sh -c 'trap "exit 9" HUP; while :; do sleep 0.1; done'
assert_status 0 berth kill -s HUP k
assert_status 0 berth wait k
assert_eq "9" "$OUT" "kill -s HUP reached the handler; wait prints its status"
assert_status 125 berth kill k
assert_error kill "kill of a stopped container"
assert_status 0 berth start k
assert_status 0 berth kill k
assert_status 0 berth wait k
assert_eq "137" "$OUT" "kill sends SIGKILL by default"
assert_status 125 berth kill -s NOPE k
assert_error kill "an unknown signal"
assert_status 0 berth rm k

# --- restart -----------------------------------------------------------------------------
assert_status 0 berth run -d --name r busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
pid1=$(rec_field r pid)
assert_status 0 berth restart -t 5 r
pid2=$(rec_field r pid)
assert_eq "running" "$(rec_field r state)" "restart: running again"
if [[ -n $pid2 && $pid2 != "$pid1" && $pid2 != 0 ]]; then ok "restart: a new process"; else fail "restart: pid $pid1 -> $pid2"; fi
assert_status 0 berth rm -f r

# --- restart policies ------------------------------------------------------------------------
assert_status 0 berth run -d --name of --restart on-failure:2 busybox sh -c 'exit 1'
t0=$(date +%s.%N)
assert_status 0 berth wait of
dt=$(echo "$(date +%s.%N) - $t0" | bc)
assert_eq "1" "$OUT" "on-failure:2: the last exit status"
assert_eq "2" "$(rec_field of restart_count)" "on-failure:2 restarted twice"
assert_true "back-off: 100 ms then 200 ms (took $dt s)" test "$(echo "$dt >= 0.3" | bc)" = 1
assert_status 0 berth rm of

assert_status 0 berth run -d --name ok --restart on-failure busybox true
assert_status 0 berth wait ok
assert_eq "0" "$(berth inspect ok | json_eval "d[0].get('restart_count', 0)")" "on-failure: no restart after success"
assert_status 0 berth rm ok

assert_status 0 berth run -d --name al --restart always busybox sh -c 'sleep 0.2; exit 0'
assert_true "always: restarts after success" wait_for 10 bash -c \
    "[[ \$('$BERTH' --root '$T/root' --runroot '$T/run' --plugin-path '$PLUGIN_PATH' inspect al | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get(\"restart_count\", 0))') -ge 2 ]]"
assert_status 0 berth stop -t 2 al
assert_eq "exited" "$(rec_field al state)" "always: stop ends it for good"
sleep 0.5
assert_eq "exited" "$(rec_field al state)" "... and it is not restarted"
assert_status 0 berth rm al

assert_status 0 berth run -d --name us --restart unless-stopped busybox sh -c 'exit 2'
assert_true "unless-stopped restarts after a failure" wait_for 10 bash -c \
    "[[ \$('$BERTH' --root '$T/root' --runroot '$T/run' --plugin-path '$PLUGIN_PATH' inspect us | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get(\"restart_count\", 0))') -ge 1 ]]"
assert_status 0 berth rm -f us
assert_status 125 berth inspect us
assert_error inspect "rm -f of a restarting container removes it"

assert_status 125 berth run -d --restart sometimes busybox true
assert_error run "a bad restart policy"
assert_status 125 berth run -d --rm --restart always busybox true
assert_error run "--rm with --restart"

# --- --init ---------------------------------------------------------------------------------
assert_status 0 berth run --rm --init busybox sh -c 'tr "\0" " " </proc/1/cmdline'
assert_eq "/dev/init -- sh -c tr \"\\0\" \" \" </proc/1/cmdline " "$OUT" "--init: berth-init is pid 1, the command its child"
assert_status 0 berth run -d --init --name in busybox sleep 300
t0=$SECONDS
assert_status 0 berth stop -t 20 in
assert_true "--init forwards SIGTERM: stop does not wait for the timeout" test $((SECONDS - t0)) -lt 10
assert_eq "143" "$(rec_field in exit_code)" "--init: the child's status (SIGTERM: 143)"
assert_status 0 berth rm in
assert_status 3 berth run --rm --init busybox sh -c 'exit 3'
assert_status 0 berth run --rm --init busybox sh -c 'sh -c "sleep 0.2 & exit 0"; sleep 0.5; ps -o stat | grep -c Z || true'
assert_eq "0" "$OUT" "--init reaps orphans: no zombie"

# --- attach ----------------------------------------------------------------------------------
assert_status 0 berth run -d --name a busybox sh -c 'i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.2; done'
mkfifo "$T/in"
(sleep 1; printf '\x10\x11') >"$T/in" &
set +e
timeout 10 "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" attach a <"$T/in" >"$T/attach.out" 2>&1
rc=$?
set -e
wait
assert_eq 0 "$rc" "attach ends with ctrl-p ctrl-q, exit 0"
assert_match "$(cat "$T/attach.out")" 'tick[0-9]+' "attach relayed the output"
assert_eq "running" "$(rec_field a state)" "the container runs on after the detach"
(sleep 0.6; printf 'x') >"$T/in" &
set +e
timeout 10 "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" attach --detach-keys x a <"$T/in" >/dev/null 2>&1
rc=$?
set -e
wait
assert_eq 0 "$rc" "--detach-keys x"
assert_status 125 berth attach --detach-keys ctrl-ä a
assert_error attach "bad detach keys"
assert_status 0 berth rm -f a

# -d -i: attach feeds the container's stdin; -d -it: the monitor holds the pty.
assert_status 0 berth run -d -i --name in1 busybox sh -c 'read x; echo got:$x'
(sleep 0.5; printf 'hello\n'; sleep 1) >"$T/in" &
set +e
out=$(timeout 10 "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" attach in1 <"$T/in")
set -e
wait
assert_eq "got:hello" "$out" "attach to -d -i: input reaches the container, its output comes back"
assert_status 0 berth rm -f in1
assert_status 0 berth run -d -it --name tt busybox sh
(sleep 0.5; printf 'echo marker$((6*7))\n'; sleep 0.5; printf '\x10\x11') >"$T/in" &
set +e
out=$(timeout 10 "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" attach tt <"$T/in")
rc=$?
set -e
wait
assert_eq 0 "$rc" "attach to -d -it, detached with ctrl-p ctrl-q"
assert_contains "$out" "marker42" "the terminal's shell ran what attach typed"
assert_status 0 berth logs tt
assert_contains "$OUT" "marker42" "the terminal's output is in the log too"
assert_eq "running" "$(rec_field tt state)" "the -it container runs on"
assert_status 0 berth rm -f tt

assert_status 0 berth run -d --name ends busybox sh -c 'sleep 0.5; echo bye; exit 6'
capture timeout 10 "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" attach ends
assert_eq 6 "$RC" "attach returns the container's exit status when it ends"
assert_contains "$OUT" "bye" "attach printed its output"
assert_status 0 berth rm ends
assert_status 125 berth attach ends
assert_error attach "attach to a removed container"

finish
