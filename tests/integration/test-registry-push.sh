#!/usr/bin/env bash
# berth push to a real registry (Debian's docker-registry on 127.0.0.1,
# behind the test proxy that logs every request): monolithic and chunked
# uploads, blobs the registry has are skipped, the manifest keeps its digest,
# and what berth pushed is pulled back identical by skopeo and by berth.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry-lib.sh"

reg_start
reg_proxy_start "$REG_PORT"
R=127.0.0.1:$PROXY_PORT

image_field() { # image_field REF EXPR
    capture berth image inspect "$1"
    json_eval "d[0]$2" <<<"$OUT"
}

reg_layout "$T/app" app one two
assert_status 0 berth load -i "$T/app"
id=$(image_field app:latest '["Id"]')
md=$(image_field app:latest '["ManifestDigest"]')

# --- monolithic upload ---------------------------------------------------------
: >"$PROXY_LOG"
assert_status 0 berth push --tls-verify=false app "$R/test/app:v1"
assert_eq "$R/test/app:v1: digest: $md size: $(stat -c %s "$T/root/images/blobs/sha256/${md#sha256:}")" \
    "$OUT" "push prints the manifest digest and size"
assert_eq "" "$ERR" "push on a pipe prints nothing on stderr"
assert_eq 4 "$(reg_count '^HEAD /v2/test/app/blobs/sha256:')" "each of the 4 blobs checked with HEAD"
assert_eq 4 "$(reg_count '^POST /v2/test/app/blobs/uploads/')" "each missing blob: one upload started"
assert_eq 0 "$(reg_count '^PATCH ')" "small blobs go in one PUT, no PATCH"
assert_eq 4 "$(reg_count '^PUT /v2/test/app/blobs/uploads/.*digest=sha256')" "each blob finished with PUT ?digest="
assert_eq 1 "$(reg_count '^PUT /v2/test/app/manifests/v1 ')" "the manifest is PUT once"

# skopeo reads it back: same manifest and config digests.
if skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$R/test/app:v1" "dir:$T/sk" 2>"$T/sk.err"; then
    assert_eq "${md#sha256:}" "$(sha256sum <"$T/sk/manifest.json" | cut -c1-64)" \
        "skopeo pulls what berth pushed: same manifest digest"
    assert_eq "$id" "$(json_eval 'd["config"]["digest"]' <"$T/sk/manifest.json")" \
        "skopeo pulls what berth pushed: same config digest"
else
    fail "skopeo cannot pull what berth pushed: $(cat "$T/sk.err")"
fi

# --- push again: every blob is already there -----------------------------------
: >"$PROXY_LOG"
assert_status 0 berth push -q --tls-verify=false app "$R/test/app:v1"
assert_eq 0 "$(reg_count '^POST ')" "a second push uploads no blob (HEAD says present)"
assert_eq 1 "$(reg_count '^PUT /v2/test/app/manifests/v1 ')" "a second push still PUTs the manifest"

# --- chunked upload --------------------------------------------------------------
: >"$PROXY_LOG"
bb_size=$(stat -c %s "$CACHE/busybox-rootfs.tar.gz")
BERTH_PUSH_CHUNK_SIZE=65536 capture berth push --tls-verify=false app "$R/test/chunked:v1"
assert_eq 0 "$RC" "push with BERTH_PUSH_CHUNK_SIZE=65536"
assert_eq "$(((bb_size + 65535) / 65536))" "$(reg_count '^PATCH /v2/test/chunked/blobs/uploads/')" \
    "the busybox layer ($bb_size bytes) goes in 64 KiB PATCH chunks"
assert_eq 4 "$(reg_count '^PUT /v2/test/chunked/blobs/uploads/.*digest=sha256')" "each blob finished with PUT"

# berth pulls it back: the same image.
berth image rm app:latest >/dev/null
assert_status 0 berth pull -q --tls-verify=false "$R/test/chunked:v1"
assert_eq "$id" "$OUT" "berth pulls the chunked push back: same image id"
assert_eq "$md" "$(image_field "$R/test/chunked:v1" '["ManifestDigest"]')" "same manifest digest"
assert_status 0 berth run --rm "$R/test/chunked:v1" cat /one /two
assert_eq $'one\ntwo' "$OUT" "the pulled-back image runs with its layers"

# Push by the image's own (registry) name, no DEST.
: >"$PROXY_LOG"
assert_status 0 berth push --tls-verify=false "$R/test/chunked:v1"
assert_eq 0 "$(reg_count '^POST ')" "push REF without DEST: blobs present, nothing uploaded"

# A skopeo-pushed image, pulled by berth, pushed by berth elsewhere: same digests.
reg_layout "$T/other" other three
reg_push "$T/other" other "127.0.0.1:$REG_PORT/test/other:v1"
assert_status 0 berth pull -q "$R/test/other:v1"
assert_status 0 berth push "$R/test/other:v1" "$R/copy/other:v2"
skopeo --insecure-policy inspect --raw --tls-verify=false "docker://$R/test/other:v1" >"$T/a.json"
skopeo --insecure-policy inspect --raw --tls-verify=false "docker://$R/copy/other:v2" >"$T/b.json"
assert_eq "$(sha256sum <"$T/a.json")" "$(sha256sum <"$T/b.json")" \
    "a re-pushed image has the same manifest bytes as the original"

# --- errors ----------------------------------------------------------------------
before=$(reg_store_state)
assert_status 125 berth push nosuch:image "$R/test/x:v1"
assert_error "push" "push of a missing image"
assert_status 125 berth push "$R/test/other:v1" "127.0.0.1:1/test/x:v1"
assert_error "push" "push to a closed port"
reg_fault deny
assert_status 125 berth push "$R/test/other:v1" "$R/test/denied:v1"
assert_error "push" "push the registry denies"
reg_fault ""
assert_eq "$before" "$(reg_store_state)" "failed pushes leave the local store unchanged"

reg_cleanup
finish
