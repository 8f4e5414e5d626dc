#!/usr/bin/env bash
# ABI guarantees: plugins built against tests/abi/include (a frozen copy of
# the first released SDK headers, ABI 1.0) load, pass `plugin check` and
# their conformance suite, and a container runs on the 1.0 storage driver
# with a 1.0 volume; a plugin built for a newer minor or another major is
# refused with the exact line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

abi_dir=${BERTH_ABI_PLUGIN_DIR:-$(dirname "$BERTH")/abi-plugins}
bad_dir=$BERTH_BAD_PLUGIN_DIR
for k in hook storage volume network; do
    [[ -f $abi_dir/abi10-$k.so ]] || die "no ABI 1.0 fixture '$abi_dir/abi10-$k.so'"
done

# The frozen headers really are 1.0's.
top=$BERTH_TEST_TOP
assert_match "$(grep -E '^#define BERTH_ABI_(MAJOR|MINOR)' "$top/tests/abi/include/berth/plugin.h")" \
    $'BERTH_ABI_MAJOR 1\n#define BERTH_ABI_MINOR 0' "tests/abi holds the ABI 1.0 headers"

version=$("$BERTH" --version)
[[ $version =~ ABI\ ([0-9]+)\.([0-9]+) ]] || die "no ABI in '$version'"
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}

pabi() {
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH:$abi_dir" "$@"
}

for k in hook storage volume network; do
    so=$abi_dir/abi10-$k.so
    assert_status 0 berth plugin check "$so"
    assert_eq "$so: ok: $k plugin 'abi10-$k' 1.0, ABI 1.0" "$OUT" "check: abi10-$k (ABI 1.0) is accepted"
    syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }')
    assert_eq "berth_plugin_entry" "$syms" "abi10-$k exports only its entry"
    capture berth plugin test "$so"
    assert_eq 0 "$RC" "abi10-$k passes today's $k suite"
    [[ $RC -eq 0 ]] || _show
done

assert_status 0 pabi plugin ls --format json
json=$OUT
for k in hook storage volume network; do
    abi=$(json_eval "[p['abi'] for p in d['plugins'] if p['name'] == 'abi10-$k'][0]" <<<"$json" || true)
    assert_eq "1.0" "$abi" "plugin ls: abi10-$k loads beside today's plugins as ABI 1.0"
done
assert_eq "[]" "$(json_eval 'd["refused"]' <<<"$json")" "nothing refused"

# A container runs through the 1.0 storage driver, with a 1.0 volume.
setup_busybox busybox
assert_status 0 pabi volume create --driver abi10-volume old-vol
capture pabi run --rm --storage-driver abi10-storage -v old-vol:/data busybox \
    sh -c 'echo kept >/data/f; cat /etc/hostname >/dev/null; echo ran on abi10'
assert_eq 0 "$RC" "run on the ABI 1.0 storage driver"
assert_eq "ran on abi10" "$OUT" "…prints the command's output"
[[ $RC -eq 0 ]] || _show
capture pabi run --rm --storage-driver abi10-storage -v old-vol:/data busybox cat /data/f
assert_eq "kept" "$OUT" "the ABI 1.0 volume keeps its data"
assert_status 0 pabi volume rm old-vol
assert_status 0 pabi system gc

# Refusals, the exact line: berth plugin check and the loader's warning.
newer=$bad_dir/newer-minor.so other=$bad_dir/bad-major.so
capture berth plugin check "$newer"
assert_eq 125 "$RC" "newer minor: exit 125"
assert_eq "berth: plugin check: plugin '$newer': built for ABI $major.$((minor + 1)), berth provides $major.$minor: the plugin is newer than berth: upgrade berth or rebuild the plugin" \
    "$ERR" "newer minor: the exact refusal"
capture berth plugin check "$other"
assert_eq 125 "$RC" "other major: exit 125"
assert_eq "berth: plugin check: plugin '$other': built for ABI 2.0, berth provides $major.$minor: rebuild against berth-plugin $major.x" \
    "$ERR" "other major: the exact refusal"
mkdir -p "$T/refused"
cp -- "$newer" "$other" "$T/refused/"
capture "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$T/refused:$PLUGIN_PATH" plugin ls
assert_eq 0 "$RC" "plugin ls with refused plugins in the path"
assert_eq "berth: warning: plugin '$T/refused/bad-major.so' refused: built for ABI 2.0, berth provides $major.$minor: rebuild against berth-plugin $major.x
berth: warning: plugin '$T/refused/newer-minor.so' refused: built for ABI $major.$((minor + 1)), berth provides $major.$minor: the plugin is newer than berth: upgrade berth or rebuild the plugin" \
    "$ERR" "the loader's refusals, one exact line each"

finish
