#!/bin/bash
# Crash safety of the import issuer: the agent SIGKILLs itself at each test
# point (exit 137) of a first import and of a re-import (without and with
# output:), is rerun, and then: ACM holds the files' serial under exactly
# ONE ARN for the certificate (a first import interrupted after ACM answered
# is found by its serial and the agent's tags, not imported twice), the
# state and status say valid with that ARN, nothing is left in flight; with
# output: the deployed files are the new certificate, consistent. Then kills
# at every point of a re-import with output: in turn (ACM_AGENT_TEST_KILL_AFTER).
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-import-lib.sh"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

emu_start --tls || exit 1
on_exit emu_stop
# many imports in a row: the test is not about the account's 1/s quota
emu_ctl POST /quota '{"operation": "acm:ImportCertificate", "per_second": 100, "burst": 100}' >/dev/null
export ACM_AGENT_IMPORT_SETTLE=0
mk_ca rootec ec
ROOT_PEM=$PKI/rootec.pem

# new_files DIR CN: a new certificate in DIR (replacing what is there)
new_files() { mk_leaf "$TMP/gen" rootec ec "$2" && mkdir -p "$1" && cp "$TMP/gen/"*.pem "$1/" && rm -rf "$TMP/gen"; }

# converged LABEL NAME DIR SEQ [OUTPUT]: after the rerun
converged() {
	l=$1 n=$2 d=$3 seq=$4
	want=$(file_serial "$d/cert.pem")
	agent status --json
	unset IMPORTED ST_ARN ST_PHASE ACM_SERIAL IS_ARN IS_SERIAL IS_ATTEMPT STATUS_STATE STATUS_SERIAL STATUS_ARN
	facts=$(P import-facts "$seq" "$STATE/certs/$n/state.json" "$TMP/out" "$n") ||
		{ not_ok "$l: the facts could not be read (proof.py import-facts failed)"; return; }
	eval "$facts"
	[ "$IMPORTED" = 1 ] && [ -n "$ST_ARN" ] && [ "$ACM_SERIAL" = "$want" ] &&
		ok "$l: one ARN, holding the files' serial $want" ||
		not_ok "$l: ARNs imported $IMPORTED, state arn '$ST_ARN', ACM serial '$ACM_SERIAL', files $want"
	[ "$ST_PHASE" = valid ] && [ "$IS_ARN" = "$ST_ARN" ] && [ "$IS_SERIAL" = "$want" ] && [ -z "$IS_ATTEMPT" ] &&
		ok "$l: state valid, nothing in flight" ||
		not_ok "$l: state phase '$ST_PHASE', issuer arn '$IS_ARN' serial '$IS_SERIAL' attempt '$IS_ATTEMPT'"
	[ "$STATUS_STATE" = valid ] && [ "$STATUS_SERIAL" = "$want" ] && [ "$STATUS_ARN" = "$ST_ARN" ] &&
		ok "$l: status: valid, serial, ARN" ||
		not_ok "$l: status state '$STATUS_STATE' serial '$STATUS_SERIAL' arn '$STATUS_ARN'"
	if [ -n "${5:-}" ]; then
		verify_deployed "$TMP/c-$n/out/$n" && [ "$(file_serial "$TMP/c-$n/out/$n/cert.pem")" = "$want" ] &&
			ok "$l: the copy in output.dir is the new certificate" ||
			not_ok "$l: copy serves '$(file_serial "$TMP/c-$n/out/$n/cert.pem")', want $want"
	fi
}

# 1. First import, killed at each point
for p in issue-started import-started import-answered arn-persisted valid-saved; do
	n=first-$p l="first/$p"
	new_files "$TMP/src-$n" "$n.example.com"
	import_cert "$n" "$TMP/src-$n" | agent_conf "$TMP/c-$n"
	seq=$(P seq)
	ACM_AGENT_TEST_KILL_AT=$p:$n agent --once
	[ "$rc" = 137 ] && ok "$l: killed at the point (exit 137)" || { not_ok "$l: killed (exit $rc)"; show_err; }
	case $p in
	import-started) [ "$(acm_calls "$seq" ImportCertificate)" = 0 ] && [ -n "$(istate "$STATE/certs/$n/state.json" attempt.fingerprint)" ] &&
		ok "$l: the attempt is saved, nothing sent" || not_ok "$l: attempt saved, not sent" ;;
	import-answered) [ "$(imported_arns "$seq")" = 1 ] && [ -z "$(istate "$STATE/certs/$n/state.json" arn)" ] &&
		ok "$l: ACM created the certificate, the state does not know it" || not_ok "$l: answered, not saved" ;;
	esac
	agent --once
	[ "$rc" = 0 ] && ok "$l: rerun converges" || { not_ok "$l: rerun (exit $rc)"; show_err; }
	converged "$l" "$n" "$TMP/src-$n" "$seq"
	[ "$(acm_calls "$seq" ImportCertificate)" = 1 ] && ok "$l: one ImportCertificate in all" ||
		not_ok "$l: ImportCertificate calls $(acm_calls "$seq" ImportCertificate)"
	case $p in
	import-answered)
		[ "$(acm_calls "$seq" SearchCertificates)" = 1 ] && [ "$(acm_calls "$seq" ListTagsForCertificate)" = 1 ] &&
			acm_py tags "$(P state "$STATE/certs/$n/state.json" arn)" | grep -q "acm-agent:name=$n" &&
			ok "$l: found by its serial and the agent's tags, adopted" ||
			not_ok "$l: SearchCertificates $(acm_calls "$seq" SearchCertificates), ListTagsForCertificate $(acm_calls "$seq" ListTagsForCertificate)" ;;
	import-started)
		[ "$(acm_calls "$seq" SearchCertificates)" = 1 ] && ok "$l: looked for it first, found none, imported" ||
			not_ok "$l: SearchCertificates $(acm_calls "$seq" SearchCertificates)" ;;
	esac
