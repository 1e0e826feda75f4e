#!/bin/bash
# Faults on the Private CA path, with the real agent against the emulator.
# Transient faults (throttling at a low quota, one 500, two 503, a reset) are
# absorbed by the client's retries: the run still succeeds, with exactly one
# certificate per renewal. Persistent faults (500, 503, reset, RequestInProgress
# past the poll deadline, CA DISABLED, a wrong secret, a full disk) each give:
# exit 1, an error line naming the cause, the old files untouched (same serial,
# still consistent), the state counting the failure with a next attempt in the
# future and the error in `status --json`; once the fault is gone, the next run
# succeeds (and after RequestInProgress it resumes the same ARN: no second
# IssueCertificate).
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

emu_start --tls || exit 1
on_exit emu_stop
fetch_root || { not_ok "fetch the emulator's root CA certificate"; finish; }
in_progress() { emu_ctl POST /settings "{\"pca_in_progress_seconds\": $1}" >/dev/null; }
fault() { emu_ctl POST /fault "$1" >/dev/null; }
clear_faults() { emu_ctl POST /fault '{"operation": "*", "kind": "clear"}' >/dev/null; }

# 1. Throttling: 6 certificates at once against 2 IssueCertificate/s.
MAX_ATTEMPTS=6
{ for i in 1 2 3 4 5 6; do pca_cert "t$i"; done; } | agent_conf "$TMP/throttle"
emu_ctl POST /quota '{"operation": "acm-pca:IssueCertificate", "per_second": 2, "burst": 2}' >/dev/null
seq=$(P seq)
expect_agent 0 "throttled: 6 certificates at 2/s all issued (exit 0)" --once
th=$(P calls "$seq" acm-pca:IssueCertificate ThrottlingException)
[ "$th" -ge 1 ] && ok "throttled: the emulator answered ThrottlingException $th time(s)" || not_ok "throttled: no ThrottlingException happened"
[ "$(P issued "$seq")" = 6 ] && ok "throttled: exactly 6 certificates issued" || not_ok "throttled: $(P issued "$seq") certificates issued"
good=0; for i in 1 2 3 4 5 6; do verify_deployed "$TMP/throttle/out/t$i" && good=$((good + 1)); done
[ $good = 6 ] && ok "throttled: all 6 deployed and consistent" || not_ok "throttled: $good of 6 deployed"
emu_ctl POST /quota '{"operation": "acm-pca:IssueCertificate", "per_second": 25, "burst": 50}' >/dev/null

# The certificate the other cases renew.
MAX_ATTEMPTS=3
pca_cert web | agent_conf "$TMP/main"
expect_agent 0 "initial issuance (exit 0)" --once
O=$TMP/main/out/web SF=$TMP/main/state/certs/web/state.json

# 2. Transient faults: absorbed by retries.
transient() { # LABEL FAULT_JSON [FAULT_JSON...]
	l=$1; shift
	old=$(serial_of "$O/cert.pem"); seq=$(P seq)
	for f in "$@"; do fault "$f"; done
	agent renew web --force
	[ "$rc" = 0 ] && ok "$l: renewal succeeds despite the fault (exit 0)" || { not_ok "$l: renewal succeeds (exit $rc)"; show_err; }
	new=$(serial_of "$O/cert.pem")
	[ "$new" != "$old" ] && verify_deployed "$O" && ok "$l: new certificate deployed ($new)" || not_ok "$l: new certificate deployed (old $old, now $new)"
	[ "$(P issued "$seq")" = 1 ] && [ "$(P tokens "$seq")" = 1 ] && ok "$l: exactly one certificate issued" ||
		not_ok "$l: exactly one certificate issued ($(P issued "$seq") certificates, $(P tokens "$seq") tokens)"
	clear_faults
}
transient "one 500" '{"operation": "acm-pca:IssueCertificate", "kind": "500", "count": 1}'
transient "two 503" '{"operation": "acm-pca:IssueCertificate", "kind": "503", "count": 2}'
transient "one reset" '{"operation": "acm-pca:IssueCertificate", "kind": "reset", "count": 1}'
transient "reset on GetCertificate" '{"operation": "acm-pca:GetCertificate", "kind": "reset", "count": 1}'

