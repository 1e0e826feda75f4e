# Helpers for the packaging tests (source after lib.sh): the dist tree, the
# .deb and .rpm built from it (cached per dist tree content, so the tests
# that need a package build it once), and throwaway Debian 12 roots made
# with debootstrap (base trees cached in $ACM_AGENT_TEST_CACHE, default
# /var/cache/acm-agent-tests; a copy per test, removed at exit).
#
# Environment: ACM_AGENT_TEST_CACHE (cache directory), ACM_AGENT_TEST_MIRROR
# (Debian mirror, default http://deb.debian.org/debian).

# These tests run for minutes: their work files go to /var/tmp (a
# /tmp/acm-it.* directory was seen removed under a running test on a shared
# host). lib.sh removes $TMP at exit, whatever it points to.
if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
	rmdir "$TMP" 2>/dev/null
	TMP=$(mktemp -d /var/tmp/acm-agent-pkgtest.XXXXXX) || exit 1
fi

# These four tests are the long chains of `make check` (debootstrap,
# apt, the package builds; the .deb and the base trees the others wait
# for), mostly CPU, and the suite ends when the last of them does; the
# integration tests beside them mostly wait. Ahead of those in the
# scheduler (nice -5, where the test runs as root), they take about the
# time they take alone and the others fill the CPU they leave.
renice -n -5 -p $$ >/dev/null 2>&1 || true

PKG_CACHE=${ACM_AGENT_TEST_CACHE:-/var/cache/acm-agent-tests}
PKG_MIRROR=${ACM_AGENT_TEST_MIRROR:-http://deb.debian.org/debian}
PKG_SUITE=bookworm
# The nested builds must not talk to the jobserver of the make running us.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS

pkg_version() {
	sed -n 's/^PACKAGE_VERSION = //p' "$ABS_TOP_BUILDDIR/Makefile"
}

# elapsed SECONDS-SINCE-EPOCH: "12 s"
elapsed() { echo "$(($(date +%s) - $1)) s"; }

# pkg_distdir: the dist tree of this build in $TMP/dist/acm-agent-VERSION
# (what `make dist` ships); sets PKG_DISTDIR and PKG_KEY (a hash of its
# content, for the build cache). Returns 1 when make distdir fails.
pkg_distdir() {
	PKG_DISTDIR=$TMP/dist/acm-agent-$(pkg_version)
	mkdir -p "$TMP/dist"
	make -s -C "$ABS_TOP_BUILDDIR" distdir distdir="$PKG_DISTDIR" >"$TMP/distdir.log" 2>&1 || {
		sed 's/^/# /' "$TMP/distdir.log"; return 1; }
	PKG_KEY=$(cd "$PKG_DISTDIR" && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum | cut -c1-16)
	# builds of other contents are stale: drop those not used for an hour
	find "$ABS_TOP_BUILDDIR/tests/pkg-cache" -mindepth 1 -maxdepth 1 -type d ! -name "$PKG_KEY" -mmin +60 \
		-exec rm -rf {} + 2>/dev/null
	return 0
}

# pkg_build_deb: builds the .deb from $PKG_DISTDIR (dpkg-buildpackage -b, no
# tests) unless the cache has it for this content; sets PKG_DEB. Prints how
# long it took. Returns 1 on failure (the build log is shown).
pkg_build_deb() {
	_c=$ABS_TOP_BUILDDIR/tests/pkg-cache/$PKG_KEY
	mkdir -p "$_c"
	(
		flock 9
		if ls "$_c"/deb/acm-agent_*.deb >/dev/null 2>&1; then exit 0; fi
		rm -rf "$_c/deb"; mkdir -p "$_c/deb"
		cp -a "$PKG_DISTDIR" "$_c/deb/src"
		cp -R "$_c/deb/src/packaging/deb/debian" "$_c/deb/src/debian"
		_s=$(date +%s)
		if (cd "$_c/deb/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" DEB_BUILD_PROFILES=nocheck \
			timeout 900 dpkg-buildpackage -us -uc -b) >"$_c/deb/build.log" 2>&1; then
			echo "# built the .deb in $(elapsed "$_s")"
			rm -rf "$_c/deb/src"
		else
			tail -40 "$_c/deb/build.log" | sed 's/^/# /'
			mv "$_c/deb" "$_c/deb.failed.$$"
			exit 1
		fi
	) 9>"$_c/.lock" || return 1
	PKG_DEB=$(ls "$_c"/deb/acm-agent_*.deb | head -n 1)
}

# pkg_build_rpm: the same for the .rpm (rpmbuild -bb with Debian's rpm and
# packaging/rpm/macros.debian); sets PKG_RPM.
pkg_build_rpm() {
	_c=$ABS_TOP_BUILDDIR/tests/pkg-cache/$PKG_KEY
	mkdir -p "$_c"
	(
		flock 9
		if ls "$_c"/rpm/RPMS/*/acm-agent-*.rpm >/dev/null 2>&1; then exit 0; fi
		rm -rf "$_c/rpm"; mkdir -p "$_c/rpm/SOURCES"
		_p=$(basename "$PKG_DISTDIR")
		tar -C "$(dirname "$PKG_DISTDIR")" -czf "$_c/rpm/SOURCES/$_p.tar.gz" "$_p"
		_s=$(date +%s)
		# Debian's rpm lacks Fedora's systemd-rpm-macros: macros.debian
		# supplies them; BuildRequires name Fedora packages, hence --nodeps.
		if timeout 900 rpmbuild --load "$PKG_DISTDIR/packaging/rpm/macros.debian" \
			--define "_topdir $_c/rpm" --nodeps --nocheck -bb "$PKG_DISTDIR/packaging/rpm/acm-agent.spec" \
			>"$_c/rpm/build.log" 2>&1; then
			echo "# built the .rpm in $(elapsed "$_s")"
		else
			tail -40 "$_c/rpm/build.log" | sed 's/^/# /'
			mv "$_c/rpm" "$_c/rpm.failed.$$"
			exit 1
		fi
	) 9>"$_c/.lock" || return 1
	PKG_RPM=$(ls "$_c"/rpm/RPMS/*/acm-agent-*.rpm | head -n 1)
}

# pkg_require_chroot: skips (77) unless this can make throwaway roots.
pkg_require_chroot() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: a throwaway Debian root (debootstrap, chroot, mount) needs root"; exit 77; }
	for _t in debootstrap chroot mount umount flock; do
		command -v "$_t" >/dev/null 2>&1 || {
			echo "SKIP: $_t missing (sh tools/install-deps.sh --tests installs debootstrap)"; exit 77; }
	done
}

