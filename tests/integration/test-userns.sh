#!/usr/bin/env bash
# User namespaces (docs/security.md): --userns=auto and --uidmap/--gidmap
# from temporary /etc/subuid and /etc/subgid (bound over the host's inside
# this test's mount namespace), root in the container an unprivileged host
# uid, the idmapped root filesystem, volumes, non-overlapping allocations
# released on rm, and bad input.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/userns-lib.sh"

use_subids "berth:200000:400000" || {
    finish
}
setup_busybox busybox

# --- auto: the maps, root's host uid, the root filesystem -----------------
assert_status 0 berth run --rm --userns=auto busybox cat /proc/self/uid_map /proc/self/gid_map
read -r -a umap <<<"$(sed -n 1p <<<"$OUT")"
read -r -a gmap <<<"$(sed -n 2p <<<"$OUT")"
assert_eq "0 200000 65536" "${umap[*]}" "auto: uid 0..65535 are host 200000.. (first free range)"
assert_eq "0 200000 65536" "${gmap[*]}" "auto: the same for gids"
assert_status 0 berth run --rm --userns=auto:size=1000 busybox cat /proc/self/uid_map
read -r -a umap <<<"$OUT"
assert_eq "0 200000 1000" "${umap[*]}" "auto:size=1000"

# Without --userns: the host's namespace (uid 0 is 0).
assert_status 0 berth run --rm busybox cat /proc/self/uid_map
read -r -a umap <<<"$OUT"
assert_eq "0 0 4294967295" "${umap[*]}" "default: no user namespace"

# root in the container is host uid 200000: /proc/PID/status on the host.
assert_status 0 berth run -d --name u1 --userns=auto busybox sleep 60
assert_status 0 berth inspect u1
pid=$(json_eval 'd[0]["pid"]' <<<"$OUT")
assert_true "u1 has a host pid" test -n "$pid"
uid_line=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$pid/status")
assert_eq "200000 200000 200000 200000" "$uid_line" "container root is host uid 200000"
gid_line=$(awk '$1 == "Gid:" { print $2 }' "/proc/$pid/status")
assert_eq "200000" "$gid_line" "container root's gid is host gid 200000"
assert_status 0 berth exec u1 sh -c 'id -u; cat /proc/self/uid_map'
assert_match "$OUT" "^0" "exec joins the user namespace as its root"
assert_contains "$OUT" "200000" "exec sees the same map"

# The image's files (root-owned on disk) belong to the container's root,
# which can write them; on disk the image layers are untouched.
assert_status 0 berth exec u1 sh -c 'stat -c "%u:%g" /etc/passwd /bin/busybox; echo x >>/etc/passwd && echo wrote'
assert_eq $'0:0\n0:0\nwrote' "$OUT" "the rootfs is idmapped: owned by container root, writable"
owners=$(find "$T/root" -path '*/etc/passwd' -exec stat -c '%u %s' {} + | sort -u)
note "owners of every /etc/passwd under the root: ${owners//$'\n'/; }"
assert_contains $'\n'"$owners" $'\n0 ' "the image layer's /etc/passwd is still owned by host root"
assert_contains $'\n'"$owners" $'\n200000 ' "the container's copy (upper) is owned by host uid 200000"

# --- two at once never share a range; rm releases it ----------------------
assert_status 0 berth run -d --name u2 --userns=auto busybox sleep 60
assert_status 0 berth exec u2 cat /proc/self/uid_map
read -r -a umap <<<"$OUT"
assert_eq "0 265536 65536" "${umap[*]}" "a second container gets the next range"
assert_status 0 berth rm -f u1
assert_status 0 berth run --rm --userns=auto busybox cat /proc/self/uid_map
read -r -a umap <<<"$OUT"
assert_eq "0 200000 65536" "${umap[*]}" "rm released u1's range"
# Concurrent creates: distinct ranges.
for i in 1 2 3; do
    berth create --name "c$i" --userns=auto busybox true >"$T/c$i.out" 2>&1 &
done
wait
maps=""
for i in 1 2 3; do
    assert_status 0 berth inspect "c$i"
    maps+="$(json_eval 'd[0]["security"]["userns"]["uid_map"][0]["hostID"]' <<<"$OUT")"$'\n'
