#!/bin/bash
# Crash safety: the agent is SIGKILLed at every crash point of the flow
# (ACM_AGENT_TEST_KILL_AT), then run again: the certificate is deployed, the
# reload runs, and IssueCertificate was called exactly once for the renewal.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/pca-lib.sh"

pubkey() { openssl pkey -in "$1" -pubout 2>/dev/null | sha256sum; }
for point in key-generated token-persisted issue-answered arn-persisted polling deploy-written deploy-switched reload-pending; do
	emu_ctl POST /reset >/dev/null
	STATE="$TMP/state-$point"; OUT="$TMP/certs-$point"; CERTS=""
	: >"$TMP/reloads"
	cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30},"reload":[["/bin/sh","-c","echo reload >>'"$TMP"'/reloads"]]'
	cert other "$EC_CA" '"validity":{"type":"DAYS","value":30}'
	write_conf
	[ $point = polling ] && emu_ctl POST /settings '{"pca_in_progress_seconds": 1}' >/dev/null
	ACM_AGENT_TEST_KILL_AT="$point:web" agent --once >"$TMP/out" 2>&1; rc=$?
	[ $rc = 137 ] && ok "$point: killed there" || { not_ok "$point: exit $rc, not killed"; sed 's/^/# /' "$TMP/out"; }
	pending=$(pubkey "$STATE/keys/web.pending.pem")
	issued_before=$(calls acm-pca:IssueCertificate)
	expect_rc 0 "$point: the next run finishes" -- agent --once
	expect_grep "web: (issued|renewed)" "$point: web deployed after the restart"
	verify_files web
	emu_ctl GET "/calls?operation=acm-pca:IssueCertificate" | "$PYTHON3" -c '
import json, sys
calls = [c for c in json.load(sys.stdin)["calls"] if "33333333" in c["parameters"]["CertificateAuthorityArn"] and c["status"] == 200]
print(len(calls), len(set(c["result_CertificateArn"] for c in calls)), len(set(c["parameters"]["IdempotencyToken"] for c in calls)))' >"$TMP/n"
	read -r n arns toks <"$TMP/n"
	[ "$arns" = 1 ] && [ "$toks" = 1 ] && ok "$point: one certificate issued for web ($n call(s), one token)" || not_ok "$point: $n IssueCertificate calls, $arns ARNs, $toks tokens"
	# the request is re-sent only when the crash came after it was sent and before its ARN was saved
	if [ $point = issue-answered ]; then want=2; else want=1; fi
	[ "$n" = $want ] && ok "$point: $want IssueCertificate call(s) in the log" || not_ok "$point: $n IssueCertificate calls, want $want"
	case $point in
	key-generated|token-persisted|issue-answered|arn-persisted|polling)
		[ "$pending" = "$(pubkey "$OUT/web/key.pem")" ] && ok "$point: the key generated before the crash is the one deployed" || not_ok "$point: another key was deployed";;
	esac
	[ ! -e "$STATE/keys/web.pending.pem" ] && ok "$point: no pending key left" || not_ok "$point: pending key left"
	[ "$(wc -l <"$TMP/reloads")" -ge 1 ] && ok "$point: the reload ran" || not_ok "$point: no reload"
	grep -q '"phase": "valid"' "$STATE/certs/web.json" && ok "$point: state valid" || not_ok "$point: state $(grep phase "$STATE/certs/web.json")"
	expect_rc 0 "$point: a third run does nothing" -- agent --once
	expect_grep "web: none" "$point: none"
	emu_ctl POST /settings '{"pca_in_progress_seconds": 0}' >/dev/null
done

# A token older than IssueCertificate's one-minute window is replaced (warning).
emu_ctl POST /reset >/dev/null
STATE="$TMP/state-old"; OUT="$TMP/certs-old"; CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30}'
write_conf
ACM_AGENT_TEST_KILL_AT=token-persisted agent --once >/dev/null 2>&1
tok=$(grep -o '"idempotency_token": "[0-9a-f]*"' "$STATE/certs/web.json")
expect_rc 0 "a run 2 minutes later finishes" -- env ACM_AGENT_CLOCK_OFFSET=120 "$AGENT" -c "$CONF" --once
expect_grep "older than a minute" "warns about the expired token"
emu_ctl GET "/calls?operation=acm-pca:IssueCertificate" >"$TMP/c.json"
grep -q "${tok#*: }" "$TMP/c.json" && not_ok "the expired token was re-sent" || ok "a fresh token was sent"

# Same token within the minute: re-sent unchanged.
emu_ctl POST /reset >/dev/null
STATE="$TMP/state-tok"; OUT="$TMP/certs-tok"; CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30}'
write_conf
ACM_AGENT_TEST_KILL_AT=issue-answered agent --once >/dev/null 2>&1
tok=$(grep -o '"idempotency_token": "[0-9a-f]*"' "$STATE/certs/web.json" | sed 's/.*: //')
expect_rc 0 "resume after issue-answered" -- agent --once
emu_ctl GET "/calls?operation=acm-pca:IssueCertificate" >"$TMP/c.json"
[ "$(grep -o "$(echo $tok | tr -d '"')" "$TMP/c.json" | wc -l)" = 2 ] && ok "the persisted token was re-sent unchanged" || not_ok "token not re-sent"
[ "$(emu_ctl GET /certificates | grep -o '"arn"' | wc -l)" = 1 ] && ok "the CA issued one certificate" || not_ok "CA issued $(emu_ctl GET /certificates)"
finish
