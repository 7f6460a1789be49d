#!/usr/bin/env bash
# The tuning experiment behind haproxy/haproxy.cfg's TLS settings: copies of the shipped
# configuration, each with one candidate setting added to `global` or to the frontend's `bind`
# line, measured as targets of their own beside the shipped one and nginx, in the same
# interleaved rounds (bench/dataplane/run.sh with DP_EXTRA).
#   bench/dataplane/tune.sh [--quick] [NAME ...]     default: every candidate below
# Environment: DP_STEPS (default "hs tput"), DP_ROUNDS, DP_KEY, as for run.sh.
set -euo pipefail

here=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cfg=${DP_HAPROXY_CFG:-$here/../../haproxy/haproxy.cfg}
args=()
names=()
for a in "$@"; do
	case "$a" in
	--quick) args+=(--quick) ;;
	-h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) names+=("$a") ;;
	esac
done

# name | lines added to global (";" separates) | words added to the bind line | what it tests
candidates=(
	"t1|nbthread 1||one thread: no OpenSSL 3.0 lock contention between threads, at most one core"
	"c0|tune.ssl.cachesize 0||no shared session cache (TLS 1.3 and 1.2 ticket resumption stay)"
	"nt||no-tls-tickets|stateful tickets via the session cache instead of encrypted tickets"
	"t1c0|nbthread 1;tune.ssl.cachesize 0||both"
	"b32|tune.bufsize 32768||bigger buffers (throughput)"
	"ll|tune.sched.low-latency on||scheduler favours short tasks (latency under load)"
	"x25519|ssl-default-bind-curves X25519:P-256||curves made explicit, X25519 first"
)
[ "${#names[@]}" -gt 0 ] || for c in "${candidates[@]}"; do names+=("${c%%|*}"); done

work=$(mktemp -d "${TMPDIR:-/tmp}/mcs-dp-tune.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
extra=
for n in "${names[@]}"; do
	line=
	for c in "${candidates[@]}"; do [ "${c%%|*}" = "$n" ] && line=$c; done
	[ -n "$line" ] || { echo "tune: unknown candidate \"$n\"" >&2; exit 2; }
	IFS='|' read -r _ glob bind what <<<"$line"
	awk -v glob="$glob" -v bind="$bind" '
		{ print_line = $0 }
		/^    bind "\$\{MCS_BIND_ADDR/ && bind != "" { print_line = $0 " " bind }
		{ print print_line }
		/^global$/ && glob != "" { n = split(glob, g, ";"); for (i = 1; i <= n; i++) print "    " g[i] }
	' "$cfg" >"$work/$n.cfg"
	cmp -s "$cfg" "$work/$n.cfg" && { echo "tune: candidate $n changed nothing" >&2; exit 1; }
	echo "tune: $n = ${glob:+global: $glob }${bind:+bind: $bind }($what)" >&2
	extra+="$n=$work/$n.cfg "
done
DP_TARGETS="haproxy nginx" DP_STEPS=${DP_STEPS:-hs tput} DP_EXTRA=$extra bash "$here/run.sh" "${args[@]}"
