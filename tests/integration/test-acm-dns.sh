#!/bin/bash
# ACM validation through a real BIND (the emulator's validator asks it,
# setting dns_server), with the DNS check asking it too:
#   exec      hooks/dns/nsupdate publishes the CNAME (RFC 2136, TSIG);
#   manual    nothing is published: exit 3, the zone-file line in the wait
#             reason, `status` and `acm-agent dns NAME`, the
#             pending_validation hook; the test publishes → the next run issues;
#   wrong     a CNAME with another value is reported with the difference;
#   repair    a CNAME deleted a month after issuance is noticed by the
#             periodic DNS re-check and published again;
#   renewal   RenewalSummary PENDING_VALIDATION with the CNAME deleted: the
#             watch re-publishes it, runs the hook, ACM's renewal succeeds
#             and the new certificate is deployed with one reload.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-acm-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-dns-lib.sh"
command -v openssl >/dev/null || { echo "# skip: no openssl"; exit 77; }
command -v nsupdate >/dev/null || { echo "# skip: nsupdate is not installed (bind9-dnsutils)"; exit 77; }
named_start example.org acm-agent-test </dev/null
acm_start
NS=127.0.0.1:$NAMED_PORT
emu_ctl POST /settings "{\"dns_server\": \"$NS\"}" >/dev/null
HOOK=$ABS_TOP_SRCDIR/hooks/dns/nsupdate
KEY=$TMP/named/acm-agent-test.key
nsup() { "$HOOK" --server 127.0.0.1 --port "$NAMED_PORT" --zone example.org --key "$KEY" --timeout 5 "$@" >/dev/null 2>&1; }
answers() { "$DNS_DRIVER" check --timeout-ms 1000 --nameserver "$NS" "$1=$2" >/dev/null 2>&1; }
# record NAME: the validation record of certificate NAME as "NAME VALUE"
record() { st "$1" issuer.records | "$PY" -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["name"], r["value"])'; }

cat >"$TMP/hook" <<EOS
#!/bin/sh
{ echo "event=\$ACM_AGENT_EVENT cert=\$ACM_AGENT_CERT_NAME"; echo "\$ACM_AGENT_VALIDATION"; } >>"$TMP/hook.log"
EOS
cat >"$TMP/reload" <<EOS
#!/bin/sh
echo "\$1" >>"$TMP/reloads"
EOS
chmod +x "$TMP/hook" "$TMP/reload"
CMD="command: [\"$HOOK\", --server, 127.0.0.1, --port, \"$NAMED_PORT\", --zone, example.org, --key, \"$KEY\", --timeout, \"5\"]"
{
	NAMES='ex.example.org, "*.ex.example.org"' DNS_PROVIDER=exec DNS_NS=$NS DNS_EXTRA=$CMD acm_cert ex '' \
		"    hooks: {pending_validation: [$TMP/hook]}
    reload: [{command: [$TMP/reload, ex]}]"
	NAMES=man.example.org DNS_PROVIDER=manual DNS_NS=$NS acm_cert man '' "    hooks: {pending_validation: [$TMP/hook]}"
	NAMES=bad.example.org DNS_PROVIDER=manual DNS_NS=$NS acm_cert bad
} | agent_conf "$TMP/a"

# --- exec and manual in one pass --------------------------------------------------
seq0=$(P seq)
expect_agent 3 "exec issues, manual waits: exit 3" --once
same "… ex issued, man and bad waiting" "valid waiting waiting" "$(st ex phase) $(st man phase) $(st bad phase)"
same "… three requests" 3 "$(requested "$seq0")"
if acm_verify ex; then ok "ex: deployed, verifies"; else not_ok "ex: deployed ($?)"; fi
read -r exn exv <<<"$(record ex)"
answers "$exn" "$exv" && ok "ex: nsupdate put the CNAME into BIND" || not_ok "ex: CNAME $exn not in BIND"
same "ex: one reload" 1 "$(grep -c '^ex$' "$TMP/reloads" 2>/dev/null)"
read -r mann manv <<<"$(record man)"
expect_grep "man: waiting: publish the validation records of arn:aws:acm:[^ ]* in DNS \(acm-agent dns man prints them\): $mann 300 IN CNAME $manv; DNS check: $mann CNAME $manv is missing at $NS \(NXDOMAIN\)" \
	"man: the record to publish and what DNS says, in one line" "$TMP/out"
grep -q "^event=pending_validation cert=man$" "$TMP/hook.log" && grep -q "^$mann CNAME $manv$" "$TMP/hook.log" &&
	ok "man: the pending_validation hook got the record" || { not_ok "man: hook"; sed 's/^/# /' "$TMP/hook.log"; }
