#!/bin/sh
# tools/install-deps.sh on a fresh Debian 12 (a debootstrap'd minbase root,
# cached; see packaging-lib.sh):
#   sh tools/install-deps.sh          one line per phase; none of the test
#                                     servers; then the README's first command
#                                     (autoreconf, configure, make, make demo)
#                                     works with what it installed;
#   again                             nothing to do, one line;
#   a failing apt                     exit non-zero, the operator's
#                                     policy-rc.d put back;
#   sh tools/install-deps.sh --tests  nginx, haproxy, BIND, prometheus, ...
#                                     installed, no unit they enabled left
#                                     enabled, nothing running in the root
#                                     (although the operator's policy-rc.d
#                                     allows starts), and that policy-rc.d
#                                     is back;
#   ... --ci --dry-run                names what .ci/run adds (valgrind,
#                                     clang, git: not installed by --tests)
#                                     and that apt can install it, installs
#                                     nothing; fails when apt cannot. (.ci/run
#                                     installs --ci for real on every run.)
# Skips (77) without root or debootstrap, or when the mirror cannot be
# reached (the packages come from it; the apt cache is shared).
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/packaging-lib.sh"

pkg_require_chroot
t_all=$(date +%s)
pkg_distdir || { not_ok "make distdir"; finish; }
pkg_root minbase
R=$ROOT
in_root() { pkg_in "$R" "$@"; }
# Manual pages are what makes dpkg slow here (man-db rebuilds its index for
# each batch); documentation and translations are thousands of files more
# for dpkg to write (the copy for the build below copies them again);
# nothing in this test reads any of them.
printf 'path-exclude /usr/share/%s/*\n' man doc locale info >>"$R/etc/dpkg/dpkg.cfg.d/acm-agent-tests"
cp "$ABS_TOP_SRCDIR/tools/install-deps.sh" "$R/tmp/install-deps.sh"
installed() { in_root dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -q '^installed$'; }
enabled_links() { (cd "$R/etc/systemd/system" 2>/dev/null && find . -type l \( -path '*.wants/*' -o -path '*.requires/*' \)) | LC_ALL=C sort; }
running_in_root() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && echo "${p#/proc/} $(cat "$p/comm" 2>/dev/null)"
	done
	return 0
}

# --- build + demo --------------------------------------------------------------
enabled_links >"$TMP/links-before"
t=$(date +%s)
expect_rc 0 "sh tools/install-deps.sh installs what build + demo need" -- in_root sh /tmp/install-deps.sh
echo "# install-deps (build + demo): $(elapsed "$t")"
sed 's/^/# /' "$TMP/out"
if grep -v '^install-deps: ' "$TMP/out" >"$TMP/noise"; then not_ok "only install-deps: lines"; sed 's/^/#   /' "$TMP/noise"
else ok "every line of output is an install-deps: progress line"; fi
[ "$(grep -c . "$TMP/out")" -le 8 ] && ok "one line per phase ($(grep -c . "$TMP/out") lines)" || not_ok "$(grep -c . "$TMP/out") lines"
expect_grep "^install-deps: [0-9]+ of [0-9]+ packages for build \+ demo to install:" "says how much is missing"
expect_grep "^install-deps: downloading [0-9]+ packages" "download phase"
expect_grep "^install-deps: installing [0-9]+ packages" "install phase"
expect_grep "^install-deps: done: [0-9]+ packages in [0-9]+ s" "says it is done"
[ ! -e "$R/usr/sbin/policy-rc.d" ] && ok "no policy-rc.d left" || not_ok "policy-rc.d left behind"
enabled_links | LC_ALL=C comm -13 "$TMP/links-before" - >"$TMP/links-new"
if [ -s "$TMP/links-new" ]; then not_ok "units left enabled"; sed 's/^/#   /' "$TMP/links-new"
else ok "no unit is left enabled"; fi
running_in_root >"$TMP/running"
if [ -s "$TMP/running" ]; then not_ok "processes running in the root"; sed 's/^/#   /' "$TMP/running"
else ok "nothing runs in the root"; fi
for p in libcurl4-openssl-dev libssl-dev libyaml-dev libsystemd-dev libjansson-dev libexpat1-dev libc-ares-dev \
	autoconf automake pkg-config python3-botocore python3-cryptography; do
	installed "$p" && ok "installed $p" || not_ok "$p not installed"
