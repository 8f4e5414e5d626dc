#!/usr/bin/env bash
# berth container COMMAND (the verbs under docker's management name),
# labels and ps --filter, container prune and system prune: what is not
# running or not used goes, what runs or is used stays; the confirmation;
# bad input is one line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

# A second image, and a third that replaces it under the same name: dangling.
mkdir -p "$T/tiny"
echo 1 >"$T/tiny/f"
tar -C "$T/tiny" -cf "$T/tiny1.tar" .
echo 2 >"$T/tiny/f"
tar -C "$T/tiny" -cf "$T/tiny2.tar" .
assert_status 0 berth image import "$T/tiny1.tar" tiny:v1
assert_status 0 berth image inspect tiny:v1
old_tiny=$(json_eval 'd[0]["Id"]' <<<"$OUT")
assert_status 0 berth image import "$T/tiny2.tar" tiny:v1
assert_status 0 berth image import "$T/tiny2.tar" unused:v1

# --- container VERB is VERB -----------------------------------------------------
assert_status 0 berth container create --name made --network none busybox true
assert_status 0 berth container ls -a -q
assert_eq "1" "$(grep -c '' <<<"$OUT")" "container ls -a -q lists the created container"
assert_status 0 berth container run --name ran --network none busybox true
assert_status 0 berth container run -d --name up --network none -v keep:/keep busybox sleep 600
assert_status 0 berth network create used
assert_status 0 berth network create unused
assert_status 0 berth container run -d --name netuser --network used busybox sleep 600
assert_status 0 berth volume create spare
assert_status 0 berth container inspect made
made_id=$(json_eval 'd[0]["id"]' <<<"$OUT")
assert_status 0 berth container inspect ran
ran_id=$(json_eval 'd[0]["id"]' <<<"$OUT")
assert_status 125 berth container bogus
assert_error container "an unknown container command"

# --- labels and ps --filter ------------------------------------------------------------
assert_status 0 berth create --name lab1 --network none -l app=web -l tier busybox true
assert_status 0 berth create --name lab2 --network none --label app=db busybox true
assert_status 0 berth inspect lab1
assert_eq '{"app": "web", "tier": ""}' "$(json_eval 'd[0]["labels"]' <<<"$OUT")" "labels in the record"
names() { # names FILTER… : the names ps -a shows with these filters, sorted
    local args=() f
    for f in "$@"; do args+=(--filter "$f"); done
    berth ps -a --format json "${args[@]}" | json_eval '" ".join(sorted(c["name"] for c in d))'
}
assert_eq "lab1 lab2" "$(names label=app)" "--filter label=KEY"
assert_eq "lab1" "$(names label=app=web)" "--filter label=KEY=VALUE"
assert_eq "lab1" "$(names label=app label=tier)" "every label filter must match"
assert_eq "lab1 lab2" "$(names name=lab)" "--filter name=PART"
assert_eq "lab2 made" "$(names name=lab2 name=made)" "filters of one key: any"
assert_eq "lab1" "$(names name=lab label=tier)" "filters of different keys: all"
assert_status 0 berth ps -q --filter status=exited
assert_eq "$(berth inspect ran | json_eval 'd[0]["id"][:12]')" "$OUT" "status=exited lists stopped containers without -a"
assert_eq "netuser up" "$(berth ps --format json --filter status=running | json_eval '" ".join(sorted(c["name"] for c in d))')" \
    "status=running"
assert_eq "lab1 lab2 made netuser ran up" "$(names ancestor=busybox:latest)" "ancestor=IMAGE, its name normalized"
assert_status 125 berth ps --filter colour=red
assert_error ps "an unknown filter key"
lab2_id=$(berth inspect lab2 | json_eval 'd[0]["id"]')
assert_status 0 berth container prune -f --filter label=app=db
assert_eq $'Deleted Containers:\n'"$lab2_id" "$OUT" "container prune --filter: only what passes, its id printed"
assert_eq "lab1" "$(names name=lab)" "the other one stays"
assert_status 125 berth container prune -f --filter status=exited
assert_error "container prune" "status is not a prune filter"
assert_status 0 berth rm lab1

# --- container prune ----------------------------------------------------------------
capture_in() { # capture_in INPUT CMD… : capture with INPUT on stdin
    local input=$1
    shift
    set +e
    OUT=$(printf '%s\n' "$input" | "$@" 2>"$T/err")
    RC=$?
    set -e
    ERR=$(<"$T/err")
}
capture_in n berth container prune
assert_eq "0" "$RC" "answering no exits 0"
assert_contains "$ERR" "Are you sure you want to continue? [y/N]" "prune asks first"
assert_status 0 berth ps -a -q
assert_eq "4" "$(grep -c '' <<<"$OUT")" "answering no removes nothing"
capture_in y berth container prune
assert_eq "0" "$RC" "answering yes prunes"
assert_eq $'Deleted Containers:\n'"$(printf '%s\n' "$made_id" "$ran_id" | LC_ALL=C sort)" \
    "$(head -1 <<<"$OUT"; tail -n +2 <<<"$OUT" | LC_ALL=C sort)" \
    "the created and the exited container go, their ids printed"
assert_status 0 berth ps -a --format json
assert_eq "netuser up" "$(json_eval '" ".join(sorted(c["name"] for c in d))' <<<"$OUT")" \
    "the running containers stay"
assert_status 0 berth container prune -f
assert_eq "" "$OUT" "nothing more to prune: nothing printed"
assert_status 125 berth container prune extra
assert_error "container prune" "container prune takes no arguments"

# --- system prune -------------------------------------------------------------------
assert_status 0 berth run --rm busybox true # makes the default network, berth0
assert_status 0 berth create --name stopped --network used busybox true
assert_status 0 berth system prune -f
assert_contains "$OUT" "Deleted Containers:" "system prune removes containers"
assert_contains "$OUT" $'Deleted Networks:\nunused' "and the unused network"
assert_contains "$OUT" "deleted: $old_tiny" "and the dangling image"
assert_status 0 berth network ls -q
assert_eq $'berth0\nused' "$(LC_ALL=C sort <<<"$OUT")" "the used network and berth0 stay"
assert_status 0 berth volume ls -q
assert_eq $'keep\nspare' "$(LC_ALL=C sort <<<"$OUT")" "volumes stay without --volumes"
assert_status 0 berth image inspect unused:v1
assert_status 0 berth system prune -f -a --volumes
assert_contains "$OUT" $'Deleted Volumes:\nspare' "--volumes removes the unused volume"
assert_status 0 berth volume ls -q
assert_eq "keep" "$OUT" "the used volume stays"
assert_status 0 berth image ls --format json
assert_eq "busybox:latest" "$(json_eval '" ".join(sorted(n for i in d for n in i["RepoTags"]))' <<<"$OUT" | sed 's|^.*/||')" \
    "-a removes every image no container uses; the running containers' stays"
assert_status 125 berth system prune --bogus
assert_error "system prune" "an unknown option"

assert_status 0 berth rm -f up netuser
assert_status 0 berth network rm used
assert_status 0 berth volume rm keep
finish
