#!/usr/bin/env bash
# The container process: pid 1 of its own namespace, hostname, environment,
# working directory, user and group, signals forwarded from berth.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

assert_status 0 berth run --rm busybox sh -c 'echo $$'
assert_eq "1" "$OUT" "the command is pid 1"
assert_status 0 berth run --rm busybox sh -c 'for p in /proc/[0-9]*; do echo "${p#/proc/}"; done'
assert_eq "1" "$OUT" "only the container's own processes are visible (a new /proc)"

assert_status 0 berth run --rm --hostname h1 busybox hostname
assert_eq "h1" "$OUT" "--hostname"
assert_status 0 berth run --rm --hostname h1 busybox cat /proc/sys/kernel/hostname
assert_eq "h1" "$OUT" "--hostname in the uts namespace"
assert_eq "$(hostname)" "$(cat /proc/sys/kernel/hostname)" "host's hostname untouched"

assert_status 0 berth run --rm -e FOO=bar -e 'SP=a b  c' busybox sh -c 'printf "%s|%s" "$FOO" "$SP"'
assert_eq "bar|a b  c" "$OUT" "-e K=V, spaces kept"
assert_status 0 berth run --rm busybox sh -c 'echo "$PATH"'
assert_contains "$OUT" "/bin" "a default PATH is set"
assert_status 127 berth run --rm busybox nonexistent-on-path
assert_contains "$ERR" "not found" "PATH lookup of a missing command says so"

printf '%s\n' '# a comment' '' 'A=1' 'B=two words' 'C=x=y' >"$T/env.list"
assert_status 0 berth run --rm --env-file "$T/env.list" busybox sh -c 'printf "%s|%s|%s" "$A" "$B" "$C"'
assert_eq "1|two words|x=y" "$OUT" "--env-file: comments and blank lines skipped, value kept whole"
assert_status 0 berth run --rm --env-file "$T/env.list" -e A=override busybox sh -c 'echo "$A"'
assert_eq "override" "$OUT" "-e wins over --env-file"
assert_status 125 berth run --rm --env-file "$T/no-such-file" busybox true
assert_error run "missing --env-file"

assert_status 0 berth run --rm -w /tmp busybox pwd
assert_eq "/tmp" "$OUT" "-w"
assert_status 0 berth run --rm busybox pwd
assert_eq "/" "$OUT" "default working dir is /"

assert_status 0 berth run --rm -u 65534:65534 busybox sh -c 'echo "$(id -u):$(id -g)"'
assert_eq "65534:65534" "$OUT" "-u UID:GID"
assert_status 0 berth run --rm -u 65534 busybox id -u
assert_eq "65534" "$OUT" "-u UID"
assert_status 0 berth run --rm -u nobody busybox id -un
assert_eq "nobody" "$OUT" "-u NAME resolved in the container's /etc/passwd"
assert_status 0 berth run --rm -u 65534:65534 busybox sh -c 'grep ^CapEff /proc/self/status'
assert_match "$OUT" $'^CapEff:[ \t]+0+$' "a non-root user has no effective capabilities"
assert_status 0 berth run --rm busybox id -u
assert_eq "0" "$OUT" "default user is root"

# Standard streams pass through.
capture berth run --rm busybox sh -c 'echo out; echo err >&2; exit 5'
assert_eq 5 "$RC" "status with both streams"
assert_eq "out" "$OUT" "stdout passes through"
assert_eq "err" "$ERR" "stderr passes through"
out=$(printf 'piped\n' | berth run --rm busybox cat)
assert_eq "piped" "$out" "stdin passes through"

# A signal sent to berth reaches the container.
# berth itself in the background, not a subshell around it, so $! is berth.
"$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
    run --rm --name sig busybox sh -c 'trap "exit 42" TERM; touch /ready; sleep 60 & wait' \
    </dev/null >/dev/null 2>&1 &
bpid=$!
wait_for_file 30 "$OVERLAY_STATE/containers" ready || fail "container 'sig' never became ready"
sleep 0.2 # the trap is set before touch; give sh time to reach wait
kill -TERM "$bpid"
set +e
wait "$bpid"
rc=$?
set -e
assert_eq 42 "$rc" "SIGTERM to berth reaches the container (its trap's status comes back)"

finish
