#!/bin/bash
# A whole ACM certificate life in the daemon (not --once), with the
# DescribeCertificate calls counted at each stage: the real acm-agent service
# against the emulator, restarted at steered clocks (ACM_AGENT_CLOCK_OFFSET,
# read once at start, and the emulator's clock set to the same moment):
#   issue (Route 53 validation) → the next check ~6 h later;
#   100 days later (far from expiry): one DescribeCertificate on start (its
#     check time has passed), the next one ~6 h later; restarted before then:
#     none;
#   one day into ACM's renewal window (60 days before expiry): one on start,
#     the next within the hour; an hour and a quarter later: one more;
#   ACM's managed renewal PENDING_AUTO_RENEWAL (control API /renew): one on
#     start, the next within 30 minutes (±20 %);
#   SUCCESS: the daemon exports the new certificate, deploys it (new files,
#     new serial, same ARN) with exactly one reload, then looks again ~6 h
#     later;
#   30 days after that: one on start, no reload.
# The daemon cannot be left to run for hours of real time, and two clocks
# moving at once would break SigV4 (the emulator refuses a request more than
# 5 minutes off), so each stage is a new daemon at a later offset; inside a
# stage the bound on calls comes from the next check the daemon wrote
# (wake_at, asserted against the schedule) and from the count when it is
# stopped, which must be the one it settled with. Every wait is bounded and polls a
# condition; nothing asserts on elapsed time. Counts are printed as TAP
# comments.
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
chmod +x "$TMP/reload"
METRICS=$TMP/a/metrics.prom
acm_cert life '' "    reload: [{command: [$TMP/reload, life]}]" |
	agent_conf "$TMP/a" "daemon: {reload_debounce: 1s, metrics_textfile: \"$METRICS\"}"
LOG=$TMP/daemon.log
HOUR=3600
POLL=$((6 * HOUR)) # daemon.acm_poll_interval's default

