#!/bin/bash
# The AWS client against the emulator (which verifies every signature with
# botocore and validates every request against botocore's model): credentials
# from the environment and the shared files, STS query, ACM-PCA JSON over
# HTTPS with the emulator's CA bundle, throttling recovery at a low quota, 5xx
# and connection-reset recovery, and a wrong secret giving a clear error.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
CALL="$ABS_TOP_BUILDDIR/tests/integration/aws-call"
[ -x "$CALL" ] || { echo "aws-call not built"; exit 77; }
emu_start --tls || exit 1
on_exit emu_stop
export AWS_CA_BUNDLE="$EMU_CA_BUNDLE" HOME="$TMP"
RSA_CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111

expect_rc 0 "credentials from the environment" -- "$CALL" --credentials
expect_grep "^source=environment" "source is named"
expect_rc 0 "STS GetCallerIdentity over HTTPS" -- "$CALL" sts GetCallerIdentity
expect_grep '"Account": ?"111122223333"' "identity is the emulator account"
expect_rc 0 "DescribeCertificateAuthority" -- "$CALL" acm-pca DescribeCertificateAuthority "{\"CertificateAuthorityArn\":\"$RSA_CA\"}"
expect_grep '"Status": ?"ACTIVE"' "CA is ACTIVE"

# Shared credentials file with a named profile (environment keys removed).
cat >"$TMP/credentials" <<EOT
[ops]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
EOT
expect_rc 0 "credentials from a profile in the shared file" -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	AWS_SHARED_CREDENTIALS_FILE="$TMP/credentials" AWS_PROFILE=ops "$CALL" sts GetCallerIdentity
expect_rc 1 "a missing profile is a clear error" -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	AWS_SHARED_CREDENTIALS_FILE="$TMP/credentials" AWS_PROFILE=nope "$CALL" sts GetCallerIdentity
expect_grep "profile 'nope' is not in the AWS config" "names the profile"

# role_arn + source_profile: the client assumes the role through STS.
cat >"$TMP/config" <<EOT
[profile deploy]
role_arn = arn:aws:iam::111122223333:role/cert-agent
source_profile = ops
EOT
expect_rc 0 "role_arn + source_profile assumes the role" -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	AWS_SHARED_CREDENTIALS_FILE="$TMP/credentials" AWS_CONFIG_FILE="$TMP/config" AWS_PROFILE=deploy \
	"$CALL" --credentials
expect_grep "assumed role arn:aws:iam::111122223333:role/cert-agent" "source names the assumed role"
expect_grep "^temporary=yes" "assumed-role credentials are temporary"
expect_rc 0 "assumed-role credentials sign requests" -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	AWS_SHARED_CREDENTIALS_FILE="$TMP/credentials" AWS_CONFIG_FILE="$TMP/config" AWS_PROFILE=deploy \
	"$CALL" sts GetCallerIdentity
expect_grep "assumed-role/cert-agent" "identity is the assumed role"

