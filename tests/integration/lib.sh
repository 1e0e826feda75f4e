# Shared helpers for the shell integration tests. Source it; it sets
# TMP (removed at exit), and defines pass/fail/expect helpers.
set -u
: "${ACM_AGENT:?run through make check}"
: "${ABS_TOP_SRCDIR:?run through make check}"
TMP=$(mktemp -d /tmp/acm-it.XXXXXX)
failures=0
checks=0
cleanup_hooks=""
at_exit() { for h in $cleanup_hooks; do "$h" || true; done; rm -rf "$TMP"; }
trap at_exit EXIT
on_exit() { cleanup_hooks="$1 $cleanup_hooks"; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
not_ok() { checks=$((checks + 1)); failures=$((failures + 1)); echo "not ok $checks - $*"; }
# expect_rc WANT DESCRIPTION -- COMMAND...: runs COMMAND, output in $TMP/out.
expect_rc() {
	want=$1; desc=$2; shift 3
	"$@" >"$TMP/out" 2>&1; got=$?
	if [ "$got" = "$want" ]; then ok "$desc"; else not_ok "$desc (exit $got, want $want)"; sed 's/^/# /' "$TMP/out"; fi
}
expect_grep() {
	pattern=$1; desc=$2; file=${3:-$TMP/out}
	if grep -qE -- "$pattern" "$file"; then ok "$desc"; else not_ok "$desc (no /$pattern/)"; sed 's/^/# /' "$file"; fi
}
# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() { "${PYTHON3:-/usr/bin/python3}" -S -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# served_serial PORT SNI: the serial (hex, no leading zeros) that the TLS
# server on 127.0.0.1:PORT presents for SNI; empty when none.
served_serial() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername "$2" 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=0*//'
}
# wait_served_serial PORT SNI HEX: polls up to 30 s (workers are replaced
# after a reload); returns 1 when HEX is never served.
wait_served_serial() {
	_i=0; while [ $_i -lt 60 ]; do [ "$(served_serial "$1" "$2")" = "$3" ] && return 0; sleep 0.5; _i=$((_i + 1)); done; return 1
}
finish() { echo "1..$checks"; [ "$failures" -eq 0 ]; exit $?; }
