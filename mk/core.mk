# Core: macros, logging, clock, worker threads, CLI.
libacmagent_a_SOURCES += \
	agent/macro.h \
	agent/log.c agent/log.h \
	agent/clock.c agent/clock.h \
	agent/util.c agent/util.h \
	agent/spawn.c agent/spawn.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-util
TESTS += tests/unit/test-util
tests_unit_test_util_SOURCES = tests/unit/test-util.c
tests_unit_test_util_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_util_LDADD = $(UNIT_LDADD)
endif

TESTS += tests/integration/test-cli.sh
EXTRA_DIST += tests/integration/test-cli.sh tests/integration/lib.sh

# systemd units; @bindir@ is substituted at build time.
systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = units/acm-agent-once.service
dist_systemdsystemunit_DATA = units/acm-agent-once.timer
EXTRA_DIST += units/acm-agent-once.service.in
CLEANFILES += units/acm-agent-once.service
units/acm-agent-once.service: $(srcdir)/units/acm-agent-once.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) units && sed -e 's|@bindir[@]|$(bindir)|g' $(srcdir)/units/acm-agent-once.service.in > $@

# Manual page and the configuration reference.
dist_man_MANS = man/acm-agent.8
dist_doc_DATA = conf/REFERENCE.md
