#!/bin/sh
# One /metrics scrape of a gateway with N chat nodes (default 10,000): time and size from
# mcs-lb-metrics, against HAProxy's own prometheus-exporter and its raw `show stat` CSV.
# Everything on loopback: servers are 127.<i>.<j>.1:7000 (nothing listens there, so their TCP
# checks are refused and they are DOWN, which costs HAProxy the same stats work).
# Usage: bench/bench_scrape.sh [N] [REPEAT]    (BUILD_DIR=build by default)
# Needs haproxy, socat, curl, python3 (free ports) and a built mcs-lb-metrics.
set -eu
n=${1:-10000}
repeat=${2:-10}
root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
bridge_bin=$build/metrics-bridge/mcs-lb-metrics
[ -x "$bridge_bin" ] || { echo "bench: $bridge_bin not built (BUILD_DIR?)" >&2; exit 1; }
work=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf -- "$work"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(port); PROM=$(port); METRICS=$(port)

sh "$root/tls/gen-dev-cert.sh" "$work/tls" >/dev/null
cat "$work/tls/server.cert" "$work/tls/server.key" >"$work/server.pem"
chmod 600 "$work/server.pem"
cat >"$work/exporter.cfg" <<EOF
frontend bench_haproxy_exporter
    mode http
    bind 127.0.0.1:$PROM
    http-request use-service prometheus-exporter if { path /metrics }
EOF
MCS_RUN_DIR=$work MCS_PORT=$P MCS_BIND_ADDR=127.0.0.1 MCS_MAXCONN=4000 \
	haproxy -W -db -f "$root/haproxy/haproxy.cfg" -f "$work/exporter.cfg" >"$work/haproxy.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 50); do [ -S "$work/admin.sock" ] && break; sleep 0.1; done

echo "adding $n servers (check inter 3000, explicit ids) ..."
start=$(date +%s.%N)
python3 - "$n" >"$work/add.txt" <<'EOF'
import sys
n = int(sys.argv[1])
print("prompt")
for i in range(n):
    a = f"127.{i // 250 + 1}.{i % 250 + 1}.1:7000"
    print(f"add server mcs/{a} {a} check inter 3000 fall 3 rise 2 weight 100 id {i + 1}")
    print(f"set server mcs/{a} state ready")
    print(f"enable health mcs/{a}")
print("quit")
EOF
socat -t 600 - "UNIX:$work/admin.sock" <"$work/add.txt" >/dev/null
echo "  took $(echo "$(date +%s.%N) - $start" | bc) s"
servers=$(echo "show servers state mcs" | socat -t 60 - "UNIX:$work/stats.sock" | grep -c '^3 mcs ')
echo "  HAProxy has $servers servers"

PROMETHEUS_PORT=$METRICS MCS_METRICS_BIND_ADDR=127.0.0.1 MCS_RUN_DIR=$work MCS_METRICS_SCRAPE_TIMEOUT_MS=10000 \
	"$bridge_bin" >"$work/bridge.log" 2>&1 &
bridge=$!
pids="$pids $bridge"
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$METRICS/metrics" && break; sleep 0.1; done

# Prints "median min max" of the seconds curl reports for REPEAT fetches of $1, and the size.
measure() {
	for _ in $(seq "$repeat"); do
		curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$1"
	done >"$work/times"
	sort -n "$work/times" | awk '{t[NR]=$1; s=$2} END {printf "%.3f s median (min %.3f, max %.3f), %.2f MB", t[int((NR+1)/2)], t[1], t[NR], s/1e6}'
}

echo "one scrape, $repeat repetitions, $servers nodes:"
echo "  mcs-lb-metrics       /metrics : $(measure "http://127.0.0.1:$METRICS/metrics")"
echo "  HAProxy exporter     /metrics : $(measure "http://127.0.0.1:$PROM/metrics")"
start=$(date +%s.%N)
csv=$(echo "show stat -1 7 -1" | socat -t 60 - "UNIX:$work/stats.sock" | wc -c)
echo "  show stat CSV (one read)       : $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s, $(echo "scale=2; $csv / 1000000" | bc) MB"
series=$(curl -s "http://127.0.0.1:$METRICS/metrics" | grep -vc '^#')
echo "  mcs-lb-metrics series          : $series"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$bridge/status")
echo "  mcs-lb-metrics peak RSS        : $((rss / 1024)) MB"
