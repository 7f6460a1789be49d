#!/usr/bin/env bash
# Builds every libFuzzer target with clang (fuzzer + ASan + UBSan, the project sources they need
# compiled in) and runs each for SECONDS (default 20) over its seed corpus in fuzz/corpus/<target>.
# Fails on a build error or any crash, leak, sanitizer report or timeout; prints executions per
# target. Usage: fuzz/run.sh [SECONDS] [TARGET...]   (FUZZ_BUILD_DIR: default build-fuzz)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${1:-20}"
[ $# -gt 0 ] && shift
OUT="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
CC="${FUZZ_CC:-clang}"

say() { printf 'fuzz: %s\n' "$*" >&2; }
command -v "$CC" >/dev/null || { say "$CC not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
[[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || { say "SECONDS: \"$SECONDS_EACH\" is not a number"; exit 2; }

# target: the project sources it needs and the libraries they link (pkg-config names).
declare -A SRCS=(
	[member_parse]="controller/member.c"
	[redis_url_parse]="controller/redis_url.c"
	[hap_csv_parse]="haproxy/hap_csv.c haproxy/hap_parse.c"
	[hap_servers_state_parse]="haproxy/hap_servers.c haproxy/hap_parse.c"
	[hap_info_get]="haproxy/hap_info.c haproxy/hap_table.c haproxy/hap_bwlim.c haproxy/hap_parse.c"
	[hap_sess_ids]="haproxy/hap_sess.c haproxy/hap_cmd.c common/fmt.c"
	[agent_request_parse]="controller/agent.c haproxy/hap_cmd.c common/addr.c common/text.c common/log.c common/fmt.c common/mono.c"
	[agent_override_parse]="controller/agent_policy.c controller/agent.c haproxy/hap_cmd.c common/addr.c common/text.c common/log.c common/fmt.c common/mono.c"
	[bridge_ctl_parse]="metrics-bridge/bridge_ctl.c ctlfile/ctl_file.c"
	[redis_watch_parse]="controller/redis_watch.c redis/redis_conn.c redis/resp_scan.c redis/redis_sentinel.c common/fmt.c common/mono.c"
	[cfg_set]="common/cfg.c common/text.c common/log.c controller/redis_url.c"
	[proxy_v2_parse]="demo/proxy_v2.c"
	[resp_scan]="redis/resp_scan.c"
)
# common/log.c writes JSON lines with jansson.
declare -A LIBS=(
	[redis_url_parse]="libcurl" [bridge_ctl_parse]="jansson" [redis_watch_parse]="hiredis openssl" [resp_scan]="hiredis"
	[cfg_set]="libcurl jansson" [agent_request_parse]="jansson" [agent_override_parse]="jansson"
)
ALL=(member_parse redis_url_parse hap_csv_parse hap_servers_state_parse hap_info_get hap_sess_ids agent_request_parse
	agent_override_parse bridge_ctl_parse redis_watch_parse cfg_set proxy_v2_parse resp_scan)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

mkdir -p "$OUT"
INC=(-I"$ROOT/common" -I"$ROOT/tls" -I"$ROOT/haproxy" -I"$ROOT/ctlfile" -I"$ROOT/controller" -I"$ROOT/metrics-bridge" -I"$ROOT/demo" -I"$ROOT/redis")
# The version meson defines for every program (cfg.c prints it), read from the same one place.
VERSION="$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$ROOT/meson.build" | head -n 1)"
[ -n "$VERSION" ] || { say "no project version in meson.build"; exit 1; }
CFLAGS=(-std=gnu11 -D_GNU_SOURCE "-DMCS_VERSION=\"$VERSION\"" -g -O1 -fno-omit-frame-pointer "-fsanitize=fuzzer,address,undefined"
	-fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter -Werror)

build() {
	local t="$1" s src=() libs=()
	for s in ${SRCS[$t]}; do src+=("$ROOT/$s"); done
	if [ -n "${LIBS[$t]:-}" ]; then
		# shellcheck disable=SC2086 # a list of package names; pkg-config prints several words
		read -r -a libs <<<"$(pkg-config --cflags --libs ${LIBS[$t]})"
	fi
	"$CC" "${CFLAGS[@]}" "${INC[@]}" -o "$OUT/fuzz_$t" "$ROOT/fuzz/fuzz_$t.c" "${src[@]}" "${libs[@]}" -lm
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for t in "${TARGETS[@]}"; do
	[ -n "${SRCS[$t]:-}" ] || { say "unknown target $t"; exit 2; }
	build "$t" || { say "$t: build failed"; failed+=("$t"); continue; }
	# New inputs go to a scratch dir, so the checked-in seeds stay small and reviewed; crash
	# inputs land in $OUT/artifacts-<target>/ (add them to fuzz/corpus/<target>/ once fixed).
	work="$OUT/corpus-$t"
	art="$OUT/artifacts-$t"
	mkdir -p "$work" "$art"
	log="$OUT/fuzz_$t.log"
	if "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-print_final_stats=1 -artifact_prefix="$art/" "$work" "$ROOT/fuzz/corpus/$t" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		printf 'fuzz: %-24s ok  %10s executions in %ss\n' "$t" "${execs:-?}" "$SECONDS_EACH"
	else
		say "$t: FAILED (log $log):"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 20 >&2 || tail -n 30 "$log" >&2
		failed+=("$t")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	say "failed: ${failed[*]}"
	exit 1
fi
