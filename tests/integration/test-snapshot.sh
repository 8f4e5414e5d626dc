#!/usr/bin/env bash
# The snapshot storage driver: each layer a snapshot (or copy) of its parent,
# each container a writable snapshot (or copy) of its image's top layer.
# Checked on btrfs (a filesystem this test makes on a loop device, in its own
# mount namespace) and on the plain filesystem of $T (reflink or copy mode):
# changes are isolated between containers, vanish with rm and never reach a
# layer; a copy keeps hardlinks, holes, device nodes, xattrs, file
# capabilities, set-id bits, owners and times; a multi-layer image with
# whiteouts and an opaque directory gives the same tree as under overlay;
# overlay and snapshot containers of one image run side by side.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SNAP_STATE="$T/root/plugins/snapshot"

# --- helpers -------------------------------------------------------------------

# The mode the snapshot driver reports in `system info` of the root behind
# the berth function BERTH_FN.
snapshot_info() {
    local fn=$1 field=$2
    capture "$fn" system info
    [[ $RC -eq 0 ]] || {
        _show
        echo "?"
        return 0
    }
    json_eval "d['storage_drivers']['snapshot']['$field']" <<<"$OUT" 2>/dev/null || echo "?"
}

# A listing of the visible tree of IMAGE under DRIVER: every path with its
# type, mode, owner, size and link target, and every file's content hash.
tree_listing() {
    local fn=$1 driver=$2 image=$3
    # One host name for both: /etc/hostname and /etc/hosts hold it.
    "$fn" run --rm --network none --hostname listing --storage-driver "$driver" "$image" sh -c '
        cd / && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o -print |
            sort | while read -r p; do
                if [ -L "$p" ]; then echo "$p l $(readlink "$p")"
                elif [ -f "$p" ]; then echo "$p f $(stat -c "%a %u:%g %s" "$p") $(md5sum < "$p" | cut -c1-32)"
                else echo "$p $(stat -c "%F %a %u:%g" "$p")"; fi
            done' 2>&1 </dev/null
}

# ctr_root STATE ID : the root of a container (create may print a prefix of the id).
ctr_root() {
    local d
    d=$(find "$1/containers" -mindepth 1 -maxdepth 1 -name "$2*" -print -quit 2>/dev/null || true)
    printf '%s\n' "${d:-$1/containers/$2}/rootfs"
}

# isolation FN STATE_DIR TAG : containers of the snapshot driver do not see
# each other's changes, keep theirs across a restart, and leave the layer as
# it was.
isolation() {
    local fn=$1 state=$2 tag=$3 id1 layers_before
    assert_status 0 "$fn" run --rm --network none --storage-driver snapshot busybox true
    layers_before=$(WITH_MTIME=1 tree_digest "$state/layers")
    assert_status 0 "$fn" create --network none --storage-driver snapshot --name "c1-$tag" busybox sh -c \
        'if [ -e /marker ]; then cat /marker; else echo one > /marker; echo made; fi; echo changed >> /etc/passwd; rm -f /bin/ls'
    id1=$OUT
    assert_status 0 "$fn" create --network none --storage-driver snapshot --name "c2-$tag" busybox sh -c \
        'test ! -e /marker && grep -c changed /etc/passwd; test -e /bin/ls && echo ls-present'
    assert_status 0 "$fn" start -a "c1-$tag"
    assert_eq "made" "$OUT" "$tag: c1 writes its marker"
    assert_status 0 "$fn" start -a "c2-$tag"
    assert_eq $'0\nls-present' "$OUT" "$tag: c2 sees none of c1's changes (new, appended, deleted file)"
    assert_status 0 "$fn" start -a "c1-$tag"
    assert_eq "one" "$OUT" "$tag: c1's changes survive a restart"
    assert_true "$tag: c1's marker is in its own root" \
        test -f "$(ctr_root "$state" "$id1")/marker"
    assert_eq "" "$(find_in "$state/layers" marker)" "$tag: the marker never reached a layer"
    assert_eq "$layers_before" "$(WITH_MTIME=1 tree_digest "$state/layers")" \
        "$tag: the layers are unchanged"
    assert_status 0 "$fn" run --rm --network none --read-only --storage-driver snapshot busybox sh -c \
        'touch /x 2>/dev/null && echo writable || echo read-only'
    assert_eq "read-only" "$OUT" "$tag: --read-only gives a read-only root"
    assert_status 0 "$fn" rm "c1-$tag" "c2-$tag"
    assert_eq "" "$(dir_entries "$state/containers")" "$tag: rm removes every container root"
    assert_eq "" "$(dir_entries "$state/trash")" "$tag: nothing left in the trash"
}

# --- the plain filesystem of $T: reflink or copy --------------------------------

