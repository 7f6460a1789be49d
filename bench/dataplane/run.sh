#!/usr/bin/env bash
# Data-plane benchmark: the gateway's HAProxy (haproxy/haproxy.cfg as shipped), nginx
# stream as an operator would configure it (`ssl`, `least_conn`) and a TLS echo node reached
# directly, side by side in one run, interleaved rounds, medians, every figure with its ratio.
#   bench/dataplane/run.sh [--quick]    --quick: 2 short rounds (< 1 min); full: 5 rounds (~5 min)
# Environment:
#   BENCH_OUT=path        also append the figures as key=value lines (bench/run.sh aggregates)
#   BUILD_DIR             meson build holding bench/dataplane/mcs-dp-{load,echo} (else built with cc)
#   DP_HAPROXY_CFG=path   the HAProxy configuration to measure (default haproxy/haproxy.cfg)
#   DP_ROUNDS=N           rounds instead of the mode's default
#   DP_KEY=ec|rsa         certificate key: ECDSA P-256 (the shipped kind, default) or RSA-2048
#   DP_TARGETS="haproxy nginx direct"   subset/order of targets (ratios need nginx and direct)
#   DP_EXTRA="name=cfg ..."  also measure these HAProxy configurations (tuning experiments)
#   DP_CLIENT_THREADS=N   load-client threads for the handshake step (default 2)
#   DP_STEPS="hs tput lat lat1"  subset of the steps (tuning; a full report needs all four)
#   DP_KEEP=1             keep the work directory (configurations, logs, raw results)
# Loopback only, ports from binding port 0; every process it starts is stopped by its PID.
# Asserts nothing about timings; exits non-zero only when a target could not be measured at all.
set -euo pipefail

here=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(CDPATH='' cd -- "$here/../.." && pwd)
quick=0
for arg in "$@"; do
	case "$arg" in
	--quick) quick=1 ;;
	-h | --help)
		sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "dataplane: unknown argument \"$arg\" (usage: bench/dataplane/run.sh [--quick])" >&2
		exit 2
		;;
	esac
