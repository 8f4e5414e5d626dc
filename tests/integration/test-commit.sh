#!/usr/bin/env bash
# berth commit: the same changes made in an overlay container and in a
# snapshot container (copy or reflink mode on $T's filesystem, btrfs mode on
# a loop device) give byte-identical layers (the same diff_id); the
# committed images run on both drivers; an unchanged container gives the
# empty layer; bad input is refused with one line and leaves nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The well-known diff_id of a tar with no entry (1024 zero bytes).
EMPTY_DIFF_ID=sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef

# --- a base image with something to change --------------------------------------

mkdir -p "$T/extra/data" "$T/extra/olddir/sub" "$T/extra/opq/inner"
for f in modify gone chmod chown; do echo "$f" >"$T/extra/data/$f.txt"; done
echo a >"$T/extra/olddir/a"
echo c >"$T/extra/olddir/sub/c"
echo x >"$T/extra/opq/x"
echo y >"$T/extra/opq/inner/y"
echo keep >"$T/extra/data/keep.txt"
tar --numeric-owner --mtime=@1600000000 -C "$T/extra" -cf "$T/extra.tar" .
make_oci_layout "$T/baselayout" "base:v1" "$(busybox_tar)" "$T/extra.tar"

# The changes, made inside the container.
CHANGES='set -e
echo new > /data/added.txt
echo changed > /data/modify.txt
rm /data/gone.txt
rm -rf /olddir
rm -rf /opq && mkdir /opq && echo fresh > /opq/fresh
echo link > /data/hl1 && ln /data/hl1 /data/hl2
ln -s added.txt /data/sym
chmod 600 /data/chmod.txt
chown 1234:4321 /data/chown.txt
mkdir -p /newdir/deep && echo deep > /newdir/deep/f && chmod 0750 /newdir'

# What berth diff lists for those changes (sorted): A added, C changed (also
# a directory whose content changed), D deleted; not the mount points of
# /etc/hosts and the like, which are berth's.
DIFF_WANT='A /data/added.txt
A /data/hl1
A /data/hl2
A /data/sym
A /newdir
A /newdir/deep
A /newdir/deep/f
A /opq/fresh
C /data
C /data/chmod.txt
C /data/chown.txt
C /data/modify.txt
C /opq
D /data/gone.txt
D /olddir'

# settle ROOTDIR : fixes the mtimes of what the changes touched (they were
# made at different times in each container) and adds an xattr to a new
# file, from the host, in the container's writable tree ROOTDIR.
settle() {
    python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
for p in ["data", "data/added.txt", "data/modify.txt", "data/hl1", "data/sym", "data/chmod.txt",
          "data/chown.txt", "opq", "opq/fresh", "newdir", "newdir/deep", "newdir/deep/f"]:
    os.utime(os.path.join(root, p), (1700000000, 1700000000), follow_symlinks=False)
os.setxattr(os.path.join(root, "data/added.txt"), "user.commit", b"kept")
PY
}

# writable_tree FN DRIVER STATE NAME : the host path of the container's
# changes (overlay's upper dir, the snapshot driver's root).
writable_tree() {
    local fn=$1 driver=$2 state=$3 name=$4 id
    id=$("$fn" inspect "$name" | json_eval "d[0]['id']")
    if [[ $driver == overlay ]]; then
        printf '%s\n' "$state/plugins/overlay/containers/$id/upper"
    else
        printf '%s\n' "$state/plugins/snapshot/containers/$id/rootfs"
    fi
}

# top_layer FN STATE IMAGE : "DIFF_ID BLOB_PATH" of the image's last layer.
top_layer() {
    local fn=$1 state=$2 image=$3
    "$fn" image inspect "$image" | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]["Layers"][-1]
print(l["DiffID"], l["Digest"].split(":")[1])' 2>/dev/null | while read -r diff hex; do printf '%s %s\n' "$diff" "$state/images/blobs/sha256/$hex"; done
}

