#!/usr/bin/env bash
# A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, as docker
# gives them: its address and name, the host's nameservers without the
# loopback ones (docker's fallback when none is left), --dns,
# --dns-search, --dns-option and --add-host; the host's own files with
# --network host; a user's mount wins; writable, also under --read-only;
# owned by the container's root in a user namespace. And --entrypoint.
# The host's resolv.conf and hosts are replaced, in the test's own mount
# namespace only, by files of the test's.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/userns-lib.sh"

setup_busybox busybox
for f in resolv.conf hosts; do
    [[ -e /etc/$f ]] || die "/etc/$f does not exist on this host: cannot bind a test file over it"
done
printf 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch example.test\noptions edns0\n' >"$T/resolv.conf"
printf '127.0.0.1 localhost\n192.0.2.200 the-host\n' >"$T/hosts"
mount --bind "$T/resolv.conf" /etc/resolv.conf
mount --bind "$T/hosts" /etc/hosts

# --- on a network --------------------------------------------------------------
assert_status 0 berth network create --subnet 10.77.0.0/24 tnet
assert_status 0 berth run --rm --network tnet --ip 10.77.0.5 --hostname web1 busybox \
    cat /etc/hosts /etc/resolv.conf /etc/hostname
assert_contains "$OUT" $'127.0.0.1\tlocalhost' "hosts: localhost"
assert_contains "$OUT" $'10.77.0.5\tweb1' "hosts: the container's address and name"
assert_contains "$OUT" "nameserver 192.0.2.53" "resolv.conf: the host's nameserver"
assert_not_contains "$OUT" "127.0.0.53" "resolv.conf: not the host's loopback one"
assert_contains "$OUT" $'search example.test\noptions edns0' "resolv.conf: the host's search and options"
assert_eq "web1" "$(tail -1 <<<"$OUT")" "hostname: the container's"

assert_status 0 berth run --rm --network tnet --dns 192.0.2.1 --dns 2001:db8::1 --dns-search a.test \
    --dns-search b.test --dns-option ndots:2 --add-host db:192.0.2.7 --add-host v6:2001:db8::7 \
    busybox sh -c 'cat /etc/resolv.conf; grep -E "[[:space:]](db|v6)$" /etc/hosts'
assert_eq $'nameserver 192.0.2.1\nnameserver 2001:db8::1\nsearch a.test b.test\noptions ndots:2\n192.0.2.7\tdb\n2001:db8::7\tv6' \
    "$OUT" "--dns, --dns-search and --dns-option replace the host's; --add-host adds lines"
assert_status 0 berth run --rm --network none --dns-search . busybox cat /etc/resolv.conf
assert_not_contains "$OUT" "search" "--dns-search . : no search line"

# Only loopback nameservers on the host: docker's fallback.
printf 'nameserver 127.0.0.53\noptions trust-ad\n' >"$T/resolv.conf"
if [[ -e /run/systemd/resolve/resolv.conf ]]; then
    printf 'nameserver 192.0.2.54\n' >"$T/resolved.conf"
    mount --bind "$T/resolved.conf" /run/systemd/resolve/resolv.conf
    assert_status 0 berth run --rm --network tnet busybox cat /etc/resolv.conf
    assert_eq "nameserver 192.0.2.54" "$OUT" "systemd-resolved's servers when the host names only its stub"
    umount /run/systemd/resolve/resolv.conf
else
    assert_status 0 berth run --rm --network tnet busybox cat /etc/resolv.conf
    assert_eq $'options trust-ad\nnameserver 8.8.8.8\nnameserver 8.8.4.4' "$OUT" \
        "no usable nameserver on the host: docker's fallback"
fi
printf 'nameserver 127.0.0.53\nnameserver 192.0.2.53\n' >"$T/resolv.conf"