done
assert_eq "3" "$(sort -u <<<"$maps" | grep -c .)" "three concurrent creates, three ranges"
assert_not_contains "$maps" "265536" "none takes u2's range"
for i in 1 2 3; do
    assert_eq "" "$(grep -v '^[0-9a-f]\{64\}$' "$T/c$i.out" || true)" "create c$i printed only its id"
done
# No gap left between u2 and c1..c3 in 200000..599999 holds 300000 ids.
assert_status 125 berth run --rm --userns=auto:size=300000 busybox true
assert_error run "no free range"
assert_contains "$ERR" "no free range" "the error says why"
for i in 1 2 3; do assert_status 0 berth rm "c$i"; done
assert_status 0 berth rm -f u2
assert_status 0 berth run --rm --userns=auto:size=300000 busybox cat /proc/self/uid_map
read -r -a umap <<<"$OUT"
assert_eq "0 200000 300000" "${umap[*]}" "once all are removed the whole range is free again"

# --- explicit maps ---------------------------------------------------------
assert_status 0 berth run --rm --uidmap 0:300000:1000 --uidmap 1000:310000:10 --gidmap 0:320000:100 \
    busybox cat /proc/self/uid_map /proc/self/gid_map
assert_eq "3" "$(grep -c . <<<"$OUT")" "two uid lines and one gid line"
assert_match "$OUT" "1000 +310000 +10" "the second --uidmap"
assert_match "$OUT" "0 +320000 +100" "--gidmap"
assert_status 0 berth run --rm --user 1005 --uidmap 0:300000:1000 --uidmap 1000:310000:10 busybox \
    sh -c 'id -u; cat /proc/self/status'
assert_match "$OUT" "^1005" "--user 1005 in the second range"

# --- volumes -----------------------------------------------------------------
mkdir -p "$T/hostdir"
echo secret >"$T/hostdir/rootfile"
chmod 0644 "$T/hostdir/rootfile"
chmod 1777 "$T/hostdir" # sticky: others' files cannot be removed
assert_status 0 berth run --rm --userns=auto -v "$T/hostdir:/h" busybox sh -c \
    'stat -c "%u" /h/rootfile; cat /h/rootfile; echo pwned >>/h/rootfile 2>/dev/null && echo wrote || echo refused;
     rm /h/rootfile 2>/dev/null; touch /h/new && echo made'
assert_eq $'65534\nsecret\nrefused\nmade' "$OUT" "a host root file: nobody's, readable, not writable"
assert_eq "secret" "$(cat "$T/hostdir/rootfile")" "the host file is unchanged"
assert_eq "200000" "$(stat -c %u "$T/hostdir/new")" "a file the container made is host uid 200000"
# A named volume is the container root's and filled from the image.
assert_status 0 berth run --rm --userns=auto -v nv:/etc busybox sh -c \
    'cat /etc/hostname; echo y >/etc/new && echo wrote; stat -c %u /etc'
assert_eq $'berth-test\nwrote\n0' "$OUT" "a new named volume: filled, writable, owned by root inside"
assert_status 0 berth volume rm nv

# --- --device: no node can be made in a user namespace, so the host's is
# bound onto the container path (read-only without w); the devices cgroup
# rule is the one without a user namespace and still decides.
assert_status 0 berth run --rm --userns=auto --device /dev/null:/dev/mydev:rw busybox sh -c \
    'ls -l /dev/mydev; echo x >/dev/mydev && echo written; awk "\$5 == \"/dev/mydev\" { print \$6 }" /proc/self/mountinfo'
assert_match "$OUT" "^crw-rw-rw- " "--device in a user namespace: the node is the host's /dev/null"
assert_contains "$OUT" "written" "--device ...:rw can be written"
assert_match "$OUT" $'\nrw,nosuid,noexec' "a read-write bind, nosuid, noexec (not nodev)"
assert_status 0 berth run --rm --userns=auto --device /dev/null:/dev/mydev:r busybox sh -c \
    'cat /dev/mydev && echo read-ok; echo x >/dev/mydev 2>&- && echo written || echo refused;
     echo x >/dev/null 2>&- && echo null-written || echo null-refused;
     awk "\$5 == \"/dev/mydev\" { print \$6 }" /proc/self/mountinfo'
