#!/bin/sh
# Installs everything acm-agent needs to build, test and run its demo on
# Debian 12 (run as root). Idempotent; skips apt when all is present.
set -eu
pkgs="libc-ares-dev build-essential autoconf automake pkg-config git ca-certificates
libcurl4-openssl-dev libssl-dev openssl libyaml-dev libsystemd-dev libjansson-dev
libexpat1-dev libcmocka-dev
python3 python3-botocore python3-cryptography awscli
nginx-light haproxy bind9 bind9-utils bind9-dnsutils dnsutils curl procps psmisc iproute2 valgrind time
dpkg-dev debhelper fakeroot rpm cpio"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The packaged servers must not hold the ports or run as services here: the
# tests start their own instances on 127.0.0.1.
for s in nginx haproxy named bind9; do
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl stop "$s" >/dev/null 2>&1 || true
	fi
done
echo "install-deps: all dependencies present"
