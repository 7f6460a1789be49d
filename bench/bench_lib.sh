# shellcheck shell=bash
# Shared by the control-plane benchmarks (bench/bench_*.sh): a temp dir, free loopback ports,
# own redis-server / HAProxy / controller processes stopped by PID on exit, and `key=value`
# figures copied to the file named by BENCH_OUT (bench/run.sh reads them into its summary).
# Source it after `set -euo pipefail`; BUILD_DIR defaults to <root>/build.

root=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-${MCS_BUILD_DIR:-$root/build}}
# shellcheck disable=SC2034 # used by the scripts that source this file
benchlib=$root/bench/benchlib.py
work=$(mktemp -d "${TMPDIR:-/tmp}/mcs-bench.XXXXXX")
pids=()

bench_cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "bench: kept $work" >&2
	else
		rm -rf -- "$work"
	fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_die() {
	echo "bench: $*" >&2
	local f
	for f in "$work"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") (last lines)" >&2
		tail -n 20 "$f" >&2
	done
	exit 1
}

need_bin() {
	[ -x "$1" ] || bench_die "$1 is not built (BUILD_DIR=$build; run ./mcs-lb build or meson/ninja)"
}

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# bench_kv: copies the `key=value` lines of stdin to BENCH_OUT and shows them indented.
bench_kv() {
	local line
	while IFS= read -r line; do
		case "$line" in
		*=*)
			printf '  %s\n' "$line"
			[ -z "${BENCH_OUT:-}" ] || printf '%s\n' "$line" >>"$BENCH_OUT"
			;;
		*) printf '%s\n' "$line" ;;
		esac
	done
}

emit() { printf '%s=%s\n' "$1" "$2" | bench_kv; }

# wait_for WHAT SECONDS CMD...: polls CMD every 50 ms.
wait_for() {
	local what=$1 limit=$2 i
	shift 2
	for ((i = 0; i < limit * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	bench_die "$what not ready after $limit s"
}

# start_redis NOTIFY: own redis-server (NOTIFY: notify-keyspace-events, "" = off); sets REDIS_PORT.
start_redis() {
	REDIS_PORT=$(free_port)
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
		--notify-keyspace-events "$1" >"$work/redis.log" 2>&1 &
	pids+=($!)
	wait_for "redis-server" 10 redis-cli -p "$REDIS_PORT" ping
}

# make_cert: the development pair in $work/tls, joined into $1/server.pem.
make_cert() {
	[ -f "$work/tls/server.cert" ] || sh "$root/tls/gen-dev-cert.sh" "$work/tls" >/dev/null
	mkdir -p "$1"
	"$build/tls/mcs-lb-tls-check" "$work/tls/server.cert" "$work/tls/server.key" "$1/server.pem"
}

hap_answers() { echo "show info" | socat -T2 - "UNIX-CONNECT:$1/stats.sock" | grep -q '^Pid: '; }

# start_haproxy RUN_DIR [EXTRA_CFG...]: haproxy.cfg as shipped, master-worker, on 127.0.0.1;
# sets GW_PORT and HAPROXY_PID. Client limits off: the benchmark clients all come from 127.0.0.1.
start_haproxy() {
	local run=$1
	shift
	local extra=() f
	for f in "$@"; do extra+=(-f "$f"); done
	GW_PORT=$(free_port)
	make_cert "$run"
	MCS_RUN_DIR=$run MCS_PORT=$GW_PORT MCS_BIND_ADDR=127.0.0.1 MCS_MAXCONN=${MCS_MAXCONN:-8000} \
		MCS_FRONTEND_MAXCONN=7900 MCS_LIMIT_CONN_RATE=0 MCS_LIMIT_CONCURRENT=0 \
		haproxy -W -db -f "$root/haproxy/haproxy.cfg" "${extra[@]}" >"$work/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	pids+=("$HAPROXY_PID")
	wait_for "haproxy" 10 hap_answers "$run"
}

# start_controller RUN_DIR [VAR=value...]: the controller against our redis and HAProxy.
start_controller() {
	local run=$1
	shift
	env REDIS_URL="redis://127.0.0.1:$REDIS_PORT" MCS_RUN_DIR="$run" MCS_TLS_DIR="$work/tls" \
		MCS_LOG_LEVEL="${MCS_LOG_LEVEL:-warn}" "$@" "$build/controller/mcs-lb-controller" \
		>>"$work/controller.log" 2>&1 &
	CONTROLLER_PID=$!
	pids+=("$CONTROLLER_PID")
}

# stop_pid PID: stops one process this script started, and forgets it.
stop_pid() {
	local kept=() p
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
	pids=("${kept[@]}")
}
