#!/usr/bin/env bash
# The configuration file (docs/configuration.md): plugins enabled, disabled,
# given options and isolated; storage_driver and default_network; `plugin
# enable|disable`; `info`; and the bad-input rules (exit 125 where the
# command cannot proceed, a warning where berth goes on with what is valid).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_busybox busybox

FAULT_DIR=${BERTH_FAULT_PLUGIN_DIR:-$(dirname "$BERTH")/fault-plugins}
[[ -f $FAULT_DIR/fault-storage.so ]] || die "no fault-storage.so in '$FAULT_DIR'"
CONFIG=$T/etc/berth.json

cberth() {
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH:$FAULT_DIR" \
        --config "$CONFIG" "$@"
}
info() { # info PYTHON_EXPR : evaluates EXPR on `info --format json`
    cberth info --format json 2>/dev/null | json_eval "$1"
}

# --- plugin disable / enable -------------------------------------------------
# An explicit --config that does not exist is an error (the default file may
# be missing: that is an empty configuration).
capture cberth --config "$T/none.json" plugin ls
assert_error config "a missing --config file"
# plugin disable makes the file, and its directory.
assert_status 0 cberth --config "$T/new/dir/berth.json" plugin disable test-fault
assert_eq '{"plugins": {"test-fault": {"enabled": false}}}' "$(json_eval d <"$T/new/dir/berth.json")" \
    "plugin disable makes a missing file"
mkdir -p "$T/etc"
echo '{"registries": {"insecure": ["example.org"]}, "cgroup_parent": "/x"}' >"$CONFIG"
assert_status 0 cberth plugin disable test-fault
assert_eq test-fault "$OUT" "plugin disable prints the name"
assert_eq false "$(json_eval 'd["plugins"]["test-fault"]["enabled"]' <"$CONFIG")" \
    "the file says plugins.test-fault.enabled: false"
assert_eq '{"insecure": ["example.org"]}' "$(json_eval 'd["registries"]' <"$CONFIG")" \
    "other keys of the file are kept"
assert_eq "" "$(find "$T/etc" -name '*.tmp*')" "no temporary file left"
assert_status 0 cberth plugin ls
assert_match "$OUT" $'(^|\n)test-fault +hook +disabled' "plugin ls shows test-fault as disabled"
assert_status 0 cberth plugin ls --format json
assert_eq '["test-fault"]' "$(json_eval '[p["name"] for p in d["disabled"]]' <<<"$OUT")" \
    "plugin ls --format json lists it under disabled"
assert_eq '[]' "$(json_eval '[p["name"] for p in d["plugins"] if p["name"] == "test-fault"]' <<<"$OUT")" \
    "a disabled plugin is not loaded"
assert_eq false "$(info 'd["plugins"]["test-fault"]["enabled"]')" "info: test-fault disabled"
assert_eq '{"insecure": ["example.org"]}' "$(info 'd["registries"]')" "info shows registries"
assert_eq "$CONFIG" "$(info 'd["config_file"]')" "info shows the config file"
assert_eq "$T/root $T/run" "$(info 'd["root"] + " " + d["runroot"]')" "info shows root and runroot"
assert_status 0 cberth plugin enable test-fault
assert_status 0 cberth plugin ls
assert_match "$OUT" $'(^|\n)test-fault +hook +[0-9]' "plugin enable: test-fault is loaded again"
assert_eq true "$(json_eval 'd["plugins"]["test-fault"]["enabled"]' <"$CONFIG")" \
    "the file says enabled: true"

before=$(cat "$CONFIG")
capture cberth plugin enable no-such-plugin
assert_error "plugin enable" "an unknown plugin name is refused"
assert_contains "$ERR" "no-such-plugin" "the refusal names the plugin"
assert_eq "$before" "$(cat "$CONFIG")" "the file is unchanged after a refusal"


# --- options, isolate, storage_driver, default_network ---------------------
cat >"$CONFIG" <<'JSON'
{"storage_driver": "fault-storage", "default_network": "none",
 "plugins": {"fault-storage": {"isolate": true, "timeout": 20,
                               "options": {"fault": "none", "at": "nowhere"}}}}