done
for tool in haproxy nginx openssl socat python3 timeout; do
	command -v "$tool" >/dev/null || { echo "dataplane: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
	{ echo "dataplane: nginx's stream module is missing (apt-get install libnginx-mod-stream)" >&2; exit 1; }

# Sizes of each step. hs: new connections, each a full handshake + one 64-byte echo; tput: 16
# connections keeping 64 KiB of 16 KiB writes in flight; lat: 64 connections, 2,000 msg/s in
# all, 64 bytes each; lat1: one connection, messages back to back.
if [ "$quick" -eq 1 ]; then
	mode=quick rounds=${DP_ROUNDS:-2} warm=0.3 d_hs=1.5 d_tput=1 d_lat=1 d_lat1=1 speed_s=1
else
	mode=full rounds=${DP_ROUNDS:-5} warm=0.5 d_hs=4 d_tput=3 d_lat=3 d_lat1=3 speed_s=3
fi
hs_conns=32 client_threads=${DP_CLIENT_THREADS:-2}
cfg=${DP_HAPROXY_CFG:-$root/haproxy/haproxy.cfg}
read -r -a targets <<<"${DP_TARGETS:-haproxy nginx direct}"
read -r -a steps <<<"${DP_STEPS:-hs tput lat lat1}"
build=${BUILD_DIR:-${MCS_BUILD_DIR:-$root/build}}

work=$(mktemp -d "${TMPDIR:-/tmp}/mcs-dp.XXXXXX")
pids=()
# alive PID: running and not yet a zombie.
alive() { [ -r "/proc/$1/stat" ] && ! grep -q ') Z' "/proc/$1/stat" 2>/dev/null; }
cleanup() {
	local p live
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 50); do
		live=0
		for p in "${pids[@]}"; do alive "$p" && live=1; done
		[ "$live" = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	if [ "${DP_KEEP:-}" = 1 ]; then echo "dataplane: work directory kept: $work" >&2; else rm -rf -- "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "dataplane: $*" >&2; exit 1; }

# --- the two C tools: from the meson build when it has them, else compiled here
bin=$work/bin
mkdir -p "$bin"
if [ -x "$build/bench/dataplane/mcs-dp-load" ] && [ -x "$build/bench/dataplane/mcs-dp-echo" ]; then
	bin=$build/bench/dataplane
else
	for t in load echo; do
		${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE -o "$bin/mcs-dp-$t" "$here/dp_$t.c" \
			-lssl -lcrypto -lpthread || die "cannot build mcs-dp-$t"
	done
fi
load=$bin/mcs-dp-load

# --- one certificate for every target
mkdir -p "$work/tls"
if [ "${DP_KEY:-ec}" = rsa ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj /CN=localhost \
		-keyout "$work/tls/server.key" -out "$work/tls/server.cert" 2>/dev/null || die "openssl req failed"
	keykind="RSA-2048"
else
	sh "$root/tls/gen-dev-cert.sh" "$work/tls" >/dev/null || die "cannot create a certificate"
	keykind="ECDSA P-256"
fi
pem=$work/tls/server.pem
cat "$work/tls/server.cert" "$work/tls/server.key" >"$pem"

# --- crypto ceiling per core
echo "dataplane: openssl speed (ECDSA P-256, RSA-2048 signatures, one core, ${speed_s} s each)" >&2
speed=$(timeout 120 openssl speed -seconds "$speed_s" ecdsap256 rsa2048 2>/dev/null) || die "openssl speed failed"
ecdsa_sign=$(awk '/bits ecdsa \(nistp256\)/ { print $(NF-1) }' <<<"$speed")
rsa_sign=$(awk '/^rsa 2048 bits/ { print $(NF-1) }' <<<"$speed")
if [ -z "$ecdsa_sign" ] || [ -z "$rsa_sign" ]; then die "cannot read openssl speed's output"; fi

# wait_file FILE: up to 5 s for FILE to appear.
wait_file() {
	local _
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}

# --- backends: two plain TCP echo ports (the chat nodes), the same for both proxies
"$bin/mcs-dp-echo" --ports 2 --port-file "$work/backend.ports" 2>"$work/backend.log" &
pids+=($!)
wait_file "$work/backend.ports" || die "the echo backend did not start: $(cat "$work/backend.log")"
IFS=, read -r bport1 bport2 <<<"$(cut -d= -f2 "$work/backend.ports")"

# start_haproxy NAME CFG: HAProxy on CFG as the gateway runs it (master-worker), on its own
# runtime directory and a free port, with the two backends added over the admin socket.
start_haproxy() {
	local name=$1 conf=$2 hap=$work/$1 ok=0 n bp out
	mkdir -p "$hap"
	cp "$pem" "$hap/server.pem"
	port[$name]=$("$load" --free-port)
	# The per-address limits would refuse a load generator: off (0), as documented.
	MCS_RUN_DIR=$hap MCS_PORT=${port[$name]} MCS_BIND_ADDR=127.0.0.1 \
		MCS_LIMIT_CONN_RATE=0 MCS_LIMIT_CONCURRENT=0 \
		haproxy -W -db -f "$conf" >"$hap/haproxy.log" 2>&1 &
	pid[$name]=$!
	pids+=($!)
	for _ in $(seq 100); do
		if [ -S "$hap/admin.sock" ] && echo "show info" | socat -T2 - "UNIX-CONNECT:$hap/admin.sock" 2>/dev/null | grep -q '^Pid: '; then
			ok=1
			break
		fi
		kill -0 "${pid[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	[ "$ok" = 1 ] || die "haproxy ($name) did not start: $(tail -n 5 "$hap/haproxy.log")"
	for n in 1 2; do
		bp=$([ "$n" = 1 ] && echo "$bport1" || echo "$bport2")
		out=$(printf 'add server mcs/b%s 127.0.0.1:%s\n' "$n" "$bp" | socat -T2 - "UNIX-CONNECT:$hap/admin.sock")
		grep -qi 'registered' <<<"$out" || die "haproxy ($name) refused add server: $out"
		printf 'enable server mcs/b%s\n' "$n" | socat -T2 - "UNIX-CONNECT:$hap/admin.sock" >/dev/null
	done
}

declare -A port pid
# DP_EXTRA="name=cfg ...": more HAProxy configurations measured as targets of their own (tuning).
for extra in ${DP_EXTRA:-}; do
	xname=${extra%%=*}
	case "$xname" in haproxy | nginx | direct | *[!a-z0-9_]* | '') die "DP_EXTRA: bad name \"$xname\"" ;; esac
	[ -f "${extra#*=}" ] || die "DP_EXTRA: no file ${extra#*=}"
	targets+=("$xname")
done
for target in "${targets[@]}"; do
	case "$target" in
	direct)
		# The no-proxy baseline: a TLS-terminating echo node, one thread per CPU like the proxies.
		"$bin/mcs-dp-echo" --tls "$pem" --threads "$(nproc)" --port-file "$work/direct.ports" 2>"$work/direct.log" &
		pid[direct]=$!
		pids+=($!)
		wait_file "$work/direct.ports" || die "the direct TLS node did not start: $(cat "$work/direct.log")"
		port[direct]=$(cut -d= -f2 "$work/direct.ports")
		;;
	haproxy)
		start_haproxy haproxy "$cfg"
		;;
	nginx)
		ngx=$work/nginx
		mkdir -p "$ngx/logs"
		port[nginx]=$("$load" --free-port)
		# What an operator writes: stream, ssl, least_conn, the same certificate and backends,
		# TLS 1.2 and 1.3 (1.22 leaves 1.3 out unless told); everything else nginx's defaults.
		cat >"$ngx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes auto;