# --- none and host ------------------------------------------------------------------
assert_status 0 berth run --rm --network none --hostname lonely busybox cat /etc/hosts
assert_contains "$OUT" $'127.0.1.1\tlonely' "--network none: the name on 127.0.1.1"
assert_status 0 berth run --rm --network host --add-host extra:192.0.2.9 busybox \
    sh -c 'cat /etc/resolv.conf; echo --; cat /etc/hosts'
assert_eq $'nameserver 127.0.0.53\nnameserver 192.0.2.53\n--\n127.0.0.1 localhost\n192.0.2.200 the-host\n192.0.2.9\textra' \
    "$OUT" "--network host: the host's files as they are (loopback included), plus --add-host"

# --- the user's mounts win; writable; --read-only; restarts --------------------------
printf '192.0.2.100 mine\n' >"$T/myhosts"
assert_status 0 berth run --rm --network none -v "$T/myhosts:/etc/hosts" busybox cat /etc/hosts
assert_eq "192.0.2.100 mine" "$OUT" "a user's mount over /etc/hosts wins"
assert_status 0 berth run --rm --network none --read-only busybox sh -c \
    'echo "192.0.2.8 added" >> /etc/hosts && tail -1 /etc/hosts && cat /etc/hostname >/dev/null'
assert_eq "192.0.2.8 added" "$OUT" "writable by the container, also with a read-only root"
assert_status 0 berth create --name twice --network tnet --hostname twice busybox grep twice /etc/hosts
assert_status 0 berth start -a twice
assert_match "$OUT" $'^10\\.77\\.0\\.[0-9]+\ttwice$' "the first start: one line for the name"
assert_status 0 berth start -a twice
assert_match "$OUT" $'^10\\.77\\.0\\.[0-9]+\ttwice$' "a second start writes them again, with the address it got"
assert_status 0 berth rm twice

# --- a user namespace --------------------------------------------------------------
use_subids "berth:300000:65536"
assert_status 0 berth run --rm --network none --uidmap 0:300000:65536 busybox \
    stat -c '%u:%g' /etc/hosts /etc/resolv.conf /etc/hostname
assert_eq $'0:0\n0:0\n0:0' "$OUT" "in a user namespace they belong to the container's root"

# --- --entrypoint -------------------------------------------------------------------
OCI_ENTRYPOINT='["/bin/echo", "from-entrypoint"]' make_oci_layout "$T/ep" ep:v1 "$(busybox_tar)"
assert_status 0 berth load -i "$T/ep"
assert_status 0 berth run --rm --network none ep:v1
assert_eq "from-entrypoint /bin/sh" "$OUT" "the image's entrypoint runs with its cmd"
assert_status 0 berth run --rm --network none ep:v1 extra
assert_eq "from-entrypoint extra" "$OUT" "arguments replace the cmd"
assert_status 0 berth run --rm --network none --entrypoint /bin/hostname --hostname ep1 ep:v1
assert_eq "ep1" "$OUT" "--entrypoint replaces the entrypoint and drops the image's cmd"
assert_status 0 berth run --rm --network none --entrypoint "" ep:v1 echo plain
assert_eq "plain" "$OUT" "--entrypoint '' runs the arguments alone"
assert_status 125 berth run --rm --network none --entrypoint "" ep:v1
assert_error run "no entrypoint and no command"

# --- bad input ----------------------------------------------------------------------
assert_status 125 berth run --rm --dns not-an-ip busybox true
assert_error run "--dns of something not an address"
assert_status 125 berth run --rm --add-host nocolon busybox true
assert_error run "--add-host without an address"
assert_status 125 berth run --rm --add-host h:999.1.1.1 busybox true
assert_error run "--add-host with a bad address"
assert_status 125 berth run --rm --dns-option "two words" busybox true
assert_error run "--dns-option of two words"
assert_status 0 berth ps -a -q
assert_eq "" "$OUT" "no container left by the failures"

assert_status 0 berth network rm tnet
umount /etc/resolv.conf /etc/hosts
finish
