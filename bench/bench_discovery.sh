#!/usr/bin/env bash
# ZADD -> the new chat node takes clients: the time until HAProxy shows it as a ready server
# (stats socket) and until a real TLS client through the gateway is greeted by it, SAMPLES times,
# with Redis keyspace notifications on (Kz) and with polling only (every POLL_MS).
# Each sample replaces the serving node (ZREM old + ZADD new in one MULTI), so the first client
# greeted by the new node is the first one routed there (MCS_MASS_REMOVAL_PCT=100 lets a
# one-node set change). Stand-in nodes are python listeners; loopback only.
# Usage: bench/bench_discovery.sh [SAMPLES] [POLL_MS]   (BUILD_DIR=build, BENCH_OUT=file: figures)
set -euo pipefail
# shellcheck source=bench/bench_lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/bench_lib.sh"
samples=${1:-50}
poll=${2:-1000}
need_bin "$build/controller/mcs-lb-controller"

run() { # $1: notify-keyspace-events ("" = off), $2: figure prefix, $3: longest pause between samples (ms)
	local run_dir=$work/run-$2
	start_redis "$1"
	start_haproxy "$run_dir"
	start_controller "$run_dir" MCS_POLL_MS="$poll" MCS_NODE_TTL_MS=600000 MCS_MASS_REMOVAL_PCT=100
	python3 "$benchlib" discovery --redis-port "$REDIS_PORT" --gw-port "$GW_PORT" \
		--stats-sock "$run_dir/stats.sock" --samples "$samples" --prefix "$2" --gap-ms "$3" | bench_kv
	emit "${2}_poll_ms" "$poll"
	stop_pid "$CONTROLLER_PID"
	stop_pid "$HAPROXY_PID"
	stop_pid "${pids[0]}" # redis-server
}
echo "ZADD -> ready server / first TLS client routed, notifications on (Kz), poll $poll ms, $samples samples:"
run Kz discovery_notify 300
echo "ZADD -> ready server / first TLS client routed, notifications off, poll $poll ms, $samples samples:"
run "" discovery_poll "$poll"
