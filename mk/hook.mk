# Fragment owned by the hook area; see Makefile.am.
# Hook runner (hook.c) and the reload pass (reload.c).
libacmagent_a_SOURCES += agent/hook.c agent/hook.h agent/reload.c agent/reload.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-hook
TESTS += tests/unit/test-hook
tests_unit_test_hook_SOURCES = tests/unit/test-hook.c
tests_unit_test_hook_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_hook_LDADD = $(UNIT_LDADD)
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-reload
TESTS += tests/unit/test-reload
tests_unit_test_reload_SOURCES = tests/unit/test-reload.c
tests_unit_test_reload_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_reload_LDADD = $(UNIT_LDADD)
endif

EXTRA_DIST += hooks/README.md hooks/nginx-reload hooks/haproxy-reload hooks/notify-webhook

check_PROGRAMS += tests/integration/reload-driver
tests_integration_reload_driver_SOURCES = tests/integration/reload-driver.c
tests_integration_reload_driver_LDADD = $(AGENT_LIBS)
TESTS += tests/integration/test-reload-nginx.sh tests/integration/test-reload-haproxy.sh
EXTRA_DIST += tests/integration/test-reload-nginx.sh tests/integration/test-reload-haproxy.sh
