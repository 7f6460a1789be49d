#!/bin/sh
# Starts one demo chat node the same way in a demo-node container and under `./mcs-lb up --demo N`:
# it greets each client with "HELLO <ip:port>" and runs ZADD $MCS_NODE_KEY <now> <ip:port> every
# 2 s, exactly like a chat node. MCS_DEMO_LISTEN is IP:PORT; on a wildcard address (a container)
# it registers the container's first IPv4 address with that port, or MCS_DEMO_ADVERTISE if set.
# MCS_SEND_PROXY=v2 (what the gateway sends its nodes): every connection must start with a PROXY
# v2 header, and the greeting names the client: "HELLO <ip:port> for <client ip:port>".
set -eu

: "${REDIS_URL:?REDIS_URL is not set}" "${MCS_NODE_KEY:?MCS_NODE_KEY is not set}"
: "${MCS_DEMO_LISTEN:?MCS_DEMO_LISTEN is not set}"
advertise=${MCS_DEMO_ADVERTISE:-}

case "$MCS_DEMO_LISTEN" in
0.0.0.0:* | '[::]:'*)
	if [ -z "$advertise" ]; then
		for addr in $(hostname -i); do
			case "$addr" in *.*.*.*) advertise=$addr:${MCS_DEMO_LISTEN##*:} && break ;; esac
		done
		[ -n "$advertise" ] || { echo "demo-node.sh: no IPv4 address to advertise; set MCS_DEMO_ADVERTISE" >&2; exit 1; }
	fi
	;;
esac

set -- --listen "$MCS_DEMO_LISTEN" --redis-url "$REDIS_URL" --key "$MCS_NODE_KEY"
[ -z "$advertise" ] || set -- "$@" --advertise "$advertise"
case "${MCS_SEND_PROXY:-off}" in
off) ;;
v2) set -- "$@" --proxy-v2 ;;
*) echo "demo-node.sh: MCS_SEND_PROXY: \"$MCS_SEND_PROXY\" is not one of: off v2" >&2 && exit 1 ;;
esac
exec mcs-lb-demo-node "$@"
