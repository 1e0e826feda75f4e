#!/bin/bash
# The commands around a Private CA certificate against the emulator: --once
# twice (the second does nothing and calls no AWS), --json, --dry-run,
# status, renew, revoke, a CA that is not ACTIVE, key.reuse, a lock held by
# another process, a failing reload rolled back, hooks.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/pca-lib.sh"
# J EXPR: EXPR over the JSON document on stdout ($TMP/out also has the log lines of stderr)
J() { grep -v '^acm-agent: ' "$TMP/out" | "$PYTHON3" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30},"reload":[["/bin/sh","-c","echo reload >>'"$TMP"'/reloads"]],"hooks":{"deploy":["/bin/sh","-c","echo $ACM_AGENT_EVENT $ACM_AGENT_CERT_NAME $ACM_AGENT_SERIAL >>'"$TMP"'/hooks"]}'
cert reuse "$EC_CA" '"validity":{"type":"DAYS","value":30},"key":{"reuse":true}'
write_conf

expect_rc 0 "--dry-run before anything exists" -- agent --once --dry-run
expect_grep "web: issue: no certificate deployed" "dry run says what it would do"
[ ! -e "$STATE" ] && [ ! -e "$OUT" ] && ok "--dry-run wrote nothing" || not_ok "--dry-run wrote files"
[ "$(calls acm-pca:IssueCertificate)" = 0 ] && [ "$(calls acm-pca:DescribeCertificateAuthority)" = 0 ] && ok "--dry-run called no AWS" || not_ok "dry run made AWS calls"

expect_rc 0 "first --once issues" -- agent --once --json
[ "$(J 'd["certificates"][0]["action"]')" = issued ] && ok "--json action issued" || not_ok "json action"
[ "$(J 'd["certificates"][0]["changed"]')" = True ] && ok "--json changed true" || not_ok "json changed"
J 'd["certificates"][0]["serial"]' | grep -qE '^[0-9A-F]+$' && ok "--json serial is uppercase hex" || not_ok "json serial"
J 'd["certificates"][0]["not_after"]' | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' && ok "--json not_after RFC 3339" || not_ok "json not_after"
[ "$(J 'd["certificates"][0]["error"]')" = None ] && ok "--json error null" || not_ok "json error"
[ "$(J 'd["summary"]["issued"]')" = 2 ] && ok "--json summary" || not_ok "json summary"
[ "$(J 'd["certificates"][0]["serial"]')" = "$(serial_of web)" ] && ok "serial in --json is the deployed one" || not_ok "serial mismatch"
[ "$(wc -l <"$TMP/reloads")" = 1 ] && ok "reload command ran once" || not_ok "reloads: $(cat "$TMP/reloads" 2>/dev/null)"
expect_grep "^deployed web $(serial_of web)$" "deploy hook got event, name, serial" "$TMP/hooks"
verify_files web

expect_rc 0 "second --once" -- agent --once --json
[ "$(J '",".join(c["action"] for c in d["certificates"])')" = "none,none" ] && ok "second run: action none" || not_ok "second run actions"
[ "$(calls acm-pca:IssueCertificate)" = 2 ] && ok "no IssueCertificate on the second run" || not_ok "IssueCertificate calls: $(calls acm-pca:IssueCertificate)"
[ "$(J 'd["summary"]["aws"]["calls"]')" = "{}" ] && ok "no AWS call at all on the second run" || not_ok "aws calls: $(J 'd["summary"]["aws"]')"
[ "$(wc -l <"$TMP/reloads")" = 1 ] && ok "no reload when nothing changed" || not_ok "reloaded again"

expect_rc 0 "--dry-run when valid" -- agent --once --dry-run
expect_grep "web: nothing to do: serial [0-9A-F]+ valid until" "dry run explains"

