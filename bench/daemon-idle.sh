#!/bin/bash
# Benchmark (figures, not pass/fail): what the acm-agent daemon costs while
# it serves BENCH_N (1000) valid certificates and has nothing to do, measured
# as bench/certmonger-idle.sh measures certmonger (bench/daemon-idle-lib.sh):
# CPU time and wake-ups in an untraced window, every system call in a
# window under `strace -c -f -p`, peak RSS; plus what it sent in the
# meantime: AWS calls (the emulator's log) and notify messages (WATCHDOG=1,
# STATUS=), through tests/integration/notify-harness.py, which plays
# systemd's notify socket (WATCHDOG_USEC=BENCH_WATCHDOG_USEC, 180 s as the
# unit's WatchdogSec=3min).
#
# Steps: the emulator (PCA); a configuration of N EC P-256 certificates; one
# `acm-agent --once` pass issues them all; the daemon (`acm-agent -c CONF`,
# no command) started under the harness; READY=1 awaited (bounded,
# BENCH_READY_TIMEOUT, 600 s); BENCH_SETTLE (10) s; windows of BENCH_SECS (60) s;
# SIGTERM, STOPPING=1 and the exit status.
#
#   ACM_AGENT=./acm-agent ABS_TOP_SRCDIR=. PYTHON3=/usr/bin/python3 bash bench/daemon-idle.sh
# BENCH_DAEMON_CMD="PROGRAM ARGS" measures any Type=notify program instead
# (no emulator, no configuration), e.g. tests/unit/daemon/test-notify-probe,
# the floor: an sd-event loop with daemon-notify's watchdog and nothing else.
set -u
: "${ABS_TOP_SRCDIR:?set ABS_TOP_SRCDIR (and ACM_AGENT, PYTHON3)}"
N=${BENCH_N:-1000}
SECS=${BENCH_SECS:-60}
SETTLE=${BENCH_SETTLE:-10}
WD=${BENCH_WATCHDOG_USEC:-180000000}
PY=${PYTHON3:-/usr/bin/python3}
. "$ABS_TOP_SRCDIR/bench/daemon-idle-lib.sh"
W=$(mktemp -d /tmp/acm-idle.XXXXXX)
EMU=
DRIVER=
cleanup() {
	[ -n "$DRIVER" ] && { touch "$W/stop"; wait "$DRIVER" 2>/dev/null; }
	[ -n "$EMU" ] && emu_stop
	[ -n "${BENCH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT

echo "== machine"
echo "nproc: $(nproc); kernel: $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared)"

if [ -n "${BENCH_DAEMON_CMD:-}" ]; then
	# shellcheck disable=SC2206
	CMD=($BENCH_DAEMON_CMD)
	echo "== ${CMD[*]}"
else
	: "${ACM_AGENT:?set ACM_AGENT}"
	. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
	emu_start --tls >/dev/null || exit 1
	EMU=1
	CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/33333333-3333-4333-8333-333333333333
	{
		cat <<EOY
state_dir: "$W/state"
output_root: "$W/out"
aws:
  region: us-east-1
  endpoints: {acm-pca: "$EMU_URL"}
  ca_bundle: "$EMU_CA_BUNDLE"
certificates:
EOY
		for i in $(seq 0 $((N - 1))); do
			n=$(printf 'c%04d' "$i")
			printf '  - name: %s\n    issuer: {type: pca, ca_arn: "%s", validity: 30d}\n    dns_names: [%s.example.com]\n    key: {type: ec, curve: P-256}\n' \
				"$n" "$CA" "$n"
		done
	} >"$W/acm-agent.yaml"
	echo "== $N certificates issued by one --once pass"
	t0=$(date +%s)
	"$ACM_AGENT" -c "$W/acm-agent.yaml" --once >/dev/null 2>"$W/once.err"
	echo "exit status $? in $(( $(date +%s) - t0 )) s"
	CMD=("$ACM_AGENT" -c "$W/acm-agent.yaml")
	echo "== the daemon: ${CMD[*]}"
fi

ncalls() {
	[ -n "$EMU" ] || { echo 0; return; }
	emu_ctl GET /calls | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))'
}

# The harness: starts the daemon, waits for READY=1, writes its PID, marks
# the window's start and end in its message log on request, stops it.
"$PY" - "$ABS_TOP_SRCDIR/tests/integration/notify-harness.py" "$W" "$WD" "${BENCH_READY_TIMEOUT:-600}" "${CMD[@]}" <<'PY' &
import importlib.util, json, os, signal, sys, time
path, w, wd, ready_timeout, argv = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
spec = importlib.util.spec_from_file_location("nh", path)
nh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nh)
h = nh.NotifyHarness(argv, watchdog_usec=wd, stdout=open(os.path.join(w, "daemon.out"), "w"))
h.start()
res = {}
try:
    t = time.monotonic()
    r = h.wait_ready(timeout=ready_timeout)
    res["ready_s"] = round(time.monotonic() - t, 3)
    res["status_at_ready"] = h.messages[r].get("STATUS")
    open(os.path.join(w, "pid"), "w").write(str(h.proc.pid))
    while not os.path.exists(os.path.join(w, "mark")):
        time.sleep(0.2)
    a = len(h.messages) - 1
    while not os.path.exists(os.path.join(w, "stop")):
        time.sleep(0.2)
    b = len(h.messages)
    res["window_messages"] = b - a - 1
    res["window_watchdog"] = h.pings(a, b)
    res["window_status"] = [m.get("STATUS") for m in h.messages[a + 1:b] if m.get("STATUS") is not None]
    t = time.monotonic()
    res["exit_status"] = h.stop(timeout=60)
    res["stop_s"] = round(time.monotonic() - t, 3)
except nh.HarnessError as e:
    res["error"] = str(e)
    res["exit_status"] = h.proc.poll()
finally:
    h.close()
    json.dump(res, open(os.path.join(w, "harness.json"), "w"))
    open(os.path.join(w, "pid"), "a").close()
PY
DRIVER=$!
while [ ! -f "$W/pid" ] && kill -0 "$DRIVER" 2>/dev/null; do sleep 0.2; done
PID=$(cat "$W/pid" 2>/dev/null)
if [ -z "$PID" ]; then
	wait "$DRIVER"; DRIVER=
	echo "the daemon never said READY=1: $(cat "$W/harness.json" 2>/dev/null)"
	tail -n5 "$W/daemon.out" 2>/dev/null
	exit 1
fi
sleep "$SETTLE"
calls0=$(ncalls)
touch "$W/mark"
idle_measure "$PID" "$SECS" "$W"
calls1=$(ncalls)
touch "$W/stop"
wait "$DRIVER"; DRIVER=
echo "AWS calls during the windows: $((calls1 - calls0))"
"$PY" - "$W/harness.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("READY=1 after %s s (STATUS=%r)" % (r.get("ready_s"), r.get("status_at_ready")))
print("notify messages during the windows: %s (WATCHDOG=1: %s; STATUS=: %s)" %
      (r.get("window_messages"), r.get("window_watchdog"), r.get("window_status") or "none"))
print("SIGTERM: exit status %s after %s s%s" % (r.get("exit_status"), r.get("stop_s"),
      "; harness: " + r["error"] if "error" in r else ""))
PY
