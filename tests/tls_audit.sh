#!/usr/bin/env bash
# TLS audit by an outside tool: starts a real haproxy with haproxy/haproxy.cfg and a fresh dev
# certificate on a free loopback port, runs Debian's testssl.sh (or sslscan) against it and
# asserts the policy: TLS 1.2+, ECDHE AEAD ciphers only, forward secrecy, no vulnerability.
# Usage: tls_audit.sh HAPROXY_CFG TLS_CHECK_BIN GEN_DEV_CERT   (exit 77: no audit tool, not in CI)
set -euo pipefail

CFG="$1" TLS_CHECK="$2" GEN_CERT="$3"
say() { printf 'tls_audit: %s\n' "$*" >&2; }
skip() { say "$*"; [ "${CI:-}" = true ] && exit 1; exit 77; }

command -v haproxy >/dev/null || skip "haproxy not found (apt-get install haproxy)"
if command -v testssl >/dev/null; then TOOL=testssl
elif command -v testssl.sh >/dev/null; then TOOL=testssl.sh
elif command -v sslscan >/dev/null; then TOOL=sslscan
else skip "neither testssl.sh nor sslscan found (apt-get install testssl.sh)"; fi

DIR="$(mktemp -d "${TMPDIR:-/tmp}/mcs-lb-audit.XXXXXX")"
HAP_PID=
cleanup() {
	local rc=$?
	if [ -n "$HAP_PID" ] && kill -0 "$HAP_PID" 2>/dev/null; then
		kill -TERM "$HAP_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$HAP_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$HAP_PID" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ]; then
		say "failed; haproxy log:"; cat "$DIR/haproxy.log" >&2 2>/dev/null || true
		say "kept $DIR"
	else
		rm -rf -- "$DIR"
	fi
}
trap cleanup EXIT

# A free loopback port: bind port 0, read what the kernel gave, release it.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$DIR/tls" "$DIR/run"
sh "$GEN_CERT" "$DIR/tls" >/dev/null
"$TLS_CHECK" "$DIR/tls/server.cert" "$DIR/tls/server.key" "$DIR/run/server.pem"

# The harness's environment (tests/integration/harness.c h_haproxy_start); the per-address
# connection limits are off: they would refuse the audit's hundreds of handshakes, and they
# are no part of the TLS policy.
env MCS_RUN_DIR="$DIR/run" MCS_PORT="$PORT" MCS_BIND_ADDR=127.0.0.1 MCS_MAXCONN=8000 \
	MCS_CHECK_TIMEOUT_MS=500 MCS_IDLE_TIMEOUT_S=21600 MCS_LIMIT_CONN_RATE=0 MCS_LIMIT_CONCURRENT=0 \
	haproxy -W -db -f "$CFG" >"$DIR/haproxy.log" 2>&1 &
HAP_PID=$!
ready=0
for _ in $(seq 100); do
	kill -0 "$HAP_PID" 2>/dev/null || break
	if openssl s_client -connect "127.0.0.1:$PORT" -brief </dev/null >/dev/null 2>&1; then ready=1; break; fi
	sleep 0.1
done
[ "$ready" = 1 ] || { say "haproxy did not complete a TLS handshake on 127.0.0.1:$PORT within 10 s"; exit 1; }

fail=()
if [ "$TOOL" = sslscan ]; then
	# Fallback: protocols and accepted ciphers only (sslscan tests heartbleed too).
	sslscan --no-colour --no-check-certificate "127.0.0.1:$PORT" >"$DIR/audit.txt" 2>&1 || true
	grep -Eq '^(SSLv2|SSLv3|TLSv1\.0|TLSv1\.1) +enabled' "$DIR/audit.txt" && fail+=("protocol below TLS 1.2 enabled")
	grep -E '^(Preferred|Accepted)' "$DIR/audit.txt" | grep -Ev 'GCM|CHACHA20' && fail+=("non-AEAD cipher accepted")
	grep -qi 'vulnerable to heartbleed' "$DIR/audit.txt" && grep -i 'heartbleed' "$DIR/audit.txt" | grep -vq 'not vulnerable' &&
		fail+=("heartbleed")
	n=$(grep -Ec '^(Preferred|Accepted)' "$DIR/audit.txt" || true)
	[ "${#fail[@]}" -eq 0 ] || { cat "$DIR/audit.txt" >&2; say "FAILED: ${fail[*]}"; exit 1; }
	echo "tls_audit: sslscan 127.0.0.1:$PORT: TLS 1.2+ only, $n AEAD ciphers accepted, heartbleed not vulnerable"
	exit 0
fi