expect_agent 0 "acm-agent dns man" dns man
same "… the zone-file line" "$mann 300 IN CNAME $manv" "$(cat "$TMP/out")"
expect_agent 3 "status: waiting (exit 3)" status
expect_grep "waiting for:  publish the validation records of .*$mann 300 IN CNAME $manv" "… shows the record" "$TMP/out"

# --- wrong: a CNAME with another value --------------------------------------------------
read -r badn badv <<<"$(record bad)"
nsup create "$badn" CNAME _somebody-else.example.net 300
nsup create "$mann" CNAME "$manv" 300    # the operator publishes man's
at_offset 601
seq1=$(P seq)
expect_agent 3 "after the operator published man's record: man issued, bad still waits" --once
same "… man valid" valid "$(st man phase)"
same "… no new request" 0 "$(calls "$seq1" acm:RequestCertificate)"
if acm_verify man; then ok "man: deployed, verifies"; else not_ok "man: deployed ($?)"; fi
expect_grep "bad: waiting: .*DNS check: $badn CNAME is _somebody-else\.example\.net\. at $NS, not $badv" \
	"bad: the wrong value is reported with the difference" "$TMP/out"
nsup create "$badn" CNAME "$badv" 300
at_offset 1202
expect_agent 0 "the right value published: bad issued" --once

# --- repair: the CNAME deleted a month later ------------------------------------------------
nsup delete "$exn" CNAME "$exv" 300
answers "$exn" "$exv" && not_ok "the test deleted ex's CNAME" || ok "the test deleted ex's CNAME"
seq2=$(P seq)
at_offset $((30 * DAY))
expect_agent 0 "a month later: --once" --once
answers "$exn" "$exv" && ok "… the DNS re-check published it again" || not_ok "… ex's CNAME is still missing"
expect_grep "ex: the validation records ACM needs to renew are not in DNS \($exn CNAME $exv is missing at $NS \(NXDOMAIN\)\): publishing 1 record again" \
	"… and said why" "$TMP/err"
same "… nothing requested, nothing deployed" "0 0" "$(calls "$seq2" acm:RequestCertificate) $(calls "$seq2" acm:ExportCertificate)"
[ -n "$(st ex issuer.dns_checked_at)" ] && ok "… the check time is kept" || not_ok "… dns_checked_at"
seq3=$(P seq)
expect_agent 0 "the next pass" --once
same "… asks neither AWS nor the command" "$seq3" "$(P seq)"

# --- renewal: PENDING_VALIDATION with the CNAME deleted --------------------------------------
nsup delete "$exn" CNAME "$exv" 300
old=$(st ex served.serial)
arn=$(st ex served.arn)
: >"$TMP/hook.log"
same "ACM's renewal starts (AUTO: the CNAME is gone)" PENDING_AUTO_RENEWAL \
	"$(emu_ctl POST /renew "{\"arn\": \"$arn\", \"outcome\": \"AUTO\"}" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["RenewalStatus"])')"
at_offset $((30 * DAY + 7 * 3600))
expect_agent 0 "the watch sees PENDING_VALIDATION" --once
same "… renewal_status in the state" PENDING_VALIDATION "$(st ex issuer.renewal_status)"
answers "$exn" "$exv" && ok "… the CNAME is published again" || not_ok "… the CNAME is still missing"
grep -q "^$exn CNAME $exv$" "$TMP/hook.log" && ok "… the pending_validation hook ran" || { not_ok "… hook"; sed 's/^/# /' "$TMP/hook.log"; }
same "… still the old certificate" "$old" "$(st ex served.serial)"
at_offset $((30 * DAY + 7 * 3600 + 2400))
expect_agent 0 "forty minutes later (pending: described every 30 min ± 20 %): ACM renewed it" --once
new=$(st ex served.serial)
[ -n "$new" ] && [ "$new" != "$old" ] && ok "… a new serial is served" || not_ok "… serial $new (old $old)"
same "… the emulator's serial" "$(emu_cert "$arn" Serial | tr -d : | tr a-f A-F | sed 's/^0*//')" "$(echo "$new" | sed 's/^0*//')"
if acm_verify ex; then ok "… deployed, verifies"; else not_ok "… deployed ($?)"; fi
same "… reloaded once more" 2 "$(grep -c '^ex$' "$TMP/reloads")"
same "… renewal_status SUCCESS" SUCCESS "$(st ex issuer.renewal_status)"

finish
