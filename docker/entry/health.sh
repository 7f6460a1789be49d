#!/usr/bin/env bash
# Readiness probe of one part of the gateway: exit 0 when it answers through the interface its
# users have. Used by docker-compose.yml's healthchecks and by `./mcs-lb up` (haproxy).
#   health.sh haproxy | controller | metrics | demo-node | redis | prometheus | alertmanager
set -euo pipefail

# http_ok HOST PORT PATH: a GET answered 200 within 5 s (bash's /dev/tcp: no curl in the images).
http_ok() {
	local status
	exec 3<>"/dev/tcp/$1/$2" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$3" "$1" >&3
	IFS= read -r -t 5 status <&3 || return 1
	exec 3<&-
	[[ "$status" == "HTTP/1."[01]" 200"* ]]
}

# The address a wildcard-bound listener answers on, from inside.
local_addr() {
	case "${1:-}" in '' | 0.0.0.0) echo 127.0.0.1 ;; :: | '[::]') echo ::1 ;; *) echo "$1" ;; esac
}

case "${1:-}" in
haproxy)
	# The read-only stats socket answers `show info` with the worker's Pid. (Read the whole
	# reply first: grep -q leaving early would break socat's pipe and fail the probe.)
	info=$(printf 'show info\n' | socat -T2 - "UNIX-CONNECT:${MCS_RUN_DIR:?}/stats.sock")
	[[ "$info" == *$'\nPid: '* || "$info" == 'Pid: '* ]]
	;;
controller)
	# controller.json is rewritten after every step (every MCS_POLL_MS, at most 5 s apart while
	# Redis or HAProxy fails): much older means the controller is stuck or gone.
	status="${MCS_RUN_DIR:?}/controller.json"
	limit=$((30 + 2 * ${MCS_POLL_MS:-1000} / 1000))
	[ -f "$status" ] && [ $(($(date +%s) - $(stat -c %Y "$status"))) -le "$limit" ]
	;;
metrics)
	http_ok "$(local_addr "${MCS_METRICS_BIND_ADDR:-}")" "${PROMETHEUS_PORT:?}" /metrics
	;;
demo-node)
	exec 3<>"/dev/tcp/127.0.0.1/${MCS_DEMO_LISTEN##*:}"
	# A node reading PROXY v2 headers greets only after one: send a LOCAL one, as HAProxy's checks do.
	[ "${MCS_SEND_PROXY:-off}" != v2 ] || printf '\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00' >&3
	IFS= read -r -t 5 greeting <&3
	[[ "$greeting" == HELLO* ]]
	;;
redis)
	[ "$(redis-cli -h 127.0.0.1 ping)" = PONG ]
	;;
prometheus)
	http_ok 127.0.0.1 9090 /-/ready
	;;
alertmanager)
	http_ok 127.0.0.1 9093 /-/ready
	;;
*)
	echo "usage: $0 haproxy|controller|metrics|demo-node|redis|prometheus|alertmanager" >&2
	exit 2
	;;
esac
