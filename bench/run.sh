#!/usr/bin/env bash
# The whole benchmark in one go: the data plane (bench/dataplane/run.sh), then the
# control plane and the capacity (bench/bench_*.sh), then one table of every figure against its goal.
#   bench/run.sh [--quick]     --quick: about 3.5 minutes (smaller samples, said in the output)
# Environment:
#   BUILD_DIR (or MCS_BUILD_DIR)  the build to measure (default <root>/build; ./mcs-lb bench builds it)
#   BENCH_REPORT=path             also write the whole summary to this file
#   BENCH_MARKDOWN=1              print the summary as markdown (the results of BENCHMARKS.md)
#   BENCH_UPDATE_DOC=1            replace the results section of BENCHMARKS.md with this run's
#   BENCH_KV=path                 keep every raw `key=value` figure in this file
# Every benchmark writes `key=value` lines to $BENCH_OUT; one may put a figure into the table
# itself with NAME.goal=<op><number> (op <=, <, >=, >, =) and optional NAME.label / NAME.unit.
# Loopback only; every benchmark is bounded (timeout) and stops the processes it started by PID.
# Exits non-zero only when a benchmark could not run at all, never because a goal was missed.
set -euo pipefail

root=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-${MCS_BUILD_DIR:-$root/build}}
quick=0
for arg in "$@"; do
	case "$arg" in
	--quick) quick=1 ;;
	-h | --help)
		sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "bench: unknown argument \"$arg\" (usage: bench/run.sh [--quick])" >&2
		exit 2
		;;
	esac
done

for tool in haproxy redis-server redis-cli socat curl python3 bc openssl timeout; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (./mcs-lb bench installs it)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mcs-bench-run.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
export BENCH_OUT=$work/figures.kv
: >"$BENCH_OUT"

# The settings of each mode: sample counts and the controller settings the figures depend on.
if [ "$quick" -eq 1 ]; then
	mode="quick"
	discovery=(15 1000)   # samples per mode, poll ms
	failover=(2 2000 1000 1000) # samples, TTL ms, poll ms, check inter ms
	steady=10
	scrape=(10000 3)
	reload=(20 2)
	dp_args=(--quick)
	dp_limit=240
	bw_args=(--quick)
	capacity=(1000 150) # idle TLS clients held, burst from one address
	cap_dp_rounds=1     # rounds of the data plane's handshake step beside the storm
else
	mode="full"
	discovery=(50 1000)
	failover=(5 5000 1000 3000)
	steady=30
	scrape=(10000 10)
	reload=(100 5)
	dp_args=()
	dp_limit=900
	bw_args=()
	capacity=(9000 300)
	cap_dp_rounds=3
fi
settings="ZADD->routed: ${discovery[0]} samples per mode, poll ${discovery[1]} ms; heartbeat stop: ${failover[0]} samples, TTL ${failover[1]} ms, poll ${failover[2]} ms; port dies: check inter ${failover[3]} ms, fall 3; cold start: 1,000 and 10,000 nodes; steady state: ${steady} s at 10,000 nodes; scrape: ${scrape[0]} nodes, median of ${scrape[1]}; reload: ${reload[0]} nodes, ${reload[1]} reloads; capacity: ${capacity[0]} idle TLS clients (open files: $(ulimit -Hn) per process), ${capacity[1]} from one address"

results=()
failed=0
# step NAME LIMIT_S CMD...: runs one benchmark, bounded; a failure is recorded, the run goes on.
step() {
	local name=$1 limit=$2 rc=0 t0
	shift 2
	printf '\n==== %s\n' "$name"
	t0=$(date +%s)
	timeout -k 10 "$limit" "$@" || rc=$?
	if [ "$rc" -eq 0 ]; then
		results+=("$name: ran ($(($(date +%s) - t0)) s)")
	else
		[ "$rc" -eq 124 ] && echo "bench: $name did not finish within $limit s" >&2
		results+=("$name: COULD NOT RUN (exit $rc)")
		failed=1
	fi
}

b=$root/bench
start=$(date +%s)
if [ -f "$b/dataplane/run.sh" ]; then
	step "data plane (bench/dataplane/run.sh ${dp_args[*]})" "$dp_limit" bash "$b/dataplane/run.sh" "${dp_args[@]}"
else
	printf '\n==== data plane\nbench: bench/dataplane/run.sh is not there: the data-plane benchmark is skipped\n'
	results+=("data plane: SKIPPED (bench/dataplane/run.sh is not there)")
