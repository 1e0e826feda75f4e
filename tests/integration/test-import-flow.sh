#!/bin/bash
# The import issuer end to end against the emulator:
#  - first import: tags (configured + acm-agent:name, acm-agent:host), the
#    ARN in the state file and in `status --json`, ACM holds the file's serial;
#  - unchanged files: nothing to do, no ImportCertificate call;
#  - certbot renews (new generation, live/ symbolic links swapped one by
#    one): re-import to the same ARN without tags, the new serial in status,
#    still one ARN;
#  - output: set: the files are deployed too (verified up to the chain's
#    root), and deployed again when the source changes;
#  - files replaced one by one moments apart: waited for, not refused;
#  - issuer.arn: the first import goes over that ARN, without tags;
#  - a certificate deleted in ACM: reported at the re-import (and found by
#    the periodic DescribeCertificate), not imported again on its own;
#    `renew NAME --force` imports it as a new certificate.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-import-lib.sh"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

emu_start --tls || exit 1
on_exit emu_stop
# A missing /etc/machine-id means no host tag (engine.c); this host has one or not
HOSTTAG=; [ -s /etc/machine-id ] && HOSTTAG=1

mk_ca rootec ec
certbot_issue web rootec ec || { not_ok "certbot-style files"; finish; }
mk_leaf "$TMP/copy" rootec ec copy.example.com
mk_leaf "$TMP/pinned" rootec ec pinned.example.com
mk_leaf "$TMP/pinned0" rootec ec pinned.example.com
PINNED_ARN=$(acm_py import "$TMP/pinned0/cert.pem" "$TMP/pinned0/privkey.pem")
L=$LE/live/web
{
	IMPORT_EXTRA=', tags: {team: web, "cost center": "42"}' import_cert web "$L"
	import_cert copy "$TMP/copy" '    output: {}'
	IMPORT_EXTRA=", arn: \"$PINNED_ARN\", tags: {team: x}" import_cert pinned "$TMP/pinned"
} | agent_conf "$TMP/c"
SF=$STATE/certs/web/state.json

# ---- first import ----
seq=$(P seq)
expect_agent 0 "first pass imports all three" --once --json
cp "$TMP/err" "$TMP/first.err"
[ "$(acm_calls "$seq" ImportCertificate)" = 3 ] && ok "three ImportCertificate calls" ||
	not_ok "ImportCertificate calls: $(acm_calls "$seq" ImportCertificate)"
ARN=$(P state "$SF" arn)
[ -n "$ARN" ] && [ "$ARN" = "$(istate "$SF" arn)" ] && ok "the ARN is in the state (served and issuer part): $ARN" ||
	not_ok "state ARN '$ARN' / '$(istate "$SF" arn)'"
S1=$(file_serial "$L/cert.pem")
[ "$(istate "$SF" serial)" = "$S1" ] && [ "$(P state "$SF" serial)" = "$S1" ] && [ "$(acm_serial "$ARN")" = "$S1" ] &&
	ok "state and ACM hold serial $S1 of live/web/cert.pem" ||
	not_ok "serials: issuer '$(istate "$SF" serial)', served '$(P state "$SF" serial)', ACM '$(acm_serial "$ARN")', file $S1"
[ -n "$(istate "$SF" fingerprint)" ] && [ -n "$(istate "$SF" imported_at)" ] && [ -z "$(istate "$SF" attempt)" ] &&
	ok "fingerprint and import time kept, no attempt in flight" || not_ok "issuer part: $(P state "$SF" issuer)"
p=$(import_params "$seq" 1 acm-agent:name=web)
want="team=web,cost center=42,acm-agent:name=web"
case $p in "arn=- tags=$want"*) ok "first import: no ARN, tags $want${HOSTTAG:+,acm-agent:host}" ;; *) not_ok "first import: $p" ;; esac
tags=$(acm_py tags "$ARN")
echo "$tags" | grep -q "acm-agent:name=web" && echo "$tags" | grep -q "cost center=42" && echo "$tags" | grep -q "team=web" &&
	{ [ -z "$HOSTTAG" ] || echo "$tags" | grep -qE "acm-agent:host=[0-9a-f]{16}"; } &&
	ok "ACM has the tags: $tags" || not_ok "ACM tags: $tags"
