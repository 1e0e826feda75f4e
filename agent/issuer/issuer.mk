# agent/issuer/: Issuers (engine-issuer.h is their contract): AWS Private CA.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/issuer/issuer.h \
	agent/issuer/issuer.c \
	agent/issuer/issuer-pca.h \
	agent/issuer/issuer-pca.c
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/issuer/test-issuer-pca
TESTS += tests/unit/issuer/test-issuer-pca
tests_unit_issuer_test_issuer_pca_SOURCES = tests/unit/issuer/test-issuer-pca.c
tests_unit_issuer_test_issuer_pca_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_issuer_test_issuer_pca_LDADD = $(UNIT_LDADD)
endif
