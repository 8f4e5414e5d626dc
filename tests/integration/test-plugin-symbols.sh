#!/usr/bin/env bash
# Every plugin exports exactly one dynamic symbol, berth_plugin_entry: the
# rest is hidden by -fvisibility=hidden and the SDK's version script, so no
# two plugins (or a plugin and berth) can interpose on each other.
#
# Usage: test-plugin-symbols.sh PLUGIN_DIR   (e.g. build/plugins)
set -euo pipefail

dir=${1:?usage: $0 PLUGIN_DIR}
fail=0
n=0

shopt -s nullglob
for so in "$dir"/*.so; do
    n=$((n + 1))
    # Field 3 of "ADDR TYPE NAME"; strip a symbol version suffix if any.
    syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' | sort -u)
    if [ "$syms" = "berth_plugin_entry" ]; then
        echo "ok $(basename "$so"): exports only berth_plugin_entry"
    else
        echo "FAIL $(basename "$so"): exports: $(echo "$syms" | tr '\n' ' ')"
        fail=1
    fi
done

if [ "$n" -eq 0 ]; then
    echo "FAIL no plugin found in '$dir'"
    exit 1
fi
exit "$fail"
