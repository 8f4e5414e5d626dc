#!/usr/bin/env bash
# Network costs of berth, in one private network + mount namespace (never the
# host's), with its own --root/--runroot, alternating, medians, ratios:
#
#  1. join+leave of one container's network while 1, 100 and 300 containers
#     are already attached, on bridge+nat with the iptables backend and with
#     --opt nat=nftables, as berth itself times it: `berth --log-level debug
#     run --rm --network NET -p 8080:80 busybox true` logs the cost of its
#     network join (namespace, network load and repair, each driver's join)
#     and of its leave (each driver's leave, namespace removal); the bench
#     adds the two and takes the median over the runs. The attached
#     containers are real ones (`berth run --rm --network NET -p 80 busybox
#     cat`, one berth process and one container process each, on both
#     networks at once), each publishing one port, so that the firewall holds
#     one DNAT per container. Each level is timed 65 s after its containers
#     were attached (--fs-wait, why below). Target: the cost at 300 at most
#     1.5x the cost at 1 (judged on the wall clock, and shown for the CPU
#     time too). The
#     whole `run` (wall and CPU) and `run --network none` are shown beside it.
#  2. `berth run --rm -p 8080:80 busybox true` on the default network
#     (berth0: bridge + nat, iptables) against `--network none`. Target: <= 2x.
#  3. `podman run --rm -p 8080:80 busybox true` (Debian's podman, its default
#     bridge, the same busybox rootfs through `podman import`) in the same
#     rounds. Target: berth at least 5x faster. Skipped, with the reason, if
#     podman does not work here.
#
# Each timing has a wall-clock median and a CPU median (user + system time of
# berth and the processes it waited for): on a shared machine the wall
# clock moves with the load, the CPU time does not. Before each set of
# timings the bench waits until the CPUs are idle (the kernel tears the
# network namespaces of finished containers down in the background, for
# seconds after a batch of them), and reports how long that took.
#
#   bench/network.sh [-n RUNS] [--podman-runs N] [--levels "1 100 300"]
#                    [--no-podman] [--check]
#
#   -n RUNS          timed runs of each berth timing (default 30, at least 20)
#   --podman-runs N  timed podman runs (default: RUNS)
#   --levels LIST    numbers of attached containers for 1. (default "1 100 300")
#   --no-podman      skip 3.
#   --check          exit 1 if a target (wall or CPU) is not met
#   --raw FILE       also write every timed run's steps to FILE (level,
#                    backend, run, step, wall µs, CPU µs; tab-separated)
#   --fs-wait S      seconds to wait after attaching, before timing (default
#                    65; see the comment at attach_to's caller)
#   BERTH=/path/to/berth  use this binary (and BERTH_PLUGIN_DIR, default its
#                         dir's plugins/) instead of building build-bench-net/
#
# podman (installed with apt-get if missing) runs with its own --root and
# --runroot and a containers.conf in the bench's temporary dir (cgroupfs,
# no events, its own tmp_dir), a cgroup parent of the bench's own that is
# removed at the end, and the --ulimit flags this machine needs
# (MACHINE.md). The files podman writes outside its root
# (/var/lib/containers/cache, /run/containers, its lock in /dev/shm) are
# hidden behind tmpfs mounts of the private mount namespace; the empty
# mount points are made and removed again only if missing. crun 1.8 refuses
# the hybrid cgroup layout, so an empty tmpfs hides /sys/fs/cgroup/unified inside
# the private mount namespace only.
#
# The host's links and firewall (`ip link`, iptables-legacy-save,
# iptables-save, `nft list ruleset`) are compared before and after: the
# bench reports any berth*/veth*/podman*/BERTH/NETAVARK difference.
set -euo pipefail

orig_args=("$@")
runs=30
podman_runs=
levels="1 100 300"
use_podman=1
check=0
raw=
fs_wait=65
while [[ $# -gt 0 ]]; do
    case $1 in
    -n)
        runs=$2
        shift 2
        ;;
    --podman-runs)
        podman_runs=$2
        shift 2
        ;;
    --levels)
        levels=$2
        shift 2
        ;;
    --no-podman)
        use_podman=0
        shift
        ;;
    --check)
        check=1
        shift
        ;;
    --fs-wait)
        fs_wait=$2
        shift 2
        ;;
    --raw)
        raw=$(realpath -m "$2")
        : >"$raw"
        shift 2
        ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "network.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
