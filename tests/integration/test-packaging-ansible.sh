#!/bin/bash
# The Ansible role (contrib/ansible/roles/acm_agent) run by Debian's
# ansible-playbook inside a throwaway Debian 12 root (the package test's base
# tree): it installs the .deb, writes the main configuration and one drop-in
# per certificate, enables the timer, and converges once against the AWS
# emulator on 127.0.0.1; the second run changes nothing. Each drop-in is
# validated before it lands with `acm-agent check --drop-in`: a bad one
# fails the play and is never written. An acm-agent without --drop-in makes
# that part skip, and then the whole test ends with 77 (SKIP) after the
# rest passed, so the gap stays visible. acm_agent_mode service needs the
# daemon's unit: without it in the package the role says so and fails.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/packaging-lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"

pkg_require_chroot
for t in dpkg-buildpackage dpkg-deb dh fakeroot; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t missing (sh tools/install-deps.sh --tests)"; exit 77; }
done
t_all=$(date +%s)
pkg_distdir || { not_ok "make distdir"; finish; }
pkg_build_deb || { not_ok "the .deb builds"; finish; }
pkg_root agent
R=$ROOT
in_root() { pkg_in "$R" "$@"; }
in_root ansible-playbook --version >"$TMP/out" 2>&1 || { not_ok "ansible-playbook in the root"; sed 's/^/# /' "$TMP/out"; finish; }
echo "# $(head -n 1 "$TMP/out") in the root"

emu_start --tls >"$TMP/emu.log" 2>&1 || { not_ok "the emulator starts"; cat "$TMP/emu.log"; finish; }
on_exit emu_stop

A=$R/tmp/ansible
mkdir -p "$A"
cp -R "$ABS_TOP_SRCDIR/contrib/ansible/roles" "$A/roles"
cp "$PKG_DEB" "$A/acm-agent.deb"
cp "$EMU_CA_BUNDLE" "$R/etc/ssl/emulator-ca.pem"
PCA_EC=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/33333333-3333-4333-8333-333333333333
PCA_RSA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111

# vars.json EXTRA_CERT_JSON MODE VALIDATE: the role's variables.
write_vars() {
	cat >"$A/vars.json" <<EOJ
{
  "acm_agent_deb": "/tmp/ansible/acm-agent.deb",
  "acm_agent_mode": "$2",
  "acm_agent_validate": $3,
  "acm_agent_settings": {
    "aws": {"region": "us-east-1", "endpoints": {"acm": "$EMU_URL", "acm-pca": "$EMU_URL", "sts": "$EMU_URL"},
            "ca_bundle": "/etc/ssl/emulator-ca.pem"},
    "defaults": {"renew_fraction": 0.33}
  },
  "acm_agent_certificates": [
    {"name": "web", "issuer": {"type": "pca", "ca_arn": "$PCA_EC", "validity": "30d"},
     "subject": {"common_name": "web.example.com"}, "dns_names": ["web.example.com", "www.example.com"]},
    {"name": "api", "issuer": {"type": "pca", "ca_arn": "$PCA_RSA", "validity": "7d"},
     "dns_names": ["api.example.com"], "key": {"type": "rsa", "bits": 2048}}$1
  ],
  "acm_agent_once_environment": {"AWS_ACCESS_KEY_ID": "$AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY": "$AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED": "true"}
}
EOJ
}
cat >"$A/site.yml" <<'EOY'
- hosts: localhost
  connection: local
  gather_facts: false
  roles: [acm_agent]
EOY
play() {
	in_root env ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PIPELINING=1 \
		ANSIBLE_ROLES_PATH=/tmp/ansible/roles ANSIBLE_LOCALHOST_WARNING=0 \
		ansible-playbook -i localhost, -e ansible_python_interpreter=/usr/bin/python3 -e @/tmp/ansible/vars.json \
		/tmp/ansible/site.yml
}
recap() { sed -n 's/^localhost *: //p' "$TMP/out" | tail -n 1; }

# Does this acm-agent validate a drop-in in place?
dpkg-deb -x "$PKG_DEB" "$TMP/probe"
if "$TMP/probe/usr/bin/acm-agent" -c /dev/null check --drop-in /dev/null --as /etc/acm-agent/certs.d/probe.yaml 2>&1 |
	grep -q "unrecognized option '--drop-in'"; then
	validate=false
else
	validate=true
fi

