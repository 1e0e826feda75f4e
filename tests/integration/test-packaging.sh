#!/bin/sh
# Builds the .deb (packaging/deb/debian) and the .rpm (packaging/rpm) from a
# dist tarball of this tree, checks what they install where (paths, modes,
# configuration files, scriptlets), that both ship the same files, and runs
# the packaged binary against the packaged configuration. Also: configure's
# default paths (/etc and /var for a system-wide prefix, the prefix's own
# for a confined one) and that a source `make install` installs what its
# units' Documentation= name. Nothing is installed on this host: the
# packages are unpacked into $TMP (test-packaging-install.sh installs them).
# Skips (77) when the build tools are missing.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/packaging-lib.sh"

missing=""
for t in dpkg-buildpackage dpkg-deb dh fakeroot rpmbuild rpm rpm2cpio cpio; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "SKIP: packaging tools missing:$missing (install dpkg-dev debhelper fakeroot rpm cpio: sh tools/install-deps.sh)"
	exit 77
fi

version=$(pkg_version)
[ -n "$version" ] || { echo "cannot read PACKAGE_VERSION from $ABS_TOP_BUILDDIR/Makefile"; exit 1; }
pkg=acm-agent-$version

# --- the dist tarball (what `make dist` ships, unpacked) --------------------
if pkg_distdir; then ok "dist tree $pkg"; else not_ok "dist tree"; finish; fi
# Every file under packaging/ is distributed (EXTRA_DIST in mk/packaging.mk).
for f in $(cd "$ABS_TOP_SRCDIR" && find packaging -type f | sort); do
	if [ -f "$TMP/dist/$pkg/$f" ]; then ok "dist tarball has $f"; else not_ok "dist tarball lacks $f (add it to EXTRA_DIST in mk/packaging.mk)"; fi
done
[ -x "$TMP/dist/$pkg/packaging/deb/debian/rules" ] && ok "debian/rules is executable in the tarball" ||
	not_ok "debian/rules is not executable in the tarball"

# Both packages carry the version configure.ac declares.
deb_version=$(sed -n '1s/^acm-agent (\([^)-]*\)-[^)]*).*/\1/p' "$ABS_TOP_SRCDIR/packaging/deb/debian/changelog")
rpm_version=$(sed -n 's/^Version:[[:space:]]*//p' "$ABS_TOP_SRCDIR/packaging/rpm/acm-agent.spec")
[ "$deb_version" = "$version" ] && ok "debian/changelog is at $version" ||
	not_ok "debian/changelog is at '$deb_version', configure.ac at $version: add a changelog entry"
[ "$rpm_version" = "$version" ] && ok "acm-agent.spec is at $version" ||
	not_ok "acm-agent.spec Version is '$rpm_version', configure.ac at $version"

