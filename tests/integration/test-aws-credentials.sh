#!/bin/bash
# Every credential source of the AWS client against the emulator (which
# verifies each signature with botocore): credential_process (argv, inherited
# environment, no stampede, every failure mode), a profile chain on top of a
# process, web identity from a profile, ECS container credentials (full URI,
# authorization token and token file, refused hosts), EC2 IMDSv2 (token
# first, region, the disabled switch, a quick clear "no credentials"),
# aws.role_arn on top, refresh before expiry, an expired session; endpoints
# (regional, FIPS, overrides); Route 53 REST-XML and check --online zones.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
CALL="$ABS_TOP_BUILDDIR/tests/integration/aws-call"
[ -x "$CALL" ] || { echo "aws-call not built"; exit 77; }
emu_start --tls || exit 1
on_exit emu_stop
export AWS_CA_BUNDLE="$EMU_CA_BUNDLE" HOME="$TMP"
KEY=$AWS_ACCESS_KEY_ID SECRET=$AWS_SECRET_ACCESS_KEY
# Runs the helper with no credentials in the environment.
nocreds() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN "$@"; }

# ---- credential_process
cat >"$TMP/proc-ok" <<EOT
#!/bin/sh
echo "run \$#:\$1|\$2|\${ACM_TEST_MARK:-}" >>"$TMP/proc.log"
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}\n' "$KEY" "$SECRET"
EOT
chmod +x "$TMP/proc-ok"
printf '#!/bin/sh\necho '"'"'{"Version": 2, "AccessKeyId": "AKIAX", "SecretAccessKey": "s3cr3t-value"}'"'"'\n' >"$TMP/proc-v2"
chmod +x "$TMP/proc-v2"
cat >"$TMP/config" <<EOT
[profile proc]
credential_process = "$TMP/proc-ok" "two words" 'x y'
[profile proc-role]
role_arn = arn:aws:iam::111122223333:role/cert-agent
source_profile = proc
[profile fail-exit]
credential_process = sh -c "echo 'helper: token expired, run login' >&2; exit 3"
[profile fail-timeout]
credential_process = sleep 120
[profile fail-json]
credential_process = echo '{"Version": 1, "AccessKeyId": '
[profile fail-jsontok]
credential_process = cat $TMP/jsontok
[profile fail-key]
credential_process = echo '{"Version": 1, "AccessKeyId": "AKIAX", "SecretAccessKey": ""}'
[profile fail-version]
credential_process = $TMP/proc-v2
[profile fail-missing]
credential_process = $TMP/does-not-exist --flag
[profile fail-big]
credential_process = head -c 200000 /dev/zero
[profile fail-quote]
credential_process = helper 'unterminated
[profile fail-expired]
credential_process = echo '{"Version": 1, "AccessKeyId": "AKIAX", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2001-01-01T00:00:00Z"}'
[profile webid]
role_arn = arn:aws:iam::111122223333:role/web
web_identity_token_file = $TMP/token
[profile ecs-src]
role_arn = arn:aws:iam::111122223333:role/from-ecs
credential_source = EcsContainer
[profile imds-src]
role_arn = arn:aws:iam::111122223333:role/from-imds
credential_source = Ec2InstanceMetadata
EOT
export AWS_CONFIG_FILE="$TMP/config" AWS_SHARED_CREDENTIALS_FILE="$TMP/none"
echo '"tok-SECRET-1234"' >"$TMP/jsontok"

rm -f "$TMP/proc.log"
expect_rc 0 "credential_process: 5 concurrent calls succeed" -- nocreds AWS_PROFILE=proc ACM_TEST_MARK=inherited \
	"$CALL" --repeat 5 sts GetCallerIdentity
expect_grep "calls=5 " "five calls completed"
if [ "$(wc -l <"$TMP/proc.log")" = 1 ]; then ok "the process ran once for 5 concurrent calls (no stampede)"
else not_ok "the process ran $(wc -l <"$TMP/proc.log") times"; fi
expect_grep "^run 2:two words\|x y\|inherited$" "argv split like a shell, no shell; environment inherited" "$TMP/proc.log"
expect_rc 0 "credential_process: source names the profile" -- nocreds AWS_PROFILE=proc "$CALL" --credentials
expect_grep "^source=profile 'proc' \(credential_process\)" "source is the credential_process"
expect_rc 0 "role_arn + source_profile on top of a credential_process" -- nocreds AWS_PROFILE=proc-role \
	"$CALL" sts GetCallerIdentity
