# agent/aws/: The AWS client: libcurl loaded on demand, transport (curl multi on sd-event), SigV4, credentials,
# JSON 1.1, STS query, Route 53 REST-XML.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/aws/aws.h \
	agent/aws/aws-internal.h \
	agent/aws/aws-client.c \
	agent/aws/aws-transport.c \
	agent/aws/aws-curl.c \
	agent/aws/aws-curl.h \
	agent/aws/aws-request.c \
	agent/aws/aws-answer.c \
	agent/aws/aws-answer.h \
	agent/aws/aws-endpoint.c \
	agent/aws/aws-metadata.c \
	agent/aws/aws-creds.c \
	agent/aws/aws-error.c \
	agent/aws/aws-policy.c \
	agent/aws/aws-policy.h \
	agent/aws/aws-xml.c \
	agent/aws/aws-xml.h \
	agent/aws/aws-proc.c \
	agent/aws/aws-proc.h \
	agent/aws/aws-sigv4.c \
	agent/aws/aws-sigv4.h \
	agent/aws/aws-creds-file.c \
	agent/aws/aws-creds-file.h \
	agent/aws/aws-route53.c \
	agent/aws/aws-route53.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/aws/test-sigv4
TESTS += tests/unit/aws/test-sigv4
tests_unit_aws_test_sigv4_SOURCES = tests/unit/aws/test-sigv4.c
tests_unit_aws_test_sigv4_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_sigv4_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/aws/test-aws-policy
TESTS += tests/unit/aws/test-aws-policy
tests_unit_aws_test_aws_policy_SOURCES = tests/unit/aws/test-aws-policy.c
tests_unit_aws_test_aws_policy_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_aws_policy_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/aws/test-aws-creds-file
TESTS += tests/unit/aws/test-aws-creds-file
tests_unit_aws_test_aws_creds_file_SOURCES = tests/unit/aws/test-aws-creds-file.c
tests_unit_aws_test_aws_creds_file_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_aws_creds_file_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/aws/test-aws-route53
TESTS += tests/unit/aws/test-aws-route53
tests_unit_aws_test_aws_route53_SOURCES = tests/unit/aws/test-aws-route53.c
tests_unit_aws_test_aws_route53_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_aws_route53_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/aws/test-aws-proc
TESTS += tests/unit/aws/test-aws-proc
tests_unit_aws_test_aws_proc_SOURCES = tests/unit/aws/test-aws-proc.c
tests_unit_aws_test_aws_proc_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_aws_proc_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/aws/test-aws-answer
TESTS += tests/unit/aws/test-aws-answer
tests_unit_aws_test_aws_answer_SOURCES = tests/unit/aws/test-aws-answer.c
tests_unit_aws_test_aws_answer_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_aws_answer_LDADD = $(UNIT_LDADD)

# The libcurl loader: this test links like acm-agent (no libcurl).
check_PROGRAMS += tests/unit/aws/test-aws-curl
TESTS += tests/unit/aws/test-aws-curl
tests_unit_aws_test_aws_curl_SOURCES = tests/unit/aws/test-aws-curl.c
tests_unit_aws_test_aws_curl_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_aws_curl_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/aws/test-aws-client
TESTS += tests/unit/aws/test-aws-client
tests_unit_aws_test_aws_client_SOURCES = tests/unit/aws/test-aws-client.c
tests_unit_aws_test_aws_client_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_aws_client_LDADD = $(UNIT_LDADD)
endif

if HAVE_CMOCKA
# Out-of-memory paths: strprintf() fails on demand (-Wl,--wrap).
check_PROGRAMS += tests/unit/aws/test-aws-oom
TESTS += tests/unit/aws/test-aws-oom
tests_unit_aws_test_aws_oom_SOURCES = tests/unit/aws/test-aws-oom.c
tests_unit_aws_test_aws_oom_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_aws_test_aws_oom_LDFLAGS = -Wl,--wrap=strprintf
tests_unit_aws_test_aws_oom_LDADD = $(UNIT_LDADD)
endif
EXTRA_DIST += tests/fixtures/sigv4/vectors.json tests/fixtures/sigv4/generate.py

# The libFuzzer harnesses (tests/fuzz/aws/harnesses.txt) replay their seed
# corpora in `make check` with the ordinary build: every crash input kept as
# a seed stays a regression test.
AWS_FUZZ_REPLAY = fuzz-aws-answer-json fuzz-aws-sts fuzz-aws-route53 fuzz-aws-creds-json
check_PROGRAMS += tests/fuzz/aws/replay-answer-json tests/fuzz/aws/replay-sts tests/fuzz/aws/replay-route53 \
	tests/fuzz/aws/replay-creds-json
TESTS += tests/fuzz/aws/replay-answer-json tests/fuzz/aws/replay-sts tests/fuzz/aws/replay-route53 \
	tests/fuzz/aws/replay-creds-json
tests_fuzz_aws_replay_answer_json_SOURCES = tests/fuzz/aws/fuzz-aws-answer-json.c tests/fuzz/aws/fuzz-replay.c
tests_fuzz_aws_replay_answer_json_CPPFLAGS = $(UNIT_CPPFLAGS) -DFUZZ_NAME='"fuzz-aws-answer-json"'
tests_fuzz_aws_replay_answer_json_LDADD = $(AGENT_LIBS)
tests_fuzz_aws_replay_sts_SOURCES = tests/fuzz/aws/fuzz-aws-sts.c tests/fuzz/aws/fuzz-replay.c
tests_fuzz_aws_replay_sts_CPPFLAGS = $(UNIT_CPPFLAGS) -DFUZZ_NAME='"fuzz-aws-sts"'
tests_fuzz_aws_replay_sts_LDADD = $(AGENT_LIBS)
tests_fuzz_aws_replay_route53_SOURCES = tests/fuzz/aws/fuzz-aws-route53.c tests/fuzz/aws/fuzz-replay.c
tests_fuzz_aws_replay_route53_CPPFLAGS = $(UNIT_CPPFLAGS) -DFUZZ_NAME='"fuzz-aws-route53"'
tests_fuzz_aws_replay_route53_LDADD = $(AGENT_LIBS)
tests_fuzz_aws_replay_creds_json_SOURCES = tests/fuzz/aws/fuzz-aws-creds-json.c tests/fuzz/aws/fuzz-replay.c
tests_fuzz_aws_replay_creds_json_CPPFLAGS = $(UNIT_CPPFLAGS) -DFUZZ_NAME='"fuzz-aws-creds-json"'
tests_fuzz_aws_replay_creds_json_LDADD = $(AGENT_LIBS)
EXTRA_DIST += tests/fuzz/aws/harnesses.txt tests/fuzz/aws/fuzz-check.h $(AWS_FUZZ_REPLAY:%=tests/fuzz/aws/%)
