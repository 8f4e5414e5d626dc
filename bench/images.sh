#!/usr/bin/env bash
# Image transfer speed of berth against its peers, in a private mount + net
# namespace (never the host's), with its own --root, alternating, medians:
#
#  a. `berth load -i IMAGE.tar` (an OCI archive of gzip layers: extract,
#     hash every blob, decompress and hash every layer to check its diff_id,
#     store) against `tar -xzf` of the same layers into an empty directory.
#     Both decompress every layer once. Target: berth's throughput at least
#     0.8x tar's (ratio = tar time / berth time).
#  b. `berth pull` of the same image (~200 MB of gzip layers) from Debian's
#     docker-registry on 127.0.0.1 (in the private network namespace; pushed
#     there by skopeo), against `skopeo copy docker://… oci:DIR` and
#     `podman pull`, each into an empty store. berth and skopeo store the
#     blobs, verified by digest; podman also unpacks the layers into its
#     storage. berth checks a layer's diff_id before its first unpack
#     (docs/registries.md), so the first `berth create` of the image after
#     each pull is timed too, and shown: it decompresses and hashes every
#     layer (the diff_id check), then the storage driver unpacks them.
#     Target: berth's pull at least as fast as both.
#
# The layers are made from this machine's files: /usr/bin, /usr/libexec and
# /usr/lib/python3.11 (or what exists), one gzip layer each.
#
#   bench/images.sh [-n ROUNDS] [--no-podman] [--check]
#
#   -n ROUNDS     timed rounds of each command (default 5, at least 3)
#   --no-podman   skip podman pull
#   --check       exit 1 if a target is not met
#   BERTH=/path/to/berth  use this binary instead of building build-bench-img/
#
# podman runs with its own --root/--runroot and a containers.conf in the
# bench's temporary dir; what it writes outside its root
# (/var/lib/containers/cache, /run/containers, /dev/shm) is hidden behind
# tmpfs mounts of the private mount namespace (MACHINE.md); mount points are
# made only if missing and removed again.
set -euo pipefail

