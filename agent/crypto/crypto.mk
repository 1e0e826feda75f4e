# agent/crypto/: Keys, CSRs, certificate inspection and verification, bundles.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/crypto/crypto.c \
	agent/crypto/crypto.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/crypto/test-crypto
TESTS += tests/unit/crypto/test-crypto
tests_unit_crypto_test_crypto_SOURCES = tests/unit/crypto/test-crypto.c
tests_unit_crypto_test_crypto_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_crypto_test_crypto_LDADD = $(UNIT_LDADD)
endif
