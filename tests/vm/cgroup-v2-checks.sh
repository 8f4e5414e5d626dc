#!/bin/sh
# The checks of the cgroup v2 VM (busybox sh, run by tests/vm/init.sh inside
# a kernel booted with cgroup_no_v1=all). Real containers, --root and
# --runroot under /tmp. Prints TAP ("ok N - …" / "not ok N - …"), then
# "1..N" and the summary line tests/vm/cgroup-v2.sh looks for.
cd /berth || exit 1
CG=/sys/fs/cgroup
N=0
FAILED=0

B() { /berth/berth --root /tmp/root --runroot /tmp/run --plugin-path /berth/plugins "$@"; }

ok() {
    N=$((N + 1))
    echo "ok $N - $1"
}
fail() {
    N=$((N + 1))
    FAILED=$((FAILED + 1))
    echo "not ok $N - $1"
}
check_eq() { # check_eq EXPECTED ACTUAL WHAT
    if [ "$1" = "$2" ]; then ok "$3"; else fail "$3: expected '$1', got '$2'"; fi
}
check() { # check WHAT CMD… : passes when CMD succeeds
    what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
# jget KEY < JSON : the first value of "KEY" (a string without quotes or a
# number or boolean); the JSON may be pretty-printed or on one line.
jget() {
    tr '\t\n' '  ' | sed 's/, *"/,\n"/g; s/{ *"/{\n"/g' |
        sed -n "s/^\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" | sed -n 1p
}
wait_state() { # wait_state NAME STATE : up to 10 s
    i=0
    while [ $i -lt 100 ]; do
        [ "$(B inspect "$1" 2>/dev/null | jget state)" = "$2" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
berth_dirs() { find $CG -name 'berth-*' -type d 2>/dev/null; }

mkdir -p /tmp/root /tmp/run
if B image import /berth/busybox-rootfs.tar busybox >/tmp/import.out 2>&1; then
    ok "image import of the busybox rootfs"
else
    fail "image import: $(cat /tmp/import.out)"
fi

# --- the limits, written to the v2 files ------------------------------------
B run -d --network none --name lim --memory 64m --memory-swap 96m --cpus 0.5 --cpu-shares 512 \
    --cpuset-cpus 0 --pids-limit 20 busybox sleep 300 >/tmp/lim.out 2>&1 ||
    echo "# run -d lim: $(cat /tmp/lim.out)"
check "run -d with every limit: running" wait_state lim running
REC=$(B inspect lim)
check_eq v2 "$(echo "$REC" | jget cgroup_mode)" "the layout is detected as v2"
dir=$(echo "$REC" | jget cgroup_path)
id=$(echo "$REC" | jget id)
check_eq "$CG/berth/berth-$id" "$dir" "the cgroup is berth's own cgroup (/) + /berth/berth-ID"
check_eq 67108864 "$(cat "$dir/memory.max")" "--memory 64m: memory.max"
check_eq 33554432 "$(cat "$dir/memory.swap.max")" "--memory-swap 96m: memory.swap.max = swap - memory"
check_eq "50000 100000" "$(cat "$dir/cpu.max")" "--cpus 0.5: cpu.max"
# runc's conversion: 1 + (512 - 2) * 9999 / 262142 = 20
check_eq 20 "$(cat "$dir/cpu.weight")" "--cpu-shares 512: cpu.weight"
check_eq 0 "$(cat "$dir/cpuset.cpus")" "--cpuset-cpus 0: cpuset.cpus"
check_eq 20 "$(cat "$dir/pids.max")" "--pids-limit 20: pids.max"
pid=$(echo "$REC" | jget pid)
check "the container's process ($pid) is in cgroup.procs" grep -qx "$pid" "$dir/cgroup.procs"

# stats from memory.current, pids.current, cpu.stat
S=$(B stats --no-stream --format json lim)
echo "# stats: $S"
mu=$(echo "$S" | jget memory_usage)
check "stats: memory_usage from memory.current is non-zero ($mu)" test "${mu:-0}" -gt 0
check_eq 67108864 "$(echo "$S" | jget memory_limit)" "stats: memory_limit from memory.max"
check_eq 1 "$(echo "$S" | jget pids)" "stats: pids from pids.current"
check_eq 20 "$(echo "$S" | jget pids_limit)" "stats: pids_limit from pids.max"
cu=$(echo "$S" | jget cpu_usage_ns)
check "stats: cpu_usage_ns from cpu.stat is non-zero ($cu)" test "${cu:-0}" -gt 0
check "top lists the container's process" sh -c 'B() { /berth/berth --root /tmp/root --runroot /tmp/run --plugin-path /berth/plugins "$@"; }; B top lim | grep -q "sleep 300"'

# pause / unpause through cgroup.freeze
if B pause lim >/tmp/p.out 2>&1; then ok "pause"; else fail "pause: $(cat /tmp/p.out)"; fi
check_eq 1 "$(cat "$dir/cgroup.freeze" 2>/dev/null)" "pause: cgroup.freeze 1"
check_eq "frozen 1" "$(grep '^frozen' "$dir/cgroup.events")" "pause: cgroup.events frozen 1"
check "ps shows Paused" sh -c '/berth/berth --root /tmp/root --runroot /tmp/run --plugin-path /berth/plugins ps | grep -q Paused'
if B unpause lim >/tmp/p.out 2>&1; then ok "unpause"; else fail "unpause: $(cat /tmp/p.out)"; fi
check_eq "frozen 0" "$(grep '^frozen' "$dir/cgroup.events")" "unpause: cgroup.events frozen 0"

B rm -f lim >/dev/null 2>&1
check "after rm the container's cgroup is gone" test ! -e "$dir"

# --- a limit the kernel refuses: one line, 125, nothing left ----------------
B run --rm --network none --cpuset-cpus 7 busybox true >/tmp/r.out 2>&1
rc=$?
check_eq 125 "$rc" "--cpuset-cpus 7 on a 2-CPU VM is refused with 125"
check_eq 1 "$(wc -l </tmp/r.out)" "… in one line: $(cat /tmp/r.out)"
check_eq "" "$(berth_dirs)" "… and no cgroup is left"

# --- a fork bomb stops at the pids limit ------------------------------------
# A subshell forks sleeps until a fork fails (busybox sh then exits); pid 1
# waits for it and then needs one more fork itself (the "; true" keeps sh
# from exec'ing its last command): 1 + 18 sleeps + 1 = 20.
# shellcheck disable=SC2016 # expanded by the container's shell
B run -d --network none --name bomb --pids-limit 20 busybox \
    sh -c '(while :; do sleep 300 & done); sleep 300; true' >/tmp/b.out 2>&1 ||
    echo "# run bomb: $(cat /tmp/b.out)"
check "the fork bomb is running" wait_state bomb running
bdir=$(B inspect bomb | jget cgroup_path)
i=0
while [ $i -lt 100 ] && [ "$(cat "$bdir/pids.current" 2>/dev/null)" != 20 ]; do
    sleep 0.2
    i=$((i + 1))
done
check_eq 20 "$(cat "$bdir/pids.current" 2>/dev/null)" "the fork bomb holds exactly pids.max (20) tasks"
maxev=$(sed -n 's/^max //p' "$bdir/pids.events" 2>/dev/null)
check "pids.events counts refused forks ($maxev)" test "${maxev:-0}" -gt 0
check "the refused fork is what the bomb saw (logs: can't fork)" sh -c \
    '/berth/berth --root /tmp/root --runroot /tmp/run --plugin-path /berth/plugins logs bomb 2>&1 | grep -q "can.t fork"'
check_eq running "$(B inspect bomb | jget state)" "the container survives its fork bomb"
B rm -f bomb >/dev/null 2>&1
check "after rm -f the fork bomb's cgroup is gone" test ! -e "$bdir"

# --- a memory hog is OOM-killed ----------------------------------------------
# shellcheck disable=SC2016 # expanded by the container's shell
B run -d --network none --name hog --memory 16m busybox \
    sh -c 'x=a; while :; do x="$x$x"; done' >/tmp/h.out 2>&1 || echo "# run hog: $(cat /tmp/h.out)"
st=$(timeout 60 /berth/berth --root /tmp/root --runroot /tmp/run --plugin-path /berth/plugins wait hog 2>&1)
check_eq 137 "$st" "the memory hog over --memory 16m is killed (wait prints 137)"
H=$(B inspect hog)
check_eq true "$(echo "$H" | jget oom_killed)" "inspect reports oom_killed true"
B rm -f hog >/dev/null 2>&1

# --- --cgroup-parent ----------------------------------------------------------
B run -d --network none --name par --cgroup-parent /vmtest/sub --memory 32m busybox \
    sleep 300 >/tmp/c.out 2>&1 || echo "# run par: $(cat /tmp/c.out)"
check "run --cgroup-parent /vmtest/sub: running" wait_state par running
P=$(B inspect par)
pdir=$(echo "$P" | jget cgroup_path)
pid=$(echo "$P" | jget pid)
check_eq "$CG/vmtest/sub/berth-$(echo "$P" | jget id)" "$pdir" "--cgroup-parent puts the cgroup there"
check "… the process is in it" grep -qx "$pid" "$pdir/cgroup.procs"
check_eq 33554432 "$(cat "$pdir/memory.max" 2>/dev/null)" "… with its memory.max (controllers delegated down the parent)"
# The cgroup namespace is made at the clone, rooted at berth's own cgroup
# (here the root): inside, the container's cgroup shows as its full path.
inner=$(B exec par cat /proc/self/cgroup 2>&1)
check_eq "0::${pdir#"$CG"}" "$inner" "exec joins the container's cgroup"
B rm -f par >/dev/null 2>&1
check "after rm the cgroup under the parent is gone" test ! -e "$pdir"
check "the given parent is kept" test -d $CG/vmtest/sub
rmdir $CG/vmtest/sub $CG/vmtest

# --- berth in a cgroup that holds processes ----------------------------------
# The default parent is berth's own cgroup + /berth; a cgroup with processes
# cannot delegate controllers ("no internal processes"): only a limit that
# needs one is refused, with a hint; without limits the container runs.
mkdir -p $CG/busy
in_busy() { # in_busy CMD… : runs berth from inside $CG/busy
    # shellcheck disable=SC2016 # expanded by the inner shell
    sh -c 'echo $$ >/sys/fs/cgroup/busy/cgroup.procs && exec "$@"' sh \
        /berth/berth --root /tmp/root --runroot /tmp/run --plugin-path /berth/plugins "$@"
}
in_busy run --rm --network none --memory 32m busybox true >/tmp/busy.out 2>&1
check_eq 125 "$?" "from a cgroup holding processes, --memory is refused (125)"
check "… with one line naming the cgroup and --cgroup-parent: $(cat /tmp/busy.out)" \
    grep -q "cannot enable the 'memory' controller in '$CG/busy'.*--cgroup-parent" /tmp/busy.out
# pids (like cpu and cpuset) is a threaded controller: the kernel would take
# it in a cgroup with processes and make that a thread root, where the
# container's (domain) cgroup could then not be joined.
in_busy run --rm --network none --pids-limit 10 busybox true >/tmp/busy.out 2>&1
check_eq 125 "$?" "from a cgroup holding processes, --pids-limit is refused (125)"
check "… with the hint, not a failed join: $(cat /tmp/busy.out)" \
    grep -q "cannot enable the 'pids' controller in '$CG/busy'.*--cgroup-parent" /tmp/busy.out
check_eq "" "$(cat $CG/busy/cgroup.subtree_control)" "… and nothing was enabled in it"
out=$(in_busy run --rm --network none busybox cat /proc/self/cgroup 2>&1)
# (the cgroup namespace is rooted at berth's own cgroup, /busy: inside,
# the container's cgroup is /busy/berth/berth-ID seen from there)
check "… without limits the container runs below it ($out)" \
    sh -c "echo '$out' | grep -q '^0::/berth/berth-[0-9a-f]*\$'"
check_eq "" "$(find $CG/busy -mindepth 1 -type d)" "… and leaves nothing under it"
rmdir $CG/busy

# --- nothing left ----------------------------------------------------------------
check_eq "" "$(berth_dirs)" "no container cgroup is left anywhere"
check "the default parent $CG/berth is removed with its last container" test ! -e $CG/berth
check_eq "" "$(B ps -a -q)" "no container is left"

echo "1..$N"
echo "# cgroup-v2 summary: $((N - FAILED)) passed, $FAILED failed"
