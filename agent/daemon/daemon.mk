# agent/daemon/: The service's building blocks: sd_notify and the watchdog,
# inotify on the configuration and imported files, the Prometheus textfile,
# wall-clock jumps, the journal MESSAGE_IDs. The engine glue (daemon.c) is
# the lead's. Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/daemon/daemon-notify.c \
	agent/daemon/daemon-notify.h \
	agent/daemon/daemon-confwatch.c \
	agent/daemon/daemon-confwatch.h \
	agent/daemon/daemon-metrics.c \
	agent/daemon/daemon-metrics.h \
	agent/daemon/daemon-timejump.c \
	agent/daemon/daemon-timejump.h \
	agent/daemon/daemon.h \
	agent/daemon/daemon.c

# A Type=notify program made of daemon-notify, for the notify harness and
# the units' boot test.
check_PROGRAMS += tests/unit/daemon/test-notify-probe
tests_unit_daemon_test_notify_probe_SOURCES = tests/unit/daemon/test-notify-probe.c
tests_unit_daemon_test_notify_probe_LDADD = $(AGENT_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/daemon/test-daemon-notify
TESTS += tests/unit/daemon/test-daemon-notify
tests_unit_daemon_test_daemon_notify_SOURCES = tests/unit/daemon/test-daemon-notify.c
tests_unit_daemon_test_daemon_notify_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_daemon_test_daemon_notify_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/daemon/test-daemon-confwatch
TESTS += tests/unit/daemon/test-daemon-confwatch
tests_unit_daemon_test_daemon_confwatch_SOURCES = tests/unit/daemon/test-daemon-confwatch.c
tests_unit_daemon_test_daemon_confwatch_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_daemon_test_daemon_confwatch_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/daemon/test-daemon-metrics
TESTS += tests/unit/daemon/test-daemon-metrics
tests_unit_daemon_test_daemon_metrics_SOURCES = tests/unit/daemon/test-daemon-metrics.c
tests_unit_daemon_test_daemon_metrics_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_daemon_test_daemon_metrics_LDADD = $(UNIT_LDADD)

# read() is wrapped in this test only, to hand the module the ECANCELED a
# timerfd gives when the clock is set (the machine's clock is not touched).
check_PROGRAMS += tests/unit/daemon/test-daemon-timejump
TESTS += tests/unit/daemon/test-daemon-timejump
tests_unit_daemon_test_daemon_timejump_SOURCES = tests/unit/daemon/test-daemon-timejump.c
tests_unit_daemon_test_daemon_timejump_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_daemon_test_daemon_timejump_LDFLAGS = -Wl,--wrap=read
tests_unit_daemon_test_daemon_timejump_LDADD = $(UNIT_LDADD)
endif

# The notify harness (plays systemd's side of the protocol) tested against
# test-notify-probe; the units checked with systemd-analyze and the journal
# catalog with journalctl (with ACM_AGENT_BOOT_TEST=1 also booted in a
# container: see the script).
TESTS += tests/unit/daemon/notify-harness-test.sh tests/integration/test-units.sh
EXTRA_DIST += agent/daemon/daemon.mk tests/unit/daemon/notify-harness-test.sh tests/unit/daemon/notify-harness-test.py \
	tests/integration/test-units.sh tests/integration/notify-harness.py

# Idle benchmarks (figures, not pass/fail; run by hand, see each script).
EXTRA_DIST += bench/daemon-idle.sh bench/daemon-idle-lib.sh bench/certmonger-idle.sh