# pkg_base_tree KIND: the cached base tree, made when missing (flock'd, so
# parallel tests make it once); prints its path on stdout, progress on
# stderr. KIND: minbase (debootstrap --variant=minbase, nothing else: a
# fresh machine) or agent (minbase + what installing and running the
# package, the emulator test and Ansible need). Exits 77 when the mirror
# cannot be reached and the tree is not cached.
PKG_AGENT_PACKAGES="systemd python3 python3-apt ansible-core curl ca-certificates openssl
libcurl4 libyaml-0-2 libjansson4 libexpat1 libssl3 libsystemd0 procps"
pkg_base_tree() {
	_kind=$1
	case $_kind in
	minbase) _name=$PKG_SUITE-minbase-v1 ;;
	agent) _name=$PKG_SUITE-agent-$(echo "v1 $PKG_AGENT_PACKAGES" | sha256sum | cut -c1-8) ;;
	*) echo "pkg_base_tree: unknown kind $_kind" >&2; return 1 ;;
	esac
	_tree=$PKG_CACHE/$_name
	mkdir -p "$PKG_CACHE"
	(
		flock 9
		[ -f "$_tree/.complete" ] && exit 0
		if ! curl -fsS --max-time 20 -o /dev/null "$PKG_MIRROR/dists/$PKG_SUITE/Release" 2>"$TMP/mirror.err"; then
			echo "SKIP: the Debian mirror $PKG_MIRROR cannot be reached ($(cat "$TMP/mirror.err")) and" \
				"$_tree is not cached; set ACM_AGENT_TEST_MIRROR to a reachable mirror" >&2
			exit 77
		fi
		pkg_rm_tree "$_tree" && pkg_rm_tree "$_tree.tmp" || exit 1
		_s=$(date +%s)
		if [ "$_kind" = minbase ]; then
			echo "# debootstrap --variant=minbase $PKG_SUITE into $_tree (first run only) ..." >&2
			# In two stages, so that dpkg in the second one (it installs
			# every package of the tree) runs with force-unsafe-io: no fsync
			# after every file of a tree that is a cache, written once.
			if ! { debootstrap --foreign --variant=minbase "$PKG_SUITE" "$_tree.tmp" "$PKG_MIRROR" &&
				echo force-unsafe-io >"$_tree.tmp/etc/dpkg/dpkg.cfg.d/acm-agent-bootstrap" &&
				chroot "$_tree.tmp" /debootstrap/debootstrap --second-stage &&
				rm "$_tree.tmp/etc/dpkg/dpkg.cfg.d/acm-agent-bootstrap"; } >"$PKG_CACHE/$_name.log" 2>&1; then
				echo "# debootstrap failed; the end of $PKG_CACHE/$_name.log:" >&2
				tail -20 "$PKG_CACHE/$_name.log" | sed 's/^/# /' >&2
				if grep -qE 'Failed getting release file|Couldn.t download|Temporary failure resolving' "$PKG_CACHE/$_name.log"; then
					echo "SKIP: debootstrap cannot reach $PKG_MIRROR" >&2
					exit 77
				fi
				exit 1
			fi
			# the same suites a Debian 12 installation has
			cat >"$_tree.tmp/etc/apt/sources.list" <<EOS
deb $PKG_MIRROR $PKG_SUITE main
deb $PKG_MIRROR $PKG_SUITE-updates main
deb ${PKG_SECURITY_MIRROR:-http://deb.debian.org/debian-security} $PKG_SUITE-security main
EOS
			rm -rf "$_tree.tmp/var/cache/apt/archives/"*.deb
		else
			_base=$(pkg_base_tree minbase) || exit $?
			echo "# provisioning $_tree from $_base (first run only) ..." >&2
			cp -a "$_base" "$_tree.tmp"
			rm -f "$_tree.tmp/.complete"
			# a throwaway root: no service ever starts in it
			printf '#!/bin/sh\nexit 101\n' >"$_tree.tmp/usr/sbin/policy-rc.d"
			chmod 0755 "$_tree.tmp/usr/sbin/policy-rc.d"
			# while it is provisioned: no fsync after every file (the tree
			# is a cache, written once); removed below, the copies get it
			# from pkg_root
			echo force-unsafe-io >"$_tree.tmp/etc/dpkg/dpkg.cfg.d/acm-agent-bootstrap"
			pkg_mount "$_tree.tmp"
			if ! pkg_in "$_tree.tmp" sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends $(echo $PKG_AGENT_PACKAGES)" \
				>"$PKG_CACHE/$_name.log" 2>&1; then
				pkg_umount "$_tree.tmp"
				tail -20 "$PKG_CACHE/$_name.log" | sed 's/^/# /' >&2
				exit 1
			fi
			pkg_umount "$_tree.tmp"
			rm -f "$_tree.tmp/etc/dpkg/dpkg.cfg.d/acm-agent-bootstrap"
			rm -rf "$_tree.tmp/var/cache/apt/archives/"*.deb
		fi
		touch "$_tree.tmp/.complete"
		mv "$_tree.tmp" "$_tree"
		echo "# $_tree ready in $(elapsed "$_s")" >&2
	) 9>"$PKG_CACHE/.lock-$_kind"
	_rc=$?
	[ $_rc -eq 0 ] || return $_rc
	echo "$_tree"
}

