#!/bin/bash
# The emulator driven by the real AWS CLI (/usr/bin/aws): every operation
# family, model validation, SigV4 verification, async behaviour, quotas and
# faults.  Prints ok/not ok lines; exit 0 pass, 77 skip, 1 fail.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
AWS=/usr/bin/aws
[ -x "$AWS" ] || { echo "# skip: no $AWS"; exit 77; }
command -v openssl >/dev/null || { echo "# skip: no openssl"; exit 77; }
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
on_exit emu_stop
emu_start || { echo "not ok 1 - emulator starts"; exit 1; }
ok "emulator starts (pid $EMU_PID)"
a() { "$AWS" --endpoint-url "$EMU_URL" --output json "$@"; }
jq_() { "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
P=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority
RSA=$P/11111111-1111-4111-8111-111111111111 EC=$P/22222222-2222-4222-8222-222222222222 SUB=$P/33333333-3333-4333-8333-333333333333

# --- STS
expect_rc 0 "sts get-caller-identity" -- a sts get-caller-identity
expect_grep '"Account": "111122223333"' "caller identity names the account"
expect_rc 0 "sts assume-role" -- a sts assume-role --role-arn arn:aws:iam::111122223333:role/r --role-session-name sess --duration-seconds 900
cp "$TMP/out" "$TMP/role.json"
(export AWS_ACCESS_KEY_ID=$(jq_ "$TMP/role.json" 'd["Credentials"]["AccessKeyId"]') \
	AWS_SECRET_ACCESS_KEY=$(jq_ "$TMP/role.json" 'd["Credentials"]["SecretAccessKey"]') \
	AWS_SESSION_TOKEN=$(jq_ "$TMP/role.json" 'd["Credentials"]["SessionToken"]')
 a sts get-caller-identity) >"$TMP/out" 2>&1
expect_grep 'assumed-role/r/sess' "assumed-role credentials sign requests"
emu_ctl POST /clock '{"advance_seconds": 1000}' >/dev/null
(export AWS_ACCESS_KEY_ID=$(jq_ "$TMP/role.json" 'd["Credentials"]["AccessKeyId"]') \
	AWS_SECRET_ACCESS_KEY=$(jq_ "$TMP/role.json" 'd["Credentials"]["SecretAccessKey"]') \
	AWS_SESSION_TOKEN=$(jq_ "$TMP/role.json" 'd["Credentials"]["SessionToken"]')
 a acm-pca describe-certificate-authority --certificate-authority-arn "$EC") >"$TMP/out" 2>&1
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
# raw signed calls (a body/time botocore's client would not produce)
cat >"$TMP/raw.py" <<'PY'
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
    print(urllib.request.urlopen(r).read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
raw() { "$PYTHON3" "$TMP/raw.py" "$EMU_URL" "$@"; }
raw acm-pca ACMPrivateCA.DescribeCertificateAuthority "{\"CertificateAuthorityArn\": \"$EC\"}" -1200 >"$TMP/out" 2>&1
expect_grep 'Signature expired' "stale X-Amz-Date gets 'Signature expired'"

# --- model validation
a acm-pca issue-certificate --certificate-authority-arn "$EC" --csr fileb:///dev/null --signing-algorithm SHA256WITHECDSA --validity Value=1,Type=DAYS >"$TMP/out" 2>&1
expect_grep 'ValidationException.*csr.*length greater than or equal to 1' "empty CSR rejected by the model's min length"
a acm-pca describe-certificate-authority --certificate-authority-arn "$EC" --cli-input-json '{"Bogus": 1}' >"$TMP/out" 2>&1 || true
"$PYTHON3" - "$EMU_URL" >"$TMP/out" 2>&1 <<'PY'
import sys, botocore.session
from botocore.config import Config
c = botocore.session.get_session().create_client("acm", endpoint_url=sys.argv[1], region_name="us-east-1",
                                                  config=Config(parameter_validation=False))
for kw in ({"DomainName": "x.example.com", "Bogus": 1}, {"DomainName": 7}, {"KeyAlgorithm": "RSA_2048"},
           {"DomainName": "x.example.com", "KeyAlgorithm": "DSA"}):
    try:
        c.request_certificate(**kw); print("accepted", kw)
    except Exception as e:
        print(type(e).__name__, e)
PY
raw acm CertificateManager.RequestCertificate '{"DomainName": "x.example.com", "Bogus": 1}' 0 >>"$TMP/out" 2>&1
expect_grep 'SerializationException.*Bogus' "unknown member gets SerializationException"
expect_grep 'SerializationException.*domainName' "ill-typed member gets SerializationException"
expect_grep "Value null at 'domainName'" "missing required member gets ValidationException"
expect_grep "enum value set" "bad enum gets ValidationException"

# --- ACM-PCA
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/k.pem" -out "$TMP/csr.pem" \
	-subj /CN=svc.example.com -addext subjectAltName=DNS:svc.example.com 2>/dev/null
emu_ctl POST /settings '{"pca_in_progress_seconds": 6}' >/dev/null
expect_rc 0 "acm-pca issue-certificate (EC subordinate, 30 days, idempotency token)" -- a acm-pca issue-certificate --certificate-authority-arn "$SUB" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA256WITHECDSA --validity Value=30,Type=DAYS --idempotency-token tok1
ARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm-pca issue-certificate --certificate-authority-arn "$SUB" --csr "fileb://$TMP/csr.pem" --signing-algorithm SHA256WITHECDSA --validity Value=30,Type=DAYS --idempotency-token tok1 >"$TMP/out" 2>&1
expect_grep "$ARN" "same idempotency token returns the same ARN"
a acm-pca get-certificate --certificate-authority-arn "$SUB" --certificate-arn "$ARN" >"$TMP/out" 2>&1
expect_grep 'RequestInProgressException' "get-certificate answers RequestInProgressException at first"
sleep 6
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

# --- ACM
expect_rc 0 "acm request-certificate (private, EC)" -- a acm request-certificate --domain-name p.example.com --certificate-authority-arn "$EC" --key-algorithm EC_prime256v1 --idempotency-token acm1
PARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm describe-certificate --certificate-arn "$PARN" >"$TMP/out" 2>&1
expect_grep '"Serial": "([0-9a-f]{2}:)+[0-9a-f]{2}"' "ACM serial is colon-separated hex"
expect_grep '"Status": "ISSUED"' "private certificate issued"
printf 'correct horse' >"$TMP/pass"
expect_rc 0 "acm export-certificate" -- a acm export-certificate --certificate-arn "$PARN" --passphrase "fileb://$TMP/pass"
jq_ "$TMP/out" 'd["PrivateKey"]' >"$TMP/ekey.pem"; jq_ "$TMP/out" 'd["Certificate"]' >"$TMP/pcert.pem"
expect_grep 'BEGIN ENCRYPTED PRIVATE KEY' "exported key is encrypted PKCS#8" "$TMP/ekey.pem"
openssl pkey -in "$TMP/ekey.pem" -passin "pass:correct horse" -pubout >"$TMP/p1" 2>&1
openssl x509 -in "$TMP/pcert.pem" -pubkey -noout >"$TMP/p2"
expect_rc 0 "exported key decrypts with the passphrase and matches the certificate" -- cmp "$TMP/p1" "$TMP/p2"
OLDSER=$(a acm describe-certificate --certificate-arn "$PARN" | jq_ /dev/stdin 'd["Certificate"]["Serial"]')
expect_rc 0 "acm renew-certificate (private)" -- a acm renew-certificate --certificate-arn "$PARN"
a acm describe-certificate --certificate-arn "$PARN" >"$TMP/out"
expect_rc 0 "renewal gives a new serial" -- test "$(jq_ "$TMP/out" 'd["Certificate"]["Serial"]')" != "$OLDSER"
emu_ctl POST /settings '{"acm_record_delay_seconds": 1, "renewal_delay_seconds": 0}' >/dev/null
expect_rc 0 "acm request-certificate (public, DNS)" -- a acm request-certificate --domain-name www.example.com --validation-method DNS --subject-alternative-names www.example.com '*.example.com' --tags Key=app,Value=web
DARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_rc 1 "ResourceRecord not shown before the delay" -- grep -q ResourceRecord "$TMP/out"
sleep 1.2
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/d.json"
expect_grep 'acm-validations.aws' "ResourceRecord shown after the delay" "$TMP/d.json"
a acm get-certificate --certificate-arn "$DARN" >"$TMP/out" 2>&1
expect_grep 'RequestInProgressException' "acm get-certificate before issuance"
jq_ "$TMP/d.json" '"\n".join(o["ResourceRecord"]["Name"]+" "+o["ResourceRecord"]["Value"] for o in d["Certificate"]["DomainValidationOptions"])' | sort -u >"$TMP/rr"
# --- Route 53: the validation CNAMEs go into the emulated zone
expect_rc 0 "route53 list-hosted-zones-by-name" -- a route53 list-hosted-zones-by-name --dns-name example.com --max-items 1
expect_grep '/hostedzone/Z0EMULATOREXAMPLE01' "default zone example.com listed"
a route53 change-resource-record-sets --hosted-zone-id Z0NOSUCHZONE --change-batch '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"a.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.1"}]}}]}' >"$TMP/out" 2>&1
expect_grep 'NoSuchHostedZone' "unknown zone gets NoSuchHostedZone"
first=1
while read -r n v; do
	a route53 change-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --change-batch \
		"{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"$n\",\"Type\":\"CNAME\",\"TTL\":300,\"ResourceRecords\":[{\"Value\":\"$v\"}]}}]}" >"$TMP/ch.json"
	if [ $first = 1 ]; then
		expect_grep '"Status": "PENDING"' "route53 change-resource-record-sets answers PENDING" "$TMP/ch.json"
		expect_rc 0 "route53 get-change" -- a route53 get-change --id "$(jq_ "$TMP/ch.json" 'd["ChangeInfo"]["Id"]')"
		expect_grep '"Status": "INSYNC"' "change becomes INSYNC"
		a route53 change-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --change-batch \
			"{\"Changes\":[{\"Action\":\"CREATE\",\"ResourceRecordSet\":{\"Name\":\"$n\",\"Type\":\"CNAME\",\"TTL\":300,\"ResourceRecords\":[{\"Value\":\"$v\"}]}}]}" >"$TMP/out" 2>&1
		expect_grep 'InvalidChangeBatch.*already exists' "CREATE of an existing record gets InvalidChangeBatch"
		first=0
	fi
done <"$TMP/rr"
a route53 list-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 >"$TMP/out"
expect_grep 'acm-validations.aws' "route53 list-resource-record-sets shows the CNAME"
a route53 list-resource-record-sets --hosted-zone-id Z0EMULATOREXAMPLE01 --start-record-type CNAME >"$TMP/out" 2>&1
expect_grep 'InvalidInput' "type without name refused like AWS"
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"Status": "ISSUED"' "DNS-validated certificate ISSUED once its CNAMEs exist in Route 53"
expect_rc 0 "acm get-certificate" -- a acm get-certificate --certificate-arn "$DARN"
emu_ctl POST /renew "{\"arn\":\"$DARN\",\"outcome\":\"FAILED\",\"reason\":\"CAA_ERROR\"}" >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"RenewalStatus": "FAILED"' "managed renewal FAILED on command"
expect_grep '"RenewalStatusReason": "CAA_ERROR"' "renewal failure reason"
expect_rc 0 "acm request-certificate (never validated)" -- a acm request-certificate --domain-name t.example.com --validation-method DNS
TARN=$(jq_ "$TMP/out" 'd["CertificateArn"]')
emu_ctl POST /clock '{"advance_seconds": 260000}' >/dev/null
a acm describe-certificate --certificate-arn "$TARN" >"$TMP/out"
expect_grep 'VALIDATION_TIMED_OUT' "unvalidated certificate times out"
emu_ctl POST /clock '{"advance_seconds": -260000}' >/dev/null
a acm list-certificates >"$TMP/out"
expect_grep "$DARN" "list-certificates lists RSA_2048 by default"
expect_rc 1 "list-certificates omits EC keys by default, like AWS" -- grep -q "$PARN" "$TMP/out"
a acm list-certificates --includes keyTypes=EC_prime256v1 >"$TMP/out"
expect_grep "$PARN" "list-certificates --includes keyTypes=EC_prime256v1"
expect_rc 0 "acm add-tags-to-certificate" -- a acm add-tags-to-certificate --certificate-arn "$DARN" --tags Key=team,Value=ops
a acm list-tags-for-certificate --certificate-arn "$DARN" >"$TMP/out"
expect_grep '"team"' "list-tags-for-certificate"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/ik.pem" -out "$TMP/ic.pem" -days 5 -subj /CN=imp.example.com 2>/dev/null
expect_rc 0 "acm import-certificate" -- a acm import-certificate --certificate "fileb://$TMP/ic.pem" --private-key "fileb://$TMP/ik.pem"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/ik2.pem" -out "$TMP/ic2.pem" -days 5 -subj /CN=imp.example.com 2>/dev/null
a acm import-certificate --certificate "fileb://$TMP/ic.pem" --private-key "fileb://$TMP/ik2.pem" >"$TMP/out" 2>&1
expect_grep 'does not match' "import with a mismatched key refused"
expect_rc 0 "acm delete-certificate" -- a acm delete-certificate --certificate-arn "$TARN"
a acm describe-certificate --certificate-arn "$TARN" >"$TMP/out" 2>&1
expect_grep 'ResourceNotFoundException' "deleted certificate is gone"

# --- quotas and faults
emu_ctl POST /quota '{"operation": "acm:DescribeCertificate", "per_second": 0.01, "burst": 1}' >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >/dev/null 2>&1
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out" 2>&1
expect_grep 'ThrottlingException' "quota exceeded gets ThrottlingException"
emu_ctl POST /quota '{"operation": "acm:DescribeCertificate", "per_second": 10}' >/dev/null
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

# --- IMDSv2 and ECS credentials
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 AWS_EC2_METADATA_SERVICE_ENDPOINT=$EMU_URL/ a sts get-caller-identity) >"$TMP/out" 2>&1
expect_grep 'assumed-role/acm-agent-role/imds' "CLI gets credentials from IMDSv2"
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 AWS_CONTAINER_CREDENTIALS_FULL_URI=$EMU_ECS_CREDENTIALS_URL a sts get-caller-identity) >"$TMP/out" 2>&1
expect_grep 'assumed-role/acm-agent-role/ecs' "CLI gets credentials from the ECS endpoint"
curl -s -o /dev/null -w '%{http_code}' "$EMU_URL/latest/meta-data/iam/security-credentials/" >"$TMP/out"
expect_grep '^401$' "IMDS without a token is refused (IMDSv2 only)"

# --- reset and TLS
emu_ctl POST /reset >/dev/null
a acm describe-certificate --certificate-arn "$DARN" >"$TMP/out" 2>&1
expect_grep 'ResourceNotFoundException' "reset forgets certificates"
emu_stop
emu_start --tls || not_ok "emulator starts with --tls"
expect_rc 0 "sts over HTTPS with the test CA" -- "$AWS" --endpoint-url "$EMU_URL" --ca-bundle "$EMU_CA_BUNDLE" sts get-caller-identity
finish
