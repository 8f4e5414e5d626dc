#!/usr/bin/env bash
# The test command: installs what berth needs on a fresh Debian 12 machine,
# checks formatting, builds berth twice (normal and ASan+UBSan), runs the unit
# tests of both, installs the normal build into a temporary prefix and runs
# every integration test against both builds. Prints a summary and exits
# non-zero if anything failed. Run as root; asks nothing.
#
# Knobs for developers (CI sets none of them):
#   BERTH_TEST_SKIP_APT=1      do not run apt-get
#   BERTH_TEST_BUILDS="build"  which builds to make and test (default: "build build-asan")
#   BERTH_TEST_ONLY=PATTERN    run only integration tests whose name matches the glob
#   BERTH_TEST_TIMEOUT=SECONDS per integration test (default 900)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

jobs=2
builds=${BERTH_TEST_BUILDS:-build build-asan}
only=${BERTH_TEST_ONLY:-*}
per_test_timeout=${BERTH_TEST_TIMEOUT:-900}

packages=(
    build-essential cmake pkg-config        # toolchain
    libnl-3-dev libnl-route-3-dev libiptc-dev libnftnl-dev libmnl-dev libarchive-dev libcjson-dev libcmocka-dev
    libseccomp-dev libssl-dev               # libraries berth links
    libisal-dev zlib1g-dev libzstd-dev      # pull: a layer's diff_id as it streams in (ISA-L inflate, zlib, zstd)
    clang-format shellcheck                 # style checks below
    clang libclang-rt-14-dev                # scripts/fuzz.sh: libFuzzer targets
    busybox-static                          # the test image's only binary
    zstd python3                            # integration tests: .tar.zst layers, JSON, hostile tars
    iproute2 util-linux binutils procps     # ip, unshare/findmnt, nm, ps
    iptables nftables                       # test-network: look at and flush the rules
    btrfs-progs libcap2-bin                 # test-snapshot: mkfs.btrfs on a loop file, setcap
    libcurl4-openssl-dev docker-registry skopeo apache2-utils curl # pull/login: libcurl headers; test-registry-*: registry, pusher, htpasswd
    e2fsprogs                               # sdk/examples/loop: mke2fs
    ca-certificates
    cppcheck clang-tidy valgrind            # scripts/static-analysis.sh
    qemu-system-x86                         # tests/vm/cgroup-v2.sh: cgroup v2 in a VM
    podman crun                             # test-security-vs-podman: the defaults side by side
)

results=()
failed=0
record() { # record NAME STATUS
    if [[ $2 -eq 0 ]]; then
        results+=("PASS  $1")
    else
        results+=("FAIL  $1 (exit $2)")
        failed=$((failed + 1))
    fi
}
step() { printf '\n=== %s\n' "$*"; }

summary() {
    step "summary"
    local r
    for r in "${results[@]}"; do
        printf '%s\n' "$r"
    done
    if [[ $failed -eq 0 ]]; then
        printf '\nall %d checks passed\n' "${#results[@]}"
    else
        printf '\n%d of %d checks FAILED\n' "$failed" "${#results[@]}"
    fi
}

if [[ $(id -u) -ne 0 ]]; then
    echo "scripts/test.sh: must run as root (integration tests make namespaces and mounts)" >&2
    exit 1
fi

if [[ ${BERTH_TEST_SKIP_APT:-0} != 1 ]]; then
    step "installing packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${packages[@]}"
fi