# 3. Persistent faults: failure with the old files kept, then recovery.
# The certificate becomes due the way it does in production: time passes.
# Both clocks (agent: ACM_AGENT_CLOCK_OFFSET, emulator: /clock) move 25 days
# (validity 30d, renewal at two thirds), then 7 hours more (past any
# backoff, retry_max is 6h) for the retry.
OFF=0
# fails LABEL ERROR_REGEX [ENV...]: the renewal of the now due certificate fails.
fails() {
	l=$1 re=$2; shift 2
	OFF=$((OFF + 25 * DAY)); at_offset $OFF
	old=$(serial_of "$O/cert.pem"); oldfail=$(P state "$SF" failures)
	FAIL_SEQ=$(P seq)
	env "$@" "$ACM_AGENT" -c "$CONF" --once >"$TMP/out" 2>"$TMP/err"; rc=$?
	[ "$rc" = 1 ] && ok "$l: fails with exit 1" || { not_ok "$l: fails with exit 1 (exit $rc)"; show_err; }
	grep -E 'error' "$TMP/err" | grep -E "${CERT:-web}" | grep -qE -- "$re" && ok "$l: the error line names the cause" ||
		{ not_ok "$l: an error line naming /$re/"; show_err; }
	[ "$(serial_of "$O/cert.pem")" = "$old" ] && verify_deployed "$O" && ok "$l: old files kept and consistent (serial $old)" ||
		not_ok "$l: old files kept (now '$(serial_of "$O/cert.pem")', was $old)"
	eval "$(P facts "$FAIL_SEQ" "$SF")"
	# next_attempt is on the agent's clock: compare with the offset applied.
	na=$(date -d "$ST_NEXT_ATTEMPT" +%s 2>/dev/null || echo 0)
	[ "${ST_FAILURES:-0}" -gt "${oldfail:-0}" ] && [ "$na" -gt $(($(date +%s) + OFF)) ] &&
		ok "$l: state counts the failure ($ST_FAILURES) with a next attempt in the future ($ST_NEXT_ATTEMPT)" ||
		not_ok "$l: state failures '$ST_FAILURES' (was '$oldfail'), next_attempt '$ST_NEXT_ATTEMPT'"
	echo "$ST_LAST_ERROR" | grep -qE -- "$re" && ok "$l: state keeps the error" || not_ok "$l: state last_error '$ST_LAST_ERROR'"
	agent status --json
	P status-json "$TMP/out" "${CERT:-web}" last_error error | grep -qE -- "$re" && ok "$l: status --json shows the error" ||
		{ not_ok "$l: status --json shows the error"; show_err; }
}
# recovers LABEL: after the fault is gone, the next run renews.
recovers() {
	l=$1 old=$(serial_of "$O/cert.pem")
	OFF=$((OFF + 7 * 3600)); at_offset $OFF
	agent --once
	[ "$rc" = 0 ] && ok "$l: next run succeeds (exit 0)" || { not_ok "$l: next run succeeds (exit $rc)"; show_err; }
	new=$(serial_of "$O/cert.pem")
	[ "$new" != "$old" ] && verify_deployed "$O" && ok "$l: the retried renewal is deployed ($new)" || not_ok "$l: retried renewal deployed (old $old, now $new)"
	eval "$(P facts "$FAIL_SEQ" "$SF")"
	[ "${ST_FAILURES:-0}" = 0 ] && [ "$ST_PHASE" = valid ] && ok "$l: state valid, failures reset" ||
		not_ok "$l: state $ST_PHASE, failures $ST_FAILURES"
	[ "$ISSUED" = 1 ] && [ "$ARN_SERIAL" = "$new" ] && ok "$l: one certificate issued for the failed + retried renewal" ||
		not_ok "$l: $ISSUED certificates issued for the failed + retried renewal"
}

fault '{"operation": "acm-pca:IssueCertificate", "kind": "500", "count": -1}'
fails "persistent 500" 'InternalFailure'
clear_faults; recovers "persistent 500"

fault '{"operation": "acm-pca:IssueCertificate", "kind": "503", "count": -1}'
fails "persistent 503" 'ServiceUnavailable'
clear_faults; recovers "persistent 503"

fault '{"operation": "acm-pca:IssueCertificate", "kind": "reset", "count": -1}'
fails "persistent reset" '[Rr]eset|[Cc]onnection|[Rr]ecv|receiv'
clear_faults; recovers "persistent reset"

