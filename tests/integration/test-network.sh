#!/usr/bin/env bash
# Networks end to end: the default network, bridge + nat chains, published
# ports from the host's own addresses (127.0.0.1 and another), udp, hairpin,
# isolation between networks, --internal, IPAM under concurrency, a nat
# failure rolling bridge back, kill -9 mid-lifecycle then gc, and nothing
# left after rm. Everything happens in the test's own network namespace.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox
BB=/bin/busybox

# A host address other than loopback, in the test's namespace only.
ip link add hostif0 type veth peer name hostif1
ip addr add 192.0.2.10/24 dev hostif0
ip link set hostif0 up
ip link set hostif1 up
HOST_IP=192.0.2.10

# Starts a detached-style container: berth in the background, foreground run.
bg_run() { # bg_run NAME ARGS… ; output in $T/NAME.out
    local name=$1
    shift
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
        run --rm --name "$name" "$@" </dev/null >"$T/$name.out" 2>&1 &
}

wait_running() { # wait_running NAME → sets IP
    local i state
    for i in $(seq 100); do
        capture berth inspect "$1"
        state=$(json_eval 'd[0]["state"]' <<<"$OUT" 2>/dev/null || true)
        if [[ $state == running ]]; then
            IP=$(json_eval 'd[0].get("ip", "")' <<<"$OUT")
            return 0
        fi
        sleep 0.1
    done
    fail "container '$1' never became running: $(cat "$T/$1.out" 2>/dev/null)"
    IP=""
    return 1
}

wait_gone() { # wait_gone NAME
    local i
    for i in $(seq 100); do
        capture berth inspect "$1"
        [[ $RC -ne 0 ]] && return 0
        sleep 0.1
    done
    fail "container '$1' is still there"
}

refuse() { # refuse WHAT VERB CMD… : one line, 125
    local what=$1 verb=$2
    shift 2
    capture "$@"
    assert_error "$verb" "$what"
}

# HTTP with busybox nc: Debian's static busybox wget crashes resolving names.
fetch() { # fetch HOST PORT → OUT (from the test's host side)
    capture sh -c 'printf "GET /passwd HTTP/1.0\r\n\r\n" | "$0" nc -w 3 "$1" "$2"' "$BB" "$1" "$2"
}
# The same from inside a new container: cfetch NETWORK HOST PORT
cfetch() {
    capture berth run --rm --network "$1" busybox sh -c \
        'printf "GET /passwd HTTP/1.0\r\n\r\n" | nc -w 3 "$0" "$1"' "$2" "$3"
}

# An image with a UDP echo server (busybox has none), built for the test.
udp_image() {
    local d
    d=$(mktemp -d "$T/udp.XXXXXX")
    make_busybox_rootfs "$d/rootfs"
    gcc -static -O2 -o "$d/rootfs/bin/udp-echo" "$BERTH_TEST_TOP/tests/fixtures/udp-echo.c"
    tar --numeric-owner -C "$d/rootfs" -cf "$d/udp.tar" .
    capture berth image import "$d/udp.tar" udpecho
    rm -rf -- "$d"
}

# veth_count: veth devices in the test's namespace. A container's pair goes
# with its network namespace, which the kernel tears down asynchronously:
# veth_settled EXPECTED waits (at most 10 s) for the count to reach it.
veth_count() { ip -o link show | grep -v hostif | grep -c veth || true; }
veth_settled() {
    local deadline=$((SECONDS + 10))
    while [[ $(veth_count) != "$1" && $SECONDS -lt $deadline ]]; do sleep 0.05; done
    veth_count
}

