#!/usr/bin/env bash
# Fault containment (docs/plugin-guide.md, "Isolation"): a plugin with
# "isolate": true in the configuration runs each operation in a child with a
# deadline. fault-storage (tests/fixtures/fault-plugins) crashes, hangs or
# aborts at the operation its options name; each time the command fails with
# one line and exit 125, nothing is left, and the next command works.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_busybox busybox

FAULT_DIR=${BERTH_FAULT_PLUGIN_DIR:-$(dirname "$BERTH")/fault-plugins}
[[ -f $FAULT_DIR/fault-storage.so ]] || die "no fault-storage.so in '$FAULT_DIR'"
CONFIG=$T/berth.json

fberth() {
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH:$FAULT_DIR" \
        --config "$CONFIG" "$@"
}

# configure FAULT AT [ISOLATE [TIMEOUT]]: fault-storage is the default
# storage driver. A hang gets a 1 s deadline, the rest 30 s (unpacking
# busybox on a busy machine may take a second).
configure() {
    local timeout=30
    [[ $1 == hang ]] && timeout=1
    cat >"$CONFIG" <<JSON
{"storage_driver": "fault-storage",
 "plugins": {"fault-storage": {"isolate": ${3:-true}, "timeout": ${4:-$timeout},
                               "options": {"fault": "$1", "at": "$2"}}}}
JSON
}

# A crash is reported as the signal; under ASan its SEGV handler turns the
# crash into exit status 1, which is reported as such.
want_reason() {
    case $1 in
    segv) echo "killed by SIGSEGV|exited with status 1 without an answer" ;;
    abort) echo "killed by SIGABRT" ;;
    hang) echo "no answer within 1 s: killed" ;;
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

# release runs when the container stops: the stop is still recorded.
for fault in segv abort; do
    configure "$fault" release
    capture fberth run --rm busybox true
    note "release × $fault: exit $RC: $ERR"
    configure none none
    assert_status 0 fberth ps -a -q
    for id in $OUT; do fberth rm -f "$id" >/dev/null 2>&1 || true; done
    assert_clean --all
done

# A leak (64 MiB and 64 descriptors) in an isolated prepare dies with the
# child: berth's own descriptors do not grow.
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
