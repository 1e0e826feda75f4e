#!/bin/bash
# ACM renews, the agent follows (the watch), driven by the emulator's
# control API with the clocks of both moved together:
#   PENDING_AUTO_RENEWAL is reported and looked at again soon; SUCCESS gives
#     the new certificate, deployed with exactly one reload;
#   FAILED with a reason: the failure hook and status, the served
#     certificate stays, nothing requested; on_renewal_failure: reissue
#     requests a fresh certificate and switches to it;
#   an eligible private certificate inside its window gets RenewCertificate;
#   revoke: the reasons ACM takes for a public certificate, RevokeCertificate
#     and the replacement in the same command; a private one for key compromise.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-acm-lib.sh"
command -v openssl >/dev/null || { echo "# skip: no openssl"; exit 77; }
acm_start
cat >"$TMP/reload" <<EOS
#!/bin/sh
echo "\$1" >>"$TMP/reloads"
EOS
cat >"$TMP/fhook" <<EOS
#!/bin/sh
echo "\$ACM_AGENT_EVENT \$ACM_AGENT_CERT_NAME: \$ACM_AGENT_ERROR" >>"$TMP/failures.log"
EOS
chmod +x "$TMP/reload" "$TMP/fhook"
reloads() { grep -c "^$1\$" "$TMP/reloads" 2>/dev/null || true; }
extra() { printf '    reload: [{command: [%s, %s]}]\n    hooks: {failure: [%s]}\n' "$TMP/reload" "$1" "$TMP/fhook"; }
now() { echo $(($(date +%s) + ${ACM_AGENT_CLOCK_OFFSET:-0})); }
wake_in() { # NAME: seconds from now to the certificate's next check
	"$PY" -c 'import calendar,json,sys,time
w = json.load(open(sys.argv[1]))["wake_at"]
print(calendar.timegm(time.strptime(w, "%Y-%m-%dT%H:%M:%SZ")) - int(sys.argv[2]))' "$STATE/certs/$1/state.json" "$(now)"
}
OFF=0
later() { OFF=$((OFF + $1)); at_offset $OFF; }

{
	acm_cert web '' "$(extra web)"
	cat <<EOY
  - name: priv
    issuer: {type: acm, key_algorithm: EC_prime256v1, certificate_authority_arn: "$CA_SUB"}
    dns_names: [priv.internal.example]
$(extra priv)
EOY
} | agent_conf "$TMP/a"
expect_agent 0 "a public and a private certificate issued" --once
same "… one reload each" "1 1" "$(reloads web) $(reloads priv)"
web=$(st web served.arn)
old=$(st web served.serial)

# --- PENDING_AUTO_RENEWAL, then SUCCESS ---------------------------------------------------
emu_ctl POST /settings '{"renewal_delay_seconds": 43200}' >/dev/null
emu_ctl POST /renew "{\"arn\": \"$web\", \"outcome\": \"SUCCESS\"}" >/dev/null
later $((7 * 3600))
seq0=$(P seq)
expect_agent 0 "the next check: ACM's renewal is pending" --once
same "… renewal_status in the state (for monitoring)" PENDING_AUTO_RENEWAL "$(st web issuer.renewal_status)"
expect_grep "web: ACM renewal of $web: PENDING_AUTO_RENEWAL" "… logged" "$TMP/err"
same "… nothing exported, the same serial" "0 $old" "$(calls "$seq0" acm:ExportCertificate) $(st web served.serial)"
w=$(wake_in web)
[ "$w" -gt 0 ] && [ "$w" -le 2160 ] && ok "… looked at again within 36 minutes, 30 ± 20 % ($w s)" || not_ok "… next check in $w s"
later $((6 * 3600))
expect_agent 0 "six hours later ACM's renewal succeeded" --once
new=$(st web served.serial)
[ "$new" != "$old" ] && [ "$(echo "$new" | sed 's/^0*//')" = "$(emu_cert "$web" Serial | tr -d : | tr a-f A-F | sed 's/^0*//')" ] &&
	ok "… the new serial is served" || not_ok "… serial $new (old $old)"
if acm_verify web; then ok "… files verify"; else not_ok "… files ($?)"; fi
same "… exactly one more reload" 2 "$(reloads web)"
same "… renewal_status SUCCESS" SUCCESS "$(st web issuer.renewal_status)"
same "… the same ARN" "$web" "$(st web served.arn)"
expect_agent 0 "the next pass" --once
same "… no further reload" 2 "$(reloads web)"

