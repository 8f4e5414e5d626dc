#!/usr/bin/env bash
# The image store: import of plain, gzip and zstd rootfs tarballs, ls,
# inspect, rm (untag, in-use refusal, blob and layer cleanup) and bad input
# that leaves the store as it was.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tar=$(busybox_tar)
gzip -1 -c "$tar" >"$T/rootfs.tar.gz"
zstd -q -1 -c "$tar" >"$T/rootfs.tar.zst"

assert_status 0 berth image ls -q
assert_eq "" "$OUT" "a new store has no image"

assert_status 0 berth image import "$tar" busybox
id_plain=$OUT
assert_contains "$id_plain" "sha256:" "import prints the image id"
assert_status 0 berth image import "$T/rootfs.tar.gz" bb:gz
assert_status 0 berth image import "$T/rootfs.tar.zst" bb:zst
for ref in busybox busybox:latest bb:gz bb:zst; do
    assert_status 0 berth run --rm "$ref" echo "hi from $ref"
    assert_eq "hi from $ref" "$OUT" "run from $ref"
done

assert_status 0 berth image ls
assert_contains "$OUT" "busybox" "image ls shows busybox"
assert_contains "$OUT" "gz" "image ls shows bb:gz"
assert_status 0 berth image ls -q
n_ids=$(sort -u <<<"$OUT" | grep -c . || true)
# The three tarballs hold the same diff, so they may share one image id.
[[ $n_ids -ge 1 && $n_ids -le 3 ]] && ok "image ls -q: $n_ids id(s)" || fail "image ls -q: $OUT"
assert_status 0 berth image ls --format json
refs=$(json_eval 'json.dumps(d)' <<<"$OUT" || echo "not JSON")
for ref in busybox:latest bb:gz bb:zst; do
    assert_contains "$refs" "$ref" "image ls --format json names $ref"
done

assert_status 0 berth image inspect busybox
inspect=$OUT
assert_eq "1" "$(json_eval 'len(d)' <<<"$inspect" || true)" "image inspect gives a JSON array of one"
assert_contains "$inspect" "${id_plain#sha256:}" "image inspect shows the id"
assert_contains "$inspect" "busybox:latest" "image inspect shows the name"
assert_status 0 berth image inspect "${id_plain#sha256:}"
assert_eq 0 "$RC" "image inspect by id"
short=${id_plain#sha256:}
assert_status 0 berth image inspect "${short:0:12}"
assert_eq 0 "$RC" "image inspect by a 12-digit id prefix"
assert_status 125 berth image inspect nosuch
assert_error image "image inspect of an unknown image"

# Every blob is stored under its own sha256.
bad=0
while IFS= read -r -d '' b; do
    [[ $(sha256sum <"$b" | cut -d' ' -f1) == "$(basename "$b")" ]] || bad=$((bad + 1))
done < <(find "$T/root/images/blobs/sha256" -type f -print0 2>/dev/null)
assert_eq 0 "$bad" "every blob's name is its sha256"

# Bad input: one line, 125, the store unchanged.
store_before=$(tree_digest "$T/root/images")
capture berth image ls -q
ids_before=$OUT
layers_before=$(tree_digest "$OVERLAY_STATE/layers")
assert_status 125 berth image import "$T/no-such.tar" x
assert_error image "import of a missing file"
head -c 10000 /dev/urandom >"$T/garbage.tar"
assert_status 125 berth image import "$T/garbage.tar" x
assert_error image "import of garbage"
head -c 20000 "$T/rootfs.tar.gz" >"$T/truncated.tar.gz"
assert_status 125 berth image import "$T/truncated.tar.gz" x
assert_error image "import of a truncated tarball"
assert_status 125 berth image import "$tar" 'Bad Name!'
assert_error image "import under an invalid name"
assert_status 125 berth image load -i "$T/no-such-dir"
assert_error image "load of a missing path"
mkdir -p "$T/not-a-layout"
assert_status 125 berth image load -i "$T/not-a-layout"
assert_error image "load of a dir that is no OCI layout"
assert_eq "$store_before" "$(tree_digest "$T/root/images")" "refused input left the image store as it was"
assert_eq "$layers_before" "$(tree_digest "$OVERLAY_STATE/layers")" "refused input left the layers as they were"
assert_status 0 berth image ls -q
assert_eq "$ids_before" "$OUT" "no new image from refused input"

# rm: a name untags; an image in use by a container is refused.
assert_status 0 berth create --name user bb:zst true
assert_status 125 berth image rm bb:zst
assert_error image "rm of an image a container uses"
assert_status 0 berth image inspect bb:zst
assert_eq 0 "$RC" "the refused rm kept the image"
assert_status 0 berth rm user
assert_status 0 berth image rm bb:zst
assert_status 125 berth image inspect bb:zst
assert_eq 125 "$RC" "bb:zst is gone"
assert_status 0 berth run --rm bb:gz true
assert_eq 0 "$RC" "other names of a shared image still run"
assert_status 0 berth image rm bb:gz busybox
assert_status 0 berth image ls -q
assert_eq "" "$OUT" "no image left"
assert_eq "" "$(find "$T/root/images/blobs" -type f 2>/dev/null)" "no blob left once no image uses it"
assert_eq "" "$(dir_entries "$OVERLAY_STATE/layers")" "no unpacked layer left once no image uses it"

# Re-import after rm works (nothing stale blocks it).
assert_status 0 berth image import "$tar" busybox
assert_status 0 berth run --rm busybox echo again
assert_eq "again" "$OUT" "re-import after rm"

finish
