#!/bin/bash
# The emulator driven by the real AWS CLI (/usr/bin/aws) with the current
# (2026) models as its AWS_DATA_PATH: every operation family, model
# validation, SigV4 verification, async behaviour, quotas and faults.
# Most calls go through the CLI server (emu_aws: the CLI's own entry point
# in one process, see tests/emulator/cli-server.py); a few run /usr/bin/aws
# as a process to prove that path too (EMU_CLI_INPROC=0 runs them all so).
# Prints ok/not ok lines; exit 0 pass, 77 skip, 1 fail.
# The checks run in two independent parts, each with its own emulator and
# CLI server, in parallel: a (the 2026 models, private and public issuance,
# Route 53, renewals, revocation, ACM quotas) and b (STS, SigV4, validation,
# ACM-PCA, faults, IMDS/ECS, then FAILED/EMAIL/statuses, list and search,
# import, account limits, then reset and TLS); their TAP lines are
# renumbered.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
AWS=/usr/bin/aws
[ -x "$AWS" ] || { echo "# skip: no $AWS"; exit 77; }
command -v openssl >/dev/null || { echo "# skip: no openssl"; exit 77; }
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=
a() { emu_aws --endpoint-url "$EMU_URL" --output json "$@"; }
jq_() { "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
P=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority
RSA=$P/11111111-1111-4111-8111-111111111111 EC=$P/22222222-2222-4222-8222-222222222222 SUB=$P/33333333-3333-4333-8333-333333333333
# raw signed calls (a body/time botocore's client would not produce); prints
# "STATUS BODY"
RAWPY=$TMP/raw.py
cat >"$RAWPY" <<'PY'
import sys, json, datetime, urllib.request, botocore.auth, botocore.session
from botocore.awsrequest import AWSRequest
url, service, target, body, skew = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
creds = botocore.session.get_session().get_credentials()
req = AWSRequest("POST", url + "/", data=body.encode(), headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
class Old(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return datetime.datetime.utcnow() + datetime.timedelta(seconds=skew)
if hasattr(botocore.auth, "get_current_datetime"):
    botocore.auth.get_current_datetime = lambda: datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=skew)
else:
    import types
    botocore.auth.datetime = types.SimpleNamespace(datetime=Old)
botocore.auth.SigV4Auth(creds, service, "us-east-1").add_auth(req)
r = urllib.request.Request(url + "/", data=req.body, headers=dict(req.headers.items()), method="POST")
try:
    print(200, urllib.request.urlopen(r).read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
raw() { "$PYTHON3" "$RAWPY" "$EMU_URL" "$@"; }

part_b() {
emu_start || { not_ok "emulator starts"; return; }
ok "emulator starts (pid $EMU_PID)"
export AWS_DATA_PATH=$EMU_MODELS_DIR
emu_cli_start || { not_ok "CLI server starts"; return; }
# --- STS
expect_rc 0 "sts get-caller-identity" -- a sts get-caller-identity
expect_grep '"Account": "111122223333"' "caller identity names the account"
expect_rc 0 "sts assume-role" -- a sts assume-role --role-arn arn:aws:iam::111122223333:role/r --role-session-name sess --duration-seconds 900
cp "$TMP/out" "$TMP/role.json"
role_env() {
	AWS_ACCESS_KEY_ID=$(jq_ "$TMP/role.json" 'd["Credentials"]["AccessKeyId"]') \
	AWS_SECRET_ACCESS_KEY=$(jq_ "$TMP/role.json" 'd["Credentials"]["SecretAccessKey"]') \
	AWS_SESSION_TOKEN=$(jq_ "$TMP/role.json" 'd["Credentials"]["SessionToken"]') "$@"
}
role_env a sts get-caller-identity >"$TMP/out" 2>&1
expect_grep 'assumed-role/r/sess' "assumed-role credentials sign requests"
emu_ctl POST /clock '{"advance_seconds": 1000}' >/dev/null
role_env a acm-pca describe-certificate-authority --certificate-authority-arn "$EC" >"$TMP/out" 2>&1
expect_grep 'ExpiredTokenException' "expired session token is refused with ExpiredTokenException"
emu_ctl POST /clock '{"advance_seconds": -1000}' >/dev/null
JWT="eyJhbGciOiJub25lIn0.$(printf '{"sub":"me","aud":"sts"}' | base64 -w0 | tr '+/' '-_' | tr -d =).x"
expect_rc 0 "sts assume-role-with-web-identity (unsigned)" -- a sts assume-role-with-web-identity --role-arn arn:aws:iam::111122223333:role/w --role-session-name web --web-identity-token "$JWT"
expect_grep '"SubjectFromWebIdentityToken": "me"' "web identity subject echoed"

# --- SigV4 failures
AWS_SECRET_ACCESS_KEY=wrong a acm-pca describe-certificate-authority --certificate-authority-arn "$EC" >"$TMP/out" 2>&1
expect_grep 'InvalidSignatureException' "wrong secret gets InvalidSignatureException"
AWS_ACCESS_KEY_ID=AKIANOTKNOWN0000000 a sts get-caller-identity >"$TMP/out" 2>&1
expect_grep 'InvalidClientTokenId' "unknown key id gets InvalidClientTokenId (STS)"
a --region eu-west-1 acm-pca describe-certificate-authority --certificate-authority-arn "$EC" >"$TMP/out" 2>&1
expect_grep 'scoped to a valid region' "wrong region scope refused"
raw acm-pca ACMPrivateCA.DescribeCertificateAuthority "{\"CertificateAuthorityArn\": \"$EC\"}" -1200 >"$TMP/out" 2>&1
expect_grep 'Signature expired' "stale X-Amz-Date gets 'Signature expired'"

# --- model validation
a acm-pca issue-certificate --certificate-authority-arn "$EC" --csr fileb:///dev/null --signing-algorithm SHA256WITHECDSA --validity Value=1,Type=DAYS >"$TMP/out" 2>&1
expect_grep 'ValidationException.*csr.*length greater than or equal to 1' "empty CSR rejected by the model's min length"
raw acm CertificateManager.RequestCertificate '{"DomainName": "x.example.com", "Bogus": 1}' 0 >"$TMP/out" 2>&1
raw acm CertificateManager.RequestCertificate '{"DomainName": 7}' 0 >>"$TMP/out" 2>&1
raw acm CertificateManager.RequestCertificate '{"KeyAlgorithm": "RSA_2048"}' 0 >>"$TMP/out" 2>&1
raw acm CertificateManager.RequestCertificate '{"DomainName": "x.example.com", "KeyAlgorithm": "DSA"}' 0 >>"$TMP/out" 2>&1
expect_grep 'SerializationException.*Bogus' "unknown member gets SerializationException"
expect_grep 'SerializationException.*domainName' "ill-typed member gets SerializationException"
expect_grep "Value null at 'domainName'" "missing required member gets ValidationException"
expect_grep "enum value set" "bad enum gets ValidationException"
raw acm CertificateManager.SearchCertificates '{"FilterStatement": {"Filter": {"CertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/x"}, "Not": {"Filter": {"CertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/y"}}}}' 0 >"$TMP/out" 2>&1
expect_grep 'SerializationException.*exactly one member' "a 2026 union with two members set gets SerializationException"
a acm request-certificate --domain-name o.example.com --validation-method DNS --options CertificateTransparencyLoggingPreference=DISABLED,Export=ENABLED >"$TMP/out" 2>&1
expect_grep 'CertificateArn' "deprecated CertificateTransparencyLoggingPreference still accepted (2026 model)"
OARN=$(jq_ "$TMP/out" 'd["CertificateArn"]' 2>/dev/null)

# --- ACM-PCA
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/k.pem" -out "$TMP/csr.pem" \
	-subj /CN=svc.example.com -addext subjectAltName=DNS:svc.example.com 2>/dev/null
emu_ctl POST /settings '{"pca_in_progress_seconds": 120}' >/dev/null
expect_rc 0 "acm-pca issue-certificate (EC subordinate, 30 days, idempotency token)" -- a acm-pca issue-certificate --certificate-authority-arn "$SUB" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA256WITHECDSA --validity Value=30,Type=DAYS --idempotency-token tok1
ARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm-pca issue-certificate --certificate-authority-arn "$SUB" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA256WITHECDSA --validity Value=30,Type=DAYS --idempotency-token tok1 >"$TMP/out" 2>&1
expect_grep "$ARN" "same idempotency token returns the same ARN"
a acm-pca get-certificate --certificate-authority-arn "$SUB" --certificate-arn "$ARN" >"$TMP/out" 2>&1
expect_grep 'RequestInProgressException' "get-certificate answers RequestInProgressException at first"
emu_ctl POST /clock '{"advance_seconds": 121}' >/dev/null   # delays run on the emulator clock
expect_rc 0 "acm-pca get-certificate after the delay" -- a acm-pca get-certificate --certificate-authority-arn "$SUB" --certificate-arn "$ARN"
jq_ "$TMP/out" 'd["Certificate"]' >"$TMP/leaf.pem"; jq_ "$TMP/out" 'd["CertificateChain"]' >"$TMP/chain.pem"
expect_rc 0 "chain has 2 certificates" -- test "$(grep -c 'BEGIN CERT' "$TMP/chain.pem")" = 2
awk 'BEGIN{n=0} /BEGIN CERT/{n++} n==2' "$TMP/chain.pem" >"$TMP/root.pem"
expect_rc 0 "leaf verifies against the chain with openssl" -- openssl verify -CAfile "$TMP/root.pem" -untrusted "$TMP/chain.pem" "$TMP/leaf.pem"
openssl x509 -in "$TMP/leaf.pem" -noout -text >"$TMP/out"
expect_grep 'DNS:svc.example.com' "SAN copied from the CSR"
expect_grep 'ecdsa-with-SHA256' "signed with the requested algorithm"
emu_ctl POST /settings '{"pca_in_progress_seconds": 0}' >/dev/null
a acm-pca issue-certificate --certificate-authority-arn "$EC" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA256WITHRSA --validity Value=1,Type=DAYS >"$TMP/out" 2>&1
expect_grep 'InvalidArgsException' "signing algorithm of the wrong family refused"
a acm-pca issue-certificate --certificate-authority-arn "$RSA" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA384WITHRSA \
	--validity Value=20350101000000,Type=END_DATE --validity-not-before Value=1893456000,Type=ABSOLUTE \
	--template-arn arn:aws:acm-pca:::template/EndEntityServerAuthCertificate_APIPassthrough/V1 \
	--api-passthrough '{"Subject":{"CommonName":"pt.example.com"},"Extensions":{"SubjectAlternativeNames":[{"DnsName":"pt.example.com"}]}}' >"$TMP/out" 2>&1
ARN2=$(jq_ "$TMP/out" 'd["CertificateArn"]' 2>/dev/null)
a acm-pca get-certificate --certificate-authority-arn "$RSA" --certificate-arn "$ARN2" >"$TMP/g.json" 2>&1
jq_ "$TMP/g.json" 'd["Certificate"]' 2>/dev/null | openssl x509 -noout -text -dates >"$TMP/out" 2>&1
expect_grep 'notBefore=Jan  1 00:00:00 2030 GMT' "ValidityNotBefore honoured"
expect_grep 'notAfter=Jan  1 00:00:00 2035 GMT' "END_DATE Validity honoured"
expect_grep 'Subject: CN ?= ?pt.example.com' "API passthrough subject applied"
expect_grep 'sha384WithRSAEncryption' "SHA384WITHRSA used"
SER=$(jq_ "$(emu_ctl GET /certificates >"$TMP/c.json"; echo "$TMP/c.json")" '[c["serial"] for c in d["pca"] if c["arn"]==sys.argv[3]][0]' "$ARN")
expect_rc 0 "acm-pca revoke-certificate" -- a acm-pca revoke-certificate --certificate-authority-arn "$SUB" --certificate-serial "$SER" --revocation-reason KEY_COMPROMISE
a acm-pca revoke-certificate --certificate-authority-arn "$SUB" --certificate-serial "$SER" --revocation-reason KEY_COMPROMISE >"$TMP/out" 2>&1
expect_grep 'RequestAlreadyProcessedException' "second revocation refused"
expect_rc 0 "acm-pca get-certificate-authority-certificate (subordinate)" -- a acm-pca get-certificate-authority-certificate --certificate-authority-arn "$SUB"
expect_grep 'CertificateChain' "subordinate CA certificate comes with its chain"
emu_ctl POST /ca "{\"arn\": \"$EC\", \"status\": \"DISABLED\"}" >/dev/null
a acm-pca issue-certificate --certificate-authority-arn "$EC" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA256WITHECDSA --validity Value=1,Type=DAYS >"$TMP/out" 2>&1
expect_grep 'InvalidStateException' "disabled CA refuses to issue"
emu_ctl POST /ca "{\"arn\": \"$EC\", \"status\": \"ACTIVE\"}" >/dev/null
emu_ctl GET '/calls?operation=acm-pca:IssueCertificate' >"$TMP/calls.json"
expect_rc 0 "call log records each IssueCertificate" -- test "$(jq_ "$TMP/calls.json" 'len([c for c in d["calls"] if c["status"] == 200])')" = 3
SEQ=$(jq_ "$TMP/calls.json" 'd["calls"][-1]["seq"]')
emu_ctl GET "/calls?operation=acm-pca:IssueCertificate&since=$SEQ" >"$TMP/calls.json"
expect_rc 0 "call log ?since=SEQ skips the calls up to SEQ" -- test "$(jq_ "$TMP/calls.json" 'len(d["calls"])')" = 0

# --- faults, PCA quota
for k in 500 503 reset truncate malformed; do
	emu_ctl POST /fault "{\"operation\": \"sts:GetCallerIdentity\", \"kind\": \"$k\", \"count\": 1}" >/dev/null
	a sts get-caller-identity >"$TMP/out" 2>&1
	case $k in
	500) expect_grep 'InternalFailure' "fault 500 answered as InternalFailure" ;;
	503) expect_grep 'ServiceUnavailable' "fault 503 answered as ServiceUnavailable" ;;
	*) expect_rc 1 "fault $k makes the CLI fail" -- grep -q '"Account"' "$TMP/out" ;;
	esac
done
expect_rc 0 "faults are used up after count" -- a sts get-caller-identity
emu_ctl POST /fault '{"operation": "sts:GetCallerIdentity", "kind": "latency", "latency_ms": 1500}' >/dev/null
t0=$(date +%s%N); a sts get-caller-identity >/dev/null 2>&1; t1=$(date +%s%N)
expect_rc 0 "latency fault delays the answer (>= 1.5 s)" -- test $(( (t1 - t0) / 1000000 )) -ge 1500
emu_ctl POST /quota '{"operation": "acm-pca:IssueCertificate", "per_second": 0.01, "burst": 1}' >/dev/null
a acm-pca issue-certificate --certificate-authority-arn "$SUB" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA256WITHECDSA --validity Value=1,Type=DAYS >/dev/null 2>&1
a acm-pca issue-certificate --certificate-authority-arn "$SUB" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA256WITHECDSA --validity Value=1,Type=DAYS >"$TMP/out" 2>&1
expect_grep 'ThrottlingException' "IssueCertificate quota gets ThrottlingException"

# --- IMDSv2 and ECS credentials
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 AWS_EC2_METADATA_SERVICE_ENDPOINT=$EMU_URL/ a sts get-caller-identity) >"$TMP/out" 2>&1
expect_grep 'assumed-role/acm-agent-role/imds' "CLI gets credentials from IMDSv2"
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 AWS_CONTAINER_CREDENTIALS_FULL_URI=$EMU_ECS_CREDENTIALS_URL a sts get-caller-identity) >"$TMP/out" 2>&1
expect_grep 'assumed-role/acm-agent-role/ecs' "CLI gets credentials from the ECS endpoint"
curl -s -o /dev/null -w '%{http_code}' "$EMU_URL/latest/meta-data/iam/security-credentials/" >"$TMP/out"
expect_grep '^401$' "IMDS without a token is refused (IMDSv2 only)"