assert_contains "$OUT" "read-ok" "--device ...:r can be read"
assert_contains "$OUT" "refused" "--device ...:r cannot be written"
assert_not_contains "$OUT" "written" "no write went through"
# /dev/null (rw bind, 0666) shares 1:3, whose rule is now read-only: the cgroup refuses.
assert_contains "$OUT" "null-refused" "the devices cgroup refuses the write, not the mount"
assert_match "$OUT" $'\nro,nosuid,noexec' "a read-only bind"
if [[ -e /sys/fs/cgroup/devices/devices.list ]]; then
    assert_status 0 berth run -d --name ud --userns=auto --device /dev/null:/dev/mydev:r busybox sleep 30
    dir=$(find /sys/fs/cgroup/devices -type d -name "berth-$OUT*" | head -n 1)
    assert_true "the container has a devices cgroup" test -n "$dir"
    list=$(cat "$dir/devices.list")
    assert_not_contains "$list" "a *:* rwm" "not allow-all"
    assert_contains "$list" "c 1:3 rm" "the --device rule: read only"
    assert_not_contains "$list" "b " "no block device allowed"
    assert_status 0 berth exec ud sh -c 'mknod /tmp/n c 1 3 2>&- && echo made || echo refused'
    assert_eq "refused" "$OUT" "no node can be made in the user namespace"
    assert_status 0 berth rm -f ud
fi
# A device the container's root may not open on the host stays closed: the
# bind keeps the host's owner and mode (root's 0600 node is "other"'s).
mknod "$T/private-null" c 1 3
chmod 0600 "$T/private-null"
assert_status 0 berth run --rm --userns=auto --device "$T/private-null:/dev/p:rw" busybox sh -c \
    'stat -c "%u %a" /dev/p; echo x >/dev/p 2>&- && echo written || echo refused'
assert_eq $'65534 600\nrefused' "$OUT" "a host root 0600 node: nobody's, not writable"
chmod 0666 "$T/private-null"
assert_status 0 berth run --rm --userns=auto --device "$T/private-null:/dev/p:rw" busybox sh -c \
    'echo x >/dev/p 2>&- && echo written || echo refused'
assert_eq "written" "$OUT" "the same node made 0666 on the host: writable"
# --- commit: the writable layer holds host ids (200000…); the layer gets the
# container's (0, 1000), ids outside the map become 65534 (nobody).
assert_status 0 berth run -d --name cm --userns=auto busybox sleep 60
assert_status 0 berth exec cm sh -c 'mkdir -m 1777 /work && echo r >/work/by-root'
assert_status 0 berth exec --user 1000:1000 cm sh -c 'echo u >/work/by-1000; id -u'
assert_eq "1000" "$OUT" "exec --user 1000 in the user namespace"
cm_id=$(berth inspect cm | json_eval 'd[0]["id"]')
upper=$T/root/plugins/overlay/containers/$cm_id/upper
assert_eq "201000:201000" "$(stat -c %u:%g "$upper/work/by-1000")" "on disk: host ids"
# A host root file in the writable layer: outside the container's map.
echo h >"$upper/work/by-host-root"
# A file capability set by the container's root is stored by the kernel as
# revision 3 with its host uid (200000): what setcap in the container leaves.
python3 -c 'import os, struct, sys
os.setxattr(sys.argv[1], "security.capability", struct.pack("<6I", 0x03000001, 0x400, 0, 0, 0, 200000))' \
    "$upper/work/by-root"
assert_status 0 berth commit cm cm:shifted
assert_status 0 berth rm -f cm
shifted='stat -c "%u:%g %n" /work /work/by-root /work/by-1000 /work/by-host-root'
assert_status 0 berth run --rm cm:shifted sh -c "$shifted"
assert_eq $'0:0 /work\n0:0 /work/by-root\n1000:1000 /work/by-1000\n65534:65534 /work/by-host-root' \
    "$OUT" "the committed image without a user namespace: owners 0, 1000, and nobody"
assert_status 0 berth run --rm --userns=auto cm:shifted sh -c "$shifted"
assert_eq $'0:0 /work\n0:0 /work/by-root\n1000:1000 /work/by-1000\n65534:65534 /work/by-host-root' \
    "$OUT" "and the same in a user namespace"