# Web identity (AssumeRoleWithWebIdentity is unsigned).
b64() { "$PYTHON3" -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$1"; }
echo "$(b64 '{"alg":"RS256","typ":"JWT"}').$(b64 '{"sub":"system:serviceaccount:certs:agent","aud":"sts.amazonaws.com","iss":"https://oidc.example"}').c2ln" >"$TMP/token"
expect_rc 0 "web identity token" -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	AWS_WEB_IDENTITY_TOKEN_FILE="$TMP/token" AWS_ROLE_ARN=arn:aws:iam::111122223333:role/web "$CALL" --credentials
expect_grep "^source=web identity token" "source is the web identity token"
expect_rc 1 "unreadable web identity token is a clear error" -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	AWS_WEB_IDENTITY_TOKEN_FILE="$TMP/missing" AWS_ROLE_ARN=arn:aws:iam::111122223333:role/web "$CALL" --credentials
expect_grep "cannot read the web identity token $TMP/missing" "names the token file"

# A wrong secret: one attempt, the AWS error type, no secret in the output.
expect_rc 1 "wrong secret is rejected" -- env AWS_SECRET_ACCESS_KEY=wrong-secret-value "$CALL" acm ListCertificates
expect_grep "InvalidSignatureException on acm:ListCertificates" "error names the AWS type and operation"
expect_grep "kind=auth" "classified as auth"
if grep -q wrong-secret-value "$TMP/out"; then not_ok "secret not printed"; else ok "secret not printed"; fi

# Throttling recovery at a low quota: 12 concurrent calls at 1/s burst 1.
emu_ctl POST /quota '{"operation": "acm-pca:DescribeCertificateAuthority", "per_second": 1, "burst": 1}' >/dev/null
expect_rc 0 "12 calls at a 1/s quota all succeed" -- "$CALL" --repeat 12 --max-attempts 8 acm-pca DescribeCertificateAuthority "{\"CertificateAuthorityArn\":\"$RSA_CA\"}"
expect_grep "calls=12 " "12 calls completed"
sed -n 's/^throttles=/# throttles=/p' "$TMP/out"

# 5xx and connection reset recovery.
emu_ctl POST /fault '{"operation": "acm:ListCertificates", "kind": "503", "count": 2}' >/dev/null
expect_rc 0 "two 503s then success" -- "$CALL" --max-attempts 3 acm ListCertificates
expect_grep "http=3" "three HTTP attempts"
emu_ctl POST /fault '{"operation": "acm:ListCertificates", "kind": "reset", "count": 1}' >/dev/null
expect_rc 0 "connection reset then success" -- "$CALL" acm ListCertificates
expect_grep "http=2" "two HTTP attempts"
emu_ctl POST /fault '{"operation": "acm:ListCertificates", "kind": "500", "count": 5}' >/dev/null
expect_rc 1 "persistent 500 gives up after max attempts" -- "$CALL" --max-attempts 3 acm ListCertificates
expect_grep "kind=server" "classified as server"
expect_grep "3 attempts" "attempt count reported"
emu_ctl POST /reset >/dev/null

# An unusable HTTP 200 body: a precise error (status, line/column, size, the
# body's start), retried like a lost answer, never a vague message.
emu_ctl POST /fault '{"operation": "acm:ListCertificates", "kind": "malformed", "count": 5}' >/dev/null
expect_rc 1 "a malformed 200 answer is an error" -- "$CALL" --max-attempts 2 acm ListCertificates
expect_grep 'MalformedResponse on acm:ListCertificates.*: HTTP 200 answer is not valid JSON \(line 1, column [0-9]+\); [0-9]+ bytes: .+ \(HTTP 200' "says what is wrong with the body"
expect_grep "2 attempts" "retried once"
emu_ctl POST /fault '{"operation": "*", "kind": "clear"}' >/dev/null

# A server slower than aws.request_timeout: each attempt is cut at 1 s, the
# call at 2 s (2 x request_timeout), although 5 attempts are allowed.
emu_ctl POST /fault '{"operation": "acm:ListCertificates", "kind": "latency", "latency_ms": 4000, "count": 5}' >/dev/null
expect_rc 1 "a slow server gives a Timeout" -- "$CALL" --request-timeout 1 --max-attempts 5 acm ListCertificates
expect_grep "^Timeout on acm:ListCertificates" "the error is a Timeout"
expect_grep "is used up \(no HTTP response, 2 attempts\)" "two attempts within the call's limit"
expect_grep "kind=network" "classified as network"
emu_ctl POST /fault '{"operation": "*", "kind": "clear"}' >/dev/null

# check --online (through the helper until main.c wires it).
EC_CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/22222222-2222-4222-8222-222222222222
expect_rc 0 "online check passes for good CAs" -- "$CALL" --check-online "pca:$RSA_CA" "pca:$EC_CA=SHA256WITHECDSA"
expect_grep "ok   credentials: environment" "prints the credential source"
expect_grep "ok   sts:GetCallerIdentity: arn:aws:" "prints the identity"
expect_grep "ok   CA .*11111111.*ACTIVE, RSA_2048" "RSA CA active"
expect_rc 1 "online check fails on a family mismatch" -- "$CALL" --check-online "pca:$EC_CA=SHA256WITHRSA"
expect_grep "FAIL CA .*signing_algorithm SHA256WITHRSA does not match" "names the mismatch"
expect_rc 1 "online check fails on a missing CA" -- "$CALL" --check-online "pca:${RSA_CA%-*}-999999999999"
expect_grep "ResourceNotFoundException on acm-pca:DescribeCertificateAuthority" "names the AWS error"
emu_ctl POST /ca "{\"arn\": \"$RSA_CA\", \"status\": \"DISABLED\"}" >/dev/null
expect_rc 1 "online check fails on a disabled CA" -- "$CALL" --check-online "pca:$RSA_CA"
expect_grep "status DISABLED, not ACTIVE" "says the CA is not active"
expect_rc 1 "online check fails on wrong credentials" -- env AWS_SECRET_ACCESS_KEY=nope "$CALL" --check-online
expect_grep "FAIL sts:GetCallerIdentity: SignatureDoesNotMatch" "identity check names the STS error"
finish