emu_ctl POST /settings '{"acm_key_pool": 4}' >/dev/null   # RSA keys cost ~0.25 s of CPU each
emu_ctl POST /ca "{\"arn\": \"$EC\", \"status\": \"DISABLED\"}" >/dev/null
a acm request-certificate --domain-name dis.example.com --certificate-authority-arn "$EC" --query CertificateArn --output text >"$TMP/out" 2>&1
DISARN=$(cat "$TMP/out")
a acm describe-certificate --certificate-arn "$DISARN" >"$TMP/out" 2>&1
expect_grep '"FailureReason": "PCA_INVALID_STATE"' "ACM request on a disabled CA: FAILED with PCA_INVALID_STATE"
emu_ctl POST /ca "{\"arn\": \"$EC\", \"status\": \"ACTIVE\"}" >/dev/null
a acm request-certificate --domain-name fam.example.com --certificate-authority-arn "$EC" --key-algorithm RSA_2048 --query CertificateArn --output text >"$TMP/out" 2>&1
a acm describe-certificate --certificate-arn "$(cat "$TMP/out")" >"$TMP/out" 2>&1
expect_grep '"FailureReason": "PCA_INVALID_ARGS"' "ACM private RSA key on an EC CA: FAILED with PCA_INVALID_ARGS"
a acm request-certificate --domain-name k.example.com --validation-method DNS --key-algorithm RSA_4096 >"$TMP/out" 2>&1
expect_grep 'ValidationException.*imported' "RSA_4096 can only be imported, not requested"

