# Fragment owned by the emulator area; see Makefile.am.
# The AWS emulator (Python, tests/emulator/) and its own tests, which drive
# every operation family with the real AWS CLI.
TESTS += tests/integration/test-emulator-aws-cli.sh tests/integration/test-emulator-bind.sh
EXTRA_DIST += \
	tests/emulator/emulator.py \
	tests/emulator/emu.sh \
	tests/emulator/cli-server.py \
	tests/emulator/models/acm/2015-12-08/service-2.json \
	tests/emulator/models/acm-pca/2017-08-22/service-2.json \
	tests/emulator/models/route53/2013-04-01/service-2.json \
	tests/emulator/README.md \
	tests/integration/test-emulator-aws-cli.sh \
	tests/integration/test-emulator-bind.sh \
	bench/emulator-throughput.py