expect_grep "assumed-role/cert-agent" "identity is the assumed role"

failcase() { # profile, pattern, description
	expect_rc 1 "credential_process $3" -- nocreds AWS_PROFILE="$1" ACM_AGENT_CREDENTIAL_PROCESS_TIMEOUT=1 \
		"$CALL" sts GetCallerIdentity
	expect_grep "$2" "$3: clear error"
	expect_grep "kind=credentials" "$3: kind credentials"
}
failcase fail-exit "CredentialProcessFailed .*profile 'fail-exit' \(sh -c .*exited with status 3: helper: token expired, run login" "non-zero exit with the stderr line"
# The helper sleeps 120 s; killed at the 1 s timeout the call ends long
# before that, waited for it would not (60 s: far from both, whatever the
# machine's load; a bound of 4 s next to a 10 s helper was a race with it).
start=$(date +%s)
failcase fail-timeout "profile 'fail-timeout' \(sleep 120\) did not finish within 1 s and was killed" "timeout"
if [ $(( $(date +%s) - start )) -le 60 ]; then ok "timeout is prompt"; else not_ok "timeout took $(( $(date +%s) - start )) s"; fi
failcase fail-json "profile 'fail-json' .*printed unusable credentials: output is not JSON" "bad JSON"
failcase fail-jsontok "profile 'fail-jsontok' .*output is not JSON \(line 1, column [0-9]+\)" "bad JSON: line and column"
if grep -q tok-SECRET "$TMP/out"; then not_ok "bad JSON: the output is not quoted"; else ok "bad JSON: the output is not quoted"; fi
failcase fail-key "profile 'fail-key' .*no SecretAccessKey" "missing key"
failcase fail-version "profile 'fail-version' .*no \"Version\": 1" "wrong Version"
if grep -q s3cr3t-value "$TMP/out"; then not_ok "secret not printed"; else ok "secret not printed"; fi
failcase fail-missing "profile 'fail-missing' .*does-not-exist --flag\) cannot be started: No such file" "missing program"
failcase fail-big "printed more than 64 KiB" "unbounded output"
failcase fail-quote "profile 'fail-quote' .*unterminated quote" "unterminated quote"
failcase fail-expired "ExpiredCredentials .*expired at 2001-01-01T00:00:00Z" "expired credentials"