# --- ACM: a public certificate requested without Export
printf 'correct horse' >"$TMP/pass"
expect_rc 0 "acm request-certificate (public, not exportable)" -- a acm request-certificate --domain-name ne.example.com --validation-method DNS --idempotency-token ne1
NARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
cname_of() {   # ARN -> "name value" of its first validation CNAME
	a acm describe-certificate --certificate-arn "$1" >"$TMP/cn.json" &&
		jq_ "$TMP/cn.json" '" ".join(d["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"][k] for k in ("Name", "Value"))'
}
read -r NN NV < <(cname_of "$NARN")
emu_ctl POST /dns "{\"name\":\"$NN\",\"value\":\"$NV\"}" >/dev/null
a acm describe-certificate --certificate-arn "$NARN" >"$TMP/out"
expect_grep '"Status": "ISSUED"' "validated through control /dns"
a acm export-certificate --certificate-arn "$NARN" --passphrase "fileb://$TMP/pass" >"$TMP/out" 2>&1
expect_grep 'ValidationException.*Export ENABLED' "a public certificate requested without Export ENABLED is not exportable"
a acm revoke-certificate --certificate-arn "$NARN" --revocation-reason UNSPECIFIED >"$TMP/out" 2>&1
expect_grep 'ValidationException.*non-exportable' "a non-exportable public certificate cannot be revoked"
a acm update-certificate-options --certificate-arn "$NARN" --options Export=ENABLED >"$TMP/out" 2>&1
expect_grep 'ValidationException.*cannot update the value of Export' "Export cannot be changed after the request"

expect_rc 0 "acm request-certificate (private, EC)" -- a acm request-certificate --domain-name ec.example.com --certificate-authority-arn "$EC" --key-algorithm EC_prime256v1
ECARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')