agent status --json
cp "$TMP/out" "$TMP/status.json"
[ "$(P status-json "$TMP/status.json" web arn)" = "$ARN" ] && [ "$(P status-json "$TMP/status.json" web serial)" = "$S1" ] &&
	[ -n "$(P status-json "$TMP/status.json" web not_after)" ] && ok "status --json: ARN, serial, expiry" ||
	not_ok "status --json: $(P status-json "$TMP/status.json" web arn serial)"
P status-json "$TMP/status.json" web issuer_state | grep -q "\"fingerprint\": \"[0-9a-f]\{64\}\"" &&
	ok "status --json: the issuer's state (fingerprint)" || not_ok "issuer_state: $(P status-json "$TMP/status.json" web issuer_state)"
# pinned: over the configured ARN, without tags (ACM refuses them on a re-import)
p=$(import_params "$seq" 1 "arn=$PINNED_ARN")
[ "$p" = "arn=$PINNED_ARN tags=- chain=yes error=-" ] && [ "$(acm_serial "$PINNED_ARN")" = "$(file_serial "$TMP/pinned/cert.pem")" ] &&
	ok "issuer.arn: imported over $PINNED_ARN, no tags" || not_ok "pinned: $p"
grep -q "pinned: issuer.tags are not applied" "$TMP/first.err" && ok "pinned: the configured tags are reported as not applied" ||
	not_ok "no warning about the tags"
# copy: output: {} deploys the files too, verified up to the chain's root
O=$TMP/c/out/copy
ROOT_PEM=$PKI/rootec.pem
verify_deployed "$O" && [ "$(file_serial "$O/cert.pem")" = "$(file_serial "$TMP/copy/cert.pem")" ] &&
	ok "copy: output: {} deploys cert, chain, fullchain and key" || not_ok "copy: deployed files ($(ls "$O" 2>&1 | tr '\n' ' '))"
[ ! -e "$TMP/c/out/web" ] && ok "web: no output: no copy" || not_ok "web was copied into $TMP/c/out/web"

# ---- unchanged files: nothing to do ----
seq=$(P seq)
expect_agent 0 "unchanged files: the pass succeeds" --once --json
[ "$(P seq)" = "$seq" ] && ok "unchanged files: no AWS call at all" || not_ok "calls were made: $(acm_calls "$seq" ImportCertificate) imports"
for n in web copy pinned; do
	[ "$(P status-json "$TMP/out" $n action)" = none ] || not_ok "$n: action $(P status-json "$TMP/out" $n action)"
done
ok "unchanged: every certificate reports none"

# ---- certbot renews: the live/ links move to generation 2 ----
certbot_issue web rootec ec
S2=$(file_serial "$L/cert.pem")
seq=$(P seq)
expect_agent 0 "after certbot's renewal the pass re-imports" --once --json
[ "$(P status-json "$TMP/out" web action)" = renewed ] && ok "web: renewed" || not_ok "web: $(P status-json "$TMP/out" web action error)"
[ "$(acm_calls "$seq" ImportCertificate)" = 1 ] && ok "one ImportCertificate" || not_ok "ImportCertificate calls: $(acm_calls "$seq" ImportCertificate)"
p=$(import_params "$seq" 1)
[ "$p" = "arn=$ARN tags=- chain=yes error=-" ] && ok "re-import to the same ARN, no tags" || not_ok "re-import: $p"
[ "$(acm_serial "$ARN")" = "$S2" ] && [ "$(istate "$SF" serial)" = "$S2" ] && [ "$S2" != "$S1" ] &&
	ok "ACM and the state hold the new serial $S2" || not_ok "after renewal: ACM '$(acm_serial "$ARN")', state '$(istate "$SF" serial)', file $S2"
