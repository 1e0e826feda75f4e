#!/bin/bash
# A configured signing algorithm that does not fit the CA's key family is a
# clear error naming both, and the old files stay. (Transport and AWS faults,
# throttling and recovery: test-pca-faults.sh.)
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/pca-lib.sh"

cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30}'
write_conf
expect_rc 0 "initial issuance" -- agent --once
serial=$(serial_of web)
keep() { [ "$(serial_of web)" = "$serial" ] && ok "$1: old files stay" || not_ok "$1: files changed"; }

# a configured signing algorithm of the wrong family
CERTS=""
cert web "$SUB_CA" '"validity":{"type":"DAYS","value":30},"signing_algorithm":"SHA256WITHRSA"'
write_conf
expect_rc 1 "SHA256WITHRSA on an EC CA" -- agent renew web --force
expect_grep "signing_algorithm SHA256WITHRSA does not fit CA .*EC_prime256v1" "names the mismatch"
keep "algorithm mismatch"

finish