setup_busybox busybox
mode=$(snapshot_info berth mode)
assert_match "$mode" '^(reflink|copy)$' "on $(stat -f -c %T "$T") the snapshot driver is in reflink or copy mode ($mode)"
assert_eq "$SNAP_STATE" "$(snapshot_info berth state_dir)" "info names the state dir"
isolation berth "$SNAP_STATE" "$mode"

# A copy keeps everything a layer can hold. The layer tar is made by GNU tar
# with --sparse and --xattrs so that the holes and xattrs are in it.
fid="$T/fid"
mkdir -p "$fid/f"
echo linked >"$fid/f/a"
ln "$fid/f/a" "$fid/f/b"
truncate -s 10M "$fid/f/sparse"
printf 'end' | dd of="$fid/f/sparse" bs=1 seek=$((10 * 1024 * 1024 - 3)) conv=notrunc status=none
mknod "$fid/f/null" c 1 3
mknod "$fid/f/blk" b 7 200
mkfifo "$fid/f/fifo"
chmod 0666 "$fid/f/null"
chmod 0640 "$fid/f/blk"
chmod 0620 "$fid/f/fifo"
echo x >"$fid/f/xattr"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.test", b"hello")' "$fid/f/xattr"
cp /bin/busybox "$fid/f/suid"
chmod 4755 "$fid/f/suid"
echo cap >"$fid/f/cap"
setcap cap_net_raw+ep "$fid/f/cap"
echo owned >"$fid/f/owned"
chown 1234:5678 "$fid/f/owned"
touch -h -d '2001-02-03 04:05:06' "$fid/f/owned"
ln -s a "$fid/f/sym"
chown -h 42:43 "$fid/f/sym"
# Wide and deep trees: the copy resumes a directory after each subdirectory
# (telldir/seekdir) and climbs back through "..".
python3 - "$fid/f" <<'PY'
import os, sys
top = sys.argv[1]
for i in range(400):
    if i % 10 == 0:
        os.makedirs(f"{top}/wide/d{i}")
        for j in range(3):
            open(f"{top}/wide/d{i}/g{j}", "w").write(str(j))
    open(f"{top}/wide/f{i}", "w").write(str(i))
p = f"{top}/deep"
for i in range(150):
    p += "/d"
    os.makedirs(p)
    open(p + "/f", "w").write(str(i))
PY
fid_wide=$(cd "$fid/f" && find wide deep | LC_ALL=C sort | md5sum | cut -c1-32)
chmod 0710 "$fid/f"
tar --numeric-owner --sparse --xattrs --xattrs-include='*' -C "$fid" -cf "$T/fid.tar" f
mkdir -p "$T/top/etc" && echo top >"$T/top/etc/top"
tar --numeric-owner -C "$T/top" -cf "$T/top.tar" .
# busybox, the fidelity layer, a small top layer: the fidelity layer's tree is
# copied once more (into the top layer) before the container's copy.
make_oci_layout "$T/fidlayout" "fidelity:v1" "$(busybox_tar)" "$T/fid.tar" "$T/top.tar"
assert_status 0 berth image load -i "$T/fidlayout"
assert_status 0 berth create --network none --storage-driver snapshot --name fid fidelity:v1 sh -c '
    cd /f
    stat -c "%n %i %h" a b | awk "{print \$1, \$3}"
    [ "$(stat -c %i a)" = "$(stat -c %i b)" ] && echo "a b: one inode"
    echo "sparse $(stat -c %s sparse) $(du -k sparse | cut -f1)k $(tail -c 3 sparse)"
    stat -c "%n %F %t:%T %a" null blk
    stat -c "%n %F %a" fifo
    stat -c "%n %a %U" suid
    stat -c "%n %u:%g %Y" owned
    stat -c "%n %u:%g" sym
    stat -c "%n %a" .
    echo "trees $(find wide deep | LC_ALL=C sort | md5sum | cut -c1-32)"
    cat /etc/top'
fid_id=$OUT
assert_status 0 berth start -a fid
listing=$OUT
assert_contains "$listing" $'a 2\nb 2\na b: one inode' "copy: hardlinks stay one inode with 2 links"
assert_match "$listing" 'sparse 10485760 [0-9]{1,3}k end' "copy: a 10 MiB sparse file keeps its size, content and holes"
assert_contains "$listing" "null character special file 1:3 666" "copy: character device kept"
assert_contains "$listing" "blk block special file 7:c8 640" "copy: block device kept"
assert_contains "$listing" "fifo fifo 620" "copy: fifo kept"
assert_contains "$listing" "suid 4755 root" "copy: setuid bit kept"
assert_contains "$listing" "owned 1234:5678 981173106" "copy: owner and mtime kept"
assert_contains "$listing" "sym 42:43" "copy: symlink owner kept"
assert_contains "$listing" ". 710" "copy: directory mode kept"
assert_contains "$listing" "top" "copy: the top layer is there"
assert_contains "$listing" "trees $fid_wide" "copy: a wide and a 150-deep tree are copied whole"
root=$(ctr_root "$SNAP_STATE" "$fid_id")
assert_eq "b'hello'" "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.test"))' "$root/f/xattr" 2>&1)" \
    "copy: user.test xattr kept"
