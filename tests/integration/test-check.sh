#!/bin/sh
# acm-agent check: the shipped examples are valid; a broken configuration
# exits 2 with FILE:LINE:COLUMN lines; check --json output loads again to
# the same JSON (round trip through the real binary).
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"

EX="$ABS_TOP_SRCDIR/conf/acm-agent.yaml"
expect_rc 0 "the shipped example is valid" -- "$ACM_AGENT" -c "$EX" check
n_certs=$(grep -c -- '- name:' "$ABS_TOP_SRCDIR"/conf/certs.d/*.yaml | awk -F: '{s += $2} END {print s}')
n_lines=$(grep -c -- ' -> /' "$TMP/out")
if [ "$n_lines" = "$n_certs" ] && [ "$n_certs" -ge 3 ]; then ok "one line per certificate ($n_certs)"; else not_ok "one line per certificate (got $n_lines, want $n_certs)"; fi
expect_grep '^web-internal +pca .*web.internal.example.com.* -> /etc/ssl/acm-agent/web-internal$' "pca example line"
expect_grep '^api +acm .*api.example.com' "acm example line"
expect_grep '^legacy +import ' "import example line"

# A broken configuration: every error, FILE:LINE:COLUMN, exit 2.
mkdir -p "$TMP/bad/certs.d"
cat >"$TMP/bad/acm-agent.yaml" <<'YAML'
state_dir: relative
certificates:
  - name: web
    issuer: {type: pca, ca_arn: "arn:aws:acm-pca:eu-west-1:1:certificate-authority/x", validity: 30days}
    dns_names: [www.example.com]
    renew_befor: 30d
YAML
cat >"$TMP/bad/certs.d/10-x.yaml" <<'YAML'
certificates:
  - name: web
    issuer: {type: import, cert: /c, key: /k}
YAML
expect_rc 2 "a broken configuration exits 2" -- "$ACM_AGENT" -c "$TMP/bad/acm-agent.yaml" check
expect_grep "^$TMP/bad/acm-agent.yaml:1:12: state_dir must be an absolute path" "relative state_dir at 1:12"
expect_grep "^$TMP/bad/acm-agent.yaml:4:33: ca_arn: malformed ARN" "bad ARN at 4:33"
expect_grep "^$TMP/bad/acm-agent.yaml:4:98: validity: '30days' is not a duration" "bad validity at 4:98"
expect_grep "^$TMP/bad/acm-agent.yaml:6:5: unknown key 'renew_befor'" "unknown key at 6:5"
expect_grep "^  hint: did you mean 'renew_before'\\?" "the hint names the nearest key"
expect_grep "^$TMP/bad/certs.d/10-x.yaml:2:5: certificate name 'web' is also defined at $TMP/bad/acm-agent.yaml:3:5" "duplicate names both places"
n_err=$(grep -cE "^$TMP/bad/[^:]+:[0-9]+:[0-9]+: " "$TMP/out")
if [ "$n_err" = 5 ]; then ok "all 5 errors reported"; else not_ok "all 5 errors reported (got $n_err)"; fi
"$ACM_AGENT" -c "$TMP/bad/acm-agent.yaml" check --json >"$TMP/errs.json" 2>/dev/null; rc=$?
if [ $rc = 2 ]; then ok "check --json on a broken configuration exits 2"; else not_ok "check --json on a broken configuration exits 2 ($rc)"; fi
if "$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["valid"] is False and len(d["errors"]) == 5 and d["errors"][0]["line"] == 1 and d["errors"][4]["class"] == "duplicate"' "$TMP/errs.json"; then
	ok "errors as JSON"; else not_ok "errors as JSON"; sed 's/^/# /' "$TMP/errs.json"; fi
expect_rc 2 "a missing configuration exits 2" -- "$ACM_AGENT" -c "$TMP/nope.yaml" check
expect_grep "^$TMP/nope.yaml:1:1: cannot read" "missing file is named"

# Round trip: check --json output is itself a valid configuration with the same JSON.
"$ACM_AGENT" -c "$EX" check --json >"$TMP/rt1.json" 2>"$TMP/err"; rc=$?
if [ $rc = 0 ]; then ok "check --json exits 0"; else not_ok "check --json exits 0 ($rc)"; cat "$TMP/err"; fi
mkdir -p "$TMP/rt"
cp "$TMP/rt1.json" "$TMP/rt/acm-agent.yaml"
"$ACM_AGENT" -c "$TMP/rt/acm-agent.yaml" check --json >"$TMP/rt2.json" 2>"$TMP/err"; rc=$?
if [ $rc = 0 ] && cmp -s "$TMP/rt1.json" "$TMP/rt2.json"; then ok "check --json output loads to the same JSON"; else
	not_ok "round trip (exit $rc)"; diff "$TMP/rt1.json" "$TMP/rt2.json" | head -20 | sed 's/^/# /'; cat "$TMP/err"; fi
if "$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["certificates"]) >= 3' "$TMP/rt1.json"; then
	ok "--json lists the certificates"; else not_ok "--json lists the certificates"; fi
expect_rc 2 "unexpected argument exits 2" -- "$ACM_AGENT" -c "$EX" check extra
# --json promises one JSON document: the online report (lines for people)
# is refused with it rather than appended to the document.
expect_rc 2 "check --json --online is refused" -- "$ACM_AGENT" -c "$ABS_TOP_SRCDIR/conf/acm-agent.yaml" check --json --online
expect_grep "cannot be combined" "says why and what to run instead"
finish
