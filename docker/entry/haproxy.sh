#!/usr/bin/env bash
# Starts HAProxy the same way in the haproxy container and under `./mcs-lb up`: the certificate
# pair is checked and joined into $MCS_RUN_DIR/server.pem first (HAProxy 2.6 never reads
# server.key beside server.cert), then HAProxy runs in master-worker mode in the foreground.
#   haproxy.sh [run]   prepare, then exec haproxy (the container's command) with the controller's
#                      servers file ($MCS_RUN_DIR/servers.cfg) as a second configuration file
#   haproxy.sh check   prepare, then only check haproxy.cfg (haproxy -c)
#   haproxy.sh reload  check the pair again, rewrite server.pem, save the server states, reload the
#                      running HAProxy (USR2): the new worker starts with every node as it was
# Reads MCS_RUN_DIR, MCS_TLS_DIR, MCS_MAXCONN and MCS_FRONTEND_MAXCONN ("auto" or unset: sized from
# the open-file limit and memory); haproxy.cfg reads its own ${MCS_*}.
# mcs-lb-tls-check and haproxy are found on PATH (the image: /usr/local/bin; mcs-lb: the build).
set -euo pipefail

say() { printf 'mcs-lb: %s\n' "$*" >&2; }

: "${MCS_RUN_DIR:?MCS_RUN_DIR is not set}" "${MCS_TLS_DIR:?MCS_TLS_DIR is not set}"
# The configuration sits where it sits in the repository: <root>/haproxy/haproxy.cfg.
root=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
cfg=$root/haproxy/haproxy.cfg
# haproxy.cfg finds the files shipped beside it (lua-load) through this.
export MCS_HAPROXY_DIR=$root/haproxy
pidfile=$MCS_RUN_DIR/haproxy.pid
# The controller's servers file (backend mcs with every node it serves): loaded as a second
# configuration file, so a reload or a restart starts with every node. MCS_SERVERS_FILE tells
# haproxy.cfg not to open an empty backend mcs of its own.
servers=$MCS_RUN_DIR/servers.cfg
state=$MCS_RUN_DIR/servers.state
export MCS_SERVERS_FILE=$servers

# need_uint NAME MIN MAX UNIT: a variable haproxy.cfg reads, when set, is a plain decimal in range,
# or start-up stops with one line naming it (unset: haproxy.cfg's own default applies).
need_uint() {
	[ -n "${!1+set}" ] || return 0
	local value="${!1}"
	# No leading zero: haproxy.cfg tells "off" by the text "0", so "00" must not pass as 0.
	if ! [[ "$value" =~ ^(0|[1-9][0-9]{0,9})$ ]]; then
		say "$1: \"$value\" is not a number of $4"
		exit 1
	fi
	if [ "$value" -lt "$2" ] || [ "$value" -gt "$3" ]; then
		say "$1: $value is out of range ($2 to $3 $4)"
		exit 1
	fi
}

# need_word NAME WORD...: a variable haproxy.cfg compares as text, when set, is one of the words.
need_word() {
	local name=$1 w
	shift
	[ -n "${!name+set}" ] || return 0
	for w in "$@"; do [ "${!name}" = "$w" ] && return 0; done
	say "$name: \"${!name}\" is not one of: $*"
	exit 1
}

