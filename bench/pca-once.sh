#!/bin/bash
# Benchmark (figures, not pass/fail): `acm-agent --once` with many EC P-256
# certificates from the emulated Private CA.
#  (1) BENCH_N (1000) certificates issued in one pass at an IssueCertificate
#      quota of 25/s (burst 25): wall time against the floor N/25 s, peak RSS,
#      ThrottlingExceptions (emulator log and the agent's own count);
#  (2) BENCH_RUNS (21) passes when all are valid: median / min / max wall time
#      and peak RSS.
# Run with `make bench` (or set ACM_AGENT, ABS_TOP_SRCDIR, PYTHON3 yourself).
set -u
: "${ACM_AGENT:?run through make bench}"
: "${ABS_TOP_SRCDIR:?run through make bench}"
: "${ABS_TOP_BUILDDIR:?run through make bench}"
N=${BENCH_N:-1000}
RUNS=${BENCH_RUNS:-21}
RATE=${BENCH_RATE:-25}
PY=${PYTHON3:-/usr/bin/python3}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: /usr/bin/time is needed (sh tools/install-deps.sh installs package time)"; exit 1; }
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/bench/once-lib.sh"
W=$(mktemp -d /tmp/acm-bench.XXXXXX)
cleanup() { emu_stop; [ -n "${BENCH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"; }
trap cleanup EXIT
emu_start --tls >/dev/null || exit 1
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
	i=0
	while [ $i -lt "$N" ]; do
		n=$(printf 'c%04d' $i)
		cat <<EOY
  - name: $n
    issuer: {type: pca, ca_arn: "$CA", validity: 30d}
    dns_names: [$n.example.com]
    key: {type: ec, curve: P-256}
EOY
		i=$((i + 1))
	done
} >"$W/acm-agent.yaml"

echo "== machine"
echo "nproc: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); kernel: $(uname -r)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared)"
echo "$("$ACM_AGENT" --version | head -n1); $(openssl version); $(curl --version | head -n1 | cut -d' ' -f1-2); emulator: $("$PY" --version) on the same machine"
echo "method: (1) wall time and peak RSS (\"Maximum resident set size\") from /usr/bin/time -v around one acm-agent process;"
echo "        throttling from the emulator's call log (GET /calls) and the agent's --json summary; (2) see below"

emu_ctl POST /quota "{\"operation\": \"acm-pca:IssueCertificate\", \"per_second\": $RATE, \"burst\": $RATE}" >/dev/null
echo
echo "== (1) $N certificates, one --once pass, IssueCertificate quota $RATE/s burst $RATE"
"$TIME" -v -o "$W/time.1" "$ACM_AGENT" -c "$W/acm-agent.yaml" --once --json >"$W/once.json" 2>"$W/once.err"
rc=$?
"$PY" - "$W" "$N" "$RATE" "$rc" <<'PY'
import json, os, re, sys, urllib.request
w, n, rate, rc = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
t = open(os.path.join(w, "time.1")).read()
def field(name):
    for line in t.splitlines():
        if line.strip().startswith(name):
            return line.rsplit(": ", 1)[1].strip()
    return "?"
def secs(s):
    parts = [float(p) for p in s.split(":")]
    v = 0.0
    for p in parts: v = v * 60 + p
    return v
wall = secs(field("Elapsed (wall clock) time"))
floor = n / rate
calls = json.load(urllib.request.urlopen(os.environ["EMU_CONTROL_URL"] + "/calls"))["calls"]
issue = [c for c in calls if c["operation"] == "acm-pca:IssueCertificate"]
thr = [c for c in issue if c.get("error") == "ThrottlingException"]
allthr = [c for c in calls if c.get("error") == "ThrottlingException"]
arns = {c["result_CertificateArn"] for c in issue if c.get("result_CertificateArn")}
try:
    doc = json.load(open(os.path.join(w, "once.json")))
except ValueError:
    doc = {}
certs = doc.get("certificates", [])
acts = {}
for c in certs:
    acts[c.get("action")] = acts.get(c.get("action"), 0) + 1
print("exit status %d; actions %s" % (rc, json.dumps(acts, sort_keys=True)))
print("wall time %.1f s; floor %d/%g = %.1f s; ratio %.2f" % (wall, n, rate, floor, wall / floor))
print("peak RSS %s KiB (%.1f MiB); user %s s, system %s s, CPU %s" % (field("Maximum resident set size (kbytes)"),
      int(field("Maximum resident set size (kbytes)")) / 1024.0, field("User time (seconds)"), field("System time (seconds)"),
      field("Percent of CPU this job got")))
print("IssueCertificate calls %d, certificates issued %d, ThrottlingException on IssueCertificate %d (all operations %d)" %
      (len(issue), len(arns), len(thr), len(allthr)))
ops = {}
for c in calls:
    ops[c["operation"]] = ops.get(c["operation"], 0) + 1
print("emulator calls by operation: %s" % json.dumps(ops, sort_keys=True))
s = doc.get("summary")
if s is not None:
    print("agent --json summary: %s" % json.dumps(s, sort_keys=True))
PY
grep -c 'error' "$W/once.err" | sed 's/^/error lines on stderr: /'

once_idle_runs
