#!/bin/bash
# hooks/dns/nsupdate against a real BIND on 127.0.0.1 that accepts RFC 2136
# updates signed with one TSIG key: create, replace, delete, directly and
# through the exec provider; a wrong key, a missing key and a server that
# is down are refused with a clear last line; input that could inject
# nsupdate commands is refused. Exit 0 pass, 77 skip, 1 fail.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-dns-lib.sh"
command -v nsupdate >/dev/null || { echo "# skip: nsupdate is not installed (bind9-dnsutils)"; exit 77; }

named_start example.org acm-agent-test </dev/null
HOOK=$ABS_TOP_SRCDIR/hooks/dns/nsupdate
KEY=$TMP/named/acm-agent-test.key
NS=127.0.0.1:$NAMED_PORT
hook() { "$HOOK" --server 127.0.0.1 --port "$NAMED_PORT" --zone example.org --timeout 5 "$@"; }
check() { "$DNS_DRIVER" check --timeout-ms 1000 --nameserver "$NS" "$@"; }
last_line() { tail -n 1 "$TMP/out"; }

expect_rc 0 "create with the TSIG key" -- hook --key "$KEY" create _a.example.org CNAME _v1.acm-validations.aws 300
expect_grep "created _a.example.org. CNAME _v1.acm-validations.aws. \(TTL 300\) at $NS" "… says what it did"
expect_rc 0 "BIND answers the new CNAME" -- check _a.example.org=_v1.acm-validations.aws
expect_rc 0 "create again with another value replaces it" -- hook --key "$KEY" create _a.example.org. CNAME _v2.acm-validations.aws. 600
expect_rc 0 "… BIND answers the new value" -- check _a.example.org=_v2.acm-validations.aws

# Settings from the environment work as the arguments do.
expect_rc 0 "settings from the environment" -- env ACM_AGENT_NSUPDATE_SERVER=127.0.0.1 \
	ACM_AGENT_NSUPDATE_PORT="$NAMED_PORT" ACM_AGENT_NSUPDATE_KEY="$KEY" ACM_AGENT_NSUPDATE_ZONE=example.org \
	"$HOOK" create _env.example.org CNAME _v3.acm-validations.aws 300
expect_rc 0 "… published" -- check _env.example.org=_v3.acm-validations.aws

# A key with the right name and another secret, a key the server does not know, no key.
tsig-keygen -a hmac-sha256 acm-agent-test >"$TMP/wrong.key"
tsig-keygen -a hmac-sha256 someone-else >"$TMP/other.key"
expect_rc 1 "a wrong secret is refused" -- hook --key "$TMP/wrong.key" create _b.example.org CNAME _v1.acm-validations.aws 300
last_line >"$TMP/last"
expect_grep "refused the TSIG key $TMP/wrong.key for _b.example.org. \(update failed: NOTAUTH\(BADSIG\)\): the key name, algorithm and secret must match" \
	"… the last line names the key, the record and the fix" "$TMP/last"
expect_rc 1 "an unknown key is refused" -- hook --key "$TMP/other.key" create _b.example.org CNAME _v1.acm-validations.aws 300
expect_grep "refused the TSIG key .*BADKEY" "… BADKEY, said so"
expect_rc 1 "no key: REFUSED" -- hook create _b.example.org CNAME _v1.acm-validations.aws 300
expect_grep "refused the update of _b.example.org. .*allow this key to update example.org" "… and what to allow"
expect_rc 1 "… nothing was published" -- check _b.example.org=_v1.acm-validations.aws
expect_rc 1 "an unreadable key file" -- hook --key "$TMP/nonexistent.key" create _b.example.org CNAME _v1.acm-validations.aws 300
expect_grep "cannot read the TSIG key file $TMP/nonexistent.key" "… said so"

# Input that could carry nsupdate commands never reaches nsupdate.
expect_rc 2 "a name with a newline is refused" -- hook --key "$KEY" create "$(printf '_c.example.org\nupdate add evil.example.org 60 A 192.0.2.1')" CNAME _v.acm-validations.aws 300
expect_rc 1 "… and nothing was added" -- check evil.example.org=_v.acm-validations.aws
expect_rc 2 "a value with a space is refused" -- hook --key "$KEY" create _c.example.org CNAME "_v.aws. x" 300
expect_rc 2 "another type is refused" -- hook --key "$KEY" create _c.example.org TXT _v.acm-validations.aws 300
expect_rc 2 "a bad TTL is refused" -- hook --key "$KEY" create _c.example.org CNAME _v.acm-validations.aws 0
expect_rc 2 "a wrong argument count is refused" -- hook --key "$KEY" create _c.example.org CNAME

# delete removes exactly NAME CNAME VALUE.
expect_rc 0 "delete with another value leaves the record" -- hook --key "$KEY" delete _a.example.org CNAME _v1.acm-validations.aws 300
expect_rc 0 "… still there" -- check _a.example.org=_v2.acm-validations.aws
expect_rc 0 "delete with its value" -- hook --key "$KEY" delete _a.example.org CNAME _v2.acm-validations.aws 600
expect_rc 1 "… gone" -- check _a.example.org=_v2.acm-validations.aws
expect_grep "^missing _a.example.org." "… MISSING"

# Through the exec provider: argv + ACTION NAME TYPE VALUE TTL, one run per record.
pub() { "$DNS_DRIVER" publish --provider exec --ttl 120 --timeout-s 20 --command "$HOOK" --command --server \
	--command 127.0.0.1 --command --port --command "$NAMED_PORT" --command --key --command "$KEY" \
	--command --zone --command example.org "$@"; }
expect_rc 0 "exec provider creates every record (apex and wildcard share one)" -- pub \
	_d.example.org=_v4.acm-validations.aws _D.example.org=_v4.acm-validations.aws _e.www.example.org=_v5.acm-validations.aws
expect_grep "^ok cert0" "… one success"
expect_rc 0 "… BIND answers both" -- check _d.example.org=_v4.acm-validations.aws _e.www.example.org=_v5.acm-validations.aws
expect_rc 0 "exec provider deletes them" -- pub --delete _d.example.org=_v4.acm-validations.aws _e.www.example.org=_v5.acm-validations.aws
expect_rc 1 "… gone" -- check _d.example.org=_v4.acm-validations.aws _e.www.example.org=_v5.acm-validations.aws
expect_rc 1 "exec provider with a wrong key fails" -- "$DNS_DRIVER" publish --provider exec --command "$HOOK" \
	--command --server --command 127.0.0.1 --command --port --command "$NAMED_PORT" --command --key \
	--command "$TMP/wrong.key" _f.example.org=_v6.acm-validations.aws
expect_grep "^fail cert0 dns-exec: DNS command $HOOK failed to create _f.example.org. CNAME _v6.acm-validations.aws.: exit status 1" \
	"… naming the command, the record and the exit status"
expect_grep "stderr: acm-agent-nsupdate: .*refused the TSIG key" "… the hook's message is in the log"

named_stop
expect_rc 1 "the server down" -- hook --key "$KEY" --timeout 2 create _g.example.org CNAME _v.acm-validations.aws 300
expect_grep "no answer from $NS" "… said so"
finish