# --- ACM: FAILED, timeouts, EMAIL validation, statuses on command
expect_rc 0 "acm request-certificate (to fail)" -- a acm request-certificate --domain-name f.example.com --validation-method DNS
FARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
emu_ctl POST /fail "{\"arn\":\"$FARN\",\"reason\":\"CAA_ERROR\"}" >/dev/null
a acm describe-certificate --certificate-arn "$FARN" >"$TMP/out"
expect_grep '"Status": "FAILED"' "control /fail: FAILED"
expect_grep '"FailureReason": "CAA_ERROR"' "... with the FailureReason given"
emu_ctl POST /fail '{"domain":"g.example.com","reason":"DOMAIN_NOT_ALLOWED"}' >/dev/null
a acm request-certificate --domain-name g.example.com --validation-method DNS >"$TMP/out"
GARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm describe-certificate --certificate-arn "$GARN" >"$TMP/out"
expect_grep '"Status": "PENDING_VALIDATION"' "a domain rule waits for validation"
read -r GN GV < <(cname_of "$GARN")
emu_ctl POST /dns "{\"name\":\"$GN\",\"value\":\"$GV\"}" >/dev/null
a acm describe-certificate --certificate-arn "$GARN" >"$TMP/out"
expect_grep '"FailureReason": "DOMAIN_NOT_ALLOWED"' "... then FAILED with the rule's reason once its CNAME is seen"
emu_ctl POST /fail '{"domain":"g.example.com","reason":null}' >/dev/null
expect_rc 0 "acm request-certificate (never validated)" -- a acm request-certificate --domain-name t.example.com --validation-method DNS
TARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
expect_rc 0 "acm request-certificate (EMAIL, validation domain example.com)" -- a acm request-certificate --domain-name mail.example.com --validation-method EMAIL --domain-validation-options DomainName=mail.example.com,ValidationDomain=example.com
EARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm describe-certificate --certificate-arn "$EARN" >"$TMP/out"
expect_grep '"admin@example.com"' "EMAIL validation lists ValidationEmails at the validation domain"
expect_grep '"Status": "PENDING_VALIDATION"' "EMAIL certificate waits for approval"
emu_ctl POST /approve "{\"arn\":\"$EARN\"}" >/dev/null
a acm describe-certificate --certificate-arn "$EARN" >"$TMP/out"
expect_grep '"Status": "ISSUED"' "control /approve: ISSUED"
a acm request-certificate --domain-name mail.example.com --validation-method EMAIL --domain-validation-options DomainName=mail.example.com,ValidationDomain=example.org >"$TMP/out" 2>&1
expect_grep 'InvalidDomainValidationOptionsException' "ValidationDomain not a superdomain: InvalidDomainValidationOptionsException"
emu_ctl POST /clock '{"advance_seconds": 260000}' >/dev/null
a acm describe-certificate --certificate-arn "$TARN" >"$TMP/out"
expect_grep 'VALIDATION_TIMED_OUT' "unvalidated certificate times out"
emu_ctl POST /clock '{"advance_seconds": -260000}' >/dev/null
for st in EXPIRED INACTIVE; do
	emu_ctl POST /status "{\"arn\":\"$EARN\",\"status\":\"$st\"}" >/dev/null
	a acm describe-certificate --certificate-arn "$EARN" >"$TMP/out"
	expect_grep "\"Status\": \"$st\"" "control /status reaches $st"
done
emu_ctl POST /status "{\"arn\":\"$EARN\",\"status\":\"REVOKED\",\"reason\":\"KEY_COMPROMISE\"}" >/dev/null
a acm describe-certificate --certificate-arn "$EARN" >"$TMP/out"
expect_grep '"RevocationReason": "KEY_COMPROMISE"' "control /status reaches REVOKED with a reason"

# --- ACM: list, search, tags
a acm list-certificates >"$TMP/out"
expect_grep "$NARN" "list-certificates lists RSA_2048 by default"
expect_rc 1 "list-certificates omits EC keys by default, like AWS" -- grep -q "$ECARN" "$TMP/out"
a acm list-certificates --includes keyTypes=EC_prime256v1 >"$TMP/out"
expect_grep "$ECARN" "list-certificates --includes keyTypes=EC_prime256v1"
a acm list-certificates --includes keyTypes=RSA_2048,exportOption=DISABLED --certificate-statuses ISSUED >"$TMP/out"
expect_rc 0 "list-certificates Includes.exportOption and statuses: the issued non-exportable one" -- \
	test "$(jq_ "$TMP/out" 'sorted(c["DomainName"] for c in d["CertificateSummaryList"])')" = "['ne.example.com']"
a acm list-certificates --sort-by CREATED_AT >"$TMP/out" 2>&1
expect_grep 'ValidationException.*together' "SortBy without SortOrder refused"
cat >"$TMP/mine.json" <<EOF
{"And": [{"Filter": {"X509AttributeFilter": {"SubjectAlternativeName": {"DnsName": {"Value": "ne.example.com", "ComparisonOperator": "EQUALS"}}}}},
         {"Filter": {"X509AttributeFilter": {"KeyAlgorithm": "RSA_2048"}}},
         {"Filter": {"AcmCertificateMetadataFilter": {"Status": "ISSUED"}}}]}
EOF
expect_rc 0 "acm search-certificates (SAN EQUALS and key algorithm and status)" -- a acm search-certificates --filter-statement "file://$TMP/mine.json"
expect_grep '"SerialNumber": "([0-9a-f]{2}:)+' "... with its X509Attributes"
expect_rc 0 "... finds exactly the one certificate" -- test "$(jq_ "$TMP/out" '[r["CertificateArn"] for r in d["Results"]]')" = "['$NARN']"
a acm search-certificates --filter-statement '{"Not": {"Filter": {"AcmCertificateMetadataFilter": {"Type": "AMAZON_ISSUED"}}}}' >"$TMP/out"
expect_rc 0 "search-certificates Not(Type AMAZON_ISSUED): only PRIVATE ones" -- test "$(jq_ "$TMP/out" 'sorted({r["CertificateMetadata"]["AcmCertificateMetadata"]["Type"] for r in d["Results"]})')" = "['PRIVATE']"
a acm search-certificates --filter-statement '{"Or": [{"Filter": {"AcmCertificateMetadataFilter": {"Status": "FAILED"}}}, {"Filter": {"AcmCertificateMetadataFilter": {"Status": "REVOKED"}}}]}' --sort-by CREATED_AT --sort-order ASCENDING --max-results 1 --no-paginate >"$TMP/out"
expect_grep '"NextToken"' "search-certificates pages with --max-results 1"
TOK=$(jq_ "$TMP/out" 'd["NextToken"]')
a acm search-certificates --filter-statement '{"Filter": {"AcmCertificateMetadataFilter": {"Status": "ISSUED"}}}' --next-token "$TOK" >"$TMP/out" 2>&1
expect_grep 'ValidationException.*NextToken' "a NextToken from another query is refused"
a acm search-certificates --filter-statement '{"Or": [{"Filter": {"AcmCertificateMetadataFilter": {"Status": "FAILED"}}}, {"Filter": {"AcmCertificateMetadataFilter": {"Status": "REVOKED"}}}]}' >"$TMP/out"
expect_rc 0 "search-certificates Or(FAILED, REVOKED): 5" -- test "$(jq_ "$TMP/out" 'len(d["Results"])')" = 5
expect_rc 0 "acm add-tags-to-certificate" -- a acm add-tags-to-certificate --certificate-arn "$NARN" --tags Key=team,Value=ops Key=owner,Value=agent
expect_rc 0 "acm remove-tags-from-certificate" -- a acm remove-tags-from-certificate --certificate-arn "$NARN" --tags Key=team
a acm list-tags-for-certificate --certificate-arn "$NARN" >"$TMP/out"
expect_grep '"owner"' "list-tags-for-certificate shows the tag added"
expect_rc 1 "... not the tag removed" -- grep -q '"team"' "$TMP/out"

