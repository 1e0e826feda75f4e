#!/bin/bash
# Benchmark (figures, not pass/fail): `acm-agent --once` with BENCH_N (1000)
# public, exportable EC P-256 ACM certificates validated through Route 53 in
# one hosted zone, at AWS's quotas as the emulator enforces them
# (RequestCertificate 5/s: a floor of N/5 s; DescribeCertificate 10/s;
# ExportCertificate 10/s; Route 53 10/s for the account), with the
# emulator's asynchronous behaviour turned on (records after
# BENCH_RECORD_DELAY s, Route 53 INSYNC after BENCH_INSYNC s, ISSUED
# BENCH_VALIDATION_DELAY s after the CNAME is seen).
#   (1) the pass: wall time against the floor, peak RSS, certificates
#       issued / failed, calls per operation, ChangeResourceRecordSets and
#       records per call, ThrottlingExceptions (the emulator's log and the
#       agent's own count);
#   (2) BENCH_RUNS (21) passes when all are valid: wall time, RSS, AWS calls.
# Run with `make bench-acm` (or set ACM_AGENT, ABS_TOP_SRCDIR, ABS_TOP_BUILDDIR, PYTHON3).
set -u
: "${ACM_AGENT:?run through make bench-acm}"
: "${ABS_TOP_SRCDIR:?run through make bench-acm}"
: "${ABS_TOP_BUILDDIR:=$ABS_TOP_SRCDIR}"
N=${BENCH_N:-1000}
RUNS=${BENCH_RUNS:-21}
RECORD_DELAY=${BENCH_RECORD_DELAY:-2}
INSYNC=${BENCH_INSYNC:-2}
VALIDATION_DELAY=${BENCH_VALIDATION_DELAY:-5}
PY=${PYTHON3:-/usr/bin/python3}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: /usr/bin/time is needed (sh tools/install-deps.sh installs package time)"; exit 1; }
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/bench/once-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-acm-lib.sh"
unset ACM_AGENT_ACM_POLL_DEADLINE
W=$(mktemp -d /tmp/acm-bench.XXXXXX)
cleanup() { emu_stop; [ -n "${BENCH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"; }
trap cleanup EXIT
emu_start --tls >/dev/null || exit 1
export AWS_CA_BUNDLE=$EMU_CA_BUNDLE
acm_public_roots "$W/roots.pem" || { echo "bench: cannot get the emulated public roots"; exit 1; }
emu_ctl POST /reset >/dev/null
emu_ctl POST /settings "{\"acm_record_delay_seconds\": $RECORD_DELAY, \"route53_insync_seconds\": $INSYNC, \"acm_validation_delay_seconds\": $VALIDATION_DELAY}" >/dev/null
# the DNS check asks a closed port: "cannot confirm" at once (the emulated
# Route 53 zone is served by no DNS server)
CLOSED=127.0.0.1:$("$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

{
	cat <<EOY
state_dir: "$W/state"
output_root: "$W/out"
aws:
  region: us-east-1
  ca_bundle: "$EMU_CA_BUNDLE"
certificates:
EOY
	i=0
	while [ $i -lt "$N" ]; do
		n=$(printf 'c%04d' $i)
		cat <<EOY
  - name: $n
    issuer: {type: acm, key_algorithm: EC_prime256v1, trust_store: "$W/roots.pem"}
    dns_names: [$n.example.com]
    dns: {provider: route53, nameservers: ["$CLOSED"]}
EOY
		i=$((i + 1))
	done
} >"$W/acm-agent.yaml"

echo "== machine"
echo "nproc: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); kernel: $(uname -r)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared)"
echo "$("$ACM_AGENT" --version | head -n1); $(openssl version); emulator: $("$PY" --version) on the same machine"
echo "emulator: records after ${RECORD_DELAY} s, Route 53 INSYNC after ${INSYNC} s, ISSUED ${VALIDATION_DELAY} s after the CNAME is seen; quotas:"
emu_ctl GET /quota | "$PY" -c '
import json, sys
q = json.load(sys.stdin)
print("  " + ", ".join("%s %g/s burst %g" % (k, v["per_second"], v["burst"]) for k, v in sorted(q.items())
                       if k in ("acm:RequestCertificate", "acm:DescribeCertificate", "acm:ExportCertificate",
                                "acm:ListCertificates", "route53")))'
echo
echo "== (1) $N certificates, one --once pass"
"$TIME" -v -o "$W/time.1" "$ACM_AGENT" -c "$W/acm-agent.yaml" --once --json >"$W/once.json" 2>"$W/once.err"
rc=$?
"$PY" - "$W" "$N" "$rc" "$VALIDATION_DELAY" <<'PY'
import json, os, sys, urllib.request
w, n, rc, vdelay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
t = open(os.path.join(w, "time.1")).read()
def field(name):
    for line in t.splitlines():
        if line.strip().startswith(name):
            return line.rsplit(": ", 1)[1].strip()
    return "?"
def secs(s):
    v = 0.0
    for p in s.split(":"):
        v = v * 60 + float(p)
    return v
wall = secs(field("Elapsed (wall clock) time"))
floor = n / 5.0
calls = json.load(urllib.request.urlopen(os.environ["EMU_CONTROL_URL"] + "/calls"))["calls"]
try:
    doc = json.load(open(os.path.join(w, "once.json")))
except ValueError:
    doc = {}
acts = {}
for c in doc.get("certificates", []):
    acts[c.get("action")] = acts.get(c.get("action"), 0) + 1
print("exit status %d; actions %s" % (rc, json.dumps(acts, sort_keys=True)))
print("wall time %.1f s; floor %d/5 = %.0f s; ratio %.3f; aim 1.15 x %.0f + %g = %.0f s" %
      (wall, n, floor, wall / floor, floor, vdelay, 1.15 * floor + vdelay))
print("peak RSS %s KiB (%.1f MiB); user %s s, system %s s, CPU %s" % (field("Maximum resident set size (kbytes)"),
      int(field("Maximum resident set size (kbytes)")) / 1024.0, field("User time (seconds)"),
      field("System time (seconds)"), field("Percent of CPU this job got")))
ops, thr = {}, {}
for c in calls:
    ops[c["operation"]] = ops.get(c["operation"], 0) + 1
    if c.get("error") == "ThrottlingException" or c.get("error") == "Throttling":
        thr[c["operation"]] = thr.get(c["operation"], 0) + 1
print("emulator calls by operation: %s" % json.dumps(ops, sort_keys=True))
print("ThrottlingException by operation (emulator log): %s" % (json.dumps(thr, sort_keys=True) if thr else "none"))
arns = {c["result_CertificateArn"] for c in calls if c["operation"] == "acm:RequestCertificate" and c.get("result_CertificateArn")}
print("certificates requested %d (RequestCertificate calls %d)" % (len(arns), ops.get("acm:RequestCertificate", 0)))
crr = [c for c in calls if c["operation"] == "route53:ChangeResourceRecordSets" and c["status"] == 200]
recs = sum(len(((c.get("parameters") or {}).get("ChangeBatch") or {}).get("Changes", [])) for c in crr)
sizes = [len(((c.get("parameters") or {}).get("ChangeBatch") or {}).get("Changes", [])) for c in crr]
print("ChangeResourceRecordSets %d for %d records: %.1f records per call (sizes in order: %s)" %
      (len(crr), recs, recs / len(crr) if crr else 0, " ".join(str(x) for x in sizes)))
print("DescribeCertificate per certificate %.2f; ExportCertificate per certificate %.2f; ListCertificates %d" %
      (ops.get("acm:DescribeCertificate", 0) / n, ops.get("acm:ExportCertificate", 0) / n, ops.get("acm:ListCertificates", 0)))
s = doc.get("summary")
if s is not None:
    a = s.get("aws") or {}
    print("agent --json summary: %s" % json.dumps({k: v for k, v in s.items() if k != "aws"}, sort_keys=True))
    print("agent's own AWS counts: throttles %s; calls %s" % (a.get("throttles"), json.dumps(a.get("calls"), sort_keys=True)))
PY
echo "error lines on stderr: $(grep -c 'error' "$W/once.err")"
grep 'error' "$W/once.err" | head -n 5 | sed 's/^/  /'

once_idle_runs