JSON
assert_eq fault-storage "$(info 'd["storage_driver"]')" "info: storage_driver"
assert_eq none "$(info 'd["default_network"]')" "info: default_network"
assert_eq '[true, 20]' "$(info '[d["plugins"]["fault-storage"]["isolate"], d["plugins"]["fault-storage"]["timeout"]]')" \
    "info: isolate and timeout"
assert_eq '{"fault": "none", "at": "nowhere"}' "$(info 'd["plugins"]["fault-storage"]["options"]')" \
    "info: the plugin's options"
assert_eq none "$(info 'd["storage_drivers"]["fault-storage"]["fault"]')" \
    "the options reached the plugin (its own info reports them)"
assert_status 0 cberth run -d --name c1 busybox sleep 100
assert_status 0 cberth inspect c1
assert_eq "fault-storage none" "$(json_eval 'd[0]["storage_driver"] + " " + d[0]["network"]' <<<"$OUT")" \
    "run without flags uses the configured storage driver and network"
assert_status 0 cberth rm -f c1
assert_status 0 cberth run --rm --storage-driver overlay busybox true
note "the --storage-driver flag overrides the configuration"

# --- bad input ----------------------------------------------------------------
echo '{"plugins": {' >"$CONFIG"
capture cberth ps
assert_error config "a file that is not JSON"
assert_contains "$ERR" "'$CONFIG'" "the message names the file"

echo '{"plugins": 5}' >"$CONFIG"
capture cberth ps
assert_error config "plugins that is not an object"
assert_contains "$ERR" '"plugins"' "the message names the key"

echo '{"storage_driver": 7}' >"$CONFIG"
capture cberth ps
assert_error config "a storage_driver that is not a string"

# Options that are not an object: that plugin is refused, the rest goes on.
echo '{"plugins": {"test-fault": {"options": [1, 2]}}}' >"$CONFIG"
assert_status 0 cberth ps
assert_match "$ERR" "warning: plugin '[^']*test-fault.so' refused: '$CONFIG': plugins.test-fault.options: must be a JSON object" \
    "bad options: one warning naming the file and the key"
assert_status 0 cberth plugin ls
assert_match "$OUT" "refused [^ ]*test-fault.so: '$CONFIG': plugins.test-fault.options" \
    "plugin ls shows why it was refused"
assert_status 0 cberth run --rm busybox true

echo '{"plugins": {"test-fault": {"enabled": "yes"}, "overlay": {"colour": 1}}}' >"$CONFIG"
assert_status 0 cberth ps
assert_contains "$ERR" "plugins.test-fault.enabled: must be true or false" "enabled must be a boolean"
assert_contains "$ERR" "plugins.overlay.colour: unknown key" "unknown keys are named"

# A configured plugin that does not exist: a warning, berth goes on.
echo '{"plugins": {"no-such-plugin": {"enabled": true}}}' >"$CONFIG"
assert_status 0 cberth ps
assert_contains "$ERR" "'$CONFIG': plugins.no-such-plugin: no plugin of that name" \
    "an unknown plugin name: one warning naming the file and key"

# An unknown default storage driver or network: the commands that need it
# fail naming the file and key; the others work.
echo '{"storage_driver": "no-such-driver"}' >"$CONFIG"
capture cberth run --rm busybox true
assert_error run "unknown default storage driver"
assert_contains "$ERR" "'$CONFIG': \"storage_driver\": unknown storage driver 'no-such-driver'" \
    "the message names the file and the key"
assert_status 0 cberth ps
assert_status 0 cberth run --rm --storage-driver overlay busybox true
echo '{"default_network": "no-such-net"}' >"$CONFIG"
capture cberth run --rm busybox true
assert_error run "unknown default network"
assert_contains "$ERR" "'$CONFIG': \"default_network\"" "the message names the file and the key"

# Two storage drivers under one name (the same file in two plugin
# directories): the first wins, the second is refused with one warning.
mkdir -p "$T/dup"
cp "$FAULT_DIR/fault-storage.so" "$T/dup/fault-storage-copy.so"
echo '{}' >"$CONFIG"
capture "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH:$FAULT_DIR:$T/dup" \
    --config "$CONFIG" plugin ls
assert_eq 0 "$RC" "a duplicate name does not stop berth"
assert_match "$ERR" "fault-storage-copy.so' refused: name 'fault-storage' is already taken" \
    "the duplicate is refused with one warning"

finish
