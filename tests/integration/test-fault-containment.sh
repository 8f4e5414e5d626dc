#!/usr/bin/env bash
# Fault containment (docs/plugin-guide.md, "Isolation"): a plugin with
# "isolate": true in the configuration runs each operation in a child with a
# deadline. The fault plugins (tests/fixtures/fault-plugins: a storage, a
# hook, a network and a volume driver) segfault, hang or abort at the
# operation their options name. Where the operation is a step of a command
# (prepare, join, mount, a pre-phase event, create, remove, gc, inspect),
# the command fails with one line and exit 125, nothing is left, and the
# next command works; where it is best-effort teardown (release, leave,
# unmount, post-phase events, a network's remove) the command goes on with a
# warning naming the fault.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_busybox busybox

FAULT_DIR=${BERTH_FAULT_PLUGIN_DIR:-$(dirname "$BERTH")/fault-plugins}
[[ -f $FAULT_DIR/fault-storage.so ]] || die "no fault-storage.so in '$FAULT_DIR'"
CONFIG=$T/berth.json

fberth() {
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH:$FAULT_DIR" \
        --config "$CONFIG" "$@"
}

# configure FAULT AT [ISOLATE [TIMEOUT]]: sets fault-storage's fault (it is
# the default storage driver); the other fault plugins are isolated and
# harmless. A hang gets a 1 s deadline, the rest 30 s (unpacking busybox on
# a busy machine may take a second).
configure() {
    configure_plugin fault-storage "$@"
}

# configure_plugin PLUGIN FAULT AT [ISOLATE [TIMEOUT]]
configure_plugin() {
    local plugin=$1 fault=$2 at=$3 isolate=${4:-true} timeout=${5:-30} p entries=()
    [[ $fault == hang ]] && timeout=${5:-1}
    for p in fault-storage fault-hook fault-network fault-volume; do
        if [[ $p == "$plugin" ]]; then
            entries+=("\"$p\": {\"isolate\": $isolate, \"timeout\": $timeout,
                       \"options\": {\"fault\": \"$fault\", \"at\": \"$at\"}}")
        else
            entries+=("\"$p\": {\"isolate\": true}")
        fi
    done
    local IFS=,
    printf '{"storage_driver": "%s", "plugins": {%s}}\n' "${STORAGE:-fault-storage}" \
        "${entries[*]}" >"$CONFIG"
}

# How berth reports each fault (fault-storage crashes with the sanitizers'
# handlers removed, so a sanitizer build sees the same signal).
want_reason() {
    case $1 in
    segv) echo "killed by SIGSEGV" ;;
    abort) echo "killed by SIGABRT" ;;
    hang) echo "no answer within [0-9]+ s: killed" ;;
    esac
}

