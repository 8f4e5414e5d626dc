#!/usr/bin/env bash
# cgroup v2 in a VM (docs/cgroups.md, "Testing cgroup v2"): boots Debian's
# kernel under qemu/KVM with cgroup_no_v1=all, so every controller is on the
# unified hierarchy, and runs tests/vm/cgroup-v2-checks.sh there against a
# given berth build. The build machines are hybrid (v1 controllers), so this
# is the only place berth's v2 write and read paths run.
#
# Nothing is installed on the host: the kernel package is downloaded
# (apt-get download) and unpacked (dpkg-deb -x) into a cache directory; the
# initramfs is built in a temporary directory. The VM has no network device.
#
# Environment:
#   BERTH            the berth binary (default: build/berth); its plugins are
#                    BERTH_PLUGIN_DIR (default: the binary's dir + /plugins),
#                    berth-init is taken from beside it when present
#   BERTH_VM_CACHE   where the kernel package is kept between runs (default:
#                    $BERTH_TEST_CACHE/vm, else a temporary directory)
#   BERTH_VM_TIMEOUT seconds the VM may run under KVM (default 240)
#   BERTH_VM_TCG_TIMEOUT  … emulated (default 720)
#   BERTH_VM_KEEP=1  keep the work directory (its path is printed)
#   BERTH_VM_ACCEL   auto (default: KVM, emulation when the kernel does not boot
#                    under KVM within 60 s), kvm or tcg
#
# Exit status: 0 every check passed; 77 skipped (no /dev/kvm: the reason is
# printed); 1 otherwise (no boot, a failed check, no summary line).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/vm"

die() {
    echo "cgroup-v2.sh: $*" >&2
    exit 1
}

if [[ ! -c /dev/kvm || ! -w /dev/kvm ]]; then
    echo "cgroup-v2.sh: SKIP: /dev/kvm is missing or not writable: cannot run the cgroup v2 VM"
    exit 77
fi
[[ $(id -u) -eq 0 ]] || die "run as root (apt-get download, dpkg-deb)"
for tool in qemu-system-x86_64 busybox apt-get apt-cache dpkg-deb gzip ldd; do
    command -v "$tool" >/dev/null || die "'$tool' is missing (scripts/test.sh installs qemu-system-x86, busybox-static)"
done

berth=$(readlink -f "${BERTH:-$top/build/berth}")
[[ -x $berth ]] || die "no berth binary at '$berth' (set BERTH)"
plugins=${BERTH_PLUGIN_DIR:-$(dirname "$berth")/plugins}
[[ -d $plugins ]] || die "no plugin directory at '$plugins' (set BERTH_PLUGIN_DIR)"
timeout_s=${BERTH_VM_TIMEOUT:-240}
tcg_timeout_s=${BERTH_VM_TCG_TIMEOUT:-720}

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm.XXXXXX")
cleanup() {
    if [[ ${BERTH_VM_KEEP:-0} == 1 ]]; then
        echo "cgroup-v2.sh: kept $work"
    else
        rm -rf --one-file-system -- "$work"
    fi
}
trap cleanup EXIT
cache=${BERTH_VM_CACHE:-${BERTH_TEST_CACHE:+$BERTH_TEST_CACHE/vm}}
cache=${cache:-$work/cache}
mkdir -p "$cache"

