#!/bin/sh
# The entry scripts of the containers, ./mcs-lb and these tests pass shellcheck (all checks,
# warnings included). Missing shellcheck: skipped (77), a failure in CI.
set -eu
root=$1
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "shellcheck not found (apt-get install shellcheck)"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
cd "$root"
set -- docker/entry/*.sh docker/base.sh mcs-lb tests/docker/*.sh tests/lib.sh tests/mcs_lb_cli.sh tests/dist_install.sh tests/format.sh
shellcheck --version | sed -n 2p
shellcheck --external-sources "$@"
echo "shellcheck: $# scripts clean: $*"
