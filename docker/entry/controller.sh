#!/bin/sh
# Starts the controller the same way in the controller container and under `./mcs-lb up`.
#   controller.sh [run]  exec mcs-lb-controller (the container's command)
#   controller.sh check  validate every variable it reads (one line naming a bad one), start nothing
# Reads REDIS_URL and MCS_RUN_DIR (admin.sock, controller.json); the controller reads the rest of
# its variables itself (mcs-lb-controller --help). mcs-lb-controller is found on PATH.
set -eu

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
