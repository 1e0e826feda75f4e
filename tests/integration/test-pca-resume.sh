#!/bin/bash
# The idempotency token across a crash: within IssueCertificate's one-minute
# window the persisted token is re-sent unchanged (one certificate), after it a
# fresh token is used with a warning. (SIGKILL at every crash point, with a
# reader watching the served files: test-pca-crash.sh.)
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/pca-lib.sh"

# A token older than IssueCertificate's one-minute window is replaced (warning).
emu_ctl POST /reset >/dev/null
STATE="$TMP/state-old"; OUT="$TMP/certs-old"; CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30}'
write_conf
ACM_AGENT_TEST_KILL_AT=token-persisted agent --once >/dev/null 2>&1
tok=$(grep -o '"token": "[0-9a-f]*"' "$STATE/certs/web/state.json")
[ -n "$tok" ] && ok "the token is in the state before the request" || not_ok "no token in the state"
key=$(openssl pkey -in "$STATE/certs/web/key.pending.pem" -pubout | sha256sum)
# the operator changes the names meanwhile: the expired token goes with its
# CSR, the fresh request carries the new names (same pending key)
CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30},"dns_names":["renamed.example.com"]'
write_conf
expect_rc 0 "a run 2 minutes later finishes" -- env ACM_AGENT_CLOCK_OFFSET=120 "$AGENT" -c "$CONF" --once
expect_grep "older than a minute" "warns about the expired token"
emu_ctl GET "/calls?operation=acm-pca:IssueCertificate" >"$TMP/c.json"
grep -q "${tok#*: }" "$TMP/c.json" && not_ok "the expired token was re-sent" || ok "a fresh token was sent"
openssl x509 -in "$OUT/web/cert.pem" -noout -ext subjectAltName | grep -q "DNS:renamed.example.com" &&
	ok "the fresh request has the new names" || not_ok "issued for: $(openssl x509 -in "$OUT/web/cert.pem" -noout -ext subjectAltName 2>&1)"
[ "$(openssl pkey -in "$OUT/web/key.pem" -pubout | sha256sum)" = "$key" ] && ok "the pending key was kept" || not_ok "a second key"
[ "$(emu_ctl GET /certificates | grep -o '"arn"' | wc -l)" = 1 ] && ok "the CA issued one certificate" || not_ok "CA issued $(emu_ctl GET /certificates)"

# Same token within the minute: re-sent unchanged.
emu_ctl POST /reset >/dev/null
STATE="$TMP/state-tok"; OUT="$TMP/certs-tok"; CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30}'
write_conf
ACM_AGENT_TEST_KILL_AT=issue-answered agent --once >/dev/null 2>&1
tok=$(grep -o '"token": "[0-9a-f]*"' "$STATE/certs/web/state.json" | sed 's/.*: //')
[ -n "$tok" ] && ok "the token is in the state" || not_ok "no token in the state"
expect_rc 0 "resume after issue-answered" -- agent --once
emu_ctl GET "/calls?operation=acm-pca:IssueCertificate" >"$TMP/c.json"
[ "$(grep -o "$(echo $tok | tr -d '"')" "$TMP/c.json" | wc -l)" = 2 ] && ok "the persisted token was re-sent unchanged" || not_ok "token not re-sent"
[ "$(emu_ctl GET /certificates | grep -o '"arn"' | wc -l)" = 1 ] && ok "the CA issued one certificate" || not_ok "CA issued $(emu_ctl GET /certificates)"
finish
