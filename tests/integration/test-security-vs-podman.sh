#!/usr/bin/env bash
# berth's defaults against podman's, side by side (docs/security.md): the
# same static probe (tests/fixtures/defaults-probe.c) runs as the command of
# `berth run` and of `podman run` (Debian's podman with crun, its own
# defaults), both from the same busybox+probe rootfs, and the two outputs are
# compared property by property. The test fails where berth is looser (a
# capability podman does not give, a syscall podman's seccomp denies and
# berth's lets through, a path podman makes read-only or masks, a device node
# podman does not make, a mount flag podman sets, a higher rlimit); where
# berth is tighter it prints a note.
#
# podman runs inside the test's private namespaces, as bench/network.sh runs
# it: its own --root/--runroot under $T, a containers.conf of the test's
# (Debian's, with cgroupfs, no events and temporary directories under $T),
# tmpfs over what it writes outside its root (/var/lib/containers, /run,
# /dev/shm, where its lock lives), /sys/fs/cgroup/unified hidden under an
# empty tmpfs (crun 1.8 refuses the hybrid layout, MACHINE.md), its cgroups
# under a parent named after the test's cgroup, the --ulimit values
# MACHINE.md gives (so nofile and nproc are only noted). Both run with
# --network none.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v podman >/dev/null || die "podman is not installed (scripts/test.sh installs it)"
command -v crun >/dev/null || die "crun is not installed (scripts/test.sh installs it)"

# --- the image: busybox + the probe ----------------------------------------------
d=$T/image
make_busybox_rootfs "$d/rootfs"
gcc -static -O2 -o "$d/rootfs/bin/defaults-probe" "$BERTH_TEST_TOP/tests/fixtures/defaults-probe.c"
tar --numeric-owner -C "$d/rootfs" -cf "$T/probe.tar" .
rm -rf -- "$d"
assert_status 0 berth image import "$T/probe.tar" probe

# compare BERTH_OUT PODMAN_OUT : one line per finding, "LOOSER|TIGHTER|DIFF|
# MISSING KIND NAME: what", then "COMPARED KIND N" per kind. The rules:
#   status  capability sets: a bit berth gives and podman does not is looser;
#           NoNewPrivs and Seccomp lower than podman's are looser
#   sys     "reached" (OK or an errno the call itself returns) where podman's
#           is EPERM/EACCES/ENOSYS/EROFS/a signal is looser, as is OK where
#           podman's call failed in any other way
#   write   OK where podman's open fails is looser
#   fs      rw where podman's is not is looser
#   mask    readable/listed > an errno > null/empty/absent: higher is looser
#   dev     a device number podman does not give is looser
#   rlimit  a higher soft or hard limit is looser (nofile, nproc: podman
#           runs with MACHINE.md's --ulimit values, only noted)
#   mount   ro/nosuid/nodev/noexec that podman sets on the same mount point
#           and berth does not is looser; mounts of one side only are noted
compare() {
    python3 - "$1" "$2" <<'PY'
import sys

def load(path):
    out = {}
    for line in open(path):
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) == 3:
            out[(parts[0], parts[1])] = parts[2]
    return out

b, p = load(sys.argv[1]), load(sys.argv[2])
counts = {}

def say(tag, kind, name, what):
    print(f"{tag} {kind} {name}: {what}")

CAPS = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
        "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
        "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
        "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
        "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
        "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]

def capnames(mask):
    return ",".join(CAPS[i] if i < len(CAPS) else str(i) for i in range(64) if mask >> i & 1)

BLOCKED = {"EPERM", "EACCES", "ENOSYS", "EROFS"}
def reached(v):
    return v not in BLOCKED and not v.startswith("SIG")

MASK_RANK = {"readable": 2, "listed": 2, "null": 0, "empty": 0, "absent": 0}
FLAGS = ("ro", "nosuid", "nodev", "noexec")

def limit(v):
    return [float("inf") if x == "inf" else int(x) for x in v.split(":")]

