#!/bin/bash
# acm-agent as a service, the real binary against the emulator under a
# harness that plays systemd's notify socket (tests/integration/
# notify-harness.py): READY after load, STATUS lines, watchdog pings,
# RELOADING/READY around a reload; the configuration edited while it runs
# (a new drop-in through the editor rename dance, a broken edit rejected with
# its FILE:LINE:COLUMN while the running configuration keeps working, a
# changed name list reissued, a removed certificate no longer managed);
# SIGTERM in the middle of an issuance and a restart that resumes it with no
# second IssueCertificate; the metrics textfile (promtool, when installed);
# status while the service runs; no fsync on the event loop's thread in the
# steady state (strace -f around a reload that rewrites the metrics). Every wait is bounded and polls a
# condition; nothing asserts on time.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
emu_start --tls || exit 1
on_exit emu_stop
export ACM_AGENT CA_SUB TMP EMU_CONTROL_URL
mkdir -p "$TMP/d/certs.d"
pca_cert a | agent_conf "$TMP/d" "daemon: {metrics_textfile: \"$TMP/d/metrics.prom\", reload_debounce: 1s}"
"$PY" "$ABS_TOP_SRCDIR/tests/integration/daemon-driver.py" "$CONF" "$TMP/d"
