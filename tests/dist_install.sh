#!/usr/bin/env bash
# The check functions are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
# The bare-metal install: `meson install --destdir` puts the programs, the systemd units (with
# their system users), haproxy.cfg with bwlim.lua, the entry scripts and the alert rules where
# the units look for them; the installed haproxy.sh checks a configuration from the installed
# tree alone; `systemd-analyze verify` accepts the units (their paths moved into the destdir), and
# `systemd-analyze security --offline` rates each service's exposure.
#   dist_install.sh BUILD_DIR GEN_DEV_CERT
# No systemd-analyze (apt-get install systemd): skipped, loudly (77; in CI a failure).
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
build=$1 gen_cert=$2

prefix=$(meson introspect "$build" --buildoptions | python3 -c \
	'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
meson install -C "$build" --no-rebuild --quiet --destdir "$scratch/dest" >/dev/null
root=$scratch/dest$prefix
share=$root/share/mcs-lb
units=$root/lib/systemd/system

for b in mcs-lb-controller mcs-lb-metrics mcs-lb-tls-check mcs-lb-status mcs-lb-demo-node; do
	check "bin/$b installed, executable" test -x "$root/bin/$b"
done
for f in haproxy/haproxy.cfg haproxy/bwlim.lua metrics-bridge/alerts.yml mcs-lb.env; do
	check "share/mcs-lb/$f installed" test -s "$share/$f"
done
for s in haproxy controller metrics health; do
	check "share/mcs-lb/docker/entry/$s.sh installed, executable" test -x "$share/docker/entry/$s.sh"
done
for u in mcs-lb-haproxy.service mcs-lb-controller.service mcs-lb-metrics.service mcs-lb.target; do
	check "lib/systemd/system/$u installed" test -s "$units/$u"
	check "$u: every @...@ substituted" bash -c "! grep -Eq '@[A-Z]+@' '$units/$u'"
done
check "lib/sysusers.d/mcs-lb.conf installed" test -s "$root/lib/sysusers.d/mcs-lb.conf"

# Every command a unit runs exists in the installed tree, executable.
exec_ok() {
	local cmd
	while read -r cmd; do
		[ -x "$scratch/dest$cmd" ] || { echo "  $1 runs $cmd: not in the install"; return 1; }
	done < <(sed -n 's/^Exec[A-Za-z]*=\([^ ]*\).*/\1/p' "$units/$1")
}
for u in mcs-lb-haproxy.service mcs-lb-controller.service mcs-lb-metrics.service; do
	check "$u: its commands are installed" exec_ok "$u"
done

# The installed haproxy.sh finds the installed haproxy.cfg (../../haproxy) and HAProxy accepts it.
mkdir -p "$scratch/tls" "$scratch/run"
"$gen_cert" "$scratch/tls" >/dev/null 2>&1
installed_check() {
	PATH="$root/bin:$PATH" MCS_RUN_DIR="$scratch/run" MCS_TLS_DIR="$scratch/tls" MCS_BIND_ADDR=127.0.0.1 \
		MCS_MAXCONN=1000 MCS_FRONTEND_MAXCONN=900 "$share/docker/entry/haproxy.sh" check
}
check "the installed haproxy.sh checks the installed haproxy.cfg" installed_check

# systemd-analyze verify: the units with their paths moved into the destdir (verify checks that
# each command exists on this machine's file system).
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: no systemd-analyze (apt-get install systemd): the units are NOT verified"
	[ "${CI:-}" = true ] && exit 1
	[ "$fail" -eq 0 ] && exit 77
	exit 1
fi
mkdir -p "$scratch/units"
for u in "$units"/*; do
	sed "s#$prefix/#$root/#g" "$u" >"$scratch/units/$(basename "$u")"
done
out=$(systemd-analyze verify --man=no "$scratch"/units/* 2>&1) && rc=0 || rc=$?
[ -z "$out" ] || printf '%s\n' "$out"
check "systemd-analyze verify: no complaint" test "$rc" -eq 0 -a -z "$out"
for u in mcs-lb-haproxy mcs-lb-controller mcs-lb-metrics; do
	score=$(systemd-analyze security --offline=true --man=no "$scratch/units/$u.service" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
	echo "$u.service: exposure $score (systemd-analyze security; 0 best, 10 worst)"
	check "$u.service: exposure below 2.0" awk -v s="${score:-99}" 'BEGIN { exit !(s < 2.0) }'
done
checks_done "bare-metal install"
