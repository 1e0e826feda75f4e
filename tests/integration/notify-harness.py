#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""notify-harness: plays systemd's side of the notify protocol for one process.

It binds a datagram socket, starts the program with NOTIFY_SOCKET pointing at
it (and WATCHDOG_USEC / WATCHDOG_PID when a watchdog is asked for, the PID
being the program's own), and records every message with the monotonic time
it arrived and the sender's PID (SCM_CREDENTIALS, as systemd checks
NotifyAccess=main). Like systemd it can enforce the watchdog: no WATCHDOG=1
for WATCHDOG_USEC means a recorded "watchdog timeout" (and SIGABRT with
watchdog_kill=True).

As a module:

    h = NotifyHarness([prog, args...], watchdog_usec=200000)
    h.start()
    ready = h.wait_ready(timeout=10)             # index of the READY=1 message
    before, after = h.reload(timeout=10)         # SIGHUP; RELOADING=1 ... READY=1
    h.count("WATCHDOG", "1", ready, after)       # pings between two messages
    h.wait_status(r"resumed", timeout=5)
    status = h.stop(timeout=10)                  # SIGTERM; STOPPING=1, exit status
    h.close()

As a program (steps run in order, each bounded; exit 0 when all hold, 1
otherwise, the message log on stdout as JSON lines):

    notify-harness.py [--watchdog-usec N] [--timeout S] [--log FILE]
                      [--step STEP]... -- PROGRAM [ARGS...]
    steps: ready | reload | stop | exit=N | status=REGEX | pings=N (wait for N
           more WATCHDOG=1) | signal=NAME | no-pings-between=REGEX1,REGEX2
           (no WATCHDOG=1 between the STATUS= messages matching them)
