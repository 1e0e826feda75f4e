# Fragment owned by the crypto area; see Makefile.am.
libacmagent_a_SOURCES += agent/crypto.c agent/crypto.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-crypto
TESTS += tests/unit/test-crypto
tests_unit_test_crypto_SOURCES = tests/unit/test-crypto.c
tests_unit_test_crypto_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_crypto_LDADD = $(UNIT_LDADD)
endif

noinst_PROGRAMS += bench/keygen
bench_keygen_SOURCES = bench/keygen.c
bench_keygen_LDADD = $(AGENT_LIBS)
