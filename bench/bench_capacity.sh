#!/usr/bin/env bash
# Capacity: N idle TLS clients (ECDSA P-256, TLS 1.3) held by the gateway (docker/entry/haproxy.sh
# with haproxy.cfg as shipped, MCS_MAXCONN=auto, the per-address limits ON), by nginx stream
# (same nodes and certificate, least_conn) and by a bare OpenSSL server (bench/capacity/
# cap_server.c), each echoing once; memory per client (RSS growth of the server's processes and
# kernel slab growth, over N). Then on the gateway: every session cut at once over the admin
# socket (`shutdown sessions server`) and all N reconnecting at once (time until all are greeted
# again, failures, handshakes/s against the data plane's full-handshake rate measured the same
# way just before), and a burst from one address (how many the per-address limits refuse).
# Clients come from 127.0.0.2-251 (36 each at N=9,000, below the limits of 100 concurrent and
# 200 per 10 s), two client processes. Nodes: two mcs-lb-demo-node.
# Usage: bench/bench_capacity.sh [N] [ONE_ADDR]   (BUILD_DIR=build, BENCH_OUT=file: figures,
#        CAP_DP_ROUNDS=1: rounds of the data plane's handshake step)
# N is capped by the open-file limit: HAProxy needs two descriptors per client.
set -euo pipefail
# shellcheck source=bench/bench_lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/bench_lib.sh"
conns=${1:-1000}
one_addr=${2:-150}
need_bin "$build/tls/mcs-lb-tls-check"
need_bin "$build/demo/mcs-lb-demo-node"
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || bench_die "nginx's stream module is missing (apt-get install libnginx-mod-stream)"

# HAProxy's MCS_MAXCONN=auto from the open files: (files - 200) / 2, the frontend 100 below;
# the one-address burst and a margin must fit too.
files=$(ulimit -Hn)
[ "$files" = unlimited ] && files=2000000
cap=$(((files - 200) / 2 - 100 - one_addr - 100))
if [ "$conns" -gt "$cap" ]; then
	echo "capacity: $conns clients do not fit $files open files per process: $cap"
	conns=$cap
fi
emit cap_open_files "$files"

bin=$work/bin
mkdir -p "$bin"
for t in server client; do
	${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -o "$bin/mcs-cap-$t" "$root/bench/capacity/cap_$t.c" -lssl -lcrypto ||
		bench_die "cannot build mcs-cap-$t (needs libssl-dev)"
done
sh "$root/tls/gen-dev-cert.sh" "$work/tls" >/dev/null
pem=$work/tls/server.pem
cat "$work/tls/server.cert" "$work/tls/server.key" >"$pem"

# Two chat nodes, the same for both proxies.
nodes=()
for n in 1 2; do
	"$build/demo/mcs-lb-demo-node" --listen 127.0.0.1:0 >"$work/node$n.log" 2>&1 &
	pids+=($!)
	wait_for "demo node $n" 5 grep -q '^listening on ' "$work/node$n.log"
	nodes+=("$(sed -n 's/^listening on //p' "$work/node$n.log")")
done

# Each phase (fill, echo, storm) of each server waits at most this long, then reports what it
# got: a slow machine shows clients missing rather than failing the run.
phase_s=$((20 + conns / 50))
hold() {
	python3 "$root/bench/capacity.py" hold --client "$bin/mcs-cap-client" --conns "$conns" --timeout "$phase_s" "$@" |
		tee -a "$work/cap.kv" | bench_kv
}

echo "capacity: $conns idle TLS clients from 127.0.0.2-251, two client processes; nodes ${nodes[*]}"
# --- the bare OpenSSL server (it greets and echoes itself: no nodes)
"$bin/mcs-cap-server" --pem "$pem" --port-file "$work/bare.port" 2>"$work/bare.log" &
bare_pid=$!
pids+=("$bare_pid")
wait_for "mcs-cap-server" 5 test -s "$work/bare.port"
hold --name bare --pid "$bare_pid" --port "$(cut -d= -f2 "$work/bare.port")"
stop_pid "$bare_pid"

# --- nginx stream as an operator writes it (bench/dataplane/run.sh), room for every client
ngx=$work/nginx
mkdir -p "$ngx/logs"
ngx_port=$(free_port)
cat >"$ngx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes auto;
worker_rlimit_nofile $files;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log warn;
events { worker_connections $((files - 500)); }
stream {
    upstream mcs { least_conn; server ${nodes[0]}; server ${nodes[1]}; }
    server {
        listen 127.0.0.1:$ngx_port ssl;
        ssl_certificate $pem;
        ssl_certificate_key $pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        proxy_pass mcs;
    }
}
EOF
nginx -p "$ngx/" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" -g 'daemon off;' >"$work/nginx.log" 2>&1 &
ngx_pid=$!
pids+=("$ngx_pid")
wait_for "nginx" 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ngx_port"
hold --name nginx --pid "$ngx_pid" --port "$ngx_port"
stop_pid "$ngx_pid"

# --- the gateway as shipped: haproxy.sh, MCS_MAXCONN=auto, per-address limits at their defaults
gw=$work/gw
gw_port=$(free_port)
env -u MCS_FRONTEND_MAXCONN -u MCS_LIMIT_CONN_RATE -u MCS_LIMIT_CONCURRENT -u MCS_LIMIT_BYTES_PER_S \
	MCS_RUN_DIR="$gw" MCS_TLS_DIR="$work/tls" MCS_PORT="$gw_port" MCS_BIND_ADDR=127.0.0.1 MCS_MAXCONN=auto \
	PATH="$build/tls:$PATH" "$root/docker/entry/haproxy.sh" run >"$work/haproxy.log" 2>&1 &
gw_pid=$!
pids+=("$gw_pid")
wait_for "haproxy" 10 hap_answers "$gw"
grep -o 'MCS_MAXCONN=auto: [0-9]* connections' "$work/haproxy.log" || true
for n in 1 2; do
	out=$(printf 'add server mcs/n%s %s\n' "$n" "${nodes[$((n - 1))]}" | socat -T2 - "UNIX-CONNECT:$gw/admin.sock")
	grep -qi registered <<<"$out" || bench_die "haproxy refused add server: $out"
	printf 'enable server mcs/n%s\n' "$n" | socat -T2 - "UNIX-CONNECT:$gw/admin.sock" >/dev/null
done
# The data plane's full-handshake rate, measured the same way (bench/dataplane/run.sh, its hs
# step against its own HAProxy), right before the storm: the machine's speed drifts.
echo "capacity: the data plane's full-handshake rate (bench/dataplane/run.sh, hs step only)"
dp_rate=
if BENCH_OUT=$work/dp.kv DP_TARGETS=haproxy DP_STEPS=hs DP_ROUNDS=${CAP_DP_ROUNDS:-1} \
	timeout 120 bash "$root/bench/dataplane/run.sh" --quick >"$work/dp.log" 2>&1; then
	dp_rate=$(sed -n 's/^dp_haproxy_hs_per_s=//p' "$work/dp.kv" | tail -n1)
else
	echo "capacity: the data-plane handshake step failed: $(tail -n 3 "$work/dp.log")" >&2
fi
hold --name gateway --pid "$gw_pid" --port "$gw_port" --admin-sock "$gw/admin.sock" --one-addr "$one_addr"
stop_pid "$gw_pid"

python3 "$root/bench/capacity.py" report "$work/cap.kv" ${dp_rate:+--dp-rate "$dp_rate"} | bench_kv
