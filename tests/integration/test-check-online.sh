#!/bin/bash
# acm-agent check --online against the emulator: a valid configuration is
# loaded, then credentials, identity and every configured Private CA are
# checked; a CA whose key family does not match signing_algorithm fails the
# check with exit 1; a configuration error stops before any AWS call (exit 2).
# The report is in configuration order whatever order the answers come in;
# without credentials the cause is said once and the other checks are not
# run; failures with one cause print its message once.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
emu_start || exit 1
on_exit emu_stop
export HOME="$TMP"
RSA_CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111
EC_CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/22222222-2222-4222-8222-222222222222

write_conf() { # $1 = signing algorithm of the EC CA certificate
	cat >"$TMP/acm-agent.yaml" <<EOT
aws:
  region: us-east-1
  endpoints: {acm: "$EMU_URL", acm-pca: "$EMU_URL", sts: "$EMU_URL", route53: "$EMU_URL"}
output_root: $TMP/certs
certificates:
  - name: rsa
    issuer: {type: pca, ca_arn: "$RSA_CA", validity: 7d}
    dns_names: [rsa.example.com]
  - name: ec
    issuer: {type: pca, ca_arn: "$EC_CA", validity: 7d, signing_algorithm: $1}
    dns_names: [ec.example.com]
EOT
}

write_conf SHA256WITHECDSA
expect_rc 0 "check --online passes for good CAs" -- "$ACM_AGENT" -c "$TMP/acm-agent.yaml" check --online
expect_grep "^rsa +pca " "the certificates are listed first"
expect_grep "ok   credentials: environment" "credential source"
expect_grep "ok   CA .*11111111.*ACTIVE" "the RSA CA is checked"
expect_grep "ok   CA .*22222222.*ACTIVE" "the EC CA is checked"

write_conf SHA256WITHRSA
expect_rc 1 "check --online fails on a key family mismatch" -- "$ACM_AGENT" -c "$TMP/acm-agent.yaml" check --online
expect_grep "FAIL CA .*signing_algorithm SHA256WITHRSA does not match" "names the mismatch"
expect_grep "hint: set issuer.signing_algorithm to auto or SHA256WITHECDSA" "the hint names the algorithm that fits"

# A valid configuration this host cannot deploy (an output directory others
# may write): every AWS check passes, the host check fails --online (exit 1).
write_conf SHA256WITHECDSA
mkdir -p "$TMP/certs/ec" && chmod 0777 "$TMP/certs/ec"
expect_rc 1 "check --online fails when a certificate cannot be deployed on this host" -- \
	"$ACM_AGENT" -c "$TMP/acm-agent.yaml" check --online
expect_grep "warning: certificate ec cannot be issued and deployed on this host now: .*$TMP/certs/ec" "names the certificate and the directory"
expect_grep "ok   CA .*22222222.*ACTIVE" "the AWS checks still run"
chmod 0755 "$TMP/certs/ec"

# Stable order: the answers arrive in any order (here the first CA's answer
# is held back 1.5 s), the report follows the configuration.
write_conf SHA256WITHECDSA
emu_ctl POST /fault '{"operation": "acm-pca:DescribeCertificateAuthority", "kind": "latency", "count": 1, "latency_ms": 1500}' >/dev/null
expect_rc 0 "check --online with a slow first answer passes" -- "$ACM_AGENT" -c "$TMP/acm-agent.yaml" check --online
grep -E '^(ok|FAIL|skip) ' "$TMP/out" | sed 's/: .*//' >"$TMP/order"
printf '%s\n' "ok   credentials" "ok   sts:GetCallerIdentity" "ok   CA $RSA_CA (certificate rsa)" "ok   CA $EC_CA (certificate ec)" >"$TMP/order.want"
cmp -s "$TMP/order" "$TMP/order.want" && ok "checks are reported in configuration order" ||
	{ not_ok "checks are reported in configuration order"; diff "$TMP/order.want" "$TMP/order" | sed 's/^/# /'; }

