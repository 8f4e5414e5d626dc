#!/usr/bin/env bash
# The overlay storage driver: one unpacked copy of each layer shared by every
# container and image; each container's changes live in its own upper dir,
# are invisible to the others, survive a restart, vanish with rm and never
# reach the layer. The rootfs is never mounted in the caller's namespace.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox
layers="$OVERLAY_STATE/layers"
ctrs="$OVERLAY_STATE/containers"

if [[ -d $layers ]]; then
    ok "layers under \$ROOT/plugins/overlay/layers"
else
    die "no layers dir at $layers"
fi
# Layers are unpacked for a driver when a container first needs them.
assert_status 0 berth run --rm busybox true
n_layers=$(dir_entries "$layers" | grep -c . || true)
assert_eq 1 "$n_layers" "a one-layer image is unpacked once"
layers_before=$(WITH_MTIME=1 tree_digest "$layers")

# The same tarball under another name: same layer, not unpacked again.
assert_status 0 berth image import "$(busybox_tar)" busybox2:v1
assert_status 0 berth run --rm busybox2:v1 true
assert_eq 1 "$(dir_entries "$layers" | grep -c . || true)" "a second image with the same layer shares it"

assert_status 0 berth create --name c1 busybox sh -c \
    'if [ -e /marker ]; then cat /marker; else echo one > /marker; echo made; fi; echo changed >> /etc/passwd; rm -f /bin/ls'
id1=$OUT
assert_match "$id1" '^[0-9a-f]{12,64}$' "create prints an id"
assert_status 0 berth create --name c2 busybox2:v1 sh -c \
    'test ! -e /marker && grep -c changed /etc/passwd; test -e /bin/ls && echo ls-present'
assert_match "$OUT" '^[0-9a-f]{12,64}$' "create prints an id"
[[ $OUT != "$id1" ]] && ok "two creates, two ids" || fail "two creates gave the same id"

assert_status 0 berth start -a c1
assert_eq "made" "$OUT" "c1 writes its marker"
assert_status 0 berth start -a c2
assert_eq $'0\nls-present' "$OUT" "c2 sees none of c1's changes (new file, appended file, deleted file)"
assert_status 0 berth run --rm busybox sh -c 'test ! -e /marker && ! grep -q changed /etc/passwd && test -e /bin/ls && echo pristine'
assert_eq "pristine" "$OUT" "a new container sees none of c1's changes"
assert_status 0 berth start -a c1
assert_eq "one" "$OUT" "c1's changes survive a restart"

# c1's changes are in its own upper dir only.
c1_dir=$(find "$ctrs" -mindepth 1 -maxdepth 1 -name "${id1}*" -print -quit 2>/dev/null || true)
if [[ -n $c1_dir ]]; then
    ok "c1 has a container dir under \$ROOT/plugins/overlay/containers"
    assert_true "the marker is in c1's dir" test -n "$(find_in "$c1_dir" marker)"
else
    fail "no container dir for $id1 under $ctrs: $(dir_entries "$ctrs" | tr '\n' ' ')"
fi
assert_eq "" "$(find_in "$layers" marker)" "the marker never reached the layer"
assert_eq "$layers_before" "$(WITH_MTIME=1 tree_digest "$layers")" "the layer dir is unchanged"

# While a container runs, its rootfs is mounted in its own namespace only.
berth run --rm --name bg busybox sh -c 'touch /ready; exec sleep 60' </dev/null >/dev/null 2>&1 &
bgpid=$!
if wait_for_file 30 "$ctrs" ready; then
    ok "background container is running"
    # The network namespace file (nsfs) is the only mount a running container has here.
    assert_eq "" "$(leaked_mounts | grep -v '(nsfs)' || true)" \
        "no rootfs mount in the caller's namespace while the container runs"
    cpid=""
    for p in /proc/[0-9]*; do
        if [[ $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) == "sleep 60 " ]]; then
            cpid=${p#/proc/}
            break
        fi
    done
    if [[ -n $cpid ]]; then
        assert_true "the container's own mount namespace has its overlay root" \
            grep -q ' / / .* - overlay ' "/proc/$cpid/mountinfo"
        if [[ $(readlink "/proc/$cpid/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]]; then
            ok "container runs in its own mount namespace"
        else
            fail "container shares the test's mount namespace"
        fi
    else
        fail "cannot find the container's sleep process"
    fi
    assert_status 0 berth ps
    assert_contains "$OUT" "bg" "ps shows the running container"
    assert_status 0 berth rm -f bg
else
    fail "background container never became ready"
    kill -KILL "$bgpid" 2>/dev/null || true
fi
set +e
wait "$bgpid"
rc=$?
set -e
assert_eq 137 "$rc" "rm -f kills the running container; its run exits 128+9"

assert_status 0 berth rm c1 c2
assert_eq "" "$(dir_entries "$ctrs")" "rm removes every container's upper dir"
assert_eq "$layers_before" "$(WITH_MTIME=1 tree_digest "$layers")" "the layer dir is unchanged after rm"
assert_eq 1 "$(dir_entries "$layers" | grep -c . || true)" "the layer stays while images use it"

# Removing the images drops the layer (no image uses it any more).
assert_status 0 berth image rm busybox2:v1
assert_eq 1 "$(dir_entries "$layers" | grep -c . || true)" "the layer stays while busybox uses it"
assert_status 0 berth image rm busybox
assert_eq "" "$(dir_entries "$layers")" "the last image's rm drops the layer"
assert_status 0 berth system gc

finish
