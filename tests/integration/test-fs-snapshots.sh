#!/usr/bin/env bash
# berth snapshot save|ls|restore|rm on overlay (a copy of the upper dir), on
# the snapshot driver in copy/reflink mode ($T's filesystem) and in btrfs
# mode (a loop device): a restore brings back deleted and changed files and
# removes added ones; restore is refused on a running container; snapshots
# go with the container; a driver built for ABI 1.0 (the old-storage
# fixture) loads and answers "not supported".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# round_trip FN STATE DRIVER TAG
round_trip() {
    local fn=$1 state=$2 driver=$3 tag=$4 c="snap-$4"
    assert_status 0 "$fn" create --network none --storage-driver "$driver" --name "$c" busybox sh -c '
        if [ -e /state ]; then cat /state; fi
        test -e /etc/hostname && echo hostname-present
        test -e /added && echo added-present
        echo run >> /state'
    assert_status 0 "$fn" start -a "$c"
    assert_eq "hostname-present" "$OUT" "$tag: first run"
    assert_status 0 "$fn" snapshot save "$c" s1
    capture "$fn" snapshot save "$c" s1
    assert_error "snapshot save" "$tag: saving an existing name"
    # Change, delete and add files behind the snapshot.
    assert_status 0 "$fn" run --rm --network none busybox true
    assert_status 0 "$fn" start -a "$c"
    assert_eq $'run\nhostname-present' "$OUT" "$tag: second run sees the first's file"
    local tree id
    id=$("$fn" inspect "$c" | json_eval "d[0]['id']")
    if [[ $driver == overlay ]]; then tree="$state/plugins/overlay/containers/$id/upper"; else
        tree="$state/plugins/snapshot/containers/$id/rootfs"; fi
    assert_status 0 "$fn" snapshot save "$c" s2
    capture "$fn" snapshot ls "$c"
    assert_match "$OUT" $'^NAME +CREATED\ns1 +[0-9T:-]+Z\ns2 ' "$tag: ls lists both snapshots, oldest first"
    capture "$fn" snapshot ls --format json "$c"
    assert_eq '["s1", "s2"]' "$(json_eval "[s['name'] for s in d]" <<<"$OUT")" "$tag: ls --format json"
    # Changes made in the container's tree from the host stand in for what a
    # later run would do: delete an image file, add one.
    if [[ $driver == overlay ]]; then mkdir -p "$tree/etc" && mknod "$tree/etc/hostname" c 0 0; else rm "$tree/etc/hostname"; fi
    echo x >"$tree/added"
    assert_status 0 "$fn" snapshot restore "$c" s1
    assert_status 0 "$fn" start -a "$c"
    assert_eq $'run\nhostname-present' "$OUT" "$tag: restore brings back the changed and the deleted file, drops the added one"
    assert_status 0 "$fn" snapshot restore "$c" s2
    assert_status 0 "$fn" start -a "$c"
    assert_eq $'run\nrun\nhostname-present' "$OUT" "$tag: restore of the later snapshot"
    capture "$fn" snapshot restore "$c" nope
    assert_error "snapshot restore" "$tag: an unknown snapshot"
    capture "$fn" snapshot save "$c" ../x
    assert_error "snapshot save" "$tag: an invalid name"
    assert_status 0 "$fn" snapshot rm "$c" s2
    capture "$fn" snapshot ls --format json "$c"
    assert_eq '["s1"]' "$(json_eval "[s['name'] for s in d]" <<<"$OUT")" "$tag: rm removes one snapshot"
    capture "$fn" snapshot rm "$c" s2
    assert_error "snapshot rm" "$tag: removing a removed snapshot"

    # A running container: save works, restore is refused.
    local pid
    "$fn" run --rm --network none --storage-driver "$driver" --name "run-$tag" busybox sh -c \
        'touch /ready; exec sleep 60' >/dev/null 2>&1 </dev/null &
    pid=$!
    local cdir="$state/plugins/$driver/containers"
    if wait_for_file 30 "$cdir" ready; then
        assert_status 0 "$fn" snapshot save "run-$tag" live
        capture "$fn" snapshot restore "run-$tag" live
        assert_error "snapshot restore" "$tag: restore of a running container"
        assert_contains "$ERR" "is running" "$tag: the refusal says the container is running"
    else
        fail "$tag: the running container never became ready"
    fi
    assert_status 0 "$fn" rm -f "run-$tag"
    wait "$pid" || true

    assert_status 0 "$fn" rm "$c"
    assert_eq "" "$(dir_entries "$cdir")" "$tag: the snapshots went with the container"
}

setup_busybox busybox
round_trip berth "$T/root" overlay overlay
mode=$(berth system info | json_eval "d['storage_drivers']['snapshot']['mode']")
round_trip berth "$T/root" snapshot "snapshot-$mode"

# A storage driver built for ABI 1.0: loads; snapshots and commit are "not
# supported", one line, exit 125.
capture berth plugin check "$BERTH_BAD_PLUGIN_DIR/old-minor.so"
assert_contains "$OUT" "ABI 1.0" "a hook plugin built for ABI 1.0 (old-minor) passes the check"
old="$BERTH_BAD_PLUGIN_DIR/old-storage.so"
if [[ -f $old ]]; then
    mkdir -p "$T/oldplug"
    cp "$old" "$T/oldplug/"
    oberth() {
        "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH:$T/oldplug" "$@"
    }
    capture oberth plugin ls
    assert_contains "$OUT" "old-storage" "a storage plugin built for ABI 1.0 loads"
    assert_status 0 oberth create --network none --storage-driver old-storage --name old busybox true
    for verb in save restore rm; do
        capture oberth snapshot "$verb" old s1
        assert_error "snapshot $verb"
        assert_eq "berth: snapshot $verb: not supported by driver 'old-storage'" "$ERR" \
            "snapshot $verb: not supported by driver 'old-storage'"
    done
    capture oberth snapshot ls old
    assert_eq "berth: snapshot ls: not supported by driver 'old-storage'" "$ERR" "snapshot ls: not supported"
    capture oberth commit old img:old
    assert_eq "berth: commit: not supported by driver 'old-storage'" "$ERR" "commit: not supported"
    assert_status 0 oberth rm old
    rm -rf "$T/root/plugins/old-storage"
else
    fail "no old-storage fixture at '$old' (tests/fixtures/plugins)"
fi

# --- btrfs: subvolume snapshots ---------------------------------------------------

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
    capture bberth image import "$(busybox_tar)" busybox
    [[ $RC -eq 0 ]] || die "cannot import busybox into the btrfs root"
    assert_status 0 bberth create --network none --storage-driver snapshot --name bt busybox true
    n_ctr=$(btrfs subvolume list "$T/btrfs" | wc -l)
    assert_status 0 bberth snapshot save bt s1
    assert_eq "$((n_ctr + 1))" "$(btrfs subvolume list "$T/btrfs" | wc -l)" \
        "btrfs: a snapshot is a subvolume"
    assert_status 0 bberth rm bt
    assert_eq "$((n_ctr - 1))" "$(btrfs subvolume list "$T/btrfs" | wc -l)" \
        "btrfs: the snapshot subvolume went with the container (the layer stays)"
    round_trip bberth "$T/btrfs/root" snapshot btrfs
    assert_status 0 bberth image rm busybox
    cleanup_btrfs
    trap _on_exit EXIT
else
    fail "mkfs.btrfs is missing (install btrfs-progs): btrfs snapshots not tested"
fi

finish