# The same checks under ./mcs-lb up and in the container: this script is both paths.
check_vars() {
	need_uint MCS_PORT 1 65535 "port"
	[ "${MCS_MAXCONN-}" = auto ] || need_uint MCS_MAXCONN 1 1000000 "connections"
	need_uint MCS_CHECK_TIMEOUT_MS 1 60000 "milliseconds"
	need_uint MCS_IDLE_TIMEOUT_S 1 604800 "seconds"
	need_uint MCS_RELOAD_GRACE_S 1 604800 "seconds"
	if [ "${MCS_FRONTEND_MAXCONN-}" != auto ]; then
		need_uint MCS_FRONTEND_MAXCONN 1 "$([[ "${MCS_MAXCONN:-auto}" =~ ^[0-9]+$ ]] && echo "$MCS_MAXCONN" || echo 1000000)" \
			"connections (at most MCS_MAXCONN)"
	fi
	need_uint MCS_HANDSHAKE_TIMEOUT_S 1 300 "seconds"
	need_uint MCS_LIMIT_CONN_RATE 0 100000000 "connections"
	need_uint MCS_LIMIT_CONN_RATE_PERIOD_S 1 86400 "seconds"
	need_uint MCS_LIMIT_CONCURRENT 0 1000000 "connections"
	need_uint MCS_LIMIT_TABLE_SIZE 100 10000000 "addresses"
	need_uint MCS_LIMIT_EXPIRE_S "${MCS_LIMIT_CONN_RATE_PERIOD_S:-10}" 604800 "seconds (at least MCS_LIMIT_CONN_RATE_PERIOD_S)"
	need_uint MCS_LIMIT_BYTES_PER_S 0 1000000000 "bytes per second"
	need_uint MCS_LIMIT_BURST_BYTES 0 1000000000 "bytes"
	need_word MCS_ACCESS_LOG on off
	need_word MCS_LOG_FORMAT text json
}

# Refuses a bad variable, or a missing, expired, mismatched or encrypted pair, with one line
# naming it.
prepare() {
	check_vars
	size_maxconn
	mkdir -p -- "$MCS_RUN_DIR"
	mcs-lb-tls-check "$MCS_TLS_DIR/server.cert" "$MCS_TLS_DIR/server.key" "$MCS_RUN_DIR/server.pem"
	[ -s "$servers" ] || empty_servers
	[ -s "$state" ] || no_state
}

# An empty backend mcs (the controller adds every node at its next step); no saved state.
empty_servers() { printf 'backend mcs\n' >"$servers"; }
no_state() { printf '1\n' >"$state"; }

# A cold start carries no server state over (an old drain or DOWN must not come back), and a
# servers file the controller has not confirmed for a while may list nodes long gone: start
# without it then, the controller adds every live node at its first step.
cold_start() {
	no_state
	if [ -n "$(find "$servers" -mmin +0.5 2>/dev/null)" ]; then
		mv -f -- "$servers" "$servers.stale"
		empty_servers
		say "$servers not confirmed by the controller for over 30 s: moved to $servers.stale, starting with an empty backend"
	fi
}

admin_cmd() { printf '%s\n' "$1" | socat -t 3 - "UNIX-CONNECT:$MCS_RUN_DIR/admin.sock"; }

worker_pid() { admin_cmd "show info" 2>/dev/null | sed -n 's/^Pid: //p'; }

# The running worker's server states, for the new worker of a reload (load-server-state-from-file).
save_state() {
	if admin_cmd "show servers state" >"$state.tmp" 2>/dev/null && head -n1 "$state.tmp" | grep -qx 1; then
		mv -f -- "$state.tmp" "$state"
	else
		rm -f -- "$state.tmp"
		no_state
		say "could not read the server states on $MCS_RUN_DIR/admin.sock: the new worker starts every server afresh"
	fi
}

check_cfg() {
	if ! out=$(haproxy -c -q -f "$cfg" -f "$servers" 2>&1); then
		# A servers file HAProxy cannot read must not keep the gateway down: start without it
		# (empty backend, the controller adds every node again) and keep it for a look.
		if env -u MCS_SERVERS_FILE haproxy -c -q -f "$cfg" >/dev/null 2>&1; then
			mv -f -- "$servers" "$servers.bad"
			empty_servers
			say "$servers refused ($(grep -m1 ALERT <<<"$out" || printf '%s' "$out")): moved to $servers.bad; starting with an empty backend, the controller adds every node again"
			return 0
		fi
		say "haproxy refuses its configuration: $(grep -m1 ALERT <<<"$out" || printf '%s\n' "$out")"
		exit 1
	fi
}

# What one held chat client costs (idle TLS 1.3, ECDSA P-256, measured on loopback with 9,000
# clients): HAProxy 19 KB of its own memory plus about 20 KB of kernel socket and TLS state.
CLIENT_COST_KB=40
# Connections beyond the frontend's: health checks, agent checks, the runtime sockets.
RESERVE_MAX=100

