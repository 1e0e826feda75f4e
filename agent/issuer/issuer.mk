# agent/issuer/: Issuers (engine-issuer.h is their contract): AWS Private
# CA; AWS Certificate Manager; DNS validation records (publish through Route 53, a command or the
# operator; check by DNS with c-ares).
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/issuer/issuer.h \
	agent/issuer/issuer.c \
	agent/issuer/issuer-pca.h \
	agent/issuer/issuer-pca.c \
	agent/issuer/issuer-acm.h \
	agent/issuer/issuer-acm-internal.h \
	agent/issuer/issuer-acm.c \
	agent/issuer/issuer-acm-util.c \
	agent/issuer/issuer-acm-shared.c \
	agent/issuer/issuer-import.h \
	agent/issuer/issuer-import.c \
	agent/issuer/issuer-dns.h \
	agent/issuer/issuer-dns-internal.h \
	agent/issuer/issuer-dns.c \
	agent/issuer/issuer-dns-exec.c \
	agent/issuer/issuer-dns-route53.h \
	agent/issuer/issuer-dns-route53.c \
	agent/issuer/issuer-dns-check.h \
	agent/issuer/issuer-dns-check.c

# c-ares (configure.ac: CARES_CFLAGS / CARES_LIBS) for the DNS check.
AM_CFLAGS += $(CARES_CFLAGS)
AGENT_LIBS += $(CARES_LIBS)

# The driver of the DNS integration tests (tests/integration/test-dns-*.sh).
check_PROGRAMS += tests/integration/dns-driver
tests_integration_dns_driver_SOURCES = tests/integration/dns-driver.c
tests_integration_dns_driver_LDADD = $(AGENT_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/issuer/test-issuer-pca
TESTS += tests/unit/issuer/test-issuer-pca
tests_unit_issuer_test_issuer_pca_SOURCES = tests/unit/issuer/test-issuer-pca.c
tests_unit_issuer_test_issuer_pca_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_issuer_test_issuer_pca_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/issuer/test-issuer-acm
TESTS += tests/unit/issuer/test-issuer-acm
tests_unit_issuer_test_issuer_acm_SOURCES = tests/unit/issuer/test-issuer-acm.c
tests_unit_issuer_test_issuer_acm_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_issuer_test_issuer_acm_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/issuer/test-issuer-import
TESTS += tests/unit/issuer/test-issuer-import
tests_unit_issuer_test_issuer_import_SOURCES = tests/unit/issuer/test-issuer-import.c
tests_unit_issuer_test_issuer_import_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_issuer_test_issuer_import_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/issuer/test-issuer-dns
TESTS += tests/unit/issuer/test-issuer-dns
tests_unit_issuer_test_issuer_dns_SOURCES = tests/unit/issuer/test-issuer-dns.c
tests_unit_issuer_test_issuer_dns_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_issuer_test_issuer_dns_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/issuer/test-issuer-dns-route53
TESTS += tests/unit/issuer/test-issuer-dns-route53
tests_unit_issuer_test_issuer_dns_route53_SOURCES = tests/unit/issuer/test-issuer-dns-route53.c
tests_unit_issuer_test_issuer_dns_route53_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_issuer_test_issuer_dns_route53_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/issuer/test-issuer-dns-check
TESTS += tests/unit/issuer/test-issuer-dns-check
tests_unit_issuer_test_issuer_dns_check_SOURCES = tests/unit/issuer/test-issuer-dns-check.c
tests_unit_issuer_test_issuer_dns_check_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_issuer_test_issuer_dns_check_LDADD = $(UNIT_LDADD)
endif

# Integration tests of the DNS modules (real BIND, the emulator) and the
# shipped nsupdate hook.
DNS_INTEGRATION_TESTS = \
	tests/integration/test-dns-check.sh \
	tests/integration/test-dns-nsupdate.sh \
	tests/integration/test-dns-route53.sh
TESTS += $(DNS_INTEGRATION_TESTS)
EXTRA_DIST += $(DNS_INTEGRATION_TESTS) tests/integration/test-dns-lib.sh \
	hooks/dns/nsupdate hooks/dns/README.md