# --- ACM: import and reimport (ImportCertificate is 1/s, burst 2: lifted here)
emu_ctl POST /quota '{"operation": "acm:ImportCertificate", "per_second": 100}' >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/ik.pem" -out "$TMP/ic.pem" -days 5 -subj /CN=imp.example.com 2>/dev/null
expect_rc 0 "acm import-certificate" -- a acm import-certificate --certificate "fileb://$TMP/ic.pem" --private-key "fileb://$TMP/ik.pem" --tags Key=src,Value=file
IARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/ik2.pem" -out "$TMP/ic2.pem" -days 5 -subj /CN=imp.example.com 2>/dev/null
a acm import-certificate --certificate "fileb://$TMP/ic.pem" --private-key "fileb://$TMP/ik2.pem" >"$TMP/out" 2>&1
expect_grep 'does not match' "import with a mismatched key refused"
expect_rc 0 "acm import-certificate re-import to the same ARN" -- a acm import-certificate --certificate-arn "$IARN" --certificate "fileb://$TMP/ic2.pem" --private-key "fileb://$TMP/ik2.pem"
expect_grep "\"CertificateArn\": \"$IARN\"" "re-import answers the same ARN"
a acm get-certificate --certificate-arn "$IARN" | jq_ /dev/stdin 'd["Certificate"]' >"$TMP/got.pem"
expect_rc 0 "the ARN now serves the re-imported certificate" -- cmp <(openssl x509 -in "$TMP/got.pem" -noout -serial) <(openssl x509 -in "$TMP/ic2.pem" -noout -serial)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/ik3.pem" -out "$TMP/ic3.pem" -days 5 -subj /CN=imp.example.com 2>/dev/null
a acm import-certificate --certificate-arn "$IARN" --certificate "fileb://$TMP/ic3.pem" --private-key "fileb://$TMP/ik3.pem" >"$TMP/out" 2>&1
expect_grep 'ValidationException.*key type and size cannot be changed' "re-import with another key type refused"
a acm import-certificate --certificate-arn "$IARN" --certificate "fileb://$TMP/ic2.pem" --private-key "fileb://$TMP/ik2.pem" --tags Key=a,Value=b >"$TMP/out" 2>&1
expect_grep 'InvalidParameterException' "tags on re-import refused"
emu_ctl POST /quota '{"operation": "acm:ImportCertificate", "per_second": 1}' >/dev/null
expect_rc 0 "acm delete-certificate" -- a acm delete-certificate --certificate-arn "$TARN"
a acm describe-certificate --certificate-arn "$TARN" >"$TMP/out" 2>&1
expect_grep 'ResourceNotFoundException' "deleted certificate is gone"

# --- ACM: account limits (certificates held, requested in the last year)
emu_ctl GET /certificates >"$TMP/c.json"
HELD=$(jq_ "$TMP/c.json" 'd["limits"]["public"]["held"]')
YEAR=$(jq_ "$TMP/c.json" 'd["limits"]["public"]["requested_last_year"]')
expect_rc 0 "control /certificates counts the public certificates held" -- test "$HELD" = "$(jq_ "$TMP/c.json" 'len([c for c in d["acm"] if c["Type"] == "AMAZON_ISSUED"])')"
expect_rc 0 "... and the deleted one among those requested this year" -- test "$YEAR" = $((HELD + 1))
emu_ctl POST /settings "{\"acm_certificate_limit\": $HELD}" >/dev/null
a acm request-certificate --domain-name l.example.com --validation-method DNS >"$TMP/out" 2>&1
expect_grep 'LimitExceededException.*limit of' "beyond acm_certificate_limit: LimitExceededException"
expect_rc 0 "private (PCA-signed) certificates do not count" -- a acm request-certificate --domain-name l.example.com --certificate-authority-arn "$RSA"
emu_ctl POST /settings "{\"acm_certificate_limit\": 2500, \"acm_yearly_request_limit\": $((YEAR + 1))}" >/dev/null
expect_rc 0 "one more request within the yearly limit" -- a acm request-certificate --domain-name l.example.com --validation-method DNS
expect_rc 0 "delete it" -- a acm delete-certificate --certificate-arn "$(jq_ "$TMP/out" 'd["CertificateArn"]')"
a acm request-certificate --domain-name l.example.com --validation-method DNS >"$TMP/out" 2>&1
expect_grep 'LimitExceededException.*last year' "deleted certificates still count toward the rolling year"
emu_ctl POST /clock '{"advance_seconds": 34560000}' >/dev/null   # 400 days
expect_rc 0 "a year later the request is allowed again" -- a acm request-certificate --domain-name l.example.com --validation-method DNS
a acm describe-certificate --certificate-arn "$NARN" >"$TMP/out"
expect_grep '"Status": "EXPIRED"' "past its NotAfter (395 days) the certificate is EXPIRED"
expect_grep '"RenewalEligibility": "INELIGIBLE"' "... and INELIGIBLE"
emu_ctl POST /clock '{"advance_seconds": -34560000}' >/dev/null

# --- reset and TLS
emu_ctl POST /reset >/dev/null
a acm describe-certificate --certificate-arn "$OARN" >"$TMP/out" 2>&1
expect_grep 'ResourceNotFoundException' "reset forgets certificates"
emu_stop
emu_start --tls || not_ok "emulator starts with --tls"
expect_rc 0 "sts over HTTPS with the test CA (a /usr/bin/aws process)" -- "$AWS" --endpoint-url "$EMU_URL" --ca-bundle "$EMU_CA_BUNDLE" sts get-caller-identity
}