done
for p in nginx-light haproxy bind9 awscli valgrind prometheus clang lintian; do
	installed "$p" && not_ok "$p installed without --tests" || ok "no $p without --tests"
done
t=$(date +%s)
expect_rc 0 "again: nothing to do" -- in_root sh /tmp/install-deps.sh
expect_grep "^install-deps: all [0-9]+ packages for build \+ demo are installed$" "says everything is installed"
[ "$(grep -c . "$TMP/out")" = 1 ] && ok "in one line" || not_ok "$(grep -c . "$TMP/out") lines"

# The README's first command, with only what install-deps installed: in a
# copy of the root as it is now, in the background, while the --tests
# install below runs in the root itself (a minute or two of each, which
# took their sum one after the other). Checked at the end.
pkg_umount "$R"
B=$(pkg_root_dir) || { not_ok "a directory for the copy"; finish; }
build_root_cleanup() { pkg_root_dir_rm "$B"; }
on_exit build_root_cleanup
t=$(date +%s)
cp -a "$R/." "$B/"
pkg_mount "$R"
pkg_mount "$B"
cp -a "$PKG_DISTDIR" "$B/tmp/src"
echo "# copied the root for the build in $(elapsed "$t")"
t_build=$(date +%s)
(
	pkg_in "$B" sh -c 'cd /tmp/src && autoreconf -fi && ./configure && make -j2 && make demo' >"$TMP/build.out" 2>&1
	echo $? >"$TMP/build.rc"
	echo "# build + demo (in the copy): $(elapsed "$t_build")" >"$TMP/build.time"
) &
BUILD_PID=$!

# --- apt fails: the operator's policy-rc.d comes back ---------------------------
printf '#!/bin/sh\n# the operator'"'"'s\nexit 0\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
cp "$R/usr/sbin/policy-rc.d" "$TMP/policy.operator"
# (the download phase fails: apt cannot write where it keeps packages)
echo 'Dir::Cache::Archives "/nonexistent-acm-agent-test/";' >"$R/etc/apt/apt.conf.d/99broken"
expect_rc 1 "a failing apt-get fails install-deps --tests" -- in_root sh /tmp/install-deps.sh --tests
expect_grep "^install-deps: downloading the packages failed$" "names the phase that failed"
expect_grep "^install-deps: failed \(exit 1\); the last lines of " "and shows the end of apt's log"
cmp -s "$R/usr/sbin/policy-rc.d" "$TMP/policy.operator" && ok "the operator's policy-rc.d is back" ||
	not_ok "policy-rc.d after a failure: $(cat "$R/usr/sbin/policy-rc.d" 2>&1)"
ls "$R/usr/sbin/" | grep -q 'policy-rc.d.acm-agent-saved' && not_ok "a saved policy-rc.d is left" || ok "no saved copy left"
rm -f "$R/etc/apt/apt.conf.d/99broken"

# --- --tests ---------------------------------------------------------------------
t=$(date +%s)
expect_rc 0 "sh tools/install-deps.sh --tests installs what make check needs" -- in_root sh /tmp/install-deps.sh --tests
echo "# install-deps --tests: $(elapsed "$t")"
sed 's/^/# /' "$TMP/out"
expect_grep "^install-deps: [0-9]+ of [0-9]+ packages for build \+ demo \+ make check to install:" "says how much is missing"
for p in nginx-light haproxy bind9 bind9-dnsutils awscli dpkg-dev debhelper rpm lintian prometheus debootstrap ansible-core; do
	installed "$p" && ok "--tests installed $p" || not_ok "--tests did not install $p"
