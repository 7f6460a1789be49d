#!/usr/bin/env bash
# One /metrics scrape of a gateway with N chat nodes (default 10,000): time and size from
# mcs-lb-metrics, against HAProxy's own prometheus-exporter on the same HAProxy, and its raw
# `show stat` CSV. Servers are 127.<i>.<j>.1:7000, added straight over the admin socket the way
# the controller adds them (nothing listens there, so their TCP checks are refused and they are
# DOWN, which costs HAProxy the same stats work). Medians of REPEAT scrapes each.
# Usage: bench/bench_scrape.sh [N] [REPEAT]   (BUILD_DIR=build, BENCH_OUT=file: figures)
set -euo pipefail
# shellcheck source=bench/bench_lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/bench_lib.sh"
n=${1:-10000}
repeat=${2:-10}
bridge_bin=$build/metrics-bridge/mcs-lb-metrics
need_bin "$bridge_bin"

PROM=$(free_port)
METRICS=$(free_port)
cat >"$work/exporter.cfg" <<CFG
frontend bench_haproxy_exporter
    mode http
    bind 127.0.0.1:$PROM
    http-request use-service prometheus-exporter if { path /metrics }
CFG
MCS_MAXCONN=4000 start_haproxy "$work/run" "$work/exporter.cfg"

echo "adding $n servers (check inter 3000, explicit ids) ..."
start=$(date +%s.%N)
python3 - "$n" >"$work/add.txt" <<'PY'
import sys
n = int(sys.argv[1])
print("prompt")
for i in range(n):
    a = f"127.{i // 250 + 1}.{i % 250 + 1}.1:7000"
    print(f"add server mcs/{a} {a} check inter 3000 fall 3 rise 2 weight 100 id {i + 1}")
    print(f"set server mcs/{a} state ready")
    print(f"enable health mcs/{a}")
print("quit")
PY
socat -t 600 - "UNIX-CONNECT:$work/run/admin.sock" <"$work/add.txt" >/dev/null
echo "  took $(echo "$(date +%s.%N) - $start" | bc) s"
servers=$(echo "show servers state mcs" | socat -t 60 - "UNIX-CONNECT:$work/run/stats.sock" | grep -c '^[0-9]* mcs ' || true)
echo "  HAProxy has $servers servers"
[ "$servers" -ge "$n" ] || bench_die "HAProxy has $servers servers, not $n"

PROMETHEUS_PORT=$METRICS MCS_METRICS_BIND_ADDR=127.0.0.1 MCS_RUN_DIR=$work/run MCS_METRICS_SCRAPE_TIMEOUT_MS=10000 \
	"$bridge_bin" >"$work/bridge.log" 2>&1 &
bridge=$!
pids+=("$bridge")
wait_for "mcs-lb-metrics" 10 curl -sf -o /dev/null "http://127.0.0.1:$METRICS/metrics"

# measure URL NAME: REPEAT fetches; prints "median min max" seconds, emits NAME_s and NAME_mb.
measure() {
	local i
	for ((i = 0; i < repeat; i++)); do
		curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$1"
	done >"$work/times"
	sort -n "$work/times" | awk '{t[NR]=$1; s=$2} END {printf "%.4f %.4f %.4f %.3f\n", t[int((NR+1)/2)], t[1], t[NR], s/1e6}' >"$work/stat"
	read -r med min max mb <"$work/stat"
	printf '  %-28s %s s median (min %s, max %s), %s MB\n' "$2" "$med" "$min" "$max" "$mb"
	emit "${3}_s" "$med"
	emit "${3}_mb" "$mb"
}

echo "one scrape, $repeat repetitions, $servers nodes:"
measure "http://127.0.0.1:$METRICS/metrics" "mcs-lb-metrics /metrics:" scrape_mcs
measure "http://127.0.0.1:$PROM/metrics" "HAProxy exporter /metrics:" scrape_haproxy
start=$(date +%s.%N)
csv=$(echo "show stat -1 7 -1" | socat -t 60 - "UNIX-CONNECT:$work/run/stats.sock" | wc -c)
echo "  show stat CSV (one read)       : $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s, $(echo "scale=2; $csv / 1000000" | bc) MB"
series=$(curl -s "http://127.0.0.1:$METRICS/metrics" | grep -vc '^#' || true)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$bridge/status")
echo "  mcs-lb-metrics series $series, peak RSS $((rss / 1024)) MB"
emit scrape_nodes "$servers"
emit scrape_mcs_series "$series"
emit scrape_mcs_peak_rss_mb "$((rss / 1024))"