# --- the kernel: Debian's, unpacked into the cache, never installed ----------
# (No early exit in the readers of a pipe below: with pipefail, the writer's
# SIGPIPE would fail the script, as it once did in CI with status 141.)
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '!found && $1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; found = 1 }')
[[ -n $pkg ]] || die "apt-cache depends linux-image-amd64 names no versioned kernel package"
kdir="$cache/$pkg"
if [[ ! -e $kdir/.done ]]; then
    rm -rf -- "$kdir"
    mkdir -p "$kdir"
    (cd "$kdir" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
        die "apt-get download $pkg failed"
    dpkg-deb -x "$kdir"/"$pkg"_*.deb "$kdir/x"
    rm -f -- "$kdir"/"$pkg"_*.deb
    touch "$kdir/.done"
fi
kver=${pkg#linux-image-}
vmlinuz="$kdir/x/boot/vmlinuz-$kver"
moddir="$kdir/x/lib/modules/$kver"
[[ -f $vmlinuz && -d $moddir ]] || die "no kernel or modules in '$kdir/x'"

# --- the initramfs ---------------------------------------------------------
root="$work/initramfs"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,newroot,lib/modules,berth/plugins,lib64}

# busybox as /bin/sh and every tool (symlinks made in /init: busybox --install)
cp -- "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# berth, berth-init, the plugins, and every library they load: ldd's list,
# plus what berth dlopens itself (libarchive for image import, libcrypto).
cp -- "$berth" "$root/berth/berth"
[[ -x $(dirname "$berth")/berth-init ]] && cp -- "$(dirname "$berth")/berth-init" "$root/berth/"
for so in "$plugins"/*.so; do
    [[ $(basename "$so") == test-* ]] && continue # fault-injection fixtures
    cp -- "$so" "$root/berth/plugins/"
done
copy_lib() { # copy_lib PATH : to the same path in the initramfs
    local p=$1
    [[ -e $root$p ]] && return 0
    mkdir -p "$root$(dirname "$p")"
    cp -L -- "$p" "$root$p"
}
libs_of() { # libs_of FILE… : absolute paths ldd prints (loader included)
    ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' |
        sort -u
}
objs=("$root/berth/berth" "$root/berth/plugins"/*.so)
for name in libarchive.so.13 libcrypto.so.3; do
    p=$(ldconfig -p | awk -v n="$name" '!found && $1 == n && /x86-64/ { print $NF; found = 1 }')
    [[ -n $p ]] && objs+=("$p") && copy_lib "$p"
done
while read -r lib; do copy_lib "$lib"; done < <(libs_of "${objs[@]}")
# The libraries' own dependencies (ldd lists them already; once more is cheap).
mapfile -t copied < <(find "$root/lib" "$root/lib64" "$root/usr" -name '*.so*' 2>/dev/null)
while read -r lib; do copy_lib "$lib"; done < <(libs_of "${copied[@]}")

# The kernel modules for overlay (and what they depend on: the depends= field
# of each .ko's .modinfo, which is what depmod writes into modules.dep).
find_module() { # find_module NAME → path (- and _ are the same in names)
    local pat=${1//[-_]/[-_]}
    find "$moddir/kernel" -name "$pat.ko" -print -quit
}
modules=()
add_module() { # add_module NAME : its dependencies first
    local name=$1 path deps d m
    for m in "${modules[@]}"; do [[ $(basename "$m" .ko) == "$name" ]] && return 0; done
    path=$(find_module "$name")
    [[ -n $path ]] || die "kernel module '$name' not found in $moddir"
    deps=$(tr '\0' '\n' <"$path" | sed -n 's/^depends=//p' | sed -n 1p)
    for d in ${deps//,/ }; do add_module "$d"; done
    modules+=("$path")
}
add_module overlay
: >"$root/etc/modules.list"
for m in "${modules[@]}"; do
    cp -- "$m" "$root/lib/modules/"
    echo "/lib/modules/$(basename "$m")" >>"$root/etc/modules.list"
done

# The test image: a busybox rootfs tarball (imported inside the VM).
img="$work/image"
mkdir -p "$img"/{bin,etc,proc,sys,dev,tmp,root}
chmod 1777 "$img/tmp"
cp -- "$(command -v busybox)" "$img/bin/busybox"
for a in $(busybox --list); do [[ $a == busybox ]] || ln -s busybox "$img/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$img/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$img/etc/group"
tar --numeric-owner -C "$img" -cf "$root/berth/busybox-rootfs.tar" .

install -m 0755 "$here/init.sh" "$root/init"
install -m 0755 "$here/cgroup-v2-checks.sh" "$root/berth/checks.sh"

initrd="$work/initrd.gz"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$initrd"

# --- boot ------------------------------------------------------------------
# boot ACCEL BOOT_DEADLINE : runs the VM; returns 3 when the init's first line
# did not come within BOOT_DEADLINE seconds (the VM is then stopped).
log="$work/console.log"
boot() {
    local accel=$1 deadline=$2 cpu qpid waited=0 limit=$timeout_s
    cpu=host,-arch-capabilities # the MSR is refused under nested KVM
    [[ $accel == tcg ]] && cpu=max limit=$tcg_timeout_s
    : >"$log"
    timeout --kill-after=10 "$limit" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" \
        -m 1024 -smp 2 -nographic -no-reboot -nic none \
        -kernel "$vmlinuz" -initrd "$initrd" \
        -append "console=ttyS0 cgroup_no_v1=all quiet panic=-1 rdinit=/init" \
        </dev/null >"$log" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        grep -q '^# vm: kernel' "$log" && break
        if [[ $waited -ge $deadline ]]; then
            kill "$qpid" 2>/dev/null
            wait "$qpid" 2>/dev/null
            return 3
        fi
        sleep 1
        waited=$((waited + 1))
    done
    wait "$qpid"
}
accel=${BERTH_VM_ACCEL:-auto}
echo "cgroup-v2.sh: booting $pkg with $(du -h "$initrd" | cut -f1) of initramfs (timeout ${timeout_s}s)"
set +e
if [[ $accel == auto ]]; then
    boot kvm 60
    qrc=$?
    if [[ $qrc -eq 3 ]]; then
        # Seen on the build machines: under nested virtualisation the kernel
        # hangs before its first message with KVM. Emulation is slower but
        # runs the same kernel and checks.
        echo "cgroup-v2.sh: the kernel did not boot under KVM within 60 s (nested virtualisation?): running it emulated (TCG)"
        boot tcg "$tcg_timeout_s"
        qrc=$?
    fi
else
    [[ $accel == tcg ]] && timeout_s=$tcg_timeout_s
    boot "$accel" "$timeout_s"
    qrc=$?
fi
set -e
tr -d '\r' <"$log" >"$log.txt"

# TAP lines and notes from the checks ("ok", "not ok", "# …"), in order.
grep -E '^(ok|not ok|1\.\.|# )' "$log.txt" || true
summary=$(grep -E '^# cgroup-v2 summary: ' "$log.txt" | tail -n1 || true)
if [[ -z $summary ]]; then
    echo "cgroup-v2.sh: FAIL: no summary line from the VM (qemu exit $qrc); the console said:" >&2
    tail -n 40 "$log.txt" >&2
    exit 1
fi
if grep -q '^not ok' "$log.txt" || [[ $summary != *" 0 failed"* ]]; then
    echo "cgroup-v2.sh: FAIL: $summary" >&2
    exit 1
fi
echo "cgroup-v2.sh: PASS: ${summary#\# cgroup-v2 summary: }"