# testssl.sh: protocols, cipher categories, every cipher per protocol, forward secrecy and the
# vulnerabilities it can test; loopback only (no DNS, no CRL/OCSP: --phone-out stays off).
JSON="$DIR/audit.json"
# About 60 s on a quiet 2-core machine, three times that with other work on it: the bound is
# for a hung scan, not a slow one.
timeout 420 "$TOOL" --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 --connect-timeout 5 \
	--openssl-timeout 5 -p -s -E -f -U --jsonfile "$JSON" "127.0.0.1:$PORT" >"$DIR/audit.txt" 2>&1 || {
	rc=$?
	# testssl exits with the number of failed checks' severity or an error code: judge by the JSON.
	[ -s "$JSON" ] || { cat "$DIR/audit.txt" >&2; say "$TOOL failed (exit $rc) without a report"; exit 1; }
}
python3 - "$JSON" <<'PY'
import json, re, sys
findings = json.load(open(sys.argv[1]))
by_id = {f["id"]: f for f in findings}
fail = []
# Protocols: nothing below TLS 1.2 offered, 1.2 and 1.3 offered.
for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    f = by_id.get(p)
    if f is None or not f["finding"].startswith("not offered"):
        fail.append(f"{p}: {f['finding'] if f else 'not tested'}")
for p in ("TLS1_2", "TLS1_3"):
    f = by_id.get(p)
    if f is None or not f["finding"].startswith("offered"):
        fail.append(f"{p}: {f['finding'] if f else 'not tested'}")
# Cipher categories: nothing weak may be offered.
# (testssl 3.0 names the CBC category AVERAGE, 3.1 OBSOLETED: whichever is there.)
for c in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
          "cipherlist_3DES_IDEA", "cipherlist_OBSOLETED", "cipherlist_AVERAGE"):
    f = by_id.get(c)
    if f is None and c in ("cipherlist_OBSOLETED", "cipherlist_AVERAGE"):
        continue
    if f is None or not f["finding"].startswith("not offered"):
        fail.append(f"{c}: {f['finding'] if f else 'not tested'}")
# Every offered cipher (-E lists them per protocol): ECDHE key exchange (forward secrecy) and
# an AEAD (GCM or ChaCha20-Poly1305); TLS 1.3 suites are all both.
ciphers = [f for f in findings if re.match(r"cipher-tls1_[23]_x", f["id"])]
if not ciphers:
    fail.append("no cipher enumerated")
for f in ciphers:
    text = f["finding"]
    tls13 = f["id"].startswith("cipher-tls1_3")
    if not tls13 and not re.search(r"\bECDH\b", text):
        fail.append(f"no forward secrecy: {text}")
    if not re.search(r"AESGCM|ChaCha20", text):
        fail.append(f"not AEAD: {text}")
    if re.search(r"CBC|SHA1\b|RC4|3DES|NULL|EXP|DES-CBC", text):
        fail.append(f"weak cipher: {text}")
fs = by_id.get("FS", by_id.get("PFS"))  # 3.1: FS, 3.0: PFS
if fs is None or fs["severity"] != "OK" or not fs["finding"].startswith("offered"):
    fail.append(f"forward secrecy: {fs['finding'] if fs else 'not tested'}")
# Vulnerabilities: anything testssl rates LOW or worse among them.
# secure_client_renego is left out: testssl 3.0.8's client-renegotiation "DoS" heuristic flips
# between OK and MEDIUM from one run to the next against the same HAProxy (seen here), so it
# cannot gate CI. HAProxy 2.6 aborts a connection whose client renegotiates (ssl_sock's info
# callback); proving that with a test of our own is still to do (see the closing notes).
vulns = ("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "CRIME_TLS",
         "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4")
tested = []
for v in vulns:
    f = by_id.get(v)
    if f is None:
        continue
    tested.append(v)
    if f["severity"] not in ("OK", "INFO"):
        fail.append(f"{v}: {f['severity']} {f['finding']}")
for f in findings:
    if f["id"] == "secure_client_renego":
        continue
    if f["severity"] in ("CRITICAL", "HIGH", "MEDIUM"):
        fail.append(f"{f['id']}: {f['severity']} {f['finding']}")
if not any(by_id.get(v) for v in ("heartbleed", "CCS", "ROBOT")):
    fail.append("the vulnerability checks did not run")
if fail:
    print("tls_audit: FAILED:\n  " + "\n  ".join(dict.fromkeys(fail)), file=sys.stderr)
    sys.exit(1)
print(f"tls_audit: testssl.sh: TLS 1.2+1.3 only, {len(ciphers)} ciphers offered, all ECDHE/AEAD, "
      f"forward secrecy OK, {len(tested)} vulnerability checks clean ({', '.join(tested)})")
PY

