#!/usr/bin/env bash
# The escape tests (test-escape.sh) again, every container with --userns=auto.
export BERTH_ESCAPE_USERNS=1
exec "$(dirname "${BASH_SOURCE[0]}")/test-escape.sh" "$@"