orig_args=("$@")
rounds=5
use_podman=1
check=0
while [[ $# -gt 0 ]]; do
    case $1 in
    -n)
        rounds=$2
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
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "images.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
done
if [[ ! $rounds =~ ^[0-9]+$ ]] || ((rounds < 3)); then
    echo "images.sh: at least 3 rounds" >&2
    exit 2
fi

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -z ${BERTH_BENCH_IN_NS:-} ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "images.sh: run as root" >&2
        exit 1
    fi
    for tool in skopeo docker-registry; do
        command -v "$tool" >/dev/null || {
            echo "images.sh: $tool is missing (apt-get install skopeo docker-registry)" >&2
            exit 1
        }
    done
    if [[ -z ${BERTH:-} ]]; then
        cmake -S "$top" -B "$top/build-bench-img" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
        cmake --build "$top/build-bench-img" -j2 >/dev/null
        BERTH="$top/build-bench-img/berth"
    fi
    BERTH=$(readlink -f "$BERTH")
    export BERTH
    export BERTH_PLUGIN_DIR=${BERTH_PLUGIN_DIR:-$(dirname "$BERTH")/plugins}
    W=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-img.XXXXXX")
    made_dirs=()
    # shellcheck disable=SC2317 # called by the EXIT trap
    outer_cleanup() {
        local i
        for ((i = ${#made_dirs[@]} - 1; i >= 0; i--)); do
            rmdir "${made_dirs[i]}" 2>/dev/null || true
        done
        rm -rf --one-file-system -- "$W"
    }
    trap outer_cleanup EXIT
    if [[ $use_podman -eq 1 ]] && command -v podman >/dev/null; then
        for d in /var/lib/containers /var/lib/containers/cache /run/containers; do
            if [[ ! -d $d ]]; then
                mkdir "$d"
                made_dirs+=("$d")
            fi
        done
    fi
    export BERTH_BENCH_IN_NS=1 BENCH_W=$W
    rc=0
    # --kill-child: the registry dies with the namespace's pid 1.
    unshare --mount --net --pid --fork --kill-child --mount-proc --propagation private \
        -- bash "$0" "${orig_args[@]}" || rc=$?
    exit "$rc"
fi

# --- inside the private namespaces -------------------------------------------
W=$BENCH_W
ip link set lo up
pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
inner_cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}
trap inner_cleanup EXIT

b() { "$BERTH" --root "$W/root" --runroot "$W/run" --plugin-path "$BERTH_PLUGIN_DIR" "$@"; }
now_ns() { date +%s%N; }
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
secs() { awk -v n="$1" 'BEGIN { printf "%.2f s", n / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mbps() { awk -v bytes="$1" -v ns="$2" 'BEGIN { printf "%.0f MB/s", bytes / 1e6 / (ns / 1e9) }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "met" : "NOT MET") }'; }

# --- the image: one gzip layer per directory ------------------------------------
echo "making the layers (gzip) from this machine's files..." >&2
mkdir -p "$W/layers" "$W/layout/blobs/sha256"
srcs=()
for d in /usr/bin /usr/libexec /usr/lib/python3.11; do
    [[ -d $d ]] && srcs+=("$d")
done
diff_ids=()
layer_json=()
total=0
for s in "${srcs[@]}"; do
    name=$(basename "$s")
    tar --numeric-owner -C "$(dirname "$s")" -cf "$W/layers/$name.tar" "$name" 2>/dev/null || true
    sha256sum <"$W/layers/$name.tar" | cut -c1-64 >"$W/layers/$name.diff"
    gzip -6 "$W/layers/$name.tar"
    dg=$(sha256sum <"$W/layers/$name.tar.gz" | cut -c1-64)
    sz=$(stat -c %s "$W/layers/$name.tar.gz")
    total=$((total + sz))
    cp "$W/layers/$name.tar.gz" "$W/layout/blobs/sha256/$dg"
    diff_ids+=("\"sha256:$(cat "$W/layers/$name.diff")\"")
    layer_json+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dg\",\"size\":$sz}")
done
join() {
    local IFS=,
    echo "$*"
}
config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$(join "${diff_ids[@]}")]}}"
printf '%s' "$config" >"$W/config.json"
cdg=$(sha256sum <"$W/config.json" | cut -c1-64)
cp "$W/config.json" "$W/layout/blobs/sha256/$cdg"
manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cdg\",\"size\":${#config}},\"layers\":[$(join "${layer_json[@]}")]}"
printf '%s' "$manifest" >"$W/manifest.json"
mdg=$(sha256sum <"$W/manifest.json" | cut -c1-64)
cp "$W/manifest.json" "$W/layout/blobs/sha256/$mdg"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"bench:v1"}}]}' \
    "$mdg" "${#manifest}" >"$W/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$W/layout/oci-layout"
tar -C "$W/layout" -cf "$W/image.tar" .

