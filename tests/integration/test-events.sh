#!/usr/bin/env bash
# The event journal (ROOT/events.jsonl) and `berth events`: a run's events
# in order, the same stream the hook plugins see, filters, --since/--until in
# each time format, live following of a new container, bad input refused.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

JOURNAL=$T/root/events.jsonl
names_of() { # JSON lines on stdin → "event event …"
    python3 -c '
import json, sys
print(" ".join(json.loads(l)["event"] for l in sys.stdin if l.strip()))'
}

t0=$(date +%s.%N)
assert_status 0 berth run --rm --network none --name ev1 busybox true
assert_status 3 berth run --rm --network none --name ev2 busybox sh -c 'exit 3'
t1=$(date +%s.%N)
sleep 0.05
assert_status 0 berth run --rm --network none --name ev3 busybox true

# Past events of one run, in order.
capture berth events --since "$t0" --until 0s --filter container=ev1 --format json
assert_eq 0 "$RC" "events --since --until (past only) ends by itself"
seq=$(names_of <<<"$OUT")
assert_eq "create prepare-storage mount-volumes join-network create-process prestart started exited stopped deleted" \
    "$seq" "a run's events in order: create … started exited stopped deleted"
assert_eq 10 "$(printf '%s\n' "$OUT" | grep -c '"phase"')" "one line per event"
line=$(grep '"event":"exited"' <<<"$OUT" | head -1)
assert_eq 0 "$(json_eval 'd["exit_status"]' <<<"$line")" "exited carries the exit status"
assert_eq busybox "$(json_eval 'd["image"]' <<<"$line")" "events carry the image"
assert_match "$(json_eval 'd["time"]' <<<"$line")" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$' "time is RFC 3339 with ns"
id1=$(json_eval 'd["id"]' <<<"$line")

# The hooks see the same stream: the journal plugin's copy matches.
plugin_journal=$(find "$T/root/plugins" -name events.jsonl -print -quit)
if [[ -n $plugin_journal ]]; then
    assert_eq "$(grep "\"$id1\"" "$JOURNAL" | names_of)" \
        "$(grep "\"$id1\"" "$plugin_journal" | names_of)" "the hook plugins saw the same events"
else
    note "no journal plugin loaded: skipping the hook comparison"
fi

# Filters: by id prefix, event, image; keys combine, values alternate.
capture berth events --since "$t0" --until 0s --filter "container=${id1:0:12}" --format json
assert_eq 10 "$(grep -c . <<<"$OUT")" "filter container=ID prefix"
capture berth events --since "$t0" --until 0s --filter event=exited --format json
assert_eq 3 "$(grep -c . <<<"$OUT")" "filter event=exited: one per run"
capture berth events --since "$t0" --until 0s --filter event=exited --filter container=ev2 \
    --format json
assert_eq 3 "$(json_eval 'd["exit_status"]' <<<"$OUT")" "filters combine: ev2's exit status 3"
capture berth events --since "$t0" --until 0s --filter event=create --filter event=deleted \
    --filter container=ev3 --format json
assert_eq "create deleted" "$(names_of <<<"$OUT")" "one key twice: either value"
capture berth events --since "$t0" --until 0s --filter image=nothing --format json
assert_eq "" "$OUT" "filter image=… excludes"

# --since / --until in each format.
capture berth events --since "$t1" --until 0s --filter event=create --format json
assert_eq 1 "$(grep -c . <<<"$OUT")" "--since unix seconds excludes earlier runs"
since_rfc=$(date -u -d "@${t1%.*}" +%Y-%m-%dT%H:%M:%SZ)
capture berth events --since "$since_rfc" --until 0s --filter event=create --format json
[[ $(grep -c . <<<"$OUT") -ge 1 ]] && ok "--since RFC 3339" || fail "--since RFC 3339: $OUT"
capture berth events --since 10m --until 0s --filter event=create --format json
assert_eq 3 "$(grep -c . <<<"$OUT")" "--since 10m (relative)"
capture berth events --since 10m --until "$t0" --format json
assert_eq "" "$OUT" "--until before the runs: nothing"
capture berth events --since 10m --until 0s --filter container=ev2 --filter event=stopped
assert_match "$OUT" "container stopped [0-9a-f]{64} \(image=busybox, name=ev2, exitCode=3\)" \
    "the table format"

# Live: a follower started before a new container sees its events, and
# stops by itself at --until.
until=$(($(date +%s) + 4))
"$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" events \
    --until "$until" --filter container=live --format json >"$T/live.out" 2>&1 &
follower=$!
sleep 0.5
assert_status 0 berth run --rm --network none --name live busybox true
wait_for 3 grep -q '"event":"deleted"' "$T/live.out" || true
assert_eq "create prepare-storage mount-volumes join-network create-process prestart started exited stopped deleted" \
    "$(names_of <"$T/live.out")" "events follows a new container live"
deadline=$((SECONDS + 8))
while kill -0 "$follower" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do sleep 0.1; done
if kill -0 "$follower" 2>/dev/null; then
    fail "events did not stop at --until"
    kill "$follower"
else
    ok "events stops at --until"
fi
wait "$follower" || true
# Without --since only new events are shown.
"$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" events \
    --until "$(($(date +%s) + 2))" --format json >"$T/new.out" 2>&1
assert_eq "" "$(cat "$T/new.out")" "without --since: no past events"

# Bad input: one line, 125.
capture berth events --since yesterday
assert_error events "--since yesterday"
capture berth events --until 12q
assert_error events "--until 12q"
capture berth events --filter color=red
assert_error events "unknown filter key"
capture berth events --filter event
assert_error events "filter without ="
capture berth events --format yaml
assert_error events "unknown format"

finish
