#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang into build-fuzz and runs
# each for SECONDS (default 600) from a copy of its seed corpus, so that
# tests/fuzz/corpus is never modified. Stops with a non-zero status at the
# first crash, leak, sanitizer report or timeout; the input that caused it is
# left in build-fuzz/crashes/ and the run's log in build-fuzz/fuzz-logs/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 30 fuzz-layer
#
# Environment: BERTH_FUZZ_JOBS (build parallelism, default: nproc),
# BERTH_FUZZ_NO_BUILD=1 (run what build-fuzz already holds).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
[[ $# -gt 0 ]] && shift
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -eq 0 ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi
build="$top/build-fuzz"
crashes="$build/crashes"
logs="$build/fuzz-logs"

if ! command -v clang >/dev/null 2>&1; then
    echo "scripts/fuzz.sh: clang not found: apt-get install clang libclang-rt-14-dev" >&2
    exit 1
fi

if [[ ${BERTH_FUZZ_NO_BUILD:-0} != 1 ]]; then
    CC=clang cmake -S "$top" -B "$build" -DBERTH_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        >/dev/null
    cmake --build "$build" --target fuzz-all -j"${BERTH_FUZZ_JOBS:-$(nproc)}"
fi

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(find "$build/fuzz" -maxdepth 1 -type f -name 'fuzz-*' -perm -u+x \
        -printf '%f\n' | sort)
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "scripts/fuzz.sh: no fuzz targets in $build/fuzz" >&2
    exit 1
fi
mkdir -p "$crashes" "$logs"

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-fuzz-corpus.XXXXXX")
trap 'rm -rf --one-file-system -- "$work"' EXIT

# Leaks are failures; UBSan stops at its first report (built with
# -fno-sanitize-recover too); a report names its stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

for t in "${targets[@]}"; do
    bin="$build/fuzz/$t"
    if [[ ! -x $bin ]]; then
        echo "scripts/fuzz.sh: no target '$t'" >&2
        exit 1
    fi
    corpus="$work/$t"
    mkdir -p "$corpus"
    if [[ -d $top/tests/fuzz/corpus/$t ]]; then
        cp -r "$top/tests/fuzz/corpus/$t/." "$corpus/"
    fi
    log="$logs/$t.log"
    printf '=== %s: %s s\n' "$t" "$seconds"
    set +e
    (cd "$work" && TMPDIR="$work" "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 \
        -print_final_stats=1 -artifact_prefix="$crashes/$t-" "$corpus") >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n1)
    printf '%s: %s runs, %s exec/s, %s (exit %d)\n' "$t" "${runs:-?}" "${rate:-?}" \
        "${cov:-no coverage line}" "$rc"
    if [[ $rc -ne 0 ]]; then
        echo "--- $t FAILED; the last lines of $log:" >&2
        tail -n 60 "$log" >&2
        echo "--- reproduce with: $bin $crashes/$t-<file>" >&2
        exit "$rc"
    fi
done
echo "all ${#targets[@]} fuzz targets ran ${seconds} s each without a finding"
