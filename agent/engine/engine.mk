# agent/engine/: The per-certificate machine, the schedule and the issuer interface.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/engine/engine.h \
	agent/engine/engine-issuer.h \
	agent/engine/engine-internal.h \
	agent/engine/engine.c \
	agent/engine/engine-machine.c \
	agent/engine/engine-persist.c \
	agent/engine/engine-reload.c \
	agent/engine/engine-fingerprint.c \
	agent/engine/engine-sched.c \
	agent/engine/engine-sched.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/engine/test-engine-sched
TESTS += tests/unit/engine/test-engine-sched
tests_unit_engine_test_engine_sched_SOURCES = tests/unit/engine/test-engine-sched.c
tests_unit_engine_test_engine_sched_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_engine_test_engine_sched_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/engine/test-engine
TESTS += tests/unit/engine/test-engine
tests_unit_engine_test_engine_SOURCES = tests/unit/engine/test-engine.c
tests_unit_engine_test_engine_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_engine_test_engine_LDADD = $(UNIT_LDADD)
endif
