#!/bin/bash
# The .deb proven by installing it: `dpkg -i` into a throwaway Debian 12 root
# (debootstrap; the base tree is cached, see packaging-lib.sh), then, with
# the installed binary and paths only:
#   --version; `check` on the shipped configuration; a certificate issued
#   from the AWS emulator (on 127.0.0.1 outside the root: a chroot shares the
#   network) with the shipped notify-webhook as deploy hook;
#   an upgrade to a rebuilt package (bumped version, changed conffiles) that
#   keeps the edited configuration and the state;
#   `dpkg -r` (configuration and state stay), then `dpkg -P`, which removes
#   what the package and the agent's state created and nothing the operator
#   made (compared file by file with the root before the install).
# Skips (77) without root, debootstrap or the packaging tools, or when the
# Debian mirror cannot be reached for the first (uncached) run.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/packaging-lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"

pkg_require_chroot
for t in dpkg-buildpackage dpkg-deb dh fakeroot curl; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t missing (sh tools/install-deps.sh --tests)"; exit 77; }
done
t_all=$(date +%s)

t=$(date +%s)
pkg_distdir || { not_ok "make distdir"; finish; }
pkg_build_deb || { not_ok "the .deb builds"; finish; }
ok "the .deb: $(basename "$PKG_DEB") ($(elapsed "$t"))"
version=$(pkg_version)
debver=$(dpkg-deb -f "$PKG_DEB" Version)

pkg_root agent
R=$ROOT
in_root() { pkg_in "$R" "$@"; }

# What the root holds before the package (for the purge comparison); the
# kernel's and dpkg's own bookkeeping are left out.
snapshot() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
		-o -path ./var/cache -o -path ./var/log -o -path ./var/lib/dpkg -o -path ./var/lib/apt \) -prune \
		-o -print) | LC_ALL=C sort
}

# Dependencies the base tree lacks (none unless the package gained one):
# installed from the mirror, as an operator's apt would.
deps=$(dpkg-deb -f "$PKG_DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/^ *//; s/ *$//' | grep -v '^$')
missing=""
for d in $deps; do in_root dpkg-query -W -f='${db:Status-Status}' "$d" 2>/dev/null | grep -q '^installed$' || missing="$missing $d"; done
if [ -n "$missing" ]; then
	echo "# installing the package's dependencies missing from the base tree:$missing"
	in_root apt-get install -y -q --no-install-recommends $missing >"$TMP/deps.log" 2>&1 ||
		{ not_ok "installing the dependencies$missing"; sed 's/^/# /' "$TMP/deps.log"; finish; }
fi
snapshot >"$TMP/before"

# --- install ------------------------------------------------------------------
cp "$PKG_DEB" "$R/tmp/acm-agent.deb"
t=$(date +%s)
expect_rc 0 "dpkg -i installs the .deb" -- in_root dpkg -i /tmp/acm-agent.deb
echo "# dpkg -i took $(elapsed "$t")"
expect_rc 0 "installed: acm-agent --version" -- in_root acm-agent --version
expect_grep "^acm-agent $version\$" "--version prints $version"
expect_rc 0 "installed: acm-agent check on the shipped /etc/acm-agent/acm-agent.yaml (the default path)" -- in_root acm-agent check
expect_grep "/etc/acm-agent/acm-agent.yaml: valid, 0 certificates" "the shipped configuration is valid, no certificates"
expect_rc 0 "installed: --once with the shipped configuration exits 0" -- in_root acm-agent --once
expect_grep "^0 certificates" "the timer's pass on a fresh install does nothing"
[ -d "$R/var/lib/acm-agent" ] && [ "$(stat -c %a "$R/var/lib/acm-agent")" = 700 ] &&
	ok "/var/lib/acm-agent is 0700" || not_ok "/var/lib/acm-agent: $(stat -c %a "$R/var/lib/acm-agent" 2>&1)"
expect_rc 0 "the timer is enabled (dh_installsystemd)" -- in_root systemctl is-enabled acm-agent-once.timer
expect_grep '^enabled$' "systemctl is-enabled says enabled"
in_root systemctl is-enabled acm-agent-once.service >"$TMP/out" 2>&1
expect_grep '^static$' "the oneshot service is not enabled itself (its timer runs it)"
for f in /usr/share/bash-completion/completions/acm-agent /usr/share/zsh/vendor-completions/_acm-agent \
	/usr/libexec/acm-agent/notify-webhook /usr/share/doc/acm-agent/README /usr/share/doc/acm-agent/REFERENCE.md \
	/usr/share/man/man8/acm-agent.8.gz /etc/acm-agent/acm-agent.yaml.example; do
	[ -e "$R$f" ] && ok "installed $f" || not_ok "$f is not installed"
done
# Every Documentation= of an installed unit names an installed file or page.
for u in "$R"/lib/systemd/system/acm-agent*; do
	for d in $(sed -n 's/^Documentation=//p' "$u"); do
		case $d in
		file:*) p=${d#file:} ;;
		man:*) n=${d#man:}; p=/usr/share/man/man${n##*(}; p=${p%)}/${n%(*}.${n##*(}; p=${p%)}.gz ;;
		*) ok "$(basename "$u"): Documentation=$d (not a local file)"; continue ;;
		esac
		[ -e "$R$p" ] && ok "$(basename "$u"): Documentation=$d is installed" ||
			not_ok "$(basename "$u"): Documentation=$d names $p, which the package does not install"
	done
