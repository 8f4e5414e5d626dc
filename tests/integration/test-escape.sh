#!/usr/bin/env bash
# Escape classes (docs/security.md): each block tries one way out of a
# container under the default settings and checks that it fails and that
# nothing on the host changed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# test-escape-userns.sh: the same with every container in a user namespace.
if [[ ${BERTH_ESCAPE_USERNS:-0} == 1 ]]; then
    source "$(dirname "${BASH_SOURCE[0]}")/userns-lib.sh"
    TEST_NAME=test-escape-userns
    use_subids "berth:200000:1000000" || die "no /etc/subuid to bind over"
    with_userns_auto
fi

setup_busybox busybox

# An image with the static probe (tests/fixtures/sec-probe.c), and two
# symlinks that point out of the root: /evil-etc -> /etc (absolute) and
# /evil-rel -> ../../../../etc (relative).
d=$(mktemp -d "$T/probe.XXXXXX")
make_busybox_rootfs "$d/rootfs"
gcc -static -O2 -o "$d/rootfs/bin/sec-probe" "$BERTH_TEST_TOP/tests/fixtures/sec-probe.c"
ln -s /etc "$d/rootfs/evil-etc"
ln -s ../../../../etc "$d/rootfs/evil-rel"
tar --numeric-owner -C "$d/rootfs" -cf "$d/probe.tar" .
assert_status 0 berth image import "$d/probe.tar" probe
rm -rf -- "$d"
probe() { capture berth run --rm probe sec-probe "$@"; }

# --- 1. the host's binary through /proc/self/exe ----------------------------
# CVE-2019-5736: an entry point "#!/proc/self/exe" makes the runtime exec
# itself inside the container; from there /proc/self/exe must be a sealed
# copy in memory, never berth's file.
sum_before=$(sha256sum <"$BERTH")
mkdir -p "$T/exe"
printf '#!/proc/self/exe\n' >"$T/exe/evil"
chmod 755 "$T/exe/evil"
capture berth run --rm -v "$T/exe:/e" busybox /e/evil
note "berth exec'd as the container's entry point: exit $RC: ${ERR:-}"
capture berth run --rm busybox sh -c 'for p in /proc/[0-9]*/exe; do echo x 2>/dev/null >"$p" && echo "wrote $p"; done; echo end'
assert_eq "end" "$OUT" "no /proc/PID/exe in the container is writable"
assert_eq "$sum_before" "$(sha256sum <"$BERTH")" "berth's binary is unchanged (#!/proc/self/exe)"

# --- 2. a leaked descriptor or working directory ----------------------------
echo "host secret" >"$T/host-file"
mkdir -p "$T/host-cwd"
touch "$T/host-cwd/host-marker"
in_host_dir_with_fd5() {
    capture bash -c 'cd "$1" && exec 5<"$2" && shift 2 && exec "$@"' _ "$T/host-cwd" \
        "$T/host-file" "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
        run --rm busybox "$@"
}
in_host_dir_with_fd5 sh -c 'for f in /proc/1/fd/*; do readlink "$f"; done; readlink /proc/1/cwd; pwd; ls -A; cat /proc/self/fd/5 2>&1 || true'
assert_eq "0" "$RC" "a run from a host directory with fd 5 open succeeds"
assert_not_contains "$OUT" "host secret" "fd 5 of berth is not readable in the container"
assert_not_contains "$OUT" "host-file" "no descriptor of pid 1 leads to the host's file"
assert_not_contains "$OUT" "host-marker" "berth's working directory is not the container's"
in_host_dir_with_fd5 ls /proc/self/fd
assert_eq "0 1 2 3" "$(tr '\n' ' ' <<<"$OUT" | sed 's/ $//')" "only 0 1 2 (and ls's own 3) in the container's pid 1"
in_host_dir_with_fd5 readlink /proc/1/cwd
assert_eq "/" "$OUT" "/proc/1/cwd resolves inside the container"

# --- 3. mount targets that symlink out of the root --------------------------
mkdir -p "$T/vol"
echo inside >"$T/vol/f"
marker=berth-escape-$$
for target in "/evil-etc/$marker" "/evil-rel/$marker"; do
    assert_status 0 berth run --rm -v "$T/vol:$target" probe cat "/etc/$marker/f"
    assert_eq "inside" "$OUT" "-v onto $target lands in the container's /etc"
    assert_status 0 berth run --rm --mount "type=bind,source=$T/vol,target=$target" probe \
        cat "/etc/$marker/f"
    assert_eq "inside" "$OUT" "--mount onto $target lands in the container's /etc"
    assert_status 0 berth run --rm --tmpfs "$target" probe ls -d "/etc/$marker"
done
if [[ -e /etc/$marker ]]; then
    fail "a mount target went through a symlink to the host's /etc"
    rm -rf -- "/etc/${marker:?}"
else
    ok "nothing made in the host's /etc"
fi