# ---- web identity from a profile
b64() { "$PYTHON3" -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$1"; }
echo "$(b64 '{"alg":"RS256","typ":"JWT"}').$(b64 '{"sub":"system:serviceaccount:certs:agent","aud":"sts.amazonaws.com","iss":"https://oidc.example"}').c2ln" >"$TMP/token"
expect_rc 0 "web_identity_token_file in a profile" -- nocreds AWS_PROFILE=webid "$CALL" sts GetCallerIdentity
expect_grep "assumed-role/web/" "identity is the web identity role"

# ---- ECS container credentials
unset AWS_CONFIG_FILE
expect_rc 0 "ECS full URI" -- nocreds AWS_CONTAINER_CREDENTIALS_FULL_URI="$EMU_ECS_CREDENTIALS_URL" "$CALL" --credentials
expect_grep "^source=container credentials \(https://127.0.0.1" "source names the container endpoint"
expect_rc 0 "ECS credentials sign requests" -- nocreds AWS_CONTAINER_CREDENTIALS_FULL_URI="$EMU_ECS_CREDENTIALS_URL" \
	"$CALL" sts GetCallerIdentity
expect_grep "assumed-role/acm-agent-role/ecs" "identity is the container role"
emu_ctl POST /settings '{"ecs_authorization_token": "Bearer tok-123"}' >/dev/null
expect_rc 1 "ECS without the required token fails" -- nocreds AWS_CONTAINER_CREDENTIALS_FULL_URI="$EMU_ECS_CREDENTIALS_URL" \
	"$CALL" sts GetCallerIdentity
expect_grep "container credentials: .*answered HTTP 401 \(refused without AWS_CONTAINER_AUTHORIZATION_TOKEN\)" "names the token"
expect_rc 1 "ECS with a wrong token fails" -- nocreds AWS_CONTAINER_CREDENTIALS_FULL_URI="$EMU_ECS_CREDENTIALS_URL" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer wrong-tok" "$CALL" sts GetCallerIdentity
expect_grep "answered HTTP 401 \(check AWS_CONTAINER_AUTHORIZATION_TOKEN\)" "says to check the token"
if grep -q wrong-tok "$TMP/out"; then not_ok "token not printed"; else ok "token not printed"; fi
expect_rc 0 "ECS with AWS_CONTAINER_AUTHORIZATION_TOKEN" -- nocreds AWS_CONTAINER_CREDENTIALS_FULL_URI="$EMU_ECS_CREDENTIALS_URL" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer tok-123" "$CALL" sts GetCallerIdentity
printf 'Bearer tok-123\n' >"$TMP/ecs-token"
expect_rc 0 "ECS with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (wins over the variable)" -- nocreds \
	AWS_CONTAINER_CREDENTIALS_FULL_URI="$EMU_ECS_CREDENTIALS_URL" AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
	AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$TMP/ecs-token" "$CALL" sts GetCallerIdentity
expect_rc 0 "credential_source EcsContainer + role_arn" -- nocreds AWS_CONFIG_FILE="$TMP/config" AWS_PROFILE=ecs-src \
	AWS_CONTAINER_CREDENTIALS_FULL_URI="$EMU_ECS_CREDENTIALS_URL" AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer tok-123" \
	"$CALL" sts GetCallerIdentity
expect_grep "assumed-role/from-ecs/" "the profile's role on top of the container credentials"
emu_ctl POST /settings '{"ecs_authorization_token": null}' >/dev/null
expect_rc 1 "ECS relative URI goes to 169.254.170.2 (unreachable here)" -- nocreds \
	AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/abc "$CALL" --credentials
expect_grep "container credentials: http://169.254.170.2/v2/credentials/abc" "names the container endpoint"
expect_rc 1 "ECS full URI to a non-loopback http host is refused" -- nocreds \
	AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.10/creds "$CALL" --credentials
expect_grep "AWS_CONTAINER_CREDENTIALS_FULL_URI http://192.0.2.10/creds is not allowed" "says why"
expect_rc 1 "ECS full URI with a user@ part before another host is refused" -- nocreds \
	AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.2:80@evil.example/creds "$CALL" --credentials
expect_grep "is not allowed: the URL has a user name or password part" "says why (user@host)"

# ---- EC2 IMDSv2 (the emulator answers 401 to any request without a token)
expect_rc 0 "IMDSv2 credentials (token first)" -- nocreds AWS_EC2_METADATA_SERVICE_ENDPOINT="$EMU_URL/" "$CALL" --credentials
expect_grep "^source=EC2 instance metadata \(IMDSv2, role acm-agent-role\)" "source names the instance role"
expect_rc 0 "IMDSv2 credentials and region sign requests" -- nocreds env -u AWS_REGION -u AWS_DEFAULT_REGION \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="$EMU_URL" "$CALL" sts GetCallerIdentity
expect_grep "assumed-role/acm-agent-role/imds" "identity is the instance role"
expect_grep "^region=us-east-1" "region from placement/region"
expect_rc 0 "credential_source Ec2InstanceMetadata + role_arn" -- nocreds AWS_CONFIG_FILE="$TMP/config" AWS_PROFILE=imds-src \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="$EMU_URL" "$CALL" sts GetCallerIdentity
expect_grep "assumed-role/from-imds/" "the profile's role on top of the instance role"
emu_ctl POST /settings '{"imds_role": null}' >/dev/null
expect_rc 1 "an instance without an instance profile" -- nocreds AWS_EC2_METADATA_SERVICE_ENDPOINT="$EMU_URL" "$CALL" --credentials
expect_grep "NoCredentials .*security-credentials/ answered HTTP 404: the instance has no IAM role \(attach an instance profile\)" "says to attach an instance profile"
emu_ctl POST /settings '{"imds_role": "acm-agent-role"}' >/dev/null
expect_rc 1 "AWS_EC2_METADATA_DISABLED=true disables IMDS" -- nocreds AWS_EC2_METADATA_DISABLED=true \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="$EMU_URL" "$CALL" --credentials
expect_grep "NoCredentials .*tried: the environment .*web identity .*shared files .*container credentials .*EC2 instance metadata \(disabled by AWS_EC2_METADATA_DISABLED\)" "lists every source tried"
expect_rc 1 "no region when IMDS is disabled is a clear error" -- env -u AWS_REGION -u AWS_DEFAULT_REGION \
	AWS_EC2_METADATA_DISABLED=true "$CALL" sts GetCallerIdentity
expect_grep "NoRegion .*set aws.region in the configuration, AWS_REGION" "names the settings"
start=$(date +%s)
expect_rc 1 "a host without IMDS gets a quick clear error" -- nocreds AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9 \
	"$CALL" --credentials
expect_grep "NoCredentials .*EC2 instance metadata \(http://127.0.0.1:9/latest/api/token: " "names the metadata endpoint"
# (a refused connection ends the metadata lookup at once; what this guards
# against is waiting minutes for connect timeouts, so the bound is generous
# enough that a loaded machine never reaches it)
if [ $(( $(date +%s) - start )) -le 60 ]; then ok "no-credentials answer without waiting for timeouts ($(( $(date +%s) - start )) s)"; else not_ok "took $(( $(date +%s) - start )) s"; fi

# ---- aws.role_arn on top of environment credentials
expect_rc 0 "aws.role_arn assumes a role on top" -- "$CALL" --role-arn arn:aws:iam::111122223333:role/top --credentials
expect_grep "^source=environment \(AWS_ACCESS_KEY_ID\) \+ assumed role arn:aws:iam::111122223333:role/top" "source says so"
expect_rc 0 "aws.role_arn credentials sign requests" -- "$CALL" --role-arn arn:aws:iam::111122223333:role/top sts GetCallerIdentity
expect_grep "assumed-role/top/acm-agent" "identity is the role, session acm-agent"

# ---- refresh before expiry: a process minting 303-second sessions from the
# emulator (inside the 5-minute refresh window after 3 s)
cat >"$TMP/proc-mint" <<EOT
#!/bin/sh
echo run >>"$TMP/mint.log"
if [ -e "$TMP/mint-fail" ] && [ "\$(wc -l <"$TMP/mint.log")" -gt 1 ]; then echo "minting is down" >&2; exit 1; fi
curl -sS -X POST -H 'Content-Type: application/json' --data '{"expires_in_seconds": 303}' "$EMU_CONTROL_URL/credentials" |
"$PYTHON3" -c 'import json,sys,datetime; c=json.load(sys.stdin); print(json.dumps({"Version": 1, "AccessKeyId": c["access_key_id"], "SecretAccessKey": c["secret_access_key"], "SessionToken": c["session_token"], "Expiration": datetime.datetime.utcfromtimestamp(c["expiration"]).strftime("%Y-%m-%dT%H:%M:%SZ")}))'
EOT
chmod +x "$TMP/proc-mint"
printf '[profile mint]\ncredential_process = %s\n' "$TMP/proc-mint" >"$TMP/config-mint"
rm -f "$TMP/mint.log"
emu_ctl POST /reset >/dev/null
expect_rc 0 "short-lived sessions: 3 calls 3.5 s apart all succeed" -- nocreds AWS_CONFIG_FILE="$TMP/config-mint" \
	AWS_PROFILE=mint "$CALL" --sequential 3 --interval-ms 3500 sts GetCallerIdentity
if [ "$(wc -l <"$TMP/mint.log")" -ge 3 ]; then ok "the client refreshed before expiry ($(wc -l <"$TMP/mint.log") runs)"
else not_ok "the client did not refresh ($(wc -l <"$TMP/mint.log") runs)"; fi
keys=$(emu_ctl GET "/calls?operation=sts:GetCallerIdentity" | "$PYTHON3" -c 'import json,sys; print(len({c["access_key_id"] for c in json.load(sys.stdin)["calls"]}))' 2>/dev/null)
if [ "${keys:-0}" -ge 2 ]; then ok "the refreshed session signed the later calls ($keys keys)"; else not_ok "keys used: ${keys:-?}"; fi
rm -f "$TMP/mint.log"; touch "$TMP/mint-fail"
expect_rc 0 "a failed refresh keeps the still-valid session" -- nocreds AWS_CONFIG_FILE="$TMP/config-mint" \
	AWS_PROFILE=mint "$CALL" --sequential 2 --interval-ms 3500 sts GetCallerIdentity
if [ "$(wc -l <"$TMP/mint.log")" = 2 ]; then ok "refresh was attempted once"; else not_ok "runs: $(wc -l <"$TMP/mint.log")"; fi

# ---- credentials that already come inside the refresh window (IMDS during a
# rotation hands out ones with < 5 min left) are not fetched again per call
sed -e 's/"expires_in_seconds": 303/"expires_in_seconds": 120/' -e 's/mint\.log/short.log/g' -e '/mint-fail/d' \
	"$TMP/proc-mint" >"$TMP/proc-short"
chmod +x "$TMP/proc-short"
printf '[profile short]\ncredential_process = %s\n' "$TMP/proc-short" >"$TMP/config-short"
rm -f "$TMP/short.log"
expect_rc 0 "sessions with 2 minutes left: 5 calls one after another succeed" -- nocreds \
	AWS_CONFIG_FILE="$TMP/config-short" AWS_PROFILE=short "$CALL" --sequential 5 --interval-ms 200 sts GetCallerIdentity
if [ "$(wc -l <"$TMP/short.log")" = 1 ]; then ok "one credential fetch for 5 calls (not one per call)"
else not_ok "the process ran $(wc -l <"$TMP/short.log") times for 5 calls"; fi

# ---- an expired session gives a clear error
sess=$(emu_ctl POST /credentials '{"expires_in_seconds": 3600}')
skey=$(echo "$sess" | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["access_key_id"])')
ssec=$(echo "$sess" | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["secret_access_key"])')
stok=$(echo "$sess" | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["session_token"])')
expect_rc 0 "a session from the environment works" -- env AWS_ACCESS_KEY_ID="$skey" AWS_SECRET_ACCESS_KEY="$ssec" \
	AWS_SESSION_TOKEN="$stok" "$CALL" acm ListCertificates
emu_ctl POST /clock '{"advance_seconds": 7200}' >/dev/null
expect_rc 1 "the same session after its expiry" -- env AWS_ACCESS_KEY_ID="$skey" AWS_SECRET_ACCESS_KEY="$ssec" \
	AWS_SESSION_TOKEN="$stok" "$CALL" acm ListCertificates
expect_grep "ExpiredTokenException on acm:ListCertificates .*expired" "names the expired token"
expect_grep "kind=auth" "classified as auth"
emu_ctl POST /reset >/dev/null

# ---- endpoints
ep() { env -u AWS_ENDPOINT_URL "$@" "$CALL" --print-endpoints "${EPARGS[@]}"; }
EPARGS=(--region eu-west-1)
expect_rc 0 "regional endpoints" -- ep
expect_grep "^acm=https://acm.eu-west-1.amazonaws.com$" "acm regional"
expect_grep "^acm-pca=https://acm-pca.eu-west-1.amazonaws.com$" "acm-pca regional"
expect_grep "^sts=https://sts.eu-west-1.amazonaws.com$" "sts regional"
expect_grep "^route53=https://route53.amazonaws.com$" "route53 global"
EPARGS=(--region us-gov-west-1 --fips)
expect_rc 0 "FIPS endpoints" -- ep
expect_grep "^acm=https://acm-fips.us-gov-west-1.amazonaws.com$" "acm FIPS"
expect_grep "^route53=https://route53-fips.amazonaws.com$" "route53 FIPS"
EPARGS=(--region cn-north-1)
expect_rc 0 "China partition" -- ep
expect_grep "^acm=https://acm.cn-north-1.amazonaws.com.cn$" "acm in .com.cn"
EPARGS=(--region eu-west-1 --endpoint acm-pca=https://pca.internal.example/)
expect_rc 0 "per-service override in aws.endpoints" -- ep AWS_ENDPOINT_URL_ACM_PCA=https://env.example AWS_ENDPOINT_URL_ACM=https://acm-env.example
expect_grep "^acm-pca=https://pca.internal.example$" "the configuration wins over the environment"
expect_grep "^acm=https://acm-env.example$" "AWS_ENDPOINT_URL_ACM"
expect_grep "^sts=https://sts.eu-west-1.amazonaws.com$" "others stay regional"
EPARGS=(--region eu-west-1)
expect_rc 0 "AWS_ENDPOINT_URL for every service" -- ep AWS_ENDPOINT_URL=http://127.0.0.1:1234 AWS_ENDPOINT_URL_ROUTE_53=http://r53.example
expect_grep "^sts=http://127.0.0.1:1234$" "global override"
expect_grep "^route53=http://r53.example$" "AWS_ENDPOINT_URL_ROUTE_53"
EPARGS=(--region eu-west-1 --endpoint acm=ftp://x)
expect_rc 1 "a non-HTTP endpoint is refused" -- ep
expect_grep "cannot create the client: Invalid argument" "at client creation"

# ---- Route 53 REST-XML
Z=Z0EMULATOREXAMPLE01
expect_rc 0 "ListHostedZonesByName" -- "$CALL" route53 list-zones example.com
expect_grep '"Id":"/hostedzone/Z0EMULATOREXAMPLE01","Name":"example.com."' "finds the zone"
expect_rc 0 "ChangeResourceRecordSets UPSERT of a CNAME" -- "$CALL" route53 upsert $Z _a1b2.www.example.com. _c3d4.acm-validations.aws.
expect_grep '"Status":"PENDING"' "the change is PENDING"
chg=$(sed -n 's/.*"Id":"\/change\/\([A-Z0-9]*\)".*/\1/p' "$TMP/out")
expect_rc 0 "GetChange" -- "$CALL" route53 get-change "$chg"
expect_grep '"Status":"INSYNC"' "the change is INSYNC"
expect_rc 0 "ListResourceRecordSets" -- "$CALL" route53 list-rrs $Z _a1b2.www.example.com
expect_grep '"Name":"_a1b2.www.example.com.","ResourceRecords":\{"ResourceRecord":\{"Value":"_c3d4.acm-validations.aws."\}\},"TTL":"300","Type":"CNAME"' "the record is there"
expect_rc 0 "UPSERT again (idempotent)" -- "$CALL" route53 upsert $Z _a1b2.www.example.com. _c3d4.acm-validations.aws.
expect_rc 0 "DELETE of the CNAME" -- "$CALL" route53 delete $Z _a1b2.www.example.com. _c3d4.acm-validations.aws.
expect_rc 1 "DELETE of a missing record is a clear error" -- "$CALL" route53 delete $Z _a1b2.www.example.com. _c3d4.acm-validations.aws.
expect_grep "InvalidChangeBatch on route53:ChangeResourceRecordSets" "AWS's InvalidChangeBatch"
expect_grep "kind=invalid" "classified invalid"
expect_rc 1 "a name outside the zone" -- "$CALL" route53 upsert $Z _x.other.org. y.acm-validations.aws.
expect_grep "InvalidChangeBatch" "rejected by Route 53"
expect_rc 1 "a missing zone" -- "$CALL" route53 list-rrs ZNOSUCHZONE
expect_grep "NoSuchHostedZone on route53:ListResourceRecordSets" "NoSuchHostedZone"
expect_grep "kind=not-found" "classified not-found"
expect_rc 1 "a malformed zone id is refused locally" -- "$CALL" route53 list-rrs 'Z1/../x'
expect_grep "route53 list-rrs: Invalid argument" "EINVAL"

emu_ctl POST /quota '{"operation": "route53:ListHostedZonesByName", "per_second": 1, "burst": 1}' >/dev/null
expect_rc 0 "Route 53 throttling recovery: 6 calls at a 1/s quota" -- "$CALL" --repeat 6 --max-attempts 8 \
	route53 list-zones example.com
expect_grep "calls=6 " "six calls completed"
sed -n 's/^throttles=/# route53 throttles=/p' "$TMP/out"
emu_ctl POST /reset >/dev/null

# ---- check --online: Route 53 zones
expect_rc 0 "check --online: an existing zone" -- "$CALL" --check-online zone:$Z
expect_grep "ok   Route 53 zone Z0EMULATOREXAMPLE01 \(certificate cert0\): example.com., records readable" "zone ok"
expect_rc 1 "check --online: a missing zone" -- "$CALL" --check-online zone:$Z zone:ZNOSUCHZONE
expect_grep "FAIL Route 53 zone ZNOSUCHZONE \(certificate cert1\): NoSuchHostedZone" "names the missing zone"
expect_grep "FAILED: 1 check failed" "one failure"
finish