# listing BLOB : the layer's members, sorted, with type, mode, owner, size,
# mtime, link target and a content hash.
listing() {
    python3 - "$1" <<'PY'
import hashlib, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in sorted(t.getmembers(), key=lambda m: m.name):
        data = t.extractfile(m).read() if m.isfile() else b""
        x = {k: v for k, v in m.pax_headers.items() if "xattr" in k}
        print(m.name, m.type.decode() if isinstance(m.type, bytes) else m.type, oct(m.mode),
              f"{m.uid}:{m.gid}", m.size, m.mtime, m.linkname, hashlib.md5(data).hexdigest()[:8],
              sorted(x.items()))
PY
}

# commit_from FN STATE DRIVER TAG [CREATE-OPTION…] : makes the changes in a
# container of DRIVER and commits it as IMAGE ch:TAG; prints nothing, checks
# as it goes.
commit_from() {
    local fn=$1 state=$2 driver=$3 tag=$4
    assert_status 0 "$fn" create --network none --storage-driver "$driver" --name "ch-$tag" "${@:5}" \
        base:v1 sh -c "$CHANGES"
    assert_status 0 "$fn" start -a "ch-$tag"
    settle "$(writable_tree "$fn" "$driver" "$state" "ch-$tag")"
    assert_status 0 "$fn" diff "ch-$tag"
    assert_eq "$DIFF_WANT" "$(LC_ALL=C sort <<<"$OUT")" "$tag: diff lists each change as docker diff"
    assert_status 0 "$fn" commit -m "from $tag" --author tester "ch-$tag" "ch:$tag"
    assert_match "$OUT" '^sha256:[0-9a-f]{64}$' "$tag: commit prints the new image id"
    assert_status 0 "$fn" rm "ch-$tag"
}

# check_image FN IMAGE DRIVER : IMAGE shows the changes on DRIVER.
check_image() {
    local fn=$1 image=$2 driver=$3
    assert_status 0 "$fn" run --rm --network none --storage-driver "$driver" "$image" sh -c '
        cat /data/added.txt /data/modify.txt /data/keep.txt /opq/fresh /newdir/deep/f
        test ! -e /data/gone.txt && echo gone-gone
        test ! -e /olddir && echo olddir-gone
        ls -A /opq | tr "\n" " "; echo
        [ "$(stat -c %i /data/hl1)" = "$(stat -c %i /data/hl2)" ] && echo hardlinked
        readlink /data/sym
        stat -c "%a %u:%g" /data/chmod.txt /data/chown.txt /newdir'
    assert_eq $'new\nchanged\nkeep\nfresh\ndeep\ngone-gone\nolddir-gone\nfresh \nhardlinked\nadded.txt\n600 0:0\n644 1234:4321\n750 0:0' \
        "$OUT" "$image runs on $driver with every change"
}

assert_status 0 berth image load -i "$T/baselayout"
setup_busybox busybox

commit_from berth "$T/root" overlay overlay
commit_from berth "$T/root" snapshot snapshot
read -r ov_diff ov_blob < <(top_layer berth "$T/root" ch:overlay)
read -r sn_diff sn_blob < <(top_layer berth "$T/root" ch:snapshot)
ov_list=$(listing "$ov_blob")
sn_list=$(listing "$sn_blob")
assert_contains "$ov_list" "data/.wh.gone.txt" "overlay: a deleted file is a whiteout"
assert_contains "$ov_list" ".wh.olddir" "overlay: a deleted directory is a whiteout"
assert_contains "$ov_list" "opq/.wh..wh..opq" "overlay: a directory made anew is opaque"
assert_contains "$ov_list" "data/hl2 1" "overlay: a hardlink is a link entry"
assert_contains "$ov_list" "user.commit" "overlay: the xattr is in the layer"
assert_not_contains "$ov_list" "trusted.overlay" "overlay: no overlay xattr in the layer"
assert_not_contains "$ov_list" "keep.txt" "overlay: an unchanged file is not in the layer"
snapshot_mode=$(berth system info | json_eval "d['storage_drivers']['snapshot']['mode']")
if [[ -n $ov_list && $ov_list == "$sn_list" ]]; then
    ok "overlay and snapshot ($snapshot_mode) layers list the same members ($(wc -l <<<"$ov_list"))"
