#!/bin/bash
# What goes wrong with ACM, and what the operator is told (the failure hook,
# status, the exit code), and that nothing is requested again on its own
# when only the operator can help:
#   FAILED (CAA_ERROR): the hint; held (no new request on retries) until
#     `renew NAME`; a private certificate FAILED on the CA's side
#     (PCA_INVALID_STATE) is requested again by itself once the CA is back;
#   VALIDATION_TIMED_OUT: requested once more (on_validation_timeout:
#     rerequest), a second time fails; on_validation_timeout: fail fails at once;
#   the served certificate REVOKED, EXPIRED, INACTIVE or deleted outside the
#     agent (and replaced by another ARN with its tags): reported at the next
#     check, never requested again until `renew NAME --force`;
#   LimitExceededException: the quota named; a tracked certificate that
#     cannot be exported: said why.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-acm-lib.sh"
command -v openssl >/dev/null || { echo "# skip: no openssl"; exit 77; }
acm_start
cat >"$TMP/fhook" <<EOS
#!/bin/sh
echo "\$ACM_AGENT_EVENT \$ACM_AGENT_CERT_NAME: \$ACM_AGENT_ERROR" >>"$TMP/failures.log"
EOS
chmod +x "$TMP/fhook"
FHOOK="    hooks: {failure: [$TMP/fhook]}"

# --- FAILED: CAA_ERROR --------------------------------------------------------------
emu_ctl POST /fail '{"domain": "caa.example.com", "reason": "CAA_ERROR"}' >/dev/null
acm_cert caa '' "$FHOOK" | agent_conf "$TMP/a"
seq0=$(P seq)
expect_agent 1 "FAILED with CAA_ERROR: exit 1" --once
expect_grep "caa: failed: ACM could not issue arn:aws:acm:[^ ]* \(FAILED, CAA_ERROR\): a CAA record forbids amazon.com to issue for a name: add CAA 0 issue \"amazon.com\" .*; then run 'acm-agent renew caa' to request a new certificate" \
	"… the reason, the fix and what to run" "$TMP/out"
grep -q "^failed caa: ACM could not issue .*CAA_ERROR" "$TMP/failures.log" && ok "… the failure hook ran with it" ||
	{ not_ok "… failure hook"; cat "$TMP/failures.log" | sed 's/^/# /'; }
expect_agent 1 "… status says it (exit 1)" status
expect_grep "last error:   ACM could not issue .*CAA record forbids amazon.com" "… in last error" "$TMP/out"
at_offset 3600
seq1=$(P seq)
expect_agent 1 "the next attempt (backoff over)" --once
same "… no new request: only the operator can fix CAA" "0 1" "$(calls "$seq1" acm:RequestCertificate) $(calls "$seq1" acm:DescribeCertificate)"
emu_ctl POST /fail '{"domain": "caa.example.com", "reason": null}' >/dev/null
expect_agent 0 "CAA fixed, acm-agent renew caa: a new request, issued" renew caa
same "… one new certificate" 1 "$(requested "$seq1")"
if acm_verify caa; then ok "… deployed"; else not_ok "… deployed ($?)"; fi

# --- FAILED on the CA's side (private): requested again by itself -----------------------
emu_ctl POST /ca "{\"arn\": \"$CA_SUB\", \"status\": \"DISABLED\"}" >/dev/null
cat <<EOY | agent_conf "$TMP/b"
  - name: priv
    issuer: {type: acm, key_algorithm: EC_prime256v1, certificate_authority_arn: "$CA_SUB"}
    dns_names: [priv.internal.example]
EOY
expect_agent 1 "a private certificate while the CA is disabled" --once
expect_grep "priv: failed: ACM could not issue .* \(FAILED, PCA_INVALID_STATE\): the Private CA is not ACTIVE .*; a new certificate is requested at the next attempt" \
	"… PCA_INVALID_STATE with its hint" "$TMP/out"
