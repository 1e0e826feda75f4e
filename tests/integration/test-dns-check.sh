#!/bin/bash
# The DNS check of validation CNAMEs (c-ares on the event loop) against a
# real BIND on 127.0.0.1: record present, missing, wrong value, server
# down; and the manual provider's zone lines. Exit 0 pass, 77 skip, 1 fail.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-dns-lib.sh"

named_start example.org <<'ZONE'
_ok IN CNAME _v1.acm-validations.aws.
_UPPER IN CNAME _V2.ACM-validations.AWS.
_wrong IN CNAME _stale.acm-validations.aws.
_txt IN TXT "not a cname"
ZONE
NS=127.0.0.1:$NAMED_PORT
check() { "$DNS_DRIVER" check --timeout-ms 1000 --tries 2 --nameserver "$NS" "$@"; }

expect_rc 0 "a published CNAME is OK" -- check _ok.example.org=_v1.acm-validations.aws.
expect_grep "^ok _ok.example.org. server=$NS " "… and says which server confirmed it"
expect_rc 0 "names compare case-insensitively" -- check _upper.example.org=_v2.acm-validations.aws
expect_rc 1 "an absent name is MISSING" -- check _absent.example.org=_v3.acm-validations.aws
expect_grep "^missing _absent.example.org. server=$NS detail=NXDOMAIN" "… NXDOMAIN, at that server"
expect_rc 1 "a name with no CNAME is MISSING" -- check _txt.example.org=_v3.acm-validations.aws
expect_grep "^missing _txt.example.org. .*detail=NODATA" "… NODATA"
expect_rc 1 "another value is WRONG" -- check _wrong.example.org=_v4.acm-validations.aws
expect_grep "^# _wrong.example.org. CNAME is _stale.acm-validations.aws. at $NS, not _v4.acm-validations.aws.$" \
	"… and the operator sees both values"
expect_rc 1 "several records in one check: one verdict each" -- check \
	_ok.example.org=_v1.acm-validations.aws _absent.example.org=_v3.acm-validations.aws \
	_wrong.example.org=_v4.acm-validations.aws
if [ "$(grep -c '^[a-z]' "$TMP/out")" = 3 ] && grep -q '^ok _ok' "$TMP/out" && grep -q '^missing _absent' "$TMP/out" &&
	grep -q '^wrong _wrong' "$TMP/out"; then ok "… ok, missing, wrong"; else not_ok "… ok, missing, wrong"; sed 's/^/# /' "$TMP/out"; fi
expect_rc 1 "a server outside its zone answers REFUSED: ERROR" -- check _x.example.net=_v5.acm-validations.aws
expect_grep "^error _x.example.net. server=$NS detail=REFUSED" "… naming the server and REFUSED"

named_stop
expect_rc 1 "the server down: ERROR" -- check _ok.example.org=_v1.acm-validations.aws
expect_grep "^error _ok.example.org. server=$NS detail=(connection refused|timeout)" "… naming the server"

# manual: nothing is published, the operator gets zone-file lines.
expect_rc 0 "manual provider" -- "$DNS_DRIVER" publish --provider manual --ttl 300 \
	_a.example.org=_v1.acm-validations.aws _A.example.org=_v1.acm-validations.aws _b.www.example.org=_v2.acm-validations.aws.
cat >"$TMP/want" <<'WANT'
manual cert0
_a.example.org. 300 IN CNAME _v1.acm-validations.aws.
_b.www.example.org. 300 IN CNAME _v2.acm-validations.aws.
WANT
if cmp -s "$TMP/want" "$TMP/out"; then ok "… prints each record once as a zone-file line"; else
	not_ok "… prints each record once as a zone-file line"; diff "$TMP/want" "$TMP/out" | sed 's/^/# /'; fi
finish
