# shellcheck shell=bash
# Shared by the shell test scripts in this folder: a scratch directory removed on exit, and
# check(), which reports one condition and remembers a failure for checks_done.
# Source it after `set -euo pipefail`.

scratch=$(mktemp -d)
trap 'rm -rf -- "$scratch"' EXIT
fail=0

check() { # check WHAT CONDITION...
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

# checks_done WHAT: says "WHAT: all checks passed" when none failed; exits 1 if one did, else 0.
checks_done() {
	[ "$fail" -eq 0 ] && echo "$1: all checks passed"
	exit "$fail"
}