# run_packaged ROOT KIND: the unpacked binary against the unpacked config.
run_packaged() {
	root=$1; kind=$2; unitdir=$3
	expect_rc 0 "$kind: packaged acm-agent --version exits 0" -- "$root/usr/bin/acm-agent" --version
	expect_grep "^acm-agent $version\$" "$kind: --version prints $version"
	expect_rc 0 "$kind: --help exits 0" -- "$root/usr/bin/acm-agent" --help
	expect_grep 'default /etc/acm-agent/acm-agent\.yaml' "$kind: built with sysconfdir /etc (default config path)"
	expect_rc 0 "$kind: the shipped configuration passes check" -- \
		"$root/usr/bin/acm-agent" -c "$root/etc/acm-agent/acm-agent.yaml" check
	expect_grep 'valid, 0 certificates' "$kind: the shipped configuration has no certificates"
	# One pass with the shipped file (state moved into $TMP): what the
	# timer runs on a freshly installed host must exit 0.
	mkdir -p "$TMP/$kind-state"
	{ cat "$root/etc/acm-agent/acm-agent.yaml"; echo "state_dir: $TMP/$kind-state"; } >"$TMP/$kind-once.yaml"
	expect_rc 0 "$kind: --once with the shipped configuration exits 0" -- \
		"$root/usr/bin/acm-agent" -c "$TMP/$kind-once.yaml" --once
	expect_grep '^0 certificates' "$kind: --once summary names 0 certificates"
	# Every path the shipped configuration points at is in the package.
	for p in $(grep -oE '/(etc|usr)/[A-Za-z0-9_./-]+' "$root/etc/acm-agent/acm-agent.yaml" | sed 's/[.]$//' | sort -u); do
		# NAME placeholders and the output root the agent creates.
		case $p in */NAME*|/etc/ssl/*) continue ;; esac
		[ -e "$root$p" ] && ok "$kind: the configuration's pointer $p exists" ||
			not_ok "$kind: the configuration points at $p, which the package does not ship"
	done
	grep -q '^ExecStart=/usr/bin/acm-agent --once$' "$root$unitdir/acm-agent-once.service" &&
		ok "$kind: the service runs /usr/bin/acm-agent --once" ||
		not_ok "$kind: ExecStart of acm-agent-once.service is not /usr/bin/acm-agent --once"
	cmp -s "$root/etc/acm-agent/acm-agent.yaml.example" "$ABS_TOP_SRCDIR/conf/acm-agent.yaml" &&
		ok "$kind: the example configuration is conf/acm-agent.yaml" ||
		not_ok "$kind: /etc/acm-agent/acm-agent.yaml.example differs from conf/acm-agent.yaml"
}

# expect_listing FILE DESC REGEX: one line of a package listing matches.
expect_listing() { expect_grep "$3" "$2" "$1"; }

# --- configure's paths and a source install ------------------------------------
# No --sysconfdir/--localstatedir with the default prefix: /etc and /var, the
# paths of the packages, the man page and the units' StateDirectory=; a
# confined prefix keeps its own; an explicit option wins.
# The four runs share one cache file: the compiler and library checks run
# once (they are not what is checked here); the paths are computed from the
# options on every run, never cached.
conf_paths() { # DIR ARGS...: configure in DIR, print its two path lines
	_d=$1; shift
	mkdir -p "$_d" && (cd "$_d" && "$PKG_DISTDIR/configure" --cache-file="$TMP/config.cache" "$@" >configure.out 2>&1) &&
		sed -n 's/^  \(configuration\|state\): *//p' "$_d/configure.out" | tr '\n' ' '
}
got=$(conf_paths "$TMP/c-default")
[ "$got" = "/etc/acm-agent/acm-agent.yaml /var/lib/acm-agent " ] && ok "configure (default prefix): /etc/acm-agent, /var/lib/acm-agent" ||
	not_ok "configure (default prefix): $got"
got=$(conf_paths "$TMP/c-usr" --prefix=/usr)
[ "$got" = "/etc/acm-agent/acm-agent.yaml /var/lib/acm-agent " ] && ok "configure --prefix=/usr: /etc, /var" || not_ok "configure --prefix=/usr: $got"
got=$(conf_paths "$TMP/c-opt" --prefix=/opt/acm)
[ "$got" = "/opt/acm/etc/acm-agent/acm-agent.yaml /opt/acm/var/lib/acm-agent " ] &&
	ok "configure --prefix=/opt/acm: the prefix's own etc and var" || not_ok "configure --prefix=/opt/acm: $got"
got=$(conf_paths "$TMP/c-explicit" --sysconfdir=/srv/etc --localstatedir=/srv/var)
[ "$got" = "/srv/etc/acm-agent/acm-agent.yaml /srv/var/lib/acm-agent " ] && ok "explicit --sysconfdir/--localstatedir win" ||
	not_ok "configure --sysconfdir=/srv/etc --localstatedir=/srv/var: $got"
# `make install` (the data part: no compiler needed) of the default build.
I=$TMP/src-install
if make -s -C "$TMP/c-default" install-data DESTDIR="$I" >"$TMP/out" 2>&1; then ok "make install-data (default prefix)"
else not_ok "make install-data"; sed 's/^/# /' "$TMP/out"; fi
for f in /etc/acm-agent/acm-agent.yaml.example /usr/local/share/doc/acm-agent/README /usr/local/share/doc/acm-agent/REFERENCE.md \
	/usr/local/share/man/man8/acm-agent.8 /usr/local/share/bash-completion/completions/acm-agent \
	/usr/local/share/zsh/site-functions/_acm-agent /usr/local/libexec/acm-agent/notify-webhook; do
	[ -e "$I$f" ] && ok "source install: $f" || not_ok "source install lacks $f"
done
grep -q '^ExecStart=/usr/local/bin/acm-agent --once$' "$I/usr/local/lib/systemd/system/acm-agent-once.service" 2>/dev/null &&
	ok "source install: the unit runs /usr/local/bin/acm-agent" || not_ok "source install: ExecStart is not /usr/local/bin/acm-agent"
