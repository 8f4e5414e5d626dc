#!/usr/bin/env bash
# Volumes, bind mounts and tmpfs mounts: named volumes (the "local" driver)
# outlive containers, are shared, refuse removal while used, can be
# read-only, are filled from the image when new; bind mounts both ways;
# --mount of each type; --tmpfs with a size; --read-only roots; mount
# targets never escape the rootfs through an image's symlinks; size= is
# enforced or refused; bad specs are one line and leave nothing; volume
# ls/inspect/rm/prune and gc.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox
VOLS="$T/root/plugins/local/volumes"
run() {
    berth run --rm --network none "$@"
}
vol_data() {
    printf '%s/%s/_data\n' "$VOLS" "$1"
}

# --- volume create / ls / inspect ---------------------------------------------
assert_status 0 berth volume create v1
assert_eq "v1" "$OUT" "volume create prints the name"
assert_true "the volume's directory exists" test -d "$(vol_data v1)"
assert_status 0 berth volume create --label tier=db --label empty v2
assert_status 0 berth volume create
anon=$OUT
assert_match "$anon" '^[0-9a-f]{64}$' "volume create without a name makes a random one"
assert_status 0 berth volume create v1
assert_eq "v1" "$OUT" "creating an existing volume again is a no-op"
assert_status 0 berth volume ls -q
assert_eq "$(printf '%s\n' "$anon" v1 v2 | LC_ALL=C sort)" "$(LC_ALL=C sort <<<"$OUT")" "ls -q lists the three"
assert_status 0 berth volume ls
assert_match "$OUT" $'DRIVER +VOLUME NAME\nlocal +' "ls prints a table"
assert_status 0 berth volume ls --format json
assert_eq "3" "$(json_eval 'len(d)' <<<"$OUT")" "ls --format json is an array of three"
assert_status 0 berth volume inspect v2
assert_eq "db" "$(json_eval 'd[0]["labels"]["tier"]' <<<"$OUT")" "inspect shows labels"
assert_eq "local" "$(json_eval 'd[0]["driver"]' <<<"$OUT")" "inspect shows the driver"
assert_eq "$(vol_data v2)" "$(json_eval 'd[0]["mountpoint"]' <<<"$OUT")" "inspect shows the mountpoint"
assert_eq "[]" "$(json_eval 'd[0]["users"]' <<<"$OUT")" "an unused volume has no users"
assert_status 0 berth volume --help
assert_contains "$OUT" "prune" "volume --help lists the commands"
for sub in create ls inspect rm prune; do
    assert_status 0 berth volume "$sub" --help
done

# Bad input: one line, exit 125, nothing made.
for bad in bad/name .. ../x -lead a..b; do
    capture berth volume create -- "$bad"
    assert_error "volume create" "invalid name '$bad'"
done
capture berth volume create --driver nope x1
assert_error "volume create" "unknown driver"
capture berth volume create -o colour=red x2
assert_error "volume create" "unknown option"
assert_contains "$ERR" "unknown option 'colour'" "the unknown option is named"
capture berth volume create -o size=lots x3
assert_error "volume create" "bad size"
capture berth volume inspect nosuch
assert_error "volume inspect" "no such volume"
capture berth volume rm nosuch
assert_error "volume rm" "no such volume"
assert_status 0 berth volume rm -f nosuch
assert_status 0 berth volume ls -q
assert_eq 3 "$(grep -c . <<<"$OUT")" "failed creates made no volume"
assert_eq "$(printf '%s\n' "$anon" v1 v2 | LC_ALL=C sort)" "$(dir_entries "$VOLS")" "nor any driver directory"

# Concurrent creates of one name: all succeed, one volume.
pids=()
for i in 1 2 3 4 5; do
    berth volume create same >/dev/null 2>"$T/same.$i" &
    pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
assert_eq 0 "$rc" "five concurrent creates of one name succeed"
assert_eq 1 "$(dir_entries "$VOLS" | grep -cx same)" "and make one volume"
assert_status 0 berth volume rm same "$anon" v2
assert_eq $'same\n'"$anon"$'\nv2' "$OUT" "rm prints what it removed"

# --- persistence and sharing ---------------------------------------------------
assert_status 0 run -v data:/data busybox sh -c 'echo hello > /data/f'
assert_true "-v NAME made the volume on first use" test -f "$T/root/volumes/data.json"
assert_eq "hello" "$(cat "$(vol_data data)/f" 2>/dev/null)" "the data is in the volume"
assert_status 0 run -v data:/data busybox cat /data/f
assert_eq "hello" "$OUT" "data survive the container's removal"

