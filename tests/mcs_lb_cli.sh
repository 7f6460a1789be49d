#!/usr/bin/env bash
# The check functions are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
# ./mcs-lb's own promises, with apt-get and dpkg-query replaced by stubs (nothing is installed):
# `up` and `build` need only what building and running need (no Prometheus, no test tools),
# `test` adds the test tools, MCS_NO_INSTALL=1 / `up --no-install` never call apt-get and name
# what is missing, `version` prints four lines, every program answers --version alike.
#   mcs_lb_cli.sh ROOT BUILD_DIR
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
root=$1 build=$2
stubs=$scratch # apt-get and dpkg-query stand-ins, first in PATH

# Every package missing; apt-get leaves a mark if anything calls it.
printf '#!/bin/sh\nexit 1\n' >"$stubs/dpkg-query"
printf '#!/bin/sh\ntouch "%s/apt-called"\nexit 1\n' "$stubs" >"$stubs/apt-get"
chmod +x "$stubs/dpkg-query" "$stubs/apt-get"

has() { grep -qw -- "$1" <<<"$2"; }
lacks() { ! has "$1" "$2"; }
version_lines() { [ "$(wc -l <<<"$1")" -eq 4 ] && [ "$(head -n1 <<<"$1")" = "mcs-lb $2" ]; }
names_runtime() { grep -q "^haproxy 2\." <<<"$1" && grep -q "^openssl 3\." <<<"$1" && grep -q "^hiredis 0\." <<<"$1"; }
says_version() { [ "$("$1" --version)" = "$(basename "$1") $2" ]; }

run() { PATH="$stubs:$PATH" MCS_BUILD_DIR="$build" "$root/mcs-lb" "$@" 2>&1 && echo "exit 0" || echo "exit $?"; }

out=$(MCS_NO_INSTALL=1 run build)
check "build --no-install stops, naming the missing packages" grep -q "missing Debian package(s): gcc .*haproxy" <<<"$out"
check "build --no-install exits 1" grep -qx "exit 1" <<<"$out"
for p in prometheus prometheus-alertmanager testssl.sh shellcheck docker-compose check nginx; do
	check "build does not need $p" lacks "$p" "$out"
done
out=$(run up --no-install)
check "up --no-install stops the same way" grep -q "missing Debian package(s): gcc .*redis-server" <<<"$out"
check "up --no-install names no test tool" lacks prometheus "$out"
out=$(MCS_NO_INSTALL=1 run test)
for p in check prometheus prometheus-alertmanager testssl.sh shellcheck docker-compose python3-yaml; do
	check "test needs $p" has "$p" "$out"
done
check "apt-get never called" test ! -e "$stubs/apt-called"

version=$(sed -n "s/^  version : '\([^']*\)',\$/\1/p" "$root/meson.build")
out=$("$root/mcs-lb" version)
check "version: four lines, the gateway's first" version_lines "$out" "$version"
check "version names haproxy, openssl and hiredis" names_runtime "$out"
for b in controller/mcs-lb-controller metrics-bridge/mcs-lb-metrics tls/mcs-lb-tls-check demo/mcs-lb-demo-node; do
	check "$(basename "$b") --version" says_version "$build/$b" "$version"
done
out=$(MCS_RUN_DIR="$stubs" MCS_BUILD_DIR="$build" "$root/mcs-lb" status 2>&1 && echo "exit 0" || echo "exit $?")
check "status of a directory where nothing runs: exit 2" grep -qx "exit 2" <<<"$out"
# MCS_SEND_PROXY: off or v2, refused otherwise by the controller and the demo node's script alike.
out=$(MCS_SEND_PROXY=v1 "$build/controller/mcs-lb-controller" --print-config 2>&1 && echo "exit 0" || echo "exit $?")
check "controller refuses MCS_SEND_PROXY=v1 in one line" grep -qx '.*MCS_SEND_PROXY: "v1" is not off or v2' <<<"$out"
check "controller refuses MCS_SEND_PROXY=v1: exit 2" grep -qx "exit 2" <<<"$out"
out=$(MCS_SEND_PROXY=v2 "$build/controller/mcs-lb-controller" --print-config)
check "controller takes MCS_SEND_PROXY=v2" grep -qx "MCS_SEND_PROXY=v2" <<<"$out"
out=$(PATH="$stubs:$PATH" MCS_SEND_PROXY=on REDIS_URL=redis://127.0.0.1:1 MCS_NODE_KEY=k MCS_DEMO_LISTEN=127.0.0.1:1 \
	"$root/docker/entry/demo-node.sh" 2>&1 && echo "exit 0" || echo "exit $?")
check "demo-node.sh refuses MCS_SEND_PROXY=on" grep -q 'MCS_SEND_PROXY: "on" is not one of: off v2' <<<"$out"
check "demo-node.sh refuses MCS_SEND_PROXY=on: exit 1" grep -qx "exit 1" <<<"$out"
checks_done "mcs-lb command line"
