#!/usr/bin/python3
"""Drives the daemon for test-daemon.sh; prints TAP lines, exits 0 when all pass."""
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

CONF, D = sys.argv[1], sys.argv[2]
AGENT = os.environ["ACM_AGENT"]
CA = os.environ["CA_SUB"]
SRC = os.environ["ABS_TOP_SRCDIR"]
spec = importlib.util.spec_from_file_location("nh", os.path.join(SRC, "tests/integration/notify-harness.py"))
nh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nh)

n = 0
failed = 0


def check(cond, what, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, what))
    else:
        failed += 1
        print("not ok %d - %s%s" % (n, what, (": " + detail) if detail else ""))
    sys.stdout.flush()
    return cond


def ctl(method, path, body=None):
    req = urllib.request.Request(os.environ["EMU_CONTROL_URL"] + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def issue_calls(name):
    calls = ctl("GET", "/calls?operation=acm-pca:IssueCertificate")["calls"]
    return len([c for c in calls if name + ".example.com" in json.dumps(c.get("parameters", {}))
                or c.get("result_CertificateArn") and False])


def state(name):
    try:
        return json.load(open(os.path.join(D, "state/certs", name, "state.json")))
    except (FileNotFoundError, ValueError):
        return {}


def served(name):
    return (state(name).get("served") or {}).get("serial")


def until(pred, timeout=60.0):
    """Polls pred (bounded); the bound is a deadline for a failure, not a measurement."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def status_json():
    p = subprocess.run([AGENT, "-c", CONF, "status", "--json"], capture_output=True, text=True)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        return p.returncode, {}


def drop_in(name, text):
    """The editor dance: write a temp file, rename it over the drop-in."""
    tmp = os.path.join(D, "certs.d", ".%s.yaml.swp" % name)
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(D, "certs.d", name + ".yaml"))


def cert_yaml(name, names):
    return ("certificates:\n  - name: %s\n    issuer: {type: pca, ca_arn: \"%s\", validity: 30d}\n"
            "    dns_names: [%s]\n    key: {type: ec, curve: P-256}\n") % (name, CA, ", ".join(names))


LOG = os.path.join(D, "daemon.log")
log = open(LOG, "w")


def agent_argv():
    # stderr (the log when not under journald) into the log file
    return ["/bin/sh", "-c", 'exec "$@" 2>>"$0"', LOG, AGENT, "-c", CONF]


def logged(text):
    return text in open(LOG).read()


h = nh.NotifyHarness(agent_argv(), watchdog_usec=1000000, stdout=log)
h.start()
try:
    ready = h.wait_ready(timeout=30)
    check(ready is not None, "READY=1 after the configuration and the states are loaded")
    check(until(lambda: served("a")), "certificate a issued by the service")
    st = until(lambda: h.wait_status(r"^1 certificate, next: a in \d+d$", timeout=30))
    check(st is not None, "STATUS= says how many and what is next", str(h.statuses()[-3:]))
    start = len(h.messages)
    check(h.wait_pings(2, start=start, timeout=30) is not None, "watchdog pings at half of WATCHDOG_USEC while idle")
    rc, doc = status_json()
    check(rc == 0 and doc["certificates"][0]["state"] == "valid", "status works while the service runs (exit 0)",
          "exit %d" % rc)
    metrics = os.path.join(D, "metrics.prom")
    check(until(lambda: os.path.exists(metrics) and 'name="a",state="valid"} 1' in open(metrics).read()),
          "the metrics textfile is written after the change")
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], stdin=open(metrics), capture_output=True, text=True)
        check(p.returncode == 0, "promtool check metrics accepts the textfile", p.stdout + p.stderr)

    # a new drop-in through the editor's rename dance
    before = len(h.messages)
    drop_in("b", cert_yaml("b", ["b.example.com"]))
    check(until(lambda: served("b")), "a new drop-in: certificate b issued without a restart")
    rel = h.wait_field("RELOADING", "1", start=before, timeout=30)
    check(rel is not None and h.wait_ready(start=rel, timeout=30) is not None,
          "RELOADING=1 then READY=1 around the reload")

    # a broken edit is rejected; the running configuration keeps working
    drop_in("broken", "certificates:\n  - name: c\n    issuer: {type: pca\n")
    check(until(lambda: logged("rejected")), "a broken edit is rejected")
    text = open(LOG).read()
    check(any("certs.d/broken.yaml:" in l and ":" in l for l in text.splitlines()),
          "the rejection names FILE:LINE:COLUMN", str([l for l in text.splitlines() if "broken" in l][-2:]))
    check(h.proc.poll() is None and state("a").get("phase") == "valid" and state("b").get("phase") == "valid",
          "the running configuration stays (the service runs on, a and b valid)")
    rc, doc = status_json()
    check(rc == 2, "status refuses the broken file on disk too (exit 2), so the operator sees it", "exit %d" % rc)
    os.unlink(os.path.join(D, "certs.d", "broken.yaml"))
    check(until(lambda: status_json()[0] == 0), "fixed: status is clean again")

    # a changed name list is reissued
    old_b = served("b")
    drop_in("b", cert_yaml("b", ["b.example.com", "b2.example.com"]))
    check(until(lambda: served("b") and served("b") != old_b), "a changed name list: b reissued")
    out = subprocess.run(["openssl", "x509", "-in", os.path.join(D, "out/b/cert.pem"), "-noout", "-ext",
                          "subjectAltName"], capture_output=True, text=True).stdout
    check("b2.example.com" in out, "the new certificate has the new name", out)

    # a removed certificate is no longer managed; its files stay
    os.unlink(os.path.join(D, "certs.d", "b.yaml"))
    check(until(lambda: logged("b: no longer in the configuration")), "a removed drop-in: b no longer managed")
    check(os.path.exists(os.path.join(D, "out/b/cert.pem")), "its files stay (on_remove: keep)")

    # SIGHUP reloads too
    before = len(h.messages)
    h.send_signal(signal.SIGHUP)
    rel = h.wait_field("RELOADING", "1", start=before, timeout=30)
    check(rel is not None and h.wait_ready(start=rel, timeout=30) is not None, "SIGHUP: RELOADING=1 then READY=1")

    # The steady state does not wait for the disk on the event loop: a
    # reload with nothing changed rewrites the metrics textfile (on the loop)
    # and no fsync/fdatasync comes from the loop's thread (the agent's main
    # thread; state saves run on workers). strace -f watches every thread.
    strace = shutil.which("strace")
    check(strace is not None, "strace is installed (sh tools/install-deps.sh --tests)")
    if strace:
        pid = h.proc.pid
        trace = os.path.join(D, "fsync.trace")
        tr = subprocess.Popen([strace, "-f", "-e", "trace=fsync,fdatasync,syncfs,sync_file_range,sync",
                               "-o", trace, "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def traced():
            with open("/proc/%d/status" % pid) as f:
                return any(l.startswith("TracerPid:") and l.split()[1] != "0" for l in f)
        # (strace gone at once, e.g. ptrace refused: no need to wait on)
        attached = until(lambda: tr.poll() is not None or traced(), timeout=30) and tr.poll() is None
        if not attached:
            tr.kill()
            err = tr.communicate()[1].decode(errors="replace")
            check("Operation not permitted" in err, "strace attached to the service", err)
            print("# skip: this machine does not allow ptrace (%s)" % err.strip())
        else:
            mtime = os.stat(metrics).st_mtime_ns
            before = len(h.messages)
            h.send_signal(signal.SIGHUP)
            rel = h.wait_field("RELOADING", "1", start=before, timeout=30)
            check(rel is not None and h.wait_ready(start=rel, timeout=30) is not None, "traced: reloaded")
            check(until(lambda: os.stat(metrics).st_mtime_ns != mtime), "traced: the metrics textfile was rewritten")
            tr.send_signal(signal.SIGINT)
            tr.wait(timeout=30)
            lines = open(trace).read().splitlines()
            loop = [l for l in lines if l.split(" ", 1)[0] == str(pid)]
            check(not loop, "no fsync on the event loop's thread in the steady state (%d sync calls on other threads)"
                  % (len(lines) - len(loop)), "\n".join(loop[:5]))

    # SIGTERM in the middle of an issuance
    ctl("POST", "/settings", {"pca_in_progress_seconds": 3600})
    drop_in("c", cert_yaml("c", ["c.example.com"]))
    check(until(lambda: (state("c").get("issuer") or {}).get("arn")), "c's request answered, its ARN saved")
    arn = state("c")["issuer"]["arn"]
    before = len(h.messages)
    rc = h.stop(timeout=60)
    check(rc == 0, "SIGTERM: exit 0", "exit %s" % rc)
    check(h.wait_field("STOPPING", "1", start=before, timeout=5) is not None, "STOPPING=1")
finally:
    h.close()

calls_before = len(ctl("GET", "/calls?operation=acm-pca:IssueCertificate")["calls"])
h = nh.NotifyHarness(agent_argv(), stdout=log)
h.start()
try:
    check(h.wait_ready(timeout=30) is not None, "restarted: READY=1")
    check(until(lambda: logged("c: resuming an interrupted issuance")), "the restart resumes c's issuance")
    # the CA finishes it: the emulator's clock past its RequestInProgress hour
    ctl("POST", "/clock", {"advance_seconds": 3601})
    check(until(lambda: served("c")), "c served after the restart")
    check((state("c").get("served") or {}).get("arn") == arn, "with the same ARN")
    calls_after = len(ctl("GET", "/calls?operation=acm-pca:IssueCertificate")["calls"])
    check(calls_after == calls_before, "no second IssueCertificate",
          "%d before, %d after" % (calls_before, calls_after))
    check(h.stop(timeout=60) == 0, "stopped again")
finally:
    h.close()
log.close()
print("1..%d" % n)
sys.exit(1 if failed else 0)
