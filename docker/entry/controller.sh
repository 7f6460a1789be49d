#!/bin/sh
# Starts the controller the same way in the controller container and under `./mcs-lb up`.
#   controller.sh [run]  exec mcs-lb-controller (the container's command)
#   controller.sh check  validate every variable it reads (one line naming a bad one), start nothing
# Reads REDIS_URL and MCS_RUN_DIR (admin.sock, controller.json); the controller reads the rest of
# its variables itself (mcs-lb-controller --help). mcs-lb-controller is found on PATH.
# MCS_AGENT_ADDR set and empty (the container) means this host's own IPv4 address: HAProxy, in
# another container, reaches the agent there.
set -eu

if [ "${MCS_AGENT_ADDR-unset}" = "" ]; then
	for addr in $(hostname -i); do
		case "$addr" in *.*.*.*) MCS_AGENT_ADDR=$addr && break ;; esac
	done
	[ -n "$MCS_AGENT_ADDR" ] || { echo "controller.sh: MCS_AGENT_ADDR is empty and this host has no IPv4 address for the agent" >&2; exit 1; }
	export MCS_AGENT_ADDR
fi

case "${1:-run}" in
run)
	: "${REDIS_URL:?REDIS_URL is not set}" "${MCS_RUN_DIR:?MCS_RUN_DIR is not set}"
	exec mcs-lb-controller
	;;
check)
	exec mcs-lb-controller --print-config >/dev/null
	;;
*)
	echo "usage: $0 [run|check]" >&2
	exit 2
	;;
esac
