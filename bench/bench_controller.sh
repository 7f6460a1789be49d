#!/usr/bin/env bash
# The controller at scale: cold start with N registered chat nodes until HAProxy has all of
# them, then (STEADY_S > 0) the steady state, nothing changing, for STEADY_S seconds: controller
# CPU per second of wall time and RSS. Defaults otherwise (poll 1 s, agent checks every 1 s per
# node answered by the controller). Nodes are 127.<i>.<j>.1:7000: nothing listens there, so
# their health checks fail and they are DOWN (HAProxy does the same work per server).
# Usage: bench/bench_controller.sh [N] [STEADY_S] [VAR=value...]   (BUILD_DIR=build,
#        BENCH_OUT=file: figures; VAR=value: controller settings, e.g. MCS_AGENT=off to compare)
set -euo pipefail
# shellcheck source=bench/bench_lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/bench_lib.sh"
n=${1:-10000}
steady=${2:-20}
shift $(($# < 2 ? $# : 2))
need_bin "$build/controller/mcs-lb-controller"

start_redis ""
start_haproxy "$work/run"

# Register N nodes with a fresh score (Redis TIME), in one pipeline.
now=$(redis-cli -p "$REDIS_PORT" time | head -1)
python3 - "$n" "$now" >"$work/zadd.txt" <<'PY'
import sys
n, now = int(sys.argv[1]), int(sys.argv[2])
for k in range(n):
    print(f"ZADD mcs:node {now} 127.{1 + k // 250}.{k % 250}.1:7000")
PY
redis-cli -p "$REDIS_PORT" <"$work/zadd.txt" >/dev/null
count() { echo "show servers state mcs" | socat -t 60 - "UNIX-CONNECT:$work/run/stats.sock" | grep -c '^[0-9]' || true; }

# Heartbeats stay fresh for the whole run: a long TTL stands in for the nodes' ZADDs.
start=$(date +%s.%N)
start_controller "$work/run" MCS_NODE_TTL_MS=3600000 MCS_MAX_NODES=$((n + 10)) "$@"
deadline=$(($(date +%s) + 120))
while [ "$(count)" -lt "$n" ]; do
	sleep 0.05
	kill -0 "$CONTROLLER_PID" 2>/dev/null || bench_die "the controller died"
	[ "$(date +%s)" -lt "$deadline" ] || bench_die "HAProxy has not all $n servers after 120 s"
done
end=$(date +%s.%N)
cold=$(echo "$end - $start" | bc)
printf 'controller, %d nodes: cold start to complete HAProxy %.2f s\n' "$n" "$cold"
emit "controller_${n}_cold_s" "$(printf '%.3f' "$cold")"
[ "$steady" -gt 0 ] || exit 0

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
sleep 2
t0=$(ticks "$CONTROLLER_PID")
w0=$(date +%s.%N)
sleep "$steady"
t1=$(ticks "$CONTROLLER_PID")
w1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$CONTROLLER_PID/status")
cpu=$(echo "scale=3; 100 * ($t1 - $t0) / $hz / ($w1 - $w0)" | bc)
printf 'controller, %d nodes: steady state %.3f%% of a core, RSS %d KB (%s s sampled)\n' "$n" "$cpu" "$rss" "$steady"
emit "controller_${n}_cpu_pct" "$(printf '%.3f' "$cpu")"
emit "controller_${n}_rss_mb" "$(echo "scale=2; $rss / 1024" | bc)"
emit "controller_${n}_steady_s" "$steady"
