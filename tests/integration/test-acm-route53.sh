#!/bin/bash
# The ACM issuer end to end against the emulator, DNS through Route 53:
# certificates in one zone by suffix and by hosted_zone_id issued in one
# pass (RequestCertificate with every parameter, the records of all
# certificates in one ChangeResourceRecordSets, the apex and its wildcard
# sharing one record), files verified against the public roots; records
# that appear late; nothing asked of AWS when nothing is due; a wiped state
# directory finds its certificate again (no second RequestCertificate); an
# existing ARN tracked; dns.role_arn; export: false; a private certificate; e-mail
# validation (waits, status shows the addresses, approved → issued); acm-agent
# dns NAME. Counts come from the emulator's call log.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-acm-lib.sh"
command -v openssl >/dev/null || { echo "# skip: no openssl"; exit 77; }
acm_start

# --- three certificates, one zone: by suffix (two) and by id (one) ----------------
seq0=$(P seq)
{
	NAMES="apex.example.com, \"*.apex.example.com\"" acm_cert apex
	acm_cert www '' '    hooks: {pending_validation: ['"$TMP"'/hook]}'
	DNS_EXTRA="hosted_zone_id: $ZONE" acm_cert api 'tags: {team: api, cost: "42"}'
} | agent_conf "$TMP/a"
cat >"$TMP/hook" <<EOS
#!/bin/sh
{ echo "event=\$ACM_AGENT_EVENT cert=\$ACM_AGENT_CERT_NAME"; echo "\$ACM_AGENT_VALIDATION"; } >>"$TMP/hook.log"
EOS
chmod +x "$TMP/hook"
expect_agent 0 "one --once pass issues three ACM certificates" --once
expect_grep "3 certificates: 3 issued" "… the summary says so" "$TMP/out"
same "… three RequestCertificate calls, three certificates" "3 3" "$(calls "$seq0" acm:RequestCertificate) $(requested "$seq0")"
same "… one ChangeResourceRecordSets for every record of the three" 1 "$(calls "$seq0" route53:ChangeResourceRecordSets)"
same "… the zones listed once (by suffix), not for the one by id" 1 "$(calls "$seq0" route53:ListHostedZonesByName)"
same "… one ExportCertificate each" 3 "$(calls "$seq0" acm:ExportCertificate)"
same "… nothing to look at in a fresh account (no ListTagsForCertificate)" 0 "$(calls "$seq0" acm:ListTagsForCertificate)"
for n in apex www api; do
	if acm_verify $n; then ok "$n: files verify against the public roots, key matches"; else not_ok "$n: deployed files ($?)"; fi
	same "$n: state valid" valid "$(st $n phase)"
done
same "apex and *.apex share one validation record" 1 "$(st apex issuer.records | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')"
openssl x509 -in "$TMP/a/out/apex/cert.pem" -noout -ext subjectAltName >"$TMP/san"
expect_grep "DNS:apex.example.com, DNS:\*.apex.example.com" "apex: both names in the certificate" "$TMP/san"
emu_ctl GET "/calls?operation=acm:RequestCertificate" | "$PY" -c '
import json, sys
for c in json.load(sys.stdin)["calls"]:
    p = c["parameters"]
    if p["DomainName"] == "api.example.com":
        print(json.dumps(p, sort_keys=True))' >"$TMP/req"
expect_grep '"KeyAlgorithm": "EC_prime256v1"' "RequestCertificate: KeyAlgorithm" "$TMP/req"
expect_grep '"ValidationMethod": "DNS"' "… ValidationMethod DNS" "$TMP/req"
expect_grep '"Options": \{"Export": "ENABLED"\}' "… Export ENABLED, no deprecated preference" "$TMP/req"
expect_grep '"IdempotencyToken": "[0-9a-f]{32}"' "… an IdempotencyToken" "$TMP/req"
expect_grep '"SubjectAlternativeNames": \["api.example.com"\]' "… the names" "$TMP/req"
expect_grep "\{\"Key\": \"acm-agent:name\", \"Value\": \"api\"\}" "… tagged with the certificate's name" "$TMP/req"
[ -z "$HOST_ID" ] || expect_grep "\{\"Key\": \"acm-agent:host\", \"Value\": \"$HOST_ID\"\}" "… and the host" "$TMP/req"
expect_grep '\{"Key": "team", "Value": "api"\}' "… and the configured tags" "$TMP/req"
emu_ctl GET "/calls?operation=route53:ChangeResourceRecordSets" | grep -q "\"HostedZoneId\": \"$ZONE\"" &&
	ok "the batch went to $ZONE" || not_ok "the batch's zone"
