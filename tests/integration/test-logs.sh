#!/usr/bin/env bash
# The json-file log of detached containers: format, streams, 100 MB without
# loss, order, rotation, and berth logs -f/--tail/--since/-t.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

log_of() { printf '%s/root/containers/%s/json.log' "$T" "$1"; }

# --- format and streams ---------------------------------------------------------
assert_status 0 berth run -d --name s busybox sh -c 'echo out1; echo err1 >&2; sleep 0.3; printf "tab\t\"q\" \\\\ no-newline"'
id=$OUT
assert_status 0 berth wait s
assert_status 0 berth logs s
assert_eq $'out1\ntab\t"q" \\ no-newline' "$OUT" "logs: stdout to stdout, bytes exact"
assert_eq "err1" "$ERR" "logs: stderr to stderr"
capture python3 -c '
import json, re, sys
streams = []
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert set(d) == {"log", "stream", "time"}, d
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", d["time"]), d["time"]
    streams.append(d["stream"])
print(" ".join(sorted(set(streams))))
' "$(log_of "$id")"
assert_eq "stderr stdout" "$OUT" "every line is docker json-file: log, stream, RFC 3339 nano time"
assert_status 0 berth logs -t s
assert_match "$OUT" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z out1' "logs -t prefixes the time"
assert_status 0 berth logs --tail 1 s
assert_eq $'tab\t"q" \\ no-newline' "$OUT" "logs --tail 1 gives the last stdout entry"
assert_eq "" "$ERR" "logs --tail 1: the stderr line is before it"
assert_status 0 berth logs --since 1h s
assert_contains "$OUT" "out1" "logs --since 1h shows the output"
assert_status 0 berth logs --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" s
assert_eq "" "$OUT" "logs --since a future time shows nothing"
assert_status 125 berth logs --since yesterday-ish s
assert_error logs "a bad --since"
assert_status 125 berth logs --tail x s
assert_error logs "a bad --tail"
assert_status 125 berth logs nosuch
assert_error logs "logs of an unknown container"
assert_status 0 berth rm s
assert_eq "absent" "$(tree_digest "$T/root/containers/$id")" "rm removes the log"

# --- 100 MB quickly, nothing lost; lines in order --------------------------------
assert_status 0 berth run -d --name big busybox sh -c 'head -c 100000000 /dev/zero | tr "\0" a'
start=$SECONDS
assert_status 0 berth wait big
note "100 MB written in $((SECONDS - start)) s"
n=$(berth logs big | wc -c)
assert_eq 100000000 "$n" "100 MB written, 100 MB in the log: nothing lost"
assert_status 0 berth rm big

assert_status 0 berth run -d --name seq busybox seq 1 100000
assert_status 0 berth wait seq
assert_eq "$(seq 1 100000 | sha256sum)" "$(berth logs seq | sha256sum)" "100000 lines complete and in order"
assert_status 0 berth rm seq

# --- follow ------------------------------------------------------------------------
assert_status 0 berth run -d --name f busybox sh -c 'for i in 1 2 3 4 5; do echo $i; sleep 0.2; done'
capture timeout 20 "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" logs -f f
assert_eq 0 "$RC" "logs -f ends when the container stops"
assert_eq $'1\n2\n3\n4\n5' "$OUT" "logs -f printed everything, in order"
assert_status 0 berth rm f

# --- rotation ------------------------------------------------------------------------
assert_status 0 berth run -d --name rot --log-opt max-size=10k --log-opt max-file=3 busybox seq 1 20000
rid=$OUT
assert_status 0 berth wait rot
assert_true "json.log.1 and json.log.2 exist" test -f "$(log_of "$rid").1" -a -f "$(log_of "$rid").2"
assert_true "no json.log.3 (max-file=3)" test ! -e "$(log_of "$rid").3"
big=$(find "$T/root/containers/$rid" -name 'json.log*' -size +10k | wc -l)
assert_eq 0 "$big" "no file passes max-size"
out=$(berth logs rot)
last=$(tail -n 1 <<<"$out")
first=$(head -n 1 <<<"$out")
assert_eq 20000 "$last" "the newest lines are kept"
assert_eq "$(seq "$first" 20000)" "$out" "what is kept is contiguous, rotated files first"
assert_status 0 berth rm rot

assert_status 125 berth run -d --log-opt max-size=12q busybox true
assert_error run "max-size=12q"
assert_status 125 berth run -d --log-opt color=blue busybox true
assert_error run "an unknown log option"
assert_status 125 berth run -d --log-opt max-file=2 busybox true
assert_error run "max-file without max-size"

# --- foreground runs keep the terminal: no log -----------------------------------------
assert_status 0 berth run --name fg busybox echo direct
assert_eq "direct" "$OUT" "a foreground run writes to berth's stdout"
fid=$(berth inspect fg | json_eval "d[0]['id']")
assert_true "a foreground run has no log file" test ! -e "$(log_of "$fid")"
assert_status 0 berth rm fg

finish
