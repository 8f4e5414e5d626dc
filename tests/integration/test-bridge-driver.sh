#!/usr/bin/env bash
# The bridge network driver on its own, driven by berth-net-harness (no core):
# bridge and veth creation, addresses, reachability, hairpin, MTU, IPAM
# persistence and refusals, 50 joins at once, crash leftovers and gc, repair
# of a bridge deleted by hand. Everything happens in the test's private
# network namespace (lib.sh) and in namespaces it makes; traffic only between
# the test's own addresses.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SKIP_CLEAN_CHECK=1 # no berth store is used; what is left is checked here

HARNESS=${BERTH_NET_HARNESS:-$(dirname "$BERTH")/berth-net-harness}
PLUGIN=$BERTH_PLUGIN_DIR/bridge.so
[[ -x $HARNESS && -f $PLUGIN ]] || die "needs $HARNESS and $PLUGIN"
ST=$T/bridge-state
NS=$T/ns
mkdir -p "$NS"
# Namespace files need a mount point that is not shared.
mount -t tmpfs tmpfs "$NS"

h() { "$HARNESS" "$PLUGIN" "$ST" "$@"; }
net_json() { # NAME SUBNET GATEWAY [EXTRA]
    printf '{"name":"%s","id":"%s","subnet":"%s","gateway":"%s"%s}' "$1" \
        "$(printf '%s' "$1" | sha256sum | cut -c1-64)" "$2" "$3" "${4:-}"
}
mkns() { touch "$NS/$1" && unshare --net="$NS/$1" ip link set lo up; }
in_ns() { local n=$1; shift; nsenter --net="$NS/$n" "$@"; }
cid() { printf '%s' "$1" | sha256sum | cut -c1-64; }
# The allocations of network $1: "ADDRESS OWNER" per line, from the entries
# of $ST/addresses/NETWORK (each address a symlink to its owner).
allocs() {
    local e
    for e in "$ST/addresses/$1"/[0-9]*.*.*.*; do
        [[ -L $e ]] && printf '%s %s\n' "${e##*/}" "$(readlink "$e")"
    done
    return 0
}

NET=$(net_json tnet 10.123.0.0/24 10.123.0.1 ',"options":{"mtu":"1400"}')
BR=berth-$(printf tnet | sha256sum | cut -c1-8)

# --- create ------------------------------------------------------------------
assert_status 0 h create tnet "$NET"
assert_eq "{\"bridge\":\"$BR\",\"host_interface\":\"$BR\"}" "$OUT" \
    "create reports the bridge name and the host link it owns"
assert_status 0 h create tnet "$NET"
assert_contains "$(ip -o addr show dev "$BR" 2>/dev/null)" "inet 10.123.0.1/24" "gateway address on the bridge"
assert_contains "$(ip -o link show dev "$BR" 2>/dev/null)" "mtu 1400" "bridge MTU from options"
assert_contains "$(ip -o link show dev "$BR" 2>/dev/null)" ",UP" "bridge is up"
assert_status 0 h create berth0 "$(net_json berth0 10.124.0.0/24 10.124.0.1)"
assert_eq '{"bridge":"berth0","host_interface":"berth0"}' "$OUT" \
    "the default network's bridge is berth0"
assert_status 0 h remove berth0 "$(net_json berth0 10.124.0.0/24 10.124.0.1)"

for bad in '"subnet":"10.1.0.1/16","gateway":"10.1.0.1"' '"subnet":"10.1.0.0/33","gateway":"10.1.0.1"' \
    '"subnet":"10.1.0.0/16","gateway":"10.2.0.1"' '"subnet":"nonsense","gateway":"10.2.0.1"'; do
    assert_status 1 h create bad "{\"name\":\"bad\",\"id\":\"0123456789abcdef\",$bad}"
    assert_contains "$ERR" "network 'bad'" "bad input refused: $bad"
done
assert_eq "" "$(ip -o link show 2>/dev/null | grep -c berth-0123456 | grep -v '^0$' || true)" "nothing made for bad input"

