#!/usr/bin/env bash
# What the per-address bandwidth limit costs on HAProxy 2.6 (haproxy/bwlim.lua, a Lua filter):
# the gateway with MCS_LIMIT_BYTES_PER_S set against the gateway without it, side by side on
# the same echo backends, interleaved rounds, medians. Every client comes from 127.0.0.1, so all
# of a step's connections share one address's limit.
#   latency  64 TLS connections, 2,000 messages/s of 64 bytes in all (128 KB/s each way) through
#            a limit of 1 MB/s (never reached): p50 and p99 round trip; goal within 10% of off.
#            And one connection, 64-byte messages back to back (about 0.6 MB/s each way): the
#            filter's own cost per message, without queueing behind the other connections
#   CPU/MB   16 connections each keeping 64 KiB of 16 KiB writes in flight, limit 4294967295 B/s
#            (the most, never reached: every byte goes through the filter, none waits): HAProxy's
#            CPU (master + worker, /proc) per MB echoed
# Usage: bench/bench_bwlim.sh [--quick]   (BUILD_DIR=build, BENCH_OUT=file: figures)
set -euo pipefail
# shellcheck source=bench/bench_lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/bench_lib.sh"
if [ "${1:-}" = --quick ]; then
	rounds=3 d_lat=1.2 d_tput=1 warm=0.3
else
	rounds=5 d_lat=3 d_tput=3 warm=0.5
fi
lat_limit=1000000
load=$build/bench/dataplane/mcs-dp-load
need_bin "$load"
need_bin "$build/bench/dataplane/mcs-dp-echo"
need_bin "$build/tls/mcs-lb-tls-check"

"$build/bench/dataplane/mcs-dp-echo" --ports 2 --port-file "$work/backend.ports" 2>"$work/backend.log" &
pids+=($!)
wait_for "the echo backend" 5 test -s "$work/backend.ports"
IFS=, read -r bport1 bport2 <<<"$(cut -d= -f2 "$work/backend.ports")"

declare -A port pid
# gateway NAME LIMIT: haproxy.cfg as shipped with MCS_LIMIT_BYTES_PER_S=LIMIT (0: off), the two
# echo backends added over its admin socket. Connection limits off: one client address.
gateway() {
	local name=$1 run=$work/$1 n bp out
	make_cert "$run"
	port[$name]=$(free_port)
	MCS_RUN_DIR=$run MCS_PORT=${port[$name]} MCS_BIND_ADDR=127.0.0.1 MCS_HAPROXY_DIR=$root/haproxy \
		MCS_LIMIT_CONN_RATE=0 MCS_LIMIT_CONCURRENT=0 MCS_LIMIT_BYTES_PER_S=$2 \
		haproxy -W -db -f "$root/haproxy/haproxy.cfg" >"$work/haproxy-$name.log" 2>&1 &
	pid[$name]=$!
	pids+=($!)
	wait_for "haproxy ($name)" 10 hap_answers "$run"
	for n in 1 2; do
		bp=$([ "$n" = 1 ] && echo "$bport1" || echo "$bport2")
		out=$(printf 'add server mcs/b%s 127.0.0.1:%s\n' "$n" "$bp" | socat -T2 - "UNIX-CONNECT:$run/admin.sock")
		grep -qi registered <<<"$out" || bench_die "haproxy ($name) refused add server: $out"
		printf 'enable server mcs/b%s\n' "$n" | socat -T2 - "UNIX-CONNECT:$run/admin.sock" >/dev/null
	done
	"$load" --mode probe --port "${port[$name]}" --duration 5 >/dev/null || bench_die "haproxy ($name) does not echo"
}
gateway off 0
gateway lat "$lat_limit"
gateway max 4294967295
echo "show mcs bwlim" | socat -T2 - "UNIX-CONNECT:$work/lat/stats.sock" | grep -q '^throttled_bytes: ' ||
	bench_die "the Lua limit is not loaded (haproxy-lat.log)"