# --- a. load vs tar -xzf ------------------------------------------------------
load_t=()
tar_t=()
for ((i = 0; i < rounds; i++)); do
    rm -rf "$W/root" "$W/run" "$W/x"
    mkdir -p "$W/x"
    sync
    if ((i % 2 == 0)); then order="load tar"; else order="tar load"; fi
    for what in $order; do
        if [[ $what == load ]]; then
            t0=$(now_ns)
            b load -i "$W/image.tar" >/dev/null
            t1=$(now_ns)
            load_t+=($((t1 - t0)))
        else
            t0=$(now_ns)
            for f in "$W"/layers/*.tar.gz; do tar -C "$W/x" -xzf "$f"; done
            t1=$(now_ns)
            tar_t+=($((t1 - t0)))
        fi
    done
done
rm -rf "$W/root" "$W/run" "$W/x"

# --- b. pull vs skopeo copy vs podman pull --------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/registry"
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$W" "$port" >"$W/registry.yml"
env -u REGISTRY_AUTH_FILE docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
    sleep 0.1
done
REF=127.0.0.1:$port/bench/img:v1
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$W/layout:bench:v1" "docker://$REF"

podman_ok=0
podman_why="not asked for (--no-podman)"
if [[ $use_podman -eq 1 ]]; then
    if ! command -v podman >/dev/null; then
        podman_why="podman is not installed"
    else
        mount -t tmpfs tmpfs /var/lib/containers
        mkdir -p /var/lib/containers/cache
        mount -t tmpfs tmpfs /run/containers
        mount -t tmpfs tmpfs /dev/shm
        mkdir -p "$W/podman/tmp"
        printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\ntmp_dir = "%s/podman/libpod-tmp"\n' \
            "$W" >"$W/podman/containers.conf"
        export CONTAINERS_CONF="$W/podman/containers.conf"
        podman_ok=1
        podman_version=$(podman --version | awk '{ print $3 }')
    fi
fi
P() { env TMPDIR="$W/podman/tmp" podman --root "$W/podman/root" --runroot "$W/podman/run" "$@"; }

pull_t=()
create_t=()
sk_t=()
pod_t=()
tools=(berth skopeo)
((podman_ok == 1)) && tools+=(podman)
for ((i = 0; i < rounds; i++)); do
    # Rotate the order each round.
    for ((k = 0; k < ${#tools[@]}; k++)); do
        what=${tools[(k + i) % ${#tools[@]}]}
        rm -rf "$W/root" "$W/run" "$W/sk"
        if ((podman_ok == 1)); then
            P rmi -af >/dev/null 2>&1 || true
        fi
        sync
        t0=$(now_ns)
        case $what in
        berth) b pull -q --tls-verify=false "$REF" >/dev/null ;;
        skopeo) skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$REF" "oci:$W/sk:v1" ;;
        podman)
            if ! P pull -q --tls-verify=false "$REF" >/dev/null 2>"$W/podman.err"; then
                podman_ok=0
                podman_why="podman pull failed: $(tail -1 "$W/podman.err")"
            fi
            ;;
        esac
        t1=$(now_ns)
        case $what in
        berth)
            pull_t+=($((t1 - t0)))
            t0=$(now_ns)
            cid=$(b create --network none "$REF" true)
            create_t+=($(($(now_ns) - t0)))
            b rm -f "$cid" >/dev/null
            ;;
        skopeo) sk_t+=($((t1 - t0))) ;;
        podman) ((podman_ok == 1)) && pod_t+=($((t1 - t0))) ;;
        esac
    done
done
rm -rf "$W/root" "$W/run" "$W/sk"
if ((podman_ok == 1)); then
    P rmi -af >/dev/null 2>&1 || true
fi

# --- report --------------------------------------------------------------------
fail=0
echo "berth image bench, $(date -u +%Y-%m-%d), kernel $(uname -r), $(nproc) cores; $rounds rounds, alternating; medians"
echo "image: ${#srcs[@]} gzip layers from ${srcs[*]}: $((total / 1000000)) MB compressed"
m_load=$(median "${load_t[@]}")
m_tar=$(median "${tar_t[@]}")
r=$(ratio "$m_tar" "$m_load")
printf '%-44s %10s %12s\n' "a. berth load -i (OCI archive)" "$(secs "$m_load")" "$(mbps "$total" "$m_load")"
printf '%-44s %10s %12s\n' "   tar -xzf of the same layers" "$(secs "$m_tar")" "$(mbps "$total" "$m_tar")"
printf '   load throughput / tar throughput: %s (target >= 0.8: %s)\n' "$r" "$(verdict "$r" 0.8)"
[[ $(verdict "$r" 0.8) == met ]] || fail=1
m_pull=$(median "${pull_t[@]}")
m_sk=$(median "${sk_t[@]}")
printf '%-44s %10s %12s\n' "b. berth pull (registry on 127.0.0.1)" "$(secs "$m_pull")" "$(mbps "$total" "$m_pull")"
r=$(ratio "$m_sk" "$m_pull")
printf '%-44s %10s %12s   berth %sx as fast (target >= 1: %s)\n' "   skopeo copy docker:// oci:" "$(secs "$m_sk")" "$(mbps "$total" "$m_sk")" "$r" "$(verdict "$r" 1)"
[[ $(verdict "$r" 1) == met ]] || fail=1
printf '%-44s %10s\n' "   then berth create (diff_ids, unpack)" "$(secs "$(median "${create_t[@]}")")"
if ((podman_ok == 1)) && ((${#pod_t[@]} > 0)); then
    m_pod=$(median "${pod_t[@]}")
    r=$(ratio "$m_pod" "$m_pull")
    printf '%-44s %10s %12s   berth %sx as fast (target >= 1: %s)\n' "   podman pull (also unpacks)" "$(secs "$m_pod")" "$(mbps "$total" "$m_pod")" "$r" "$(verdict "$r" 1)"
    echo "   podman $podman_version, its own --root in the bench's directory"
    [[ $(verdict "$r" 1) == met ]] || fail=1
else
    echo "   podman pull skipped: $podman_why"
fi
if ((check == 1 && fail == 1)); then
    exit 1
fi
exit 0
