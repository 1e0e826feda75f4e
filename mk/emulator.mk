# Fragment owned by the emulator area; see Makefile.am.
# The AWS emulator (Python, tests/emulator/) and its own tests, which drive
# every operation family with the real AWS CLI.
TESTS += tests/integration/test-emulator-aws-cli.sh
EXTRA_DIST += \
	tests/emulator/emulator.py \
	tests/emulator/emu.sh \
	tests/emulator/model-overlay.json \
	tests/emulator/README.md \
	tests/integration/test-emulator-aws-cli.sh \
	bench/emulator-throughput.py