done

# 1b. Interrupted after ACM answered, and the files changed before the
# rerun: the certificate created is adopted and the new files go over it
n=first-changed l="first/changed"
new_files "$TMP/src-$n" "$n.example.com"
import_cert "$n" "$TMP/src-$n" | agent_conf "$TMP/c-$n"
seq=$(P seq)
ACM_AGENT_TEST_KILL_AT=import-answered:$n agent --once
new_files "$TMP/src-$n" "$n.example.com"
agent --once
[ "$rc" = 0 ] && ok "$l: rerun with new files converges" || { not_ok "$l: rerun (exit $rc)"; show_err; }
converged "$l" "$n" "$TMP/src-$n" "$seq"
[ "$(acm_calls "$seq" ImportCertificate)" = 2 ] && [ "$(import_params "$seq" 2 | cut -d' ' -f1)" = "arn=$(P state "$STATE/certs/$n/state.json" arn)" ] &&
	ok "$l: the new files re-imported over the adopted ARN" || not_ok "$l: imports: $(import_params "$seq" 2)"

# 2. Re-import (no output:), killed at each point
for p in issue-started import-started import-answered arn-persisted valid-saved; do
	n=re-$p l="reimport/$p"
	new_files "$TMP/src-$n" "$n.example.com"
	import_cert "$n" "$TMP/src-$n" | agent_conf "$TMP/c-$n"
	seq=$(P seq)
	agent --once
	old=$(P state "$STATE/certs/$n/state.json" arn)
	new_files "$TMP/src-$n" "$n.example.com"
	ACM_AGENT_TEST_KILL_AT=$p:$n agent --once
	[ "$rc" = 137 ] && ok "$l: killed at the point (exit 137)" || { not_ok "$l: killed (exit $rc)"; show_err; }
	agent --once
	[ "$rc" = 0 ] && ok "$l: rerun converges" || { not_ok "$l: rerun (exit $rc)"; show_err; }
	converged "$l" "$n" "$TMP/src-$n" "$seq"
	[ "$(P state "$STATE/certs/$n/state.json" arn)" = "$old" ] && [ "$(acm_calls "$seq" SearchCertificates)" = 0 ] &&
		ok "$l: the same ARN, nothing looked for" || not_ok "$l: ARN changed or searched"
done

# 3. Re-import with output:, killed at each point (the deploy's too)
for p in import-started import-answered arn-persisted deploy-saved deploy-written deploy-switched valid-saved; do
	n=out-$p l="output/$p"
	new_files "$TMP/src-$n" "$n.example.com"
	import_cert "$n" "$TMP/src-$n" "    output: {}" | agent_conf "$TMP/c-$n"
	seq=$(P seq)
	agent --once
	new_files "$TMP/src-$n" "$n.example.com"
	ACM_AGENT_TEST_KILL_AT=$p:$n agent --once
	[ "$rc" = 137 ] && ok "$l: killed at the point (exit 137)" || { not_ok "$l: killed (exit $rc)"; show_err; }
	agent --once
	[ "$rc" = 0 ] && ok "$l: rerun converges" || { not_ok "$l: rerun (exit $rc)"; show_err; }
	converged "$l" "$n" "$TMP/src-$n" "$seq" output
done

# 4. Every point of a re-import with output: in turn
n=sweep
new_files "$TMP/src-$n" "$n.example.com"
import_cert "$n" "$TMP/src-$n" "    output: {}" | agent_conf "$TMP/c-$n"
agent --once
new_files "$TMP/src-$n" "$n.example.com"
ACM_AGENT_TEST_TRACE=$TMP/trace agent --once
npoints=$(wc -l <"$TMP/trace")
[ "$rc" = 0 ] && [ "$npoints" -ge 6 ] && ok "sweep: an undisturbed re-import passes $npoints test points" ||
	{ not_ok "sweep: undisturbed re-import (exit $rc, $npoints points)"; show_err; }
killed=0
for i in $(seq 1 "$npoints"); do
	seq=$(P seq)
	new_files "$TMP/src-$n" "$n.example.com"
	ACM_AGENT_TEST_KILL_AFTER=$i agent --once
	[ "$rc" = 137 ] && killed=$((killed + 1))
	agent --once
	[ "$rc" = 0 ] || { not_ok "sweep/$i: rerun (exit $rc)"; show_err; }
	# quietly: only a failure is reported
	res=$(converged "sweep/$i" "$n" "$TMP/src-$n" "$seq" output)
	echo "$res" | grep -q "^not ok" && { not_ok "sweep/$i: killed at point $i"; echo "$res" | sed 's/^/# /'; }
done
[ "$killed" = "$npoints" ] && ok "sweep: killed at each of the $npoints points, every rerun converged to one ARN" ||
	not_ok "sweep: $killed of $npoints runs killed"
finish
