#!/usr/bin/env bash
# berth pull from a real registry (Debian's docker-registry on 127.0.0.1):
# images pushed by skopeo are pulled and run; an index picks the host's
# platform or --platform's; a second image on the same base downloads only
# its new layer; run pulls a missing image; references are parsed as docker's;
# gzip, zstd and uncompressed layers are checked against the config's diff_ids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry-lib.sh"

reg_start # without auth
reg_proxy_start "$REG_PORT"
R=127.0.0.1:$PROXY_PORT

reg_layout "$T/app1" app1 one
reg_layout "$T/app2" app2 two
reg_multiarch_layout "$T/multi" multi
reg_push "$T/app1" app1 "127.0.0.1:$REG_PORT/test/app1:v1"
reg_push "$T/app2" app2 "127.0.0.1:$REG_PORT/test/app2:latest"
reg_push "$T/multi" multi "127.0.0.1:$REG_PORT/test/multi:latest"
# The same, as Docker schema 2 manifests and a Docker manifest list.
reg_push "$T/app1" app1 "127.0.0.1:$REG_PORT/test/docker1:v1" --format v2s2
reg_push "$T/multi" multi "127.0.0.1:$REG_PORT/test/dockermulti:latest" --format v2s2

# --- a pull, on a pipe: only the image id --------------------------------------
assert_status 0 berth pull "$R/test/app1:v1"
assert_match "$OUT" '^sha256:[0-9a-f]{64}$' "pull prints the image id on a pipe"
assert_eq "" "$ERR" "pull on a pipe prints nothing on stderr"
id1=$OUT
assert_status 0 berth images --format json
assert_contains "$OUT" "$R/test/app1:v1" "the pulled image is listed under its full name"
assert_status 0 berth run --rm "$R/test/app1:v1" cat /one
assert_eq "one" "$OUT" "the pulled image runs, with its layer"
n_blobs=$(reg_count "^GET /v2/test/app1/blobs/")
assert_eq 3 "$n_blobs" "config and two layers downloaded once each"

# --- shared base: only the new layer -------------------------------------------
: >"$PROXY_LOG"
assert_status 0 berth pull -q "$R/test/app2"
assert_status 0 berth run --rm "$R/test/app2:latest" cat /two
assert_eq "two" "$OUT" "the second image runs"
assert_eq 2 "$(reg_count "^GET /v2/test/app2/blobs/")" \
    "second image: only its config and new layer downloaded (the base is shared)"

# --- pulling again downloads no blob -------------------------------------------
: >"$PROXY_LOG"
assert_status 0 berth pull "$R/test/app1:v1"
assert_eq "$id1" "$OUT" "a second pull gives the same id"
assert_eq 0 "$(reg_count "/blobs/")" "a second pull downloads no blob"