[ -s "$TMP/hook.log" ] && grep -q "^event=pending_validation cert=www" "$TMP/hook.log" &&
	grep -q "^_[0-9a-f]*\.www\.example\.com\. CNAME _[0-9a-f]*\.[a-z]*\.acm-validations\.aws\.$" "$TMP/hook.log" &&
	ok "the pending_validation hook got the records" || { not_ok "pending_validation hook"; cat "$TMP/hook.log" 2>&1 | sed 's/^/# /'; }

# acm-agent dns NAME: the zone-file lines, from the state
expect_agent 0 "acm-agent dns apex" dns apex
expect_grep "^_[0-9a-f]{32}\.apex\.example\.com\. 300 IN CNAME _[0-9a-f]{32}\.[a-z]{10}\.acm-validations\.aws\.$" \
	"… prints the record as a zone-file line" "$TMP/out"
same "… one line (apex and wildcard share it)" 1 "$(wc -l <"$TMP/out")"
expect_agent 0 "acm-agent dns apex --json" dns apex --json
expect_grep '"type": "CNAME"' "… as JSON" "$TMP/out"
expect_agent 2 "acm-agent dns of an unknown name" dns nosuch
expect_agent 2 "acm-agent dns without a name" dns

# --- nothing due: no AWS call at all ------------------------------------------------
seq1=$(P seq)
expect_agent 0 "a second pass with everything valid" --once
same "… makes no AWS call" "$seq1" "$(P seq)"

# --- the state is lost: the certificate is found again, not requested again ---------
serial=$(st api served.serial)
arn=$(st api served.arn)
rm -rf "$TMP/a/state"
seq2=$(P seq)
expect_agent 0 "the state directory is wiped: --once" --once
same "… no RequestCertificate" 0 "$(calls "$seq2" acm:RequestCertificate)"
same "… one ListCertificates for the three" 1 "$(calls "$seq2" acm:ListCertificates)"
same "… api serves the same certificate again" "$arn $serial" "$(st api served.arn) $(st api served.serial)"
expect_grep "api: found $arn, requested by this agent for this certificate on this host" "… and says so" "$TMP/err"
if acm_verify api; then ok "… its files verify"; else not_ok "… its files ($?)"; fi

# --- records that appear late --------------------------------------------------------
emu_ctl POST /settings '{"acm_record_delay_seconds": 5}' >/dev/null
seq3=$(P seq)
acm_cert late | agent_conf "$TMP/b"
expect_agent 0 "records that appear 5 s after the request" --once
d=$(calls "$seq3" acm:DescribeCertificate)
[ "$d" -ge 2 ] && [ "$d" -le 6 ] && ok "… DescribeCertificate polled with backoff ($d calls)" || not_ok "… DescribeCertificate calls: $d"
same "… one certificate" 1 "$(requested "$seq3")"
if acm_verify late; then ok "… issued and deployed"; else not_ok "… deployed ($?)"; fi
emu_ctl POST /settings '{"acm_record_delay_seconds": 0}' >/dev/null

# --- dns.role_arn: Route 53 with a role of its own -------------------------------------
seqr=$(P seq)
DNS_EXTRA='role_arn: "arn:aws:iam::111122223333:role/dns"' acm_cert roled | agent_conf "$TMP/role"
expect_agent 0 "dns.role_arn: issued" --once
emu_ctl GET "/calls?operation=route53:ChangeResourceRecordSets" | "$PY" -c '
import json, sys
print(" ".join(c["access_key_id"] for c in json.load(sys.stdin)["calls"] if c["seq"] > int(sys.argv[1])))' "$seqr" >"$TMP/keys"
[ -s "$TMP/keys" ] && ! grep -q "$AWS_ACCESS_KEY_ID" "$TMP/keys" && ok "… Route 53 was called with the role's credentials" ||
	not_ok "… Route 53 keys: $(cat "$TMP/keys") (agent's $AWS_ACCESS_KEY_ID)"
same "… one AssumeRole" 1 "$(calls "$seqr" sts:AssumeRole)"
emu_ctl GET "/calls?operation=acm:RequestCertificate" | grep -q "$AWS_ACCESS_KEY_ID" && ok "… ACM with the agent's own" ||
	not_ok "… ACM's key"

# --- an existing certificate (issuer.arn) --------------------------------------------
acm_call RequestCertificate '{"DomainName": "tracked.example.com", "ValidationMethod": "DNS", "KeyAlgorithm": "RSA_2048", "Options": {"Export": "ENABLED"}}' >"$TMP/r" 2>/dev/null
TRACKED=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["CertificateArn"])' "$TMP/r")
acm_call DescribeCertificate "{\"CertificateArn\": \"$TRACKED\"}" 2>/dev/null | "$PY" -c '
import json, sys
for o in json.load(sys.stdin)["Certificate"]["DomainValidationOptions"]:
    print(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])' | while read -r n v; do
	emu_ctl POST /dns "{\"name\": \"$n\", \"value\": \"$v\"}" >/dev/null