same "… the failed request is not kept" "" "$(st priv issuer.arn)"
emu_ctl POST /ca "{\"arn\": \"$CA_SUB\", \"status\": \"ACTIVE\"}" >/dev/null
at_offset 7200
seq2=$(P seq)
expect_agent 0 "the CA active again: the next attempt issues" --once
same "… with a new request" 1 "$(requested "$seq2")"

# --- VALIDATION_TIMED_OUT ------------------------------------------------------------------
emu_ctl POST /settings '{"validation_timeout_seconds": 3600}' >/dev/null
{
	DNS_PROVIDER=manual acm_cert slow
	DNS_PROVIDER=manual acm_cert quick 'on_validation_timeout: fail'
} | agent_conf "$TMP/c"
# Nothing validates these (manual DNS, nobody publishes): a run waits out
# ACM_AGENT_ACM_POLL_DEADLINE (20 s in these tests) before it says
# "waiting". One second is enough for what is checked here (requested, the
# records described, then waiting) and saves 2 x 19 s.
ACM_AGENT_ACM_POLL_DEADLINE=1 expect_agent 3 "never validated: waiting" --once
expect_grep "^slow: waiting: .*\(looked at again at 20[0-9-]+T[0-9:]+Z\)$" "… says why and until when" "$TMP/out"
at_offset $((7200 + 3700))
seq3=$(P seq)
ACM_AGENT_ACM_POLL_DEADLINE=1 expect_agent 1 "an hour later ACM timed out: slow is requested once more, quick fails (exit 1)" --once
expect_grep "slow: ACM could not validate arn:aws:acm:[^ ]* within 72 hours \(VALIDATION_TIMED_OUT\); requesting it once more" \
	"… slow: said so" "$TMP/err"
same "… one new request (slow's)" 1 "$(requested "$seq3")"
same "… the re-request is counted" 1 "$(st slow issuer.rerequests)"
same "… quick failed" backoff "$(st quick phase)"
expect_grep "quick: failed: ACM could not validate .* \(VALIDATION_TIMED_OUT\): publish the validation CNAMEs and keep them" \
	"… quick: on_validation_timeout: fail" "$TMP/out"
at_offset $((7200 + 3700 * 2 + 600))
seq4=$(P seq)
expect_agent 1 "slow timed out a second time: fails" --once
expect_grep "slow: failed: ACM could not validate .* \(VALIDATION_TIMED_OUT, for the second time\)" "… says it is the second time" "$TMP/out"
same "… nothing requested" 0 "$(requested "$seq4")"
emu_ctl POST /settings '{"validation_timeout_seconds": 259200}' >/dev/null

# --- the served certificate REVOKED, EXPIRED, INACTIVE, deleted outside the agent ------------
{
	acm_cert rev '' "$FHOOK"
	acm_cert exp
	acm_cert inact
	acm_cert gone
} | agent_conf "$TMP/d"
expect_agent 0 "four certificates issued" --once
emu_ctl POST /status "{\"arn\": \"$(st rev served.arn)\", \"status\": \"REVOKED\", \"reason\": \"KEY_COMPROMISE\"}" >/dev/null
emu_ctl POST /status "{\"arn\": \"$(st exp served.arn)\", \"status\": \"EXPIRED\"}" >/dev/null
emu_ctl POST /status "{\"arn\": \"$(st inact served.arn)\", \"status\": \"INACTIVE\"}" >/dev/null
gone=$(st gone served.arn)
acm_call DeleteCertificate "{\"CertificateArn\": \"$gone\"}" >/dev/null 2>&1
acm_call RequestCertificate "{\"DomainName\": \"gone.example.com\", \"ValidationMethod\": \"DNS\", \"KeyAlgorithm\": \"EC_prime256v1\", \"Options\": {\"Export\": \"ENABLED\"}, \"Tags\": [{\"Key\": \"acm-agent:name\", \"Value\": \"gone\"}${HOST_ID:+, {\"Key\": \"acm-agent:host\", \"Value\": \"$HOST_ID\"\}}]}" >"$TMP/r" 2>/dev/null
replacement=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["CertificateArn"])' "$TMP/r")
: >"$TMP/failures.log"
at_offset $((7200 + 3700 * 2 + 600 + 8 * 3600))
seq5=$(P seq)
expect_agent 1 "the next check sees all four" --once
expect_grep "rev: failed .*: certificate arn:[^ ]* was revoked in ACM \(KEY_COMPROMISE at [0-9TZ:-]*\); the current files stay deployed; run 'acm-agent renew rev --force' to request a new certificate" \
	"… REVOKED: reason, time, what to run" "$TMP/out"
