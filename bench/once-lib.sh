# Sourced by bench/pca-once.sh and bench/acm-once.sh; not a benchmark itself.
#
# once_idle_runs: section (2) of both, the all-valid pass. Runs
# `$ACM_AGENT -c $W/acm-agent.yaml --once` $RUNS times under $TIME -v and
# prints the exit statuses, the wall time (date +%s%N around each run)
# median/min/max, the peak RSS median/min/max, and how many AWS calls the
# emulator saw meanwhile (there should be none). Needs W, RUNS, N, TIME,
# ACM_AGENT, PY and emu_ctl (tests/emulator/emu.sh).
once_idle_runs() {
	echo
	echo "== (2) --once with all $N valid, $RUNS runs"
	: >"$W/runs"
	_calls0=$(once_ncalls)
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		_t0=$(date +%s%N)
		"$TIME" -v -o "$W/time.r" "$ACM_AGENT" -c "$W/acm-agent.yaml" --once >/dev/null 2>"$W/r.err"
		_rc=$?; _t1=$(date +%s%N)
		echo "$_rc $(((_t1 - _t0) / 1000)) $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.r")" >>"$W/runs"
		_i=$((_i + 1))
	done
	"$PY" - "$W/runs" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
wall = [int(r[1]) / 1e6 for r in rows]  # microseconds
rss = [int(r[2]) for r in rows]
rcs = sorted({r[0] for r in rows})
print("exit statuses %s; wall median %.3f s, min %.3f s, max %.3f s; peak RSS median %d KiB, min %d, max %d" %
      (",".join(rcs), statistics.median(wall), min(wall), max(wall), statistics.median(rss), min(rss), max(rss)))
PY
	echo "AWS calls during the $RUNS idle runs: $(($(once_ncalls) - _calls0))"
}

once_ncalls() { emu_ctl GET /calls | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))'; }