reloads() { grep -c "^life\$" "$TMP/reloads" 2>/dev/null || true; }
describes() { calls "$1" acm:DescribeCertificate; }
now() { echo $(($(date +%s) + ${ACM_AGENT_CLOCK_OFFSET:-0})); }
epoch() { # RFC 3339 → seconds
	[ -n "$1" ] && "$PY" -c 'import calendar, sys, time; print(calendar.timegm(time.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ")))' "$1"
}
wake_in() { echo $(($(epoch "$(st life wake_at)") - $(now))); }
# in_range DESC LOW HIGH VALUE
in_range() {
	if [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then ok "$1 ($4 s, schedule [$2, $3])"; else not_ok "$1: $4 s, not in [$2, $3]"; fi
}

PID=
daemon_start() {
	rm -f "$METRICS"
	STARTED=$(now)
	echo "--- daemon at offset ${ACM_AGENT_CLOCK_OFFSET:-0}" >>"$LOG"
	"$ACM_AGENT" -c "$CONF" 2>>"$LOG" &
	PID=$!
}
daemon_stop() {
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	wait_for 60 gone "$PID" || { kill -KILL "$PID" 2>/dev/null; echo "# daemon $PID killed after 60 s"; }
	wait "$PID" 2>/dev/null
	_rc=$?
	PID=
	return $_rc
}
gone() { ! kill -0 "$1" 2>/dev/null; }
on_exit daemon_stop
# The daemon has settled: it runs, its metrics are written, the certificate
# is valid and its next check, saved after a check at or after the start
# (or, with "nocheck", any), is in the future.
# life_times: "PHASE CHECKED_AT WAKE_AT" of the certificate's state file,
# the times as epoch seconds, "-" for what is absent: settled is polled ten
# times a second, and one python for its three facts (instead of five: st
# and epoch twice, st) keeps the poll from eating a core while the daemon
# works.
life_times() {
	"$PY" - "$STATE/certs/life/state.json" <<'PY'
import calendar, json, sys, time
try:
    v = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    v = None
v = v if isinstance(v, dict) else {}
def ep(s):
    try:
        return str(calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return "-"
iss = v.get("issuer") if isinstance(v.get("issuer"), dict) else {}
print(v.get("phase") or "-", ep(iss.get("checked_at")), ep(v.get("wake_at")))
PY
}
settled() {
	kill -0 "$PID" 2>/dev/null && [ -s "$METRICS" ] || return 1
	# shellcheck disable=SC2046
	set -- "${1:-}" $(life_times)   # $2 phase, $3 checked_at, $4 wake_at
	[ "$2" = valid ] || return 1
	[ "$1" = nocheck ] || { [ "$3" != - ] && [ "$3" -ge "$STARTED" ]; } || return 1
	[ "$4" != - ] && [ $(($4 - $(now))) -gt 0 ]
}
# acm_serial ARN: ACM's serial of ARN through the control API (a
# DescribeCertificate of the test's own would count as the daemon's)
acm_serial() {
	emu_ctl GET /certificates | "$PY" -c '
import json, sys
for c in json.load(sys.stdin)["acm"]:
    if c["CertificateArn"] == sys.argv[1]:
        print(c["Serial"].replace(":", "").upper().lstrip("0"))' "$1"
}
serial_is_not() { [ "$(st life served.serial)" != "$1" ]; }
reloads_are() { [ "$(reloads)" = "$1" ]; }
# stage NAME SEQ [nocheck]: waits for the daemon to settle and counts the
# describes since SEQ into D (a TAP comment). That no loop follows is
# proven by the next check the daemon saved (W, held to the schedule by each
# stage) and by stop_counted, never by watching the clock for a while.
stage() {
	if wait_for 60 settled "${3:-}"; then ok "$1: the daemon settles (valid, next check ahead)"; else
		not_ok "$1: the daemon did not settle (phase $(st life phase), wake_at $(st life wake_at))"
		tail -n 15 "$LOG" | sed 's/^/# log: /'
	fi
	D=$(describes "$2")
	W=$(wake_in)
	echo "# $1: $D DescribeCertificate call(s) since the daemon started; next check in $W s"
}
stop_counted() { # NAME SEQ: the daemon stops (exit 0) and made no call since stage counted
	daemon_stop
	_rc=$?
	same "$1: SIGTERM, exit 0, still $D call(s)" "0 $D" "$_rc $(describes "$2")"
}

# --- issue ------------------------------------------------------------------------------------------
seq=$(P seq)
daemon_start
wait_for 90 serial_is_not ""
stage "issue" "$seq"
old=$(st life served.serial)
arn=$(st life served.arn)
[ -n "$old" ] && ok "issued by the daemon: serial $old" || not_ok "nothing issued"
if acm_verify life; then ok "… files verify"; else not_ok "… files ($?)"; fi
same "… one reload" 1 "$(reloads)"
[ "$D" -ge 1 ] && [ "$D" -le 6 ] && ok "… $D describes for the whole issuance (validation polls a few)" ||
	not_ok "… $D describes for the issuance"
in_range "… next check about poll_interval later" $((POLL * 8 / 10 - 5)) $((POLL * 12 / 10)) "$W"
stop_counted "issue" "$seq"
NA=$(epoch "$(st life served.not_after)")
NB=$(epoch "$(st life served.not_before)")
WINDOW=$((NA - 60 * DAY))
echo "# not_before $(st life served.not_before), not_after $(st life served.not_after): $(((NA - NB) / DAY)) days, window from day $(((WINDOW - NB) / DAY))"

# --- far from expiry --------------------------------------------------------------------------------
at_offset $((100 * DAY))
seq=$(P seq)
daemon_start
stage "day 100" "$seq"
same "… exactly one describe on start (its check time passed)" 1 "$D"
in_range "… the next one about poll_interval later" $((POLL * 8 / 10 - 5)) $((POLL * 12 / 10)) "$W"
stop_counted "day 100" "$seq"
at_offset $((100 * DAY + 2 * HOUR))
seq=$(P seq)
daemon_start
stage "day 100 + 2 h (before the next check)" "$seq" nocheck
same "… no describe on start" 0 "$D"
stop_counted "day 100 + 2 h" "$seq"

# --- inside ACM's renewal window ------------------------------------------------------------------
OFF=$((WINDOW + DAY - $(date +%s)))
at_offset $OFF
seq=$(P seq)
daemon_start
stage "window + 1 d" "$seq"
same "… one describe on start" 1 "$D"
in_range "… the next within the hour (±20 %)" $((HOUR * 8 / 10 - 5)) $((HOUR * 12 / 10)) "$W"
same "… nothing exported, no reload" "0 1" "$(calls "$seq" acm:ExportCertificate) $(reloads)"
stop_counted "window + 1 d" "$seq"
OFF=$((OFF + HOUR * 5 / 4))
at_offset $OFF
seq=$(P seq)
daemon_start
stage "window + 1 d + 75 min" "$seq"
same "… one describe on start (hourly in the window)" 1 "$D"
in_range "… the next within the hour again" $((HOUR * 8 / 10 - 5)) $((HOUR * 12 / 10)) "$W"
stop_counted "window + 1 d + 75 min" "$seq"

# --- ACM renews: PENDING_AUTO_RENEWAL → SUCCESS ------------------------------------------------------
OFF=$((OFF + HOUR * 5 / 4))
at_offset $OFF
emu_ctl POST /settings '{"renewal_delay_seconds": 7200}' >/dev/null
emu_ctl POST /renew "{\"arn\": \"$arn\", \"outcome\": \"SUCCESS\"}" | grep -q PENDING_AUTO_RENEWAL &&
	ok "the emulator's ACM starts the managed renewal (PENDING_AUTO_RENEWAL for 2 h)" || not_ok "/renew"
seq=$(P seq)
daemon_start
stage "renewal pending" "$seq"
same "… one describe on start" 1 "$D"
same "… renewal_status in the state" PENDING_AUTO_RENEWAL "$(st life issuer.renewal_status)"
in_range "… the next within 30 minutes (±20 %)" $((1800 * 8 / 10 - 5)) $((1800 * 12 / 10)) "$W"
same "… the same serial, no export" "$old 0" "$(st life served.serial) $(calls "$seq" acm:ExportCertificate)"
stop_counted "renewal pending" "$seq"

OFF=$((OFF + 2 * HOUR + 300))
at_offset $OFF
seq=$(P seq)
daemon_start
wait_for 60 serial_is_not "$old"
wait_for 30 reloads_are 2
stage "renewal SUCCESS" "$seq"
new=$(st life served.serial)
[ -n "$new" ] && [ "$new" != "$old" ] && ok "the daemon serves the renewed certificate: serial $new" ||
	not_ok "serial $new (old $old)"
same "… ACM's serial" "$(echo "$new" | sed 's/^0*//')" "$(acm_serial "$arn")"
same "… the same ARN, renewal_status SUCCESS" "$arn SUCCESS" "$(st life served.arn) $(st life issuer.renewal_status)"
same "… new files: cert.pem has the new serial" "$(echo "$new" | sed 's/^0*//')" "$(serial_of "$CONF_DIR/out/life/cert.pem")"
if acm_verify life; then ok "… files verify"; else not_ok "… files ($?)"; fi
same "… one ExportCertificate, nothing requested" "1 0" \
	"$(calls "$seq" acm:ExportCertificate) $(calls "$seq" acm:RequestCertificate)"
same "… exactly one more reload" 2 "$(reloads)"
[ "$D" -ge 1 ] && [ "$D" -le 3 ] && ok "… $D describes for the check and the renewal's export" ||
	not_ok "… $D describes"
NA2=$(epoch "$(st life served.not_after)")
[ "$NA2" -gt "$NA" ] && ok "… valid $(((NA2 - $(now)) / DAY)) days from now" || not_ok "… not_after $NA2 (old $NA)"
in_range "… far from expiry again: the next check about poll_interval later" $((POLL * 8 / 10 - 5)) $((POLL * 12 / 10)) "$W"
stop_counted "renewal SUCCESS" "$seq"
same "… still one reload after the stop" 2 "$(reloads)"

# --- the renewed certificate, a month later ---------------------------------------------------------
OFF=$((OFF + 30 * DAY))
at_offset $OFF
seq=$(P seq)
daemon_start
stage "renewed + 30 d" "$seq"
same "… one describe on start, no export, no reload" "1 0 2" "$D $(calls "$seq" acm:ExportCertificate) $(reloads)"
in_range "… the next about poll_interval later" $((POLL * 8 / 10 - 5)) $((POLL * 12 / 10)) "$W"
stop_counted "renewed + 30 d" "$seq"
grep -qE "(error|warning):" "$LOG" && { not_ok "the daemon logged no error or warning"; grep -E "(error|warning):" "$LOG" | sed 's/^/# /'; } ||
	ok "the daemon logged no error or warning"

finish
