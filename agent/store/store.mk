# agent/store/: Everything under state_dir: state files, keys, locks.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/store/store-state.c \
	agent/store/store-state.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/store/test-store-state
TESTS += tests/unit/store/test-store-state
tests_unit_store_test_store_state_SOURCES = tests/unit/store/test-store-state.c
tests_unit_store_test_store_state_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_store_test_store_state_LDADD = $(UNIT_LDADD)
endif