worker_rlimit_nofile 20000;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log warn;
events { worker_connections 8192; }
stream {
    upstream mcs {
        least_conn;
        server 127.0.0.1:$bport1;
        server 127.0.0.1:$bport2;
    }
    server {
        listen 127.0.0.1:${port[nginx]} ssl;
        ssl_certificate $pem;
        ssl_certificate_key $pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        proxy_pass mcs;
    }
}
EOF
		nginx -p "$ngx/" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" -g 'daemon off;' >"$ngx/stdout.log" 2>&1 &
		pid[nginx]=$!
		pids+=($!)
		;;
	*)
		xcfg=
		for extra in ${DP_EXTRA:-}; do [ "${extra%%=*}" = "$target" ] && xcfg=${extra#*=}; done
		[ -n "$xcfg" ] || die "unknown target \"$target\" in DP_TARGETS (haproxy, nginx, direct)"
		start_haproxy "$target" "$xcfg"
		;;
	esac
done

for target in "${targets[@]}"; do
	"$load" --mode probe --port "${port[$target]}" --duration 5 >/dev/null ||
		die "$target does not answer a TLS echo on 127.0.0.1:${port[$target]}"
done
sleep 0.3 # nginx/haproxy workers settle (children must exist for the CPU accounting)

# run_step TARGET STEP ROUND: one bounded load-client run, its key=value output kept.
run_step() {
	local target=$1 step=$2 r=$3 args
	case "$step" in
	hs) args=(--mode hs --conns "$hs_conns" --threads "$client_threads" --duration "$d_hs") ;;
	tput) args=(--mode tput --conns 16 --block 16384 --window 65536 --duration "$d_tput") ;;
	lat) args=(--mode lat --conns 64 --rate 2000 --msg 64 --duration "$d_lat") ;;
	lat1) args=(--mode lat --conns 1 --rate 0 --msg 64 --duration "$d_lat1") ;;
	esac
	timeout 60 "$load" "${args[@]}" --warmup "$warm" --port "${port[$target]}" --cpu "${pid[$target]}" \
		>"$work/res/$target.$step.$r" 2>"$work/res/$target.$step.$r.err" ||
		echo "dataplane: $target $step round $r failed: $(head -c 300 "$work/res/$target.$step.$r.err")" >&2
}

mkdir -p "$work/res"
n=${#targets[@]}
echo "dataplane: $mode mode, $rounds rounds, targets ${targets[*]} (order rotated each round)" >&2
for r in $(seq "$rounds"); do
	for step in "${steps[@]}"; do
		for k in $(seq 0 $((n - 1))); do
			target=${targets[$(((k + r - 1) % n))]}
			run_step "$target" "$step" "$r"
		done
	done
	echo "dataplane: round $r/$rounds done" >&2
done

{
	echo "mode=$mode"
	echo "rounds=$rounds"
	echo "nproc=$(nproc)"
	echo "key=$keykind"
	echo "ecdsa_sign=$ecdsa_sign"
	echo "rsa_sign=$rsa_sign"
	echo "haproxy_cfg=$cfg"
	echo "targets=${targets[*]}"
	echo "steps=${steps[*]}"
} >"$work/meta"
python3 "$here/report.py" "$work/meta" "$work/res" ${BENCH_OUT:+"$BENCH_OUT"}