# Operations reached by `run`: layers are checked (has_layer), added once
# (add_layer: the layer is not there yet while it keeps failing), then the
# root is prepared.
for op in add_layer has_layer prepare; do
    for fault in segv hang abort; do
        configure "$fault" "$op"
        # add_layer only runs for a layer the driver lacks.
        rm -f "$T"/root/plugins/fault-storage/layers/*
        start=$(date +%s%N)
        capture fberth run --rm busybox true
        assert_error run "$op × $fault"
        what=$op
        [[ $op == add_layer ]] && what="unpack layer sha256:[0-9a-f]+"
        assert_match "$ERR" "storage driver 'fault-storage': $what: ($(want_reason "$fault"))" \
            "$op × $fault: the message names the plugin, the operation and the fault"
        assert_clean --all
        if [[ $fault == hang ]]; then
            took=$((($(date +%s%N) - start) / 1000000))
            assert_true "$op × hang: killed at its 1 s deadline (took ${took} ms)" test "$took" -lt 5000
        fi
        configure none none
        assert_status 0 fberth run --rm busybox echo after
        assert_eq after "$OUT" "$op × $fault: the next run works"
    done
done

# remove: `rm` fails, the container stays whole, and rm works afterwards.
for fault in segv hang abort; do
    configure none none
    assert_status 0 fberth create --name victim busybox true
    configure "$fault" remove
    capture fberth rm victim
    assert_error rm "remove × $fault"
    assert_match "$ERR" "remove: ($(want_reason "$fault"))" "remove × $fault: message"
    configure none none
    assert_status 0 fberth ps -a -q
    assert_match "$OUT" '.' "remove × $fault: the container is still listed"
    assert_status 0 fberth rm victim
    assert_clean --all
done

# gc: `system gc` fails with the one line, and works afterwards.
for fault in segv hang abort; do
    configure "$fault" gc
    capture fberth system gc
    assert_error "system gc" "gc × $fault"
    assert_match "$ERR" "gc: ($(want_reason "$fault"))" "gc × $fault: message"
    configure none none
    assert_status 0 fberth system gc
done

# release runs when the container stops: best effort, a warning.
for fault in segv hang abort; do
    # prepare runs first under the same deadline: 5 s leaves it room.
    configure "$fault" release true 5
    assert_status 0 fberth run --rm busybox echo ran
    assert_match "$ERR" "warning: .*release: ($(want_reason "$fault"))" \
        "release × $fault: a warning names the fault"
    configure none none
    assert_status 0 fberth ps -a -q
    for id in $OUT; do fberth rm -f "$id" >/dev/null 2>&1 || true; done
    assert_clean --all
done

# --- hook: pre-phase events refuse (the run rolls back), post-phase
# failures are warnings (the run goes on); gc fails system gc.
for at in create prepare-storage join-network create-process prestart; do
    for fault in segv hang abort; do
        configure_plugin fault-hook "$fault" "on_event:$at"
        capture fberth run --rm busybox true
        assert_error run "hook on_event:$at × $fault"
        assert_match "$ERR" "hook 'fault-hook' refused '$at': ($(want_reason "$fault"))" \
            "hook on_event:$at × $fault: message"
        assert_clean --all
    done
done
for at in started exited stopped; do
    configure_plugin fault-hook segv "on_event:$at"
    assert_status 0 fberth run --rm busybox echo post
    assert_match "$ERR" "warning: hook 'fault-hook' failed on '$at': killed by SIGSEGV" \
        "hook on_event:$at × segv (post phase): a warning"
    assert_eq post "$OUT" "hook on_event:$at × segv (post phase): the container still ran"
    assert_clean --all
done
for fault in segv hang abort; do
    configure_plugin fault-hook "$fault" gc
    capture fberth system gc
    assert_error "system gc" "hook gc × $fault"
    assert_match "$ERR" "gc: ($(want_reason "$fault"))" "hook gc × $fault: message"
done
configure none none
assert_status 0 fberth run --rm busybox echo after
assert_eq after "$OUT" "hook faults: the next run works"

# --- network driver: create, join, leave, remove, gc.
for fault in segv hang abort; do
    configure_plugin fault-network "$fault" create
    capture fberth network create --driver fault-network fnet
    assert_error "network create" "network create × $fault"
    assert_match "$ERR" "create: ($(want_reason "$fault"))" "network create × $fault: message"
    configure none none
    assert_status 0 fberth network ls -q
    assert_not_contains "$OUT" fnet "network create × $fault: no network left"
done
configure none none
assert_status 0 fberth network create --driver fault-network fnet
for fault in segv hang abort; do
    configure_plugin fault-network "$fault" join
    capture fberth run --rm --network fnet busybox true
    assert_error run "network join × $fault"
    assert_match "$ERR" "join: ($(want_reason "$fault"))" "network join × $fault: message"
    assert_clean --all
    configure_plugin fault-network "$fault" leave
    # Stopping is best effort: the failed leave is a warning, the run's
    # status stands.
    assert_status 0 fberth run --rm --network fnet busybox echo ran
    assert_match "$ERR" "warning: .*leave: ($(want_reason "$fault"))" \
        "network leave × $fault: a warning names the fault"
    configure none none
    assert_status 0 fberth ps -a -q
    for id in $OUT; do fberth rm -f "$id" >/dev/null 2>&1 || true; done
    assert_clean --all
    configure_plugin fault-network "$fault" gc
    capture fberth system gc
    assert_error "system gc" "network gc × $fault"
done
configure none none
assert_status 0 fberth run --rm --network fnet busybox echo after
assert_eq after "$OUT" "network faults: the next run works"
# network rm removes the record even when a driver's remove fails (best
# effort: gc takes what the driver left), with the failure as a warning.
for fault in segv hang abort; do
    configure_plugin fault-network "$fault" remove
    assert_status 0 fberth network rm fnet
    assert_match "$ERR" "warning: .*remove: ($(want_reason "$fault"))" \
        "network remove × $fault: a warning names the fault"
    configure none none
    assert_status 0 fberth network ls -q
    assert_not_contains "$OUT" fnet "network remove × $fault: the record is gone"
    [[ $fault == abort ]] || assert_status 0 fberth network create --driver fault-network fnet
done

# --- volume driver: create, mount, unmount, inspect, remove, gc.
for fault in segv hang abort; do
    configure_plugin fault-volume "$fault" create
    capture fberth volume create -d fault-volume fvol
    assert_error "volume create" "volume create × $fault"
    assert_match "$ERR" "create: ($(want_reason "$fault"))" "volume create × $fault: message"
    configure none none
    assert_status 0 fberth volume ls -q
    assert_not_contains "$OUT" fvol "volume create × $fault: no volume left"
done
configure none none
assert_status 0 fberth volume create -d fault-volume fvol
for fault in segv hang abort; do
    configure_plugin fault-volume "$fault" mount
    capture fberth run --rm -v fvol:/data busybox true
    assert_error run "volume mount × $fault"
    assert_match "$ERR" "mount: ($(want_reason "$fault"))" "volume mount × $fault: message"
    assert_clean --all
    configure_plugin fault-volume "$fault" unmount
    assert_status 0 fberth run --rm -v fvol:/data busybox echo ran
    assert_match "$ERR" "warning: .*unmount: ($(want_reason "$fault"))" \
        "volume unmount × $fault: a warning names the fault"
    configure none none
    assert_status 0 fberth ps -a -q
    for id in $OUT; do fberth rm -f "$id" >/dev/null 2>&1 || true; done
    assert_clean --all
    configure_plugin fault-volume "$fault" inspect
    capture fberth volume inspect fvol
    assert_error "volume inspect" "volume inspect × $fault"
    assert_match "$ERR" "inspect: ($(want_reason "$fault"))" "volume inspect × $fault: message"
    configure_plugin fault-volume "$fault" gc
    capture fberth system gc
    assert_error "system gc" "volume gc × $fault"
    configure_plugin fault-volume "$fault" remove
    capture fberth volume rm fvol
    assert_error "volume rm" "volume remove × $fault"
    assert_match "$ERR" "remove: ($(want_reason "$fault"))" "volume remove × $fault: message"
    configure none none
    assert_status 0 fberth volume ls -q
    assert_contains "$OUT" fvol "volume remove × $fault: the volume is still there"
done
configure none none
assert_status 0 fberth run --rm -v fvol:/data busybox echo after
assert_eq after "$OUT" "volume faults: the next run works"
assert_status 0 fberth volume rm fvol

# A leak (64 MiB and 64 descriptors) in an isolated prepare dies with the
# child; the operation itself succeeds and the container runs.
configure leak prepare true 30
assert_status 0 fberth run --rm busybox echo leaked
assert_eq leaked "$OUT" "leak × prepare: the run works"

# Without isolation the same fault is an ordinary in-process failure (the
# "fail" fault: a crash would take berth down, which is what isolate is for).
configure fail prepare false
capture fberth run --rm busybox true
assert_error run "prepare × fail, not isolated"
assert_contains "$ERR" "prepare: injected failure" "not isolated: the plugin's own message"
configure none none

finish
