#!/usr/bin/env bash
# A registry that fails on demand (registry-proxy.py in front of
# docker-registry): a 503 and a connection dropped mid-blob are retried, the
# latter resumed with a Range request; a corrupted, truncated or missing blob,
# a malformed manifest, an unknown media type and a 403 are one line, exit
# 125, and leave the image store exactly as it was; concurrent pulls of one
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
