#!/usr/bin/env bash
# berth plugin test: every in-tree driver passes the conformance suite of its
# kind (sdk/conformance/), a deliberately broken fixture fails it, and the
# command leaves nothing behind in the test's namespaces. Then berth plugin
# check on one fixture per failure: not ELF, no entry, extra exports, another
# major, a newer minor, a bad kind, a missing required operation.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bad_dir=$BERTH_BAD_PLUGIN_DIR

# plugin_test NAME ARGS… : runs the suite; every case line is "ok" or "FAIL".
plugin_test() {
    local label=$1
    shift
    capture berth plugin test "$@"
    if [[ $RC -eq 0 ]]; then
        ok "$label passes its conformance suite"
    else
        fail "$label: plugin test exited $RC"
        _show
    fi
    local fails
    fails=$(grep -c '^FAIL' <<<"$OUT" || true)
    assert_eq 0 "$fails" "$label: no FAIL line"
    assert_match "$OUT" $'\nok nothing left: mounts\n' "$label: leftover checks ran"
    assert_match "$OUT" $'# [0-9]+ passed, 0 failed' "$label: summary line"
}

plugin_test overlay --kind storage overlay
assert_match "$OUT" $'\nok diff records a deleted file' "overlay: the diff cases ran (ABI 1.1)"
assert_match "$OUT" $'\nok restore brings back the saved content' "overlay: the snapshot cases ran"
plugin_test snapshot snapshot
plugin_test local --kind volume local
plugin_test bridge --kind network bridge
assert_match "$OUT" $'\nok join: the reported address is on it' "bridge: join checked in the netns"
plugin_test nat --chain bridge nat
assert_match "$OUT" $'\nok leave removes the netfilter rules join added' "nat: rules checked"
plugin_test journal journal
plugin_test test-fault "$BERTH_TEST_PLUGIN_DIR/test-fault.so"
# A hook that refuses: the refusal must be a negative errno with a message.
capture env BERTH_TEST_FAIL_AT=prestart "$BERTH" --root "$T/root" --runroot "$T/run" \
    --plugin-path "$PLUGIN_PATH" plugin test test-fault
assert_eq 0 "$RC" "test-fault refusing prestart still conforms"
assert_match "$OUT" $'\nok the refusal of .prestart. says why' "the refusal case ran"

# The suite can fail: a volume driver that keeps nothing across mounts.
capture berth plugin test "$bad_dir/broken-volume.so"
assert_eq 1 "$RC" "broken-volume fails its suite (exit 1)"
assert_match "$OUT" $'\nFAIL data persists across mount cycles: ' "broken-volume: data does not persist"
assert_match "$OUT" $'\nFAIL nothing left: files: ' "broken-volume: remove leaves files"
# A storage driver that binds its layer read-only fails the storage suite.
capture berth plugin test "$bad_dir/old-storage.so"
assert_eq 1 "$RC" "old-storage fails the storage suite"
assert_match "$OUT" $'\nFAIL the root is writable: ' "old-storage: its root is not writable"

# Usage errors: one line, exit 125.
capture berth plugin test --kind network overlay
assert_error "plugin test" "--kind that does not match"
assert_contains "$ERR" "is a storage plugin, not network" "…says which kind it is"
capture berth plugin test no-such-plugin
assert_error "plugin test" "an unknown NAME"
capture berth plugin test "$bad_dir/bad-major.so"
assert_error "plugin test" "a plugin the loader refuses"
assert_contains "$ERR" "built for ABI 2.0" "…with the loader's reason"
assert_status 0 berth plugin test --help
assert_contains "$OUT" "Usage: berth plugin test" "plugin test --help"

# Nothing of the suites reached the test's namespace.
leftover=$(awk '$5 ~ /berth-plugin-test/ { print $5 }' /proc/self/mountinfo)
assert_eq "" "$leftover" "no mount of a suite is visible outside it"
assert_eq "" "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'berth-plugin-test-*' -newer "$T" 2>/dev/null)" \
    "the suites' temporary directories are gone"
assert_eq "lo" "$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ' | sed 's/ $//')" \
    "no link left in the test's network namespace"

# plugin check: what to fix, one line, exit 125; 0 for a good plugin.
assert_status 0 berth plugin check "$BERTH_PLUGIN_DIR/overlay.so"
assert_contains "$OUT" "ok: storage plugin 'overlay'" "check: overlay is ok"
echo "not a plugin" >"$T/text.so"
capture berth plugin check "$T/text.so"
assert_error "plugin check" "a text file"
assert_contains "$ERR" "is not an ELF file: build the plugin as a shared object" "check: not ELF"
cp /bin/true "$T/true.so"
capture berth plugin check "$T/true.so"
assert_error "plugin check" "an executable"
declare -A want=(
    [extra-export]="plugin '$bad_dir/extra-export.so': exports 'helper' besides berth_plugin_entry: build with -fvisibility=hidden and the SDK's version script (berth-plugin.map)"
    [no-entry]="does not export berth_plugin_entry: not a berth plugin; define it with BERTH_PLUGIN_DEFINE"
    [bad-major]="built for ABI 2.0, berth provides 1."
    [newer-minor]="the plugin is newer than berth: upgrade berth or rebuild the plugin"
    [bad-kind]="unknown plugin kind 9"
    [no-prepare]="required storage operation prepare is not set"
    [bad-size]="descriptor size"
)
for key in "${!want[@]}"; do
    capture berth plugin check "$bad_dir/$key.so"
    assert_error "plugin check" "check refuses $key.so"
    assert_contains "$ERR" "${want[$key]}" "check of $key.so says what to fix"
done
for so in "$bad_dir/abi-good.so" "$bad_dir/old-minor.so" "$bad_dir/broken-volume.so"; do
    assert_status 0 berth plugin check "$so"
done

finish
