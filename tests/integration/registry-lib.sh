# shellcheck shell=bash
# Helpers for the registry tests (test-registry-*.sh), sourced after lib.sh:
# Debian's docker-registry on 127.0.0.1 in the test's network namespace, a
# python proxy in front of it (request log, faults, bearer token flow:
# registry-proxy.py), and test images pushed by skopeo. Every server started
# here is killed by pid when the test exits.

REG_DIR_TOP=$T/registry
mkdir -p "$REG_DIR_TOP"
REG_PIDS=()
REG_PROXY=$BERTH_TEST_TOP/tests/integration/registry-proxy.py

reg_cleanup() {
    local pid
    for pid in "${REG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    REG_PIDS=()
}
# Servers go before lib.sh's own exit checks; keep lib.sh's exit status.
_reg_on_exit() {
    local rc=$?
    reg_cleanup
    (exit "$rc")
    _on_exit
}
trap _reg_on_exit EXIT

reg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# reg_wait URL : until URL answers anything over HTTP (10 s).
reg_wait() {
    for _ in $(seq 100); do
        if curl -s -o /dev/null "$1"; then
            return 0
        fi
        sleep 0.1
    done
    echo "no server at $1" >&2
    return 1
}

# reg_start [USER PASS] : a registry (htpasswd basic auth with USER, PASS);
# sets REG_PORT and REG_DIR.
# shellcheck disable=SC2120 # USER PASS are optional
reg_start() {
    REG_PORT=$(reg_free_port)
    REG_DIR=$REG_DIR_TOP/reg-$REG_PORT
    mkdir -p "$REG_DIR/data"
    {
        printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
        printf 'storage:\n  filesystem:\n    rootdirectory: %s/data\n' "$REG_DIR"
        printf '  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' "$REG_PORT"
        if [[ $# -eq 2 ]]; then
            printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s/htpasswd\n' "$REG_DIR"
        fi
    } >"$REG_DIR/config.yml"
    if [[ $# -eq 2 ]]; then
        # The password on stdin (-i), not in htpasswd's argv.
        printf '%s' "$2" | htpasswd -iBc "$REG_DIR/htpasswd" "$1" 2>/dev/null
    fi
    # The registry reads REGISTRY_* variables as configuration (REGISTRY_AUTH_FILE!).
    env -u REGISTRY_AUTH_FILE docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/log" 2>&1 &
    REG_PIDS+=($!)
    reg_wait "http://127.0.0.1:$REG_PORT/v2/"
}

# reg_proxy_start UPSTREAM_PORT [TOKEN_ENV_VAR] : the proxy (with the bearer
# flow for the USER:PASS in that variable); sets PROXY_PORT, PROXY_LOG, PROXY_FAULT.
reg_proxy_start() {
    PROXY_PORT=$(reg_free_port)
    PROXY_LOG=$REG_DIR_TOP/proxy-$PROXY_PORT.log
    PROXY_FAULT=$REG_DIR_TOP/proxy-$PROXY_PORT.fault
    : >"$PROXY_LOG"
    : >"$PROXY_FAULT"
    local extra=()
    [[ $# -ge 2 ]] && extra=(--token "$2")
    python3 "$REG_PROXY" --listen "$PROXY_PORT" --upstream "$1" --log "$PROXY_LOG" \
        --fault-file "$PROXY_FAULT" "${extra[@]}" >"$REG_DIR_TOP/proxy-$PROXY_PORT.out" 2>&1 &
    REG_PIDS+=($!)
    reg_wait "http://127.0.0.1:$PROXY_PORT/v2/"
}

# reg_fault NAME : the proxy's next behaviour (registry-proxy.py), "" for none.
reg_fault() {
    printf '%s\n' "$1" >"$PROXY_FAULT"
}

# reg_layout DIR REF [MARKER…] : an OCI layout of busybox plus one small layer
# per MARKER (a file /MARKER holding its name), gzip-compressed.
reg_layout() {
    local dir=$1 ref=$2 m layers=()
    shift 2
    local bb_gz=$CACHE/busybox-rootfs.tar.gz
    [[ -s $bb_gz ]] || gzip -c "$(busybox_tar)" >"$bb_gz"
    layers+=("$bb_gz")
    for m in "$@"; do
        mkdir -p "$REG_DIR_TOP/m-$m"
        printf '%s\n' "$m" >"$REG_DIR_TOP/m-$m/$m"
        tar --numeric-owner -C "$REG_DIR_TOP/m-$m" -czf "$REG_DIR_TOP/m-$m.tar.gz" "$m"
        layers+=("$REG_DIR_TOP/m-$m.tar.gz")
    done
    make_oci_layout "$dir" "$ref" "${layers[@]}"
}

# reg_multiarch_layout DIR REF : an index with a linux/amd64 image (marker
# "amd64") and a linux/arm64 one (marker "arm64", config architecture arm64).
reg_multiarch_layout() {
    local dir=$1 ref=$2
    reg_layout "$dir.amd64" x amd64
    reg_layout "$dir.arm64" x arm64
    python3 - "$dir" "$ref" <<'PY'
import hashlib, json, os, shutil, sys
out, ref = sys.argv[1], sys.argv[2]
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, h), "wb").write(data)
    return "sha256:" + h, len(data)
entries = []
for arch in ("amd64", "arm64"):
    src = out + "." + arch
    for b in os.listdir(os.path.join(src, "blobs", "sha256")):
        shutil.copy(os.path.join(src, "blobs", "sha256", b), blobs)
    idx = json.load(open(os.path.join(src, "index.json")))
    m = json.load(open(os.path.join(blobs, idx["manifests"][0]["digest"][7:])))
    cfg = json.load(open(os.path.join(blobs, m["config"]["digest"][7:])))
    cfg["architecture"] = arch
    m["config"]["digest"], m["config"]["size"] = put(json.dumps(cfg).encode())
    d, s = put(json.dumps(m).encode())
    entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d,
                    "size": s, "platform": {"os": "linux", "architecture": arch}})
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": entries}
d, s = put(json.dumps(index).encode())
top = {"schemaVersion": 2, "manifests": [{"mediaType": index["mediaType"], "digest": d, "size": s,
       "annotations": {"org.opencontainers.image.ref.name": ref}}]}
json.dump(top, open(os.path.join(out, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))
PY
}

# reg_push DIR REF DEST [skopeo options…] : copies the image (or index) REF of
# the layout DIR to docker://DEST.
reg_push() {
    local dir=$1 ref=$2 dest=$3
    shift 3
    skopeo --insecure-policy copy --all --quiet --dest-tls-verify=false "$@" \
        "oci:$dir:$ref" "docker://$dest" >/dev/null
}

# reg_store_state : one hash of the image store's blobs and index (not its lock).
reg_store_state() {
    local d=$T/root/images
    {
        tree_digest "$d/blobs"
        sha256sum <"$d/index.json"
        find "$d" -mindepth 1 -maxdepth 2 ! -name lock ! -path "$d/blobs*" -printf '%P\n' | sort
    } | sha256sum | cut -d' ' -f1
}

# reg_count PATTERN : how many proxy log lines match PATTERN (grep -E).
reg_count() {
    grep -cE "$1" "$PROXY_LOG" || true
}
