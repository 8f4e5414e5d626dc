#!/usr/bin/env bash
# Latency of a whole `berth run --rm --network none busybox /bin/true` (image
# to exit: record, storage, namespaces, mounts, exec, wait, teardown, rm)
# against `crun run` of a ready bundle of the same busybox rootfs, measured in
# the same run, alternating, after a warm-up. Prints both medians and the
# ratio berth/crun. Target: ratio <= 1.5.
#
#   bench/run-latency.sh [-n RUNS] [--check]
#
#   -n RUNS   timed runs of each (default 100, at least 50)
#   --check   exit 1 if the ratio is above the target
#   BERTH=/path/to/berth  use this binary (and BERTH_PLUGIN_DIR, default
#                         its dir's plugins/) instead of building and
#                         installing build-bench/ (its installed plugins)
#
# Everything runs inside a private mount and network namespace with its own
# --root/--runroot; crun's state is in the same temporary dir. crun 1.8
# refuses this machine's hybrid cgroup layout, so an empty tmpfs hides
# /sys/fs/cgroup/unified inside the private namespace only, and crun runs
# with --cgroup-manager=disabled: berth makes no cgroup either (containers
# stay in the caller's cgroup), so both do the same work.
set -euo pipefail

orig_args=("$@")
runs=100
check=0
while [[ $# -gt 0 ]]; do
    case $1 in
    -n)
        runs=$2
        shift 2
        ;;
    --check)
        check=1
        shift
        ;;
    -h | --help)
        sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "run-latency.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
done
if [[ $runs -lt 50 ]]; then
    echo "run-latency.sh: at least 50 runs" >&2
    exit 2
fi
target=1.5

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -z ${BERTH_BENCH_IN_NS:-} ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "run-latency.sh: run as root" >&2
        exit 1
    fi
    if ! command -v crun >/dev/null || [[ ! -x /bin/busybox ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends crun busybox-static
    fi
    if [[ -z ${BERTH:-} ]]; then
        cmake -S "$top" -B "$top/build-bench" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
        cmake --build "$top/build-bench" -j2 >/dev/null
        # The installed set of plugins, as a user has it (the build dir also
        # holds test-only plugins).
        cmake --install "$top/build-bench" --prefix "$top/build-bench/prefix" >/dev/null
        BERTH="$top/build-bench/prefix/bin/berth"
        BERTH_PLUGIN_DIR=${BERTH_PLUGIN_DIR:-$top/build-bench/prefix/lib/berth/plugins}
    fi
    BERTH=$(readlink -f "$BERTH")
    export BERTH
    export BERTH_PLUGIN_DIR=${BERTH_PLUGIN_DIR:-$(dirname "$BERTH")/plugins}
    export BERTH_BENCH_IN_NS=1
    exec unshare --mount --net --propagation private -- bash "$0" "${orig_args[@]}"
fi

# --- inside the private namespaces -------------------------------------------
ip link set lo up 2>/dev/null || true
# crun 1.8 refuses the hybrid layout (MACHINE.md): an empty tmpfs over the
# v2 hierarchy in this mount namespace only. Not an umount: that would let
# crun make its cgroup directories in the tmpfs of /sys/fs/cgroup below it,
# a file system the host shares, where they would outlive the bench.
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    mount -t tmpfs -o size=1m tmpfs /sys/fs/cgroup/unified
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX")
trap 'rm -rf --one-file-system -- "$W"' EXIT

# The busybox rootfs, as the tests and quickstart make it.
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

b() {
    "$BERTH" --root "$W/root" --runroot "$W/run" --plugin-path "$BERTH_PLUGIN_DIR" "$@"
}
b image import "$W/busybox.tar" busybox >/dev/null

# The crun bundle: `crun spec`, not a terminal, /bin/true.
bundle="$W/bundle"
mkdir -p "$bundle"
cp -a "$rootfs" "$bundle/rootfs"
(cd "$bundle" && crun spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"] = {"path": "rootfs", "readonly": False}
json.dump(c, open(p, "w"), indent=1)
PY
crun_run() {
    crun --root "$W/crun-state" --cgroup-manager=disabled run --bundle "$bundle" "bench-$1" \
        </dev/null >/dev/null
}
berth_run() {
    # --cgroups disabled: crun runs with --cgroup-manager=disabled (above).
    b run --rm --network none --cgroups disabled busybox /bin/true </dev/null >/dev/null
}

# Both must work before anything is timed.
berth_run || {
    echo "run-latency.sh: berth run failed" >&2
    exit 1
}
crun_run check || {
    echo "run-latency.sh: crun run failed" >&2
    exit 1
}

# elapsed_us CMD… : microseconds CMD took (EPOCHREALTIME: no fork to measure).
elapsed_us() {
    local t0 t1
    t0=${EPOCHREALTIME/./}
    "$@"
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0))
}

for ((i = 0; i < 5; i++)); do
    berth_run
    crun_run "warm-$i"
done

berth_t=()
crun_t=()
for ((i = 0; i < runs; i++)); do
    if ((i % 2 == 0)); then
        berth_t+=("$(elapsed_us berth_run)")
        crun_t+=("$(elapsed_us crun_run "$i")")
    else
        crun_t+=("$(elapsed_us crun_run "$i")")
        berth_t+=("$(elapsed_us berth_run)")
    fi
done

median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
bm=$(median "${berth_t[@]}")
cm=$(median "${crun_t[@]}")

left=$(b ps -a -q | wc -l)
[[ $left -eq 0 ]] || echo "warning: $left containers left in berth's store" >&2

awk -v b="$bm" -v c="$cm" -v n="$runs" -v target="$target" 'BEGIN {
    r = b / c
    printf "runs:                          %d each, alternating, after 5 warm-up runs\n", n
    printf "berth run --rm --network none: %.2f ms (median)\n", b / 1000
    printf "crun run (ready bundle):       %.2f ms (median)\n", c / 1000
    printf "ratio berth/crun:              %.2f (target <= %.1f): %s\n", r, target,
        (r <= target ? "met" : "NOT met")
}'
if [[ $check -eq 1 ]]; then
    awk -v b="$bm" -v c="$cm" -v target="$target" 'BEGIN { exit !(b / c <= target) }'
fi
