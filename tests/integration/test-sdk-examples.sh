#!/usr/bin/env bash
# The example plugins of sdk/examples/ (loop, oci-hooks, macvlan), built as a
# stranger would: from the copy installed with the SDK, out of tree, with
# find_package(BerthPlugin) against the install prefix only; then each is
# loaded by the installed berth and does its job in real containers.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

prefix=${BERTH_PREFIX:-}
if [[ -z $prefix || ! -x $prefix/bin/berth ]]; then
    SKIP_CLEAN_CHECK=1
    die "no installed berth: set BERTH_PREFIX to a 'cmake --install' prefix"
fi
prefix=$(readlink -f "$prefix")
examples=$(find "$prefix" -type d -path '*/share/berth/examples' -print -quit)
[[ -n $examples ]] || die "the examples are not installed under $prefix/share/berth/examples"
plugdir=$(find "$prefix" -type d -path '*/berth/plugins' -print -quit)

# --- build, as in sdk/examples/README.md --------------------------------------
cp -r "$examples" "$T/examples"
if cmake -S "$T/examples" -B "$T/examples/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$T/cmake.log" 2>&1 && cmake --build "$T/examples/build" >>"$T/cmake.log" 2>&1; then
    ok "the examples build out of tree against the installed SDK"
else
    fail "the examples do not build"
    note "$(tail -30 "$T/cmake.log")"
    SKIP_CLEAN_CHECK=1
    finish
fi
exdir="$T/examples/build"

# The template: copied from the install, configured, built and tested with
# the one command its README gives.
cp -r "$prefix/share/berth/plugin-template" "$T/template"
if (cd "$T/template" && CMAKE_PREFIX_PATH="$prefix" cmake --workflow --preset default) \
    >"$T/template.log" 2>&1; then
    ok "the template builds and passes its test with one command"
else
    fail "the template's one-command build fails"
    note "$(tail -30 "$T/template.log")"
fi
assert_true "the template's build made hello.so" test -f "$T/template/build/hello.so"

# The guide's walk-through, with the code taken from docs/plugin-guide.md
# itself (steps 1-5), so that the guide cannot drift from what works.
guide="$BERTH_TEST_TOP/docs/plugin-guide.md"
cp -r "$prefix/share/berth/plugin-template" "$T/name-guard"
rm -f "$T/name-guard/hello-hook.c"
python3 - "$guide" "$T/name-guard" <<'PY'
import re, sys
guide, dest = open(sys.argv[1]).read(), sys.argv[2]
walk = guide[guide.index("## Walk-through"):guide.index("## Lifecycle")]
def block(lang, after):
    i = walk.index(after)
    m = re.search(r"```" + lang + r"\n(.*?)```", walk[i:], re.S)
    return "\n".join(l[3:] if l.startswith("   ") else l for l in m.group(1).split("\n"))
open(dest + "/name-guard.c", "w").write(block("c", "Write `name-guard.c`"))
cmake = open(dest + "/CMakeLists.txt").read()
head = cmake[:cmake.index("project(")]
open(dest + "/CMakeLists.txt", "w").write(head + block("cmake", "In `CMakeLists.txt`"))
# Step 4, as the guide describes it.
t = open(dest + "/test-hello.c").read()
t = t.replace('"hello") == 0', '"name-guard") == 0').replace("#include <dlfcn.h>", "#include <dlfcn.h>\n#include <errno.h>")
t = re.sub(r"    CHECK\(ops->on_event\(state, &ev, NULL, NULL\) == 0\);\n    CHECK\(strcmp\(logged.*?\n",
           '    ev.container_name = "web";\n    CHECK(ops->on_event(state, &ev, NULL, NULL) == 0);\n'
           '    ev.container_name = "forbidden-web";\n    CHECK(ops->on_event(state, &ev, NULL, NULL) == -EPERM);\n', t)
open(dest + "/test-hello.c", "w").write(t)
PY
if (cd "$T/name-guard" && CMAKE_PREFIX_PATH="$prefix" cmake --workflow --preset default) \
    >"$T/name-guard.log" 2>&1; then
    ok "the guide's walk-through plugin builds and passes its test"
else
    fail "the guide's walk-through does not build or test"
    note "$(tail -30 "$T/name-guard.log")"