keys = sorted(set(b) | set(p))
for kind, name in keys:
    bv, pv = b.get((kind, name)), p.get((kind, name))
    if kind in ("dev", "mount"):
        continue
    counts[kind] = counts.get(kind, 0) + 1
    if bv is None or pv is None:
        say("MISSING", kind, name, f"berth={bv} podman={pv}")
        continue
    if bv == pv:
        continue
    both = f"berth {bv}, podman {pv}"
    if kind == "status":
        if name.startswith("Cap"):
            bm, pm = int(bv, 16), int(pv, 16)
            if bm & ~pm:
                say("LOOSER", kind, name, f"berth also gives {capnames(bm & ~pm)}")
            if pm & ~bm:
                say("TIGHTER", kind, name, f"berth leaves out {capnames(pm & ~bm)}")
        elif name in ("NoNewPrivs", "Seccomp"):
            say("LOOSER" if int(bv) < int(pv) else "TIGHTER", kind, name, both)
        else:
            say("DIFF", kind, name, both)
    elif kind == "sys":
        if reached(bv) and not reached(pv):
            say("LOOSER", kind, name, f"{both} (podman's filter or capabilities stop it)")
        elif reached(pv) and not reached(bv):
            say("TIGHTER", kind, name, both)
        elif bv == "OK":
            say("LOOSER", kind, name, f"{both} (succeeds under berth only)")
        elif pv == "OK":
            say("TIGHTER", kind, name, both)
        else:
            say("DIFF", kind, name, both)
    elif kind == "write":
        if bv == "OK":
            say("LOOSER", kind, name, f"{both} (writable under berth only)")
        elif pv == "OK":
            say("TIGHTER", kind, name, both)
        else:
            say("DIFF", kind, name, both)
    elif kind == "fs":
        if bv == "rw":
            say("LOOSER", kind, name, f"{both} (read-write under berth only)")
        elif pv == "rw":
            say("TIGHTER", kind, name, both)
        else:
            say("DIFF", kind, name, both)
    elif kind == "mask":
        br, pr = MASK_RANK.get(bv, 1), MASK_RANK.get(pv, 1)
        if br > pr:
            say("LOOSER", kind, name, f"{both} (podman hides or denies it)")
        elif br < pr:
            say("TIGHTER", kind, name, both)
        else:
            say("DIFF", kind, name, both)
    elif kind == "rlimit":
        if name in ("nofile", "nproc"):
            say("DIFF", kind, name, f"{both} (podman's set by --ulimit here, MACHINE.md)")
            continue
        bl, pl = limit(bv), limit(pv)
        if bl[0] > pl[0] or bl[1] > pl[1]:
            say("LOOSER", kind, name, both)
        else:
            say("TIGHTER", kind, name, both)
    else:
        say("DIFF", kind, name, both)

# Device nodes: by number; a path of its own is only noted.
bdev = {v: n for (k, n), v in b.items() if k == "dev"}
pdev = {v: n for (k, n), v in p.items() if k == "dev"}
counts["dev"] = len(set(bdev) | set(pdev))
for num in sorted(set(bdev) | set(pdev)):
    if num not in pdev:
        say("LOOSER", "dev", bdev[num], f"{num}: a device podman does not give")
    elif num not in bdev:
        say("TIGHTER", "dev", pdev[num], f"{num}: berth gives no such device")
    elif bdev[num] != pdev[num]:
        say("DIFF", "dev", bdev[num], f"{num} is {pdev[num]} under podman")

