# agent/basic/: Bottom layer, no dependencies on other folders: macros, logging, the clock,
# strict parsing and files, child processes, worker threads, test points.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/basic/macro.h \
	agent/basic/log.c \
	agent/basic/log.h \
	agent/basic/clock.c \
	agent/basic/clock.h \
	agent/basic/util.c \
	agent/basic/util.h \
	agent/basic/strmap.c \
	agent/basic/strmap.h \
	agent/basic/spawn.c \
	agent/basic/spawn.h \
	agent/basic/worker.c \
	agent/basic/worker.h \
	agent/basic/testpoint.c \
	agent/basic/testpoint.h \
	agent/basic/log-messages.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/basic/test-util
TESTS += tests/unit/basic/test-util
tests_unit_basic_test_util_SOURCES = tests/unit/basic/test-util.c
tests_unit_basic_test_util_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_basic_test_util_LDADD = $(UNIT_LDADD)

# url_check_host() held against libcurl's URL parser: this test links
# libcurl ($(CURL_LIBS)); the agent does not.
check_PROGRAMS += tests/unit/basic/test-url-curl
TESTS += tests/unit/basic/test-url-curl
tests_unit_basic_test_url_curl_SOURCES = tests/unit/basic/test-url-curl.c
tests_unit_basic_test_url_curl_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_basic_test_url_curl_LDADD = $(UNIT_LDADD) $(CURL_LIBS)

check_PROGRAMS += tests/unit/basic/test-strmap
TESTS += tests/unit/basic/test-strmap
tests_unit_basic_test_strmap_SOURCES = tests/unit/basic/test-strmap.c
tests_unit_basic_test_strmap_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_basic_test_strmap_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/basic/test-worker
TESTS += tests/unit/basic/test-worker
tests_unit_basic_test_worker_SOURCES = tests/unit/basic/test-worker.c
tests_unit_basic_test_worker_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_basic_test_worker_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/basic/test-harden
TESTS += tests/unit/basic/test-harden
tests_unit_basic_test_harden_SOURCES = tests/unit/basic/test-harden.c
tests_unit_basic_test_harden_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_basic_test_harden_LDADD = $(UNIT_LDADD)
endif