# --- style -----------------------------------------------------------------
step "clang-format"
mapfile -t c_files < <(find core sdk storage-drivers network-drivers plugins tests \
    -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
if [[ ${#c_files[@]} -eq 0 ]]; then
    record "clang-format (no C files)" 0
else
    set +e
    clang-format --dry-run --Werror "${c_files[@]}"
    rc=$?
    set -e
    [[ $rc -ne 0 ]] && echo "fix with: clang-format -i \$(find core sdk storage-drivers network-drivers plugins tests -name '*.[ch]')"
    record "clang-format (${#c_files[@]} files)" "$rc"
fi

step "shellcheck"
mapfile -t sh_files < <(find scripts bench tests/integration tests/fixtures tests/vm -type f -name '*.sh' 2>/dev/null | sort)
sh_files+=(.ci/run)
set +e
shellcheck -x -P SCRIPTDIR "${sh_files[@]}"
rc=$?
set -e
record "shellcheck (${#sh_files[@]} files)" "$rc"

# --- builds and unit tests -------------------------------------------------
declare -A built=()
for b in $builds; do
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    [[ $b == build-asan ]] && flags+=(-DBERTH_SANITIZE=ON)
    step "configure and build $b"
    set +e
    cmake -S . -B "$b" "${flags[@]}" && cmake --build "$b" -j"$jobs"
    rc=$?
    set -e
    record "build $b" "$rc"
    [[ $rc -eq 0 ]] || continue
    built[$b]=1

    step "unit tests ($b)"
    set +e
    ctest --test-dir "$b" --output-on-failure -j"$jobs"
    rc=$?
    set -e
    record "ctest $b" "$rc"
done

# --- static analysis -------------------------------------------------------
# cppcheck, and valgrind over the unit tests of the normal build
# (docs/security.md, "Static analysis"). clang-tidy still has open findings
# (listed there): run it with BERTH_STATIC_STEPS=clang-tidy scripts/static-analysis.sh.
if [[ -n ${built[build]:-} ]]; then
    step "static analysis (cppcheck, valgrind)"
    set +e
    BERTH_STATIC_STEPS="cppcheck valgrind" scripts/static-analysis.sh build
    rc=$?
    set -e
    record "static analysis (cppcheck, valgrind)" "$rc"
fi

# --- install ---------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-test.XXXXXX")
cleanup() { rm -rf --one-file-system -- "$work"; }
trap cleanup EXIT
prefix="$work/prefix"
if [[ -n ${built[build]:-} ]]; then
    step "install into $prefix"
    set +e
    cmake --install build --prefix "$prefix"
    rc=$?
    set -e
    record "cmake --install" "$rc"
fi

# --- integration tests -----------------------------------------------------
# One busybox rootfs tarball for every test (each test still imports it into
# its own fresh --root).
export BERTH_TEST_CACHE="$work/cache"
mkdir -p "$BERTH_TEST_CACHE"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

# Each test gets the environment below; tests that take the plugin dir as
# their argument (test-plugin-symbols.sh) get it as $1 too.
mapfile -t itests < <(find tests/integration -maxdepth 1 -type f -name 'test-*.sh' | sort)
for b in $builds; do
    [[ -n ${built[$b]:-} ]] || continue
    for t in "${itests[@]}"; do
        name=$(basename "$t" .sh)
        # shellcheck disable=SC2053 # a glob on purpose
        [[ $name == $only ]] || continue
        step "integration $name ($b)"
        set +e
        BERTH="$top/$b/berth" \
            BERTH_PLUGIN_DIR="$top/$b/plugins" \
            BERTH_TEST_PLUGIN_DIR="$top/$b/plugins" \
            BERTH_BAD_PLUGIN_DIR="$top/$b/bad-plugins" \
            BERTH_PREFIX="$prefix" \
            BERTH_BUILD_DIR="$top/$b" \
            timeout --kill-after=30 "$per_test_timeout" bash "$t" "$top/$b/plugins"
        rc=$?
        set -e
        record "$name ($b)" "$rc"
    done
done

# --- cgroup v2 in a VM (tests/vm/cgroup-v2.sh; normal build only) ---------
# The build machines' cgroups are hybrid (v1): the v2 paths run in a VM.
# Exit 77 (no /dev/kvm) is reported as a skip, not a pass.
# shellcheck disable=SC2053 # a glob on purpose (BERTH_TEST_ONLY)
if [[ -n ${built[build]:-} && "cgroup-v2-vm" == $only ]]; then
    step "cgroup v2 in a VM (build)"
    set +e
    BERTH="$top/build/berth" BERTH_PLUGIN_DIR="$top/build/plugins" \
        timeout --kill-after=30 900 bash tests/vm/cgroup-v2.sh
    rc=$?
    set -e
    if [[ $rc -eq 77 ]]; then
        results+=("SKIP  cgroup v2 in a VM (no /dev/kvm)")
    else
        record "cgroup v2 in a VM (build)" "$rc"
    fi
fi

# --- fuzzing ---------------------------------------------------------------
# A short run of every libFuzzer target (docs/fuzzing.md); fails loudly when
# clang is missing.
step "fuzz (30 s each)"
set +e
scripts/fuzz.sh 30
rc=$?
set -e
record "fuzz (30 s each)" "$rc"

summary
[[ $failed -eq 0 ]]
