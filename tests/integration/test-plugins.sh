#!/usr/bin/env bash
# The plugin loader: what `plugin ls` shows, the one exported symbol of every
# plugin, and the refusals (another ABI major, a newer minor, no entry
# symbol, a bad descriptor size, a name already taken) that leave the rest
# of berth working.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

assert_status 0 berth plugin ls
text=$OUT
assert_match "$text" $'(^|\n)[^\n]*overlay[^\n]*storage' "plugin ls: overlay, kind storage"
assert_match "$text" $'(^|\n)[^\n]*test-fault[^\n]*hook' "plugin ls: test-fault, kind hook"

assert_status 0 berth plugin ls --format json
json=$OUT
check=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
errs = []
if not isinstance(d.get("plugins"), list): errs.append("no plugins list")
if not isinstance(d.get("refused"), list): errs.append("no refused list")
for p in d.get("plugins", []):
    for k in ("name", "kind", "version", "abi", "path", "summary"):
        if k not in p: errs.append("%s lacks %s" % (p.get("name"), k))
kinds = {p.get("name"): p.get("kind") for p in d.get("plugins", [])}
if kinds.get("overlay") != "storage": errs.append("overlay kind %r" % kinds.get("overlay"))
if kinds.get("test-fault") != "hook": errs.append("test-fault kind %r" % kinds.get("test-fault"))
for p in d.get("plugins", []):
    if not str(p.get("abi", "")).startswith("1."): errs.append("%s abi %r" % (p.get("name"), p.get("abi")))
if d.get("refused"): errs.append("refused: %r" % d["refused"])
print("; ".join(errs))
' <<<"$json" 2>&1 || echo "not JSON")
assert_eq "" "$check" "plugin ls --format json has the documented shape"

# Every plugin exports exactly one dynamic symbol: its entry.
for so in "$BERTH_PLUGIN_DIR"/*.so; do
    syms=$(nm -D --defined-only "$so" | awk '{print $NF}' | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' || true)
    assert_eq "berth_plugin_entry" "$syms" "$(basename "$so") exports only berth_plugin_entry"
done

# Refused plugins. The good ones come first in the path, so a duplicate name
# is the later file (the first directory wins).
bad_dir=$BERTH_BAD_PLUGIN_DIR
if ! compgen -G "$bad_dir/*.so" >/dev/null; then
    die "no ABI fixtures in '$bad_dir' (BERTH_BAD_PLUGIN_DIR)"
fi
mkdir -p "$T/good" "$T/bad"
cp -- "$BERTH_PLUGIN_DIR"/*.so "$T/good/"
cp -- "$bad_dir"/*.so "$T/bad/"
pbad() {
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$T/good:$T/bad" "$@"
}
assert_status 0 pbad plugin ls
text=$OUT
assert_status 0 pbad plugin ls --format json
json=$OUT

declare -A want_reason=(
    [bad-major]="ABI 2.0"
    [newer-minor]="newer|1\\.1"
    [no-entry]="berth_plugin_entry"
    [bad-size]="size"
    [dup-name]="already"
)
for key in "${!want_reason[@]}"; do
    f=$(find "$T/bad" -name "*$key*.so" -print -quit)
    if [[ -z $f ]]; then
        fail "no fixture matching *$key*.so in $bad_dir: $(dir_entries "$bad_dir" | tr '\n' ' ')"
        continue
    fi
    base=$(basename "$f")
    reason=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d.get("refused", []):
    if r.get("path", "").endswith("/" + sys.argv[1]): print(r.get("reason", ""))
' "$base" <<<"$json" || true)
    if [[ -n $reason ]]; then
        ok "$base is refused"
        assert_match "$reason" "${want_reason[$key]}" "$base: reason says why ($reason)"
    else
        fail "$base is not listed as refused"
    fi
    assert_contains "$text" "$base" "plugin ls (text) lists the refused $base"
done
loaded=$(json_eval '" ".join(sorted(p["name"] for p in d["plugins"]))' <<<"$json" || true)
assert_contains " $loaded " " overlay " "overlay still loads beside refused plugins"
assert_contains " $loaded " " test-fault " "test-fault still loads beside refused plugins"
dup_path=$(json_eval '[p["path"] for p in d["plugins"] if p["name"] == "overlay"][0]' <<<"$json" || true)
assert_eq "$T/good/overlay.so" "$dup_path" "the first directory's plugin wins a name"

pbad image import "$(busybox_tar)" busybox >/dev/null 2>&1 || fail "import with refused plugins around"
capture pbad run --rm busybox echo still works
assert_eq 0 "$RC" "berth run works with refused plugins in the path"
assert_eq "still works" "$OUT" "…and runs the command"
refusal_lines=$(grep -c . <<<"$ERR" || true)
n_refused=$(json_eval 'len(d["refused"])' <<<"$json" || echo 5)
if [[ $refusal_lines -le $n_refused ]]; then
    ok "at most one line per refused plugin on stderr ($refusal_lines)"
else
    fail "$refusal_lines lines on stderr"
    _show
fi

# Lazy loading (core/plugin/plugin-cache.h): once the descriptor cache
# knows the path, a container without a network dlopens no network driver,
# and a plugin file added to the path is seen by the next command.
berth ps >/dev/null # writes the cache if nothing did yet
capture env LD_DEBUG=files "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
    run --rm --network none busybox true
assert_eq 0 "$RC" "run --network none with LD_DEBUG"
assert_contains "$ERR" "overlay.so" "run --network none loads the storage driver"
assert_not_contains "$ERR" "bridge.so" "run --network none does not load the bridge driver"
assert_not_contains "$ERR" "nat.so" "run --network none does not load the nat driver"
mkdir -p "$T/extra"
pextra() {
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH:$T/extra" "$@"
}
assert_status 0 pextra plugin ls
assert_not_contains "$OUT" "abi-good" "no abi-good plugin yet"
good=$(find "$BERTH_BAD_PLUGIN_DIR" -name '*abi-good*.so' -print -quit)
if [[ -n $good ]]; then
    cp "$good" "$T/extra/"
    assert_status 0 pextra plugin ls
    assert_contains "$OUT" "$T/extra/" "a plugin added to the path is loaded by the next command"
    rm "$T/extra/"*.so
    assert_status 0 pextra plugin ls
    assert_not_contains "$OUT" "$T/extra/" "a plugin removed from the path is gone from the next command"
else
    fail "no abi-good fixture in $BERTH_BAD_PLUGIN_DIR"
fi

# plugin check FILE.so: the loader's verdict on one file.
assert_status 0 berth plugin check "$BERTH_PLUGIN_DIR/overlay.so"
assert_contains "$OUT" "ok" "plugin check of overlay.so says ok"
nb=$(find "$T/bad" -name '*bad-major*.so' -print -quit)
if [[ -n $nb ]]; then
    assert_status 125 berth plugin check "$nb"
    assert_error plugin "plugin check of a plugin built for another ABI major"
    assert_contains "$ERR" "ABI 2.0" "plugin check says which ABI it was built for"
fi

finish
