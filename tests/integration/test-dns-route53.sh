#!/bin/bash
# The Route 53 publisher against the emulator (HTTPS): the records of many
# certificates in one zone go in one ChangeResourceRecordSets per batch,
# records known published are not sent again, zones by id and by the
# longest suffix, a zone that does not exist, a record outside every zone,
# InvalidChangeBatch naming the record, deletion, GetChange polling and the
# deadline, retries of what the AWS client gave up on, a separate role,
# cancellation, conflicts, and 1000 records at once. Counts come from the
# emulator's call log. Exit 0 pass, 77 skip, 1 fail.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
DNS_DRIVER=$ABS_TOP_BUILDDIR/tests/integration/dns-driver
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
on_exit emu_stop
emu_start --tls >/dev/null || { echo "not ok 1 - emulator starts"; exit 1; }
export AWS_CA_BUNDLE=$EMU_CA_BUNDLE
ZONE=Z0EMULATOREXAMPLE01

pub() { "$DNS_DRIVER" publish --provider route53 --window-ms 300 --poll-ms 200 --timeout-s 60 "$@"; }
# calls OP [FIELD]: the emulator's log of route53:OP as "status zone nchanges
# access_key_id [first change name]" lines, since the last reset.
calls() {
	emu_ctl GET "/calls?operation=route53:$1" | "$PYTHON3" -c '
import json, sys
for c in json.load(sys.stdin)["calls"]:
    p = c["parameters"] or {}
    ch = p.get("ChangeBatch", {}).get("Changes", [])
    names = ",".join(x["ResourceRecordSet"]["Name"] for x in ch)
    print(c["status"], p.get("HostedZoneId", "-"), len(ch), c["access_key_id"], names or "-")'
}
ncalls() { calls "$1" | wc -l; }
reset() { emu_ctl POST /reset >/dev/null; }
# records FIRST LAST: NAME=VALUE lines, values as long as ACM's (65 characters).
records() { "$PYTHON3" -c 'import sys
for i in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    print("_%032x.host%d.example.com=_%032x.abcdefghij.acm-validations.aws." % (i, i, i))' "$1" "$2"; }
# rrs NAME: the record set NAME of the example.com zone, as "NAME TTL VALUE" (empty when absent).
rrs() {
	"$ABS_TOP_BUILDDIR/tests/integration/aws-call" route53 list-rrs "$ZONE" "$1" 2>/dev/null | "$PYTHON3" -c '
import json, sys
l = json.load(sys.stdin)["ResourceRecordSets"]
l = l.get("ResourceRecordSet", []) if isinstance(l, dict) else []
for r in l if isinstance(l, list) else [l]:
    if r["Name"] == sys.argv[1]:
        print(r["Name"], r["TTL"], r["ResourceRecords"]["ResourceRecord"]["Value"])' "$1"
}
same() { # same DESCRIPTION WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got $3, want $2)"; fi
}

# --- zone by suffix, batching across certificates ---------------------------
expect_rc 0 "three certificates, records under example.com" -- pub --jobs 3 \
	_a.example.com=_va.acm-validations.aws _b.www.example.com=_vb.acm-validations.aws \
	_c.api.example.com=_vc.acm-validations.aws
same "… each certificate succeeded" 3 "$(grep -c '^ok cert' "$TMP/out")"
same "… the zone list was read once" 1 "$(ncalls ListHostedZonesByName)"
same "… one ChangeResourceRecordSets for the three" "200 $ZONE 3" "$(calls ChangeResourceRecordSets | cut -d' ' -f1-3)"
same "… one GetChange" 1 "$(ncalls GetChange)"
same "… the records are in the zone, TTL 300" "_b.www.example.com. 300 _vb.acm-validations.aws." "$(rrs _b.www.example.com.)"

# --- de-duplication -------------------------------------------------------------
reset
expect_rc 0 "two certificates sharing their records (apex and wildcard), twice" -- pub --jobs 2 --share --again \
	_a.example.com=_va.acm-validations.aws _b.example.com=_vb.acm-validations.aws
same "… four successes" 4 "$(grep -c '^ok cert' "$TMP/out")"
same "… each record sent once, in one call" "200 $ZONE 2" "$(calls ChangeResourceRecordSets | cut -d' ' -f1-3)"
expect_grep "^round 2: calls ListHostedZonesByName=1 ChangeResourceRecordSets=1 GetChange=1 " \
	"… the second round sent nothing (records published in this run)" "$TMP/out"

# --- zone by id; a zone that does not exist; a record outside every zone --------
reset
expect_rc 0 "zone by id" -- pub --zone-id "/hostedzone/$ZONE" _d.example.com=_vd.acm-validations.aws
same "… no zone look-up" 0 "$(ncalls ListHostedZonesByName)"
same "… sent to that zone" "200 $ZONE 1" "$(calls ChangeResourceRecordSets | cut -d' ' -f1-3)"
expect_rc 1 "a zone id that does not exist" -- pub --zone-id Z0NOSUCHZONE0000 _d.example.com=_vd.acm-validations.aws
expect_grep "^fail cert0 dns-zone: cannot publish _d.example.com. in Route 53: hosted zone Z0NOSUCHZONE0000 does not exist \(NoSuchHostedZone" \
	"… says the zone does not exist"
expect_grep "correct dns.hosted_zone_id, or remove it to find the zone by name$" "… and what to do"
reset
expect_rc 1 "a record outside every zone" -- pub _e.example.net=_ve.acm-validations.aws
expect_grep "^fail cert0 dns-zone: no public Route 53 hosted zone of this account contains _e.example.net.: create one, or set dns.hosted_zone_id$" \
	"… names the record and the fix"
same "… nothing was sent" 0 "$(ncalls ChangeResourceRecordSets)"

# --- longest suffix: a zone of its own for sub.example.com -----------------------
reset
SUB=$(emu_ctl POST /zone '{"name": "sub.example.com", "id": "Z0EMULATORSUB0001"}' | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect_rc 0 "records in two zones" -- pub --jobs 1 _f.x.sub.example.com=_vf.acm-validations.aws _g.example.com=_vg.acm-validations.aws
calls ChangeResourceRecordSets | cut -d' ' -f1,2,3,5 | sort >"$TMP/c"
printf '200 %s 1 _f.x.sub.example.com.\n200 %s 1 _g.example.com.\n' "$SUB" "$ZONE" | sort >"$TMP/w"
if cmp -s "$TMP/c" "$TMP/w"; then ok "… each to the zone with the longest suffix"; else
	not_ok "… each to the zone with the longest suffix"; sed 's/^/# /' "$TMP/c"; fi

# --- InvalidChangeBatch names the record; the others of the batch go again -------
reset
expect_rc 1 "a record the zone refuses, batched with another certificate's" -- pub --jobs 2 --zone-id "$ZONE" \
	_h.example.org=_vh.acm-validations.aws _i.example.com=_vi.acm-validations.aws
expect_grep "^fail cert0 dns-route53: Route 53 refused to publish _h.example.org. CNAME _vh.acm-validations.aws. in zone $ZONE \(InvalidChangeBatch\): .*_h.example.org. is not permitted in zone example.com." \
	"… the failure names the record and Route 53's reason"
expect_grep "^ok cert1" "… the other certificate's record is published"
calls ChangeResourceRecordSets | cut -d' ' -f1,3,5 >"$TMP/c"
printf '400 2 _h.example.org.,_i.example.com.\n200 1 _i.example.com.\n' >"$TMP/w"
if cmp -s "$TMP/c" "$TMP/w"; then ok "… by a second batch without the refused record"; else
	not_ok "… by a second batch without the refused record"; sed 's/^/# /' "$TMP/c"; fi

# --- conflicts and cancellation --------------------------------------------------
reset
expect_rc 1 "two certificates, one name, two values" -- pub --jobs 2 _j.example.com=_v1.acm-validations.aws _j.example.com=_v2.acm-validations.aws
expect_grep "^fail cert1 dns-conflict: _j.example.com. is being published in Route 53 zone $ZONE with another value \(_v1.acm-validations.aws., TTL 300\) for cert0$" \
	"… the second is told which certificate holds it"
expect_grep "^ok cert0" "… the first goes on"
reset
expect_rc 0 "a certificate cancelled before the window ends" -- pub --jobs 2 --cancel 0 _k.example.com=_vk.acm-validations.aws _l.example.com=_vl.acm-validations.aws
same "… only the other's record is sent" "200 1 _l.example.com." "$(calls ChangeResourceRecordSets | cut -d' ' -f1,3,5)"

# --- deletion ----------------------------------------------------------------------
reset
expect_rc 0 "publish a record to delete" -- pub _a.example.com=_va.acm-validations.aws
expect_rc 0 "delete it and a record that is not there" -- pub --delete --jobs 1 _a.example.com=_va.acm-validations.aws _zz.example.com=_vzz.acm-validations.aws
expect_grep "^ok cert0" "… done: an absent record is already deleted"
calls ChangeResourceRecordSets | cut -d' ' -f1,3 >"$TMP/c"
printf '200 1\n400 2\n200 1\n' >"$TMP/w"
if cmp -s "$TMP/c" "$TMP/w"; then ok "… in batches (the refused one without the absent record)"; else
	not_ok "… in batches"; sed 's/^/# /' "$TMP/c"; fi
same "… _a.example.com. is gone" "" "$(rrs _a.example.com.)"

# --- GetChange: PENDING, exponential backoff, the deadline -------------------------
reset
emu_ctl POST /settings '{"route53_insync_seconds": 3}' >/dev/null
expect_rc 0 "INSYNC after 3 s, polled from 0.5 s doubling" -- pub --poll-ms 500 _m.example.com=_vm.acm-validations.aws
n=$(ncalls GetChange)
if [ "$n" -ge 2 ] && [ "$n" -le 4 ]; then ok "… $n GetChange calls (0.5, 1.5, 3.5 s at most)"; else not_ok "… $n GetChange calls"; fi
emu_ctl POST /settings '{"route53_insync_seconds": 3600}' >/dev/null
expect_rc 1 "not INSYNC within the timeout" -- pub --timeout-s 2 --poll-ms 500 _n.example.com=_vn.acm-validations.aws
expect_grep "^fail cert0 dns-timeout: Route 53: 1 of 1 records \(_n.example.com. first\) not in sync after 2 s: the change is still PENDING \(change C[0-9A-F]+\); raise dns.propagation_timeout" \
	"… says what is pending and what to raise"
reset

# --- what the AWS client gave up on is retried --------------------------------------
emu_ctl POST /fault '{"operation": "route53:ChangeResourceRecordSets", "kind": "503", "count": 4}' >/dev/null
expect_rc 0 "four 503s (three client attempts, then the publisher's retry)" -- pub _o.example.com=_vo.acm-validations.aws
same "… five attempts, the last accepted" "503 503 503 503 200" "$(calls ChangeResourceRecordSets | cut -d' ' -f1 | xargs)"
reset
emu_ctl POST /zone '{"name": "sub.example.com", "id": "Z0EMULATORSUB0001"}' >/dev/null
emu_ctl POST /quota '{"operation": "route53:ChangeResourceRecordSets", "per_second": 0.3, "burst": 1}' >/dev/null
expect_rc 0 "throttled: two zones, one call allowed per 3 s" -- pub --jobs 2 _p.sub.example.com=_vp.acm-validations.aws _q.example.com=_vq.acm-validations.aws
same "… both published" 2 "$(grep -c '^ok cert' "$TMP/out")"
calls ChangeResourceRecordSets >"$TMP/c"
if grep -q '^400 ' "$TMP/c"; then ok "… after ThrottlingException answers"; else
	not_ok "… after ThrottlingException answers"; sed 's/^/# /' "$TMP/c"; fi
reset

# --- a separate role for Route 53 ---------------------------------------------------
expect_rc 0 "dns.role_arn: Route 53 with an assumed role" -- pub --role-arn arn:aws:iam::111122223333:role/dns-updater \
	_r.example.com=_vr.acm-validations.aws
same "… AssumeRole once" 1 "$(emu_ctl GET '/calls?operation=sts:AssumeRole' | "$PYTHON3" -c 'import json,sys; print(len([c for c in json.load(sys.stdin)["calls"] if c["parameters"]["RoleArn"].endswith("role/dns-updater")]))')"
key=$(calls ChangeResourceRecordSets | cut -d' ' -f4)
if [ -n "$key" ] && [ "$key" != "$AWS_ACCESS_KEY_ID" ]; then ok "… the change is signed with the role's key"; else
	not_ok "… the change is signed with the role's key ($key)"; fi

# --- 1000 certificates' records in one zone ------------------------------------------
reset
records 1 1000 >"$TMP/recs"
start=$(date +%s.%N)
expect_rc 0 "1000 records of 500 certificates" -- xargs -a "$TMP/recs" "$DNS_DRIVER" publish --provider route53 \
	--window-ms 2000 --poll-ms 1000 --timeout-s 120 --jobs 500
end=$(date +%s.%N)
same "… 500 successes" 500 "$(grep -c '^ok cert' "$TMP/out")"
n=$(ncalls ChangeResourceRecordSets)
same "… 5 ChangeResourceRecordSets (246 UPSERTs of 65-character values each, Route 53's 32000 characters)" 5 "$n"
same "… 1000 changes in all" 1000 "$(calls ChangeResourceRecordSets | awk '{s += $3} END {print s}')"
g=$(ncalls GetChange)
if [ "$g" -le 10 ]; then ok "… $g GetChange calls"; else not_ok "… $g GetChange calls (more than 2 per batch)"; fi
same "… one zone look-up" 1 "$(ncalls ListHostedZonesByName)"
echo "# figures: 1000 records, 500 certificates: $n ChangeResourceRecordSets, $g GetChange, 1 ListHostedZonesByName, $(echo "$end - $start" | bc) s (2 s window)"
finish
