#!/usr/bin/env bash
# A chat node goes away while TLS clients keep connecting through the gateway:
#  - its heartbeat stops: the time from its last heartbeat (the score it wrote, which is all the
#    controller knows) until HAProxy gives it no new client (its server leaves rotation, polled
#    on the stats socket every ~5 ms, and no client reaches it afterwards); goal TTL + 100 ms;
#  - its port dies (listener closed, heartbeat going on): the time until HAProxy's health checks
#    mark it down, and the clients that failed meanwhile (goal 0: retries + redispatch).
# Stand-in nodes are python listeners heartbeating like the chat nodes (integer seconds).
# Usage: bench/bench_failover.sh [SAMPLES] [TTL_MS] [POLL_MS] [CHECK_INTER_MS]
#        (BUILD_DIR=build, BENCH_OUT=file: figures)
set -euo pipefail
# shellcheck source=bench/bench_lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/bench_lib.sh"
samples=${1:-5}
ttl=${2:-2000}
poll=${3:-1000}
inter=${4:-3000}
need_bin "$build/controller/mcs-lb-controller"

start_redis Kz
start_haproxy "$work/run"
# Warm-up off: a node that just joined gets its share of clients at once, so the stopped node
# is seen taking clients until the moment it leaves.
start_controller "$work/run" MCS_POLL_MS="$poll" MCS_NODE_TTL_MS="$ttl" MCS_CHECK_INTER_MS="$inter" \
	MCS_WARMUP_S=0
echo "heartbeat stops ($samples samples, TTL $ttl ms, poll $poll ms) / port dies (check inter $inter ms, fall 3):"
python3 "$benchlib" failover --redis-port "$REDIS_PORT" --gw-port "$GW_PORT" --stats-sock "$work/run/stats.sock" \
	--samples "$samples" --ttl-ms "$ttl" --poll-ms "$poll" --check-inter-ms "$inter" | bench_kv
emit portdie_check_inter_ms "$inter"