part_a() {
emu_start || { not_ok "emulator starts"; return; }
ok "emulator starts (pid $EMU_PID)"
export AWS_DATA_PATH=$EMU_MODELS_DIR
emu_cli_start || { not_ok "CLI server starts"; return; }
emu_ctl POST /settings '{"acm_key_pool": 4}' >/dev/null   # RSA keys cost ~0.25 s of CPU each; see the pool checks
# --- the 2026 models: the CLI only knows the new operations through them
env -u AWS_DATA_PATH "$AWS" --endpoint-url "$EMU_URL" acm search-certificates >"$TMP/out" 2>&1
expect_grep 'Invalid choice|argument operation' "Debian's CLI models lack SearchCertificates"
expect_rc 0 "a separate /usr/bin/aws process with AWS_DATA_PATH runs acm search-certificates" -- \
	"$AWS" --endpoint-url "$EMU_URL" --output json acm search-certificates
expect_grep '"Results": \[\]' "search-certificates answers an empty result list"

# --- ACM: private certificates, export, RenewCertificate
expect_rc 0 "acm request-certificate (private, EC)" -- a acm request-certificate --domain-name p.example.com --certificate-authority-arn "$EC" --key-algorithm EC_prime256v1 --idempotency-token acm1
PARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm request-certificate --domain-name p.example.com --certificate-authority-arn "$EC" --key-algorithm EC_prime256v1 --idempotency-token acm1 >"$TMP/out"
expect_rc 0 "same IdempotencyToken and parameters within 1 h: same ARN" -- test "$(jq_ "$TMP/out" 'd["CertificateArn"]')" = "$PARN"
a acm request-certificate --domain-name p.example.com --certificate-authority-arn "$EC" --key-algorithm EC_secp384r1 --idempotency-token acm1 >"$TMP/out"
expect_rc 0 "same IdempotencyToken, other parameters: a new ARN" -- test "$(jq_ "$TMP/out" 'd["CertificateArn"]')" != "$PARN"
a acm describe-certificate --certificate-arn "$PARN" >"$TMP/out" 2>&1
expect_grep '"Serial": "([0-9a-f]{2}:)+[0-9a-f]{2}"' "ACM serial is colon-separated hex"
expect_grep '"Status": "ISSUED"' "private certificate issued"
expect_grep '"RenewalEligibility": "INELIGIBLE"' "not exported, not in use: INELIGIBLE for renewal"
a acm renew-certificate --certificate-arn "$PARN" >"$TMP/out" 2>&1
expect_grep 'ValidationException.*not eligible' "renew-certificate of a never-exported private certificate refused"
printf 'correct horse' >"$TMP/pass"
expect_rc 0 "acm export-certificate" -- a acm export-certificate --certificate-arn "$PARN" --passphrase "fileb://$TMP/pass"
jq_ "$TMP/out" 'd["PrivateKey"]' >"$TMP/ekey.pem"; jq_ "$TMP/out" 'd["Certificate"]' >"$TMP/pcert.pem"
expect_grep 'BEGIN ENCRYPTED PRIVATE KEY' "exported key is encrypted PKCS#8" "$TMP/ekey.pem"
openssl pkey -in "$TMP/ekey.pem" -passin "pass:correct horse" -pubout >"$TMP/p1" 2>&1
openssl x509 -in "$TMP/pcert.pem" -pubkey -noout >"$TMP/p2"
expect_rc 0 "exported key decrypts with the passphrase and matches the certificate" -- cmp "$TMP/p1" "$TMP/p2"
printf 'pa$$word' >"$TMP/badpass"; printf 'abc' >"$TMP/shortpass"
a acm export-certificate --certificate-arn "$PARN" --passphrase "fileb://$TMP/badpass" >"$TMP/out" 2>&1
expect_grep 'ValidationException.*except #, \$, or %' "passphrase with \$ refused (any ASCII except #, \$, %)"
a acm export-certificate --certificate-arn "$PARN" --passphrase "fileb://$TMP/shortpass" >"$TMP/out" 2>&1
expect_grep "ValidationException.*'passphrase'.*length greater than or equal to 4" "3-byte passphrase refused by the model (4..128)"
a acm describe-certificate --certificate-arn "$PARN" >"$TMP/out"
expect_grep '"RenewalEligibility": "ELIGIBLE"' "exported since issued: ELIGIBLE"
OLDSER=$(jq_ "$TMP/out" 'd["Certificate"]["Serial"]')
emu_ctl POST /settings '{"acm_renew_in_progress_seconds": 60}' >/dev/null
expect_rc 0 "acm renew-certificate (private, exported)" -- a acm renew-certificate --certificate-arn "$PARN"
a acm renew-certificate --certificate-arn "$PARN" >"$TMP/out" 2>&1
expect_grep 'RequestInProgressException' "a second renew-certificate while it runs: RequestInProgressException"
a acm describe-certificate --certificate-arn "$PARN" >"$TMP/out"
expect_grep '"RenewalStatus": "PENDING_AUTO_RENEWAL"' "RenewalSummary PENDING_AUTO_RENEWAL while renewing"
emu_ctl POST /clock '{"advance_seconds": 61}' >/dev/null
a acm describe-certificate --certificate-arn "$PARN" >"$TMP/out"
expect_grep '"RenewalStatus": "SUCCESS"' "renewal then SUCCESS"
expect_grep '"UpdatedAt"' "RenewalSummary has UpdatedAt"
expect_grep '"RenewalEligibility": "INELIGIBLE"' "renewed, not exported since: INELIGIBLE again"
expect_rc 0 "renewal gives a new serial" -- test "$(jq_ "$TMP/out" 'd["Certificate"]["Serial"]')" != "$OLDSER"
emu_ctl POST /settings '{"acm_renew_in_progress_seconds": 0}' >/dev/null
pub_of() {   # ARN -> its certificate's public key
	a acm get-certificate --certificate-arn "$1" >"$TMP/pk.json" && jq_ "$TMP/pk.json" 'd["Certificate"]' | openssl x509 -noout -pubkey
}
emu_ctl POST /settings '{"acm_key_pool": 1}' >/dev/null
K1=$(a acm request-certificate --domain-name k1.example.com --certificate-authority-arn "$EC" --key-algorithm EC_prime256v1 | jq_ /dev/stdin 'd["CertificateArn"]')
K2=$(a acm request-certificate --domain-name k2.example.com --certificate-authority-arn "$EC" --key-algorithm EC_prime256v1 | jq_ /dev/stdin 'd["CertificateArn"]')
emu_ctl POST /settings '{"acm_key_pool": 0}' >/dev/null
K3=$(a acm request-certificate --domain-name k3.example.com --certificate-authority-arn "$EC" --key-algorithm EC_prime256v1 | jq_ /dev/stdin 'd["CertificateArn"]')
expect_rc 0 "acm_key_pool 1: two certificates share one key pair (benchmarks only)" -- test "$(pub_of "$K1")" = "$(pub_of "$K2")"
expect_rc 0 "acm_key_pool 0 (default): a fresh key pair per certificate" -- test "$(pub_of "$K3")" != "$(pub_of "$K1")"
emu_ctl POST /settings '{"acm_key_pool": 4}' >/dev/null

# --- ACM: public DNS certificates
emu_ctl POST /settings '{"acm_record_delay_seconds": 120, "renewal_delay_seconds": 0, "acm_validation_delay_seconds": 60}' >/dev/null
expect_rc 0 "acm request-certificate (public, DNS, exportable)" -- a acm request-certificate --domain-name www.example.com --validation-method DNS --subject-alternative-names www.example.com '*.example.com' example.com --tags Key=app,Value=web --options Export=ENABLED
DARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm request-certificate --domain-name www.example.com --validation-method DNS >"$TMP/out" 2>&1
D2ARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_rc 1 "ResourceRecord not shown before the delay" -- grep -q ResourceRecord "$TMP/out"
emu_ctl POST /clock '{"advance_seconds": 121}' >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/d.json"
expect_grep 'acm-validations.aws' "ResourceRecord shown after the delay" "$TMP/d.json"
expect_grep '"Export": "ENABLED"' "Options.Export ENABLED recorded" "$TMP/d.json"
expect_grep '"CertificateTransparencyLoggingPreference": "ENABLED"' "public certificates are CT-logged" "$TMP/d.json"
jq_ "$TMP/d.json" '"\n".join(o["ResourceRecord"]["Name"]+" "+o["ResourceRecord"]["Value"] for o in d["Certificate"]["DomainValidationOptions"])' | sort -u >"$TMP/rr"
expect_rc 0 "three names, two CNAMEs: apex and wildcard share one record" -- test "$(wc -l <"$TMP/rr")" = 2
a acm get-certificate --certificate-arn "$DARN" >"$TMP/out" 2>&1
expect_grep 'RequestInProgressException' "acm get-certificate before issuance"
a acm describe-certificate --certificate-arn "$D2ARN" >"$TMP/out" 2>&1
expect_grep "$(grep www "$TMP/rr" | cut -d' ' -f1)" "a second request for the same name gets the same CNAME (one per name and account)"
emu_ctl POST /settings '{"acm_record_delay_seconds": 0}' >/dev/null

# --- Route 53: the validation CNAMEs go into the emulated zone
expect_rc 0 "route53 list-hosted-zones-by-name" -- a route53 list-hosted-zones-by-name --dns-name example.com --max-items 1
expect_grep '/hostedzone/Z0EMULATOREXAMPLE01' "default zone example.com listed"
a route53 change-resource-record-sets --hosted-zone-id Z0NOSUCHZONE --change-batch '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"a.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.1"}]}}]}' >"$TMP/out" 2>&1
expect_grep 'NoSuchHostedZone' "unknown zone gets NoSuchHostedZone"
"$PYTHON3" - "$TMP/rr" >"$TMP/batch.json" <<'PY'
import json, sys
print(json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": n, "Type": "CNAME", "TTL": 300,
                  "ResourceRecords": [{"Value": v}]}} for n, v in (l.split() for l in open(sys.argv[1]))]}))
