#!/bin/bash
# A configured signing algorithm that does not fit the CA's key family is a
# clear error naming both, and the old files stay. (Transport and AWS faults,
# throttling and recovery: test-pca-faults.sh.)
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/pca-lib.sh"

cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30}'
write_conf
expect_rc 0 "initial issuance" -- agent --once
serial=$(serial_of web)
keep() { [ "$(serial_of web)" = "$serial" ] && ok "$1: old files stay" || not_ok "$1: files changed"; }

# a configured signing algorithm of the wrong family
CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30},"signing_algorithm":"SHA256WITHRSA"'
write_conf
expect_rc 1 "SHA256WITHRSA on an EC CA" -- agent renew web --force
expect_grep "signing_algorithm SHA256WITHRSA does not fit CA .*EC_prime256v1" "names the mismatch"
keep "algorithm mismatch"

# An ARN that can never be fetched (ResourceNotFoundException: the emulator
# forgot it) fails the run once with a clear message; the following run
# requests a new certificate instead of polling that ARN forever.
STATE="$TMP/state-lost"; OUT="$TMP/certs-lost"; CERTS=""
cert lost "$SUB_CA" '"validity":{"type":"DAYS","value":30}'
write_conf
ACM_AGENT_TEST_KILL_AT=arn-persisted agent --once >/dev/null 2>&1
[ -n "$(P state "$STATE/certs/lost/state.json" pending_arn)" ] && ok "ARN persisted before the kill" || not_ok "no pending ARN in the state"
emu_ctl POST /reset >/dev/null
expect_rc 1 "an unknown ARN fails the run" -- agent --once
expect_grep "cannot be fetched .*ResourceNotFoundException.*a new certificate will be requested at the next attempt" "says a new certificate will be requested at the next attempt"
[ -n "$(P state "$STATE/certs/lost/state.json" pending_arn)" ] && not_ok "the unfetchable ARN is still pending" || ok "the unfetchable ARN is forgotten"
expect_rc 1 "the following run honours the backoff" -- agent --once
[ "$(calls acm-pca:IssueCertificate)" = 0 ] && ok "no IssueCertificate before the next attempt" || not_ok "IssueCertificate calls: $(calls acm-pca:IssueCertificate)"
expect_rc 0 "renew issues a fresh certificate at once" -- agent renew lost
[ "$(calls acm-pca:IssueCertificate)" = 1 ] && ok "one new IssueCertificate" || not_ok "IssueCertificate calls: $(calls acm-pca:IssueCertificate)"
verify_files lost

# The state save right after a deploy fails (test hook: EIO): the new files
# are in place, the state on disk still holds the verified certificate to
# deploy, and the next run deploys it again and runs the reload (without a
# new IssueCertificate) instead of taking the new serial as served.
STATE="$TMP/state-save"; OUT="$TMP/certs-save"; CERTS=""
cert rl "$SUB_CA" '"validity":{"type":"DAYS","value":30},"reload":[["/bin/sh","-c","echo reload >>'"$TMP"'/rl-reloads"]]'
write_conf
emu_ctl POST /reset >/dev/null
expect_rc 1 "the state save after the deploy fails" -- env ACM_AGENT_TEST_FAIL_AT=deploy-save:rl "$AGENT" -c "$CONF" --once
expect_grep "cannot save the state after deploying .*the reload is retried at the next attempt" "the error says the reload is retried"
[ ! -e "$TMP/rl-reloads" ] && ok "no reload in the failed run" || not_ok "reloaded in the failed run"
[ "$(P state "$STATE/certs/rl/state.json" phase)" = reload ] && ok "the state stays in flight (reload pending)" || not_ok "state: $(cat "$STATE/certs/rl/state.json")"
expect_rc 0 "the next attempt finishes" -- agent renew rl
expect_grep "resuming: the reload" "it resumes the reload"
[ "$(wc -l <"$TMP/rl-reloads" 2>/dev/null)" = 1 ] && ok "the reload ran once" || not_ok "reloads: $(cat "$TMP/rl-reloads" 2>/dev/null)"
[ "$(calls acm-pca:IssueCertificate)" = 1 ] && ok "no second IssueCertificate" || not_ok "IssueCertificate calls: $(calls acm-pca:IssueCertificate)"
[ "$(P state "$STATE/certs/rl/state.json" phase)" = valid ] && ok "valid afterwards" || not_ok "state phase: $(P state "$STATE/certs/rl/state.json" phase)"

# The final save (valid after the reload) fails: that is a failure (exit 1,
# kind io, naming the state file), not a success the disk does not know of.
expect_rc 1 "the final state save fails" -- env ACM_AGENT_TEST_FAIL_AT=final-save:rl "$AGENT" -c "$CONF" renew rl --force
expect_grep "deployed and reloaded, but the state file $STATE/certs/rl/state.json cannot be saved" "the error names the state file"
[ "$(P state "$STATE/certs/rl/state.json" last_error_kind)" = io ] && ok "kind io" || not_ok "kind: $(P state "$STATE/certs/rl/state.json" last_error_kind)"

# renew_before 30d with 1-day certificates: not "due on every run" (a new
# billed certificate each time) but renew_fraction, with a warning.
STATE="$TMP/state-short"; OUT="$TMP/certs-short"; CERTS=""
cert short "$SUB_CA" '"validity":{"type":"DAYS","value":1},"renew_before":2592000'
write_conf
emu_ctl POST /reset >/dev/null
expect_rc 0 "a 1-day certificate with renew_before 30d is issued" -- agent --once
expect_rc 0 "the next run" -- agent --once
expect_grep "renew_before 30d is not shorter than the certificate's lifetime 1d.*renew_fraction 0.33" "warns naming both values"
[ "$(calls acm-pca:IssueCertificate)" = 1 ] && ok "no second certificate" || not_ok "IssueCertificate calls: $(calls acm-pca:IssueCertificate)"
[ "$(grep -c "is not shorter than" "$TMP/out")" = 1 ] && ok "warned once" || not_ok "warnings: $(grep -c "is not shorter than" "$TMP/out")"

# a state_dir that cannot be created: the error names it (once read as
# "no certificate named '(null)'")
STATE="$TMP/missing-parent/state"; CERTS=""
cert web2 "$SUB_CA" '"validity":{"type":"DAYS","value":1}'
write_conf
expect_rc 1 "a state_dir whose parent is missing" -- agent --once
expect_grep "cannot start: $TMP/missing-parent/state: cannot create the state directory: No such file or directory" "names the directory and why"
grep -q "no certificate named" "$TMP/out" && not_ok "said 'no certificate named'" || ok "does not blame a certificate name"

finish