# --- the default network ----------------------------------------------------
# berth0 takes the first of 10.87.0.0/16 … 10.80.0.0/16 that nothing uses
# (not podman's 10.88.0.0/16): with all of them routed elsewhere, the first
# use fails with the reason and makes nothing.
for b in $(seq 80 87); do ip route add "10.$b.0.0/16" dev hostif0; done
refuse "no free subnet for the default network" "run" berth run --rm busybox true
assert_contains "$ERR" "10.87.0.0/16 overlaps the host's route" "the error says why"
assert_status 125 berth network inspect berth0
for b in $(seq 80 86); do ip route del "10.$b.0.0/16" dev hostif0; done
assert_status 0 berth run --rm busybox sh -c 'ip -4 -o addr show eth0; ip route'
assert_contains "$OUT" "inet 10.86." "with 10.87.0.0/16 routed elsewhere, the default network is 10.86.0.0/16"
assert_contains "$OUT" "default via 10.86.0.1" "default route via the gateway"
ip route del 10.87.0.0/16 dev hostif0
assert_status 0 berth network rm berth0
assert_status 0 berth run --rm busybox sh -c 'ip -4 -o addr show eth0; ip route'
assert_contains "$OUT" "inet 10.87." "the default network gives an address in 10.87.0.0/16"
assert_contains "$OUT" "default via 10.87.0.1" "default route via the gateway"
assert_status 0 berth network ls -q
assert_contains "$OUT" "berth0" "berth0 is made on first use"

# --- bad input: one line, 125, nothing made -------------------------------------
assert_status 0 berth network create --subnet 10.90.1.0/24 net1
assert_status 0 berth network create --subnet 10.90.2.0/24 net2
before=$(berth network ls -q | sort | tr '\n' ' ')
links_before=$(ip -o link show | wc -l)
refuse "overlapping subnet" "network create" berth network create --subnet 10.90.1.128/25 bad1
assert_contains "$ERR" "overlaps network 'net1'" "the overlap names the other network"
refuse "subnet over a host route" "network create" berth network create --subnet 192.0.2.0/25 bad2
refuse "malformed CIDR" "network create" berth network create --subnet 10.90.3.0/40 bad3
refuse "gateway outside" "network create" berth network create --subnet 10.90.4.0/24 --gateway 10.90.5.1 bad4
refuse "unknown driver" "network create" berth network create --driver nosuch bad5
refuse "name taken" "network create" berth network create --subnet 10.90.6.0/24 net1
refuse "port 0" "run" berth run --rm --network net1 -p 0:80 busybox true
refuse "port above 65535" "run" berth run --rm --network net1 -p 65536:80 busybox true
refuse "unknown network" "run" berth run --rm --network nosuchnet busybox true
refuse "--ip outside" "run" berth run --rm --network net1 --ip 10.90.2.9 busybox true
assert_eq "$before" "$(berth network ls -q | sort | tr '\n' ' ')" "refused creates made no network"
assert_eq "$links_before" "$(ip -o link show | wc -l)" "refused commands made no link"

# --- a web server with published ports ---------------------------------------------
bg_run web --network net1 --ip 10.90.1.50 -p 8080:80 -p 127.0.0.1:9090:80 \
    -p 80 busybox httpd -f -p 80 -h /etc
wait_running web
assert_eq "10.90.1.50" "$IP" "--ip is honoured"
WEB=$IP
sleep 0.3 # httpd binds after exec

fetch "$WEB" 80
assert_contains "$OUT" "root:" "the host reaches the container's address"
fetch 127.0.0.1 8080
assert_contains "$OUT" "root:" "a published port through 127.0.0.1"
fetch "$HOST_IP" 8080
assert_contains "$OUT" "root:" "a published port through another host address"
fetch 127.0.0.1 9090
assert_contains "$OUT" "root:" "a port published on 127.0.0.1 only"
fetch "$HOST_IP" 9090
[[ $OUT != *root:* ]] && ok "a port published on 127.0.0.1 is not on other addresses" ||
    fail "127.0.0.1:9090 answered on $HOST_IP"

assert_status 0 berth port web
assert_contains "$OUT" "80/tcp -> 0.0.0.0:8080" "port lists 8080"
assert_contains "$OUT" "80/tcp -> 127.0.0.1:9090" "port lists 9090 on 127.0.0.1"
free_port=$(awk '/80\/tcp -> 0.0.0.0:/ && !/:8080$/ { sub(/.*:/, ""); print; exit }' <<<"$OUT")
if [[ $free_port =~ ^[0-9]+$ && $free_port -ne 8080 ]]; then
    ok "-p 80 got a free host port ($free_port)"
    fetch 127.0.0.1 "$free_port"
    assert_contains "$OUT" "root:" "the chosen port works"