# No credentials: one message for the shared cause, the checks that need
# credentials are listed as not run, in order; the same lines every time.
run_nocreds() {
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE="$TMP/none" AWS_SHARED_CREDENTIALS_FILE="$TMP/none" \
		"$ACM_AGENT" -c "$TMP/acm-agent.yaml" check --online
}
calls_before=$(emu_ctl GET /calls | grep -o '"operation": *"[^"]*"' | wc -l)
expect_rc 1 "check --online without credentials fails" -- run_nocreds
cp "$TMP/out" "$TMP/nocreds.1"
[ "$(grep -c 'no AWS credentials found' "$TMP/out")" = 1 ] && ok "the credentials message is printed once" ||
	not_ok "the credentials message is printed $(grep -c 'no AWS credentials found' "$TMP/out") times"
expect_grep "^FAIL credentials: NoCredentials .*no AWS credentials found; tried: the environment" "the credentials check fails with the chain tried"
expect_grep "^     hint: configure credentials for the agent$" "with the hint"
expect_grep "^skip sts:GetCallerIdentity: not checked without credentials$" "identity not run"
expect_grep "^skip CA $RSA_CA \(certificate rsa\): not checked without credentials$" "the CA is not run"
expect_grep "^FAILED: 1 check failed, 3 not run \(they need credentials\)$" "the summary counts failed and not run"
grep -E '^(ok|FAIL|skip) ' "$TMP/out" | sed 's/: .*//' >"$TMP/order"
printf '%s\n' "FAIL credentials" "skip sts:GetCallerIdentity" "skip CA $RSA_CA (certificate rsa)" "skip CA $EC_CA (certificate ec)" >"$TMP/order.want"
cmp -s "$TMP/order" "$TMP/order.want" && ok "without credentials: configuration order" ||
	{ not_ok "without credentials: configuration order"; diff "$TMP/order.want" "$TMP/order" | sed 's/^/# /'; }
calls_after=$(emu_ctl GET /calls | grep -o '"operation": *"[^"]*"' | wc -l)
[ "$calls_after" = "$calls_before" ] && ok "no AWS call without credentials" ||
	not_ok "AWS calls without credentials: $((calls_after - calls_before))"
run_nocreds >"$TMP/nocreds.2" 2>&1
cmp -s "$TMP/nocreds.1" "$TMP/nocreds.2" && ok "a second run prints the same" ||
	{ not_ok "a second run prints the same"; diff "$TMP/nocreds.1" "$TMP/nocreds.2" | sed 's/^/# /'; }

# One unreachable endpoint for every service: the message once, the other
# checks refer to it.
port=$(free_port)
sed -i "s|endpoints: .*|endpoints: {acm: \"http://127.0.0.1:$port\", acm-pca: \"http://127.0.0.1:$port\", sts: \"http://127.0.0.1:$port\"}|" "$TMP/acm-agent.yaml"
expect_rc 1 "check --online against a closed port fails" -- "$ACM_AGENT" -c "$TMP/acm-agent.yaml" check --online
[ "$(grep -c "Couldn't connect to server" "$TMP/out")" = 1 ] && ok "the connection error is printed once" ||
	not_ok "the connection error is printed $(grep -c "Couldn't connect to server" "$TMP/out") times"
expect_grep "^FAIL sts:GetCallerIdentity: ConnectionError on sts:GetCallerIdentity" "the first check that met it has the message"
expect_grep "^FAIL CA $RSA_CA \(certificate rsa\): ConnectionError, as for sts:GetCallerIdentity above$" "the CA refers to it"
expect_grep "^FAIL CA $EC_CA \(certificate ec\): ConnectionError, as for sts:GetCallerIdentity above$" "so does the second CA"
expect_grep "^FAILED: 3 checks failed$" "three checks failed"

write_conf SHA256WITHECDSA
echo "bogus: 1" >>"$TMP/acm-agent.yaml"
expect_rc 2 "a configuration error stops before AWS" -- "$ACM_AGENT" -c "$TMP/acm-agent.yaml" check --online
expect_grep "acm-agent.yaml:12:1: unknown key 'bogus'" "the error is printed"
if grep -q "credentials:" "$TMP/out"; then not_ok "no AWS call after a config error"; else ok "no AWS call after a config error"; fi
finish
