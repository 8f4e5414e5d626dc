#!/usr/bin/env bash
# Resident memory of the per-container monitor: berth's (core/monitor/)
# against podman's conmon, N detached containers each, side by side in the
# same run, same busybox rootfs, same command (sleep). Prints the mean
# VmRSS (what the issue's target is stated in) and the mean Pss (the share
# of really used memory) per container of both, and the ratios.
# Target: berth's VmRSS at most half of conmon's.
#
#   bench/monitor.sh [-n N] [--no-podman] [--check]
#
#   -n N         detached containers of each (default 10)
#   --no-podman  measure berth only (conmon's figure from MACHINE.md: 2.4 MB)
#   --check      exit 1 if the target is not met
#   BERTH=/path/to/berth  use this binary (and BERTH_PLUGIN_DIR, default its
#                         dir's plugins/) instead of building build-bench-mon/
#
# Everything runs inside a private mount and network namespace with its own
# --root/--runroot (podman's too: its files outside its root are hidden
# behind tmpfs mounts, as bench/network.sh does). Monitors are measured two
# seconds after their container started: an idle berth monitor gives back
# what it does not use a second after its last activity (docs/monitor.md).
set -euo pipefail

n=10
use_podman=1
check=0
while [[ $# -gt 0 ]]; do
    case $1 in
    -n)
        n=$2
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
    *)
        echo "monitor.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