else
    fail "-p 80 got no host port: $OUT"
fi
assert_status 0 berth ps
assert_contains "$OUT" "0.0.0.0:8080->80/tcp" "ps shows the published ports"
assert_status 0 berth inspect web
for k in ip gateway mac; do
    v=$(json_eval "d[0].get('$k', '')" <<<"$OUT")
    [[ -n $v ]] && ok "inspect shows $k ($v)" || fail "inspect has no $k"
done

# another tool flushes the firewall: berth puts its rules back on its next command.
# (libiptc works on the legacy tables; Debian's iptables command is the nft one.)
iptables-legacy -t nat -F
iptables-legacy -F FORWARD
fetch 127.0.0.1 8080
[[ $OUT != *root:* ]] && ok "the flush took the published port away" || fail "the flush changed nothing"
assert_status 0 berth system gc
fetch 127.0.0.1 8080
assert_contains "$OUT" "root:" "system gc put the rules back after a flush"
# ... and so does the next join on the network, in the pass that publishes its own port.
iptables-legacy -t nat -F
iptables-legacy -t nat -X
iptables-legacy -F
iptables-legacy -X
capture berth --log-level debug run --rm --network net1 -p 8088:80 busybox true
assert_eq 0 "$RC" "a run on net1 after the flush"
debug_log=$ERR
fetch 127.0.0.1 8080
assert_contains "$OUT" "root:" "the next join put the rules back after a flush (iptables)"
br1=$(berth network inspect net1 | json_eval 'd[0]["driver_state"]["bridge"]["bridge"]')
assert_eq 5 "$(iptables-legacy -S BERTH-FORWARD | grep -c -- "$br1")" \
    "the next join put the network's forward rules back"
# --log-level debug: what each step of the join and the leave cost.
for step in "network namespace create" "network 'net1': load and repair" \
    "network 'net1': driver 'bridge' join" "network 'net1': driver 'nat' join" "network join" \
    "network 'net1': driver 'nat' leave" "network 'net1': driver 'bridge' leave" \
    "network namespace remove" "network leave"; do
    assert_match "$debug_log" "berth: debug: $step: [0-9]+\.[0-9]{3} ms \(CPU [0-9]+\.[0-9]{3} ms\)" \
        "--log-level debug shows the cost of: $step"
done

# the nftables backend, chosen per network.
# The nat driver judges its own option; the chain rolls back, nothing is made.
assert_status 125 berth network create --subnet 10.90.8.0/24 --opt nat=bogus badnat
assert_error "network create" "an unknown nat backend"
assert_contains "$ERR" "unknown nat backend 'bogus'" "the nat driver names the bad backend"
assert_status 125 berth network inspect badnat
assert_status 0 berth network create --subnet 10.90.7.0/24 --opt nat=nftables nft1
bg_run nweb --network nft1 -p 8181:80 busybox httpd -f -p 80 -h /etc
wait_running nweb
sleep 0.3
fetch 127.0.0.1 8181
assert_contains "$OUT" "root:" "nftables backend: a published port through 127.0.0.1"
fetch "$HOST_IP" 8181
assert_contains "$OUT" "root:" "nftables backend: through another host address"
assert_true "the nftables backend keeps its rules in a table of its own" \
    sh -c 'nft list tables | grep -q berth'
nft delete table ip berth
assert_status 0 berth run --rm --network nft1 busybox true
fetch 127.0.0.1 8181
assert_contains "$OUT" "root:" "the next join put the rules back after a flush (nftables)"
assert_status 0 berth rm -f nweb
wait_gone nweb
fetch 127.0.0.1 8181
[[ $OUT != *root:* ]] && ok "nftables backend: the port is gone after rm" || fail "8181 still answers"
assert_status 0 berth network rm nft1