# Every Documentation= of every installed unit names an installed file or
# manual page (file:PATH under DESTDIR, man:NAME(S) in mandir).
doc_targets() { # ROOT UNITDIR MANDIR KIND
	for u in "$1$2"/*; do
		[ -f "$u" ] || continue
		for d in $(sed -n 's/^Documentation=//p' "$u"); do
			case $d in
			file:*) p=${d#file:} ;;
			man:*) n=${d#man:}; s=${n##*(}; s=${s%)}; p=$3/man$s/${n%(*}.$s ;;
			*) continue ;;
			esac
			{ [ -e "$1$p" ] || [ -e "$1$p.gz" ]; } && ok "$4: $(basename "$u"): Documentation=$d is installed" ||
				not_ok "$4: $(basename "$u"): Documentation=$d, but $p is not installed"
		done
	done
}
doc_targets "$I" /usr/local/lib/systemd/system /usr/local/share/man "source install"

# --- .deb -------------------------------------------------------------------
if pkg_build_deb; then ok "dpkg-buildpackage -b built the .deb"; else not_ok "dpkg-buildpackage failed"; finish; fi
deb=$PKG_DEB
ok "the .deb is $(basename "$deb")"

dpkg-deb -c "$deb" >"$TMP/deb-list"
L=$TMP/deb-list
expect_listing "$L" "deb: /usr/bin/acm-agent 0755" '^-rwxr-xr-x root/root .* \./usr/bin/acm-agent$'
expect_listing "$L" "deb: man page" ' \./usr/share/man/man8/acm-agent\.8\.gz$'
expect_listing "$L" "deb: service unit in /lib/systemd/system" '^-rw-r--r-- root/root .* \./lib/systemd/system/acm-agent-once\.service$'
expect_listing "$L" "deb: timer unit in /lib/systemd/system" '^-rw-r--r-- root/root .* \./lib/systemd/system/acm-agent-once\.timer$'
expect_listing "$L" "deb: REFERENCE.md in the docdir, uncompressed" ' \./usr/share/doc/acm-agent/REFERENCE\.md$'
expect_listing "$L" "deb: README in the docdir, uncompressed" ' \./usr/share/doc/acm-agent/README$'
expect_listing "$L" "deb: bash completion" '^-rw-r--r-- root/root .* \./usr/share/bash-completion/completions/acm-agent$'
expect_listing "$L" "deb: zsh completion (vendor-completions)" ' \./usr/share/zsh/vendor-completions/_acm-agent$'
expect_listing "$L" "deb: the shipped hooks" '^-rwxr-xr-x root/root .* \./usr/libexec/acm-agent/notify-webhook$'
expect_listing "$L" "deb: the nsupdate DNS hook" '^-rwxr-xr-x root/root .* \./usr/libexec/acm-agent/dns/nsupdate$'
expect_listing "$L" "deb: copyright" ' \./usr/share/doc/acm-agent/copyright$'
expect_listing "$L" "deb: example drop-ins" ' \./usr/share/doc/acm-agent/examples/certs\.d/10-internal-pca\.yaml$'
expect_listing "$L" "deb: example hooks" '^-rwxr-xr-x root/root .* \./usr/share/doc/acm-agent/examples/hooks/nginx-reload$'
expect_listing "$L" "deb: main configuration 0644" '^-rw-r--r-- root/root .* \./etc/acm-agent/acm-agent\.yaml$'
expect_listing "$L" "deb: example configuration" '^-rw-r--r-- root/root .* \./etc/acm-agent/acm-agent\.yaml\.example$'
expect_listing "$L" "deb: /etc/acm-agent 0755" '^drwxr-xr-x root/root .* \./etc/acm-agent/$'
expect_listing "$L" "deb: /etc/acm-agent/certs.d 0755" '^drwxr-xr-x root/root .* \./etc/acm-agent/certs\.d/$'
expect_listing "$L" "deb: /var/lib/acm-agent 0700 root" '^drwx------ root/root .* \./var/lib/acm-agent/$'
if grep -vE ' root/root ' "$L" >"$TMP/out"; then not_ok "deb: files not owned by root"; sed 's/^/# /' "$TMP/out"; else ok "deb: every file is root/root"; fi
# Units go to /lib/systemd/system on Debian 12; the journal catalog's only
# place is /usr/lib/systemd/catalog (where journalctl --update-catalog reads).
if grep -E '\./usr/local/|\./usr/lib/systemd/|\./usr/etc/|\./usr/var/' "$L" |
	grep -vE '\./usr/lib/systemd/(catalog/([^/]+\.catalog)?)?$' >"$TMP/out"; then
	not_ok "deb: files outside the FHS places"; sed 's/^/# /' "$TMP/out"
else ok "deb: nothing in /usr/local, /usr/etc, /usr/var or /usr/lib/systemd (but the journal catalog)"; fi

dpkg-deb -I "$deb" conffiles >"$TMP/deb-conffiles" 2>&1
expect_listing "$TMP/deb-conffiles" "deb: conffiles has /etc/acm-agent/acm-agent.yaml" '^/etc/acm-agent/acm-agent\.yaml$'
dpkg-deb -f "$deb" Depends >"$TMP/deb-depends"
for lib in libcurl4 libssl3 libyaml-0-2 libsystemd0 libjansson4 libexpat1; do
	expect_listing "$TMP/deb-depends" "deb: Depends on $lib" "(^|, )$lib( |,|$)"
done
dpkg-deb -I "$deb" postinst >"$TMP/deb-postinst" 2>&1
expect_listing "$TMP/deb-postinst" "deb: postinst enables the timer" "deb-systemd-helper enable 'acm-agent-once\.timer'"
expect_listing "$TMP/deb-postinst" "deb: postinst starts the timer (a pass with no certificates exits 0)" "deb-systemd-invoke \\\$_dh_action 'acm-agent-once\.timer'"
if grep -q 'acm-agent-once\.service' "$TMP/deb-postinst"; then
	not_ok "deb: postinst touches the oneshot service (only the timer may run it)"
else ok "deb: postinst never starts the oneshot service"; fi
dpkg-deb -I "$deb" postrm >"$TMP/deb-postrm" 2>&1
expect_listing "$TMP/deb-postrm" "deb: purge removes the state directory" 'rm -rf /var/lib/acm-agent$'

dpkg-deb -x "$deb" "$TMP/root-deb"
run_packaged "$TMP/root-deb" deb /lib/systemd/system
if command -v lintian >/dev/null 2>&1; then
	if timeout 300 lintian --fail-on error,warning "$deb" >"$TMP/out" 2>&1; then ok "deb: lintian reports no errors or warnings"
	else not_ok "deb: lintian errors or warnings"; sed 's/^/# /' "$TMP/out"; fi
fi

# --- .rpm -------------------------------------------------------------------
if pkg_build_rpm; then ok "rpmbuild -bb built the .rpm"; else not_ok "rpmbuild failed"; finish; fi
rpmf=$PKG_RPM
ok "the .rpm is $(basename "$rpmf")"

rpm -qlvp "$rpmf" >"$TMP/rpm-list" 2>/dev/null
L=$TMP/rpm-list
expect_listing "$L" "rpm: /usr/bin/acm-agent 0755" '^-rwxr-xr-x .* root +root .* /usr/bin/acm-agent$'
expect_listing "$L" "rpm: man page" ' /usr/share/man/man8/acm-agent\.8'
expect_listing "$L" "rpm: service unit in %{_unitdir}" ' /usr/lib/systemd/system/acm-agent-once\.service$'
expect_listing "$L" "rpm: timer unit in %{_unitdir}" ' /usr/lib/systemd/system/acm-agent-once\.timer$'
expect_listing "$L" "rpm: preset enables the timer" ' /usr/lib/systemd/system-preset/80-acm-agent\.preset$'
expect_listing "$L" "rpm: REFERENCE.md in the docdir" ' /usr/share/doc/acm-agent/REFERENCE\.md$'
expect_listing "$L" "rpm: README in the docdir" ' /usr/share/doc/acm-agent/README$'
expect_listing "$L" "rpm: bash completion" ' /usr/share/bash-completion/completions/acm-agent$'
expect_listing "$L" "rpm: zsh completion" ' /usr/share/zsh/site-functions/_acm-agent$'
expect_listing "$L" "rpm: the shipped hooks" '^-rwxr-xr-x .* /usr/libexec/acm-agent/notify-webhook$'
expect_listing "$L" "rpm: the nsupdate DNS hook" '^-rwxr-xr-x .* /usr/libexec/acm-agent/dns/nsupdate$'
expect_listing "$L" "rpm: LICENSE" ' /usr/share/licenses/acm-agent[^/]*/LICENSE$'
expect_listing "$L" "rpm: example drop-ins" ' /usr/share/doc/acm-agent/examples/certs\.d/20-public-acm\.yaml$'
expect_listing "$L" "rpm: main configuration 0644" '^-rw-r--r-- .* root +root .* /etc/acm-agent/acm-agent\.yaml$'
expect_listing "$L" "rpm: example configuration" ' /etc/acm-agent/acm-agent\.yaml\.example$'
expect_listing "$L" "rpm: /etc/acm-agent 0755" '^drwxr-xr-x .* root +root .* /etc/acm-agent$'
expect_listing "$L" "rpm: /etc/acm-agent/certs.d 0755" '^drwxr-xr-x .* root +root .* /etc/acm-agent/certs\.d$'
expect_listing "$L" "rpm: /var/lib/acm-agent 0700 root" '^drwx------ .* root +root .* /var/lib/acm-agent$'
if grep -E ' /usr/local/| /usr/com/| /usr/etc/' "$L" >"$TMP/out"; then
	not_ok "rpm: files outside the FHS places"; sed 's/^/# /' "$TMP/out"
else ok "rpm: nothing in /usr/local, /usr/com or /usr/etc"; fi
rpm -qcp "$rpmf" >"$TMP/rpm-conf" 2>/dev/null
expect_listing "$TMP/rpm-conf" "rpm: -qc lists /etc/acm-agent/acm-agent.yaml" '^/etc/acm-agent/acm-agent\.yaml$'
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpmf" >"$TMP/rpm-flags" 2>/dev/null
expect_listing "$TMP/rpm-flags" "rpm: the main configuration is %config(noreplace)" '^cn /etc/acm-agent/acm-agent\.yaml$'
rpm -qp --scripts "$rpmf" >"$TMP/rpm-scripts" 2>/dev/null
expect_listing "$TMP/rpm-scripts" "rpm: %post presets the timer (systemd_post)" 'install-system-units acm-agent-once\.timer'
expect_listing "$TMP/rpm-scripts" "rpm: %preun stops and disables both units on erase" 'remove-system-units acm-agent-once\.timer acm-agent-once\.service'
if grep -E 'start acm-agent-once\.service|mark-restart-system-units.*acm-agent-once\.service' "$TMP/rpm-scripts" >"$TMP/out"; then
	not_ok "rpm: a scriptlet runs the oneshot service"; sed 's/^/# /' "$TMP/out"
else ok "rpm: no scriptlet runs the oneshot service"; fi

mkdir -p "$TMP/root-rpm"
if (cd "$TMP/root-rpm" && rpm2cpio "$rpmf" | cpio -idm --quiet) 2>"$TMP/out"; then ok "rpm: rpm2cpio | cpio extracts"
else not_ok "rpm: extraction failed"; sed 's/^/# /' "$TMP/out"; fi
run_packaged "$TMP/root-rpm" rpm /usr/lib/systemd/system

# --- the .deb and the .rpm ship the same files ----------------------------------
# Up to each distribution's conventions: units in /lib/systemd/system (deb)
# or /usr/lib/systemd/system (rpm), zsh completion in vendor-completions
# (Debian) or site-functions, compressed manual pages and Debian's changelog
# and copyright, rpm's licence directory, build-id links and preset.
# files and links, and our own directories (*/acm-agent, */acm-agent/*)
(cd "$TMP/root-deb" && find . \( -type f -o -type l -o -type d \( -name acm-agent -o -path '*/acm-agent/*' \) \) -print) |
	sed 's|^\./|/|' | sed 's|^/lib/systemd/|/usr/lib/systemd/|; s|/zsh/vendor-completions/|/zsh/site-functions/|; s|\.gz$||' |
	grep -vE '^/usr/share/doc/acm-agent/(changelog\.Debian|copyright)$|^/usr/share/lintian/' |
	LC_ALL=C sort -u >"$TMP/files-deb"
rpm -qlp "$rpmf" 2>/dev/null | sed 's|\.gz$||' |
	grep -vE '^/usr/share/licenses(/|$)|^/usr/lib/\.build-id(/|$)|^/usr/lib/systemd/system-preset/80-acm-agent\.preset$' |
	LC_ALL=C sort -u >"$TMP/files-rpm"
LC_ALL=C comm -23 "$TMP/files-deb" "$TMP/files-rpm" >"$TMP/only-deb"
LC_ALL=C comm -13 "$TMP/files-deb" "$TMP/files-rpm" >"$TMP/only-rpm"
if [ -s "$TMP/only-deb" ]; then not_ok "files only in the .deb"; sed 's/^/#   /' "$TMP/only-deb"; else ok "every file of the .deb is in the .rpm"; fi
if [ -s "$TMP/only-rpm" ]; then not_ok "files only in the .rpm"; sed 's/^/#   /' "$TMP/only-rpm"; else ok "every file of the .rpm is in the .deb"; fi
deb_units=$(grep -c '^/usr/lib/systemd/system/' "$TMP/files-deb")
[ "$deb_units" -ge 2 ] && ok "both ship the $deb_units systemd units" || not_ok "units in the .deb: $deb_units"
# Documentation= of the packaged units names packaged files.
doc_targets "$TMP/root-deb" /lib/systemd/system /usr/share/man deb
doc_targets "$TMP/root-rpm" /usr/lib/systemd/system /usr/share/man rpm

finish
