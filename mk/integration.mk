# The integration suite: the real binary (and small drivers linked against
# the agent's library) against the emulator and real servers on 127.0.0.1.
# Each script exits 0 (pass), 77 (skip) or 1 (fail).

# drivers
check_PROGRAMS += tests/integration/aws-call tests/integration/reload-driver
tests_integration_aws_call_SOURCES = tests/integration/aws-call.c
tests_integration_aws_call_LDADD = $(AGENT_LIBS)
tests_integration_reload_driver_SOURCES = tests/integration/reload-driver.c
tests_integration_reload_driver_LDADD = $(AGENT_LIBS)

INTEGRATION_TESTS = \
	tests/integration/test-cli.sh \
	tests/integration/test-check.sh \
	tests/integration/test-check-online.sh \
	tests/integration/test-no-libcurl.sh \
	tests/integration/test-aws-emulator.sh \
	tests/integration/test-aws-credentials.sh \
	tests/integration/test-reload-nginx.sh \
	tests/integration/test-reload-haproxy.sh \
	tests/integration/test-pca-issue.sh \
	tests/integration/test-umask.sh \
	tests/integration/test-pca-cli.sh \
	tests/integration/test-pca-resume.sh \
	tests/integration/test-pca-errors.sh \
	tests/integration/test-pca-crash.sh \
	tests/integration/test-pca-faults.sh \
	tests/integration/test-agent-nginx.sh \
	tests/integration/test-agent-haproxy.sh \
	tests/integration/test-agent-hooks.sh \
	tests/integration/test-daemon.sh
TESTS += $(INTEGRATION_TESTS)
# The packaging tests that install the .deb start here (mk/packaging.mk):
# test-packaging.sh has built it by now, and Ansible's minutes of CPU are
# over before the short tests at the end.
TESTS += $(PACKAGING_TESTS_LATER)

# The ACM issuer against the emulator (and BIND for exec/manual DNS).
ACM_INTEGRATION_TESTS = \
	tests/integration/test-acm-route53.sh \
	tests/integration/test-acm-dns.sh \
	tests/integration/test-acm-failures.sh \
	tests/integration/test-acm-renewal.sh \
	tests/integration/test-acm-crash.sh \
	tests/integration/test-acm-lifetime.sh
TESTS += $(ACM_INTEGRATION_TESTS)
EXTRA_DIST += $(ACM_INTEGRATION_TESTS) tests/integration/test-acm-lib.sh

EXTRA_DIST += $(INTEGRATION_TESTS) \
	tests/integration/lib.sh \
	tests/integration/agent-lib.sh \
	tests/integration/pca-lib.sh \
	tests/integration/watch-lib.sh \
	tests/integration/aws-stub.py \
	tests/integration/proof.py \
	tests/integration/watch-stable.py \
	tests/integration/daemon-driver.py

# The import issuer against the emulator.
IMPORT_INTEGRATION_TESTS = \
	tests/integration/test-import-flow.sh \
	tests/integration/test-import-errors.sh \
	tests/integration/test-import-crash.sh
TESTS += $(IMPORT_INTEGRATION_TESTS)
EXTRA_DIST += $(IMPORT_INTEGRATION_TESTS) tests/integration/test-import-lib.sh
