# SPDX-License-Identifier: Apache-2.0
"""The notify harness against test-notify-probe (argv[1]).

Each check counts messages between two other messages; the only time bounds
are the harness's own bounded waits (a step that never happens fails).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location("notify_harness",
                                              os.path.join(HERE, "..", "..", "integration", "notify-harness.py"))
nh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nh)

PROBE = sys.argv[1]
checks = 0
failures = 0


def check(cond, what):
    global checks, failures
    checks += 1
    if cond:
        print("ok %d - %s" % (checks, what))
    else:
        failures += 1
        print("not ok %d - %s" % (checks, what))


def full_cycle():
    """ready, pings, reload, stuck loop, extend, stop — with a 200 ms watchdog."""
    with nh.NotifyHarness([PROBE], watchdog_usec=200000) as h:
        r = h.wait_ready()
        check(h.messages[r].get("STATUS") == "probe: 0 ok, 0 failed", "READY=1 carries the STATUS line")
        check(h.senders() == {h.proc.pid}, "every message comes from the main PID (WATCHDOG_PID was its own)")
        p = h.wait_pings(3, r)
        check(h.pings(r, p + 1) == 3, "three WATCHDOG=1 after READY=1")
        gaps = [b.t - a.t for a, b in zip(h.messages, h.messages[1:])
                if a.get("WATCHDOG") == "1" and b.get("WATCHDOG") == "1"]
        check(all(g >= 0.095 for g in gaps), "pings at least WATCHDOG_USEC/2 apart (%s)" %
              ", ".join("%.3f" % g for g in gaps))

        sent = time.monotonic()
        a, b = h.reload()
        mono = int(h.messages[a].get("MONOTONIC_USEC")) / 1e6
        check(sent - 0.001 <= mono <= h.messages[a].t + 0.001,
              "RELOADING=1 has MONOTONIC_USEC of CLOCK_MONOTONIC at the reload")
        check(a < b and h.messages[b].get("READY") == "1", "READY=1 after RELOADING=1")

        check(h.watchdog_timeouts() == 0, "no watchdog timeout while the loop runs")
        h.send_signal(signal.SIGUSR1)
        i = h.wait_status("^hanging$")
        j = h.wait_status("^resumed$", i + 1)
        check(h.pings(i, j) == 0, "no WATCHDOG=1 while the loop is stuck")
        check(h.watchdog_timeouts() == 1, "the harness saw the watchdog time out (as systemd would)")
        k = h.wait_pings(1, j)
        check(k > j, "pings resume when the loop runs again")

        m = h.send_signal(signal.SIGUSR2)
        e = h.wait_field("EXTEND_TIMEOUT_USEC", "5000000", m + 1)
        check(e > m, "EXTEND_TIMEOUT_USEC=5000000")

        st = h.stop()
        check(st == 0, "STOPPING=1 on SIGTERM, then exit 0")
        check(h.messages[-1].get("STOPPING") == "1" or any(x.get("STOPPING") == "1" for x in h.messages),
              "STOPPING=1 recorded")
        log = h.log()
        check(any(d.get("event") == "exit 0" for d in log) and all("t" in d for d in log),
              "the log has every message and event with its time")


def no_watchdog_no_pings():
    with nh.NotifyHarness([PROBE]) as h:
        r = h.wait_ready()
        a, b = h.reload()
        st = h.stop()
        check(h.pings(-1) == 0, "without WATCHDOG_USEC the program never pings")
        check(st == 0 and r < a < b, "ready, reload, stop in order")


def failing_checks_and_exit_status():
    with tempfile.TemporaryDirectory() as d:
        with nh.NotifyHarness([PROBE, "--write", d, "--deny", d, "--exec", "exit 4"],
                               stdout=subprocess.DEVNULL) as h:
            r = h.wait_ready()
            check(h.messages[r].get("STATUS") == "probe: 1 ok, 2 failed", "STATUS reports the probe's checks")
            check(h.stop() == 1, "exit status 1 recorded")
        with nh.NotifyHarness([PROBE, "--exit", "3"]) as h:
            h.wait_ready()
            check(h.stop() == 3, "exit status 3 recorded")


def bounded_waits_fail():
    with nh.NotifyHarness(["/bin/sleep", "30"]) as h:
        t = time.monotonic()
        try:
            h.wait_ready(timeout=0.3)
            check(False, "wait_ready fails for a program that never says READY=1")
        except nh.HarnessError:
            check(time.monotonic() - t < 5, "wait_ready fails for a program that never says READY=1")
    with nh.NotifyHarness(["/bin/sh", "-c", "exit 7"]) as h:
        try:
            h.wait_ready(timeout=30)
            check(False, "wait_ready fails at once when the program exits")
        except nh.HarnessError as e:
            check("exited (7)" in str(e), "wait_ready fails at once when the program exits: %s" % e)


def cli():
    harness = os.path.join(HERE, "..", "..", "integration", "notify-harness.py")
    steps = ["ready", "pings=2", "reload", "signal=USR1", "no-pings-between=^hanging$,^resumed$", "stop"]
    argv = [sys.executable, harness, "--watchdog-usec", "200000"]
    for s in steps:
        argv += ["--step", s]
    p = subprocess.run(argv + ["--", PROBE], capture_output=True, text=True)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    check(p.returncode == 0, "CLI: all steps pass (%s)" % p.stderr.strip().replace("\n", "; "))
    check(any(d.get("fields", {}).get("RELOADING") == "1" for d in lines), "CLI: JSON log of the messages")
    # A step that cannot hold fails the CLI.
    p = subprocess.run([sys.executable, harness, "--timeout", "5", "--step", "ready", "--step", "stop", "--step", "exit=9",
                        "--", PROBE, "--exit", "2"], capture_output=True, text=True, input="")
    check(p.returncode == 1, "CLI: a step that fails makes it exit 1")


full_cycle()
no_watchdog_no_pings()
failing_checks_and_exit_status()
bounded_waits_fail()
cli()
print("1..%d" % checks)
sys.exit(1 if failures else 0)