expect_rc 0 "status" -- agent status
expect_grep "web \(pca\): valid" "status shows the state"
expect_grep "next renewal: 20" "status shows the next renewal"
expect_rc 0 "status --json" -- agent status --json
[ "$(J 'd["certificates"][0]["state"]')" = valid ] && [ "$(J 'd["certificates"][0]["serial"]')" = "$(serial_of web)" ] && ok "status --json state and serial" || not_ok "status json"
J 'd["certificates"][0]["next_renewal"]' | grep -q Z && ok "status --json next_renewal" || not_ok "status json next_renewal"

old=$(serial_of web); oldkey=$(openssl pkey -in "$OUT/reuse/key.pem" -pubout | sha256sum)
expect_rc 0 "renew without --force when not due" -- agent renew web
expect_grep "not due for renewal until" "renew says it is not due"
[ "$(serial_of web)" = "$old" ] && ok "not renewed" || not_ok "renewed although not due"
expect_rc 0 "renew --force" -- agent renew web --force
expect_grep "web: renewed serial" "renew reports renewed"
[ "$(serial_of web)" != "$old" ] && ok "renew --force gives a new serial" || not_ok "same serial"
verify_files web
expect_rc 0 "renew --force a key.reuse certificate" -- agent renew reuse --force
[ "$(openssl pkey -in "$OUT/reuse/key.pem" -pubout | sha256sum)" = "$oldkey" ] && ok "key.reuse keeps the key" || not_ok "key changed with reuse"
webkey=$(openssl pkey -in "$OUT/web/key.pem" -pubout | sha256sum)
expect_rc 0 "renew --force web again" -- agent renew web --force
[ "$(openssl pkey -in "$OUT/web/key.pem" -pubout | sha256sum)" != "$webkey" ] && ok "without key.reuse a fresh key" || not_ok "key reused without reuse"
expect_rc 2 "renew of an unknown certificate" -- agent renew nope
expect_grep "no certificate named 'nope'" "names it"