# :ro is read-only (both -v and --mount readonly).
assert_status 1 run -v data:/data:ro busybox sh -c 'echo x > /data/g'
assert_contains "$ERR" "Read-only file system" "writing to a :ro volume fails"
assert_status 0 run -v data:/data:ro busybox cat /data/f
assert_eq "hello" "$OUT" "a :ro volume is readable"
assert_true "nothing was written" test ! -e "$(vol_data data)/g"

# Two containers at once share a volume; rm refuses while one uses it.
berth run --rm --network none --name bg -v shared:/s busybox sh -c \
    'echo a > /s/from-bg; while [ ! -e /s/stop ]; do sleep 0.05; done; cat /s/from-fg' \
    >"$T/bg.out" 2>&1 </dev/null &
bgpid=$!
if wait_for 30 test -e "$(vol_data shared)/from-bg"; then
    ok "a background container writes into 'shared'"
    assert_status 0 run -v shared:/s busybox sh -c 'cat /s/from-bg; echo b > /s/from-fg'
    assert_eq "a" "$OUT" "a second container sees the first one's write"
    assert_status 0 berth volume inspect shared
    assert_eq 1 "$(json_eval 'len(d[0]["users"])' <<<"$OUT")" "inspect shows the running user"
    capture berth volume rm shared
    assert_error "volume rm" "in use by a running container"
    assert_contains "$ERR" "in use" "the refusal says the volume is in use"
    capture berth volume rm -f shared
    assert_error "volume rm" "-f does not override in use"
    touch "$(vol_data shared)/stop"
else
    fail "the background container did not start: $(cat "$T/bg.out")"
    touch "$(vol_data shared)/stop" 2>/dev/null || true
fi
wait "$bgpid" && bgrc=0 || bgrc=$?
assert_eq 0 "$bgrc" "the background container ends well"
assert_eq "b" "$(cat "$T/bg.out")" "and saw the second container's write"
assert_true "'shared' survives both" test -f "$(vol_data shared)/from-fg"
assert_eq "" "$(dir_entries "$(vol_data shared)/../users")" "no users left after both exited"

# A stopped container keeps its volumes in use, as docker.
assert_status 0 berth create --network none --name keeper -v data:/data busybox true
capture berth volume rm data
assert_error "volume rm" "used by a created container"
assert_contains "$ERR" "keeper" "the refusal names the container"
assert_status 0 berth rm keeper

# --- bind mounts ---------------------------------------------------------------
mkdir -p "$T/hostdir"
echo host >"$T/hostdir/h"
assert_status 0 run -v "$T/hostdir:/mnt/host" busybox sh -c 'cat /mnt/host/h; echo ctr > /mnt/host/c'
assert_eq "host" "$OUT" "a bind mount shows the host's file"
assert_eq "ctr" "$(cat "$T/hostdir/c" 2>/dev/null)" "and the container's write reaches the host"
assert_status 1 run -v "$T/hostdir:/mnt/host:ro" busybox sh -c 'echo x > /mnt/host/x'
assert_true "a :ro bind mount refuses writes" test ! -e "$T/hostdir/x"
echo single >"$T/hostfile"
assert_status 0 run -v "$T/hostfile:/etc/single:ro" busybox cat /etc/single
assert_eq "single" "$OUT" "a single file can be bind-mounted"

# --- --mount of each type ------------------------------------------------------
assert_status 0 run --mount type=volume,source=mv,target=/m busybox sh -c 'echo m > /m/x'
assert_eq "m" "$(cat "$(vol_data mv)/x" 2>/dev/null)" "--mount type=volume"
assert_status 0 run --mount "type=bind,src=$T/hostdir,dst=/b,readonly" busybox sh -c \
    'cat /b/h; ! echo y > /b/y'
assert_eq "host" "$OUT" "--mount type=bind,readonly reads"
assert_true "--mount type=bind,readonly refuses writes" test ! -e "$T/hostdir/y"
assert_status 0 run --mount type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770 busybox sh -c \
    'grep " /t " /proc/mounts; stat -c %a /t; ! dd if=/dev/zero of=/t/big bs=1k count=2048 2>/dev/null'
assert_match "$OUT" 'tmpfs /t tmpfs [^ ]*size=1024k' "--mount type=tmpfs has its size"
assert_contains "$OUT" $'\n1770' "--mount type=tmpfs has its mode"

# --- --tmpfs and --read-only ---------------------------------------------------
assert_status 0 run --tmpfs /scratch:size=2m,mode=1777 busybox sh -c \
    'grep " /scratch " /proc/mounts; ! dd if=/dev/zero of=/scratch/big bs=1k count=4096 2>/dev/null'
assert_match "$OUT" 'tmpfs /scratch tmpfs [^ ]*nosuid,nodev[^ ]*size=2048k' "--tmpfs with size, nosuid, nodev"
assert_status 1 run --read-only busybox touch /x
assert_contains "$ERR" "Read-only file system" "--read-only root refuses writes"
assert_status 0 run --read-only --tmpfs /tmp -v data:/data busybox sh -c \
    'touch /tmp/x && touch /data/rw-ok && echo ok'
