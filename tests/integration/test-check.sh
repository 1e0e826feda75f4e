#!/bin/sh
# acm-agent check: the shipped examples are valid; a broken configuration
# exits 2 with FILE:LINE:COLUMN lines; check --json output loads again to
# the same JSON (round trip through the real binary); warnings keep exit 0;
# check --drop-in FILE [--as PATH] as config management runs it; special
# files never hang the check.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"

EX="$ABS_TOP_SRCDIR/conf/acm-agent.yaml"
expect_rc 0 "the shipped example is valid" -- "$ACM_AGENT" -c "$EX" check
n_certs=$(grep -c -- '- name:' "$ABS_TOP_SRCDIR"/conf/certs.d/*.yaml | awk -F: '{s += $2} END {print s}')
n_lines=$(grep -c -- ' -> /' "$TMP/out")
if [ "$n_lines" = "$n_certs" ] && [ "$n_certs" -ge 3 ]; then ok "one line per certificate ($n_certs)"; else not_ok "one line per certificate (got $n_lines, want $n_certs)"; fi
expect_grep '^web-internal +pca .*web.internal.example.com.* -> /etc/ssl/acm-agent/web-internal$' "pca example line"
expect_grep '^api +acm .*api.example.com' "acm example line"
expect_grep '^legacy +import ' "import example line"

# A valid configuration this host is not ready for (what an issuance checks
# before its first AWS call): warnings at the certificate, exit 0 (config
# management may set the host up after installing the file); --json lists
# them under host_errors; none once the host is ready.
mkdir -p "$TMP/host/out/p12"
cat >"$TMP/host/acm-agent.yaml" <<YAML
state_dir: $TMP/host/state
output_root: $TMP/host/out
certificates:
  - name: p12
    issuer: {type: pca, ca_arn: "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111", validity: 30d}
    dns_names: [p12.example.com]
    output: {files: [cert, key, pkcs12], pkcs12_passphrase_file: $TMP/host/p12.pass}
  - name: open
    issuer: {type: pca, ca_arn: "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111", validity: 30d}
    dns_names: [open.example.com]
YAML
mkdir -p "$TMP/host/out/open" && chmod 0777 "$TMP/host/out/open"
expect_rc 0 "a valid configuration the host is not ready for: exit 0" -- "$ACM_AGENT" -c "$TMP/host/acm-agent.yaml" check
expect_grep "^$TMP/host/acm-agent.yaml:4:5: warning: certificate p12 cannot be issued and deployed on this host now: cannot read the PKCS#12 passphrase from $TMP/host/p12.pass" \
	"the missing passphrase file, at the certificate"
expect_grep "^$TMP/host/acm-agent.yaml:8:5: warning: certificate open cannot be issued and deployed on this host now: .*$TMP/host/out/open" \
	"the output directory others may write"
expect_grep "^  hint: its next issuance stops here, before any AWS call" "with a hint"
grep -q "valid, 2 certificates in 1 file; 2 certificates cannot be issued and deployed on this host now" "$TMP/out" &&
	ok "the summary counts them" || not_ok "summary: $(tail -1 "$TMP/out")"
"$ACM_AGENT" -c "$TMP/host/acm-agent.yaml" check --json >"$TMP/host.json" 2>"$TMP/host.err"; rc=$?
[ $rc = 0 ] && /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/host.json" &&
	[ "$(grep -c ': warning: certificate .* cannot be issued and deployed on this host now' "$TMP/host.err")" = 2 ] &&
	ok "check --json: the document on stdout, the two warnings on stderr" ||
	{ not_ok "check --json (exit $rc)"; sed 's/^/# /' "$TMP/host.json" "$TMP/host.err"; }
echo secret >"$TMP/host/p12.pass" && chmod 0755 "$TMP/host/out/open"
expect_rc 0 "the host is ready" -- "$ACM_AGENT" -c "$TMP/host/acm-agent.yaml" check
grep -q warning "$TMP/out" && not_ok "warnings left: $(grep warning "$TMP/out")" || ok "no warning once the host is ready"

# A broken configuration: every error, FILE:LINE:COLUMN, exit 2.
mkdir -p "$TMP/bad/certs.d"
cat >"$TMP/bad/acm-agent.yaml" <<'YAML'
state_dir: relative
certificates:
  - name: web
    issuer: {type: pca, ca_arn: "arn:aws:acm-pca:eu-west-1:1:certificate-authority/x", validity: 30days}
    dns_names: [www.example.com]
    renew_befor: 30d
YAML
cat >"$TMP/bad/certs.d/10-x.yaml" <<'YAML'
certificates:
  - name: web
    issuer: {type: import, cert: /c, key: /k}
YAML
expect_rc 2 "a broken configuration exits 2" -- "$ACM_AGENT" -c "$TMP/bad/acm-agent.yaml" check
expect_grep "^$TMP/bad/acm-agent.yaml:1:12: state_dir must be an absolute path" "relative state_dir at 1:12"
expect_grep "^$TMP/bad/acm-agent.yaml:4:33: ca_arn: malformed ARN" "bad ARN at 4:33"
expect_grep "^$TMP/bad/acm-agent.yaml:4:98: validity: '30days' is not a duration" "bad validity at 4:98"
expect_grep "^$TMP/bad/acm-agent.yaml:6:5: unknown key 'renew_befor'" "unknown key at 6:5"
expect_grep "^  hint: did you mean 'renew_before'\\?" "the hint names the nearest key"
expect_grep "^$TMP/bad/certs.d/10-x.yaml:2:5: certificate name 'web' is also defined at $TMP/bad/acm-agent.yaml:3:5" "duplicate names both places"
n_err=$(grep -cE "^$TMP/bad/[^:]+:[0-9]+:[0-9]+: " "$TMP/out")
if [ "$n_err" = 5 ]; then ok "all 5 errors reported"; else not_ok "all 5 errors reported (got $n_err)"; fi
"$ACM_AGENT" -c "$TMP/bad/acm-agent.yaml" check --json >"$TMP/errs.json" 2>/dev/null; rc=$?
if [ $rc = 2 ]; then ok "check --json on a broken configuration exits 2"; else not_ok "check --json on a broken configuration exits 2 ($rc)"; fi
if "$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["valid"] is False and len(d["errors"]) == 5 and d["errors"][0]["line"] == 1 and d["errors"][4]["class"] == "duplicate"' "$TMP/errs.json"; then
	ok "errors as JSON"; else not_ok "errors as JSON"; sed 's/^/# /' "$TMP/errs.json"; fi
expect_rc 2 "a missing configuration exits 2" -- "$ACM_AGENT" -c "$TMP/nope.yaml" check
expect_grep "^$TMP/nope.yaml:1:1: cannot read" "missing file is named"

# Round trip: check --json output is itself a valid configuration with the same JSON.
"$ACM_AGENT" -c "$EX" check --json >"$TMP/rt1.json" 2>"$TMP/err"; rc=$?
if [ $rc = 0 ]; then ok "check --json exits 0"; else not_ok "check --json exits 0 ($rc)"; cat "$TMP/err"; fi
mkdir -p "$TMP/rt"
cp "$TMP/rt1.json" "$TMP/rt/acm-agent.yaml"
"$ACM_AGENT" -c "$TMP/rt/acm-agent.yaml" check --json >"$TMP/rt2.json" 2>"$TMP/err"; rc=$?
if [ $rc = 0 ] && cmp -s "$TMP/rt1.json" "$TMP/rt2.json"; then ok "check --json output loads to the same JSON"; else
	not_ok "round trip (exit $rc)"; diff "$TMP/rt1.json" "$TMP/rt2.json" | head -20 | sed 's/^/# /'; cat "$TMP/err"; fi
if "$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["certificates"]) >= 3' "$TMP/rt1.json"; then
	ok "--json lists the certificates"; else not_ok "--json lists the certificates"; fi
expect_rc 2 "unexpected argument exits 2" -- "$ACM_AGENT" -c "$EX" check extra
# --json promises one JSON document: the online report (lines for people)
# is refused with it rather than appended to the document.
expect_rc 2 "check --json --online is refused" -- "$ACM_AGENT" -c "$ABS_TOP_SRCDIR/conf/acm-agent.yaml" check --json --online
expect_grep "cannot be combined" "says why and what to run instead"

# Warnings: printed as FILE:LINE:COLUMN: warning:, exit 0; --json lists them.
mkdir -p "$TMP/warn"
cat >"$TMP/warn/acm-agent.yaml" <<'YAML'
certificates:
  - name: api
    issuer: {type: acm, validation: email, transparency_logging: disabled}
    dns_names: [api.example.com]
YAML
expect_rc 0 "a deprecated key is a warning, exit 0" -- "$ACM_AGENT" -c "$TMP/warn/acm-agent.yaml" check
expect_grep "^$TMP/warn/acm-agent.yaml:3:66: warning: transparency_logging is deprecated" "the warning names the place"
expect_grep "1 warning" "the summary counts it"
"$ACM_AGENT" -c "$TMP/warn/acm-agent.yaml" check --json >"$TMP/warn.json" 2>/dev/null; rc=$?
if [ $rc = 0 ] && "$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); w=d["warnings"]; assert len(w) == 1 and w[0]["line"] == 3 and w[0]["column"] == 66 and w[0]["class"] == "deprecated"; assert d["certificates"][0]["name"] == "api"' "$TMP/warn.json"; then
	ok "check --json lists the warnings"; else not_ok "check --json lists the warnings (exit $rc)"; sed 's/^/# /' "$TMP/warn.json"; fi
# The other commands load the same configuration: they log its warnings too.
{ cat "$TMP/warn/acm-agent.yaml"; echo "state_dir: $TMP/warn/state"; } >"$TMP/warn/run.yaml"
expect_rc 0 "--once --dry-run with a deprecated key runs" -- "$ACM_AGENT" -c "$TMP/warn/run.yaml" --once --dry-run
expect_grep "$TMP/warn/run.yaml:3:66: warning: transparency_logging is deprecated" "--once logs the warning with its place"
expect_rc 1 "status with a deprecated key runs (nothing issued yet: exit 1)" -- "$ACM_AGENT" -c "$TMP/warn/run.yaml" status
expect_grep "run.yaml:3:66: warning: transparency_logging is deprecated" "status logs the warning"
echo "state_dir: rel" >>"$TMP/warn/acm-agent.yaml"
"$ACM_AGENT" -c "$TMP/warn/acm-agent.yaml" check --json >"$TMP/warn.json" 2>/dev/null; rc=$?
if [ $rc = 2 ] && "$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["valid"] is False and len(d["errors"]) == 1 and len(d["warnings"]) == 1' "$TMP/warn.json"; then
	ok "errors and warnings as JSON"; else not_ok "errors and warnings as JSON (exit $rc)"; sed 's/^/# /' "$TMP/warn.json"; fi

# check --drop-in FILE [--as PATH]: Ansible's "validate: acm-agent check --drop-in %s --as DEST".
mkdir -p "$TMP/cm/certs.d" "$TMP/cm/out"
cat >"$TMP/cm/acm-agent.yaml" <<YAML
state_dir: $TMP/cm/state
output_root: $TMP/cm/out
certificates: []
YAML
cat >"$TMP/cm/certs.d/web.yaml" <<'YAML'
certificates:
  - name: web
    issuer: {type: import, cert: /etc/x/cert.pem, key: /etc/x/key.pem}
YAML
cat >"$TMP/new-web" <<'YAML'
certificates:
  - name: web
    issuer: {type: import, cert: /etc/x/cert.pem, key: /etc/x/key.pem, chain: /etc/x/chain.pem}
    reload: [nginx]
YAML
expect_rc 2 "without --as a changed drop-in collides with its old version" -- "$ACM_AGENT" -c "$TMP/cm/acm-agent.yaml" check --drop-in "$TMP/new-web"
expect_grep "^$TMP/new-web:2:5: certificate name 'web' is also defined at $TMP/cm/certs.d/web.yaml:2:5" "the error names FILE"
expect_rc 0 "--as PATH: FILE replaces the drop-in" -- "$ACM_AGENT" -c "$TMP/cm/acm-agent.yaml" check --drop-in "$TMP/new-web" --as "$TMP/cm/certs.d/web.yaml"
expect_grep "^web +import .* -> $TMP/cm/out/web$" "the certificate is listed once"
expect_rc 0 "--as a drop-in that does not exist yet" -- "$ACM_AGENT" -c "$TMP/cm/acm-agent.yaml" check --drop-in "$TMP/cm/certs.d/web.yaml" --as "$TMP/cm/certs.d/other.yaml"
rm -f "$TMP/cm/certs.d/web.yaml"
expect_rc 0 "an extra drop-in with no old version" -- "$ACM_AGENT" -c "$TMP/cm/acm-agent.yaml" check --drop-in "$TMP/new-web"
printf 'certificates:\n  - name: web\n    issuer: {type: import, cert: relative, key: /k}\n' >"$TMP/bad-web"
expect_rc 2 "an invalid drop-in exits 2" -- "$ACM_AGENT" -c "$TMP/cm/acm-agent.yaml" check --drop-in "$TMP/bad-web" --as "$TMP/cm/certs.d/web.yaml"
expect_grep "^$TMP/bad-web:3:34: cert must be an absolute path" "errors in it carry FILE's path"
expect_rc 2 "--as a path the agent never reads" -- "$ACM_AGENT" -c "$TMP/cm/acm-agent.yaml" check --drop-in "$TMP/new-web" --as /etc/web.yaml
expect_grep "is not a drop-in of" "says the drop-in would never be read"
expect_rc 2 "--as without --drop-in" -- "$ACM_AGENT" -c "$TMP/cm/acm-agent.yaml" check --as "$TMP/cm/certs.d/web.yaml"

# Files that are not regular files are refused at once, never read (a FIFO would block).
mkfifo "$TMP/fifo.yaml"
expect_rc 2 "a FIFO as the configuration exits 2 (no hang)" -- timeout 20 "$ACM_AGENT" -c "$TMP/fifo.yaml" check
expect_grep "^$TMP/fifo.yaml:1:1: cannot read $TMP/fifo.yaml: it is a FIFO" "says what it is"
mkfifo "$TMP/cm/certs.d/zz.yaml"
expect_rc 2 "a FIFO drop-in exits 2 (no hang)" -- timeout 20 "$ACM_AGENT" -c "$TMP/cm/acm-agent.yaml" check
expect_rc 2 "a FIFO as --drop-in exits 2 (no hang)" -- timeout 20 "$ACM_AGENT" -c "$TMP/warn/acm-agent.yaml" check --drop-in "$TMP/fifo.yaml"
expect_rc 2 "a device as the configuration exits 2" -- timeout 20 "$ACM_AGENT" -c /dev/zero check
expect_grep "it is a character device" "a device is named as such"
finish
