#!/bin/sh
# The command line behaves as GNU tools do.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"

expect_rc 0 "--help exits 0" -- "$ACM_AGENT" --help
expect_grep '^Usage: acm-agent' "--help prints usage"
expect_grep 'check' "--help lists the check command"
expect_rc 0 "--version exits 0" -- "$ACM_AGENT" --version
expect_grep '^acm-agent [0-9]+\.[0-9]+' "--version prints the version"
expect_rc 2 "unknown option exits 2" -- "$ACM_AGENT" --no-such-option
expect_grep "Try 'acm-agent --help'" "unknown option points to --help"
expect_rc 2 "unknown command exits 2" -- "$ACM_AGENT" frobnicate
expect_grep "unknown command 'frobnicate'" "unknown command is named"
expect_rc 2 "bad log level exits 2" -- "$ACM_AGENT" --log-level=loud check
expect_grep "invalid log level 'loud'" "bad log level is named"
finish