fi
for p in loop oci-hooks macvlan; do
    syms=$(nm -D --defined-only "$exdir/$p.so" | awk '{print $NF}' |
        grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' || true)
    assert_eq "berth_plugin_entry" "$syms" "$p.so exports only berth_plugin_entry"
done

# Without CMake: pkg-config alone (relocated: --define-prefix) gives the
# flags and the version script.
pc=$(find "$prefix" -name berth-plugin.pc -print -quit)
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
vscript=$(pkg-config --define-prefix --variable=versionscript berth-plugin)
assert_true "pkg-config's versionscript is installed" test -f "$vscript"
# shellcheck disable=SC2046 # pkg-config output is a list of flags
if cc $(pkg-config --define-prefix --cflags berth-plugin) $(pkg-config --cflags libcjson) \
    -std=gnu11 -Wall -Wextra -Werror -shared -fPIC -Wl,--version-script="$vscript" \
    -o "$T/loop-pc.so" "$T/examples/loop/loop-volume.c" $(pkg-config --libs libcjson) 2>"$T/cc.err"; then
    ok "an example builds with pkg-config berth-plugin and its version script"
else
    fail "an example does not build with pkg-config"
    note "$(cat "$T/cc.err")"
fi
syms=$(nm -D --defined-only "$T/loop-pc.so" 2>/dev/null | awk '{print $NF}' |
    grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' || true)
assert_eq "berth_plugin_entry" "$syms" "the pkg-config build exports only berth_plugin_entry"

# The installed berth with the installed plugins and the examples.
eb() {
    "$prefix/bin/berth" --root "$T/root" --runroot "$T/run" --plugin-path "$plugdir:$exdir" "$@"
}
# `finish` lists containers with `berth`: make it see the same stores.
PLUGIN_PATH="$plugdir:$exdir"
BERTH="$prefix/bin/berth"

assert_status 0 eb plugin ls --format json
loaded=$(json_eval '" ".join(sorted(p["name"] + "/" + p["kind"] for p in d["plugins"]))' <<<"$OUT" || true)
assert_contains " $loaded " " loop/volume " "berth loads loop.so"
assert_contains " $loaded " " oci-hooks/hook " "berth loads oci-hooks.so"
assert_contains " $loaded " " macvlan/network " "berth loads macvlan.so"

assert_status 0 eb image import "$(busybox_tar)" busybox

# The conformance suites of their kinds (macvlan needs a parent link, which
# the network suite's own namespace does not have: not run here).
for p in loop oci-hooks macvlan; do
    assert_status 0 eb plugin check "$exdir/$p.so"
done
for p in loop oci-hooks; do
    assert_status 0 eb plugin test "$exdir/$p.so"
    assert_match "$OUT" "# [0-9]+ passed, 0 failed" "$p.so passes the conformance suite of its kind"
done

# The walk-through's step 6: berth runs the new plugin from its build dir.
gb() {
    "$prefix/bin/berth" --root "$T/root" --runroot "$T/run" --plugin-path "$T/name-guard/build:$plugdir" "$@"
}
assert_status 0 gb run --rm --name web busybox echo hello
assert_eq "hello" "$OUT" "walk-through: an allowed name runs"
assert_status 125 gb run --rm --name forbidden-web busybox echo hello
assert_eq "berth: run: hook 'name-guard' refused 'create': names starting with 'forbidden-' are not allowed: Operation not permitted" \
    "$ERR" "walk-through: the error the guide shows"

# --- loop: fixed-size ext4 volumes ------------------------------------------------
loop_state="$T/root/plugins/loop/volumes"
assert_status 125 eb volume create --driver loop --opt size=lots bad
assert_error "volume create" "a size that is not a size"
assert_status 125 eb volume create --driver loop --opt colour=blue bad
assert_error "volume create" "an unknown option"
assert_true "a refused volume leaves no image" test ! -e "$loop_state/bad"

assert_status 0 eb volume create --driver loop --opt size=8m data
img="$loop_state/data/disk.img"
assert_true "the volume is an image file" test -f "$img"
assert_eq "8388608" "$(stat -c %s "$img")" "the image is 8 MiB"

assert_status 0 eb run --rm -v data:/data busybox sh -c 'echo kept >/data/f; grep " /data " /proc/mounts'
assert_match "$OUT" "^/dev/loop[0-9]+ /data ext4 " "the container sees an ext4 on a loop device at /data"
# The kernel detaches it when the container's mount namespace is torn down,
# which it does asynchronously after the container's last process exits.
detached() { [[ -z $(losetup -j "$img") ]]; }
assert_true "the loop device is detached when the container is gone" wait_for 5 detached

assert_status 0 eb run --rm -v data:/data busybox cat /data/f
assert_eq "kept" "$OUT" "what one container wrote, the next one reads"

assert_status 0 eb run --rm -v data:/data busybox sh -c \
    'dd if=/dev/zero of=/data/big bs=1M count=32 2>&1; echo "status $?"'
assert_contains "$OUT" "No space left on device" "writing past the size fails with ENOSPC"
assert_contains "$OUT" "status 1" "dd fails"

# Two containers at once share one device (one ext4, mounted twice).
assert_status 0 eb run -d --name l1 -v data:/data busybox sleep 30
assert_status 0 eb run --rm -v data:/data busybox sh -c 'echo two >/data/g; cat /data/f'
assert_eq "kept" "$OUT" "a second container mounts the volume while the first runs"
assert_eq "1" "$(losetup -j "$img" | grep -c . || true)" "one loop device while l1 still runs"
assert_status 125 eb volume rm data
assert_error "volume rm" "a volume in use is not removed"
assert_status 0 eb rm -f l1
assert_true "the last container gone, the device is detached" wait_for 5 detached

# gc after a crash: a user record of a container that no longer exists and
# the device it kept attached are dropped by `system gc`.
touch "$loop_state/data/users/0000dead"
losetup -f "$img"
assert_eq "1" "$(losetup -j "$img" | grep -c . || true)" "a leftover device is attached (simulated crash)"
assert_status 0 eb system gc
assert_true "gc drops the dead container's user record" test ! -e "$loop_state/data/users/0000dead"
assert_eq "" "$(losetup -j "$img")" "gc detaches the leftover device"

assert_status 0 eb volume inspect data
assert_eq "8388608" "$(json_eval 'd[0]["size_limit"] if isinstance(d, list) else d["size_limit"]' <<<"$OUT")" \
    "inspect shows the size limit"
assert_status 0 eb volume rm data
assert_true "volume rm removes the image" test ! -e "$loop_state/data"

# --- oci-hooks: OCI hooks from a hooks directory ---------------------------------
hooks="$T/hooks"
mkdir -p "$hooks"
# The directory comes from the plugin's options in the configuration file
# ({"plugins": {"oci-hooks": {"options": {"hooks_dir": …}}}}).
cfg="$T/berth.json"
printf '{"plugins": {"oci-hooks": {"options": {"hooks_dir": "%s"}}}}\n' "$hooks" >"$cfg"
hb() { eb --config "$cfg" "$@"; }
cat >"$hooks/10-log.json" <<JSON
{"version": "1.0.0",
 "hook": {"path": "/bin/sh", "args": ["sh", "-c", "read -r s; echo \"\$HOOKVAR \$s\" >>$T/hooklog"],
          "env": ["HOOKVAR=from-env"], "timeout": 10},
 "when": {"always": true},
 "stages": ["createRuntime", "poststart", "poststop"]}
JSON
# Options it cannot use make init fail: the plugin is refused, not run
# with hooks from the wrong place.
printf '{"plugins": {"oci-hooks": {"options": {"hooks_dir": "relative/dir"}}}}\n' >"$T/bad.json"
capture eb --config "$T/bad.json" plugin ls --format json
refused=$(json_eval '" ".join(r["path"].split("/")[-1] + ": " + r["reason"] for r in d.get("refused", []))' <<<"$OUT" || true)
assert_contains "$refused" "oci-hooks.so" "oci-hooks with a relative hooks_dir is refused"
assert_status 0 hb run --rm busybox echo hooked
assert_eq "hooked" "$OUT" "the container runs with an always-hook"
statuses=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    env, state = line.split(" ", 1)
    s = json.loads(state)
    print(env, s["status"], s["ociVersion"], "pid" in s, len(s["id"]), s.get("bundle", "").endswith("/bundle"))
' "$T/hooklog" 2>&1 | tr '\n' ',')
assert_eq "from-env created 1.0.2 True 64 True,from-env running 1.0.2 True 64 True,from-env stopped 1.0.2 False 64 True," \
    "$statuses" "createRuntime, poststart, poststop ran in order with the OCI state on stdin and hook.env"
rm -f "$hooks/10-log.json"

cat >"$hooks/20-cmd.json" <<JSON
{"version": "1.0.0",
 "hook": {"path": "/bin/sh", "args": ["sh", "-c", "echo ran >>$T/cmdlog"]},
 "when": {"commands": ["(^|/)true$"]},
 "stages": ["poststart"]}
JSON
assert_status 0 hb run --rm busybox echo not-true
assert_true "when.commands: no match, the hook does not run" test ! -e "$T/cmdlog"
assert_status 0 hb run --rm busybox true
assert_eq "ran" "$(cat "$T/cmdlog" 2>/dev/null)" "when.commands: args[0] matches, the hook runs"

rm -f "$hooks/20-cmd.json"
cat >"$hooks/25-binds.json" <<JSON
{"version": "1.0.0",
 "hook": {"path": "/bin/sh", "args": ["sh", "-c", "echo ran >>$T/bindlog"]},
 "when": {"hasBindMounts": true},
 "stages": ["poststart"]}
JSON
assert_status 0 hb run --rm busybox true
assert_true "when.hasBindMounts: no bind mount, the hook does not run" test ! -e "$T/bindlog"
mkdir -p "$T/bindsrc"
assert_status 0 hb run --rm -v "$T/bindsrc:/mnt/b" busybox true
assert_eq "ran" "$(cat "$T/bindlog" 2>/dev/null)" "when.hasBindMounts: with -v HOST:CTR, the hook runs"
rm -f "$hooks/25-binds.json"

cat >"$hooks/30-refuse.json" <<JSON
{"version": "1.0.0",
 "hook": {"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]},
 "when": {"commands": ["(^|/)false$"]},
 "stages": ["createRuntime"]}
JSON
assert_status 125 hb run --rm busybox false
assert_error run "a failing createRuntime hook refuses the container"
note "$ERR"
assert_contains "$ERR" "exited with status 3" "the error says how the hook failed"
assert_status 0 hb ps -a -q
assert_eq "" "$OUT" "the refused container was rolled back"

cat >"$hooks/40-slow.json" <<JSON
{"version": "1.0.0",
 "hook": {"path": "/bin/sh", "args": ["sh", "-c", "sleep 60; echo late >>$T/late"], "timeout": 1},
 "when": {"commands": ["(^|/)sleep$"]},
 "stages": ["createRuntime"]}
JSON
start=$SECONDS
assert_status 125 hb run --rm busybox sleep 0
assert_error run "a createRuntime hook past its timeout refuses the container"
assert_contains "$ERR" "did not finish within 1 s" "the error names the timeout"
assert_true "the hook was killed at its deadline, not waited for" test $((SECONDS - start)) -lt 20
assert_eq "" "$(pgrep -f 'sleep 60' || true)" "the hook and its children were killed"

echo '{"version": "1.0.0", "hook": {"path": "relative"}}' >"$hooks/50-bad.json"
assert_status 125 hb run --rm busybox true
assert_error run "an invalid hook file refuses containers"
assert_contains "$ERR" "50-bad.json" "the error names the file"
rm -f "$hooks"/*.json
assert_status 0 hb run --rm busybox true
assert_eq "" "$(ls "$T/root/plugins/oci-hooks/containers/")" "oci-hooks keeps no state of gone containers"
echo '{"state": {}, "hooks": []}' >"$T/root/plugins/oci-hooks/containers/0000dead.json"
assert_status 0 hb system gc
assert_true "gc drops the hooks kept for a container that is gone" \
    test ! -e "$T/root/plugins/oci-hooks/containers/0000dead.json"

# --- macvlan: containers on sub-interfaces of a host link ---------------------------
# The parent: one end of a veth pair in the test's own network namespace
# (this kernel has no dummy driver; any link with a MAC address serves).
ip link add mvparent type veth peer name mvpeer
ip link set mvpeer up
ip link set mvparent up
assert_status 125 eb network create --driver macvlan --subnet 10.77.0.0/24 mvbad
assert_error "network create" "macvlan without parent= is refused"
assert_status 125 eb network create --driver macvlan --opt parent=nosuchlink --subnet 10.77.0.0/24 mvbad
assert_error "network create" "a parent that does not exist is refused"
assert_status 0 eb network create --driver macvlan --opt parent=mvparent \
    --subnet 10.77.0.0/24 --gateway 10.77.0.1 mvnet
assert_status 0 eb run -d --name mva --network mvnet busybox sleep 60
assert_status 0 eb run -d --name mvb --network mvnet busybox httpd -f -p 80 -h /etc
assert_status 0 eb inspect mvb
ipb=$(json_eval 'd[0]["ip"] if isinstance(d, list) else d["ip"]' <<<"$OUT" || true)
assert_match "$ipb" '^10\.77\.0\.[0-9]+$' "the container got an address of the network: $ipb"
assert_status 0 eb exec mva sh -c 'cat /sys/class/net/eth0/iflink /sys/class/net/eth0/address; ip route'
assert_contains "$OUT" "default via 10.77.0.1" "the default route goes to the gateway"
reached=0
for _ in 1 2 3 4 5 6 7 8 9 10; do # httpd binds after exec
    capture "$prefix/bin/berth" --root "$T/root" --runroot "$T/run" --plugin-path "$plugdir:$exdir" \
        exec mva sh -c 'printf "GET /passwd HTTP/1.0\r\n\r\n" | nc -w 3 "$0" 80' "$ipb"
    [[ $OUT == *root:x:0:0* ]] && reached=1 && break
    sleep 0.3
done
assert_eq 1 "$reached" "two containers on the macvlan network reach each other (HTTP)"
ida=$(eb inspect mva | json_eval '(d[0] if isinstance(d, list) else d)["id"]')
nsfile=$(find "$T/run" -name "$ida" -path '*netns*' -print -quit)
assert_true "the container has a network namespace file" test -n "$nsfile"
capture nsenter --net="$nsfile" ip -d link show eth0
assert_contains "$OUT" "macvlan mode bridge" "the container's eth0 is a macvlan in bridge mode"
assert_status 0 eb rm -f mva mvb
assert_eq "" "$(ls "$T/root/plugins/macvlan/ipam/"* 2>/dev/null)" "leave gave the addresses back"
assert_eq "" "$(ip -o link show type macvlan)" "no macvlan link left"
assert_status 0 eb network rm mvnet

# Chained with nat: nat publishes the port to the address macvlan gave.
assert_status 0 eb network create --driver macvlan,nat --opt parent=mvparent \
    --subnet 10.78.0.0/24 --gateway 10.78.0.1 mvnat
assert_status 0 eb run -d --name mvc --network mvnat -p 18080:80 busybox sleep 60
assert_status 0 eb inspect mvc
natres=$(json_eval '(d[0] if isinstance(d, list) else d)["network_results"]' <<<"$OUT" || true)
assert_contains "$natres" '"container_ip": "10.78.0.' "nat maps the port to the macvlan address"
assert_status 0 eb port mvc
assert_contains "$OUT" "18080" "berth port shows the published port"
mvnet_id=$(eb network inspect mvnat | json_eval '(d[0] if isinstance(d, list) else d)["id"]')
echo -n 0000dead >"$T/root/plugins/macvlan/ipam/$mvnet_id/10.78.0.200"
assert_status 0 eb system gc
assert_true "gc frees the address of a container that is gone" \
    test ! -e "$T/root/plugins/macvlan/ipam/$mvnet_id/10.78.0.200"
left=("$T/root/plugins/macvlan/ipam/$mvnet_id"/10.78.0.*)
assert_eq "1" "${#left[@]}" "gc keeps the running container's address"
assert_status 0 eb rm -f mvc
assert_status 0 eb network rm mvnat
assert_eq "" "$(ls "$T/root/plugins/macvlan/ipam/" 2>/dev/null)" "network rm leaves no address state"
ip link del mvparent

finish