# --- by digest -------------------------------------------------------------------
digest=$(curl -s -o /dev/null -D - \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:$REG_PORT/v2/test/app1/manifests/v1" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}')
assert_status 0 berth pull "$R/test/app1@$digest"
assert_eq "$id1" "$OUT" "pull by digest gives the same image"

# --- an index: the host's platform, or --platform ----------------------------------
assert_status 0 berth pull "$R/test/multi"
assert_status 0 berth run --rm "$R/test/multi" cat /amd64
assert_eq "amd64" "$OUT" "from an index, the host's platform (amd64)"
assert_status 0 berth pull --platform linux/arm64 "$R/test/multi:latest"
assert_status 0 berth image inspect "$R/test/multi"
assert_contains "$OUT" '"arm64"' "--platform linux/arm64 takes the arm64 manifest"
assert_status 0 berth run --rm "$R/test/multi" cat /arm64
assert_eq "arm64" "$OUT" "the arm64 image's own layer is there"
assert_status 125 berth pull --platform linux/s390x "$R/test/multi"
assert_error pull "no manifest for the platform"

# --- Docker schema 2 manifest and manifest list ---------------------------------------
assert_status 0 curl -s -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://127.0.0.1:$REG_PORT/v2/test/dockermulti/manifests/latest"
assert_contains "$OUT" "manifest.list.v2+json" "the registry holds a Docker manifest list"
assert_status 0 berth pull "$R/test/docker1:v1"
assert_status 0 berth image inspect "$R/test/docker1:v1"
assert_contains "$OUT" "application/vnd.docker.image.rootfs.diff.tar.gzip" \
    "a Docker schema 2 image is pulled with its Docker layer media type"
assert_status 0 berth run --rm "$R/test/docker1:v1" cat /one
assert_eq one "$OUT" "the Docker schema 2 image runs"
assert_status 0 berth pull --platform linux/arm64 "$R/test/dockermulti"
assert_status 0 berth run --rm "$R/test/dockermulti" cat /arm64
assert_eq arm64 "$OUT" "from a Docker manifest list, --platform linux/arm64"
assert_status 0 berth image rm "$R/test/docker1:v1" "$R/test/dockermulti:latest"

# --- zstd and uncompressed layers: their diff_ids computed as they stream in -------------
mkdir -p "$T/zl" "$T/pl"
printf 'zstd\n' >"$T/zl/zstd"
printf 'plain\n' >"$T/pl/plain"
tar --numeric-owner -C "$T/zl" -cf "$T/zl.tar" zstd
zstd -q -19 "$T/zl.tar" -o "$T/zl.tar.zst"
tar --numeric-owner -C "$T/pl" -cf "$T/pl.tar" plain
gzip -c "$(busybox_tar)" >"$T/bb.tar.gz"
make_oci_layout "$T/mixed" mixed "$T/bb.tar.gz" "$T/zl.tar.zst" "$T/pl.tar"
reg_push "$T/mixed" mixed "127.0.0.1:$REG_PORT/test/mixed:latest" --preserve-digests
assert_status 0 berth pull "$R/test/mixed"
assert_status 0 berth image inspect "$R/test/mixed"
assert_contains "$OUT" "layer.v1.tar+zstd" "a zstd layer is pulled as zstd"
assert_status 0 berth run --rm "$R/test/mixed" cat /zstd /plain
assert_eq "zstd
plain" "$OUT" "the image of gzip, zstd and plain layers runs"
assert_status 0 berth image rm "$R/test/mixed"

# --- on a terminal: progress lines and a summary ----------------------------------
assert_status 0 berth image rm "$R/test/app2:latest"
capture script -qec "'$BERTH' --root '$T/root' --runroot '$T/run' --plugin-path '$PLUGIN_PATH' pull $R/test/app2" /dev/null
assert_eq 0 "$RC" "pull on a terminal"
assert_contains "$OUT" "Download complete" "a progress line per blob on a terminal"
assert_contains "$OUT" "Already exists" "the shared base layer is shown as present"
assert_contains "$OUT" "Pulled $R/test/app2:latest: 2 of 3 blobs downloaded" "a summary"
assert_contains "$OUT" "Digest: sha256:" "the manifest digest"

# --- run pulls a missing image ---------------------------------------------------
assert_status 0 berth image rm "$R/test/app1:v1"
assert_status 0 berth run --rm "$R/test/app1:v1" cat /one
assert_eq "one" "$OUT" "run pulled the missing image and ran it"
assert_eq "" "$ERR" "on a pipe, run pulls without a word"
assert_status 0 berth image inspect "$R/test/app1:v1"
assert_status 0 berth image rm "$R/test/app1:v1"
capture script -qec "'$BERTH' --root '$T/root' --runroot '$T/run' --plugin-path '$PLUGIN_PATH' run --rm $R/test/app1:v1 true" /dev/null
assert_contains "$OUT" "Unable to find image '$R/test/app1:v1' locally" "on a terminal, run says it pulls"

# --- the config file: mirrors first, the default registry of short names --------------
cfg=$T/berth.json
printf '{"registries": {"mirrors": {"127.0.0.1:%s": ["127.0.0.1:%s"]}}}' "$REG_PORT" "$PROXY_PORT" >"$cfg"
: >"$PROXY_LOG"
assert_status 0 berth --config "$cfg" pull "127.0.0.1:$REG_PORT/test/app1:v1"
assert_true "the mirror was asked first" grep -q '^GET /v2/test/app1/manifests/v1' "$PROXY_LOG"
assert_status 0 berth image rm "127.0.0.1:$REG_PORT/test/app1:v1"
printf '{"registries": {"default": "127.0.0.1:%s"}}' "$PROXY_PORT" >"$cfg"
: >"$PROXY_LOG"
assert_status 0 berth --config "$cfg" pull test/app2
assert_true "a short name comes from the default registry" \
    grep -q '^GET /v2/test/app2/manifests/latest' "$PROXY_LOG"
assert_status 0 berth images --format json
assert_contains "$OUT" '"test/app2:latest"' "and is stored under its short name"
assert_status 0 berth --config "$cfg" run --rm test/app2 cat /two
assert_eq two "$OUT" "run finds it by the short name"
assert_status 0 berth image rm test/app2
printf '{"registries": {"mirrors": ["x"]}}' >"$cfg"
assert_status 125 berth --config "$cfg" pull test/app2
assert_error config "a malformed registries object"

# --- local short names still work --------------------------------------------------
setup_busybox busybox
assert_status 0 berth run --rm busybox true
assert_status 0 berth run --rm docker.io/library/busybox:latest true
assert_status 125 berth pull "Bad/Name"
assert_error pull "invalid reference"
assert_status 125 berth pull "$R/test/nonexistent"
assert_error pull "unknown repository"

assert_eq "" "$(find "$T/root/images" -mindepth 1 -maxdepth 2 \( -name 'pull-*' -o -path '*/downloads/*' \))" \
    "no temporary file of a pull is left"

for ref in "$R/test/app1:v1" "$R/test/app2:latest" "$R/test/multi:latest" \
    "$R/test/app1@$digest" busybox:latest; do
    berth image rm "$ref" >/dev/null 2>&1 || true
done
reg_cleanup
finish