# The memory this process may use, in KB: the cgroup's limit (a container's) or the machine's.
memory_kb() {
	local total limit
	total=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
	limit=$(cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null | head -n1)
	if [[ "$limit" =~ ^[0-9]{1,15}$ ]] && [ $((limit / 1024)) -lt "${total:-0}" ]; then
		echo $((limit / 1024))
	else
		echo "${total:-0}"
	fi
}

# MCS_MAXCONN (global) and MCS_FRONTEND_MAXCONN (clients) from the machine unless set: HAProxy
# needs two descriptors per connection, and half the memory is left to everything else. An
# explicit MCS_MAXCONN the open files cannot carry is lowered rather than fail to start.
size_maxconn() {
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	local fds by_fds mem by_mem reserve
	fds=$(ulimit -n)
	[ "$fds" = unlimited ] && fds=2000000
	by_fds=$(((fds - 2 * RESERVE_MAX) / 2))
	mem=$(memory_kb)
	by_mem=$((mem / 2 / CLIENT_COST_KB))
	if [ "${MCS_MAXCONN:-auto}" = auto ]; then
		MCS_MAXCONN=$((by_fds < by_mem ? by_fds : by_mem))
		[ "$MCS_MAXCONN" -le 1000000 ] || MCS_MAXCONN=1000000
		[ "$MCS_MAXCONN" -ge 1 ] || { say "MCS_MAXCONN=auto: $fds open files leave no connection"; exit 1; }
		[ "$mode" != run ] || say "MCS_MAXCONN=auto: $MCS_MAXCONN connections ($fds open files allow $by_fds, $((mem / 1024)) MB of memory allows $by_mem at $CLIENT_COST_KB KB a client; set MCS_MAXCONN to choose)"
	elif [ "$MCS_MAXCONN" -gt "$by_fds" ]; then
		say "MCS_MAXCONN $MCS_MAXCONN needs more than the $fds open files allowed: using $by_fds"
		MCS_MAXCONN=$by_fds
	fi
	export MCS_MAXCONN
	# The frontend stays below the global limit, so checks and the sockets keep descriptors.
	reserve=$((MCS_MAXCONN / 10 < RESERVE_MAX ? MCS_MAXCONN / 10 : RESERVE_MAX))
	if [ "${MCS_FRONTEND_MAXCONN:-auto}" = auto ]; then
		MCS_FRONTEND_MAXCONN=$((MCS_MAXCONN - reserve))
	elif [ "$MCS_FRONTEND_MAXCONN" -gt $((MCS_MAXCONN - reserve)) ]; then
		MCS_FRONTEND_MAXCONN=$((MCS_MAXCONN - reserve))
		say "MCS_FRONTEND_MAXCONN lowered to $MCS_FRONTEND_MAXCONN (below MCS_MAXCONN $MCS_MAXCONN)"
	fi
	export MCS_FRONTEND_MAXCONN
}

mode=${1:-run}
case "$mode" in
run)
	prepare
	cold_start
	check_cfg
	# Under systemd (Type=notify, NOTIFY_SOCKET set) the master says when its worker is ready.
	# master.sock: the master's CLI (`show proc`: its reload counts; as powerful as admin.sock).
	exec haproxy "$([ -n "${NOTIFY_SOCKET:-}" ] && echo -Ws || echo -W)" -db -S "$MCS_RUN_DIR/master.sock,mode,600" \
		-f "$cfg" -f "$servers" -p "$pidfile"
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
	old=$(worker_pid)
	save_state
	kill -USR2 "$pid"
	# Once the new worker runs, the saved states are spent: a later plain `kill -USR2` must not
	# bring them back. At most 10 s; the new worker reads them at once.
	for _ in $(seq 100); do
		now=$(worker_pid)
		[ -n "$now" ] && [ "$now" != "$old" ] && break
		sleep 0.1
	done
	no_state
	say "HAProxy (master $pid) reloads with $MCS_TLS_DIR/server.cert and the $(grep -c "^    server " "$servers" || true) servers of $servers"
	;;
*)
	echo "usage: $0 [run|check|reload]" >&2
	exit 2
	;;
esac
