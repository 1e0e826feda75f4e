#!/bin/bash
# Crash safety of the ACM path: a first issuance is SIGKILLed at each test
# point of the flow (acm-token-saved, acm-requested, acm-arn-saved,
# acm-records-saved, acm-validating, acm-exported, then the engine's deploy
# points), checked at the kill, rerun without the variable, and then: ONE
# certificate exists in ACM for it (a re-sent RequestCertificate carries the
# persisted token and gets the same ARN), the files verify against the public
# roots with a matching key, the reload ran exactly once, no pending key is
# left, the state says valid. Then a renewal by ACM is killed during the
# re-export. A reader watches the stable names all along. Each case has a
# certificate name of its own (the same name would find, by its tags, the
# certificate an earlier case requested), and the ten cases run at once
# (their emulator calls counted per certificate).
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-acm-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/watch-lib.sh"
command -v openssl >/dev/null || { echo "# skip: no openssl"; exit 77; }
acm_start

POINTS="acm-token-saved acm-requested acm-arn-saved acm-records-saved acm-validating acm-exported deploy-saved deploy-switched reload-pending valid-saved"
cat >"$TMP/reload" <<EOS
#!/bin/sh
echo "\$1" >>"$TMP/reloads"
EOS
chmod +x "$TMP/reload"
reloads_of() { grep -cx "$1" "$TMP/reloads" 2>/dev/null || true; }

WDIRS=
for p in $POINTS; do WDIRS="$WDIRS $TMP/$p/out/$p"; done
WDIRS="$WDIRS $TMP/renew/out/renewed"
# shellcheck disable=SC2086
watch_start $WDIRS

check_at_kill() { # POINT SEQ
	case $1 in
	acm-token-saved)
		[ -n "$(st "$n" issuer.token)" ] && [ "$(calls "$2" acm:RequestCertificate)" = 0 ] &&
			ok "$1: the token is saved, nothing requested" || not_ok "$1: token saved, nothing requested" ;;
	acm-requested)
		[ -n "$(st "$n" issuer.token)" ] && [ -z "$(st "$n" issuer.arn)" ] && [ "$(requested "$2")" = 1 ] &&
			ok "$1: requested, the ARN not saved yet" || not_ok "$1: requested, ARN not saved ('$(st "$n" issuer.arn)')" ;;
	acm-arn-saved)
		[ -n "$(st "$n" issuer.arn)" ] && [ "$(calls "$2" acm:DescribeCertificate)" = 0 ] &&
			ok "$1: the ARN is saved, not described yet" || not_ok "$1: ARN saved" ;;
	acm-records-saved)
		[ -n "$(st "$n" issuer.records)" ] && [ "$(calls "$2" route53:ChangeResourceRecordSets)" = 0 ] &&
			ok "$1: the records are saved, not published yet" || not_ok "$1: records saved, not published" ;;
	acm-validating)
		[ "$(calls "$2" route53:ChangeResourceRecordSets)" = 1 ] && [ "$(st "$n" phase)" = validate ] &&
			ok "$1: published, waiting on ACM" || not_ok "$1: published ($(st "$n" phase))" ;;
	acm-exported)
		[ "$(calls "$2" acm:ExportCertificate)" = 1 ] && [ ! -e "$TMP/$1/out/$n/current" ] &&
			ok "$1: exported, nothing deployed" || not_ok "$1: exported, nothing deployed" ;;
	deploy-saved)
		[ "$(st "$n" phase)" = deploy ] && [ -n "$(st "$n" pending.serial)" ] && ok "$1: the verified certificate is saved" ||
			not_ok "$1: deploy saved ($(st "$n" phase))" ;;
	*) ok "$1: killed" ;;
	esac
}

check_final() { # POINT DIR SEQ
	verify_deployed "$2/out/$n"; v=$?
	[ $v = 0 ] && ok "$1: the deployed certificate verifies, key matches, fullchain consistent" ||
		not_ok "$1: deployed certificate consistent (check $v failed)"
	same "$1: exactly one certificate in ACM for it" 1 "$(requested "$3")"
	same "$1: the reload ran exactly once" 1 "$(reloads_of "web-$1")"
	[ ! -e "$2/state/certs/$n/key.pending.pem" ] && [ "$(st "$n" phase)" = valid ] &&
		[ "$(serial_of "$2/out/$n/cert.pem")" = "$(st "$n" served.serial | sed 's/^0*//')" ] &&
		ok "$1: state valid, no pending key, the files serve its serial" ||
		not_ok "$1: state $(st "$n" phase), files $(serial_of "$2/out/$n/cert.pem"), state $(st "$n" served.serial)"
	same "$1: nothing in flight" "" "$(st "$n" issuer.token)$(st "$n" issuer.arn)"
}