agent status --json
[ "$(P status-json "$TMP/out" web serial)" = "$S2" ] && [ "$(P status-json "$TMP/out" web arn)" = "$ARN" ] &&
	ok "status: new serial, same ARN" || not_ok "status: $(P status-json "$TMP/out" web serial arn)"
acm_py tags "$ARN" | grep -q "team=web" && ok "the tags of the first import stay" || not_ok "tags lost: $(acm_py tags "$ARN")"
[ "$(P status-json "$TMP/out" web not_after)" = "$(date -u -d "$(openssl x509 -in "$L/cert.pem" -noout -enddate | sed 's/notAfter=//')" +%Y-%m-%dT%H:%M:%SZ)" ] &&
	ok "status: the new expiry" || not_ok "status not_after $(P status-json "$TMP/out" web not_after)"

# ---- output: the copy follows the source ----
mk_leaf "$TMP/copy2" rootec ec copy.example.com
cp -p "$TMP/copy2/"*.pem "$TMP/copy/"
CARN=$(P state "$STATE/certs/copy/state.json" arn)
seq=$(P seq)
expect_agent 0 "copy: changed files are re-imported and deployed" --once
[ "$(import_params "$seq" 1)" = "arn=$CARN tags=- chain=yes error=-" ] && verify_deployed "$O" &&
	[ "$(file_serial "$O/cert.pem")" = "$(file_serial "$TMP/copy2/cert.pem")" ] && [ "$(acm_serial "$CARN")" = "$(file_serial "$TMP/copy2/cert.pem")" ] &&
	ok "copy: ACM and output.dir hold the new certificate" || not_ok "copy: $(import_params "$seq" 1), deployed $(file_serial "$O/cert.pem")"

# ---- files replaced one by one: the pass waits for the pair ----
export ACM_AGENT_IMPORT_SETTLE=15  # long enough for a slow start (valgrind, a loaded machine)
mk_leaf "$TMP/gen3" rootec ec web.example.com
A=$LE/archive/web
cp "$TMP/gen3/cert.pem" "$A/cert3.pem"; cp "$TMP/gen3/privkey.pem" "$A/privkey3.pem"; chmod 600 "$A/privkey3.pem"
ln -s ../../archive/web/cert3.pem "$L/.cert.new"; mv -T "$L/.cert.new" "$L/cert.pem"   # cert first: the key does not fit
seq=$(P seq)
"$ACM_AGENT" -c "$CONF" --once --json >"$TMP/settle.json" 2>"$TMP/settle.err" &
apid=$!
wait_for 30 grep -q '"phase": "waiting"' "$SF" && ok "cert without its key: the pass waits" ||
	not_ok "no wait: $(P state "$SF" phase) $(tail -3 "$TMP/settle.err")"
ln -s ../../archive/web/privkey3.pem "$L/.privkey.new"; mv -T "$L/.privkey.new" "$L/privkey.pem"
wait $apid; rc=$?
[ "$rc" = 0 ] && [ "$(P status-json "$TMP/settle.json" web action)" = renewed ] && [ "$(acm_calls "$seq" ImportCertificate)" = 1 ] &&
	[ "$(acm_serial "$ARN")" = "$(file_serial "$L/cert.pem")" ] &&
	ok "then imports the pair once (no failure)" || { not_ok "settle: exit $rc, $(P status-json "$TMP/settle.json" web action error)"; sed 's/^/# /' "$TMP/settle.err" | tail -5; }
grep -q "changed moments ago and do not fit together yet (key file $L/privkey.pem: does not match" "$TMP/settle.err" &&
	ok "the wait says why" || not_ok "wait reason not logged"
unset ACM_AGENT_IMPORT_SETTLE

# ---- deleted in ACM ----
acm_py delete "$ARN"
certbot_issue web rootec ec
seq=$(P seq)
expect_agent 1 "the re-import into a deleted certificate fails" --once --json
e=$(P status-json "$TMP/out" web error)
echo "$e" | grep -q "the ACM certificate $ARN this host imports into was deleted" && echo "$e" | grep -q "acm-agent renew web --force" &&
	ok "reported: deleted, run renew --force" || not_ok "error: $e"
