#!/bin/sh
# docker-compose.yml is a valid Compose file, with each profile, with the defaults only (an empty
# --env-file: neither the caller's variables nor a local .env hide a broken default) and with
# every variable set. Debian 12's docker-compose (1.29) must pass; the docker CLI's compose
# plugin is checked too when it is installed. No Docker engine is needed.
set -eu
root=$1
if ! command -v docker-compose >/dev/null 2>&1; then
	echo "docker-compose not found (apt-get install docker-compose)"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
cd "$root"
empty=$(mktemp)
trap 'rm -f "$empty"' EXIT
set -- docker-compose
if docker compose version >/dev/null 2>&1; then
	set -- "$@" "docker compose"
else
	echo "note: no compose plugin for the docker CLI here; checked with docker-compose only"
fi
status=0
for tool in "$@"; do
	for profiles in "" "--profile demo" "--profile monitoring" "--profile demo --profile monitoring"; do
		# shellcheck disable=SC2086 # $tool and $profiles are word lists on purpose
		if ! env -i PATH="$PATH" HOME="${HOME:-/}" $tool --env-file "$empty" $profiles config -q; then
			echo "FAIL: $tool $profiles config -q (defaults only)"
			status=1
		fi
	done
	# shellcheck disable=SC2086
	if ! env -i PATH="$PATH" HOME="${HOME:-/}" MCS_PORT=443 PROMETHEUS_PORT=9100 MCS_BIND_ADDR=192.0.2.1 \
		MCS_METRICS_BIND_ADDR=127.0.0.1 REDIS_URL=redis://:secret@10.0.0.9:6380/2 MCS_TLS_DIR=/etc/ssl/mcs \
		$tool --env-file "$empty" --profile demo --profile monitoring config -q; then
		echo "FAIL: $tool config -q with every variable set"
		status=1
	fi
	echo "$tool $($tool version --short 2>/dev/null || true): checked"
done
exit "$status"
