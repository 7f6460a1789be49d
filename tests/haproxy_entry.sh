#!/usr/bin/env bash
# docker/entry/haproxy.sh against a real haproxy (no controller: the servers file is written
# here): a servers file HAProxy refuses is moved aside with one line and HAProxy still starts;
# one unconfirmed for over 30 s is not trusted at a cold start; a fresh one is loaded; a reload
# keeps every server and its state (an operator's drain), and spends the saved states.
# Usage: haproxy_entry.sh ENTRY_DIR TLS_BUILD_DIR GEN_DEV_CERT
set -euo pipefail

ENTRY="$1" TLS_BUILD="$2" GEN_CERT="$3"
say() { printf 'haproxy_entry: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
for p in haproxy socat python3; do
	command -v "$p" >/dev/null || { say "$p not found"; [ "${CI:-}" = true ] && exit 1; exit 77; }
done

DIR="$(mktemp -d "${TMPDIR:-/tmp}/mcs-lb-entry.XXXXXX")"
PIDS=()
cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		say "kept $DIR"; tail -n 20 "$DIR"/*.log >&2 2>/dev/null || true
	else
		rm -rf -- "$DIR"
	fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export MCS_RUN_DIR="$DIR/run" MCS_TLS_DIR="$DIR/tls" MCS_BIND_ADDR=127.0.0.1 MCS_MAXCONN=2000
export MCS_FRONTEND_MAXCONN=1900 PATH="$TLS_BUILD:$PATH"
mkdir -p "$MCS_RUN_DIR"
sh "$GEN_CERT" "$MCS_TLS_DIR" >/dev/null
SERVERS="$MCS_RUN_DIR/servers.cfg"

admin() { printf '%s\n' "$1" | socat -t 3 - "UNIX-CONNECT:$MCS_RUN_DIR/admin.sock"; }
# name admin_state of every server of backend mcs, one per line
servers() { admin "show servers state mcs" | awk 'NR > 2 && NF > 7 { print $4, $7 }' | sort; }

start() { # $1: log name
	MCS_PORT=$(free_port)
	export MCS_PORT
	"$ENTRY/haproxy.sh" run >"$DIR/$1.log" 2>&1 &
	HAP=$!
	PIDS+=("$HAP")
	for _ in $(seq 100); do admin "show info" 2>/dev/null | grep -q '^Pid:' && return 0; sleep 0.1; done
	fail "haproxy did not start (see $DIR/$1.log)"
}

stop() {
	kill -TERM "$HAP"
	for _ in $(seq 50); do kill -0 "$HAP" 2>/dev/null || return 0; sleep 0.1; done
	fail "haproxy $HAP did not stop"
}

# 1. A servers file HAProxy refuses: moved to .bad, one line says so, HAProxy serves anyway.
printf 'backend mcs\n    server a 10.0.0.1:80 no-such-keyword\n' >"$SERVERS"
start bad
[ -f "$SERVERS.bad" ] || fail "the refused servers file was not moved aside"
grep -q "servers.cfg refused" "$DIR/bad.log" || fail "no line naming the refused servers file"
[ "$(grep -c 'servers.cfg refused' "$DIR/bad.log")" -eq 1 ] || fail "more than one line about it"
[ -z "$(servers)" ] || fail "servers after a refused file: $(servers)"
stop

# 2. A servers file not confirmed for over 30 s is not trusted at a cold start.
printf 'backend mcs\n    server 127.0.0.1:9 127.0.0.1:9 check id 1\n' >"$SERVERS"
touch -d '-2 minutes' "$SERVERS"
start stale
[ -f "$SERVERS.stale" ] || fail "the stale servers file was not moved aside"
[ -z "$(servers)" ] || fail "servers from a stale file: $(servers)"
stop

# 3. A fresh one is loaded; a reload keeps both servers and the operator's drain on one.
printf 'backend mcs\n    server 127.0.0.1:9 127.0.0.1:9 id 1\n    server 127.0.0.1:10 127.0.0.1:10 id 2\n' >"$SERVERS"
start fresh
[ "$(servers | wc -l)" -eq 2 ] || fail "fresh servers file not loaded: $(servers)"
admin "set server mcs/127.0.0.1:9 state drain" >/dev/null
before=$(admin "show info" | sed -n 's/^Pid: //p')
"$ENTRY/haproxy.sh" reload >"$DIR/reload.log" 2>&1 || fail "reload failed: $(cat "$DIR/reload.log")"
after=$(admin "show info" | sed -n 's/^Pid: //p')
{ [ -n "$after" ] && [ "$after" != "$before" ]; } || fail "no new worker after the reload ($before -> $after)"
got=$(servers | tr '\n' ' ')
[ "$got" = "127.0.0.1:10 0 127.0.0.1:9 8 " ] || fail "after the reload: '$got' (want 127.0.0.1:9 drained, 127.0.0.1:10 ready)"
[ "$(cat "$MCS_RUN_DIR/servers.state")" = 1 ] || fail "the saved states were not spent after the reload"
stop
say "ok: refused and stale servers files set aside, a reload keeps servers and drains"