# Mount points.
bm = {n: v for (k, n), v in b.items() if k == "mount"}
pm = {n: v for (k, n), v in p.items() if k == "mount"}
counts["mount"] = len(set(bm) | set(pm))
for path in sorted(set(bm) | set(pm)):
    if path not in pm:
        say("DIFF", "mount", path, f"berth only ({bm[path]})")
        continue
    if path not in bm:
        say("DIFF", "mount", path, f"podman only ({pm[path]})")
        continue
    bt, bf = bm[path].split(":", 1)
    pt, pf = pm[path].split(":", 1)
    bf, pf = set(bf.split(",")), set(pf.split(","))
    lacks = [f for f in FLAGS if f in pf and f not in bf]
    extra = [f for f in FLAGS if f in bf and f not in pf]
    if lacks:
        say("LOOSER", "mount", path, f"berth {bm[path]}, podman {pm[path]}: no {','.join(lacks)}")
    elif extra:
        say("TIGHTER", "mount", path, f"berth {bm[path]}, podman {pm[path]}")
    elif bt != pt:
        say("DIFF", "mount", path, f"berth {bm[path]}, podman {pm[path]}")
for kind in ("status", "sys", "write", "fs", "mask", "dev", "rlimit", "mount"):
    print(f"COMPARED {kind} {counts.get(kind, 0)}")
PY
}

# A socket of a family the kernel has as a module would load it into the
# host's kernel wherever the call is allowed: with module support, the probe
# leaves those families out (on both sides).
PROBE=(/bin/defaults-probe)
if [[ -e /proc/modules ]]; then
    PROBE+=(--no-module-sockets)
    note "the kernel loads modules: socket families that may be modules are not probed"
fi

# probe_in_berth OUTFILE [RUN-OPTIONS…] : the probe as a container's command.
probe_in_berth() {
    local out=$1
    shift
    capture berth run --rm --network none "$@" probe "${PROBE[@]}"
    if [[ $RC -ne 0 ]]; then
        _show
        die "berth run $* of the probe: exit $RC"
    fi
    printf '%s\n' "$OUT" >"$out"
}

# --- berth: the defaults, and one loosened run (the comparison can fail) -------------
probe_in_berth "$T/berth.out"
ok "berth ran the probe ($(grep -c '' "$T/berth.out") lines)"
probe_in_berth "$T/berth-loose.out" --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
    --device /dev/kmsg

# --- podman -------------------------------------------------------------------------
# What podman writes outside its --root/--runroot goes to tmpfs in this mount
# namespace (MACHINE.md): gone with it.
mount -t tmpfs tmpfs /run
mkdir -p /run/containers
mount -t tmpfs tmpfs /dev/shm
if [[ -d /var/lib/containers ]]; then
    mount -t tmpfs tmpfs /var/lib/containers
else
    mount -t tmpfs tmpfs /var/lib
    mkdir -p /var/lib/containers
fi
mkdir -p /var/lib/containers/cache
# crun 1.8 refuses the hybrid layout (MACHINE.md): an empty tmpfs over the
# v2 hierarchy here (not an umount, which would let crun make directories in
# the tmpfs of /sys/fs/cgroup below it, a file system the host shares).
if mountpoint -q /sys/fs/cgroup/unified; then
    mount -t tmpfs tmpfs /sys/fs/cgroup/unified
fi
PW=$T/podman
mkdir -p "$PW/tmp" "$PW/libpod-tmp"
engine_conf="cgroup_manager = \"cgroupfs\"
events_logger = \"none\"
tmp_dir = \"$PW/libpod-tmp\"
image_copy_tmp_dir = \"$PW/tmp\""
# Debian's containers.conf (CONTAINERS_CONF replaces it) with the test's [engine].
if [[ -f /usr/share/containers/containers.conf ]] &&
    grep -q '^\[engine\]$' /usr/share/containers/containers.conf; then
    awk -v add="$engine_conf" '{ print } $0 == "[engine]" { print add }' \
        /usr/share/containers/containers.conf >"$PW/containers.conf"
else
    printf '[engine]\n%s\n' "$engine_conf" >"$PW/containers.conf"
fi
export CONTAINERS_CONF=$PW/containers.conf
podman_() {
    TMPDIR=$PW/tmp podman --root "$PW/root" --runroot "$PW/run" --cgroup-manager cgroupfs "$@"
}
capture podman_ import "$T/probe.tar" localhost/probe
[[ $RC -eq 0 ]] || {
    _show
    die "podman import: exit $RC"
}
# Its cgroups: under /$CG_NAME/podman in every hierarchy (lib.sh removes
# /sys/fs/cgroup/*/$CG_NAME if the test dies; checked and removed below).
capture podman_ run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=32768:32768 \
    --cgroup-parent "/$CG_NAME/podman" localhost/probe "${PROBE[@]}"