done
if [[ ! $fs_wait =~ ^[0-9]+$ ]]; then
    echo "network.sh: --fs-wait takes seconds" >&2
    exit 2
fi
if [[ ! $runs =~ ^[0-9]+$ ]] || ((runs < 20)); then
    echo "network.sh: at least 20 runs" >&2
    exit 2
fi
podman_runs=${podman_runs:-$runs}
if [[ ! $podman_runs =~ ^[0-9]+$ ]] || ((podman_runs < 10)); then
    echo "network.sh: at least 10 podman runs" >&2
    exit 2
fi
for l in $levels; do
    if [[ ! $l =~ ^[0-9]+$ ]] || ((l < 1 || l > 1000)); then
        echo "network.sh: levels are numbers 1..1000" >&2
        exit 2
    fi
done

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# host_state: the host's berth/veth/podman links and berth/netavark rules.
host_state() {
    echo "links:"
    ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print "  " $2 }' |
        grep -E '^  (berth|veth|podman|cni)' || true
    echo "iptables-legacy:"
    iptables-legacy-save 2>/dev/null | grep -v '^#' | grep -iE 'berth|netavark|cni' | sed 's/^/  /' || true
    echo "iptables (nft):"
    iptables-save 2>/dev/null | grep -v '^#' | grep -iE 'berth|netavark|cni' | sed 's/^/  /' || true
    echo "nft:"
    nft list ruleset 2>/dev/null | grep -iE 'berth|netavark|cni' | sed 's/^/  /' || true
}