# --- join, reachability --------------------------------------------------------
mkns a
mkns b
assert_status 0 h join tnet "$NET" "$(cid a)" "$NS/a" '{"interface":"eth0"}'
JA=$OUT
assert_contains "$JA" '"ip":"10.123.0.2"' "first address after the gateway"
assert_contains "$JA" '"prefix_len":24' "prefix length reported"
assert_status 0 h join tnet "$NET" "$(cid b)" "$NS/b" '{"interface":"eth0","ip":"10.123.0.77"}'
JB=$OUT
assert_contains "$JB" '"ip":"10.123.0.77"' "requested address honoured"
assert_contains "$(in_ns a ip -o addr show dev eth0)" "10.123.0.2/24" "address in the container"
assert_contains "$(in_ns a ip route)" "default via 10.123.0.1 dev eth0" "default route"
assert_contains "$(in_ns a ip -o link show dev eth0 2>/dev/null)" "mtu 1400" "container MTU"
VA=$(printf '%s' "$JA" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host_interface"])')
assert_contains "$(ip -d -o link show dev "$VA" 2>/dev/null)" "hairpin on" "hairpin on the host end"
assert_contains "$(ip -o link show dev "$VA" 2>/dev/null)" "master $BR" "host end on the bridge"
assert_contains "$(ip -o link show dev "$VA" 2>/dev/null)" ",UP" "host end up"
if [[ -d /proc/sys/net/ipv6 ]]; then
    assert_eq 1 "$(cat "/proc/sys/net/ipv6/conf/$VA/disable_ipv6")" "IPv6 off on the host end"
    assert_eq "" "$(ip -6 route show table all dev "$VA" 2>/dev/null)" \
        "so the host's IPv6 table holds no route of it (not even ff00::/8)"
    assert_eq "" "$(ip -6 addr show dev "$VA" 2>/dev/null)" "and it has no IPv6 address"
fi
assert_status 0 in_ns a busybox ping -c1 -W2 10.123.0.77
assert_status 0 in_ns b busybox ping -c1 -W2 10.123.0.2
assert_status 0 in_ns a busybox ping -c1 -W2 10.123.0.1
assert_status 0 busybox ping -c1 -W2 10.123.0.2

mkns c
assert_status 1 h join tnet "$NET" "$(cid c)" "$NS/c" '{"ip":"10.123.0.77"}'
assert_contains "$ERR" "address 10.123.0.77 is already in use by container $(cid b | cut -c1-12)" \
    "a taken address is refused, naming its holder"
assert_status 1 h join tnet "$NET" "$(cid c)" "$NS/c" '{"ip":"10.9.0.77"}'
assert_contains "$ERR" "outside subnet 10.123.0.0/24" "an address outside the subnet is refused"
assert_eq "" "$(in_ns c ip -o link show 2>/dev/null | grep -v ' lo:' || true)" "a refused join leaves nothing in the namespace"
assert_not_contains "$(allocs tnet)" "$(cid c)" "a refused join leaves no address"
[[ ! -L $ST/addresses/tnet/$(cid c) ]] && ok "nor an owner entry" || fail "a refused join left an owner entry"
assert_eq "10.123.0.2 $(cid a)
10.123.0.77 $(cid b)" "$(allocs tnet)" "one entry per address, naming its holder"
assert_eq "10.123.0.2" "$(readlink "$ST/addresses/tnet/$(cid a)")" "and one per holder, naming the address"

# --- bridge deleted by hand is repaired on the next join --------------------------
ip link del "$BR"
assert_status 0 h join tnet "$NET" "$(cid c)" "$NS/c" '{}'
assert_contains "$(ip -o addr show dev "$BR" 2>/dev/null)" "10.123.0.1/24" "bridge remade by join"
assert_status 0 h leave tnet "$NET" "$(cid c)" "$NS/c" '{}'

# --- leave --------------------------------------------------------------------
assert_status 0 h leave tnet "$NET" "$(cid a)" "$NS/a" "{\"results\":{\"bridge\":$JA}}"
assert_status 0 h leave tnet "$NET" "$(cid a)" "$NS/a" "{\"results\":{\"bridge\":$JA}}"
assert_eq "" "$(ip -o link show "$VA" 2>/dev/null || true)" "leave deletes the host end"
assert_eq "" "$(in_ns a ip -o link show 2>/dev/null | grep -v ' lo:' || true)" "and with it the container end"
assert_not_contains "$(allocs tnet)" "$(cid a)" "leave releases the address"
[[ ! -L $ST/addresses/tnet/$(cid a) ]] && ok "and its owner entry" || fail "leave left the owner entry"
# Half a join: the address taken, no link (leave knows nothing of it).
assert_status 0 h leave tnet "$NET" "$(cid b)" "$NS/b" '{}'
assert_eq "" "$(ip -o link show 2>/dev/null | grep veth || true)" "leave without results finds the veth by name"

# --- 50 joins at once from 50 processes ---------------------------------------------
NET16=$(net_json big 10.125.0.0/16 10.125.0.1)
assert_status 0 h create big "$NET16"
for i in $(seq 1 50); do mkns "p$i"; done
for i in $(seq 1 50); do
    h join big "$NET16" "$(cid "p$i")" "$NS/p$i" '{}' >"$T/join-$i.out" 2>"$T/join-$i.err" &
done
wait
ADDRS=$(cat "$T"/join-*.out | python3 -c 'import json,sys; print("\n".join(json.loads(l)["ip"] for l in sys.stdin))' | sort -u | wc -l)
assert_eq 50 "$ADDRS" "50 concurrent joins got 50 distinct addresses"
assert_eq 50 "$(allocs big | wc -l)" "50 addresses recorded"
assert_status 0 in_ns p1 busybox ping -c1 -W2 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ip"])' "$T/join-50.out")"

# --- gc: leftovers of containers and networks that are gone ------------------------
KEEP=$(for i in $(seq 1 25); do printf '%s,' "$(cid "p$i")"; done)
assert_status 0 h gc "big,tnet" "$KEEP"
assert_eq 25 "$(ip -o link show 2>/dev/null | grep -c 'berth-bridge:big:' || true)" "gc keeps the veths of known containers"
assert_eq 25 "$(allocs big | wc -l)" "gc releases the addresses of unknown containers"
assert_eq 25 "$(find "$ST/addresses/big" -type l ! -name '*.*' | wc -l)" "and their owner entries"
assert_status 0 h gc "" ""
assert_eq "" "$(ip -o link show 2>/dev/null | grep -E 'berth-|veth' || true)" "gc of everything removes bridges and veths"
assert_eq "" "$(ls "$ST/addresses")" "and the networks' addresses"

# --- the former layout (one JSON file per network) is moved on first use ------------
mkdir -p "$ST/ipam"
printf '{"subnet":"10.123.0.0/24","gateway":"10.123.0.1","hint":"10.123.0.9","allocations":{"10.123.0.2":"%s","10.123.0.9":"%s"}}' \
    "$(cid old1)" "$(cid old2)" >"$ST/ipam/tnet.json"
mkns m
assert_status 0 h join tnet "$NET" "$(cid m)" "$NS/m" '{}'
assert_contains "$OUT" '"ip":"10.123.0.10"' "a moved network keeps its hint and its holders' addresses"
assert_eq "10.123.0.10 $(cid m)
10.123.0.2 $(cid old1)
10.123.0.9 $(cid old2)" "$(allocs tnet)" "the old file's allocations became entries"
assert_eq "10.123.0.9" "$(readlink "$ST/addresses/tnet/$(cid old2)")" "with their owner entries"
assert_eq "" "$(ls "$ST/ipam")" "and the old file is gone"
assert_status 1 h join tnet "$NET" "$(cid c)" "$NS/c" '{"ip":"10.123.0.9"}'
assert_contains "$ERR" "address 10.123.0.9 is already in use by container $(cid old2 | cut -c1-12)" \
    "a moved address stays taken"
# Halves a crash leaves: an address entry without its owner entry, an
# owner entry naming an address that is not its own.
ln -s "$(cid m)" "$ST/addresses/tnet/10.123.0.40"
ln -s 10.123.0.2 "$ST/addresses/tnet/$(cid ghost)"
printf '{}' >"$ST/ipam/gone.json"
assert_status 0 h gc "tnet" "$(cid m),$(cid old1),$(cid ghost)"
assert_eq "10.123.0.10 $(cid m)
10.123.0.2 $(cid old1)" "$(allocs tnet)" "gc drops unknown holders and halves left by a crash"
[[ ! -L $ST/addresses/tnet/$(cid ghost) ]] && ok "and an owner entry naming someone else's address" ||
    fail "gc kept an owner entry naming someone else's address"
[[ ! -e $ST/ipam ]] && ok "gc removes the old directory once empty" || fail "gc left the old directory"
assert_status 0 h leave tnet "$NET" "$(cid m)" "$NS/m" '{}'
assert_eq "10.123.0.2 $(cid old1)" "$(allocs tnet)" "leave without results finds the address by its owner"
assert_status 0 h remove tnet "$NET"
assert_eq "" "$(ls "$ST/addresses")" "remove deletes the network's addresses"
umount "$NS/m" "$NS/c" && rm "$NS/m" "$NS/c"

# --- crash in the middle of a join: the next join cleans up ------------------------
assert_status 0 h create tnet "$NET"
mkns k
KV=$(printf '%s' "$(h join tnet "$NET" "$(cid k)" "$NS/k" "{}" 2>/dev/null)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host_interface"])')
ip link set "$KV" alias "" # as if killed before the alias was set
in_ns k ip link del eth0 2>/dev/null || true
mkns k2
ip link add "$KV" type veth peer name eth0 netns "$NS/k"
assert_status 0 h join tnet "$NET" "$(cid k)" "$NS/k" '{}'
assert_contains "$OUT" "\"host_interface\":\"$KV\"" "a join retried after a crash replaces its leftover veth"
assert_status 0 h leave tnet "$NET" "$(cid k)" "$NS/k" '{"netns_teardown":true}'
assert_contains "$(ip -o link show "$KV" 2>/dev/null)" "$KV" "netns_teardown leaves the veth to the namespace's end"
umount "$NS/k" && rm "$NS/k"
wait_for 5 bash -c "! ip link show $KV" && ok "the veth goes with the namespace" || fail "veth outlived its namespace"
assert_status 0 h remove tnet "$NET"
assert_eq "" "$(ip -o link show 2>/dev/null | grep -E 'berth-|veth' || true)" "remove deletes the bridge"

finish