assert_eq "ok" "$OUT" "with --read-only, a --tmpfs and a volume stay writable"
rm -f "$(vol_data data)/rw-ok"

# --- copy-up from the image ----------------------------------------------------
assert_status 0 run -v newvol:/etc busybox true
nv=$(vol_data newvol)
assert_true "a new volume at /etc is filled with the image's /etc" test -f "$nv/passwd"
assert_eq "$(tar -xOf "$(busybox_tar)" ./etc/passwd)" "$(cat "$nv/passwd" 2>/dev/null)" "with its content"
assert_eq "0:0 644" "$(stat -c '%u:%g %a' "$nv/passwd" 2>/dev/null)" "owner and mode kept"
assert_status 0 run -v binvol:/usr/bin busybox true
lnk=$(find "$(vol_data binvol)" -mindepth 1 -maxdepth 1 -print -quit)
assert_true "symlinks are copied as symlinks" test -L "$lnk"
assert_eq "/bin/busybox" "$(readlink "$lnk")" "pointing where they did"
# A volume with content is never overwritten, and one that was not made by
# this run is not filled (as docker: only a volume made now).
assert_status 0 run -v full:/root busybox sh -c 'echo mine > /root/marker'
assert_status 0 run -v full:/etc busybox true
assert_true "a non-empty volume keeps its content" test -f "$(vol_data full)/marker"
assert_true "and gets nothing from the image" test ! -e "$(vol_data full)/passwd"
assert_status 0 berth volume create pre
assert_status 0 run -v pre:/etc busybox true
assert_true "a volume made before the run is not filled" test ! -e "$(vol_data pre)/passwd"
assert_status 0 run -v nocp:/etc:nocopy busybox true
assert_true ":nocopy keeps a new volume empty" test ! -e "$(vol_data nocp)/passwd"

# --- mount targets never escape through the image's symlinks -------------------
mkdir -p "$T/escape-host" "$T/evil"
cp "$(busybox_tar)" "$T/evil.tar"
ln -s "$T/escape-host" "$T/evil/escape"
ln -s "../../../../../../../../..$T/escape-host" "$T/evil/escape2"
ln -s ../../../../../../../../tmp "$T/evil/inroot"
tar --numeric-owner -C "$T/evil" -rf "$T/evil.tar" ./escape ./escape2 ./inroot
assert_status 0 berth image import "$T/evil.tar" evil
# The targets resolve inside the rootfs, where these symlinks lead nowhere:
# the run fails (one line) or mounts inside the rootfs, never on the host.
for target in /escape /escape2 /escape/sub; do
    for src in esc "$T/hostdir"; do
        capture run -v "$src:$target" evil sh -c "echo pwned > $target/pwned"
        if [[ $RC -eq 125 ]]; then
            assert_error run "-v $src:$target refused: $ERR"
        else
            note "-v $src:$target: exit $RC"
        fi
    done
done
assert_eq "" "$(dir_entries "$T/escape-host")" "nothing reached the host through /escape symlinks"
assert_eq "" "$(leaked_mounts)" "and no mount landed in the test's namespace"
assert_true "the bind source was not written either" test ! -e "$T/hostdir/pwned"
# A symlink whose target exists inside the rootfs ("../../tmp" is /tmp there)
# is followed inside it, as RESOLVE_IN_ROOT resolves it.
assert_status 0 run -v esc:/inroot evil sh -c 'echo in > /inroot/x; cat /tmp/x'
assert_eq "in" "$OUT" "a volume on an in-root symlink lands on its target in the rootfs"
assert_eq "in" "$(cat "$(vol_data esc)/x" 2>/dev/null)" "and the write reached the volume"

# --- size= -------------------------------------------------------------------
# Enforced where the state dir's filesystem enforces project quotas, refused
# (with a clear message) where it does not.
fs_opts=$(findmnt -no FSTYPE,OPTIONS --target "$T/root" 2>/dev/null || true)
capture berth volume create -o size=1m sized
if [[ $fs_opts == *prjquota* || $fs_opts == *pquota* ]]; then
    assert_eq 0 "$RC" "size= is accepted on a filesystem with project quotas ($fs_opts)"
    assert_status 0 berth volume rm sized
else
    assert_error "volume create" "size= refused without project quotas ($fs_opts)"
    assert_contains "$ERR" "size= needs project quotas on the filesystem of '$T/root/plugins/local/volumes'" \
        "the refusal says why and where"
    assert_true "and nothing was created" test ! -e "$VOLS/sized"