assert_contains "$(getcap "$root/f/cap" 2>&1)" "cap_net_raw" "copy: file capability (security.capability) kept"
assert_eq "$(stat -c %a "$SNAP_STATE/layers/$(dir_entries "$SNAP_STATE/layers" | head -1)")" "$(stat -c %a "$root")" \
    "copy: the container root keeps the layer root's mode"
assert_status 0 berth rm fid
assert_status 0 berth image rm fidelity:v1

# Whiteouts and an opaque directory: the same visible tree as overlay's.
gen="$BERTH_TEST_TOP/tests/fixtures/make-oci-layout.sh"
mkdir -p "$T/base" "$T/d1/a" "$T/d1/opq/sub" "$T/d2/a" "$T/d2/opq" "$T/d2/b" "$T/d1/gonedir"
tar -C "$T/base" -xf "$(busybox_tar)"
echo v1 >"$T/d1/a/keep"
echo gone >"$T/d1/a/gone"
echo old >"$T/d1/opq/old1"
echo old >"$T/d1/opq/sub/old2"
echo inner >"$T/d1/gonedir/inner"
echo v2 >"$T/d2/a/keep"
: >"$T/d2/a/.wh.gone"
: >"$T/d2/opq/.wh..wh..opq"
echo new >"$T/d2/opq/new"
echo added >"$T/d2/b/added"
: >"$T/d2/.wh.gonedir"
mkdir -p "$T/d3/b" && : >"$T/d3/b/.wh.added" && echo three >"$T/d3/three"
if bash "$gen" --name whiteouts:v1 "$T/wlayout" "$T/base" "$T/d1" "$T/d2" "$T/d3" >/dev/null; then
    assert_status 0 berth image load -i "$T/wlayout"
    via_overlay=$(tree_listing berth overlay whiteouts:v1)
    via_snapshot=$(tree_listing berth snapshot whiteouts:v1)
    assert_contains "$via_snapshot" "./opq/new f" "whiteouts: the opaque dir holds the new file"
    assert_not_contains "$via_snapshot" "old1" "whiteouts: the opaque dir hides the lower files"
    assert_not_contains "$via_snapshot" "gonedir" "whiteouts: a whited-out dir is gone"
    assert_not_contains "$via_snapshot" "./b/added" "whiteouts: a file of layer 2 whited out in layer 3"
    assert_not_contains "$via_snapshot" ".wh." "whiteouts: no whiteout file is visible"
    if [[ -n $via_overlay && $via_overlay == "$via_snapshot" ]]; then
        ok "whiteouts: snapshot and overlay show the same tree ($(wc -l <<<"$via_snapshot") entries)"
    else
        fail "whiteouts: snapshot and overlay trees differ"
        diff <(echo "$via_overlay") <(echo "$via_snapshot") | head -20 | sed 's/^/#   /'
    fi
    assert_status 0 berth image rm whiteouts:v1
else
    fail "tests/fixtures/make-oci-layout.sh failed"
fi

# gc drops what no record names: a container root, a half-built layer.
mkdir -p "$SNAP_STATE/containers/deadbeef/rootfs/x" "$SNAP_STATE/layers/tmp-$(printf 'a%.0s' {1..64})-00000000"
assert_status 0 berth system gc
assert_eq "" "$(dir_entries "$SNAP_STATE/containers")" "gc removes an unknown container root"
assert_eq "" "$(dir_entries "$SNAP_STATE/layers" | grep '^tmp-' || true)" "gc removes a tmp- layer leftover"
assert_status 0 berth image rm busybox
assert_eq "" "$(dir_entries "$SNAP_STATE/layers")" "removing the image drops its snapshot layer"

# --- btrfs on a loop device ----------------------------------------------------------

if ! command -v mkfs.btrfs >/dev/null; then
    fail "mkfs.btrfs is missing (install btrfs-progs): the btrfs mode is not tested"
    finish
fi
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

