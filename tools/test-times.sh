#!/bin/sh
# test-times.sh [BUILDDIR]: what each test of the last `make check` in
# BUILDDIR (default .) cost, slowest first: wall-clock and CPU seconds
# from the "# test-time:" line tools/test-timed.sh ends every test log
# with; then the sums. The wall sum is the serial cost (`make -j4 check`
# takes a quarter to a third of it); on a 2-core machine the CPU sum / 2 is a
# floor.
cd "${1:-.}" || exit 1
find . -name '*.log' ! -name test-suite.log ! -name config.log -path './tests/*' -print |
	while read -r log; do
		line=$(grep '^# test-time: ' "$log" | tail -n 1)
		[ -n "$line" ] || continue
		name=${log#./}
		echo "$line" | awk -v n="${name%.log}" '{ c = "-"; if ($6 != "") { c = $6 }; printf "%8.1f s %8s s  %s\n", $3, c, n }'
	done | sort -rn | awk '{ print; w += $1; c += $3 } END { printf "%8.1f s %8.1f s  in all (%d tests): wall, cpu\n", w, c, NR }'
