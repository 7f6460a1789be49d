#!/bin/sh
# Starts the metrics bridge the same way in the metrics-bridge container and under `./mcs-lb up`.
#   metrics.sh [run]  exec mcs-lb-metrics (the container's command)
#   metrics.sh check  validate every variable it reads (one line naming a bad one), start nothing
# Reads PROMETHEUS_PORT and MCS_RUN_DIR (only stats.sock and controller.json there); the bridge
# reads the rest of its variables itself (mcs-lb-metrics --help). mcs-lb-metrics is found on PATH.
set -eu

case "${1:-run}" in
run)
	: "${PROMETHEUS_PORT:?PROMETHEUS_PORT is not set}" "${MCS_RUN_DIR:?MCS_RUN_DIR is not set}"
	exec mcs-lb-metrics
	;;
check)
	exec mcs-lb-metrics --print-config >/dev/null
	;;
*)
	echo "usage: $0 [run|check]" >&2
	exit 2
	;;
esac
