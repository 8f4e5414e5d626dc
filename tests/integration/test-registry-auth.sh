#!/usr/bin/env bash
# Registry authentication: htpasswd basic auth on docker-registry, and the
# bearer token flow (the test proxy plays the token server); login verifies
# before saving a docker-compatible 0600 auth file, --authfile and
# REGISTRY_AUTH_FILE choose it, logout removes the entry; the password shows
# up in no output, log, event or store file.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry-lib.sh"

USER_NAME=berth-user
PASSWORD="pw-$RANDOM-$RANDOM-secret"
AUTH=$T/auth.json
ALL_OUTPUT=$T/all-output
: >"$ALL_OUTPUT"
keep() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL_OUTPUT"; }

# --- basic auth ------------------------------------------------------------------
reg_start "$USER_NAME" "$PASSWORD"
R=127.0.0.1:$REG_PORT
reg_layout "$T/app" app one
creds_file=$T/skopeo-auth.json
printf '{"auths":{"%s":{"auth":"%s"}}}' "$R" \
    "$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)" >"$creds_file"
reg_push "$T/app" app "$R/test/app:v1" --dest-authfile "$creds_file"

export REGISTRY_AUTH_FILE=$T/unused-auth.json
capture berth pull --authfile "$AUTH" "$R/test/app:v1"
keep
assert_eq 125 "$RC" "basic: pull without credentials fails"
assert_error pull "basic: no credentials"

capture bash -c 'printf "%s\n" wrong | "$0" --root "$1" --runroot "$2" login -u "$3" --password-stdin --authfile "$4" "$5"' \
    "$BERTH" "$T/root" "$T/run" "$USER_NAME" "$AUTH" "$R"
keep
assert_eq 125 "$RC" "basic: login with a wrong password fails"
assert_error login "basic: wrong password"
assert_true "a failed login writes no auth file" test ! -e "$AUTH"

login_with() { # login_with AUTHFILE-OPTION… REGISTRY
    capture bash -c 'printf "%s\n" "$PW" | "$0" --root "$1" --runroot "$2" login -u "$3" --password-stdin "${@:4}"' \
        "$BERTH" "$T/root" "$T/run" "$USER_NAME" "$@"
    keep
}
PW=$PASSWORD
export PW
login_with --authfile "$AUTH" "$R"
assert_eq 0 "$RC" "basic: login succeeds"
assert_eq "Login Succeeded" "$OUT" "login says so"
assert_eq 600 "$(stat -c %a "$AUTH")" "the auth file is mode 0600"
want=$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)
got=$(json_eval "d['auths']['$R']['auth']" <"$AUTH")
assert_eq "$want" "$got" "the auth file is docker's format"

capture berth pull --authfile "$AUTH" "$R/test/app:v1"
keep
assert_eq 0 "$RC" "basic: pull with the saved credentials"
assert_status 0 berth run --rm "$R/test/app:v1" cat /one
assert_eq one "$OUT" "the pulled image runs"
assert_status 0 berth image rm "$R/test/app:v1"

# REGISTRY_AUTH_FILE is read when no --authfile is given.
REGISTRY_AUTH_FILE=$AUTH capture berth pull "$R/test/app:v1"
keep
assert_eq 0 "$RC" "REGISTRY_AUTH_FILE chooses the auth file"

assert_status 0 berth logout --authfile "$AUTH" "$R"
keep
assert_eq "{}" "$(json_eval "d['auths']" <"$AUTH")" "logout removes the entry"
assert_status 125 berth logout --authfile "$AUTH" "$R"
assert_error logout "logout when not logged in"
assert_status 0 berth image rm "$R/test/app:v1"
capture berth pull --authfile "$AUTH" "$R/test/app:v1"
keep
assert_eq 125 "$RC" "after logout the pull is refused again"

# --- bearer token flow -------------------------------------------------------------
reg_start
reg_push "$T/app" app "127.0.0.1:$REG_PORT/test/app:v2"
TOKEN_CREDS="$USER_NAME:$PASSWORD"
export TOKEN_CREDS
reg_proxy_start "$REG_PORT" TOKEN_CREDS
B=127.0.0.1:$PROXY_PORT
capture berth pull --authfile "$AUTH" "$B/test/app:v2"
keep
assert_eq 125 "$RC" "bearer: an anonymous token is refused"
assert_error pull "bearer: anonymous"
login_with --authfile "$AUTH" "$B"
assert_eq 0 "$RC" "bearer: login through the token server"
capture berth pull --authfile "$AUTH" "$B/test/app:v2"
keep
assert_eq 0 "$RC" "bearer: pull with a token"
assert_true "the token server was asked" grep -q '^GET /token' "$PROXY_LOG"
assert_true "blobs were fetched with the token" grep -q '^GET /v2/test/app/blobs/' "$PROXY_LOG"
assert_status 0 berth run --rm "$B/test/app:v2" cat /one
assert_eq one "$OUT" "the image pulled with a token runs"

# A token that expires mid-pull: the blob's 401 fetches a new one, once.
assert_status 0 berth image rm "$B/test/app:v2"
: >"$PROXY_LOG"
reg_fault expire-once
capture berth pull --authfile "$AUTH" "$B/test/app:v2"
keep
assert_eq 0 "$RC" "bearer: a token expired mid-pull is renewed"
assert_eq 2 "$(reg_count '^GET /token')" "one token at the start, one after the expiry"

# --- the password is nowhere ------------------------------------------------------
b64=$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)
assert_true "no output of berth shows the password" bash -c '! grep -qF -e "$0" -e "$1" "$2"' \
    "$PASSWORD" "$b64" "$ALL_OUTPUT"
assert_true "nothing in the store, logs or events holds the password" \
    bash -c '! grep -rqF -e "$0" -e "$1" "$2" "$3"' "$PASSWORD" "$b64" "$T/root" "$T/run"
assert_status 0 berth events --since 0 --until 0
assert_not_contains "$OUT" "$PASSWORD" "the events show no password"

berth image rm "$B/test/app:v2" >/dev/null 2>&1 || true
reg_cleanup
finish