# revoke
expect_rc 2 "revoke without --reason" -- agent revoke web
expect_grep "key-compromise" "lists the reasons"
expect_rc 2 "revoke with a bad reason" -- agent revoke web --reason stolen
serial=$(serial_of web)
expect_rc 0 "revoke --reason key-compromise replaces it at once" -- agent revoke web --reason key-compromise
emu_ctl GET "/calls?operation=acm-pca:RevokeCertificate" >"$TMP/rev.json"
"$PYTHON3" -c 'import json,sys; p=json.load(open(sys.argv[1]))["calls"][0]["parameters"]; print(p["CertificateSerial"].replace(":","").upper(), p["RevocationReason"], p["CertificateAuthorityArn"])' "$TMP/rev.json" >"$TMP/rev.txt"
expect_grep "^$serial KEY_COMPROMISE $SUB_CA$" "RevokeCertificate got the serial, reason and CA" "$TMP/rev.txt"
grep -q ":" <<<"$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["calls"][0]["parameters"]["CertificateSerial"])' "$TMP/rev.json")" && ok "serial sent in colon hex" || not_ok "serial form"
emu_ctl GET /certificates | grep -qE '"revoked": ?\{"reason": ?"KEY_COMPROMISE"' && ok "emulator has it revoked (KEY_COMPROMISE)" || not_ok "not revoked"
expect_grep "web: renewed" "the replacement is reported in the same command"
[ "$(serial_of web)" != "$serial" ] && ok "new serial served right after revoke" || not_ok "the revoked certificate is still served"
verify_files web
grep -q "\"$serial\"" "$STATE/certs/web/state.json" && ok "the state records the revoked serial" || not_ok "revoked serial not recorded"
for v in "$OUT/web/.versions"/*; do
	[ "$(openssl x509 -in "$v/cert.pem" -noout -serial 2>/dev/null | sed 's/^serial=//')" = "$serial" ] && not_ok "the revoked version is still kept ($v)" && break
done && ok "the revoked version is removed (never a rollback target)"
expect_rc 0 "the next --once has nothing to do" -- agent --once
expect_grep "web: none" "nothing left to do"
# revoke killed after saving its intent (nothing sent) and after AWS
# revoked (the answer not saved): the next plain --once finishes the
# revocation (the CA says it is revoked already) and serves a replacement
for p in revoke-intent revoke-answered; do
	serial=$(serial_of web)
	n0=$(calls acm-pca:RevokeCertificate)
	ACM_AGENT_TEST_KILL_AT=$p expect_rc 137 "revoke killed at $p" -- agent revoke web --reason superseded
	sent=$(($(calls acm-pca:RevokeCertificate) - n0))
	want=1; [ $p = revoke-intent ] && want=0
	[ "$sent" = $want ] && grep -q '"revoke_request"' "$STATE/certs/web/state.json" && [ "$(serial_of web)" = "$serial" ] &&
		ok "$p: the request saved, $want RevokeCertificate sent, the old certificate still served" ||
		not_ok "$p: killed state (sent $sent, want $want; $(grep -c revoke_request "$STATE/certs/web/state.json") request)"
	expect_rc 0 "$p: the next --once finishes the revocation" -- agent --once
	expect_grep "web: renewed" "$p: and serves a replacement"
	[ "$(serial_of web)" != "$serial" ] && ok "$p: a new serial is served" || not_ok "$p: still serving the revoked $serial"
	verify_files web
	"$PYTHON3" -c 'import json,sys; c=[x for x in json.load(sys.stdin)["pca"] if x["serial"].replace(":","").upper().lstrip("0") == sys.argv[1].lstrip("0")]; print((c[0]["revoked"] or {}).get("reason") if c else "unknown")' \
		"$serial" < <(emu_ctl GET /certificates) >"$TMP/revoked.txt" 2>&1
	grep -qx SUPERSEDED "$TMP/revoked.txt" && ok "$p: the CA has $serial revoked (SUPERSEDED)" || not_ok "$p: CA revocation of $serial: $(cat "$TMP/revoked.txt")"
	grep -q '"revoke_request"' "$STATE/certs/web/state.json" && not_ok "$p: the request is left in the state" ||
		ok "$p: the request is done"
done
# a revoked key.reuse certificate: the replacement gets a new key
reusekey=$(openssl pkey -in "$OUT/reuse/key.pem" -pubout | sha256sum)
expect_rc 0 "revoke --reason key-compromise a key.reuse certificate" -- agent revoke reuse --reason key-compromise
expect_grep "key is discarded" "revoke says the key is discarded"
expect_grep "reuse: renewed" "the revoked key.reuse certificate is replaced"
[ "$(openssl pkey -in "$OUT/reuse/key.pem" -pubout | sha256sum)" != "$reusekey" ] && ok "key.reuse after key-compromise: a new key" || not_ok "the compromised key was reused"
[ "$(openssl pkey -in "$STATE/certs/reuse/key.pem" -pubout | sha256sum)" != "$reusekey" ] && ok "the revoked key is gone from the state dir" || not_ok "the revoked key is still kept"
verify_files reuse
# --no-replace: revoked and left so until renew
serial=$(serial_of reuse)
expect_rc 1 "revoke --no-replace" -- agent revoke reuse --reason superseded --no-replace
expect_grep "reuse: revoked" "reported as revoked"
expect_rc 1 "status says revoked (exit 1)" -- agent status
expect_grep "reuse \(pca\): revoked" "status shows it revoked"
expect_grep "^  revoked: +serial $serial \(SUPERSEDED, 20[0-9-]+T[0-9:]+Z\)$" "with the reason and the time"
expect_rc 1 "--once leaves it revoked" -- agent --once
[ "$(serial_of reuse)" = "$serial" ] && ok "not replaced by --once" || not_ok "replaced although --no-replace"
expect_rc 0 "renew replaces it" -- agent renew reuse
[ "$(serial_of reuse)" != "$serial" ] && ok "replaced by renew" || not_ok "not replaced by renew"

# CA not ACTIVE: clear error, old files stay, exit 1
serial=$(serial_of web)
emu_ctl POST /ca "{\"arn\":\"$SUB_CA\",\"status\":\"DISABLED\"}" >/dev/null
expect_rc 1 "renew with the CA disabled fails" -- agent renew web --force
expect_grep "is DISABLED, not ACTIVE" "error names the CA status"
[ "$(serial_of web)" = "$serial" ] && ok "old files stay" || not_ok "files changed"
verify_files web
expect_rc 1 "status after the failure" -- agent status
expect_grep "last error: +CA .* is DISABLED.*\(ca error, 1 consecutive failure\)" "status shows the last error and its kind"
expect_grep "^  last attempt: 20" "and when it was tried"
emu_ctl POST /ca "{\"arn\":\"$SUB_CA\",\"status\":\"ACTIVE\"}" >/dev/null
n0=$(calls acm-pca:IssueCertificate)
expect_rc 1 "the next --once honours the backoff" -- agent --once
expect_grep "web: failed.*next attempt at" "it says when the next attempt is"
[ "$(calls acm-pca:IssueCertificate)" = "$n0" ] && ok "no AWS call before the next attempt" || not_ok "IssueCertificate during the backoff"
expect_rc 0 "renew (no --force) retries the forced renewal at once" -- agent renew web
expect_grep "web: renewed" "renewed without --force: the forced renewal stayed wanted"
expect_rc 0 "status clean again" -- agent status

# a file size limit (as good as a full disk for the agent): clear error, old files stay
serial=$(serial_of web)
expect_rc 1 "renew under a zero file size limit fails" -- bash -c 'set -o pipefail; (ulimit -f 0; exec "$0" "$@") 2>&1 | cat' "$AGENT" -c "$CONF" renew web --force
expect_grep "File too large" "the error says why"
[ "$(serial_of web)" = "$serial" ] && ok "old files stay after the write failure" || not_ok "files changed"
verify_files web
expect_rc 0 "renew works again without the limit" -- agent renew web --force

# a lock held by another process: exit 3, action locked
"$PYTHON3" -c 'import fcntl,sys,time; f=open(sys.argv[1],"a"); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2],"w").close(); time.sleep(30)' "$STATE/certs/web/lock" "$TMP/locked" &
lockpid=$!
for i in $(seq 100); do [ -e "$TMP/locked" ] && break; sleep 0.05; done
expect_rc 3 "renew while locked exits 3" -- agent renew web --force --json
[ "$(J 'd["certificates"][0]["action"]')" = locked ] && ok "action locked" || not_ok "action $(J 'd["certificates"][0]["action"]')"
kill $lockpid; wait $lockpid 2>/dev/null

# a reload that fails: rolled back, state describes what is served
serial=$(serial_of web)
CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30},"reload":[["/bin/false"]],"hooks":{"failure":["/bin/sh","-c","echo $ACM_AGENT_EVENT $ACM_AGENT_CERT_NAME >>'"$TMP"'/hooks"]}'
write_conf
expect_rc 1 "a failing reload fails the renewal" -- agent renew web --force
expect_grep "rolled back" "says it rolled back"
[ "$(serial_of web)" = "$serial" ] && ok "the previous certificate is served again" || not_ok "not rolled back"
expect_rc 1 "status --json" -- agent status --json
[ "$(J 'd["certificates"][0]["serial"]')" = "$serial" ] && ok "state describes the served serial" || not_ok "state serial $(J 'd["certificates"][0]["serial"]')"
expect_grep "^failed web$" "failure hook ran" "$TMP/hooks"
# killed right after the rollback, before the reload pass ends: the state on
# disk already describes the certificate served again
expect_rc 137 "killed right after the rollback" -- env ACM_AGENT_TEST_KILL_AT=rolled-back "$AGENT" -c "$CONF" renew web --force
[ "$(serial_of web)" = "$serial" ] && ok "rolled back before the kill" || not_ok "not rolled back"
grep -q '"phase": "reload"' "$STATE/certs/web/state.json" && not_ok "a reload is still pending in the state" || ok "no reload pending in the state"
agent status --json >"$TMP/out" 2>/dev/null
[ "$(J 'd["certificates"][0]["serial"]')" = "$serial" ] && ok "after the kill the state describes the served serial" || not_ok "state serial $(J 'd["certificates"][0]["serial"]')"
finish
