#!/bin/bash
# Benchmark (figures, not pass/fail): what certmonger (Debian's package)
# costs while it tracks BENCH_N (1000) certificates and has nothing to do —
# the yardstick for acm-agent's daemon (bench/daemon-idle.sh measures it the
# same way, bench/daemon-idle-lib.sh).
#
# No D-Bus system bus is needed: certmonger runs with -L -P SOCKET (only a
# private listening socket, no bus) and getcert reaches it through
# CERTMONGER_PVT_ADDRESS. Its request and CA stores go to a temporary
# directory (CERTMONGER_REQUESTS_DIR, CERTMONGER_CAS_DIR, CERTMONGER_TMPDIR),
# so the machine's own certmonger state is not touched.
#
# Steps: N EC P-256 self-signed certificates valid BENCH_DAYS (90) days made
# with openssl; certmonger started; `getcert start-tracking -R` (monitor, no
# renewal: no CA is involved) for each; wait until all are MONITORING; let it
# settle BENCH_SETTLE (10) s; then the idle windows of BENCH_SECS (60) s:
# CPU time and wake-ups untraced, then `strace -c -f -p` for the system
# calls; peak RSS. Needs certmonger, getcert, openssl, strace.
#
#   bench/certmonger-idle.sh        (BENCH_N=100 BENCH_SECS=10 for a quick look)
set -u
N=${BENCH_N:-1000}
SECS=${BENCH_SECS:-60}
SETTLE=${BENCH_SETTLE:-10}
DAYS=${BENCH_DAYS:-90}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/daemon-idle-lib.sh"
for t in certmonger getcert openssl; do
	command -v $t >/dev/null 2>&1 || { echo "bench: $t is needed (apt-get install certmonger openssl)"; exit 1; }
done
W=$(mktemp -d /tmp/certmonger-bench.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/requests" "$W/cas" "$W/tmp" "$W/local" "$W/certs"
export CERTMONGER_REQUESTS_DIR=$W/requests CERTMONGER_CAS_DIR=$W/cas CERTMONGER_TMPDIR=$W/tmp
export CERTMONGER_LOCAL_CA_DIR=$W/local CERTMONGER_CONFIG_DIR=$W
export CERTMONGER_PVT_ADDRESS=unix:path=$W/socket

echo "== machine"
echo "nproc: $(nproc); kernel: $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared)"
echo "$(dpkg-query -W -f '${Package} ${Version}' certmonger 2>/dev/null || certmonger -v)"

echo "== $N certificates (EC P-256, self-signed, $DAYS days)"
t0=$(date +%s)
i=0
while [ $i -lt "$N" ]; do
	n=$(printf 'c%04d' $i)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$DAYS" \
		-subj "/CN=$n.example.com" -keyout "$W/certs/$n.key" -out "$W/certs/$n.pem" 2>/dev/null ||
		{ echo "bench: openssl failed"; exit 1; }
	i=$((i + 1))
done
echo "made in $(( $(date +%s) - t0 )) s"

echo "== certmonger -n -L -P $W/socket (private socket only, no D-Bus bus)"
certmonger -n -L -P "$W/socket" -p "$W/pid" >"$W/certmonger.log" 2>&1 &
PID=$!
for _ in $(seq 100); do [ -S "$W/socket" ] && break; sleep 0.1; done
[ -S "$W/socket" ] || { echo "bench: certmonger did not open its socket"; cat "$W/certmonger.log"; exit 1; }

# BENCH_JOBS (8) getcert clients at a time: certmonger answers one request
# after the other, the clients' own start-up overlaps.
t0=$(date +%s)
seq 0 $((N - 1)) | awk '{ printf "c%04d\n", $1 }' |
	xargs -P "${BENCH_JOBS:-8}" -I{} getcert start-tracking -R -I {} -k "$W/certs/{}.key" -f "$W/certs/{}.pem" \
	>"$W/getcert.out" 2>"$W/getcert.err"
added=$(grep -c 'New tracking request' "$W/getcert.out")
echo "tracking requests: $added added in $(( $(date +%s) - t0 )) s$( [ -s "$W/getcert.err" ] && echo "; errors: $(sort "$W/getcert.err" | uniq -c | head -n3 | tr '\n' ' ')")"
for _ in $(seq 600); do
	m=$(getcert list 2>/dev/null | grep -c 'status: MONITORING')
	[ "$m" -ge "$N" ] && break
	sleep 0.5
done
echo "MONITORING: $m of $N (after $(( $(date +%s) - t0 )) s)"
getcert list 2>/dev/null | sed -n 's/^[[:space:]]*status: //p' | sort | uniq -c | sed 's/^/    /'
[ "$m" -ge "$N" ] || echo "bench: not all certificates reached MONITORING; the figures below are for that state"
sleep "$SETTLE"

echo "== idle: certmonger tracking $N certificates, nothing due"
idle_measure "$PID" "$SECS" "$W"
echo "request files: $(ls "$W/requests" | wc -l), $(du -sh "$W/requests" | cut -f1)"