done

# --- a certificate from the emulator, the installed binary, a shipped hook ----
emu_start --tls >"$TMP/emu.log" 2>&1 || { not_ok "the emulator starts"; cat "$TMP/emu.log"; finish; }
on_exit emu_stop
# The webhook the shipped notify-webhook posts to (on the host: the root
# shares the network).
"${PYTHON3:-/usr/bin/python3}" - "$TMP/hook.port" "$TMP/hook.body" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok\n")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
hook_pid=$!
stop_hook() { kill "$hook_pid" 2>/dev/null; }
on_exit stop_hook
i=0; while [ ! -s "$TMP/hook.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
hook_url="http://127.0.0.1:$(cat "$TMP/hook.port")/hook"

# The operator edits the main configuration and adds a drop-in.
cp "$EMU_CA_BUNDLE" "$R/etc/acm-agent/emulator-ca.pem"
cat >"$R/etc/acm-agent/acm-agent.yaml" <<EOC
# edited by the operator
aws:
  region: us-east-1
  endpoints: {acm: "$EMU_URL", acm-pca: "$EMU_URL", sts: "$EMU_URL"}
  ca_bundle: /etc/acm-agent/emulator-ca.pem
certificates: []
EOC
cp "$R/etc/acm-agent/acm-agent.yaml" "$TMP/edited.yaml"
cat >"$R/etc/acm-agent/certs.d/web.yaml" <<EOC
certificates:
  - name: web
    issuer:
      type: pca
      ca_arn: "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/33333333-3333-4333-8333-333333333333"
      validity: 30d
    dns_names: [web.example.com]
    hooks:
      deploy: [/usr/libexec/acm-agent/notify-webhook, "$hook_url"]
EOC
agent_env() { in_root env AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
	AWS_EC2_METADATA_DISABLED=true acm-agent "$@"; }
expect_rc 0 "installed: check --online reaches the emulator" -- agent_env check --online
t=$(date +%s)
expect_rc 0 "installed: --once issues the certificate" -- agent_env --once
echo "# the issuing pass took $(elapsed "$t")"
expect_grep "^web: issued serial " "web issued"
W=$R/etc/ssl/acm-agent/web
[ -f "$W/cert.pem" ] && [ -f "$W/key.pem" ] && ok "files in the default output_root /etc/ssl/acm-agent/web" ||
	not_ok "no certificate files in /etc/ssl/acm-agent/web"
expect_rc 0 "the served certificate verifies against its chain (openssl in the root)" -- \
	in_root openssl verify -partial_chain -CAfile /etc/ssl/acm-agent/web/chain.pem /etc/ssl/acm-agent/web/cert.pem
[ -f "$R/var/lib/acm-agent/certs/web/state.json" ] && ok "state in /var/lib/acm-agent/certs/web/state.json" ||
	not_ok "no state file /var/lib/acm-agent/certs/web/state.json"
expect_grep '"event":"deployed","certificate":"web","serial":"[0-9A-F]+"' "the shipped notify-webhook posted the deploy event" "$TMP/hook.body"
serial=$(in_root openssl x509 -in /etc/ssl/acm-agent/web/cert.pem -noout -serial)
cp "$R/var/lib/acm-agent/certs/web/state.json" "$TMP/state-before"

# --- upgrade ------------------------------------------------------------------
# A rebuilt package with a bumped version whose shipped configuration and
# example changed: the operator's edited file is kept (the new one beside it
# as .dpkg-dist), the untouched example follows the package, the state and
# the served certificate stay.
newver="$debver+upgradetest1"
rm -rf "$TMP/repack"
dpkg-deb -R "$PKG_DEB" "$TMP/repack"
sed -i "s/^Version: .*/Version: $newver/" "$TMP/repack/DEBIAN/control"
echo "# (changed in $newver)" >>"$TMP/repack/etc/acm-agent/acm-agent.yaml"
echo "# (changed in $newver)" >>"$TMP/repack/etc/acm-agent/acm-agent.yaml.example"
dpkg-deb -b "$TMP/repack" "$R/tmp/acm-agent-new.deb" >/dev/null
t=$(date +%s)
expect_rc 0 "dpkg -i upgrades to $newver (unattended: --force-confdef --force-confold)" -- \
	in_root dpkg -i --force-confdef --force-confold /tmp/acm-agent-new.deb
echo "# the upgrade took $(elapsed "$t")"
[ "$(in_root dpkg-query -W -f='${Version}' acm-agent)" = "$newver" ] && ok "version $newver installed" ||
	not_ok "installed version: $(in_root dpkg-query -W -f='${Version}' acm-agent)"
cmp -s "$R/etc/acm-agent/acm-agent.yaml" "$TMP/edited.yaml" && ok "the edited acm-agent.yaml is kept" ||
	not_ok "the edited acm-agent.yaml was replaced"
grep -q "changed in $newver" "$R/etc/acm-agent/acm-agent.yaml.dpkg-dist" 2>/dev/null &&
	ok "the new shipped acm-agent.yaml is beside it (.dpkg-dist)" || not_ok "no acm-agent.yaml.dpkg-dist"
grep -q "changed in $newver" "$R/etc/acm-agent/acm-agent.yaml.example" &&
	ok "the untouched example follows the package" || not_ok "acm-agent.yaml.example not updated"
cmp -s "$R/var/lib/acm-agent/certs/web/state.json" "$TMP/state-before" && ok "the state is unchanged" || not_ok "the state changed"
[ -f "$R/etc/acm-agent/certs.d/web.yaml" ] && ok "the drop-in is kept" || not_ok "the drop-in is gone"
expect_rc 0 "the timer is still enabled" -- in_root systemctl is-enabled acm-agent-once.timer
expect_rc 0 "after the upgrade --once has nothing to do" -- agent_env --once
expect_grep "^1 certificates?: 0 issued, 0 renewed, 1 unchanged" "the certificate is left alone"
[ "$(in_root openssl x509 -in /etc/ssl/acm-agent/web/cert.pem -noout -serial)" = "$serial" ] &&
	ok "the same certificate is served" || not_ok "the served certificate changed"

# --- remove, then purge -------------------------------------------------------
expect_rc 0 "dpkg -r removes the package" -- in_root dpkg -r acm-agent
[ ! -e "$R/usr/bin/acm-agent" ] && ok "removed: no /usr/bin/acm-agent" || not_ok "removed: /usr/bin/acm-agent is still there"
cmp -s "$R/etc/acm-agent/acm-agent.yaml" "$TMP/edited.yaml" && ok "removed: the configuration stays" ||
	not_ok "removed: the configuration is gone"
[ -f "$R/var/lib/acm-agent/certs/web/state.json" ] && ok "removed: the state stays" || not_ok "removed: the state is gone"
[ -f "$W/cert.pem" ] && ok "removed: the deployed certificate stays" || not_ok "removed: the deployed certificate is gone"
in_root dpkg-query -W -f='${db:Status-Abbrev}' acm-agent >"$TMP/out" 2>&1
expect_grep '^rc' "removed: dpkg keeps the configuration files (status rc)"

# What the operator made: kept by the purge.
mkdir -p "$R/etc/acm-agent/hooks"
printf '#!/bin/sh\nexit 0\n' >"$R/etc/acm-agent/hooks/page-me"
echo "why this host has certificates" >"$R/etc/acm-agent/NOTES"
expect_rc 0 "dpkg -P purges the package" -- in_root dpkg -P acm-agent
[ ! -e "$R/var/lib/acm-agent" ] && ok "purged: /var/lib/acm-agent (the agent's state) is gone" || not_ok "purged: /var/lib/acm-agent is still there"
for f in acm-agent.yaml acm-agent.yaml.example acm-agent.yaml.dpkg-dist; do
	[ ! -e "$R/etc/acm-agent/$f" ] && ok "purged: /etc/acm-agent/$f is gone" || not_ok "purged: /etc/acm-agent/$f is still there"
done
for f in certs.d/web.yaml hooks/page-me NOTES emulator-ca.pem; do
	[ -f "$R/etc/acm-agent/$f" ] && ok "purged: the operator's /etc/acm-agent/$f is kept" || not_ok "purged: the operator's /etc/acm-agent/$f is gone"
done
[ -f "$W/cert.pem" ] && ok "purged: the deployed certificate stays (servers may use it)" || not_ok "purged: the deployed certificate is gone"
# The whole root against the snapshot: what is new is the operator's and
# the deployed certificates, nothing else; nothing that was there is gone.
snapshot >"$TMP/after"
LC_ALL=C comm -13 "$TMP/before" "$TMP/after" | grep -vE '^\./etc/acm-agent(/certs\.d|/certs\.d/web\.yaml|/hooks|/hooks/page-me|/NOTES|/emulator-ca\.pem)?$|^\./etc/ssl/acm-agent(/|$)' >"$TMP/left" || true
if [ -s "$TMP/left" ]; then not_ok "purged: left behind"; sed 's/^/#   /' "$TMP/left"; else ok "purged: nothing of the package is left"; fi
LC_ALL=C comm -23 "$TMP/before" "$TMP/after" >"$TMP/gone"
if [ -s "$TMP/gone" ]; then not_ok "purged: removed what was there before"; sed 's/^/#   /' "$TMP/gone"; else ok "purged: nothing that was there before is gone"; fi

echo "# test-packaging-install: $(elapsed "$t_all") in all"
finish
