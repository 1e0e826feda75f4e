# Fragment owned by the engine area; see Makefile.am.
# The engine (one state machine per certificate on one sd-event loop), the
# scheduler, the worker pool, the pca issuer and the commands that drive them.
libacmagent_a_SOURCES += \
	agent/testpoint.c agent/testpoint.h \
	agent/worker.c agent/worker.h \
	agent/schedule.c agent/schedule.h \
	agent/issuer.h agent/issuer-pca.c \
	agent/engine.c agent/engine.h \
	agent/cmd-common.c agent/cmd-once.c agent/cmd-status.c agent/cmd-revoke.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-sched tests/unit/test-worker tests/unit/test-engine
TESTS += tests/unit/test-sched tests/unit/test-worker tests/unit/test-engine
tests_unit_test_sched_SOURCES = tests/unit/test-sched.c
tests_unit_test_sched_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_sched_LDADD = $(UNIT_LDADD)
tests_unit_test_worker_SOURCES = tests/unit/test-worker.c
tests_unit_test_worker_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_worker_LDADD = $(UNIT_LDADD)
tests_unit_test_engine_SOURCES = tests/unit/test-engine.c
tests_unit_test_engine_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_engine_LDADD = $(UNIT_LDADD)
endif


TESTS += tests/integration/test-pca-issue.sh tests/integration/test-pca-cli.sh tests/integration/test-pca-resume.sh \
	tests/integration/test-pca-errors.sh
EXTRA_DIST += tests/integration/pca-lib.sh tests/integration/test-pca-issue.sh \
	tests/integration/test-pca-cli.sh tests/integration/test-pca-resume.sh tests/integration/test-pca-errors.sh