done
orig_args=(-n "$n")
[[ $use_podman -eq 0 ]] && orig_args+=(--no-podman)
[[ $check -eq 1 ]] && orig_args+=(--check)

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -z ${BERTH_BENCH_IN_NS:-} ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "monitor.sh: run as root (namespaces, mounts)" >&2
        exit 1
    fi
    if [[ -z ${BERTH:-} ]]; then
        cmake -S "$top" -B "$top/build-bench-mon" -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build "$top/build-bench-mon" -j2 >/dev/null
        BERTH="$top/build-bench-mon/berth"
    fi
    BERTH=$(readlink -f "$BERTH")
    export BERTH
    export BERTH_PLUGIN_DIR=${BERTH_PLUGIN_DIR:-$(dirname "$BERTH")/plugins}
    W=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-mon.XXXXXX")
    made_dirs=()
    # shellcheck disable=SC2317 # called by the EXIT trap
    cleanup() {
        local c i
        # podman's cgroups (cgroupfs) under the bench's parent: emptied once
        # conmon and crun are gone, which may take a moment.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            for c in /sys/fs/cgroup/*/"berth-bench-mon.$$"; do
                if [[ -d $c ]]; then
                    find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
                fi
            done
            compgen -G "/sys/fs/cgroup/*/berth-bench-mon.$$" >/dev/null || break
            sleep 0.5
        done
        for ((i = ${#made_dirs[@]} - 1; i >= 0; i--)); do
            rmdir "${made_dirs[i]}" 2>/dev/null || true
        done
        rm -rf --one-file-system -- "$W"
    }
    trap cleanup EXIT
    if [[ $use_podman -eq 1 ]] && command -v podman >/dev/null; then
        for d in /var/lib/containers /var/lib/containers/cache /run/containers; do
            if [[ ! -d $d ]]; then
                mkdir "$d"
                made_dirs+=("$d")
            fi
        done
    fi
    export BERTH_BENCH_IN_NS=1 BENCH_W=$W BENCH_CG_PARENT=berth-bench-mon.$$
    unshare --mount --net --propagation private -- bash "$0" "${orig_args[@]}"
    exit $?
fi

# --- inside the private namespaces -------------------------------------------
W=$BENCH_W
ip link set lo up 2>/dev/null || true
b() { "$BERTH" --root "$W/root" --runroot "$W/run" --plugin-path "$BERTH_PLUGIN_DIR" "$@"; }

# The busybox rootfs (Debian's static busybox).
rootfs=$W/rootfs
mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp}
cp /bin/busybox "$rootfs/bin/busybox"
for a in sh sleep true; do ln -s busybox "$rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
tar --numeric-owner -C "$rootfs" -cf "$W/busybox.tar" .
b image import "$W/busybox.tar" busybox >/dev/null

# mean_of FIELD PID... : mean of a /proc/PID/status or smaps_rollup field, kB
mean_of() {
    local field=$1 sum=0 cnt=0 p v
    shift
    for p in "$@"; do
        if [[ $field == Pss ]]; then
            v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")
        else
            v=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status")
        fi
        sum=$((sum + v))
        cnt=$((cnt + 1))
    done
    echo $((sum / cnt))
}

# --- berth -----------------------------------------------------------------------
ids=()
for ((i = 0; i < n; i++)); do
    ids+=("$(b run -d --network none busybox sleep 600)")
done
sleep 2
mons=()
for id in "${ids[@]}"; do
    mons+=("$(b inspect "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["monitor_pid"])')")
done
berth_rss=$(mean_of VmRSS "${mons[@]}")
berth_pss=$(mean_of Pss "${mons[@]}")
b rm -f "${ids[@]}" >/dev/null

# --- podman + conmon ----------------------------------------------------------------
conmon_rss=
conmon_pss=
conmon_why="2.4 MB: conmon's figure in MACHINE.md (podman not measured here: --no-podman)"
if [[ $use_podman -eq 1 ]]; then
    if ! command -v podman >/dev/null; then
        conmon_why="2.4 MB: conmon's figure in MACHINE.md (podman is not installed)"
    else
        mount -t tmpfs tmpfs /var/lib/containers
        mkdir -p /var/lib/containers/cache
        mount -t tmpfs tmpfs /run/containers
        mount -t tmpfs tmpfs /dev/shm
        # crun 1.8 refuses the hybrid layout (MACHINE.md): an empty tmpfs over
        # the v2 hierarchy here only (an umount would let crun write its
        # cgroup directories into the host's shared tmpfs below it).
        if mountpoint -q /sys/fs/cgroup/unified; then
            mount -t tmpfs -o size=1m tmpfs /sys/fs/cgroup/unified
        fi
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
        U=(--ulimit nofile=1024:1024 --ulimit nproc=32768:32768)
        if ! out=$("${P[@]}" import "$W/busybox.tar" localhost/busybox 2>&1); then
            conmon_why="2.4 MB: conmon's figure in MACHINE.md (podman import failed: $(tail -1 <<<"$out"))"
        else
            pids=()
            ok=1
            for ((i = 0; i < n; i++)); do
                if ! cid=$("${P[@]}" run -d --network none "${U[@]}" \
                    --cgroup-parent "/$BENCH_CG_PARENT" localhost/busybox sleep 600 2>"$W/podman.err"); then
                    ok=0
                    conmon_why="2.4 MB: conmon's figure in MACHINE.md (podman run failed: $(tail -1 "$W/podman.err"))"
                    break
                fi
                pids+=("$(pgrep -f "conmon .*$cid" | head -1)")
            done
            if [[ $ok -eq 1 ]]; then
                sleep 2
                conmon_rss=$(mean_of VmRSS "${pids[@]}")
                conmon_pss=$(mean_of Pss "${pids[@]}")
                conmon_why="measured: podman $(podman --version | awk '{print $3}'), conmon $(conmon --version | awk 'NR==1 {print $3}')"
            fi
            "${P[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true
        fi
    fi
fi

# --- report -----------------------------------------------------------------------
echo "monitor memory per detached container, $n containers each (kB, mean)"
printf '%-28s %10s %10s\n' "" VmRSS Pss
printf '%-28s %10s %10s\n' "berth monitor" "$berth_rss" "$berth_pss"
if [[ -n $conmon_rss ]]; then
    printf '%-28s %10s %10s\n' "conmon (podman)" "$conmon_rss" "$conmon_pss"
    ratio=$(echo "scale=2; $berth_rss / $conmon_rss" | bc)
    pss_ratio=$(echo "scale=2; $berth_pss / $conmon_pss" | bc)
    echo "ratio berth/conmon: VmRSS $ratio, Pss $pss_ratio (target VmRSS <= 0.5)"
else
    conmon_rss=2400
    ratio=$(echo "scale=2; $berth_rss / $conmon_rss" | bc)
    echo "ratio berth/conmon: VmRSS $ratio (target <= 0.5)"
fi
echo "conmon: $conmon_why"
if [[ $check -eq 1 ]] && (($(echo "$ratio > 0.5" | bc))); then
    exit 1
fi
exit 0
