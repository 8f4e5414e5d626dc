#!/usr/bin/env bash
# berth exec: a process joins a running container — its namespaces (pid,
# mount, uts, ipc, net, cgroup), cgroup, root, capabilities, no_new_privs,
# seccomp filter and environment — and its exit status is berth's.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

bg_run() { # bg_run NAME ARGS… : a foreground berth in the background; output in $T/NAME.out
    local name=$1
    shift
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
        run --rm --name "$name" "$@" </dev/null >"$T/$name.out" 2>&1 &
}

wait_running() { # wait_running NAME
    local state
    for _ in $(seq 100); do
        capture berth inspect "$1"
        state=$(json_eval 'd[0]["state"]' <<<"$OUT" 2>/dev/null || true)
        [[ $state == running ]] && return 0
        sleep 0.1
    done
    fail "container '$1' never became running: $(cat "$T/$1.out" 2>/dev/null)"
    return 1
}

# pid 1 writes a file into a directory of its own (the image may have no /tmp).
bg_run x --hostname exechost -e CVAR=from-run busybox \
    sh -c 'mkdir -p /scratch && echo written-by-pid1 >/scratch/f && exec sleep 60'
BG=$!
wait_running x || die "no running container to exec into"
for _ in $(seq 50); do
    capture berth exec x cat /scratch/f
    [[ $OUT == written-by-pid1 ]] && break
    sleep 0.1
done

# --- namespaces, root, cgroup ---------------------------------------------------
assert_status 0 berth exec x ps -o pid,args
assert_match "$OUT" $'(^|\n) *1 +sleep 60' "ps in exec shows the container's pid 1"
assert_status 0 berth exec x sh -c 'echo $$'
[[ $OUT =~ ^[0-9]+$ && $OUT -gt 1 && $OUT -lt 100 ]] &&
    ok "exec's process has a small pid in the container's pid namespace ($OUT)" ||
    fail "exec's pid in the container: '$OUT'"