"""

import argparse
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SO_PASSCRED = getattr(socket, "SO_PASSCRED", 16)
SCM_CREDENTIALS = getattr(socket, "SCM_CREDENTIALS", 2)


class HarnessError(Exception):
    pass


class Message:
    """One datagram: its fields, when it came (time.monotonic()), who sent it."""

    def __init__(self, t, pid, raw):
        self.t = t
        self.pid = pid
        self.raw = raw
        self.fields = {}
        for line in raw.split("\n"):
            if "=" in line:
                k, v = line.split("=", 1)
                self.fields[k] = v

    def get(self, k):
        return self.fields.get(k)

    def as_dict(self, t0):
        return {"t": round(self.t - t0, 6), "pid": self.pid, "fields": self.fields}


class NotifyHarness:
    def __init__(self, argv, watchdog_usec=None, watchdog_kill=False, env=None, stdout=None):
        self.argv = list(argv)
        self.stdout = stdout
        self.watchdog_usec = watchdog_usec
        self.watchdog_kill = watchdog_kill
        self.env = dict(os.environ if env is None else env)
        self.messages = []
        self.events = []          # (time, what): "watchdog timeout", "signal HUP", "exit N"
        self.proc = None
        self.t0 = None
        self._cond = threading.Condition()
        self._stop = False
        self._dir = None
        self._sock = None
        self._thread = None
        self.exit_status = None

    # -- life cycle -------------------------------------------------------

    def start(self):
        self._dir = tempfile.mkdtemp(prefix="notify-harness.")
        path = os.path.join(self._dir, "notify")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, SO_PASSCRED, 1)
        self._sock.bind(path)
        env = dict(self.env)
        env["NOTIFY_SOCKET"] = path
        for k in ("WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"):
            env.pop(k, None)
        argv = self.argv
        if self.watchdog_usec:
            env["WATCHDOG_USEC"] = str(int(self.watchdog_usec))
            # WATCHDOG_PID must be the program's PID: a shell learns its own
            # ($$) and execs the program, which keeps it.
            argv = ["/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh"] + argv
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, stdout=self.stdout)
        self._thread = threading.Thread(target=self._reader, daemon=True)
        self._thread.start()
        return self

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stop = True
        if self._thread:
            self._thread.join(timeout=5)
        if self._sock:
            self._sock.close()
        if self._dir:
            try:
                os.unlink(os.path.join(self._dir, "notify"))
            except OSError:
                pass
            os.rmdir(self._dir)
            self._dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def _reader(self):
        try:
            self._read_loop()
        finally:
            with self._cond:
                self._cond.notify_all()

    def _read_loop(self):
        last_ping = time.monotonic()
        timed_out = False
        while not self._stop:
            timeout = 0.05
            if self.watchdog_usec:
                timeout = min(timeout, max(0.0, last_ping + self.watchdog_usec / 1e6 - time.monotonic()))
            r, _, _ = select.select([self._sock], [], [], timeout)
            now = time.monotonic()
            if r:
                data, anc, _, _ = self._sock.recvmsg(4096, socket.CMSG_SPACE(12))
                pid = None
                for level, kind, cdata in anc:
                    if level == socket.SOL_SOCKET and kind == SCM_CREDENTIALS:
                        pid = struct.unpack("iII", cdata[:12])[0]
                m = Message(now, pid, data.decode("utf-8", "replace"))
                with self._cond:
                    self.messages.append(m)
                    if m.get("WATCHDOG") == "1":
                        last_ping = now
                        timed_out = False
                    self._cond.notify_all()
            if self.proc.poll() is not None:
                with self._cond:
                    if self.exit_status is None:
                        self.exit_status = self.proc.returncode
                        self.events.append((now, "exit %d" % self.proc.returncode))
                    self._cond.notify_all()
                # Keep reading what is still queued, then stop.
                if not r:
                    break
                continue
            # systemd's watchdog: a ping missing for WATCHDOG_USEC.
            if (self.watchdog_usec and not timed_out and self._ready_seen()
                    and now - last_ping >= self.watchdog_usec / 1e6):
                timed_out = True
                with self._cond:
                    self.events.append((now, "watchdog timeout"))
                    self._cond.notify_all()
                if self.watchdog_kill:
                    self.proc.send_signal(signal.SIGABRT)

    def _ready_seen(self):
        return any(m.get("READY") == "1" for m in self.messages)

    # -- queries ----------------------------------------------------------

    def wait_for(self, pred, start=0, timeout=10.0, what="message"):
        """Index of the first message at or after start for which pred(m) holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(start, len(self.messages)):
                    if pred(self.messages[i]):
                        return i
                if self.exit_status is not None and not self._thread.is_alive():
                    raise HarnessError("%s: the program exited (%d) first" % (what, self.exit_status))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError("%s: not within %.1f s" % (what, timeout))
                self._cond.wait(left)

    def wait_field(self, key, value, start=0, timeout=10.0):
        return self.wait_for(lambda m: m.get(key) == value, start, timeout, "%s=%s" % (key, value))

    def wait_ready(self, start=0, timeout=10.0):
        return self.wait_field("READY", "1", start, timeout)

    def wait_status(self, regex, start=0, timeout=10.0):
        rx = re.compile(regex)
        return self.wait_for(lambda m: m.get("STATUS") is not None and rx.search(m.get("STATUS")),
                             start, timeout, "STATUS~/%s/" % regex)

    def statuses(self):
        with self._cond:
            return [m.get("STATUS") for m in self.messages if m.get("STATUS") is not None]

    def count(self, key, value, start=0, end=None):
        """Messages with key=value whose index is in (start, end) (end None: to now)."""
        with self._cond:
            end = len(self.messages) if end is None else end
            return sum(1 for m in self.messages[start + 1:end] if m.get(key) == value)

    def pings(self, start=0, end=None):
        return self.count("WATCHDOG", "1", start, end)

    def wait_pings(self, n, start=None, timeout=10.0):
        """Waits for n more WATCHDOG=1 after message index start (default: now)."""
        with self._cond:
            start = len(self.messages) - 1 if start is None else start
        i = start
        for _ in range(n):
            i = self.wait_field("WATCHDOG", "1", i + 1, timeout)
        return i

    def watchdog_timeouts(self):
        with self._cond:
            return sum(1 for _, what in self.events if what == "watchdog timeout")

    def senders(self):
        with self._cond:
            return {m.pid for m in self.messages}

    # -- actions ----------------------------------------------------------

    def send_signal(self, sig):
        with self._cond:
            self.events.append((time.monotonic(), "signal %s" % signal.Signals(sig).name))
            mark = len(self.messages) - 1
        self.proc.send_signal(sig)
        return mark

    def reload(self, timeout=10.0):
        """SIGHUP, then RELOADING=1 (with MONOTONIC_USEC) and READY=1 after it.
        Returns the indexes of both messages."""
        mark = self.send_signal(signal.SIGHUP)
        a = self.wait_field("RELOADING", "1", mark + 1, timeout)
        if self.messages[a].get("MONOTONIC_USEC") is None:
            raise HarnessError("RELOADING=1 without MONOTONIC_USEC=")
        b = self.wait_ready(a + 1, timeout)
        return a, b

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        """SIGTERM, then STOPPING=1 and the exit. Returns the exit status."""
        mark = self.send_signal(sig)
        self.wait_field("STOPPING", "1", mark + 1, timeout)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout=10.0):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError("no exit within %.1f s" % timeout)
        self._thread.join(timeout=timeout)
        return self.proc.returncode

    def log(self):
        with self._cond:
            out = [m.as_dict(self.t0) for m in self.messages]
            out += [{"t": round(t - self.t0, 6), "event": what} for t, what in self.events]
        return sorted(out, key=lambda d: d["t"])