# --- first run --------------------------------------------------------------
write_vars "" timer $validate
t=$(date +%s)
expect_rc 0 "first run: the play succeeds" -- play
echo "# first run: $(elapsed "$t"); recap: $(recap)"
recap | grep -qE 'changed=[1-9]' && ok "first run reports changes" || not_ok "first run reports no change: $(recap)"
expect_grep "TASK \[acm_agent : Converge once \(acm-agent --once --json\)\]" "the role runs acm-agent --once --json"
grep -A2 'TASK \[acm_agent : Converge once' "$TMP/out" | grep -q '^changed: \[localhost\]' &&
	ok "the pass is 'changed' (it issued)" || not_ok "the pass is not 'changed'"
expect_grep '2 certificates: 2 issued, 0 renewed' "the role reports what the pass did"
expect_rc 0 "installed by the role: acm-agent --version" -- in_root acm-agent --version
for n in web api; do
	[ -f "$R/etc/acm-agent/certs.d/$n.yaml" ] && ok "drop-in certs.d/$n.yaml" || not_ok "no drop-in certs.d/$n.yaml"
	[ -f "$R/etc/ssl/acm-agent/$n/cert.pem" ] && ok "certificate $n deployed" || not_ok "certificate $n not deployed"
done
grep -q 'www.example.com' "$R/etc/acm-agent/certs.d/web.yaml" && ok "the drop-in holds the certificate's variables" ||
	not_ok "certs.d/web.yaml lacks its names"
expect_rc 0 "the written configuration passes check" -- in_root acm-agent check
expect_grep '/etc/acm-agent/acm-agent.yaml: valid, 2 certificates in 3 files' "main file and two drop-ins"
expect_rc 0 "the timer is enabled" -- in_root systemctl is-enabled acm-agent-once.timer
cp "$R/etc/ssl/acm-agent/web/cert.pem" "$TMP/web-1.pem"

# --- second run: nothing to change ---------------------------------------------
t=$(date +%s)
expect_rc 0 "second run: the play succeeds" -- play
echo "# second run: $(elapsed "$t"); recap: $(recap)"
recap | grep -q 'changed=0 ' && ok "second run reports no change" || not_ok "second run reports changes: $(recap)"
grep -E '^changed: ' "$TMP/out" | sed 's/^/# changed: /'
expect_grep '2 certificates: 0 issued, 0 renewed, 2 unchanged' "the pass found nothing to do"
cmp -s "$R/etc/ssl/acm-agent/web/cert.pem" "$TMP/web-1.pem" && ok "the same certificate is served" || not_ok "web was reissued"

# --- a bad drop-in never lands -------------------------------------------------
skipped=""
if [ "$validate" = true ]; then
	write_vars ', {"name": "bad", "issuer": {"type": "pca", "ca_arn": "'"$PCA_EC"'"}, "dns_names": ["bad.example.com"], "bogus_key": 1}' timer true
	expect_rc 2 "a bad certificate fails the play" -- play
	expect_grep "failed to validate" "the validation names the failure"
	expect_grep "bogus_key" "with the agent's message"
	[ ! -e "$R/etc/acm-agent/certs.d/bad.yaml" ] && ok "the bad drop-in was not written" || not_ok "certs.d/bad.yaml landed"
	expect_rc 0 "the configuration on the host is still valid" -- in_root acm-agent check
else
	skipped="drop-in validation: this acm-agent has no 'check --drop-in' (being added in conf/); the role's validate step was turned off (acm_agent_validate: false)"
	echo "# SKIP $skipped"
fi

# --- mode service ----------------------------------------------------------------
if [ -e "$R/lib/systemd/system/acm-agent.service" ]; then
	write_vars "" service $validate
	expect_rc 0 "mode service: the play succeeds" -- play
	expect_rc 0 "mode service: acm-agent.service is enabled" -- in_root systemctl is-enabled acm-agent.service
	in_root systemctl is-enabled acm-agent-once.timer >"$TMP/out" 2>&1
	expect_grep '^disabled$' "mode service: the timer is disabled"
else
	write_vars "" service $validate
	expect_rc 2 "mode service without the daemon in the package fails" -- play
	expect_grep "acm_agent_mode is service, but the installed acm-agent has no acm-agent.service" "and says why"
	expect_rc 0 "the timer stays enabled" -- in_root systemctl is-enabled acm-agent-once.timer
fi

echo "# test-packaging-ansible: $(elapsed "$t_all") in all"
if [ -n "$skipped" ] && [ "$failures" -eq 0 ]; then
	echo "1..$checks"
	echo "SKIP (the rest passed): $skipped"
	exit 77
fi
finish
