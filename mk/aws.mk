# Fragment owned by the aws area; see Makefile.am.
# AWS client: transport (curl multi on sd-event), SigV4, credentials, JSON 1.1,
# STS query, Route 53 REST-XML, and the online preflight.
libacmagent_a_SOURCES += \
	agent/aws.h
libacmagent_a_SOURCES += \
	agent/sigv4.c agent/sigv4.h \
	agent/aws-error.c \
	agent/aws-policy.c agent/aws-policy.h \
	agent/creds-file.c agent/creds-file.h \
	agent/aws.c agent/aws-xml.c agent/aws-xml.h \
	agent/aws-proc.c agent/aws-proc.h \
	agent/route53.c agent/route53.h \
	agent/check-online.c agent/check-online.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-sigv4
TESTS += tests/unit/test-sigv4
tests_unit_test_sigv4_SOURCES = tests/unit/test-sigv4.c
tests_unit_test_sigv4_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_sigv4_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/test-aws-policy
TESTS += tests/unit/test-aws-policy
tests_unit_test_aws_policy_SOURCES = tests/unit/test-aws-policy.c
tests_unit_test_aws_policy_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_aws_policy_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/test-creds-file
TESTS += tests/unit/test-creds-file
tests_unit_test_creds_file_SOURCES = tests/unit/test-creds-file.c
tests_unit_test_creds_file_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_creds_file_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/test-route53
TESTS += tests/unit/test-route53
tests_unit_test_route53_SOURCES = tests/unit/test-route53.c
tests_unit_test_route53_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_route53_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/test-aws-proc
TESTS += tests/unit/test-aws-proc
tests_unit_test_aws_proc_SOURCES = tests/unit/test-aws-proc.c
tests_unit_test_aws_proc_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_aws_proc_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/test-aws-client
TESTS += tests/unit/test-aws-client
tests_unit_test_aws_client_SOURCES = tests/unit/test-aws-client.c
tests_unit_test_aws_client_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_aws_client_LDADD = $(UNIT_LDADD)
# Out-of-memory paths: strprintf() fails on demand (-Wl,--wrap).
check_PROGRAMS += tests/unit/test-aws-oom
TESTS += tests/unit/test-aws-oom
tests_unit_test_aws_oom_SOURCES = tests/unit/test-aws-oom.c
tests_unit_test_aws_oom_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_aws_oom_LDFLAGS = -Wl,--wrap=strprintf
tests_unit_test_aws_oom_LDADD = $(UNIT_LDADD)
endif
EXTRA_DIST += tests/integration/aws-stub.py tests/fixtures/sigv4/vectors.json tests/fixtures/sigv4/generate.py

# Integration: the client against the emulator through a small helper.
check_PROGRAMS += tests/integration/aws-call
tests_integration_aws_call_SOURCES = tests/integration/aws-call.c
tests_integration_aws_call_LDADD = $(AGENT_LIBS)
TESTS += tests/integration/test-aws-emulator.sh
EXTRA_DIST += tests/integration/test-aws-emulator.sh
TESTS += tests/integration/test-aws-credentials.sh
EXTRA_DIST += tests/integration/test-aws-credentials.sh
