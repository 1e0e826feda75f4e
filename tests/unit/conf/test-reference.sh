#!/bin/sh
# conf/REFERENCE.md is the one source of the configuration's documentation:
# every key path the loader accepts is documented there and every key
# documented there is accepted (conf_key_paths(), built from the loader's own
# key lists), and the committed acm-agent.yaml(5) is what
# man/reference-to-man.py makes of it now (else: make update-man).
set -u
: "${ABS_TOP_SRCDIR:?run through make check}"
: "${ABS_TOP_BUILDDIR:?run through make check}"
PY=${PYTHON3:-/usr/bin/python3}
TMP=$(mktemp -d /tmp/acm-ref.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
n=0; failures=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $*"; }

if ! "$ABS_TOP_BUILDDIR/tests/unit/conf/test-key-paths-dump" >"$TMP/keys" || [ ! -s "$TMP/keys" ]; then
	not_ok "the loader lists its key paths"
else
	ok "the loader lists its key paths ($(wc -l <"$TMP/keys"))"
fi
if "$PY" "$ABS_TOP_SRCDIR/man/reference-to-man.py" --check-keys "$TMP/keys" "$ABS_TOP_SRCDIR/conf/REFERENCE.md" 2>"$TMP/err"; then
	ok "REFERENCE.md documents exactly the keys the loader accepts"
else
	not_ok "REFERENCE.md documents exactly the keys the loader accepts"; sed 's/^/# /' "$TMP/err"
fi

# The check itself must be able to fail: a key dropped from the list the
# loader would accept, or a key REFERENCE.md does not know.
grep -v '^certificates\[\]\.issuer(acm)\.on_renewal_failure$' "$TMP/keys" >"$TMP/keys-minus"
echo "certificates[].issuer(acm).no_such_key" >>"$TMP/keys-minus"
if "$PY" "$ABS_TOP_SRCDIR/man/reference-to-man.py" --check-keys "$TMP/keys-minus" "$ABS_TOP_SRCDIR/conf/REFERENCE.md" 2>"$TMP/err"; then
	not_ok "a missing or extra key is found"
elif grep -q 'not documented in REFERENCE.md: certificates\[\]\.issuer(acm)\.no_such_key' "$TMP/err" &&
	grep -q 'not accepted by the loader: certificates\[\]\.issuer(acm)\.on_renewal_failure' "$TMP/err"; then
	ok "a missing or extra key is found"
else
	not_ok "a missing or extra key is found"; sed 's/^/# /' "$TMP/err"
fi

if "$PY" "$ABS_TOP_SRCDIR/man/reference-to-man.py" "$ABS_TOP_SRCDIR/conf/REFERENCE.md" >"$TMP/page" &&
	cmp -s "$TMP/page" "$ABS_TOP_SRCDIR/man/acm-agent.yaml.5"; then
	ok "man/acm-agent.yaml.5 is up to date"
else
	not_ok "man/acm-agent.yaml.5 is up to date (run: make update-man)"
	diff "$ABS_TOP_SRCDIR/man/acm-agent.yaml.5" "$TMP/page" | head -20 | sed 's/^/# /'
fi

# groff's warnings on the page (no unknown requests, no bad escapes).
if command -v groff >/dev/null 2>&1; then
	if groff -man -ww -z "$ABS_TOP_SRCDIR/man/acm-agent.yaml.5" 2>"$TMP/groff" && [ ! -s "$TMP/groff" ]; then
		ok "groff formats the page without warnings"
	else
		not_ok "groff formats the page without warnings"; sed 's/^/# /' "$TMP/groff"
	fi
fi
echo "1..$n"
[ "$failures" -eq 0 ]
