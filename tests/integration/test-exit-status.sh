#!/usr/bin/env bash
# Exit statuses as docker gives them: the container's own, 125 for berth's
# errors (one line "berth: VERB: WHAT: WHY"), 126 cannot run, 127 not found.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

assert_status 0 berth run --rm busybox true
assert_status 3 berth run --rm busybox sh -c 'exit 3'
assert_status 255 berth run --rm busybox sh -c 'exit 255'
assert_status 1 berth run --rm busybox false

assert_status 127 berth run --rm busybox nonexistent
assert_contains "$ERR" "nonexistent" "127: stderr names the missing command"
assert_status 127 berth run --rm busybox /no/such/path
assert_status 126 berth run --rm busybox /etc/passwd
assert_contains "$ERR" "/etc/passwd" "126: stderr names the command"
assert_status 126 berth run --rm busybox /tmp

assert_status 125 berth run --rm nosuchimage true
assert_error run "unknown image"
assert_contains "$ERR" "nosuchimage" "unknown image: stderr names it"

assert_status 125 berth run --rm --storage-driver nosuchdriver busybox true
assert_error run "unknown storage driver"
assert_contains "$ERR" "nosuchdriver" "unknown driver: stderr names it"

assert_status 125 berth run --rm --network nosuchnet busybox true
assert_error run "unknown network"

assert_status 125 berth run --no-such-flag busybox true
assert_error run "unknown flag"

assert_status 125 berth run
assert_error run "no image"

capture berth run --rm -u notauser busybox true
if [[ $RC -eq 125 || $RC -eq 126 ]]; then
    ok "unknown user refused (exit $RC)"
    assert_contains "$ERR" "notauser" "unknown user: stderr names it"
else
    fail "unknown user: exit $RC"
fi

assert_status 125 berth frobnicate
if [[ $ERR == "berth: "* && $(printf '%s' "$ERR" | grep -c '') -eq 1 ]]; then
    ok "unknown verb: one line 'berth: …'"
else
    fail "unknown verb: stderr '$ERR'"
fi

assert_status 125 berth --root
assert_status 125 berth rm nosuchcontainer
assert_error rm "rm of an unknown container"
assert_status 125 berth start -a nosuchcontainer
assert_error start "start of an unknown container"
assert_status 125 berth inspect nosuchcontainer
assert_error inspect "inspect of an unknown container"
assert_status 125 berth image rm nosuchimage
assert_error image "image rm of an unknown image"

# Nothing of the failures above stayed behind.
assert_status 0 berth ps -a -q
assert_eq "" "$OUT" "no container left by the failures"

# --help on every verb: exit 0, usage on stdout, nothing on stderr.
for verb in run create start ps inspect rm image plugin system \
    "image import" "image load" "image ls" "image inspect" "image rm" \
    "plugin ls" "system gc" \
    "image save" "image tag" "image history" "image prune" load save tag history push \
    cp diff export container "container prune" "container ls" "system prune"; do
    read -r -a words <<<"$verb"
    assert_status 0 berth "${words[@]}" --help
    if [[ -n $OUT && -z $ERR ]]; then
        ok "help of '$verb' on stdout only"
    else
        fail "help of '$verb': stdout ${#OUT} bytes, stderr '$ERR'"
    fi
    assert_contains "${OUT,,}" "usage" "help of '$verb' says usage"
done
assert_status 0 berth --help
assert_contains "$OUT" "run" "berth --help lists the verbs"

finish