# Raced (best effort): one container swaps /v/link between a directory and a
# symlink to /etc while others mount a volume below it.
assert_status 0 berth volume create racevol
capture berth run -d --name swapper -v racevol:/v busybox sh -c \
    'while :; do rm -rf /v/link; ln -s /etc /v/link; rm -f /v/link; mkdir -p /v/link; done'
if [[ $RC -eq 0 ]]; then
    for _ in $(seq 1 10); do
        capture berth run --rm -v racevol:/v -v "$T/vol:/v/link/$marker-race" busybox true
    done
    berth rm -f swapper >/dev/null 2>&1 || true
    if [[ -e /etc/$marker-race ]]; then
        fail "a raced symlink put a mount or directory in the host's /etc"
        rm -rf -- "/etc/${marker:?}-race"
    else
        ok "raced symlink swaps never reach the host's /etc"
    fi
else
    note "no detached containers in this build: race check skipped ($ERR)"
fi
berth volume rm racevol >/dev/null 2>&1 || true

# --- 4. a layer that writes through a symlink or a hardlink -----------------
echo victim >"$T/victim"
python3 - "$T/evil-layer.tar" "$T" <<'PY'
import io, sys, tarfile
out, t = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w") as tf:
    ti = tarfile.TarInfo("evil-link"); ti.type = tarfile.SYMTYPE; ti.linkname = t
    tf.addfile(ti)
    data = b"pwned\n"
    ti = tarfile.TarInfo("evil-link/evil-through-symlink"); ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data))
    ti = tarfile.TarInfo("evil-hard"); ti.type = tarfile.LNKTYPE; ti.linkname = t + "/victim"
    tf.addfile(ti)
PY
assert_status 125 berth image import "$T/evil-layer.tar" evil-layer
assert_status 125 berth run --rm evil-layer true
assert_eq "" "$(find "$T" -maxdepth 1 -name 'evil-through*')" "nothing written through the symlink"
assert_eq "1 victim" "$(stat -c %h "$T/victim") $(cat "$T/victim")" "the hardlink target is untouched"

# --- 5. /proc and /sys ------------------------------------------------------
assert_status 0 berth run --rm busybox sh -c '
    for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /proc/sys/vm/drop_caches \
             /proc/sysrq-trigger /sys/kernel/uevent_helper /sys/kernel/profiling; do
        [ -e "$f" ] || continue
        (echo 1 >"$f") 2>/dev/null && echo "wrote $f"
    done; echo end'
assert_eq "end" "$OUT" "/proc/sys, /proc/sysrq-trigger and /sys/kernel are not writable"

# --- 6. device nodes --------------------------------------------------------
assert_status 0 berth run --rm busybox sh -c \
    'mknod /tmp/sda b 8 0 2>/dev/null && echo made-b; mknod /tmp/mem c 1 1 2>/dev/null && echo made-c; echo end'
assert_eq "end" "$OUT" "mknod of a block or a char device fails (no CAP_MKNOD)"

# --- 7. ptrace and signals to processes outside ------------------------------
sleep 300 &
host_pid=$!
probe ptrace "$host_pid"
assert_eq "ESRCH" "$OUT" "ptrace of a host process: not visible (pid $host_pid)"
assert_status 0 berth run --rm busybox sh -c "kill -0 $host_pid 2>/dev/null && echo seen || echo unseen"
assert_eq "unseen" "$OUT" "a host process cannot be signalled"
kill "$host_pid"
wait "$host_pid" 2>/dev/null || true

# --- 8. keyrings and namespace-creating calls (the seccomp profile) ---------
for call in keyctl add_key clone-newuser vsock; do
    probe "$call"
    assert_eq "EPERM" "$OUT" "$call: EPERM"
done
probe clone3
assert_eq "ENOSYS" "$OUT" "clone3: ENOSYS (libc falls back to clone)"
probe newer
assert_eq "ENOSYS" "$OUT" "a syscall newer than the profile: ENOSYS"
probe personality 0040000
assert_eq "EPERM" "$OUT" "personality(ADDR_NO_RANDOMIZE): EPERM"
probe personality ffffffff
assert_eq "OK" "$OUT" "personality query: allowed"
assert_status 0 berth run --rm busybox sh -c 'unshare -U true 2>/dev/null && echo made || echo refused'
assert_eq "refused" "$OUT" "unshare -U fails"
assert_status 0 berth run --rm busybox sh -c 'mkdir -p /mnt; mount -t tmpfs x /mnt 2>/dev/null && echo mounted || echo refused'
assert_eq "refused" "$OUT" "mount fails"
probe setns /proc/1/ns/net
assert_eq "EPERM" "$OUT" "setns fails"

# --- 9. rlimits ---------------------------------------------------------------
hard=$(ulimit -H -n)
if [[ $hard != unlimited ]]; then
    assert_status 0 berth run --rm busybox sh -c "ulimit -H -n $((hard + 1000)) 2>/dev/null && echo raised || echo refused"
    assert_eq "refused" "$OUT" "the hard nofile limit cannot be raised"
    assert_status 125 berth run --rm --ulimit "nofile=1024:$((hard + 1000))" busybox true
    assert_error run "--ulimit above the current hard limit is refused"
fi

finish
