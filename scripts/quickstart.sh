#!/usr/bin/env bash
# From a fresh Debian 12 machine to a running container, as root:
# installs the packages berth needs, builds berth (Release), installs it
# under /usr/local (PREFIX=… to change), makes a `busybox` image from
# Debian's static busybox and runs `berth run --rm busybox echo hello from berth`.
# Running it again is fine: the build is incremental and an existing
# busybox image is kept.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
prefix=${PREFIX:-/usr/local}

if [[ $(id -u) -ne 0 ]]; then
    echo "quickstart.sh: run as root (berth makes namespaces and mounts)" >&2
    exit 1
fi

echo "==> installing packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config \
    libnl-3-dev libnl-route-3-dev libiptc-dev libnftnl-dev libmnl-dev libarchive-dev libcjson-dev libseccomp-dev \
    libssl-dev libcurl4-openssl-dev libisal-dev zlib1g-dev libzstd-dev busybox-static

echo "==> building"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX="$prefix"
cmake --build build-release -j"$(nproc)"

echo "==> installing into $prefix"
cmake --install build-release
berth="$prefix/bin/berth"
# The default plugin dir is compiled in for this prefix; nothing else to set.

if "$berth" image inspect busybox >/dev/null 2>&1; then
    echo "==> image busybox already present"
else
    echo "==> making the busybox image"
    work=$(mktemp -d)
    trap 'rm -rf -- "$work"' EXIT
    rootfs="$work/rootfs"
    mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run}
    chmod 1777 "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    while read -r applet; do
        [[ -z $applet || $applet == bin/busybox ]] && continue
        ln -sfn /bin/busybox "$rootfs/$applet"
    done < <("$rootfs/bin/busybox" --list-full)
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
        >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    tar --numeric-owner -C "$rootfs" -cf "$work/busybox.tar" .
    "$berth" image import "$work/busybox.tar" busybox
fi

echo "==> berth run --rm busybox echo hello from berth"
"$berth" run --rm busybox echo hello from berth
