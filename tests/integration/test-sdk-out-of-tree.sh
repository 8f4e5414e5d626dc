#!/usr/bin/env bash
# An out-of-tree plugin, built with nothing but `pkg-config berth-plugin`
# against the installed SDK, is loaded by the installed berth and sees every
# lifecycle event of a container, in order.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

prefix=${BERTH_PREFIX:-}
if [[ -z $prefix || ! -x $prefix/bin/berth ]]; then
    SKIP_CLEAN_CHECK=1
    die "no installed berth: set BERTH_PREFIX to a 'cmake --install' prefix"
fi
pc=$(find "$prefix" -name berth-plugin.pc -print -quit)
[[ -n $pc ]] || die "berth-plugin.pc not installed under $prefix"
ok "berth-plugin.pc installed: ${pc#"$prefix"/}"
plugdir=$(find "$prefix" -type d -path '*/berth/plugins' -print -quit)
[[ -n $plugdir ]] || die "no lib/berth/plugins under $prefix"
assert_true "overlay.so installed" test -f "$plugdir/overlay.so"
assert_true "SDK headers installed" test -f "$prefix/include/berth/plugin.h"
if [[ -e $plugdir/test-fault.so ]]; then
    fail "test-fault.so must not be installed"
else
    ok "test-fault.so is not installed"
fi

export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
# A relocated prefix: tell pkg-config where it is now.
cflags=$(pkg-config --define-prefix --cflags berth-plugin 2>/dev/null ||
    pkg-config --cflags berth-plugin)
assert_contains "$cflags" "$prefix" "pkg-config points into the install prefix"

mkdir -p "$T/src" "$T/plugins"
cat >"$T/src/hello.c" <<'C'
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <berth/berth.h>

struct hello {
    char log_path[4096];
};

static struct hello the_state;

static int hello_init(const struct berth_services *services, void **ret_state)
{
    snprintf(the_state.log_path, sizeof(the_state.log_path), "%s/events", services->state_dir);
    *ret_state = &the_state;
    return 0;
}

static void hello_fini(void *state)
{
    (void)state;
}

static int hello_on_event(void *state, const struct berth_event *event, void *res,
                          struct berth_error *err)
{
    struct hello *h = state;
    char line[256];
    int fd, n;

    (void)res;
    (void)err;
    fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    n = snprintf(line, sizeof(line), "%s %s\n", event->event_name,
                 event->phase == BERTH_PHASE_PRE ? "pre" : "post");
    if (write(fd, line, (size_t)n) != n) {
        close(fd);
        return -EIO;
    }
    close(fd);
    return 0;
}

static const struct berth_hook_ops hello_ops = {
    .size = sizeof(struct berth_hook_ops),
    .on_event = hello_on_event,
};

BERTH_PLUGIN_DEFINE(BERTH_KIND_HOOK, "hello", "0.1", "logs every event", 0, hello_init,
                    hello_fini, &hello_ops)
C
# shellcheck disable=SC2086 # pkg-config output is a list of flags
if cc $cflags -std=c11 -Wall -Wextra -Werror -fvisibility=hidden -shared -fPIC \
    -o "$T/plugins/hello.so" "$T/src/hello.c" 2>"$T/cc.err"; then
    ok "out-of-tree plugin builds with only pkg-config berth-plugin"
else
    fail "out-of-tree plugin does not build"
    note "$(cat "$T/cc.err")"