# step NAME STEP ROUND: one bounded load-client run, its key=value output kept.
step() {
	local args
	case "$2" in
	lat) args=(--mode lat --conns 64 --rate 2000 --msg 64 --duration "$d_lat") ;;
	lat1) args=(--mode lat --conns 1 --rate 0 --msg 64 --duration "$d_tput") ;;
	tput) args=(--mode tput --conns 16 --block 16384 --window 65536 --duration "$d_tput") ;;
	esac
	timeout 60 "$load" "${args[@]}" --warmup "$warm" --port "${port[$1]}" --cpu "${pid[$1]}" \
		>"$work/$1.$2.$3" 2>"$work/$1.$2.$3.err" || bench_die "$1 $2 round $3 failed: $(head -c 300 "$work/$1.$2.$3.err")"
}
echo "bandwidth limit: $rounds rounds, order swapped every round" >&2
for r in $(seq "$rounds"); do
	if [ $((r % 2)) = 1 ]; then order=(off lat off max); else order=(lat off max off); fi
	step "${order[0]}" lat "$r"
	step "${order[1]}" lat "$r"
	step "${order[0]}" lat1 "$r"
	step "${order[1]}" lat1 "$r"
	step "${order[2]}" tput "$r"
	step "${order[3]}" tput "$r"
done
throttled=$(echo "show mcs bwlim" | socat -T2 - "UNIX-CONNECT:$work/lat/stats.sock" | sed -n 's/^throttled_bytes: //p')
[ "$throttled" = 0 ] || echo "bench: $throttled bytes waited for the limit: the load was not below it" >&2

python3 - "$work" "$rounds" "$lat_limit" <<'EOF' | bench_kv
import statistics, sys
work, rounds, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def med(name, step, key):
    vals = []
    for r in range(1, rounds + 1):
        for line in open(f"{work}/{name}.{step}.{r}"):
            k, _, v = line.strip().partition("=")
            if k == key:
                vals.append(float(v))
    # every round's figure on stderr: the spread, not only the median
    print(f"{name} {step} {key}: " + " ".join(f"{x:.1f}" for x in vals), file=sys.stderr)
    return statistics.median(vals)
f = {}
for name in ("off", "lat"):
    for q in ("p50", "p99"):
        f[f"bwlim_{name}_{q}_us"] = med(name, "lat", f"{q}_us")
        f[f"bwlim_{name}_1conn_{q}_us"] = med(name, "lat1", f"{q}_us")
for name in ("off", "max"):
    f[f"bwlim_{name}_mb_per_s"] = med(name, "tput", "mb_per_s")
    f[f"bwlim_{name}_cpu_ms_per_mb"] = 1000 / med(name, "tput", "mb_per_cpu_s")
for k, v in f.items():
    print(f"{k}={v:.1f}")
for q in ("p50", "p99"):
    k = f"bwlim_{q}_ratio"
    print(f"{k}={f[f'bwlim_lat_{q}_us'] / f[f'bwlim_off_{q}_us']:.3f}")
    print(f"{k}.goal=<=1.10")
    print(f"{k}.label=bandwidth limit on (1 MB/s, 128 KB/s sent): {q} latency / off")
    print(f"{k}.unit=x")
    k = f"bwlim_1conn_{q}_ratio"
    print(f"{k}={f[f'bwlim_lat_1conn_{q}_us'] / f[f'bwlim_off_1conn_{q}_us']:.3f}")
    print(f"{k}.label=bandwidth limit on, one connection back to back: {q} latency / off")
    print(f"{k}.unit=x")
k = "bwlim_cpu_per_mb_ratio"
print(f"{k}={f['bwlim_max_cpu_ms_per_mb'] / f['bwlim_off_cpu_ms_per_mb']:.3f}")
print(f"{k}.label=bandwidth limit on (never reached): HAProxy CPU per MB / off")
print(f"{k}.unit=x")
EOF