BSTATE="$T/btrfs/root/plugins/snapshot"
bberth() {
    "$BERTH" --root "$T/btrfs/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" "$@"
}
capture bberth image import "$(busybox_tar)" busybox
[[ $RC -eq 0 ]] || die "cannot import busybox into the btrfs root"
assert_eq "btrfs" "$(snapshot_info bberth mode)" "on btrfs the snapshot driver is in btrfs mode"
assert_eq "btrfs" "$(snapshot_info bberth backing_filesystem)" "info names btrfs as the backing filesystem"
isolation bberth "$BSTATE" btrfs

layer=$(dir_entries "$BSTATE/layers" | head -1)
assert_eq 256 "$(stat -c %i "$BSTATE/layers/$layer")" "a layer is a subvolume (its root is inode 256)"
assert_eq btrfs "$(stat -f -c %T "$BSTATE/layers/$layer")" "the layer is on btrfs"
assert_true "a layer is read-only" bash -c "! touch '$BSTATE/layers/$layer/x' 2>/dev/null"
assert_status 0 bberth create --network none --storage-driver snapshot --name sub busybox true
sub_id=$OUT
assert_eq 256 "$(stat -c %i "$(ctr_root "$BSTATE" "$sub_id")")" "a container root is a subvolume"
assert_eq "$(stat -c '%a %u:%g' "$BSTATE/layers/$layer")" "$(stat -c '%a %u:%g' "$(ctr_root "$BSTATE" "$sub_id")")" \
    "the container root keeps the layer root's mode and owner"
# A subvolume nested in the container (a container can make one with the
# ioctl): rm deletes it too.
n_subvols=$(btrfs subvolume list "$T/btrfs" | wc -l)
sub_root=$(ctr_root "$BSTATE" "$sub_id")
btrfs subvolume create "$sub_root/nested" >/dev/null
btrfs subvolume create "$sub_root/nested/deeper" >/dev/null
assert_status 0 bberth rm sub
assert_eq "$((n_subvols - 1))" "$(btrfs subvolume list "$T/btrfs" | wc -l)" \
    "rm deletes the container's subvolume and the ones nested in it"

# overlay (on btrfs too) and snapshot containers of one image, side by side.
bberth run --rm --network none --storage-driver overlay --name ov busybox sh -c \
    'echo ov > /who; touch /ready-ov; exec sleep 60' >/dev/null 2>&1 </dev/null &
ovpid=$!
bberth run --rm --network none --storage-driver snapshot --name sn busybox sh -c \
    'echo sn > /who; touch /ready-sn; exec sleep 60' >/dev/null 2>&1 </dev/null &
snpid=$!
if wait_for_file 30 "$T/btrfs/root/plugins/overlay/containers" ready-ov &&
    wait_for_file 30 "$BSTATE/containers" ready-sn; then
    capture bberth ps
    assert_contains "$OUT" "ov" "an overlay container runs (on btrfs)"
    assert_contains "$OUT" "sn" "a snapshot container of the same image runs beside it"
    assert_eq "sn" "$(cat "$(dirname "$(find_in "$BSTATE/containers" ready-sn)")/who")" \
        "the snapshot container wrote into its own root"
    assert_eq "ov" "$(cat "$(dirname "$(find_in "$T/btrfs/root/plugins/overlay/containers" ready-ov)")/who")" \
        "the overlay container wrote into its own upper dir"
    assert_eq "" "$(leaked_mounts | grep -v "^$T/btrfs " || true)" "no rootfs mount in the caller's namespace"
else
    fail "the side-by-side containers never became ready"
fi
assert_status 0 bberth rm -f ov sn
wait "$ovpid" "$snpid" || true
assert_eq "" "$(dir_entries "$BSTATE/containers")" "the snapshot container's root is gone with it"

# gc on btrfs: an unknown container's subvolume and a half-built layer.
btrfs subvolume create "$BSTATE/layers/tmp-$(printf 'b%.0s' {1..64})-00000000" >/dev/null
mkdir -p "$BSTATE/containers/cafe"
btrfs subvolume create "$BSTATE/containers/cafe/rootfs" >/dev/null
assert_status 0 bberth system gc
assert_eq "" "$(dir_entries "$BSTATE/containers")" "gc deletes an unknown container's subvolume"
assert_eq "" "$(dir_entries "$BSTATE/layers" | grep '^tmp-' || true)" "gc deletes a tmp- layer subvolume"
assert_status 0 bberth image rm busybox
assert_eq "" "$(dir_entries "$BSTATE/layers")" "removing the image deletes the layer subvolume"
assert_eq 0 "$(btrfs subvolume list "$T/btrfs" | wc -l)" "no subvolume is left"
capture bberth ps -a -q
assert_eq "" "$OUT" "the btrfs root holds no container"

cleanup_btrfs
trap _on_exit EXIT
assert_eq "" "$(losetup -j "$T/btrfs.img")" "the loop device is detached"
finish
