#!/bin/sh
# The notify harness (tests/integration/notify-harness.py) against
# test-notify-probe, a Type=notify program made of daemon-notify.
: "${ABS_TOP_SRCDIR:?run through make check}"
: "${ABS_TOP_BUILDDIR:?run through make check}"
PY=${PYTHON3:-/usr/bin/python3}
command -v "$PY" >/dev/null 2>&1 || { echo "# $PY missing"; exit 77; }
exec "$PY" "$ABS_TOP_SRCDIR/tests/unit/daemon/notify-harness-test.py" \
	"$ABS_TOP_BUILDDIR/tests/unit/daemon/test-notify-probe"
