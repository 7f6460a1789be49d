#!/bin/sh
# The controller at scale: cold start with N registered chat nodes until HAProxy has all of
# them, then the steady state (nothing changes) for a while: controller CPU per second of
# wall time and RSS. Loopback only: nodes are 127.<i>.<j>.1:7000, nothing listens there.
# Usage: bench/bench_controller.sh [N] [STEADY_S]   (BUILD_DIR=build by default)
set -eu
n=${1:-10000}
steady=${2:-20}
root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
ctl_bin=$build/controller/mcs-lb-controller
[ -x "$ctl_bin" ] || { echo "bench: $ctl_bin not built (BUILD_DIR?)" >&2; exit 1; }
work=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf -- "$work"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(port); R=$(port)
mkdir -p "$work/run"
sh "$root/tls/gen-dev-cert.sh" "$work/tls" >/dev/null
"$build/tls/mcs-lb-tls-check" "$work/tls/server.cert" "$work/tls/server.key" "$work/run/server.pem"

redis-server --port "$R" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids="$pids $!"
MCS_RUN_DIR=$work/run MCS_PORT=$P MCS_BIND_ADDR=127.0.0.1 haproxy -W -db -f "$root/haproxy/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids="$pids $!"
i=0
until redis-cli -p "$R" ping >/dev/null 2>&1 && echo "show info" | socat - "UNIX:$work/run/stats.sock" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: servers not ready" >&2; exit 1; }; sleep 0.1
done

# Register N nodes with a far-future-safe score (Redis TIME), in one pipeline.
now=$(redis-cli -p "$R" time | head -1)
python3 - "$n" "$now" >"$work/zadd.txt" <<'PY'
import sys
n, now = int(sys.argv[1]), int(sys.argv[2])
for k in range(n):
    print(f"ZADD mcs:node {now} 127.{1 + k // 250}.{k % 250}.1:7000")
PY
redis-cli -p "$R" <"$work/zadd.txt" >/dev/null
count() { echo "show servers state mcs" | socat - "UNIX:$work/run/stats.sock" | grep -c '^[0-9]' || true; }

# Heartbeats stay fresh for the whole run: a long TTL stands in for the nodes' ZADDs.
start=$(date +%s.%N)
REDIS_URL=redis://127.0.0.1:$R MCS_RUN_DIR=$work/run MCS_NODE_TTL_MS=3600000 MCS_LOG_LEVEL=warn \
	MCS_MAX_NODES=$((n + 10)) "$ctl_bin" >"$work/controller.log" 2>&1 &
ctl=$!
pids="$pids $ctl"
while [ "$(count)" -lt "$n" ]; do
	sleep 0.05
	kill -0 "$ctl" 2>/dev/null || { echo "bench: controller died" >&2; cat "$work/controller.log" >&2; exit 1; }
done
end=$(date +%s.%N)
cold=$(echo "$end - $start" | bc)

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
sleep 2
t0=$(ticks "$ctl"); w0=$(date +%s.%N)
sleep "$steady"
t1=$(ticks "$ctl"); w1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$ctl/status")
cpu=$(echo "scale=3; 100 * ($t1 - $t0) / $hz / ($w1 - $w0)" | bc)
printf 'controller, %d nodes: cold start to complete HAProxy %.2f s; steady state %s%% of a core, RSS %d KB (%s s sampled)\n' \
	"$n" "$cold" "$cpu" "$rss" "$steady"