# udp from the host through a published port.
udp_image
bg_run udp --network net1 -p 5353:5353/udp udpecho udp-echo 5353
wait_running udp
got=$(python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for _ in range(20):
    s.sendto(b"hello-udp", ("127.0.0.1", 5353))
    try:
        print(s.recvfrom(100)[0].decode())
        break
    except socket.timeout:
        pass
PY
)
assert_eq "hello-udp" "$got" "udp through a published port, echoed back"
assert_contains "$(cat "$T/udp.out")" "hello-udp" "the container received the datagram"
assert_status 0 berth rm -f udp
wait_gone udp

# container to container on one network, and hairpin through the host address.
cfetch net1 "$WEB" 80
assert_contains "$OUT" "root:" "containers on one network reach each other"
cfetch net1 "$HOST_IP" 8080
assert_contains "$OUT" "root:" "hairpin: a container reaches a published port through the host address"
cfetch net2 "$HOST_IP" 8080
assert_contains "$OUT" "root:" "another network reaches a published port through the host"

# isolation between networks.
cfetch net2 "$WEB" 80
[[ $OUT != *root:* ]] && ok "a container on another network cannot reach the container" ||
    fail "net2 reached net1's container directly"

# --internal: no way out.
assert_status 0 berth network create --internal --subnet 10.90.9.0/24 inet
cfetch inet "$HOST_IP" 8080
[[ $OUT != *root:* ]] && ok "--internal: the host's published port is out of reach" ||
    fail "--internal network got out"
cfetch inet "$WEB" 80
[[ $OUT != *root:* ]] && ok "--internal: other networks are out of reach" || fail "--internal reached net1"

# a host port already published: nat refuses, bridge is rolled back.
ipam_before=$(berth network inspect net1 | json_eval 'len(d[0]["containers"])')
veth_before=$(veth_count)
refuse "host port already published" "run" berth run --rm --network net1 -p 8080:80 busybox true
assert_contains "$ERR" "8080" "the error names the port"
assert_eq "$veth_before" "$(veth_settled "$veth_before")" "the refused run left no veth"
assert_eq "$ipam_before" "$(berth network inspect net1 | json_eval 'len(d[0]["containers"])')" \
    "the refused run left no container on the network"
assert_status 0 berth run --rm --network net1 --ip 10.90.1.51 busybox true
assert_eq 0 "$RC" "the address of the refused run is free again"

# rm refuses while attached.
refuse "network rm while attached" "network rm" berth network rm net1

# stop the web server: no veth, no rule, no address left.
assert_status 0 berth rm -f web
wait_gone web
wait
assert_eq 0 "$(veth_settled 0)" "no veth left after rm"
rules=$(iptables-legacy-save 2>/dev/null | grep -c -e '10\.90\.1\.50' || true)
nft_rules=$(nft list ruleset 2>/dev/null | grep -c -e '10\.90\.1\.50' || true)
assert_eq "0 0" "$rules $nft_rules" "no rule for the container left"
fetch 127.0.0.1 8080
[[ $OUT != *root:* ]] && ok "the published port is gone" || fail "8080 still answers"

# 50 containers join at once: 50 distinct addresses.
for i in $(seq 50); do
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
        run --rm --network net2 busybox sh -c 'ip -4 -o addr show eth0; sleep 2' \
        </dev/null >"$T/c$i.out" 2>&1 &
done
wait
addrs=$(cat "$T"/c*.out | awk '/inet / { print $4 }' | sort)
assert_eq 50 "$(wc -l <<<"$addrs")" "50 concurrent runs all got an address"
assert_eq 50 "$(sort -u <<<"$addrs" | wc -l)" "50 distinct addresses"
{ cat "$T"/c*.out | grep -v "inet " | head -5 | sed "s/^/# /"; } || true

# kill -9 of berth after the network was joined, then gc.
capture env BERTH_TEST_KILL_AT=prestart "$BERTH" --root "$T/root" --runroot "$T/run" \
    --plugin-path "$PLUGIN_PATH:$BERTH_TEST_PLUGIN_DIR" run --rm --network net2 busybox true