expect_grep "exp: failed .*: certificate arn:[^ ]* EXPIRED in ACM \(ACM could not renew it\); .*renew exp --force" "… EXPIRED" "$TMP/out"
expect_grep "inact: failed .*: certificate arn:[^ ]* is INACTIVE in ACM .*renew inact --force" "… INACTIVE" "$TMP/out"
expect_grep "gone: failed .*: certificate $gone no longer exists in ACM \(deleted outside the agent, or another region or account\) \($replacement carries this certificate's tags: set issuer.arn to it to use it instead\)" \
	"… deleted, and the new ARN with its tags named" "$TMP/out"
grep -q "^failed rev: certificate .* was revoked in ACM" "$TMP/failures.log" && ok "… the failure hook ran" || not_ok "… failure hook"
same "… nothing requested" 0 "$(requested "$seq5")"
at_offset $((7200 + 3700 * 2 + 600 + 9 * 3600))
seq6=$(P seq)
expect_agent 1 "the next attempt: still reported, still nothing requested" --once
same "… no RequestCertificate" 0 "$(calls "$seq6" acm:RequestCertificate)"
expect_agent 0 "renew rev --force: a new certificate" renew rev --force
same "… one request" 1 "$(requested "$seq6")"
[ "$(st rev served.arn)" != "" ] && [ "$(emu_cert "$(st rev served.arn)" Status)" = ISSUED ] && ok "… served, ISSUED" || not_ok "… rev"

# --- quotas; a certificate that cannot be exported -------------------------------------------
held=$(emu_ctl GET /certificates | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["limits"]["public"]["held"])')
emu_ctl POST /settings "{\"acm_certificate_limit\": $held}" >/dev/null
acm_cert full | agent_conf "$TMP/e"
expect_agent 1 "the account holds as many certificates as it may" --once
expect_grep "full: failed: RequestCertificate: LimitExceededException .*; the account reached an ACM quota \(2,500 certificates held, 5,000 requested a year, or names per certificate\)" \
	"… LimitExceededException names the quotas" "$TMP/out"
same "… the refused token is not kept" "" "$(st full issuer.token)"
emu_ctl POST /settings '{"acm_certificate_limit": 2500}' >/dev/null
acm_call RequestCertificate '{"DomainName": "noexport.example.com", "ValidationMethod": "DNS", "KeyAlgorithm": "RSA_2048"}' >"$TMP/r" 2>/dev/null
NOEXP=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["CertificateArn"])' "$TMP/r")
acm_call DescribeCertificate "{\"CertificateArn\": \"$NOEXP\"}" 2>/dev/null | "$PY" -c '
import json, sys
for o in json.load(sys.stdin)["Certificate"]["DomainValidationOptions"]:
    print(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])' | while read -r n v; do
	emu_ctl POST /dns "{\"name\": \"$n\", \"value\": \"$v\"}" >/dev/null
done
cat <<EOY | agent_conf "$TMP/f"
  - name: noexp
    issuer: {type: acm, arn: "$NOEXP", trust_store: "$TRUST"}
EOY
expect_agent 1 "a tracked certificate requested without Export" --once
expect_grep "noexp: failed: ExportCertificate \(a public certificate requested without Export ENABLED can never be exported: set export: false" \
	"… says why and what to do" "$TMP/out"

finish