else
    fail "overlay and snapshot layers differ"
    diff <(echo "$ov_list") <(echo "$sn_list") | head -30 | sed 's/^/#   /'
fi
assert_eq "$ov_diff" "$sn_diff" "the layers are byte-identical (one diff_id)"
config=$(cat "$T/root/images/blobs/sha256/$(berth image inspect ch:overlay | json_eval "d[0]['Id'][7:]")")
assert_eq "from overlay" "$(json_eval "d['history'][-1]['comment']" <<<"$config")" "the history has the message"
assert_eq "tester" "$(json_eval "d['author']" <<<"$config")" "the config has the author"
assert_eq "$ov_diff" "$(json_eval "d['rootfs']['diff_ids'][-1]" <<<"$config")" "the config lists the new diff_id"

for image in ch:overlay ch:snapshot; do
    for driver in overlay snapshot; do
        check_image berth "$image" "$driver"
    done
done

# --- a user namespace: the same changes give the same layer ------------------
# overlay's upper dir holds host ids (200000… for the container's root, 201234
# for 1234), shifted back through the container's maps as the layer is
# packed; the snapshot driver's tree is idmapped as a whole, so it holds the
# container's ids already. Either gives the layer made without a user namespace.
source "$(dirname "${BASH_SOURCE[0]}")/userns-lib.sh"
if use_subids "berth:200000:400000"; then
    for driver in overlay snapshot; do
        commit_from berth "$T/root" "$driver" "userns-$driver" --userns=auto
        read -r u_diff u_blob < <(top_layer berth "$T/root" "ch:userns-$driver")
        u_list=$(listing "$u_blob")
        if [[ $u_list != "$ov_list" ]]; then
            fail "$driver with --userns=auto: the layer differs"
            diff <(echo "$ov_list") <(echo "$u_list") | head -30 | sed 's/^/#   /'
        fi
        assert_eq "$ov_diff" "$u_diff" "$driver with --userns=auto: the layer made without one"
        check_image berth "ch:userns-$driver" "$driver"
    done
fi

# A container without changes gives the empty layer.
for driver in overlay snapshot; do
    assert_status 0 berth create --network none --storage-driver "$driver" --name "same-$driver" base:v1 true
    assert_status 0 berth commit "same-$driver" "same:$driver"
    read -r diff _ < <(top_layer berth "$T/root" "same:$driver")
    assert_eq "$EMPTY_DIFF_ID" "$diff" "$driver: an unchanged container commits the empty layer"
    # One that ran got the mount points of /etc/hosts, resolv.conf and hostname
    # made in its layer (the image has none): they are berth's, not its changes.
    assert_status 0 berth run --network none --storage-driver "$driver" --name "ran-$driver" base:v1 \
        sh -c 'echo 192.0.2.1 x >> /etc/hosts'
    assert_status 0 berth commit "ran-$driver" "ran:$driver"
    read -r diff _ < <(top_layer berth "$T/root" "ran:$driver")
    assert_eq "$EMPTY_DIFF_ID" "$diff" "$driver: a container that ran and wrote only /etc/hosts commits the empty layer"
    assert_status 0 berth run --rm --network none --storage-driver "$driver" "same:$driver" cat /data/keep.txt
    assert_eq keep "$OUT" "$driver: the image with an empty layer runs"
    assert_status 0 berth rm "same-$driver" "ran-$driver"
done

