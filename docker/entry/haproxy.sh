#!/usr/bin/env bash
# Starts HAProxy the same way in the haproxy container and under `./mcs-lb up`: the certificate
# pair is checked and joined into $MCS_RUN_DIR/server.pem first (HAProxy 2.6 never reads
# server.key beside server.cert), then HAProxy runs in master-worker mode in the foreground.
#   haproxy.sh [run]   prepare, then exec haproxy (the container's command)
#   haproxy.sh check   prepare, then only check haproxy.cfg (haproxy -c)
#   haproxy.sh reload  check the pair again, rewrite server.pem, reload the running HAProxy (USR2)
# Reads MCS_RUN_DIR, MCS_TLS_DIR and MCS_MAXCONN; haproxy.cfg reads its own ${MCS_*}.
# mcs-lb-tls-check and haproxy are found on PATH (the image: /usr/local/bin; mcs-lb: the build).
set -euo pipefail

say() { printf 'mcs-lb: %s\n' "$*" >&2; }

: "${MCS_RUN_DIR:?MCS_RUN_DIR is not set}" "${MCS_TLS_DIR:?MCS_TLS_DIR is not set}"
# The configuration sits where it sits in the repository: <root>/haproxy/haproxy.cfg.
root=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
cfg=$root/haproxy/haproxy.cfg
pidfile=$MCS_RUN_DIR/haproxy.pid

# Refuses a missing, expired, mismatched or encrypted pair with one line naming the file.
prepare() {
	mkdir -p -- "$MCS_RUN_DIR"
	mcs-lb-tls-check "$MCS_TLS_DIR/server.cert" "$MCS_TLS_DIR/server.key" "$MCS_RUN_DIR/server.pem"
}

check_cfg() {
	if ! out=$(haproxy -c -q -f "$cfg" 2>&1); then
		say "haproxy refuses its configuration: $(grep -m1 ALERT <<<"$out" || printf '%s\n' "$out")"
		exit 1
	fi
}

# HAProxy needs two descriptors per connection: lower maxconn rather than fail to start.
fit_maxconn() {
	: "${MCS_MAXCONN:?MCS_MAXCONN is not set}"
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	fds=$(ulimit -n)
	[ "$fds" = unlimited ] && return 0
	max=$(((fds - 100) / 2))
	if [ "$MCS_MAXCONN" -gt "$max" ]; then
		say "MCS_MAXCONN $MCS_MAXCONN needs more than the $fds open files allowed: using $max"
		MCS_MAXCONN=$max
		export MCS_MAXCONN
	fi
	# The frontend stays below the global limit, so checks and the sockets keep descriptors.
	reserve=$((MCS_MAXCONN / 10 < 100 ? MCS_MAXCONN / 10 : 100))
	if [ "${MCS_FRONTEND_MAXCONN:-7900}" -gt $((MCS_MAXCONN - reserve)) ]; then
		MCS_FRONTEND_MAXCONN=$((MCS_MAXCONN - reserve))
		export MCS_FRONTEND_MAXCONN
		say "MCS_FRONTEND_MAXCONN lowered to $MCS_FRONTEND_MAXCONN (below MCS_MAXCONN $MCS_MAXCONN)"
	fi
}

case "${1:-run}" in
run)
	prepare
	fit_maxconn
	exec haproxy -W -db -f "$cfg" -p "$pidfile"
	;;
check)
	prepare
	check_cfg
	;;
reload)
	[ -s "$pidfile" ] || { say "no $pidfile: is HAProxy running?"; exit 1; }
	prepare
	check_cfg
	pid=$(cat -- "$pidfile")
	kill -USR2 "$pid"
	say "HAProxy (master $pid) reloads with $MCS_TLS_DIR/server.cert; the controller adds every node again within one poll"
	;;
*)
	echo "usage: $0 [run|check|reload]" >&2
	exit 2
	;;
esac
