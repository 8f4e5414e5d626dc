# shellcheck shell=bash
# Subordinate ids for user namespace tests, sourced after lib.sh (inside the
# test's private mount namespace): temporary /etc/subuid and /etc/subgid
# bind-mounted over the host's, which are never written.

# use_subids "LINES" : the content of both files (e.g. "berth:200000:300000").
use_subids() {
    local f
    for f in subuid subgid; do
        if [[ ! -f /etc/$f ]]; then
            note "/etc/$f does not exist on this host: cannot bind a test file over it"
            return 1
        fi
        printf '%s\n' "$1" >"$T/$f"
        mount --bind "$T/$f" "/etc/$f"
    done
}

# with_userns_auto : every later `berth run` and `berth create` gets --userns=auto.
with_userns_auto() {
    eval "$(declare -f berth | sed '1s/^berth/_berth_without_userns/')"
    berth() {
        if [[ ${1:-} == run || ${1:-} == create ]]; then
            local verb=$1
            shift
            _berth_without_userns "$verb" --userns=auto "$@"
        else
            _berth_without_userns "$@"
        fi
    }
}