# Bad input: one line, exit 125, no new blob and no new name.
assert_status 0 berth create --network none --name bad base:v1 true
blobs_before=$(dir_entries "$T/root/images/blobs/sha256" | wc -l)
images_before=$(berth image ls -q | LC_ALL=C sort | tr '\n' ' ')
capture berth commit no-such-container img:x
assert_error commit "unknown container"
capture berth commit bad 'Bad Name'
assert_error commit "invalid image name"
capture berth commit bad 'img@sha256:0000'
assert_error commit "a digest reference"
capture berth commit bad
assert_error commit "missing operand"
capture berth diff no-such-container
assert_error diff "diff of an unknown container"
capture berth diff
assert_error diff "diff without a container"
assert_status 0 berth diff bad
assert_eq "" "$OUT" "diff of a container that never ran: nothing"
assert_eq "$blobs_before" "$(dir_entries "$T/root/images/blobs/sha256" | wc -l)" "bad commits store no blob"
assert_eq "$images_before" "$(berth image ls -q | LC_ALL=C sort | tr '\n' ' ')" "bad commits make no image"
assert_eq "" "$(dir_entries "$T/root/images/tmp")" "no temporary directory is left"
assert_status 0 berth rm bad

# Committing to an existing name moves the name.
assert_status 0 berth create --network none --name again base:v1 sh -c 'echo 2 > /two'
assert_status 0 berth start -a again
assert_status 0 berth commit again ch:overlay
assert_status 0 berth run --rm --network none ch:overlay cat /two
assert_eq 2 "$OUT" "commit to an existing name retags it"
assert_status 0 berth rm again

# --- snapshot on btrfs: the same layer as overlay's ------------------------------

if command -v mkfs.btrfs >/dev/null; then
    truncate -s 300M "$T/btrfs.img"
    mkfs.btrfs -q "$T/btrfs.img" >/dev/null
    loopdev=$(losetup --find --show "$T/btrfs.img")
    mkdir -p "$T/btrfs"
    mount -t btrfs "$loopdev" "$T/btrfs"
    cleanup_btrfs() {
        umount "$T/btrfs" 2>/dev/null || umount -l "$T/btrfs" 2>/dev/null || true
        losetup -d "$loopdev" 2>/dev/null || true
    }
    trap 'cleanup_btrfs; _on_exit' EXIT
    bberth() {
        "$BERTH" --root "$T/btrfs/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" "$@"
    }
    assert_status 0 bberth image load -i "$T/baselayout"
    assert_eq btrfs "$(bberth system info | json_eval "d['storage_drivers']['snapshot']['mode']")" \
        "btrfs: the snapshot driver is in btrfs mode"
    commit_from bberth "$T/btrfs/root" snapshot btrfs
    read -r b_diff b_blob < <(top_layer bberth "$T/btrfs/root" ch:btrfs)
    b_list=$(listing "$b_blob")
    if [[ $b_list == "$ov_list" ]]; then
        ok "btrfs: the snapshot driver's layer lists the same members as overlay's"
    else
        fail "btrfs: the layer differs from overlay's"
        diff <(echo "$ov_list") <(echo "$b_list") | head -30 | sed 's/^/#   /'
    fi
    assert_eq "$ov_diff" "$b_diff" "btrfs: byte-identical to overlay's layer"
    check_image bberth ch:btrfs overlay
    check_image bberth ch:btrfs snapshot
    assert_status 0 bberth create --network none --storage-driver snapshot --name same-b base:v1 true
    assert_status 0 bberth commit same-b same:b
    read -r diff _ < <(top_layer bberth "$T/btrfs/root" same:b)
    assert_eq "$EMPTY_DIFF_ID" "$diff" "btrfs: an unchanged container commits the empty layer"
    assert_status 0 bberth rm same-b
    cleanup_btrfs
    trap _on_exit EXIT
else
    fail "mkfs.btrfs is missing (install btrfs-progs): btrfs commit not tested"
fi

finish
