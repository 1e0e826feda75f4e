#!/bin/sh
# Installs what acm-agent needs on Debian 12 (run as root):
#
#   sh tools/install-deps.sh           build it and run `make demo`
#   sh tools/install-deps.sh --tests   also run `make check` (real nginx,
#                                      haproxy and BIND, the AWS CLI, package
#                                      builds, lintian, ...)
#   sh tools/install-deps.sh --ci      also .ci/run's other phases: valgrind
#                                      (tools/valgrind.sh), clang,
#                                      libclang-rt-14-dev and git
#                                      (tools/fuzz.sh)
#   --dry-run (with any of them)       say what is missing and how many
#                                      packages apt would install; install
#                                      nothing (no root needed)
#
# Nothing is started or left enabled: a policy-rc.d forbids service starts
# while apt runs (removed afterwards, also on failure or Ctrl-C), and every
# systemd unit a package enabled during this run is disabled again (the
# tests start their own nginx, haproxy and named on 127.0.0.1). Units that
# were enabled before are left alone. One line per phase; when everything is
# present it only checks (well under a second) and changes nothing.
set -eu

build_pkgs="build-essential autoconf automake pkg-config ca-certificates
libcurl4-openssl-dev libssl-dev libyaml-dev libsystemd-dev libjansson-dev
libexpat1-dev libc-ares-dev libcmocka-dev openssl curl
python3 python3-botocore python3-cryptography"
test_pkgs="nginx-light haproxy bind9 bind9-utils bind9-dnsutils awscli time
dpkg-dev debhelper fakeroot rpm cpio lintian prometheus
systemd debootstrap ansible-core strace procps psmisc iproute2 util-linux zsh"
# Not used by `make check`: ~400 MB that every run of the README's test
# command (and test-packaging-deps.sh) would unpack for nothing.
ci_pkgs="valgrind clang libclang-rt-14-dev git"

usage() { # usage STATUS: the help, on stdout for --help (0), else on stderr
	{
		echo "usage: sh tools/install-deps.sh [--tests | --ci] [--dry-run]"
		echo "  (no option): what building acm-agent and 'make demo' need"
		echo "  --tests:     also what 'make check' needs"
		echo "  --ci:        also what .ci/run's other phases need (valgrind, clang,"
		echo "               libclang-rt-14-dev, git); includes --tests"
		echo "  --dry-run:   say what is missing and what apt would install; install nothing"
	} >&"$(($1 == 0 ? 1 : 2))"
	exit "$1"
}
# the widest set asked for wins: --ci includes --tests, in any order
level=0
dry_run=0
for a in "$@"; do
	case $a in
	--tests) [ $level -ge 1 ] || level=1 ;;
	--ci) level=2 ;;
	--dry-run) dry_run=1 ;;
	-h|--help) usage 0 ;;
	*) echo "install-deps: unknown argument '$a'" >&2; usage 2 ;;
	esac
done
case $level in
0) pkgs=$build_pkgs; what="build + demo" ;;
1) pkgs="$build_pkgs $test_pkgs"; what="build + demo + make check" ;;
2) pkgs="$build_pkgs $test_pkgs $ci_pkgs"; what="build + demo + make check + CI" ;;
esac

say() { echo "install-deps: $*"; }
start=$(date +%s)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	say "this script knows Debian's apt; on another system install the equivalents of:" >&2
	echo "$pkgs" | tr -s ' \n' ' ' | fold -s -w 76 | sed 's/^/    /' >&2
	echo >&2
	exit 1
fi

# 1. What is missing (one dpkg-query for all).
n=$(echo $pkgs | wc -w)
installed=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' $pkgs 2>/dev/null | sed -n 's/^installed //p' | sed 's/:.*//')
missing=""
for p in $pkgs; do
	case " $(echo $installed) " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
if [ -z "$missing" ]; then
	say "all $n packages for $what are installed"
	exit 0
