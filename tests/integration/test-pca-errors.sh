#!/bin/bash
# Failures of the Private CA path, each a clear error with the old files kept
# and exit 1, then recovery: bad credentials, 5xx after every retry, a long
# RequestInProgress (the next run polls the same ARN, no second issuance),
# a signing algorithm that does not fit the CA, throttling absorbed by the
# client's rate limiter.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/pca-lib.sh"

cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30}'
write_conf
expect_rc 0 "initial issuance" -- agent --once
serial=$(serial_of web)
keep() { [ "$(serial_of web)" = "$serial" ] && ok "$1: old files stay" || not_ok "$1: files changed"; }

expect_rc 1 "wrong secret key" -- env AWS_SECRET_ACCESS_KEY=wrong "$AGENT" -c "$CONF" renew web --force
expect_grep "(InvalidSignatureException|UnrecognizedClientException|SignatureDoesNotMatch).*acm-pca" "names the AWS error and service"
keep "wrong secret"

emu_ctl POST /fault '{"operation":"acm-pca:IssueCertificate","kind":"500","count":-1}' >/dev/null
expect_rc 1 "IssueCertificate answering 500 every time" -- agent renew web --force
expect_grep "InternalFailure on acm-pca:IssueCertificate" "names the failure"
keep "5xx"
emu_ctl POST /fault '{"operation":"*","kind":"clear"}' >/dev/null
expect_rc 0 "recovers once the service answers" -- agent renew web --force
serial=$(serial_of web)

# long RequestInProgress: bounded wait, then the next run polls the same ARN
emu_ctl POST /settings '{"pca_in_progress_seconds": 30}' >/dev/null
before=$(calls acm-pca:IssueCertificate)
expect_rc 1 "GetCertificate in progress past the deadline" -- env ACM_AGENT_PCA_POLL_DEADLINE=2 "$AGENT" -c "$CONF" renew web --force
expect_grep "still being issued after 2 s" "says it is still being issued"
keep "in progress"
grep -q '"pending_arn"' "$STATE/certs/web.json" && ok "the ARN stays pending in the state" || not_ok "no pending ARN"
emu_ctl POST /settings '{"pca_in_progress_seconds": 0}' >/dev/null
expect_rc 0 "the next run fetches the pending certificate" -- agent --once
expect_grep "web: renewed" "renewed"
[ "$(calls acm-pca:IssueCertificate)" = $((before + 1)) ] && ok "no second IssueCertificate" || not_ok "IssueCertificate calls $(calls acm-pca:IssueCertificate), before $before"
verify_files web
serial=$(serial_of web)

# a configured signing algorithm of the wrong family
CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30},"signing_algorithm":"SHA256WITHRSA"'
write_conf
expect_rc 1 "SHA256WITHRSA on an EC CA" -- agent renew web --force
expect_grep "signing_algorithm SHA256WITHRSA does not fit CA .*EC_prime256v1" "names the mismatch"
keep "algorithm mismatch"

# throttling: a CA quota of 2/s for 6 certificates; the client slows down
emu_ctl POST /quota '{"operation":"acm-pca:IssueCertificate","per_second":2,"burst":2}' >/dev/null
CERTS=""
for i in 1 2 3 4 5 6; do cert "t$i" "$EC_CA" '"validity":{"type":"DAYS","value":3}'; done
write_conf
expect_rc 0 "6 certificates through a 2/s quota" -- agent --once
expect_grep "6 certificates: 6 issued" "all issued"
finish