done
seq4=$(P seq)
cat <<EOY | agent_conf "$TMP/c"
  - name: tracked
    issuer: {type: acm, arn: "$TRACKED", trust_store: "$TRUST"}
    dns_names: [tracked.example.com]
EOY
expect_agent 0 "issuer.arn: an existing certificate is exported" --once
same "… nothing requested" 0 "$(calls "$seq4" acm:RequestCertificate)"
same "… served under its ARN" "$TRACKED" "$(st tracked served.arn)"
if acm_verify tracked; then ok "… its files verify"; else not_ok "… its files ($?)"; fi
sed -i 's/dns_names: \[tracked.example.com\]/dns_names: [other.example.com]/' "$CONF"
expect_agent 1 "issuer.arn with dns_names it does not carry" --once
expect_grep "issuer.arn $TRACKED does not fit the configuration: it does not carry other.example.com" "… says which name" "$TMP/out"

# --- export: false: served in ACM, nothing on this host -------------------------------
seq5=$(P seq)
acm_cert kept 'export: false' | agent_conf "$TMP/d"
sed -i "s|, trust_store: \"$TRUST\"||" "$CONF"
expect_agent 0 "export: false" --once
same "… not exported" 0 "$(calls "$seq5" acm:ExportCertificate)"
[ ! -e "$TMP/d/out/kept" ] && ok "… no files" || not_ok "… files were written"
same "… served (serial known)" "valid $(emu_cert "$(st kept served.arn)" Serial | tr -d : | tr a-f A-F | sed 's/^0*//')" \
	"$(st kept phase) $(st kept served.serial | sed 's/^0*//')"
emu_ctl GET "/calls?operation=acm:RequestCertificate" | grep -q '"Export": "DISABLED"' && ok "… requested with Export DISABLED" ||
	not_ok "… Export DISABLED"

# --- a private certificate -----------------------------------------------------------
seq6=$(P seq)
cat <<EOY | agent_conf "$TMP/e"
  - name: priv
    issuer: {type: acm, key_algorithm: EC_prime256v1, certificate_authority_arn: "$CA_SUB"}
    dns_names: [priv.internal.example, www.priv.internal.example]
EOY
expect_agent 0 "a private certificate" --once
same "… no validation, no DNS" 0 "$(calls "$seq6" route53:ChangeResourceRecordSets)"
same "… the CA's certificate fetched to verify it" 1 "$(calls "$seq6" acm-pca:GetCertificateAuthorityCertificate)"
emu_ctl GET "/calls?operation=acm:RequestCertificate" | "$PY" -c '
import json, sys
p = json.load(sys.stdin)["calls"][-1]["parameters"]
print(p.get("CertificateAuthorityArn"), p.get("ValidationMethod"), p.get("Options"))' >"$TMP/req"
same "… RequestCertificate names the CA, no validation method, no options" "$CA_SUB None None" "$(cat "$TMP/req")"
if PRIVATE=1 acm_verify priv; then ok "… its files verify against the Private CA's root"; else not_ok "… private files ($?)"; fi

# --- e-mail validation ----------------------------------------------------------------
cat <<EOY | agent_conf "$TMP/f"
  - name: mail
    issuer: {type: acm, key_algorithm: EC_prime256v1, trust_store: "$TRUST", validation: email, validation_domain: example.com}
    dns_names: [mail.example.com]
    hooks: {pending_validation: [$TMP/hook]}
EOY
: >"$TMP/hook.log"
expect_agent 3 "e-mail validation: waiting (exit 3)" --once
expect_grep "mail: waiting: approve the validation e-mails ACM sent for arn:aws:acm:[^ ]*: mail.example.com EMAIL admin@example.com,administrator@example.com,hostmaster@example.com,postmaster@example.com,webmaster@example.com" \
	"… says where the mails went" "$TMP/out"
emu_ctl GET "/calls?operation=acm:RequestCertificate" | grep -q '"DomainValidationOptions": \[{"DomainName": "mail.example.com", "ValidationDomain": "example.com"}\]' &&
	ok "… DomainValidationOptions with validation_domain" || not_ok "… DomainValidationOptions"
expect_agent 3 "… status shows it" status
expect_grep "waiting for:  approve the validation e-mails .*admin@example.com" "… with the addresses" "$TMP/out"
grep -q "^mail.example.com EMAIL admin@example.com" "$TMP/hook.log" && ok "… the pending_validation hook got the addresses" ||
	not_ok "… hook: $(cat "$TMP/hook.log")"
emu_ctl POST /approve "{\"arn\": \"$(st mail issuer.arn)\"}" >/dev/null
at_offset 1900
expect_agent 0 "… approved: the next check issues it" --once
if acm_verify mail; then ok "… deployed"; else not_ok "… deployed ($?)"; fi

finish