# RequestInProgress for longer than the poll deadline (shortened for the
# test by ACM_AGENT_PCA_POLL_DEADLINE): the run reports the certificate as
# waiting (exit 3, the reason named), keeps the ARN, and the next run after
# the wait fetches the same ARN.
in_progress 3600
OFF=$((OFF + 25 * DAY)); at_offset $OFF
FAIL_SEQ=$(P seq)
old=$(serial_of "$O/cert.pem")
env ACM_AGENT_PCA_POLL_DEADLINE=2 "$ACM_AGENT" -c "$CONF" --once >"$TMP/out" 2>"$TMP/err"; rc=$?
[ "$rc" = 3 ] && ok "RequestInProgress past the deadline: waiting (exit 3)" || { not_ok "RequestInProgress: exit $rc, want 3"; show_err; }
grep -q "web: waiting.*still being issued.*RequestInProgressException" "$TMP/out" && ok "RequestInProgress: the reason is reported" ||
	{ not_ok "RequestInProgress: reason"; show_err; }
[ "$(serial_of "$O/cert.pem")" = "$old" ] && verify_deployed "$O" && ok "RequestInProgress: old files kept" || not_ok "RequestInProgress: files changed"
arn=$(P state "$SF" pending_arn)
[ -n "$arn" ] && [ "$(P state "$SF" phase)" = waiting ] && [ "$(P issued "$FAIL_SEQ")" = 1 ] &&
	ok "RequestInProgress: the ARN is kept for the next run" ||
	not_ok "RequestInProgress: pending_arn '$arn', phase $(P state "$SF" phase), issued $(P issued "$FAIL_SEQ")"
agent status
# overdue and under 7 days left: in danger, so status exits 1 (not 3)
[ "$rc" = 1 ] && grep -q "waiting for: .*RequestInProgressException" "$TMP/out" && grep -q "DANGER: *warning" "$TMP/out" &&
	ok "RequestInProgress: status says what it waits for, and the danger (exit 1)" ||
	{ not_ok "RequestInProgress: status (exit $rc)"; sed 's/^/# /' "$TMP/out"; }
in_progress 0
seq=$(P seq)
recovers "RequestInProgress"
[ "$(P calls "$seq" acm-pca:IssueCertificate)" = 0 ] && [ "$(P state "$SF" arn)" = "$arn" ] &&
	ok "RequestInProgress: resumed the same ARN, no second IssueCertificate" ||
	not_ok "RequestInProgress: resumed (IssueCertificate calls $(P calls "$seq" acm-pca:IssueCertificate), arn '$(P state "$SF" arn)' want '$arn')"

# CA not ACTIVE.
emu_ctl POST /ca "{\"arn\": \"$CA_SUB\", \"status\": \"DISABLED\"}" >/dev/null
fails "CA DISABLED" 'DISABLED|not ACTIVE|InvalidStateException'
[ "$(P calls "$FAIL_SEQ" acm-pca:IssueCertificate)" = 0 ] || grep -q InvalidStateException "$TMP/err" &&
	ok "CA DISABLED: refused before or by IssueCertificate" || not_ok "CA DISABLED: issued anyway?"
emu_ctl POST /ca "{\"arn\": \"$CA_SUB\", \"status\": \"ACTIVE\"}" >/dev/null
recovers "CA DISABLED"

# Wrong secret: the emulator rejects the signature.
fails "wrong secret" 'InvalidSignatureException' AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789
recovers "wrong secret"

# Unknown access key.
fails "unknown key" 'UnrecognizedClientException' AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000
recovers "unknown key"

# 4. Disk full: the output directory on a 64 KiB tmpfs.
FULL=$TMP/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=64k,mode=0755 tmpfs "$FULL" 2>"$TMP/mount.err"; then
	umount_full() { umount "$FULL" 2>/dev/null || umount -l "$FULL" 2>/dev/null; }
	on_exit umount_full
	CERT_DIR_ROOT=$FULL pca_cert small | agent_conf "$TMP/disk"
	expect_agent 0 "disk: first issuance onto the tmpfs (exit 0)" --once
	O=$FULL/small SF=$TMP/disk/state/certs/small/state.json
	nver=$(ls "$O/.versions" | wc -l)
	dd if=/dev/zero of="$FULL/filler" bs=1k count=1024 2>/dev/null
	CERT=small fails "disk full" 'No space|no space|ENOSPC'
	[ "$(ls "$O/.versions" | wc -l)" = "$nver" ] && ok "disk full: no half-written version left" ||
		not_ok "disk full: versions $(ls "$O/.versions" | tr '\n' ' ') (had $nver)"
	rm -f "$FULL/filler"
	recovers "disk full"
else
	echo "# SKIP disk full: cannot mount a tmpfs ($(cat "$TMP/mount.err")); these checks did not run"
fi
finish
