#!/bin/sh
# test-times.sh [BUILDDIR]: what each test of the last `make check` in
# BUILDDIR (default .) cost, slowest first, from the "# test-time:" line
# tools/test-timed.sh ends every test log with; then the sum. The sum is
# the serial cost: `make -j2 check` takes about half of it.
cd "${1:-.}" || exit 1
find . -name '*.log' ! -name test-suite.log ! -name config.log -path './tests/*' -print |
	while read -r log; do
		t=$(sed -n 's/^# test-time: \([0-9.]*\) s$/\1/p' "$log" | tail -n 1)
		name=${log#./}
		[ -n "$t" ] && printf '%8.1f s  %s\n' "$t" "${name%.log}"
	done | sort -rn | awk '{ print; s += $1 } END { printf "%8.1f s  in all (%d tests)\n", s, NR }'