done
enabled_links >"$TMP/links-after"
LC_ALL=C comm -13 "$TMP/links-before" "$TMP/links-after" >"$TMP/links-new"
if [ -s "$TMP/links-new" ]; then not_ok "units left enabled"; sed 's/^/#   /' "$TMP/links-new"
else ok "no unit the packages enabled is left enabled"; fi
expect_grep "^install-deps: disabled the units the packages enabled: .*nginx\.service" "nginx.service was disabled, and it says so"
expect_grep "^install-deps: disabled the units the packages enabled: .*haproxy\.service" "haproxy.service too"
expect_grep "^install-deps: disabled the units the packages enabled: .*named\.service" "named.service too"
running_in_root >"$TMP/running"
if [ -s "$TMP/running" ]; then not_ok "processes running in the root"; sed 's/^/#   /' "$TMP/running"
else ok "nothing runs in the root (no service was started)"; fi
cmp -s "$R/usr/sbin/policy-rc.d" "$TMP/policy.operator" && ok "the operator's policy-rc.d is back after a success" ||
	not_ok "policy-rc.d after --tests: $(cat "$R/usr/sbin/policy-rc.d" 2>&1)"
ls "$R/usr/sbin/" | grep -q 'policy-rc.d.acm-agent-saved' && not_ok "a saved policy-rc.d is left" || ok "no saved copy left"
expect_rc 0 "--tests again: nothing to do" -- in_root sh /tmp/install-deps.sh --tests
expect_grep "^install-deps: all [0-9]+ packages for build \+ demo \+ make check are installed$" "in one line"

# --- --ci, checked without installing it (.ci/run installs it) ----------------------
expect_rc 0 "--ci --dry-run after --tests" -- in_root sh /tmp/install-deps.sh --ci --dry-run
expect_grep "^install-deps: 4 of [0-9]+ packages for build \+ demo \+ make check \+ CI to install: valgrind clang libclang-rt-14-dev git$" \
	"names the four packages only .ci/run's other phases use"
expect_grep "^install-deps: dry run: apt would install [1-9][0-9]* packages with its current package lists; nothing was installed$" \
	"and that apt can install them"
for p in valgrind clang libclang-rt-14-dev git; do
	installed "$p" && not_ok "$p installed by --tests or by a dry run" || ok "no $p without --ci"
done
mkdir -p "$R/tmp/no-lists/partial"
echo 'Dir::State::Lists "/tmp/no-lists/";' >"$R/tmp/no-lists.conf"
expect_rc 1 "--ci --dry-run fails when apt knows none of the packages" -- \
	in_root APT_CONFIG=/tmp/no-lists.conf sh /tmp/install-deps.sh --ci --dry-run
expect_grep "^install-deps: dry run: apt cannot install them with its current package lists" "says so"
expect_grep "^    E: " "with apt's error"

# --- the build + demo started above -----------------------------------------------
wait "$BUILD_PID"
cat "$TMP/build.time"
[ "$(cat "$TMP/build.rc")" = 0 ] && ok "autoreconf -fi && ./configure && make -j2 && make demo" ||
	{ not_ok "autoreconf -fi && ./configure && make -j2 && make demo (exit $(cat "$TMP/build.rc"))"; tail -30 "$TMP/build.out" | sed 's/^/# /'; }
[ "$(grep -c '^key matches certificate: yes$' "$TMP/build.out")" = 2 ] && ok "the demo issued and checked two certificates" ||
	{ not_ok "the demo did not check two certificates"; tail -30 "$TMP/build.out" | sed 's/^/# /'; }
expect_grep "^== removed the work directory" "the demo cleaned up" "$TMP/build.out"

echo "# test-packaging-deps: $(elapsed "$t_all") in all"
finish
