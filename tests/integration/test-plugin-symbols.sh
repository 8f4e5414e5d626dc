#!/usr/bin/env bash
# Every plugin exports exactly one dynamic symbol, berth_plugin_entry: the
# rest is hidden by -fvisibility=hidden and the SDK's version script, so no
# two plugins (or a plugin and berth) can interpose on each other.
#
# Usage: test-plugin-symbols.sh PLUGIN_DIR   (e.g. build/plugins)
# Also checks what is shipped: the installed plugin dir under $BERTH_PREFIX
# (cmake --install) when set, and the ABI 1.0 fixtures next to PLUGIN_DIR.
set -euo pipefail

dir=${1:?usage: $0 PLUGIN_DIR}
fail=0
n=0

shopt -s nullglob
dirs=("$dir")
if [[ -n ${BERTH_PREFIX:-} ]]; then
    installed=("$BERTH_PREFIX"/lib*/berth/plugins "$BERTH_PREFIX"/lib/*/berth/plugins)
    if [[ ${#installed[@]} -eq 0 ]]; then
        echo "FAIL no installed plugin dir under '$BERTH_PREFIX'"
        fail=1
    fi
    dirs+=("${installed[@]}")
fi
[[ -d $dir/../abi-plugins ]] && dirs+=("$dir/../abi-plugins")
sos=()
for d in "${dirs[@]}"; do
    sos+=("$d"/*.so)
done
for so in "${sos[@]}"; do
    n=$((n + 1))
    # Field 3 of "ADDR TYPE NAME"; strip a symbol version suffix if any.
    syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' | sort -u)
    if [ "$syms" = "berth_plugin_entry" ]; then
        echo "ok $so: exports only berth_plugin_entry"
    else
        echo "FAIL $so: exports: $(echo "$syms" | tr '\n' ' ')"
        fail=1
    fi
done

if [ "$n" -eq 0 ]; then
    echo "FAIL no plugin found in '$dir'"
    exit 1
fi
exit "$fail"
