#!/usr/bin/env bash
# A third party builds a plugin against an installed berth with the compiler
# and pkg-config alone, or with the CMake package, and berth loads it.
#
# Needs BERTH_PREFIX: a prefix made with `cmake --install build --prefix DIR`.
set -euo pipefail

prefix=${BERTH_PREFIX:?set BERTH_PREFIX to an install prefix (cmake --install build --prefix DIR)}
fail=0
ok() { echo "ok $*"; }
bad() { echo "FAIL $*"; fail=1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-oot.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

# GNUInstallDirs makes libdir "lib", "lib64" or "lib/<multiarch>" depending
# on the distribution and prefix: find the .pc rather than guess.
pc=$(find "$prefix" -path '*/pkgconfig/berth-plugin.pc' -print -quit)
if [ -z "$pc" ]; then
    echo "FAIL no berth-plugin.pc under '$prefix'"
    exit 1
fi
export PKG_CONFIG_PATH=$(dirname "$pc")
ok "found $(realpath --relative-to="$prefix" "$pc")"

cflags=$(pkg-config --cflags berth-plugin)
inc=$(pkg-config --variable=includedir berth-plugin)
[ -f "$inc/berth/plugin.h" ] && ok "includedir '$inc' holds <berth/plugin.h>" ||
    bad "includedir '$inc' has no berth/plugin.h"
case "$cflags" in
*-fvisibility=hidden*) ok "cflags hide symbols ($cflags)" ;;
*) bad "cflags lack -fvisibility=hidden: $cflags" ;;
esac
for var in plugindir versionscript; do
    v=$(pkg-config --variable=$var berth-plugin)
    case "$(realpath -m "$v")" in
    "$(realpath "$prefix")"/*) ok "$var '$v' lies in the prefix" ;;
    *) bad "$var '$v' is outside '$prefix'" ;;
    esac
done
[ -f "$(pkg-config --variable=versionscript berth-plugin)" ] && ok "version script installed" ||
    bad "version script missing"

mkdir -p "$tmp/src" "$tmp/plugins"
cat >"$tmp/src/x.c" <<'C'
#include <errno.h>
#include <stdlib.h>
#include <berth/hook.h>

struct oot { const struct berth_services *services; };

static int oot_init(const struct berth_services *services, void **ret_state)
{
    struct oot *o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    o->services = services;
    *ret_state = o;
    return 0;
}

static void oot_fini(void *state) { free(state); }

/* Not static on purpose: -fvisibility=hidden alone must keep it private. */
int oot_helper(void);
int oot_helper(void) { return 0; }

static int oot_on_event(void *state, const struct berth_event *event, void *res,
                        struct berth_error *err)
{
    (void)state; (void)event; (void)res; (void)err;
    return oot_helper();
}

static const struct berth_hook_ops oot_ops = {
    .size = sizeof(struct berth_hook_ops),
    .on_event = oot_on_event,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_HOOK, "oot-hello", "1.0", "out-of-tree test hook", 0,
                    oot_init, oot_fini, &oot_ops)
C

# Exactly the command the SDK documents, nothing more.
# shellcheck disable=SC2046
if cc $(pkg-config --cflags berth-plugin) -shared -fPIC -o "$tmp/plugins/x.so" "$tmp/src/x.c"; then
    ok "built x.so with cc and pkg-config only"
else
    echo "FAIL cc could not build x.so"
    exit 1
fi
syms=$(nm -D --defined-only "$tmp/plugins/x.so" | awk 'NF >= 3 { print $3 }' | sort -u)
[ "$syms" = "berth_plugin_entry" ] && ok "x.so exports only berth_plugin_entry" ||
    bad "x.so exports: $(echo "$syms" | tr '\n' ' ')"

# The CMake package, through the shipped template.
template=$(find "$prefix" -path '*/berth/plugin-template/CMakeLists.txt' -print -quit)
if [ -n "$template" ] && command -v cmake >/dev/null; then
    if cmake -S "$(dirname "$template")" -B "$tmp/template-build" -DCMAKE_PREFIX_PATH="$prefix" \
        >"$tmp/cmake.log" 2>&1 && cmake --build "$tmp/template-build" >>"$tmp/cmake.log" 2>&1; then
        cp "$tmp/template-build/hello.so" "$tmp/plugins/"
        ok "built the template's hello.so with find_package(BerthPlugin)"
    else
        bad "template build failed:"
        sed 's/^/    /' "$tmp/cmake.log"
    fi
else
    bad "no installed plugin template (or no cmake)"
fi

out=$("$prefix/bin/berth" --root "$tmp/root" --runroot "$tmp/run" --plugin-path "$tmp/plugins" \
    plugin ls --format json) || { echo "FAIL berth plugin ls failed"; echo "$out"; exit 1; }

# Loaded means listed with its kind and without a refusal reason.
loaded() {
    local name=$1
    if command -v jq >/dev/null; then
        jq -e --arg n "$name" 'any(.. | objects; .name == $n and .kind == "hook"
            and (.reason // .error // null) == null)' <<<"$out" >/dev/null
    else
        grep -q "\"$name\"" <<<"$out" && grep -q '"hook"' <<<"$out"
    fi
}
for name in oot-hello hello; do
    if loaded "$name"; then
        ok "berth plugin ls lists '$name' as a loaded hook"
    else
        bad "berth plugin ls does not list '$name' as a loaded hook:"
        echo "$out" | sed 's/^/    /'
    fi
done

exit "$fail"