[[ $RC -eq 0 ]] || {
    _show
    die "podman run of the probe: exit $RC"
}
printf '%s\n' "$OUT" >"$T/podman.out"
runtime=$(podman_ info --format '{{.Host.OCIRuntime.Version}}' | awk 'NR == 1')
ok "podman $(podman --version | awk '{print $3}') ($runtime) ran the probe ($(grep -c '' "$T/podman.out") lines)"

# --- the comparison -------------------------------------------------------------------
# report FINDINGS : a failure per LOOSER or MISSING, a note per TIGHTER or DIFF.
report() {
    local tag rest
    while read -r tag rest; do
        case $tag in
        LOOSER) fail "berth looser than podman: $rest" ;;
        MISSING) fail "a property one probe did not print: $rest" ;;
        TIGHTER) note "berth tighter: $rest" ;;
        DIFF) note "differs: $rest" ;;
        COMPARED) ok "compared ${rest% *}: ${rest##* } properties" ;;
        esac
    done <<<"$1"
}
findings=$(compare "$T/berth.out" "$T/podman.out")
report "$findings"

# The loosened run must be caught: the comparison can fail.
loose=$(compare "$T/berth-loose.out" "$T/podman.out")
for want in "LOOSER status CapEff: berth also gives SYS_ADMIN" "LOOSER sys add_key:" \
    "LOOSER sys io_uring_setup:" "LOOSER dev /dev/kmsg:"; do
    assert_contains "$loose" "$want" "with --cap-add SYS_ADMIN, seccomp=unconfined, --device: '$want'"
done

# --- podman left nothing --------------------------------------------------------------
# Its container is gone (run --rm), so are its conmon (finish: no process)
# and its container's cgroups; the parents it made below /$CG_NAME are
# removed here. Its files are under $T and on the tmpfs of this namespace.
capture podman_ ps -a -q
assert_eq "" "$OUT" "podman: no container left"
capture podman_ rmi -a -f
assert_eq 0 "$RC" "podman: image removed"
# podman's cgroups in each hierarchy: the container's (libpod-ID) went
# with it; conmon's (conmon) stays, empty, as podman leaves it.
hierarchies=$(findmnt -n -t cgroup -o TARGET)
# Pure v2 (lib.sh's CG_MODE): the one hierarchy. (On a hybrid machine the
# v2 one is hidden under the test's tmpfs: what crun makes there goes with
# the namespace.)
[[ $CG_MODE == v2 ]] && hierarchies=/sys/fs/cgroup
procs='' libpod='' left=''
for h in $hierarchies; do
    [[ -d $h/$CG_NAME/podman ]] || continue
    procs+=$(find "$h/$CG_NAME/podman" -name cgroup.procs -exec cat {} +)
    libpod+=$(find "$h/$CG_NAME/podman" -mindepth 1 -type d -name 'libpod-*')
    find "$h/$CG_NAME/podman" -depth -type d -exec rmdir {} + || left+="$h/$CG_NAME/podman "
    # Where the test's own cgroup is elsewhere (memory, name=systemd here),
    # /$CG_NAME is podman's too.
    is_test_cg=0
    for t in "${CG_DIR[@]}"; do [[ $t == "$h/$CG_NAME" ]] && is_test_cg=1; done
    [[ $is_test_cg -eq 1 ]] || rmdir "$h/$CG_NAME" || left+="$h/$CG_NAME "
done
assert_eq "" "$procs" "podman: no process left in its cgroups"
assert_eq "" "$libpod" "podman: its container's cgroups removed"
assert_eq "" "$left" "podman: the parents it made (/$CG_NAME/podman, conmon's) removed"

finish
