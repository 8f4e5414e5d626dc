#!/usr/bin/env bash
# kill -9 of berth at every step (the test-fault hook raises SIGKILL in
# berth when BERTH_TEST_KILL_AT names the step): the journal is on disk, and
# the next berth command (ps -a or system gc) sees the dead owner and undoes
# everything: no record, upper dir, run-dir entry, mount or process remains.
#
# KILL_STEPS overrides the list of steps.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

read -r -a steps <<<"${KILL_STEPS:-create prepare-storage create-process prestart started exited}"
i=0
for step in "${steps[@]}"; do
    for mode in rm named; do
        i=$((i + 1))
        args=(--rm)
        [[ $mode == named ]] && args=(--name "k-$step")
        capture env BERTH_TEST_KILL_AT="$step" \
            "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
            run "${args[@]}" busybox sh -c 'sleep 30'
        assert_eq 137 "$RC" "berth killed with SIGKILL at $step ($mode)"
        [[ $RC -eq 137 ]] || _show

        # The next command recovers; alternate between the two that must.
        if [[ $((i % 2)) -eq 1 ]]; then
            recover=(ps -a -q)
        else
            recover=(system gc)
        fi
        assert_status 0 berth "${recover[@]}"
        if [[ ${recover[0]} == ps ]]; then
            if [[ $mode == rm || $step != started && $step != exited ]]; then
                assert_eq "" "$OUT" "after kill at $step ($mode), ps -a shows nothing"
            fi
        fi
        if [[ $mode == named && ($step == started || $step == exited) ]]; then
            # The container was made before berth died: recovery may keep
            # it (stopped, as docker keeps an exited container); rm it.
            capture berth rm -f "k-$step"
        fi
        assert_status 0 berth ps -a -q
        assert_eq "" "$OUT" "after kill at $step ($mode) and recovery: no container record"
        assert_eq "" "$(leaked_storage)" "after kill at $step ($mode): no upper dir"
        assert_eq "" "$(leaked_records)" "after kill at $step ($mode): no record or name file"
        assert_eq "" "$(leaked_run_files)" "after kill at $step ($mode): no run-dir entry"
        assert_eq "" "$(leaked_mounts)" "after kill at $step ($mode): no mount"
        sleep 0.2 # let pid 1 reap what recovery killed
        p=$(leaked_processes)
        assert_eq "" "$p" "after kill at $step ($mode): no process"
        if [[ -n $p ]]; then
            while read -r x; do note "$(describe_process "$x")"; done <<<"$p"
            # Keep the later steps meaningful.
            while read -r x; do kill -KILL "$x" 2>/dev/null || true; done <<<"$p"
        fi
    done
    assert_status 0 berth run --rm --name "k-$step" busybox echo ok
    assert_eq "ok" "$OUT" "after the kill at $step, the name is free and run works"
done

# Locks held by the killed processes were released with them.
assert_status 0 berth run --rm busybox true

finish
