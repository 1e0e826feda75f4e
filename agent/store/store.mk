# agent/store/: Everything under state_dir: state files, keys, locks.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/store/store.h \
	agent/store/store.c \
	agent/store/store-state.h \
	agent/store/store-state.c \
	agent/store/store-keys.h \
	agent/store/store-keys.c \
	agent/store/store-readahead.h \
	agent/store/store-readahead.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/store/test-store-state
TESTS += tests/unit/store/test-store-state
tests_unit_store_test_store_state_SOURCES = tests/unit/store/test-store-state.c
tests_unit_store_test_store_state_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_store_test_store_state_LDADD = $(UNIT_LDADD)
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/store/test-store
TESTS += tests/unit/store/test-store
tests_unit_store_test_store_SOURCES = tests/unit/store/test-store.c
tests_unit_store_test_store_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_store_test_store_LDADD = $(UNIT_LDADD)
endif
EXTRA_DIST += tests/fixtures/state-v1/valid.json tests/fixtures/state-v1/arn.json tests/fixtures/state-v1/token.json \
	tests/fixtures/state-v1/reload.json tests/fixtures/state-v1/failed.json tests/fixtures/state-v1/cafail.json