def main(argv=None):
    ap = argparse.ArgumentParser(description="play systemd's notify socket for a program")
    ap.add_argument("--watchdog-usec", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=10.0, help="bound of each step (s)")
    ap.add_argument("--step", action="append", default=[])
    ap.add_argument("--log", help="write the message log here (JSON lines) instead of stdout")
    ap.add_argument("program", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    prog = a.program[1:] if a.program[:1] == ["--"] else a.program
    if not prog:
        ap.error("no program")
    h = NotifyHarness(prog, watchdog_usec=a.watchdog_usec or None)
    ok = True
    h.start()
    try:
        for step in a.step or ["ready", "stop"]:
            name, _, arg = step.partition("=")
            if name == "ready":
                h.wait_ready(timeout=a.timeout)
            elif name == "reload":
                h.reload(timeout=a.timeout)
            elif name == "stop":
                h.stop(timeout=a.timeout)
            elif name == "exit":
                st = h.wait_exit(timeout=a.timeout)
                if st != int(arg):
                    raise HarnessError("exit status %d, want %s" % (st, arg))
            elif name == "status":
                h.wait_status(arg, timeout=a.timeout)
            elif name == "pings":
                h.wait_pings(int(arg), timeout=a.timeout)
            elif name == "signal":
                h.send_signal(getattr(signal, "SIG" + arg.upper().replace("SIG", "", 1)))
            elif name == "no-pings-between":
                r1, r2 = arg.split(",", 1)
                i = h.wait_status(r1, timeout=a.timeout)
                j = h.wait_status(r2, i + 1, timeout=a.timeout)
                if h.pings(i, j):
                    raise HarnessError("%d WATCHDOG=1 between /%s/ and /%s/" % (h.pings(i, j), r1, r2))
            else:
                raise HarnessError("unknown step %r" % step)
            print("ok - %s" % step, file=sys.stderr)
    except HarnessError as e:
        print("not ok - %s" % e, file=sys.stderr)
        ok = False
    finally:
        h.close()
        out = open(a.log, "w") if a.log else sys.stdout
        for d in h.log():
            out.write(json.dumps(d) + "\n")
        if a.log:
            out.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
