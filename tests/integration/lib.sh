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
finish() { echo "1..$checks"; [ "$failures" -eq 0 ]; exit $?; }
