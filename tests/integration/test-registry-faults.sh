#!/usr/bin/env bash
# A registry that fails on demand (registry-proxy.py in front of
# docker-registry): a 503 and a connection dropped mid-blob are retried, the
# latter resumed with a Range request; a corrupted, truncated or missing blob,
# a malformed manifest, an unknown media type and a 403 are one line, exit
# 125, and leave the image store exactly as it was; a config whose diff_id
# of a layer is wrong and a layer that does not decompress are found before
# the layer's first unpack (run: one line, exit 125, nothing unpacked), or
# at pull when the store knows the layer already; concurrent pulls of one
# image share the download.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry-lib.sh"

reg_start # without auth
reg_proxy_start "$REG_PORT"
R=127.0.0.1:$PROXY_PORT

# An image with a 4 MiB incompressible layer, so that a drop happens mid-blob.
mkdir -p "$T/big"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$T/big/big"
tar --numeric-owner -C "$T/big" -czf "$T/big.tar.gz" big
bb_gz=$T/busybox.tar.gz
gzip -c "$(busybox_tar)" >"$bb_gz"
make_oci_layout "$T/app" app "$bb_gz" "$T/big.tar.gz"
reg_push "$T/app" app "127.0.0.1:$REG_PORT/test/app:latest"
big_digest=sha256:$(sha256sum <"$T/big.tar.gz" | cut -d' ' -f1)

temp_files() {
    find "$T/root/images" -mindepth 1 -maxdepth 2 \( -name 'pull-*' -o -path '*/downloads/*' \) |
        sort
}

# --- 503 once: retried ---------------------------------------------------------------
reg_fault 503-once
assert_status 0 berth pull "$R/test/app"
assert_eq 4 "$(reg_count "^GET /v2/test/app/blobs/")" \
    "503: three blobs, one asked for twice (one 503, one retry)"
assert_status 0 berth run --rm "$R/test/app" sh -c 'wc -c </big'
assert_eq $((4 * 1024 * 1024)) "$(echo "$OUT" | tr -d ' ')" "the retried image is whole"
assert_status 0 berth image rm "$R/test/app"

# --- a dropped connection: resumed with a Range ------------------------------------
: >"$PROXY_LOG"
reg_fault drop-once
assert_status 0 berth pull "$R/test/app"
assert_true "the retry asked for the rest with a Range request" \
    grep -qE "^GET /v2/test/app/blobs/$big_digest range=bytes=[1-9][0-9]*-" "$PROXY_LOG"
assert_status 0 berth run --rm "$R/test/app" sh -c 'wc -c </big'
assert_eq $((4 * 1024 * 1024)) "$(echo "$OUT" | tr -d ' ')" "the resumed blob is whole"
assert_status 0 berth image rm "$R/test/app"

# --- hostile registries: one line, store unchanged ---------------------------------------
setup_busybox busybox
before=$(reg_store_state)
for f in corrupt truncate missing bad-manifest unknown-type deny; do
    reg_fault "$f"
    assert_status 125 berth pull "$R/test/app"
    assert_error pull "$f"
    assert_eq "$before" "$(reg_store_state)" "$f: the store is as it was"
    assert_eq "" "$(temp_files)" "$f: no temporary file is left"
done
reg_fault ""
assert_status 0 berth images --format json
assert_not_contains "$OUT" "test/app" "no failed pull left a tag"

# --- a config whose diff_id of a layer is wrong (the blob digests are right) ---------------
# A pull checks blob digests; a layer's diff_id is checked before its first
# unpack (docs/registries.md): the run fails with one line naming the layer
# and unpacks nothing under the lying diff_id.
mkdir -p "$T/liar"
printf 'liar\n' >"$T/liar/liar"
tar --numeric-owner -C "$T/liar" -czf "$T/liar.tar.gz" liar
# liar_layout DIR INDEX : the config of the layout DIR lies about layer INDEX.
liar_layout() {
    python3 - "$1" "$2" <<'PY'
import hashlib, json, os, sys
out, which = sys.argv[1], int(sys.argv[2])
blobs = os.path.join(out, "blobs", "sha256")
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, h), "wb").write(data)
    return "sha256:" + h, len(data)