PY
emu_ctl POST /settings '{"route53_insync_seconds": 30}' >/dev/null
expect_rc 0 "route53 change-resource-record-sets (both CNAMEs, one batch)" -- a route53 change-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --change-batch "file://$TMP/batch.json"
cp "$TMP/out" "$TMP/ch.json"
expect_grep '"Status": "PENDING"' "change-resource-record-sets answers PENDING" "$TMP/ch.json"
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"ValidationStatus": "PENDING_VALIDATION"' "a CNAME whose change is not INSYNC is not visible to the validator"
emu_ctl POST /clock '{"advance_seconds": 31}' >/dev/null
expect_rc 0 "route53 get-change" -- a route53 get-change --id "$(jq_ "$TMP/ch.json" 'd["ChangeInfo"]["Id"]')"
expect_grep '"Status": "INSYNC"' "change becomes INSYNC"
emu_ctl POST /settings '{"route53_insync_seconds": 0}' >/dev/null
sed 's/UPSERT/CREATE/' "$TMP/batch.json" >"$TMP/create.json"
a route53 change-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --change-batch "file://$TMP/create.json" >"$TMP/out" 2>&1
expect_grep 'InvalidChangeBatch.*already exists' "CREATE of an existing record gets InvalidChangeBatch"
a route53 list-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 >"$TMP/out"
expect_grep 'acm-validations.aws' "route53 list-resource-record-sets shows the CNAME"
a route53 list-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --start-record-type CNAME >"$TMP/out" 2>&1
expect_grep 'InvalidInput' "type without name refused like AWS"
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"Status": "PENDING_VALIDATION"' "all CNAMEs visible: still PENDING_VALIDATION during acm_validation_delay_seconds"
expect_rc 1 "... with every domain's ValidationStatus SUCCESS" -- grep -q '"ValidationStatus": "PENDING_VALIDATION"' "$TMP/out"
emu_ctl POST /clock '{"advance_seconds": 61}' >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"Status": "ISSUED"' "DNS-validated certificate ISSUED once its CNAMEs exist and the delay passed"
expect_rc 0 "acm get-certificate" -- a acm get-certificate --certificate-arn "$DARN"
emu_ctl POST /settings '{"acm_validation_delay_seconds": 0}' >/dev/null
# Route 53 request maximums: 1000 ResourceRecord elements, UPSERT counts twice
"$PYTHON3" -c '
import json, sys
print(json.dumps({"Changes": [{"Action": sys.argv[1], "ResourceRecordSet": {"Name": "r%d.example.com" % i, "Type": "CNAME",
    "TTL": 60, "ResourceRecords": [{"Value": "t.example.net"}]}} for i in range(int(sys.argv[2]))]}))' UPSERT 501 >"$TMP/big.json"
a route53 change-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --change-batch "file://$TMP/big.json" >"$TMP/out" 2>&1
expect_grep 'InvalidChangeBatch.*limit of 1000' "501 UPSERTs (1002 records) refused: InvalidChangeBatch"
sed 's/UPSERT/CREATE/g' "$TMP/big.json" >"$TMP/big2.json"
expect_rc 0 "501 CREATEs (501 records) accepted in one batch" -- a route53 change-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --change-batch "file://$TMP/big2.json"

