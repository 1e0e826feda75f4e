#!/bin/sh
# test-timed.sh COMMAND...: the LOG_COMPILER of `make check` (Makefile.am).
# Runs COMMAND (a test under `timeout`) and ends the test's log with
#   # test-time: SECONDS s
# (wall clock); the exit status is COMMAND's. tools/test-times.sh lists
# those lines, slowest first: what each test costs.
start=$(date +%s.%N)
"$@"
rc=$?
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "# test-time: %.1f s\n", e - s }'
exit $rc