index = json.load(open(os.path.join(out, "index.json")))
desc = index["manifests"][0]
m = json.load(open(os.path.join(blobs, desc["digest"][7:])))
cfg = json.load(open(os.path.join(blobs, m["config"]["digest"][7:])))
cfg["rootfs"]["diff_ids"][which] = "sha256:" + hashlib.sha256(b"not this layer").hexdigest()
m["config"]["digest"], m["config"]["size"] = put(json.dumps(cfg).encode())
desc["digest"], desc["size"] = put(json.dumps(m).encode())
json.dump(index, open(os.path.join(out, "index.json"), "w"))
PY
}
# The unpacked layers of the default storage driver, as a listing.
driver_layers() { find "$T/root" -mindepth 1 -maxdepth 4 -path '*/layers/*' -printf '%P\n' | sort; }
make_oci_layout "$T/liarimg" liar "$bb_gz" "$T/liar.tar.gz"
liar_layout "$T/liarimg" 1
reg_push "$T/liarimg" liar "127.0.0.1:$REG_PORT/test/liar:latest"
liar_digest=sha256:$(sha256sum <"$T/liar.tar.gz" | cut -d' ' -f1)
before=$(reg_store_state)
assert_status 0 berth pull "$R/test/liar"
assert_eq "unchecked" "$(cat "$T/root/images/layer-check/${liar_digest#sha256:}")" \
    "the pulled layer is recorded unchecked"
layers_before=$(driver_layers)
assert_status 125 berth run --rm "$R/test/liar" true
assert_error run "run of an image with a wrong diff_id"
assert_contains "$ERR" "layer '$liar_digest'" "the error names the layer"
assert_contains "$ERR" "config says" "and says the config disagrees"
liar_true=sha256:$(gunzip -c "$T/liar.tar.gz" | sha256sum | cut -d' ' -f1)
assert_eq "$liar_true" "$(cat "$T/root/images/layer-check/${liar_digest#sha256:}")" \
    "the layer's true diff_id is recorded"
layers_after=$(driver_layers)
assert_eq "1" "$(comm -13 <(echo "$layers_before") <(echo "$layers_after") | grep -c .)" \
    "only the checked base layer was unpacked, not the lying one"
assert_status 125 berth run --rm "$R/test/liar" true
assert_contains "$ERR" "config says" "a second run fails the same way"

# A lie about a layer the store has checked (the base layer, checked by the
# run above): the diff_id recorded then is compared at pull.
make_oci_layout "$T/liar0img" liar0 "$bb_gz" "$T/liar.tar.gz"
liar_layout "$T/liar0img" 0
reg_push "$T/liar0img" liar0 "127.0.0.1:$REG_PORT/test/liar0:latest"
bb_digest=sha256:$(sha256sum <"$bb_gz" | cut -d' ' -f1)
with_liar=$(reg_store_state)
assert_status 125 berth pull "$R/test/liar0"
assert_error pull "a wrong diff_id for a layer the store has checked"
assert_contains "$ERR" "layer '$bb_digest'" "the error names the shared layer"
assert_eq "$with_liar" "$(reg_store_state)" "lie about a checked layer: the store is as it was"

assert_status 0 berth image rm "$R/test/liar"
assert_eq "$before" "$(reg_store_state)" "wrong diff_id: after rmi the store is as before the pull"
assert_eq "" "$(ls "$T/root/images/layer-check")" "the layer records left with the blobs"
assert_eq "" "$(temp_files)" "wrong diff_id: no temporary file is left"

# --- a layer whose blob is right but does not decompress ---------------------------------
# A gzip header (so that skopeo pushes it as it is) before random bytes.
head -c 4096 /dev/urandom >"$T/junk.bin"
printf '\037\213\010\000' | cat - "$T/junk.bin" >"$T/junk.tar.gz"
python3 - "$T/junkimg" "$bb_gz" "$T/junk.tar.gz" <<'PY'
import gzip, hashlib, json, os, sys
out, bb, junk = sys.argv[1:4]
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, h), "wb").write(data)
    return "sha256:" + h, len(data)
layers, diffs = [], []
for path in (bb, junk):
    data = open(path, "rb").read()
    d, n = put(data)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
    diffs.append("sha256:" + hashlib.sha256(gzip.decompress(data) if path == bb else data).hexdigest())
cfg = {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diffs}}
cd, cn = put(json.dumps(cfg).encode())
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
     "layers": layers}
md, mn = put(json.dumps(m).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": m["mediaType"], "digest": md, "size": mn,
           "annotations": {"org.opencontainers.image.ref.name": "junk"}}]},
          open(os.path.join(out, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))
PY
reg_push "$T/junkimg" junk "127.0.0.1:$REG_PORT/test/junk:latest"
junk_digest=sha256:$(sha256sum <"$T/junk.tar.gz" | cut -d' ' -f1)
assert_status 0 curl -sf -o /dev/null -I "http://127.0.0.1:$REG_PORT/v2/test/junk/blobs/$junk_digest"
assert_status 0 berth pull "$R/test/junk"
assert_status 125 berth run --rm "$R/test/junk" true
assert_error run "a layer that does not decompress"
assert_contains "$ERR" "layer '$junk_digest': gzip stream" "the error names the layer and its stream"
assert_status 0 berth image rm "$R/test/junk"
assert_eq "$before" "$(reg_store_state)" "undecompressable layer: after rmi the store is as before"
assert_eq "" "$(temp_files)" "undecompressable layer: no temporary file is left"

# --- a pull killed mid-way leaves a layout that a later pull sweeps -----------------------
mkdir -p "$T/root/images/pull-dead01/blobs/sha256"
touch -d '-1 hour' "$T/root/images/pull-dead01"
assert_status 0 berth pull "$R/test/app"
assert_true "a dead pull's layout is swept" test ! -e "$T/root/images/pull-dead01"
assert_status 0 berth image rm "$R/test/app"

# --- concurrent pulls of the same image share the work -------------------------------
: >"$PROXY_LOG"
pids=()
for i in 1 2 3; do
    berth pull -q "$R/test/app" >"$T/c$i.out" 2>"$T/c$i.err" &
    pids+=($!)
done
rcs=""
for p in "${pids[@]}"; do
    wait "$p" && rcs+="0" || rcs+="1"
done
assert_eq 000 "$rcs" "three concurrent pulls succeed"
assert_eq 1 "$(reg_count "^GET /v2/test/app/blobs/$big_digest")" \
    "the big layer is downloaded once for the three pulls"
assert_status 0 berth run --rm "$R/test/app" sh -c 'wc -c </big'
assert_eq $((4 * 1024 * 1024)) "$(echo "$OUT" | tr -d ' ')" "the shared blob is whole"
assert_eq "" "$(temp_files)" "no temporary file is left after concurrent pulls"

assert_status 0 berth image rm "$R/test/app" busybox
reg_cleanup
finish