fi
syms=$(nm -D --defined-only "$T/plugins/hello.so" | awk '{print $NF}' |
    grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' || true)
assert_eq "berth_plugin_entry" "$syms" "BERTH_PLUGIN_DEFINE exports only the entry"

# The SDK's static filesystem helpers (berth/fsutil.h, pkg-config
# berth-fsutil): a plugin that links them still exports its entry alone, and
# a program using them copies a tree as a driver would.
fsutil_libs=$(pkg-config --define-prefix --libs berth-fsutil 2>/dev/null ||
    pkg-config --libs berth-fsutil)
assert_contains "$fsutil_libs" "libberth-fsutil.a" "pkg-config berth-fsutil names the static library"
cat >"$T/src/copier.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <berth/fsutil.h>

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    int src = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dst = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src < 0 || dst < 0)
        return 2;
    struct berth_copy_options opts = {.reflink = berth_reflink_supported(dst) == 1};
    int r = berth_tree_copy(src, dst, argv[3], &opts);
    if (r < 0) {
        fprintf(stderr, "copy: %s\n", strerror(-r));
        return 1;
    }
    return 0;
}
C
# shellcheck disable=SC2086 # pkg-config output is a list of flags
if cc $cflags -std=c11 -Wall -Wextra -Werror -o "$T/copier" "$T/src/copier.c" $fsutil_libs 2>"$T/cc.err" &&
    cc $cflags -std=c11 -Wall -Wextra -Werror -fvisibility=hidden -shared -fPIC \
        -Wl,--version-script="$(pkg-config --variable=versionscript berth-plugin)" \
        -o "$T/fsutil-user.so" "$T/src/copier.c" $fsutil_libs 2>>"$T/cc.err"; then
    ok "a program and a .so build against pkg-config berth-fsutil"
else
    fail "berth-fsutil does not link"
    note "$(cat "$T/cc.err")"
fi
syms=$(nm -D --defined-only "$T/fsutil-user.so" 2>/dev/null | awk '{print $NF}' | grep berth_ || true)
assert_eq "" "$syms" "the helpers stay hidden inside a .so that links them"
mkdir -p "$T/tree/a/b" "$T/copies"
echo data >"$T/tree/a/b/file"
ln "$T/tree/a/b/file" "$T/tree/a/link"
ln -s b/file "$T/tree/a/sym"
chmod 4750 "$T/tree/a/b/file"
truncate -s 64M "$T/tree/sparse"
assert_status 0 "$T/copier" "$T/tree" "$T/copies" copy
assert_eq "$(stat -c %i "$T/copies/copy/a/b/file")" "$(stat -c %i "$T/copies/copy/a/link")" "the copy keeps the hardlink"
assert_eq "b/file" "$(readlink "$T/copies/copy/a/sym")" "the copy keeps the symlink"
assert_eq "4750" "$(stat -c %a "$T/copies/copy/a/b/file")" "the copy keeps the setuid mode"
assert_eq "0" "$(stat -c %b "$T/copies/copy/sparse")" "the copy keeps the hole"
assert_status 1 "$T/copier" "$T/tree" "$T/copies" copy
assert_contains "$ERR" "File exists" "a copy onto an existing name is refused"

ib() {
    "$prefix/bin/berth" --root "$T/root" --runroot "$T/run" --plugin-path "$plugdir:$T/plugins" "$@"
}
assert_status 0 ib plugin ls --format json
loaded=$(json_eval '" ".join(sorted(p["name"] + "/" + p["kind"] for p in d["plugins"]))' <<<"$OUT" || true)
assert_contains " $loaded " " hello/hook " "the installed berth loads the out-of-tree plugin"
assert_contains " $loaded " " overlay/storage " "the installed berth loads the installed overlay"

assert_status 0 ib image import "$(busybox_tar)" busybox
assert_status 0 ib run --rm busybox echo hello from berth
assert_eq "hello from berth" "$OUT" "the installed berth runs a container"
ev=$(find_in "$T/root" events)
if [[ -n $ev ]]; then
    events=$(tr '\n' ',' <"$ev")
    want="create pre,prepare-storage pre,create-process pre,prestart pre,started post,exited post,stopped post,deleted post,"
    # Events of later issues (volumes, network) may appear in between.
    filtered=$(tr ',' '\n' <<<"$events" | grep -E -x "$(tr ',' '\n' <<<"$want" | grep . | paste -sd'|')" | paste -sd',')
    assert_eq "${want%,}" "$filtered" "the plugin saw every event in order"
else
    fail "the plugin wrote no events file under its state dir"
fi

finish