if [[ -z ${BERTH_BENCH_IN_NS:-} ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "network.sh: run as root" >&2
        exit 1
    fi
    if [[ ! -x /bin/busybox ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static
    fi
    if [[ $use_podman -eq 1 ]] && ! command -v podman >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y podman ||
            echo "network.sh: could not install podman; its timing will be skipped" >&2
    fi
    if [[ -z ${BERTH:-} ]]; then
        cmake -S "$top" -B "$top/build-bench-net" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
        cmake --build "$top/build-bench-net" -j2 >/dev/null
        BERTH="$top/build-bench-net/berth"
    fi
    BERTH=$(readlink -f "$BERTH")
    export BERTH
    export BERTH_PLUGIN_DIR=${BERTH_PLUGIN_DIR:-$(dirname "$BERTH")/plugins}

    W=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-net.XXXXXX")
    cg_parent="berth-bench-net.$$"
    made_dirs=()
    # shellcheck disable=SC2317 # called by the EXIT trap
    outer_cleanup() {
        # podman's cgroups (cgroupfs) live in the host's hierarchy: remove
        # the bench's own parent, deepest first.
        local c
        for c in /sys/fs/cgroup/*/"$cg_parent"; do
            [[ -d $c ]] || continue
            find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [[ -d $c ]] && echo "network.sh: could not remove cgroup $c" >&2
        done
        local i
        for ((i = ${#made_dirs[@]} - 1; i >= 0; i--)); do
            rmdir "${made_dirs[i]}" 2>/dev/null || true
        done
        rm -rf --one-file-system -- "$W"
    }
    trap outer_cleanup EXIT
    if [[ $use_podman -eq 1 ]]; then
        # Mount points for the tmpfs that hide what podman writes outside
        # its root; made (empty) only when missing, removed at the end.
        for d in /var/lib/containers /var/lib/containers/cache /run/containers; do
            if [[ ! -d $d ]]; then
                mkdir "$d"
                made_dirs+=("$d")
            fi
        done
    fi

    host_state >"$W/host-before"
    export BERTH_BENCH_IN_NS=1 BENCH_W=$W BENCH_CG_PARENT=$cg_parent
    rc=0
    unshare --mount --net --propagation private -- bash "$0" "${orig_args[@]}" || rc=$?
    host_state >"$W/host-after"
    if cmp -s "$W/host-before" "$W/host-after"; then
        echo "host namespace: links and firewall unchanged (compared before/after)"
        if grep -q '^  ' "$W/host-before"; then
            echo "  (the host held berth/podman objects before the bench started, not touched:)"
            grep '^  ' "$W/host-before" | head -5 | sed 's/^/  /'
        fi
    else
        echo "host namespace CHANGED during the bench (possibly by something else):" >&2
        diff "$W/host-before" "$W/host-after" >&2 || true
        [[ $rc -ne 0 ]] || rc=1
    fi
    exit "$rc"
fi

# --- inside the private namespaces -------------------------------------------
W=$BENCH_W
ip link set lo up
# crun 1.8 refuses the hybrid layout (MACHINE.md): an empty tmpfs over the
# v2 hierarchy in this mount namespace only. Not an umount: that would let
# crun make its cgroup directories in the tmpfs of /sys/fs/cgroup below it,
# a file system the host shares, where they would outlive the bench.
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    mount -t tmpfs -o size=1m tmpfs /sys/fs/cgroup/unified
fi

# The runroot on a tmpfs, as /run/berth is: what lives there (network
# namespace files, run directories) is not made on this machine's slow ext4.
mkdir -p "$W/run"
mount -t tmpfs -o mode=0700 tmpfs "$W/run"
b() {
    "$BERTH" --root "$W/root" --runroot "$W/run" --plugin-path "$BERTH_PLUGIN_DIR" "$@"
}

holder=
attached_pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
inner_cleanup() {
    local rc=$?
    set +e
    # EOF on the attached containers' stdin: their `cat` exits, each berth
    # run leaves the network and removes the container.
    if [[ -n $holder ]]; then
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
    fi
    local deadline=$((SECONDS + 180)) p alive
    while :; do
        alive=0
        for p in "${attached_pids[@]}"; do
            kill -0 "$p" 2>/dev/null && alive=$((alive + 1))
        done
        ((alive == 0 || SECONDS > deadline)) && break
        sleep 0.2
    done
    if ((alive > 0)); then
        echo "network.sh: $alive attached containers still running, removing them" >&2
        b ps -q 2>/dev/null | while read -r id; do b rm -f "$id" >/dev/null 2>&1; done
        for p in "${attached_pids[@]}"; do kill "$p" 2>/dev/null; done
    fi
    for p in "${attached_pids[@]}"; do wait "$p" 2>/dev/null; done
    if [[ -x $BERTH ]] && [[ -d $W/root ]]; then
        local left
        left=$(b ps -a -q 2>/dev/null | wc -l)
        ((left == 0)) || echo "network.sh: warning: $left containers left in berth's store" >&2
        b network rm bench-ipt bench-nft berth0 >/dev/null 2>&1
        left=$(ip -o link show | grep -cE ': (veth|berth)' || true)
        ((left == 0)) || echo "network.sh: warning: $left berth links left in the private namespace" >&2
    fi
    exit "$rc"
}
trap inner_cleanup EXIT

# The busybox rootfs, as the tests and run-latency.sh make it.
rootfs="$W/rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
cp /bin/busybox "$rootfs/bin/busybox"
while read -r applet; do
    [[ -z $applet || $applet == bin/busybox ]] && continue
    ln -sfn /bin/busybox "$rootfs/$applet"
done < <("$rootfs/bin/busybox" --list-full)
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
tar --numeric-owner -C "$rootfs" -cf "$W/busybox.tar" .
b image import "$W/busybox.tar" busybox >/dev/null

# Two networks of their own, /16 so that 300+ containers fit.
b network create --subnet 10.90.0.0/16 --opt nat=iptables bench-ipt >/dev/null
b network create --subnet 10.91.0.0/16 --opt nat=nftables bench-nft >/dev/null

# --- podman ------------------------------------------------------------------
podman_ok=0
podman_why="not asked for (--no-podman)"
podman_backend=
P=()
U=(--ulimit nofile=1024:1024 --ulimit nproc=32768:32768)
if [[ $use_podman -eq 1 ]]; then
    if ! command -v podman >/dev/null; then
        podman_why="podman is not installed and could not be"
    else
        mount -t tmpfs tmpfs /var/lib/containers
        mkdir -p /var/lib/containers/cache
        mount -t tmpfs tmpfs /run/containers
        mount -t tmpfs tmpfs /dev/shm
        mkdir -p "$W/podman/tmp" "$W/podman/libpod-tmp"
        cat >"$W/podman/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$W/podman/libpod-tmp"
EOF
        export CONTAINERS_CONF="$W/podman/containers.conf"
        P=(env TMPDIR="$W/podman/tmp" podman --root "$W/podman/root" --runroot "$W/podman/run"
            --cgroup-manager cgroupfs)
        if ! out=$("${P[@]}" import "$W/busybox.tar" localhost/busybox 2>&1); then
            podman_why="podman import failed: $(tail -1 <<<"$out")"
        elif ! out=$("${P[@]}" run --rm "${U[@]}" --cgroup-parent "/$BENCH_CG_PARENT" \
            -p 8080:80 localhost/busybox true 2>&1 </dev/null); then
            podman_why="podman run failed: $(tail -1 <<<"$out")"
        else
            podman_ok=1
            podman_backend=$("${P[@]}" info --format '{{.Host.NetworkBackend}}, {{.Host.OCIRuntime.Name}}' 2>/dev/null || echo '?')
            podman_version=$(podman --version | awk '{ print $3 }')
        fi
    fi
fi

# --- the timed commands --------------------------------------------------------
run_none() {
    b run --rm --network none busybox true </dev/null >/dev/null
}
run_net() { # NETWORK
    b --log-level debug run --rm --network "$1" -p 8080:80 busybox true </dev/null >/dev/null \
        2>"$W/net.err"
}
# phases K: appends the join+leave cost the last run_net logged (µs) to K_jw
# (wall) and K_jc (CPU), and each step's to STEPS[K,step] (wall, space-separated).
declare -A STEPS
phases() {
    local -n jw=${1}_jw jc=${1}_jc
    local out step w
    out=$(awk '/^berth: debug: / && / ms \(CPU / {
        line = $0; sub(/^berth: debug: /, "", line)
        n = split(line, f, ": "); what = f[1]; for (i = 2; i < n; i++) what = what ": " f[i]
        split(f[n], v, /[ ()]+/); printf "%s\t%d\t%d\n", what, v[1] * 1000, v[4] * 1000 }' "$W/net.err")
    local join_w join_c leave_w leave_c
    join_w=$(awk -F'\t' '$1 == "network join" { print $2 }' <<<"$out")
    join_c=$(awk -F'\t' '$1 == "network join" { print $3 }' <<<"$out")
    leave_w=$(awk -F'\t' '$1 == "network leave" { print $2 }' <<<"$out")
    leave_c=$(awk -F'\t' '$1 == "network leave" { print $3 }' <<<"$out")
    if [[ -z $join_w || -z $leave_w ]]; then
        echo "network.sh: no join/leave costs in berth's debug log:" >&2
        cat "$W/net.err" >&2
        return 1
    fi
    jw+=($((join_w + leave_w)))
    jc+=($((join_c + leave_c)))
    while IFS=$'\t' read -r step w c; do
        step=${step#network \'bench-*\': }
        STEPS[$1,$step]+="$w "
        if [[ -n $raw ]]; then
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$level" "$1" "$i" "$step" "$w" "$c" >>"$raw"
        fi
    done <<<"$out"
}
run_default() {
    b run --rm -p 8080:80 busybox true </dev/null >/dev/null
}
run_podman() {
    "${P[@]}" run --rm "${U[@]}" --cgroup-parent "/$BENCH_CG_PARENT" -p 8080:80 \
        localhost/busybox true </dev/null >/dev/null 2>"$W/podman.err"
}

for f in run_none run_default; do
    "$f" || {
        echo "network.sh: $f failed" >&2
        exit 1
    }
done
for net in bench-ipt bench-nft; do
    run_net "$net" || {
        echo "network.sh: berth run on $net failed" >&2
        exit 1
    }
done

# timed NAME CMD… : runs CMD, appends its wall-clock µs to NAME_w and the CPU
# µs (user + system) of the processes it waited for to NAME_c. The CPU time
# does not depend on what else the machine runs; wall minus CPU is time
# spent waiting (locks, RCU grace periods, the run queue).
timed() {
    local -n tw=${1}_w tc=${1}_c
    shift
    local t0 t1 u s
    t0=${EPOCHREALTIME/./}
    {
        time "$@" 2>&3
    } 3>&2 2>"$W/time.out" || return 1
    t1=${EPOCHREALTIME/./}
    read -r u s <"$W/time.out"
    tw+=($((t1 - t0)))
    tc+=("$(awk -v x="$u" -v y="$s" 'BEGIN { printf "%d", (x + y) * 1e6 }')")
}
TIMEFORMAT='%3U %3S' # bash prints at most 3 decimals
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mem_avail_kb() {
    awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
}
# pss_kb PID… : proportional set size of these processes and their children.
pss_kb() {
    local p all=() kids
    for p in "$@"; do
        kids=()
        all+=("$p")
        read -r -a kids 2>/dev/null <"/proc/$p/task/$p/children" || true
        all+=("${kids[@]}")
    done
    for p in "${all[@]}"; do
        cat "/proc/$p/smaps_rollup" 2>/dev/null || true
    done | awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}
loadavg() { cut -d' ' -f1 /proc/loadavg; }
# settle: waits (at most 60 s) until the CPUs are less than 10 % busy over
# half a second, and prints how long that took. The kernel tears network
# namespaces down in a workqueue, after the command that dropped them: the
# namespaces of the containers a previous bench or level ended keep it busy
# for seconds, which would be timed as part of the next joins.
settle() {
    local t0=$SECONDS a b
    while ((SECONDS - t0 < 60)); do
        read -r -a a < <(head -1 /proc/stat)
        sleep 0.5
        read -r -a b < <(head -1 /proc/stat)
        # cpu user nice system idle iowait irq softirq steal
        if awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
            split(a, x); split(b, y); t = 0
            for (i = 2; i <= 9; i++) t += y[i] - x[i]
            idle = (y[5] - x[5]) + (y[6] - x[6])
            exit !(t > 0 && (t - idle) / t < 0.10) }'; then
            break
        fi
    done
    echo "$((SECONDS - t0))"
}

# --- 2. and 3.: nothing attached, default network, podman ---------------------
settle0=$(settle)
for ((i = 0; i < 3; i++)); do
    run_none
    run_default
    if [[ $podman_ok -eq 1 ]]; then run_podman; fi
done
none0_w=() none0_c=() def_w=() def_c=() pod_w=() pod_c=()
load0=$(loadavg)
rounds=$runs
((podman_ok == 1 && podman_runs > rounds)) && rounds=$podman_runs
for ((i = 0; i < rounds; i++)); do
    order=(none def pod)
    case $((i % 3)) in
    1) order=(def pod none) ;;
    2) order=(pod none def) ;;
    esac
    for what in "${order[@]}"; do
        case $what in
        none) ((i < runs)) && timed none0 run_none ;;
        def) ((i < runs)) && timed def run_default ;;
        pod)
            if ((podman_ok == 1 && i < podman_runs)); then
                timed pod run_podman || {
                    podman_ok=0
                    podman_why="podman run failed during the rounds: $(tail -1 "$W/podman.err")"
                }
            fi
            ;;
        esac
    done
done
load0="$load0-$(loadavg)"

# --- 1.: join+leave with N attached ------------------------------------------
# The attached containers read their stdin, a FIFO whose only writer is
# $holder: killing it ends them all.
mkfifo "$W/hold"
sleep infinity 1<>"$W/hold" &
holder=$!
declare -A attached=([bench-ipt]=0 [bench-nft]=0)
mem0=$(mem_avail_kb)
attach_to() { # LEVEL: bring both networks to LEVEL attached containers
    local level=$1 net batch p want n deadline
    while ((attached[bench-ipt] < level || attached[bench-nft] < level)); do
        batch=()
        for net in bench-ipt bench-nft; do
            for ((n = 0; n < 10 && attached[$net] < level; n++)); do
                b run --rm --network "$net" -p 80 busybox cat <"$W/hold" >/dev/null 2>>"$W/attach.err" &
                batch+=("$!")
                attached_pids+=("$!")
                attached[$net]=$((attached[$net] + 1))
            done
        done
        want=$((attached[bench-ipt] + attached[bench-nft]))
        deadline=$((SECONDS + 120))
        while (($(b ps -q | wc -l) < want)); do
            for p in "${batch[@]}"; do
                if ! kill -0 "$p" 2>/dev/null; then
                    echo "network.sh: an attached container exited: $(tail -1 "$W/attach.err")" >&2
                    exit 1
                fi
            done
            if ((SECONDS > deadline)); then
                echo "network.sh: containers did not start in time" >&2
                exit 1
            fi
            sleep 0.05
        done
    done
}

declare -A M D S mem_drop pss_per load_lvl settle_lvl
for level in $levels; do
    attach_to "$level"
    mem1=$(mem_avail_kb)
    mem_drop[$level]=$(((mem0 - mem1) / 1024))
    pss_per[$level]=$(($(pss_kb "${attached_pids[@]}") / (2 * level)))
    # Attaching hundreds of containers in seconds frees thousands of inodes
    # (each record is rewritten by rename). On ext4 without a journal (this
    # VM's root, MACHINE.md) every file created in the next 60 s (360 s
    # while the inode table is dirty) walks past those inodes first: 25 µs
    # becomes 0.5-0.8 ms, for every command, whatever it does. The joins are
    # timed once that has passed, as on a machine where the containers were
    # not all started a moment ago.
    sync
    sleep "$fs_wait"
    settle_lvl[$level]=$(settle)
    for ((i = 0; i < 2; i++)); do
        run_none
        run_net bench-ipt
        run_net bench-nft
    done
    load_lvl[$level]=$(loadavg)
    # shellcheck disable=SC2034 # filled through namerefs by timed
    n_w=() n_c=() ipt_w=() ipt_c=() nft_w=() nft_c=() ipt_jw=() ipt_jc=() nft_jw=() nft_jc=()
    # Emptied whole: `unset "STEPS[$key]"` leaves a key with a quote in it
    # (driver 'nat' join) in place, and its level would pool the earlier ones.
    STEPS=()
    for ((i = 0; i < runs; i++)); do
        order=(none ipt nft)
        case $((i % 3)) in
        1) order=(ipt nft none) ;;
        2) order=(nft none ipt) ;;
        esac
        for what in "${order[@]}"; do
            case $what in
            none) timed n run_none ;;
            ipt) timed ipt run_net bench-ipt; phases ipt ;;
            nft) timed nft run_net bench-nft; phases nft ;;
            esac
        done
    done
    load_lvl[$level]="${load_lvl[$level]}-$(loadavg)"
    for k in n ipt nft; do
        for u in w c; do
            declare -n arr=${k}_$u
            M[$k,$u,$level]=$(median "${arr[@]}")
            unset -n arr
        done
    done
    for k in ipt nft; do
        declare -n sumw=${k}_jw sumc=${k}_jc
        D[$k,w,$level]=$(median "${sumw[@]}")
        D[$k,c,$level]=$(median "${sumc[@]}")
        unset -n sumw sumc
        for key in "${!STEPS[@]}"; do
            [[ $key == "$k,"* ]] || continue
            # shellcheck disable=SC2086 # the list is space-separated numbers
            S[$k,$level,${key#*,}]=$(median ${STEPS[$key]})
        done
    done
done
# --- report ----------------------------------------------------------------------
first=${levels%% *}
last=${levels##* }
met_all=1
line() { # WHAT WALL CPU RATIO TARGET RESULT
    printf '| %-56s | %9s | %9s | %6s | %-6s | %-7s |\n' "$1" "$2" "$3" "$4" "$5" "$6"
}
ms() { awk -v u="$1" 'BEGIN { printf "%.1f ms", u / 1000 }'; }
verdict() { # VALUE OP TARGET -> met / NOT met
    if awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !(op == "le" ? v <= t : v >= t) }'; then
        echo met
    else
        met_all=0
        echo "NOT met"
    fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.2f", a / b }'; }

echo
echo "berth network bench, $(date -u +%Y-%m-%d), kernel $(uname -r), $(nproc) cores; $runs runs of each berth timing, alternating; medians"
echo "wall: elapsed time; CPU: user+system time of berth and the processes it waited for"
echo "join+leave: berth's own timing of its network join and leave (--log-level debug), median over the runs"
echo "attached: real containers (berth run --rm --network NET -p 80 busybox cat), one published port each, both networks at once"
for level in $levels; do
    echo "  $level per network ($((2 * level)) containers): $((pss_per[$level])) kB PSS per container (berth + its container process); MemAvailable $((mem_drop[$level])) MB below the start; load average ${load_lvl[$level]}; timed after ${fs_wait} s + ${settle_lvl[$level]} s idle"
done
echo "  nothing attached (2., 3.): load average $load0; settled in $settle0 s"
echo
line "what" "wall" "CPU" "ratio" "target" "result"
line "--------------------------------------------------------" "---------" "---------" "------" "------" "-------"
for backend in ipt nft; do
    name=iptables
    [[ $backend == nft ]] && name=nftables
    cw1=${D[$backend,w,$first]}
    cc1=${D[$backend,c,$first]}
    for level in $levels; do
        line "run --network none, $level attached" "$(ms "${M[n,w,$level]}")" "$(ms "${M[n,c,$level]}")" "" "" ""
        line "run --network NET -p 8080:80, $name, $level attached" "$(ms "${M[$backend,w,$level]}")" "$(ms "${M[$backend,c,$level]}")" "" "" ""
        cw=${D[$backend,w,$level]}
        cc=${D[$backend,c,$level]}
        r=$(ratio "$cw" "$cw1")
        if [[ $level == "$first" ]]; then
            line "  join+leave ($name), $level attached" "$(ms "$cw")" "$(ms "$cc")" "1.00" "" ""
        elif [[ $level == "$last" ]]; then
            line "  join+leave ($name), $level attached" "$(ms "$cw")" "$(ms "$cc")" "$r" "<= 1.5" "$(verdict "$r" le 1.5)"
            r=$(ratio "$cc" "$cc1")
            line "  the same in CPU time, $level attached vs $first" "" "$(ms "$cc")" "$r" "<= 1.5" "$(verdict "$r" le 1.5)"
        else
            line "  join+leave ($name), $level attached" "$(ms "$cw")" "$(ms "$cc")" "$r" "" ""
        fi
    done
done
echo
echo "join and leave step by step (wall, medians):"
for backend in ipt nft; do
    for key in "${!S[@]}"; do
        [[ $key == "$backend,$first,"* ]] || continue
        step=${key#"$backend,$first,"}
        row="  $backend  $(printf '%-32s' "$step")"
        for level in $levels; do
            row+="  $level: $(awk -v u="${S[$backend,$level,$step]:-0}" 'BEGIN { printf "%.2f ms", u / 1000 }')"
        done
        echo "$row"
    done | sort
done
m_none0=$(median "${none0_w[@]}")
m_def=$(median "${def_w[@]}")
line "run --rm --network none (nothing attached)" "$(ms "$m_none0")" "$(ms "$(median "${none0_c[@]}")")" "1.00" "" ""
r=$(ratio "$m_def" "$m_none0")
line "run --rm -p 8080:80 (berth0: bridge+nat iptables)" "$(ms "$m_def")" "$(ms "$(median "${def_c[@]}")")" "$r" "<= 2" "$(verdict "$r" le 2)"
if ((podman_ok == 1)); then
    m_pod=$(median "${pod_w[@]}")
    r=$(ratio "$m_pod" "$m_def")
    line "podman run --rm -p 8080:80 (${#pod_w[@]} runs), vs berth's" "$(ms "$m_pod")" "$(ms "$(median "${pod_c[@]}")")" "$r" ">= 5" "$(verdict "$r" ge 5)"
    echo "podman $podman_version ($podman_backend; cgroupfs) in the same namespace, same rootfs"
else
    line "podman run --rm -p 8080:80" "skipped" "" "" ">= 5" "n/a"
    echo "podman skipped: $podman_why"
    met_all=0
fi
if [[ $check -eq 1 && $met_all -eq 0 ]]; then
    exit 1
fi
exit 0