fi
say "$(echo $missing | wc -w) of $n packages for $what to install:$missing"
if [ "$dry_run" = 1 ]; then
	# shellcheck disable=SC2086
	if sim=$(apt-get install -s -q --no-install-recommends $missing 2>&1); then
		say "dry run: apt would install $(echo "$sim" | grep -c '^Inst ') packages with its current package lists; nothing was installed"
		exit 0
	fi
	say "dry run: apt cannot install them with its current package lists (run apt-get update as root first?):" >&2
	echo "$sim" | grep '^E:' | sed 's/^/    /' >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	say "run as root to install them (sudo sh tools/install-deps.sh $*)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/acm-agent-install-deps.XXXXXX.log)
policy=/usr/sbin/policy-rc.d
saved_policy=""
policy_ours=0
wants_before=$(mktemp /tmp/acm-agent-install-deps.XXXXXX.wants)

# Enabled units, as the symlinks in /etc/systemd/system/*.wants|*.requires.
enabled_units() {
	find /etc/systemd/system -mindepth 2 -maxdepth 2 -type l \( -path '*.wants/*' -o -path '*.requires/*' \) \
		2>/dev/null | sed 's|.*/||' | LC_ALL=C sort -u
}

restore_policy() {
	[ "$policy_ours" = 1 ] || return 0
	rm -f "$policy"
	[ -z "$saved_policy" ] || mv -f "$saved_policy" "$policy"
	saved_policy=""
	policy_ours=0
}
cleanup() {
	rc=$?
	restore_policy
	rm -f "$wants_before"
	if [ $rc -ne 0 ]; then
		say "failed (exit $rc); the last lines of $log:" >&2
		tail -n 25 "$log" | sed 's/^/    /' >&2
	else
		rm -f "$log"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 2. No service may start while packages are configured (invoke-rc.d and
# deb-systemd-invoke ask policy-rc.d: 101 = action forbidden). An existing
# policy-rc.d is put back afterwards.
policy_ours=1
if [ -e "$policy" ] || [ -L "$policy" ]; then
	saved_policy=$(mktemp "$policy.acm-agent-saved.XXXXXX")
	mv -f "$policy" "$saved_policy"
fi
printf '#!/bin/sh\n# tools/install-deps.sh (acm-agent): no service starts during the install\nexit 101\n' >"$policy"
chmod 0755 "$policy"
enabled_units >"$wants_before"

# 3. apt. A failure names the phase; cleanup shows the end of apt's log.
fail() { say "$*" >&2; exit 1; }
say "apt-get update"
apt-get update -q >>"$log" 2>&1 || fail "apt-get update failed (network, or the sources in /etc/apt?)"
# shellcheck disable=SC2086
total=$(apt-get install -s -q --no-install-recommends $missing 2>>"$log" | grep -c '^Inst ' || true)
say "downloading $total packages (the ones asked for and their dependencies)"
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends --download-only $missing >>"$log" 2>&1 ||
	fail "downloading the packages failed"
say "installing $total packages"
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 $missing >>"$log" 2>&1 ||
	fail "installing the packages failed"

# 4. Units the packages enabled are disabled again (deb-systemd-helper keeps
# them disabled across upgrades), and stopped if anything started them.
new_units=$(enabled_units | LC_ALL=C comm -13 "$wants_before" -)
if [ -n "$new_units" ]; then
	for u in $new_units; do
		if command -v deb-systemd-helper >/dev/null 2>&1; then
			deb-systemd-helper disable "$u" >>"$log" 2>&1 || true
		fi
		if command -v systemctl >/dev/null 2>&1; then
			if [ -d /run/systemd/system ]; then
				systemctl disable --now "$u" >>"$log" 2>&1 || true
			else
				systemctl disable "$u" >>"$log" 2>&1 || true
			fi
		fi
	done
	left=$(enabled_units | LC_ALL=C comm -13 "$wants_before" -)
	if [ -n "$left" ]; then
		say "cannot disable:" $left >&2
		exit 1
	fi
	say "disabled the units the packages enabled:" $new_units
fi
restore_policy
say "done: $total packages in $(($(date +%s) - start)) s"