# --- ACM: managed renewal (control /renew)
emu_ctl POST /renew "{\"arn\":\"$DARN\",\"outcome\":\"SUCCESS\"}" >"$TMP/out"
expect_grep 'INELIGIBLE' "control /renew refuses an INELIGIBLE certificate (not exported, not in use)"
a acm export-certificate --certificate-arn "$DARN" --passphrase "fileb://$TMP/pass" >"$TMP/out" 2>&1
expect_grep 'BEGIN ENCRYPTED PRIVATE KEY' "public certificate requested with Export ENABLED is exportable"
emu_ctl POST /renew "{\"arn\":\"$DARN\",\"outcome\":\"FAILED\",\"reason\":\"CAA_ERROR\"}" >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"RenewalStatus": "FAILED"' "managed renewal FAILED on command"
expect_grep '"RenewalStatusReason": "CAA_ERROR"' "renewal failure reason"
OLDSER=$(jq_ "$TMP/out" 'd["Certificate"]["Serial"]')
emu_ctl POST /settings '{"renewal_delay_seconds": 60}' >/dev/null
emu_ctl POST /renew "{\"arn\":\"$DARN\",\"outcome\":\"SUCCESS\"}" >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"RenewalStatus": "PENDING_AUTO_RENEWAL"' "managed renewal starts PENDING_AUTO_RENEWAL"
emu_ctl POST /clock '{"advance_seconds": 61}' >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"RenewalStatus": "SUCCESS"' "managed renewal then SUCCESS"
expect_rc 0 "managed renewal SUCCESS gives a new serial" -- test "$(jq_ "$TMP/out" 'd["Certificate"]["Serial"]')" != "$OLDSER"
emu_ctl POST /settings '{"renewal_delay_seconds": 0}' >/dev/null
sed 's/UPSERT/DELETE/' "$TMP/batch.json" >"$TMP/delete.json"
expect_rc 0 "route53 DELETE of the validation CNAMEs" -- a route53 change-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --change-batch "file://$TMP/delete.json"
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
OLDSER=$(jq_ "$TMP/out" 'd["Certificate"]["Serial"]')
emu_ctl POST /inuse "{\"arn\":\"$DARN\",\"by\":[\"arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/x/1\"]}" >/dev/null
emu_ctl POST /renew "{\"arn\":\"$DARN\",\"outcome\":\"AUTO\"}" >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"RenewalStatus": "PENDING_VALIDATION"' "renewal with a deleted CNAME: PENDING_VALIDATION"
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"RenewalStatus": "PENDING_VALIDATION"' "... and it stays so while the CNAME is missing"
expect_rc 0 "route53 re-publishes the CNAMEs" -- a route53 change-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --change-batch "file://$TMP/batch.json"
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"RenewalStatus": "SUCCESS"' "re-published CNAMEs: renewal SUCCESS"
expect_rc 0 "... with a new serial" -- test "$(jq_ "$TMP/out" 'd["Certificate"]["Serial"]')" != "$OLDSER"
a acm delete-certificate --certificate-arn "$DARN" >"$TMP/out" 2>&1
expect_grep 'ResourceInUseException' "delete-certificate of an in-use certificate: ResourceInUseException"
a acm revoke-certificate --certificate-arn "$DARN" --revocation-reason SUPERSEDED >"$TMP/out" 2>&1
expect_grep 'ResourceInUseException' "revoke-certificate of an in-use certificate: ResourceInUseException"
emu_ctl POST /inuse "{\"arn\":\"$DARN\",\"by\":[]}" >/dev/null

# --- ACM: RevokeCertificate (2025: exported certificates only, permanent)
a acm revoke-certificate --certificate-arn "$DARN" --revocation-reason KEY_COMPROMISE >"$TMP/out" 2>&1
expect_grep 'ValidationException.*not allowed for a public' "KEY_COMPROMISE refused for a public certificate (guide: 4 reasons)"
expect_rc 0 "acm revoke-certificate SUPERSEDED" -- a acm revoke-certificate --certificate-arn "$DARN" --revocation-reason SUPERSEDED
expect_grep "\"CertificateArn\": \"$DARN\"" "revoke-certificate answers the ARN"
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"Status": "REVOKED"' "revoked certificate is REVOKED"
expect_grep '"RevocationReason": "SUPERSEDED"' "with its RevocationReason"
expect_grep '"RevokedAt"' "and RevokedAt"
a acm revoke-certificate --certificate-arn "$DARN" --revocation-reason SUPERSEDED >"$TMP/out" 2>&1
expect_grep 'ValidationException.*already revoked' "revocation is permanent: a second one is refused"
a acm export-certificate --certificate-arn "$DARN" --passphrase "fileb://$TMP/pass" >"$TMP/out" 2>&1
expect_grep 'ValidationException.*REVOKED' "a revoked certificate cannot be exported"
# --- quotas and faults
emu_ctl GET /quota >"$TMP/out"
expect_rc 0 "default quotas: ACM 10/5/10/1/10/8 per s, Route 53 one 10/s bucket of 50" -- test "$(jq_ "$TMP/out" '(d["acm:DescribeCertificate"]["per_second"], d["acm:RequestCertificate"]["per_second"], d["acm:ExportCertificate"]["per_second"], d["acm:ImportCertificate"]["per_second"], d["acm:GetCertificate"]["per_second"], d["acm:ListCertificates"]["per_second"], d["route53"]["per_second"], d["route53"]["burst"], "route53:GetChange" in d)')" = "(10.0, 5.0, 10.0, 1.0, 10.0, 8.0, 10.0, 50.0, False)"
emu_ctl POST /quota '{"operation": "acm:DescribeCertificate", "per_second": 0.01, "burst": 1}' >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >/dev/null 2>&1
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out" 2>&1
expect_grep 'ThrottlingException' "quota exceeded gets ThrottlingException"
raw acm CertificateManager.DescribeCertificate "{\"CertificateArn\": \"$DARN\"}" 0 >"$TMP/out" 2>&1
expect_grep '"throttlingReasons": \[\{"reason": "[A-Z_]+", "resource": "acm:DescribeCertificate"\}\]' "ThrottlingException body carries throttlingReasons (2026 model)"
emu_ctl POST /quota '{"operation": "acm:DescribeCertificate", "per_second": 10}' >/dev/null
emu_ctl POST /quota '{"operation": "route53", "per_second": 0.01, "burst": 2}' >/dev/null
a route53 list-hosted-zones-by-name >/dev/null 2>&1
a route53 get-change --id "$(jq_ "$TMP/ch.json" 'd["ChangeInfo"]["Id"]')" >/dev/null 2>&1
a route53 list-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 >"$TMP/out" 2>&1
expect_grep 'Throttling.*Rate exceeded' "Route 53: three different operations share one account bucket"
emu_ctl POST /quota '{"operation": "route53", "per_second": 10, "burst": 50}' >/dev/null

}


# Each part in a subshell: its own TMP, counters, emulator and CLI server.
run_part() {
	(TMP=$TMP/$1; mkdir -p "$TMP"; checks=0; failures=0
	 trap 'emu_cli_stop; emu_stop' EXIT
	 "part_$1") >"$TMP/$1.tap" 2>&1
}
run_part a & a_pid=$!
run_part b & b_pid=$!
wait "$a_pid"; wait "$b_pid"
for part in a b; do
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok * - }" ;;
		"not ok "*) not_ok "${line#not ok * - }" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$TMP/$part.tap"
done
finish