fi
# On an ext4 with project quotas (a loop-mounted image of the test's own),
# size= is enforced inside the container.
Q="$T/qfs"
qberth() {
    "$BERTH" --root "$Q/root" --runroot "$T/qrun" --plugin-path "$PLUGIN_PATH" "$@"
}
if command -v mkfs.ext4 >/dev/null && truncate -s 96M "$T/qfs.img" &&
    mkfs.ext4 -q -O quota,project "$T/qfs.img" >/dev/null 2>&1 && mkdir -p "$Q" &&
    mount -o loop,prjquota "$T/qfs.img" "$Q" 2>/dev/null; then
    capture qberth image import "$(busybox_tar)" busybox
    assert_eq 0 "$RC" "busybox imported on the quota filesystem"
    assert_status 0 qberth volume create -o size=1m sized
    assert_status 0 qberth volume inspect sized
    assert_eq 1048576 "$(json_eval 'd[0]["size_limit"]' <<<"$OUT")" "inspect shows the limit"
    assert_status 0 qberth run --rm --network none -v sized:/d busybox sh -c \
        'dd if=/dev/zero of=/d/small bs=1k count=512 2>/dev/null && echo small-ok; dd if=/dev/zero of=/d/big bs=1k count=2048'
    assert_contains "$OUT" "small-ok" "writes under the limit succeed"
    assert_contains "$ERR" "quota exceeded" "writes past size= fail with EDQUOT"
    assert_status 0 qberth volume rm sized
    assert_status 0 qberth image rm busybox
    assert_status 0 qberth system gc
    umount "$Q" && ok "quota filesystem unmounted" || fail "cannot unmount $Q"
    rm -f "$T/qfs.img"
else
    note "no loop-mounted ext4 with project quotas here: enforcement not exercised"
    mountpoint -q "$Q" 2>/dev/null && umount "$Q"
fi

# --- bad specs: one line, exit 125, nothing created ----------------------------
vols_before=$(dir_entries "$VOLS")
bad_specs=(
    "-v data:relative"
    "-v data:/a/../b"
    "-v data:/"
    "-v bad/name:/x"
    "-v relative/dir:/x"
    "-v ./dir:/x"
    "-v $T/no-such-dir:/x"
    "-v data:/x:zz"
    "-v a:b:c:d"
    "-v fresh1:/x -v fresh2:/x"
    "-v fresh1:/x --tmpfs /x"
    "-v fresh1:/x -v fresh2:rel"
    "--mount type=foo,target=/x"
    "--mount type=bind,target=/x"
    "--mount type=bind,source=rel,target=/x"
    "--mount type=volume,source=v,target=/x,colour=red"
    "--mount type=tmpfs,source=x,target=/x"
    "--mount type=volume,source=fresh1"
    "--mount type=volume,source=fresh1,target=/x,tmpfs-size=1m"
    "--tmpfs /x:size=abc"
    "--tmpfs /x:suid"
    "--tmpfs rel"
)
for spec in "${bad_specs[@]}"; do
    # shellcheck disable=SC2086 # the spec is split on purpose
    capture berth run --rm --network none $spec busybox true
    assert_error run "$spec"
done
assert_eq "$vols_before" "$(dir_entries "$VOLS")" "bad specs made no volume"
assert_status 0 berth ps -a -q
assert_eq "" "$OUT" "and no container"

# --- gc ---------------------------------------------------------------------
# A use entry of a container that no longer exists, and driver data no record
# names (left by a crash), go with system gc; recorded volumes stay.
touch "$VOLS/data/users/0123456789abcdef"
mkdir -p "$VOLS/orphan/_data" "$VOLS/orphan/users"
assert_status 0 berth system gc
assert_true "gc drops the use entry of a container that is gone" \
    test ! -e "$VOLS/data/users/0123456789abcdef"
assert_true "gc drops driver data no volume record names" test ! -e "$VOLS/orphan"
assert_true "gc keeps the volumes berth knows" test -f "$(vol_data data)/f"

# --- prune and cleanup -----------------------------------------------------------
assert_status 0 berth create --network none --name holder -v data:/data busybox true
assert_status 0 berth volume prune -f
pruned=$(LC_ALL=C sort <<<"$OUT")
assert_not_contains "$pruned" "data" "prune keeps a volume a container uses"
assert_contains "$pruned" "v1" "prune removes an unused volume"
assert_status 0 berth volume ls -q
assert_eq "data" "$OUT" "only the used volume is left"
assert_status 0 berth rm holder
assert_status 0 berth volume prune
assert_eq "data" "$OUT" "prune removes it once its container is gone"
assert_eq "" "$(dir_entries "$VOLS")" "the driver holds nothing"
assert_eq "" "$(find "$T/root/volumes" -name '*.json')" "and no volume record is left"
assert_status 0 berth image rm evil

finish
