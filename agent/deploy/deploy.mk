# agent/deploy/: Versioned install of output files, the reload pass, hooks.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/deploy/deploy.h \
	agent/deploy/deploy-install.c \
	agent/deploy/deploy-build.h \
	agent/deploy/deploy-build.c \
	agent/deploy/deploy-hook.c \
	agent/deploy/deploy-hook.h \
	agent/deploy/deploy-reload.c \
	agent/deploy/deploy-reload.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/deploy/test-deploy-install
TESTS += tests/unit/deploy/test-deploy-install
tests_unit_deploy_test_deploy_install_SOURCES = tests/unit/deploy/test-deploy-install.c
tests_unit_deploy_test_deploy_install_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_deploy_test_deploy_install_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/deploy/test-deploy-hook
TESTS += tests/unit/deploy/test-deploy-hook
tests_unit_deploy_test_deploy_hook_SOURCES = tests/unit/deploy/test-deploy-hook.c
tests_unit_deploy_test_deploy_hook_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_deploy_test_deploy_hook_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/deploy/test-deploy-reload
TESTS += tests/unit/deploy/test-deploy-reload
tests_unit_deploy_test_deploy_reload_SOURCES = tests/unit/deploy/test-deploy-reload.c
tests_unit_deploy_test_deploy_reload_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_deploy_test_deploy_reload_LDADD = $(UNIT_LDADD)
endif