# One point: the kill, the checks at the kill, the rerun, the checks after
# it. Each point is a certificate of its own (name, directories, ARN,
# validation records, reload line), so the points run at once, each in a
# subshell: its agent output goes to files of its own, and the emulator's
# calls are counted for its certificate only (proof.py acm-calls and
# acm-requested: the calls naming its domain, its ARNs, its records), not
# for everything after a seq. Its TAP lines go to $TMP/POINT.tap and are
# replayed in order below; a point that does not reach its end fails.
run_point() { # POINT
	p=$1 n=$1 J=$TMP/$1
	AGENT_MARK=.$p AGENT_LOG=$J.
	show_err() { sed 's/^/# err: /' "$J.err" | tail -n "${1:-15}"; sed 's/^/# out: /' "$J.out" | tail -n 5; }
	calls() { P acm-calls "$1" "$2" "$n.example.com"; }
	requested() { P acm-requested "$1" "$n.example.com"; }
	acm_cert "$n" '' "    reload: [{command: [\"$TMP/reload\", \"web-$p\"]}]" | agent_conf "$J"
	seq=$(P seq)
	ACM_AGENT_TEST_KILL_AT=$p:$n agent --once
	[ "$rc" = 137 ] && ok "$p: the agent killed itself there (exit 137)" || { not_ok "$p: killed at the point (exit $rc)"; show_err; }
	check_at_kill "$p" "$seq"
	expect_agent 0 "$p: the rerun converges" --once
	check_final "$p" "$J" "$seq"
	echo "# point $p: done"
}
# Ten issuances at once wait longer for the emulator than one: no ACM poll
# of this test gives up before 2 minutes (every validation here finishes;
# the deadline only bounds a hang).
export ACM_AGENT_ACM_POLL_DEADLINE=120
ROOT_PEM=$TRUST
pids=
for p in $POINTS; do
	run_point "$p" >"$TMP/$p.tap" 2>&1 &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
for p in $POINTS; do
	while IFS= read -r line; do
		case $line in
		"ok "[0-9]*" - "*) ok "${line#ok * - }" ;;
		"not ok "[0-9]*" - "*) not_ok "${line#not ok * - }" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$TMP/$p.tap"
	grep -qx "# point $p: done" "$TMP/$p.tap" && ok "$p: every check of the point ran" || not_ok "$p: the point's checks did not all run"
done

# ACM renewed it; the agent is killed in the middle of the re-export.
n=renewed
acm_cert "$n" '' "    reload: [{command: [\"$TMP/reload\", \"web-renew\"]}]" | agent_conf "$TMP/renew"
expect_agent 0 "renewal: issued first" --once
old=$(st "$n" served.serial)
arn=$(st "$n" served.arn)
emu_ctl POST /renew "{\"arn\": \"$arn\", \"outcome\": \"SUCCESS\"}" >/dev/null
at_offset $((7 * 3600))
seq=$(P seq)
ACM_AGENT_TEST_KILL_AT=acm-exported:$n agent --once
[ "$rc" = 137 ] && ok "renewal: killed after the re-export (exit 137)" || { not_ok "renewal: killed (exit $rc)"; show_err; }
same "renewal: the old certificate still served" "$(echo "$old" | sed 's/^0*//')" "$(serial_of "$TMP/renew/out/$n/cert.pem")"
expect_agent 0 "renewal: the rerun converges" --once
new=$(st "$n" served.serial)
[ "$new" != "$old" ] && [ "$(serial_of "$TMP/renew/out/$n/cert.pem")" = "$(echo "$new" | sed 's/^0*//')" ] &&
	ok "renewal: the renewed certificate is served" || not_ok "renewal: serves $(serial_of "$TMP/renew/out/$n/cert.pem"), state $new, old $old"
verify_deployed "$TMP/renew/out/$n" && ok "renewal: files consistent" || not_ok "renewal: files consistent"
same "renewal: nothing requested, one reload for it (two in all)" "0 2" "$(calls "$seq" acm:RequestCertificate) $(reloads_of web-renew)"

stop_watch
sed 's/^/# /' "$TMP/watch.report"
[ "$WATCH_RC" = 0 ] && grep -q 'reads=[1-9]' "$TMP/watch.report" &&
	ok "the reader never saw a mix, a partial file or a dangling name" || not_ok "the reader saw inconsistent files"
finish