assert_status 0 berth exec x hostname
assert_eq "exechost" "$OUT" "same hostname (uts namespace)"
assert_status 0 berth exec x cat /scratch/f
assert_eq "written-by-pid1" "$OUT" "same mount view: a file pid 1 wrote is visible"
for ns in mnt pid uts ipc net cgroup; do
    assert_status 0 berth exec x sh -c "readlink /proc/self/ns/$ns; readlink /proc/1/ns/$ns"
    first=${OUT%%$'\n'*}
    second=${OUT##*$'\n'}
    [[ -n $first && $first == "$second" ]] && ok "same $ns namespace as pid 1 ($first)" ||
        fail "$ns namespace differs from pid 1's: $OUT"
done
assert_status 0 berth exec x sh -c 'cat /proc/self/cgroup; echo --; cat /proc/1/cgroup'
assert_eq "${OUT%%--*}" "${OUT#*--$'\n'}"$'\n' "same cgroups as pid 1"
assert_status 0 berth exec x sh -c 'ls -d /proc/[0-9]* | wc -l'
[[ $OUT -le 4 ]] && ok "only the container's processes are visible ($OUT)" ||
    fail "exec sees $OUT processes: not the container's /proc"
assert_status 0 berth exec x ls /
assert_contains "$OUT" "scratch" "the root is the container's"

# --- privileges -----------------------------------------------------------------------
assert_status 0 berth exec x sh -c 'grep -E "^(CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status'
self_status=$OUT
assert_status 0 berth exec x sh -c 'grep -E "^(CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):" /proc/1/status'
pid1_status=$OUT
assert_eq "$pid1_status" "$self_status" "capabilities, no_new_privs and seccomp mode equal pid 1's"
assert_match "$self_status" $'CapBnd:[ \t]+00000000800405fb' "bounding set is the container's"
assert_match "$self_status" $'NoNewPrivs:[ \t]+1' "no_new_privs"
assert_match "$self_status" $'Seccomp:[ \t]+2' "the container's seccomp filter (mode 2)"
assert_status 0 berth exec -u 65534 x sh -c 'echo "$(id -u):$(id -g)"; grep ^CapEff /proc/self/status'
assert_contains "$OUT" "65534:65534" "-u 65534 (group from the container's /etc/passwd)"
assert_match "$OUT" $'CapEff:[ \t]+0+' "a non-root user has no effective capabilities"
assert_status 0 berth exec -u nobody x id -un
assert_eq "nobody" "$OUT" "-u NAME resolved in the container"

# --- environment, working directory, stdin ------------------------------------------------
assert_status 0 berth exec -e FOO=bar -e 'SP=a b' x sh -c 'printf "%s|%s|%s" "$FOO" "$SP" "$CVAR"'
assert_eq "bar|a b|from-run" "$OUT" "-e K=V on top of the container's env"
assert_status 0 berth exec -e CVAR=over x sh -c 'echo "$CVAR"'
assert_eq "over" "$OUT" "-e overrides the container's value"
assert_status 0 berth exec x sh -c 'echo "$PATH"'
assert_contains "$OUT" "/bin" "the container's PATH"
assert_status 0 berth exec -w /scratch x pwd
assert_eq "/scratch" "$OUT" "-w"
assert_status 0 berth exec x pwd
assert_eq "/" "$OUT" "default working dir: the container's"
out=$(printf 'piped\n' | berth exec -i x cat)
assert_eq "piped" "$out" "-i: stdin passes through"
out=$(printf 'piped\n' | berth exec x cat)
assert_eq "" "$out" "without -i stdin is /dev/null"

# --- exit statuses ----------------------------------------------------------------------------
assert_status 0 berth exec x true
assert_status 3 berth exec x sh -c 'exit 3'
assert_status 126 berth exec x /etc/passwd
assert_contains "$ERR" "/etc/passwd" "126 names the command"
assert_status 127 berth exec x no-such-command
assert_contains "$ERR" "no-such-command" "127 names the command"
capture berth exec x sh -c 'echo out; echo err >&2; exit 5'
assert_eq "5|out|err" "$RC|$OUT|$ERR" "both streams and the status"

# --- detached -------------------------------------------------------------------------------
assert_status 0 berth exec -d x sh -c 'sleep 0.2; echo detached >/scratch/d'
assert_eq "" "$OUT$ERR" "-d prints nothing"
wait_for 5 berth exec x test -s /scratch/d &&
    ok "-d: the command ran" || fail "-d: /scratch/d never appeared"

# --- the sealed binary -----------------------------------------------------------------------
"$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
    exec x sleep 3 </dev/null >/dev/null 2>&1 &
epid=$!
sleep 0.5
exe=$(readlink "/proc/$epid/exe" || true)
assert_contains "$exe" "memfd:berth" "berth exec runs from the sealed memfd ($exe)"
if python3 -c 'import sys; open(sys.argv[1], "r+b")' "/proc/$epid/exe" 2>/dev/null; then
    fail "/proc/PID/exe of berth exec can be opened for writing"
else
    ok "/proc/PID/exe of berth exec cannot be opened for writing"
fi
wait "$epid" || true
# What the process could reach as /proc/self/exe before its exec is the sealed
# copy or nothing (this kernel refuses to exec the memfd through the link).
capture berth exec x /proc/self/exe --version
[[ $OUT == *"berth version"* || $RC -eq 127 || $RC -eq 126 ]] &&
    ok "exec of /proc/self/exe never reaches the host's binary (exit $RC)" ||
    fail "exec of /proc/self/exe: exit $RC: $OUT $ERR"
assert_true "the host's berth binary is not visible in the container" \
    test "$(berth exec x sh -c "ls '$BERTH' 2>/dev/null" || true)" = ""

# --- refusals -----------------------------------------------------------------------------------
assert_status 125 berth exec x
assert_error exec "no command"
assert_status 125 berth exec nosuch true
assert_error exec "unknown container"
capture berth create --name created busybox true
assert_status 125 berth exec created true
assert_error exec "created container"
assert_eq "berth: exec: container 'created' is not running" "$ERR" "the refusal's exact line"
assert_status 0 berth run --name ended busybox true
assert_status 125 berth exec ended true
assert_error exec "exited container"
assert_status 125 berth exec -it x true
assert_error exec "-it without a terminal"
assert_contains "$ERR" "the input device is not a TTY" "-it without a terminal says why"

# --- the container ends: exec is refused, nothing is left ------------------------------------------
capture berth rm -f x
wait "$BG" || true
assert_status 125 berth exec x true
assert_error exec "removed container"
capture berth rm created ended

finish
