#!/usr/bin/env bash
# 20 runs at once, twice: all succeed, ids and names distinct, no record
# lost or half written; a name taken twice is refused.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox
N=20

# run_many PREFIX ARGS… : starts N `berth run ARGS…` at once, one gets
# --name PREFIXk when PREFIX is set; fills STATUSES.
run_many() {
    local prefix=$1 k
    shift
    local pids=()
    for ((k = 1; k <= N; k++)); do
        if [[ -n $prefix ]]; then
            berth run --name "$prefix$k" "$@" >"$T/out.$k" 2>"$T/err.$k" </dev/null &
        else
            berth run "$@" >"$T/out.$k" 2>"$T/err.$k" </dev/null &
        fi
        pids+=($!)
    done
    STATUSES=()
    for ((k = 1; k <= N; k++)); do
        set +e
        wait "${pids[$((k - 1))]}"
        STATUSES+=($?)
        set -e
    done
}

check_all_ok() {
    local what=$1 k bad=0
    for ((k = 1; k <= N; k++)); do
        if [[ ${STATUSES[$((k - 1))]} -ne 0 ]]; then
            bad=$((bad + 1))
            note "$what #$k: exit ${STATUSES[$((k - 1))]}: $(head -c 300 "$T/err.$k")"
        fi
    done
    assert_eq 0 "$bad" "$what: all $N succeeded"
}

run_many "" --rm busybox true
check_all_ok "$N concurrent run --rm"
assert_status 0 berth ps -a -q
assert_eq "" "$OUT" "no record left by the --rm runs"

run_many c busybox sh -c 'echo "$HOSTNAME"'
check_all_ok "$N concurrent run --name cN"

assert_status 0 berth ps -a -q
ids=$OUT
assert_eq "$N" "$(grep -c . <<<"$ids" || true)" "ps -a -q lists $N containers"
assert_eq "$N" "$(sort -u <<<"$ids" | grep -c . || true)" "$N distinct ids"

assert_status 0 berth ps -a --format json
json=$OUT
if python3 -m json.tool >/dev/null <<<"$json"; then
    ok "ps -a --format json parses"
else
    fail "ps -a --format json is not JSON"
    note "$json"
fi
names=$(json_eval '"\n".join(sorted(
    (lambda n: n if isinstance(n, str) else ",".join(n))(
        c.get("name", c.get("Name", c.get("names", c.get("Names", "")))))
    for c in (d if isinstance(d, list) else d.get("containers", []))))' <<<"$json" || true)
want=$(for ((k = 1; k <= N; k++)); do echo "c$k"; done | LC_ALL=C sort)
assert_eq "$want" "$names" "ps json names are c1…c$N"
jids=$(json_eval '"\n".join(sorted(c.get("id", c.get("Id", c.get("ID", "")))
    for c in (d if isinstance(d, list) else d.get("containers", []))))' <<<"$json" || true)
assert_eq "$N" "$(sort -u <<<"$jids" | grep -c . || true)" "ps json has $N distinct ids"

# Every record is whole: inspect of each name gives valid JSON with its name.
bad=0
for ((k = 1; k <= N; k++)); do
    capture berth inspect "c$k"
    if [[ $RC -ne 0 ]] || ! json_eval 'len(d)' >/dev/null <<<"$OUT" ||
        [[ $OUT != *"c$k"* ]]; then
        bad=$((bad + 1))
        note "inspect c$k: exit $RC: $ERR"
    fi
done
assert_eq 0 "$bad" "inspect of each of the $N containers gives a whole record"

# A name taken twice is refused, by run and by create, and changes nothing.
assert_status 125 berth run --name c1 busybox true
assert_error run "name already taken"
assert_contains "$ERR" "c1" "the error names the taken name"
assert_status 125 berth create --name c2 busybox true
assert_error create "name already taken"
assert_status 0 berth ps -a -q
assert_eq "$ids" "$OUT" "the refused names changed nothing"

# Two runs racing for one name: exactly one wins.
berth run --name race busybox true >/dev/null 2>"$T/race1" </dev/null &
p1=$!
berth run --name race busybox true >/dev/null 2>"$T/race2" </dev/null &
p2=$!
set +e
wait "$p1"
r1=$?
wait "$p2"
r2=$?
set -e
if [[ ($r1 -eq 0 && $r2 -eq 125) || ($r1 -eq 125 && $r2 -eq 0) ]]; then
    ok "two runs racing for one name: one wins, the other gets 125"
else
    fail "racing for one name: exits $r1 and $r2"
fi

mapfile -t all < <(for ((k = 1; k <= N; k++)); do echo "c$k"; done)
assert_status 0 berth rm "${all[@]}" race
assert_status 0 berth ps -a -q
assert_eq "" "$OUT" "rm of all leaves the store empty"

# 20 concurrent rm of 20 created containers.
for ((k = 1; k <= N; k++)); do berth create --name "d$k" busybox true >/dev/null; done
pids=()
for ((k = 1; k <= N; k++)); do
    berth rm "d$k" >/dev/null 2>"$T/rm.$k" &
    pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
assert_eq 0 "$bad" "$N concurrent rm succeed"

finish