# --- FAILED: reported; then reissue -------------------------------------------------------
emu_ctl POST /settings '{"renewal_delay_seconds": 1}' >/dev/null
emu_ctl POST /renew "{\"arn\": \"$web\", \"outcome\": \"FAILED\", \"reason\": \"CAA_ERROR\"}" >/dev/null
later $((7 * 3600))
seq1=$(P seq)
expect_agent 1 "ACM's renewal FAILED: exit 1" --once
expect_grep "web: failed .*ACM's managed renewal of $web FAILED \(CAA_ERROR\): a CAA record forbids amazon.com .*; the current certificate stays deployed until it expires" \
	"… the reason, the hint, what happens" "$TMP/out"
grep -q "^failed web: ACM's managed renewal of .* FAILED (CAA_ERROR)" "$TMP/failures.log" && ok "… the failure hook ran" ||
	{ not_ok "… failure hook"; sed 's/^/# /' "$TMP/failures.log"; }
same "… renewal_status FAILED, reason kept" "FAILED CAA_ERROR" "$(st web issuer.renewal_status) $(st web issuer.renewal_reason)"
same "… nothing requested, the same certificate served" "0 $new" "$(calls "$seq1" acm:RequestCertificate) $(st web served.serial)"
expect_agent 1 "… status: exit 1" status
expect_grep "last error:   ACM's managed renewal of .* FAILED \(CAA_ERROR\)" "… with the reason" "$TMP/out"
sed -i "s|trust_store: \"$TRUST\"}|trust_store: \"$TRUST\", on_renewal_failure: reissue}|" "$CONF"
later 3600
expect_agent 1 "on_renewal_failure: reissue: reported again, a new certificate wanted" --once
expect_grep "a new certificate is requested \(on_renewal_failure: reissue\)" "… says so" "$TMP/out"
same "… kept in the state" true "$(st web issuer.reissue)"
later 3600
expect_agent 0 "the next attempt requests and deploys the new certificate" --once
same "… one new request" 1 "$(requested "$seq1")"
[ "$(st web served.arn)" != "$web" ] && ok "… served under the new ARN" || not_ok "… still $web"
if acm_verify web; then ok "… files verify"; else not_ok "… files ($?)"; fi
same "… one reload for it" 3 "$(reloads web)"
same "… the reissue is done" "" "$(st web issuer.reissue)"

# --- RenewCertificate: an eligible private certificate in its window -------------------------
priv=$(st priv served.arn)
pold=$(st priv served.serial)
seq2=$(P seq)
later $((336 * 86400))
expect_agent 0 "the private certificate is inside its renewal window" --once
same "… RenewCertificate once" 1 "$(calls "$seq2" acm:RenewCertificate)"
pnew=$(st priv served.serial)
[ -n "$pnew" ] && [ "$pnew" != "$pold" ] && ok "… the renewed certificate is served" || not_ok "… serial $pnew (old $pold)"
if PRIVATE=1 acm_verify priv; then ok "… files verify against the Private CA"; else not_ok "… files ($?)"; fi
same "… same ARN, one more reload" "$priv 2" "$(st priv served.arn) $(reloads priv)"

# --- revoke ----------------------------------------------------------------------------------
web=$(st web served.arn)
wserial=$(st web served.serial)
seq3=$(P seq)
expect_agent 1 "revoke a public certificate for key compromise: refused" revoke web --reason key-compromise
expect_grep "ACM revokes a public certificate only for unspecified, affiliation-changed, superseded, cessation-of-operation, not KEY_COMPROMISE" \
	"… names the reasons ACM takes" "$TMP/out"
same "… nothing sent, nothing revoked" "0 ISSUED" "$(calls "$seq3" acm:RevokeCertificate) $(emu_cert "$web" Status)"
expect_agent 0 "revoke web --reason superseded" revoke web --reason superseded
emu_ctl GET "/calls?operation=acm:RevokeCertificate" | grep -q '"RevocationReason": "SUPERSEDED"' && ok "… RevocationReason SUPERSEDED" ||
	not_ok "… RevocationReason"
same "… revoked in ACM" "REVOKED SUPERSEDED" "$(emu_cert "$web" Status) $(emu_cert "$web" RevocationReason)"
same "… replaced at once: one new certificate" 1 "$(requested "$seq3")"
[ "$(st web served.arn)" != "$web" ] && [ "$(st web revoked.serial)" = "$wserial" ] && ok "… the replacement is served" ||
	not_ok "… served $(st web served.arn), revoked $(st web revoked.serial)"
if acm_verify web; then ok "… files verify"; else not_ok "… files ($?)"; fi
priv=$(st priv served.arn)
expect_agent 0 "revoke the private certificate for key compromise" revoke priv --reason key-compromise
same "… revoked for KEY_COMPROMISE" "REVOKED KEY_COMPROMISE" "$(emu_cert "$priv" Status) $(emu_cert "$priv" RevocationReason)"
[ "$(st priv served.arn)" != "$priv" ] && ok "… replaced" || not_ok "… replaced"

finish
