# Sourced by bench/pca-once.sh and bench/acm-once.sh; not a benchmark itself.
#
# once_idle_runs: section (2) of both, the all-valid pass. Runs
# `$ACM_AGENT -c $W/acm-agent.yaml --once` $RUNS times under bench/once-run
# (posix_spawn + wait4 around each run: the agent process exec to exit,
# without the date and time processes a shell loop would add) and prints
# the exit statuses, the wall time median/min/max, the peak RSS
# (ru_maxrss) median/min/max, and how many AWS calls the emulator saw
# meanwhile (there should be none). Needs W, RUNS, N, ACM_AGENT,
# ABS_TOP_BUILDDIR, PY and emu_ctl (tests/emulator/emu.sh).
once_idle_runs() {
	echo
	echo "== (2) --once with all $N valid, $RUNS runs"
	echo "method: bench/once-run: CLOCK_MONOTONIC from posix_spawn to wait4's return around each acm-agent process"
	echo "        (exec to exit, stdout to /dev/null); peak RSS is the child's ru_maxrss from wait4"
	_calls0=$(once_ncalls)
	"$ABS_TOP_BUILDDIR/bench/once-run" "$RUNS" /dev/null "$W/r.err" -- "$ACM_AGENT" -c "$W/acm-agent.yaml" --once >"$W/runs" ||
		echo "bench/once-run failed"
	"$PY" - "$W/runs" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
wall = [int(r[1]) / 1e3 for r in rows]  # microseconds -> ms
rss = [int(r[2]) for r in rows]
rcs = sorted({r[0] for r in rows})
print("exit statuses %s; wall median %.1f ms, min %.1f ms, max %.1f ms; peak RSS median %d KiB, min %d, max %d" %
      (",".join(rcs), statistics.median(wall), min(wall), max(wall), statistics.median(rss), min(rss), max(rss)))
PY
	echo "AWS calls during the $RUNS idle runs: $(($(once_ncalls) - _calls0))"
}

once_ncalls() { emu_ctl GET /calls | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))'; }