[ "$(acm_calls "$seq" ImportCertificate ResourceNotFoundException)" = 1 ] && [ "$(imported_arns "$seq")" = 0 ] &&
	ok "no new certificate imported on its own" || not_ok "imports: $(acm_calls "$seq" ImportCertificate), new ARNs $(imported_arns "$seq")"
[ "$(istate "$SF" deleted_arn)" = "$ARN" ] && ok "the state remembers the deletion" || not_ok "deleted_arn '$(istate "$SF" deleted_arn)'"
seq=$(P seq)
expect_agent 1 "renew web (no --force) still refuses" renew web
[ "$(acm_calls "$seq" ImportCertificate)" = 0 ] && ok "no AWS call for a known deletion" || not_ok "calls: $(acm_calls "$seq" ImportCertificate)"
seq=$(P seq)
expect_agent 0 "renew web --force imports it anew" renew web --force
NARN=$(P state "$SF" arn)
p=$(import_params "$seq" 1)
case $p in "arn=- tags=team=web,cost center=42,acm-agent:name=web"*"error=-") ok "a first import again, with tags" ;; *) not_ok "forced import: $p" ;; esac
[ -n "$NARN" ] && [ "$NARN" != "$ARN" ] && [ "$(acm_serial "$NARN")" = "$(file_serial "$L/cert.pem")" ] && [ -z "$(istate "$SF" deleted_arn)" ] &&
	ok "new ARN $NARN in the state" || not_ok "new ARN '$NARN' (old $ARN)"

# ---- deleted, found by the periodic look (files unchanged) ----
acm_py delete "$CARN"
seq=$(P seq)
expect_agent 0 "within 6 h no DescribeCertificate" --once
[ "$(acm_calls "$seq" DescribeCertificate)" = 0 ] && ok "no DescribeCertificate yet" || not_ok "Describe calls: $(acm_calls "$seq" DescribeCertificate)"
at_offset $((7 * 3600))
seq=$(P seq)
expect_agent 1 "7 h later the check finds the deletion" --once --json
e=$(P status-json "$TMP/out" copy error)
echo "$e" | grep -q "the ACM certificate $CARN this host imports into was deleted" && ok "copy: deleted in ACM is reported" || not_ok "copy error: $e"
[ "$(P status-json "$TMP/out" web action)" = none ] && [ "$(acm_calls "$seq" DescribeCertificate)" = 3 ] && [ "$(acm_calls "$seq" ImportCertificate)" = 0 ] &&
	ok "one DescribeCertificate each, nothing imported, the others fine" || not_ok "after 7 h: web $(P status-json "$TMP/out" web action), describes $(acm_calls "$seq" DescribeCertificate)"

# ---- not renewed where it is made: loud before it expires ----
at_offset 0
unset ACM_AGENT_CLOCK_OFFSET
mk_leaf "$TMP/short" rootec ec short.example.com 5
import_cert short "$TMP/short" | agent_conf "$TMP/c-short"
expect_agent 0 "a certificate with 5 days left is imported (it is valid)" --once
seq=$(P seq)
expect_agent 1 "the next pass fails: its files were not renewed" --once --json
e=$(P status-json "$TMP/out" short error)
echo "$e" | grep -qE "the imported certificate \(serial [0-9A-F]+\) expires in 4d23h|expires in 5d" && echo "$e" | grep -q "was not renewed" &&
	ok "reported: expires in 5 days, not renewed" || not_ok "short: $e"
[ "$(P seq)" = "$seq" ] && ok "no AWS call for that" || not_ok "calls were made"
at_offset $((6 * DAY))
expect_agent 1 "once expired: still failing, says expired" renew short
agent status --json
P status-json "$TMP/out" short last_error | grep -q "expired at .* still holds it" && [ "$(P status-json "$TMP/out" short danger)" = expired ] &&
	ok "status: expired, the source still holds it" || not_ok "short: $(P status-json "$TMP/out" short last_error danger)"
finish
