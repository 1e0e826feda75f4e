#!/bin/bash
# The agent under valgrind memcheck against the emulator: an issuance
# (--once), a scheduled renewal 25 days later (--once) and a forced renewal
# (renew --force), each a separate process. Every valgrind log must say
# "ERROR SUMMARY: 0 errors" and report 0 bytes definitely lost.
#
#   ACM_AGENT=./acm-agent ABS_TOP_SRCDIR=$PWD sh tools/valgrind.sh
#
# (`make check` sets those; CI runs it after the README test command on the
# plain build: valgrind needs a build without sanitizers.) Exit 0 pass,
# 1 fail, 77 skip (no valgrind). Output is TAP-like, as the integration tests.
: "${ACM_AGENT:?set ACM_AGENT to the acm-agent binary (not an ASan build)}"
: "${ABS_TOP_SRCDIR:?set ABS_TOP_SRCDIR to the source tree}"
export PYTHON3=${PYTHON3:-/usr/bin/python3}
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
command -v valgrind >/dev/null || { echo "skip: no valgrind (sh tools/install-deps.sh --ci installs it)"; exit 77; }
if nm -D "$ACM_AGENT" 2>/dev/null | grep -q __asan_init; then
	echo "$ACM_AGENT is built with AddressSanitizer; valgrind needs a plain build"
	exit 1
fi

emu_start --tls || exit 1
on_exit emu_stop
fetch_root || { not_ok "fetch the emulator's root CA certificate"; finish; }
pca_cert web | agent_conf "$TMP/c"
O=$TMP/c/out/web

# vg LABEL ARGS...: the agent under memcheck; logs in $TMP/vg-LABEL.PID
vg() {
	_label=$1; shift
	valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
		--track-origins=yes --num-callers=30 --error-exitcode=99 --log-file="$TMP/vg-$_label.%p" \
		"$ACM_AGENT" -c "$CONF" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}
# vg_check LABEL WANT-RC DESCRIPTION
vg_check() {
	_logs=$(ls "$TMP"/vg-"$1".* 2>/dev/null)
	if [ "$rc" != "$2" ]; then
		not_ok "$3: exit $rc, want $2"
		show_err
	else
		ok "$3: exit $rc"
	fi
	[ -n "$_logs" ] || { not_ok "$1: no valgrind log"; return; }
	_bad=0
	for _l in $_logs; do
		_errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$_l" | tail -n 1)
		_lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$_l" | tail -n 1 | tr -d ,)
		if [ "${_errs:-x}" != 0 ] || [ "${_lost:-0}" != 0 ]; then
			_bad=1
			echo "# $_l: ${_errs:-?} errors, ${_lost:-0} bytes definitely lost"
			grep -E '^==[0-9]+== ' "$_l" | sed 's/^/# /' | head -n 60
		fi
	done
	if [ $_bad = 0 ]; then
		ok "$1: memcheck clean ($(echo "$_logs" | wc -w) process log(s): 0 errors, 0 bytes definitely lost)"
	else
		not_ok "$1: memcheck found errors or leaks"
	fi
}

vg issue --once
vg_check issue 0 "issuance under valgrind"
verify_deployed "$O" && ok "issued certificate deployed and verified" || not_ok "issued certificate deployed"
s1=$(serial_of "$O/cert.pem")

at_offset $((25 * DAY))
vg renew --once
vg_check renew 0 "scheduled renewal 25 days later under valgrind"
s2=$(serial_of "$O/cert.pem")
[ -n "$s2" ] && [ "$s2" != "$s1" ] && verify_deployed "$O" && ok "renewed: new serial $s2 deployed" ||
	not_ok "renewal deployed a new serial ($s1 -> $s2)"

vg force renew web --force
vg_check force 0 "forced renewal under valgrind"
s3=$(serial_of "$O/cert.pem")
[ -n "$s3" ] && [ "$s3" != "$s2" ] && verify_deployed "$O" && ok "forced renewal: new serial $s3" ||
	not_ok "forced renewal deployed a new serial ($s2 -> $s3)"
finish
