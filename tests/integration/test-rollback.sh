#!/usr/bin/env bash
# Rollback at every step: the test-fault hook plugin refuses the step named
# by BERTH_TEST_FAIL_AT; berth must exit 125 with the hook's reason and undo
# every step already done: no record, upper dir, run-dir entry, mount or
# process remains, and the name is free again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

assert_status 0 berth plugin ls
assert_contains "$OUT" "test-fault" "the test-fault hook plugin is loaded"

steps=(create prepare-storage create-process prestart)
for step in "${steps[@]}"; do
    for mode in rm named; do
        args=(--rm)
        [[ $mode == named ]] && args=(--name "rb-$step")
        assert_status 125 env BERTH_TEST_FAIL_AT="$step" \
            "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
            run "${args[@]}" busybox sh -c 'echo ran; exit 0'
        assert_error run "fail at $step ($mode)"
        assert_contains "$ERR" "refused by test-fault" "fail at $step: the hook's reason is shown"
        assert_eq "" "$OUT" "fail at $step: the command never ran"

        assert_status 0 berth ps -a -q
        assert_eq "" "$OUT" "fail at $step ($mode): no container record"
        assert_eq "" "$(leaked_storage)" "fail at $step ($mode): no upper dir"
        assert_eq "" "$(leaked_records)" "fail at $step ($mode): no record or name file"
        assert_eq "" "$(leaked_run_files)" "fail at $step ($mode): no run-dir entry"
        assert_eq "" "$(leaked_mounts)" "fail at $step ($mode): no mount"
        assert_eq "" "$(leaked_processes)" "fail at $step ($mode): no process"
    done
    # The name is free again and the same container now runs.
    assert_status 0 berth run --rm --name "rb-$step" busybox echo ran
    assert_eq "ran" "$OUT" "after the refused $step, the name is free and run works"

    # create (not run) rolls back the same way.
    if [[ $step == create || $step == prepare-storage ]]; then
        assert_status 125 env BERTH_TEST_FAIL_AT="$step" \
            "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
            create --name "cr-$step" busybox true
        assert_error create "create refused at $step"
        assert_status 0 berth ps -a -q
        assert_eq "" "$OUT" "create refused at $step: no record"
        assert_eq "" "$(leaked_storage)" "create refused at $step: no upper dir"
    fi
done

# prestart of `start -a` of a created container: refused, the container
# stays created and startable, nothing of the attempt remains.
assert_status 0 berth create --name later busybox echo started
assert_status 125 env BERTH_TEST_FAIL_AT=prestart \
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" start -a later
assert_error start "start refused at prestart"
assert_eq "" "$(leaked_mounts)" "start refused: no mount"
assert_eq "" "$(leaked_processes)" "start refused: no process"
assert_status 0 berth start -a later
assert_eq "started" "$OUT" "the container starts once the hook agrees"
assert_status 0 berth rm later

finish