fi
step "bandwidth limit on vs off (bench_bwlim.sh ${bw_args[*]})" 180 "$b/bench_bwlim.sh" "${bw_args[@]}"
step "ZADD -> first client routed (bench_discovery.sh ${discovery[*]})" 300 "$b/bench_discovery.sh" "${discovery[@]}"
step "heartbeat stops / port dies (bench_failover.sh ${failover[*]})" 300 "$b/bench_failover.sh" "${failover[@]}"
step "cold start, 1,000 nodes (bench_controller.sh 1000 0)" 120 "$b/bench_controller.sh" 1000 0
step "cold start + steady state, 10,000 nodes (bench_controller.sh 10000 $steady)" 300 "$b/bench_controller.sh" 10000 "$steady"
step "/metrics scrape (bench_scrape.sh ${scrape[*]})" 300 "$b/bench_scrape.sh" "${scrape[@]}"
step "reload under load (bench_reload.sh ${reload[*]})" 300 "$b/bench_reload.sh" "${reload[@]}"
step "capacity and reconnect storm (bench_capacity.sh ${capacity[*]})" $((quick ? 480 : 1800)) env CAP_DP_ROUNDS="$cap_dp_rounds" "$b/bench_capacity.sh" "${capacity[@]}"
elapsed=$(($(date +%s) - start))

# The machine, read now (never typed in).
first_line() { "$@" 2>&1 | head -n1 || true; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
nginx_v=$(command -v nginx >/dev/null && first_line nginx -v | sed 's/^nginx version: //' || echo "not installed")
machine=(
	"CPUs: $(nproc) x ${cpu:-unknown}"
	"kernel: $(uname -sr)"
	"HAProxy: $(first_line haproxy -v | sed 's/ - https.*//')"
	"nginx: $nginx_v"
	"OpenSSL: $(first_line openssl version)"
	"Redis: $(first_line redis-server --version | sed 's/ sha=.*//')"
	"Python: $(first_line python3 --version)"
	"load average before the summary: $(cut -d' ' -f1-3 /proc/loadavg)"
)
cmd="bench/run.sh${1:+ $*}"

summary() {
	local line
	if [ "${BENCH_MARKDOWN:-}" = 1 ]; then
		# shellcheck disable=SC2016 # markdown backticks, not a command substitution
		printf 'Run of `%s` (%s mode, %s s), %s, build `%s`.\n\n' "$cmd" "$mode" "$elapsed" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$BUILD_DIR"
		for line in "${machine[@]}"; do printf -- '- %s\n' "$line"; done
		printf -- '- settings: %s\n\n' "$settings"
		BENCH_MARKDOWN=1 python3 "$b/benchlib.py" summary --markdown "$BENCH_OUT"
		printf '\n'
		for line in "${results[@]}"; do printf -- '- %s\n' "$line"; done
	else
		printf '==== summary: %s (%s mode, %s s), %s\n' "$cmd" "$mode" "$elapsed" "$(date -u '+%Y-%m-%d %H:%M UTC')"
		for line in "${machine[@]}"; do printf '%s\n' "$line"; done
		printf 'settings: %s\n\n' "$settings"
		python3 "$b/benchlib.py" summary "$BENCH_OUT"
		printf '\n'
		for line in "${results[@]}"; do printf '%s\n' "$line"; done
	fi
}

printf '\n'
summary | tee "$work/summary"
[ -z "${BENCH_REPORT:-}" ] || cp -- "$work/summary" "$BENCH_REPORT"
[ -z "${BENCH_KV:-}" ] || cp -- "$BENCH_OUT" "$BENCH_KV"
if [ "${BENCH_UPDATE_DOC:-}" = 1 ]; then
	doc=$root/BENCHMARKS.md
	[ "${BENCH_MARKDOWN:-}" = 1 ] || BENCH_MARKDOWN=1 summary >"$work/summary"
	if grep -q '^<!-- results:begin -->$' "$doc" && grep -q '^<!-- results:end -->$' "$doc"; then
		awk -v f="$work/summary" '
			/^<!-- results:begin -->$/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
			/^<!-- results:end -->$/ { skip = 0 }
			!skip { print }' "$doc" >"$work/doc" && cat "$work/doc" >"$doc"
		echo "bench: results section of $doc replaced" >&2
	else
		echo "bench: $doc has no <!-- results:begin/end --> markers: not updated" >&2
	fi
fi
[ "$failed" -eq 0 ] || echo "bench: at least one benchmark could not run (see above)" >&2
exit "$failed"