assert_eq 137 "$RC" "berth killed at prestart"
assert_status 0 berth system gc
assert_eq 0 "$(veth_settled 0)" "gc removed the orphaned veth"
assert_eq "" "$(find "$T/run/netns" -type f 2>/dev/null)" "gc removed the namespace file"
assert_eq 0 "$(berth network inspect net2 | json_eval 'len(d[0]["containers"])')" "no container left on net2"
# ... and with the nat driver's state of it lost too: gc finds the port's
# rule (which has no comment) by what it matches.
capture env BERTH_TEST_KILL_AT=prestart "$BERTH" --root "$T/root" --runroot "$T/run" \
    --plugin-path "$PLUGIN_PATH:$BERTH_TEST_PLUGIN_DIR" run --rm --network net1 -p 8099:80 busybox true
assert_eq 137 "$RC" "berth killed at prestart with a published port"
assert_eq 1 "$(iptables-legacy -t nat -S BERTH-PREROUTING | grep -c -e '--dport 8099 ')" \
    "the killed run's port rule is there"
find "$T/root" -path '*nat*' \( -name 'tcp-8099' -o -name '*.ep' \) -delete
assert_status 0 berth system gc
assert_eq 0 "$(iptables-legacy -t nat -S BERTH-PREROUTING | grep -c -e '--dport 8099 ')" \
    "gc removed the port rule that no state backs"

# a bridge deleted by hand is repaired on next use.
br=$(berth network inspect net1 | json_eval 'd[0]["driver_state"]["bridge"]["bridge"]')
ip link del "$br"
assert_status 0 berth run --rm --network net1 busybox true
assert_true "the bridge '$br' is back" ip link show "$br"

# berth in a pid namespace whose /proc is its parent's (`unshare --pid` without
# --mount-proc): the namespace berth makes must still be a new one. The outer
# pid namespace is the test's own, so that a berth naming the namespace by a
# pid of its own could only ever pick one of the test's processes.
# LeakSanitizer (the ASan build) cannot work there: it stops the world
# through /proc/PID/task of its own pid, which this /proc shows as another
# process, and dies at exit (exit 99, unflushed output lost).
pidns_asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
capture env ASAN_OPTIONS="$pidns_asan" unshare --pid --fork --mount-proc unshare --pid --fork \
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
    run --rm --network net1 busybox sh -c 'readlink /proc/self/ns/net; ip -o -4 addr show dev eth0'
assert_eq 0 "$RC" "run inside a pid namespace that kept its parent's /proc"
assert_contains "$OUT" "inet 10.90." "... the container has its address on net1"
assert_not_contains "$OUT" "$(readlink /proc/self/ns/net)" "... in a network namespace of its own"
# ... and the commands that look a container's processes up in /proc.
cat >"$T/in-pidns.sh" <<EOF
b() { "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" "\$@"; }
b run -d --name pidns-c --network net1 busybox sleep 300 >/dev/null || exit 1
b top pidns-c
b stop -t 1 pidns-c >/dev/null && b rm pidns-c >/dev/null
EOF
capture env ASAN_OPTIONS="$pidns_asan" unshare --pid --fork --mount-proc unshare --pid --fork \
    bash "$T/in-pidns.sh"
assert_eq 0 "$RC" "run -d, top, stop and rm inside that pid namespace"
assert_contains "$OUT" "sleep 300" "... top shows the container's own process"
# Whatever failed above, the container goes before the networks are checked.
capture berth rm -f pidns-c

# networks go; nothing of them stays.
assert_status 0 berth network rm net1 net2 inet berth0
assert_eq "" "$(ip -o link show | awk -F': ' '{print $2}' | grep -v -e '^lo$' -e '^hostif' || true)" \
    "no link left but lo and the test's own"
assert_eq 0 "$(iptables-legacy-save 2>/dev/null | grep -c -e '10\.90\.' -e '10\.88\.' || true)" "no iptables rule left"
assert_eq 0 "$(nft list ruleset 2>/dev/null | grep -c -e '10\.90\.' -e '10\.88\.' || true)" "no nftables rule left"
ip link del hostif0
finish
