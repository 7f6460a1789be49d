#!/bin/sh
# Creates a self-signed development pair, server.cert and server.key (ECDSA P-256, CN=localhost),
# only when neither exists: an operator's certificate or key is never overwritten.
set -eu

prog=gen-dev-cert
if [ "$#" -gt 1 ]; then
	echo "usage: $0 [DIR]" >&2
	exit 2
fi
dir=${1:-$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)}
cert=$dir/server.cert
key=$dir/server.key

if [ -e "$cert" ] && [ -e "$key" ]; then
	echo "$prog: $cert and $key already exist; left unchanged"
	exit 0
fi
for f in "$cert" "$key"; do
	if [ -e "$f" ]; then
		echo "$prog: only $f exists; refusing to create the other half of the pair (supply both, or move it away)" >&2
		exit 1
	fi
done

mkdir -p -- "$dir"
# Generate beside the targets, then rename, so a failure leaves no half pair behind.
umask 077
work=$(mktemp -d "$dir/.gen-dev-cert.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
if ! out=$(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 825 \
	-subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' \
	-keyout "$work/server.key" -out "$work/server.cert" 2>&1); then
	echo "$prog: openssl req failed: $(printf '%s\n' "$out" | head -n 1)" >&2
	exit 1
fi
chmod 0600 "$work/server.key"
chmod 0644 "$work/server.cert"
mv -- "$work/server.key" "$key"
mv -- "$work/server.cert" "$cert"
echo "$prog: created $cert and $key (self-signed ECDSA P-256 for localhost, 825 days; development only)"
