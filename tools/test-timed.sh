#!/bin/sh
# test-timed.sh COMMAND...: the LOG_COMPILER of `make check` (Makefile.am).
# Runs COMMAND (a test under `timeout`) and ends the test's log with
#   # test-time: SECONDS s (cpu SECONDS s)
# the wall-clock time and the CPU time (user + system) of the test and
# every process it waited for; the exit status is COMMAND's.
# tools/test-times.sh lists those lines, slowest first: what each test costs.
start=$(date +%s.%N)
"$@"
rc=$?
end=$(date +%s.%N)
tf=$(mktemp "${TMPDIR:-/tmp}/acm-test-time.XXXXXX") && times >"$tf" 2>/dev/null
awk -v s="$start" -v e="$end" '
function sec(t,  m) { m = t; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", t); sub(/s$/, "", t); return m * 60 + t }
NR == 2 { cpu = sec($1) + sec($2) }
END { if (NR >= 2) printf "# test-time: %.1f s (cpu %.1f s)\n", e - s, cpu; else printf "# test-time: %.1f s\n", e - s }' "${tf:-/dev/null}"
rm -f "$tf"
exit $rc