# pkg_mount ROOT / pkg_umount ROOT: /proc, /sys, /dev, /dev/pts and the
# host's resolv.conf in ROOT, and an apt archive cache: the shared one
# ($PKG_CACHE/apt-archives, seeded with the host's downloaded packages, so
# apt in a throwaway root downloads each package once) as hard links in a
# directory of the root's own, so that apt in several roots at once (make -j2
# check) does not find the other's lock on the archive directory ("Could
# not get lock /var/cache/apt/archives/lock"); pkg_umount links what apt
# downloaded there back into the shared cache and removes the directory.
pkg_archives() { echo "$PKG_CACHE/apt-archives.$(basename "$1")"; }
pkg_mount() {
	_r=$1
	mkdir -p "$PKG_CACHE/apt-archives/partial"
	if [ ! -e "$PKG_CACHE/apt-archives/.seeded" ]; then
		# hard links where the host's cache is on the same file system
		cp -al /var/cache/apt/archives/*.deb "$PKG_CACHE/apt-archives/" 2>/dev/null || true
		touch "$PKG_CACHE/apt-archives/.seeded"
	fi
	_a=$(pkg_archives "$_r")
	rm -rf "$_a"
	mkdir -p "$_a/partial"
	find "$PKG_CACHE/apt-archives" -maxdepth 1 -name '*.deb' -exec cp -al -t "$_a/" {} +
	mount -t proc proc "$_r/proc"
	mount -t sysfs sysfs "$_r/sys" 2>/dev/null || mount --bind /sys "$_r/sys"
	mount --bind /dev "$_r/dev"
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$_r/dev/pts" 2>/dev/null || mount --bind /dev/pts "$_r/dev/pts"
	mount --bind "$_a" "$_r/var/cache/apt/archives"
	rm -f "$_r/etc/resolv.conf"
	cp /etc/resolv.conf "$_r/etc/resolv.conf"
}
pkg_umount() {
	_r=$1
	# anything still running in the root (a test that failed half-way)
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/root" 2>/dev/null)" = "$_r" ] && kill -9 "${_p#/proc/}" 2>/dev/null
	done
	for _m in var/cache/apt/archives dev/pts dev sys proc; do
		mountpoint -q "$_r/$_m" 2>/dev/null && { umount "$_r/$_m" 2>/dev/null || umount -l "$_r/$_m"; }
	done
	_a=$(pkg_archives "$_r")
	if [ -d "$_a" ] && ! mountpoint -q "$_r/var/cache/apt/archives" 2>/dev/null; then
		# what apt downloaded, for the next root (a name already there is kept)
		find "$_a" -maxdepth 1 -name '*.deb' -exec cp -aln -t "$PKG_CACHE/apt-archives/" {} +
		rm -rf "$_a"
	fi
	return 0
}

# pkg_rm_tree DIR: removes a root tree once nothing is mounted in it.
pkg_rm_tree() {
	[ -e "$1" ] || return 0
	pkg_umount "$1"
	if grep -q " $1/" /proc/mounts; then
		echo "# $1 still has mounts; not removing it" >&2
		return 1
	fi
	rm -rf --one-file-system "$1"
}

# pkg_in ROOT COMMAND...: runs COMMAND in ROOT with a clean environment
# (plus any VAR=value given before COMMAND through env).
pkg_in() {
	_r=$1; shift
	chroot "$_r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# pkg_root_dir: a new empty directory for a throwaway root, a tmpfs of its
# own where one can be mounted (copying a base tree in, dpkg's writes and
# removing a 1-2 GB root at exit cost seconds to tens of seconds on disk,
# nothing in memory; the machines have the memory), else a plain directory.
# pkg_root_dir_rm DIR removes it once nothing is mounted below it.
pkg_root_dir() {
	_d=$(mktemp -d /var/tmp/acm-agent-root.XXXXXX) || return 1
	mount -t tmpfs -o mode=0755 acm-agent-root "$_d" 2>/dev/null || true
	echo "$_d"
}
pkg_root_dir_rm() {
	pkg_umount "$1"
	if grep -q " $1/" /proc/mounts; then
		echo "# $1 still has mounts; left in place:" >&2
		grep " $1/" /proc/mounts | sed 's/^/#   /' >&2
		return 1
	fi
	if mountpoint -q "$1"; then umount "$1" || umount -l "$1"; fi
	pkg_rm_tree "$1"
}

# pkg_root KIND: a fresh copy of the KIND base tree (pkg_root_dir), mounted;
# unmounted and removed at exit (outside $TMP, and only once nothing is
# mounted in it, so no removal can reach the host's /dev or the apt cache).
# Sets ROOT.
pkg_root() {
	_s=$(date +%s)
	_base=$(pkg_base_tree "$1")
	_rc=$?
	[ $_rc -eq 0 ] || exit $_rc
	ROOT=$(pkg_root_dir) || exit 1
	on_exit pkg_root_cleanup
	cp -a "$_base/." "$ROOT/"
	# a throwaway root needs no fsync after every file dpkg writes
	echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/acm-agent-tests"
	pkg_mount "$ROOT"
	echo "# throwaway root $ROOT ($1) ready in $(elapsed "$_s")"
}
pkg_root_cleanup() {
	pkg_root_dir_rm "$ROOT"
}
