#!/bin/bash
# acm-agent check --online against the emulator: a valid configuration is
# loaded, then credentials, identity and every configured Private CA are
# checked; a CA whose key family does not match signing_algorithm fails the
# check with exit 1; a configuration error stops before any AWS call (exit 2).
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

echo "bogus: 1" >>"$TMP/acm-agent.yaml"
expect_rc 2 "a configuration error stops before AWS" -- "$ACM_AGENT" -c "$TMP/acm-agent.yaml" check --online
expect_grep "acm-agent.yaml:12:1: unknown key 'bogus'" "the error is printed"
if grep -q "credentials:" "$TMP/out"; then not_ok "no AWS call after a config error"; else ok "no AWS call after a config error"; fi
finish
