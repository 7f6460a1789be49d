#!/usr/bin/env bash
# Makes the base images docker/Dockerfile names (debian:12, debian:12-slim) from Debian's own
# packages, for a Docker engine that cannot pull from a registry: debootstrap (minbase) into a
# temporary folder, then `docker import`. Does nothing when both tags exist, so a machine that can
# pull keeps the official images and the Dockerfile stays unchanged. Never part of a production
# path: ./mcs-lb compose and the compose test suite call it only before building.
#   docker/base.sh [MIRROR]    MIRROR defaults to the one this machine's apt uses, else deb.debian.org
# Needs root (debootstrap) and debootstrap itself (installed here when missing).
set -euo pipefail

say() { printf 'base.sh: %s\n' "$*" >&2; }
TAGS=(debian:12 debian:12-slim)

have_all() {
	local t
	for t in "${TAGS[@]}"; do docker image inspect "$t" >/dev/null 2>&1 || return 1; done
}
have_all && exit 0

# The mirror apt on this machine already reaches (deb822 or one-line sources).
host_mirror() {
	{ cat /etc/apt/sources.list.d/*.sources 2>/dev/null; cat /etc/apt/sources.list 2>/dev/null; } |
		grep -Eo 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true
}
mirror=${1:-$(host_mirror)}
mirror=${mirror:-http://deb.debian.org/debian}

[ "$(id -u)" -eq 0 ] || { say "debootstrap needs root (run as root, or pull debian:12 where a registry is reachable)"; exit 1; }
if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

dir=$(mktemp -d /var/tmp/mcs-lb-base.XXXXXX)
trap 'rm -rf --one-file-system -- "$dir"' EXIT
say "debootstrap --variant=minbase bookworm from $mirror (about a minute)"
if ! debootstrap --variant=minbase bookworm "$dir/root" "$mirror" >"$dir/log" 2>&1; then
	tail -n 20 "$dir/log" >&2
	say "debootstrap failed"
	exit 1
fi

# As the official image: the updates and security suites, no apt cache, no service starts during
# image builds, and (slim) no documentation or manual pages.
rm -f "$dir/root/etc/apt/sources.list"
cat >"$dir/root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian*}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
printf '#!/bin/sh\nexit 101\n' >"$dir/root/usr/sbin/policy-rc.d"
chmod 0755 "$dir/root/usr/sbin/policy-rc.d"
rm -rf "$dir/root/var/lib/apt/lists/"* "$dir/root/var/cache/apt/"*.bin "$dir/root/var/cache/apt/archives/"*.deb

import() { # import TAG: the folder as one layer, with the official image's command
	tar -C "$dir/root" --numeric-owner -c . | docker import --change 'CMD ["bash"]' - "$1" >/dev/null
	say "made $1 ($(docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1e6}'))"
}
import debian:12
cat >"$dir/root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
find "$dir/root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
rm -rf "$dir/root/usr/share/man/"* "$dir/root/usr/share/info/"* "$dir/root/usr/share/locale/"*
import debian:12-slim