assert_status 0 berth image save -o "$T/shifted.tar" cm:shifted
owners=$(python3 - "$T/shifted.tar" <<'PY'
import io, json, sys, tarfile
with tarfile.open(sys.argv[1]) as outer:
    top = json.load(outer.extractfile("manifest.json"))[0]["Layers"][-1]
    with tarfile.open(fileobj=io.BytesIO(outer.extractfile(top).read())) as layer:
        for m in sorted(layer.getmembers(), key=lambda m: m.name):
            if m.name.startswith("work"):
                print(f"{m.uid}:{m.gid} {m.name}")
            cap = m.pax_headers.get("SCHILY.xattr.security.capability")
            if cap is not None:
                print("capability", m.name, cap.encode("utf-8", "surrogateescape").hex())
PY
)
assert_eq $'0:0 work\n1000:1000 work/by-1000\n65534:65534 work/by-host-root\n0:0 work/by-root\ncapability work/by-root 0100000200040000000000000000000000000000' \
    "$owners" "image save: the layer tar holds the container's ids, the capability as root's (revision 2)"
assert_status 0 berth image rm cm:shifted

# --- a network: the namespace made by the driver (owned by the host's user
# namespace) is entered by berth before the clone, not joined by the child.
assert_status 0 berth network create --subnet 10.91.7.0/24 unet
assert_status 0 berth run -d --name srv --userns=auto --network unet --ip 10.91.7.10 busybox \
    sh -c 'echo hello | nc -l -p 8080'
assert_status 0 berth run --rm --userns=auto --network unet busybox sh -c \
    'for i in 1 2 3 4 5 6 7 8 9 10; do nc 10.91.7.10 8080 </dev/null && exit 0; sleep 0.2; done; exit 1'
assert_eq "hello" "$OUT" "two containers in user namespaces talk over a bridge network"
assert_status 0 berth rm -f srv
assert_status 0 berth network rm unet

# --- bad input: one line, exit 125, no container ---------------------------
bad() { # bad WHAT ARGS… : refused before anything is made
    local what=$1
    shift
    assert_status 125 berth run --rm "$@" busybox true
    assert_error run "$what"
    assert_contains "$ERR" "$what" "the error says: $what"
}
bad "container ids overlap" --uidmap 0:200000:100 --uidmap 50:250000:10
bad "host ids overlap" --uidmap 0:200000:100 --uidmap 100:200050:10
bad "not in the subordinate range" --uidmap 0:100000:100
bad "not in the subordinate range" --uidmap 0:599990:100
bad "not in the subordinate range" --uidmap 0:200000:100 --gidmap 0:599999:10
bad "gid 5 (tty" --uidmap 0:200000:100 --gidmap 0:200000:1
bad "use CONTAINER:HOST:SIZE" --uidmap 0:200000
bad "use CONTAINER:HOST:SIZE" --uidmap a:b:c
bad "the size must be at least 1" --uidmap 0:200000:0
bad "uid 0 must be mapped" --uidmap 1:200000:10
bad "unknown mode" --userns=private2
bad "only for rootless" --userns=keep-id
bad "use auto or auto:size=N" --userns=auto:size=0
bad "need a user namespace" --userns=host --uidmap 0:200000:10
bad "--gidmap needs --uidmap" --gidmap 0:200000:10
bad "--privileged" --userns=auto --privileged
bad "device '/dev/nosuchdev'" --userns=auto --device /dev/nosuchdev
# The configuration's userns_user: another user's lines.
printf 'berth:200000:400000\nother:700000:70000\n' >"$T/subuid"
printf 'berth:200000:400000\nother:700000:70000\n' >"$T/subgid"
printf '{"userns_user": "other"}\n' >"$T/conf.json"
assert_status 0 berth --config "$T/conf.json" run --rm --userns=auto busybox cat /proc/self/uid_map
read -r -a umap <<<"$OUT"
assert_eq "0 700000 65536" "${umap[*]}" "userns_user from the configuration file"
# No entry for berth at all.
printf 'someone:100000:65536\n' >"$T/subuid"
bad "no subordinate ids for 'berth'" --userns=auto
bad "no subordinate ids for 'berth'" --uidmap 0:100000:10
assert_status 0 berth ps -a -q
assert_eq "" "$OUT" "no container was left by the refusals"

finish
