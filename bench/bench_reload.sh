#!/usr/bin/env bash
# HAProxy reloads the way operators reload it (docker/entry/haproxy.sh reload: kill -USR2 of the
# master of an `haproxy -W` started by docker/entry/haproxy.sh run) while TLS clients keep
# connecting through the gateway: the clients refused (goal 0), and the time from the reload
# command until the new worker serves the full node set. NODES stand-in chat nodes (python
# listeners heartbeating every second), the controller with its defaults, RELOADS reloads 2 s apart.
# Usage: bench/bench_reload.sh [NODES] [RELOADS]   (BUILD_DIR=build, BENCH_OUT=file: figures)
set -euo pipefail
# shellcheck source=bench/bench_lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/bench_lib.sh"
nodes=${1:-50}
reloads=${2:-5}
need_bin "$build/controller/mcs-lb-controller"
need_bin "$build/tls/mcs-lb-tls-check"

start_redis Kz
sh "$root/tls/gen-dev-cert.sh" "$work/tls" >/dev/null
GW_PORT=$(free_port)
# The operator's environment (./mcs-lb up / the haproxy container), on loopback; the client
# limits are off because every benchmark client comes from 127.0.0.1.
export MCS_RUN_DIR=$work/run MCS_TLS_DIR=$work/tls MCS_MAXCONN=8000 MCS_PORT=$GW_PORT MCS_BIND_ADDR=127.0.0.1 \
	MCS_LIMIT_CONN_RATE=0 MCS_LIMIT_CONCURRENT=0 PATH="$build/tls:$PATH"
"$root/docker/entry/haproxy.sh" run >"$work/haproxy.log" 2>&1 &
HAPROXY_PID=$!
pids+=("$HAPROXY_PID")
wait_for "haproxy" 10 hap_answers "$MCS_RUN_DIR"
start_controller "$MCS_RUN_DIR"
echo "reload under load: $nodes nodes, $reloads reloads (docker/entry/haproxy.sh reload), 4 TLS clients in a loop:"
python3 "$benchlib" reload --redis-port "$REDIS_PORT" --gw-port "$GW_PORT" --stats-sock "$MCS_RUN_DIR/stats.sock" \
	--nodes "$nodes" --reloads "$reloads" \
	--reload-cmd "'$root/docker/entry/haproxy.sh' reload >>'$work/reload.log' 2>&1" | bench_kv
if [ -f "$MCS_RUN_DIR/servers.cfg" ]; then
	emit reload_servers_file 1
else
	emit reload_servers_file 0
fi
