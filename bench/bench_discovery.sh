#!/bin/sh
# ZADD -> the node is a ready server in HAProxy (the moment it can take clients), N samples,
# with Redis keyspace notifications on and with polling only. Prints p50/p99 of each.
# Usage: bench/bench_discovery.sh [SAMPLES] [POLL_MS]   (BUILD_DIR=build by default)
# Loopback only; needs haproxy, redis-server, socat, python3 and a built controller.
set -eu
samples=${1:-50}
poll=${2:-1000}
root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
[ -x "$build/controller/mcs-lb-controller" ] || { echo "bench: controller not built (BUILD_DIR?)" >&2; exit 1; }
work=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf -- "$work"; }
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

run() { # $1: notify-keyspace-events value ("" = off)
	R=$(port); P=$(port)
	rm -rf "$work/run"; mkdir -p "$work/run"
	[ -f "$work/tls/server.cert" ] || sh "$root/tls/gen-dev-cert.sh" "$work/tls" >/dev/null
	"$build/tls/mcs-lb-tls-check" "$work/tls/server.cert" "$work/tls/server.key" "$work/run/server.pem"
	redis-server --port "$R" --bind 127.0.0.1 --save '' --notify-keyspace-events "$1" >"$work/redis.log" 2>&1 &
	rp=$!
	MCS_RUN_DIR=$work/run MCS_PORT=$P MCS_BIND_ADDR=127.0.0.1 haproxy -W -db -f "$root/haproxy/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
	hp=$!
	pids="$pids $rp $hp"
	sleep 0.5
	REDIS_URL=redis://127.0.0.1:$R MCS_RUN_DIR=$work/run MCS_POLL_MS=$poll MCS_LOG_LEVEL=warn \
		"$build/controller/mcs-lb-controller" >"$work/controller.log" 2>&1 &
	cp=$!
	pids="$pids $cp"
	sleep 0.5
	python3 - "$R" "$work/run/stats.sock" "$samples" <<'PY'
import socket, sys, time
rport, sock, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def redis(*args):
    s = socket.create_connection(("127.0.0.1", rport))
    s.sendall(("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args)).encode())
    data = s.recv(4096).decode(); s.close(); return data
def ready(name):
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    s.sendall(b"show servers state mcs\n"); out = b""
    while True:
        d = s.recv(65536)
        if not d: break
        out += d
    s.close()
    for line in out.decode().splitlines():
        f = line.split()
        if len(f) > 6 and f[3] == name:
            return f[5] == "2" and f[6] == "0"
    return False
lat = []
for i in range(n):
    name = "127.0.%d.%d:7000" % (200 + i // 250, 1 + i % 250)
    now = redis("TIME").split("\r\n")[2]
    t0 = time.monotonic()
    redis("ZADD", "mcs:node", now, name)
    while not ready(name):
        if time.monotonic() - t0 > 10: break
        time.sleep(0.002)
    lat.append((time.monotonic() - t0) * 1000)
    time.sleep(0.05)
lat.sort()
print("p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d samples" % (lat[len(lat)//2], lat[min(len(lat)-1, int(len(lat)*0.99))], lat[-1], len(lat)))
PY
	kill "$cp" "$hp" "$rp" 2>/dev/null || true
	wait "$cp" "$hp" "$rp" 2>/dev/null || true
}
printf 'ZADD -> ready server, notifications on (Kz), poll %s ms: ' "$poll"; run Kz
printf 'ZADD -> ready server, notifications off,   poll %s ms: ' "$poll"; run ""
