# Fragment owned by the proof area; see Makefile.am.
# Agent-level integration tests: the real acm-agent binary against the
# emulator (crash points, faults) and against real nginx / haproxy (issue 6).
# Each skips (exit 77) when the binary lacks the engine features it drives.
PROOF_TESTS = \
	tests/integration/test-pca-crash.sh \
	tests/integration/test-pca-faults.sh \
	tests/integration/test-agent-nginx.sh \
	tests/integration/test-agent-haproxy.sh \
	tests/integration/test-agent-hooks.sh
TESTS += $(PROOF_TESTS)
EXTRA_DIST += $(PROOF_TESTS) \
	tests/integration/agent-lib.sh \
	tests/integration/proof.py \
	tests/integration/watch-stable.py
