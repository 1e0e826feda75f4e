# Fragment owned by the deploy area; see Makefile.am.
libacmagent_a_SOURCES += \
	agent/state.c agent/state.h \
	agent/deploy.c agent/deploy.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-state tests/unit/test-deploy
TESTS += tests/unit/test-state tests/unit/test-deploy
tests_unit_test_state_SOURCES = tests/unit/test-state.c
tests_unit_test_state_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_state_LDADD = $(UNIT_LDADD)
tests_unit_test_deploy_SOURCES = tests/unit/test-deploy.c
tests_unit_test_deploy_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_deploy_LDADD = $(UNIT_LDADD)
endif
