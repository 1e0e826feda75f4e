#!/bin/bash
# DNS validation answered by a real DNS server: BIND (named) on 127.0.0.1,
# the validation CNAME added with nsupdate, the emulator's dns_server
# setting pointing at it.  Exit 0 pass, 77 skip, 1 fail.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
NAMED=$(command -v named || echo /usr/sbin/named)
[ -x "$NAMED" ] && command -v nsupdate >/dev/null || { echo "# skip: named/nsupdate not installed"; exit 77; }
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1 AWS_PAGER=
PORT=$("$PYTHON3" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/named"
cat >"$TMP/named/db.example.org" <<ZONE
\$TTL 60
@ IN SOA ns.example.org. hostmaster.example.org. 1 60 60 600 60
@ IN NS ns.example.org.
ns IN A 127.0.0.1
ZONE
cat >"$TMP/named/named.conf" <<CONF
options { directory "$TMP/named"; listen-on port $PORT { 127.0.0.1; }; listen-on-v6 { none; };
	pid-file "$TMP/named/pid"; recursion no; dnssec-validation no; };
controls { };
zone "example.org" { type master; file "$TMP/named/db.example.org"; allow-update { 127.0.0.1; }; };
CONF
chmod -R a+rwX "$TMP/named"
stop_named() { [ -s "$TMP/named/pid" ] && kill "$(cat "$TMP/named/pid")" 2>/dev/null; sleep 0.2; }
on_exit stop_named
"$NAMED" -c "$TMP/named/named.conf" -u "$(id -un)" -4 >"$TMP/named.log" 2>&1 || { echo "# skip: named failed to start"; cat "$TMP/named.log"; exit 77; }
for i in $(seq 100); do [ -s "$TMP/named/pid" ] && break; sleep 0.1; done
on_exit emu_stop
on_exit emu_cli_stop
emu_start || { echo "not ok 1 - emulator starts"; exit 1; }
export AWS_DATA_PATH=$EMU_MODELS_DIR
emu_cli_start || { echo "not ok 1 - CLI server starts"; exit 1; }
a() { emu_aws --endpoint-url "$EMU_URL" --output json "$@"; }
emu_ctl POST /settings "{\"dns_server\": \"127.0.0.1:$PORT\", \"renewal_delay_seconds\": 0}" >/dev/null
expect_rc 0 "request a DNS-validated certificate for an example.org name" -- a acm request-certificate --domain-name www.example.org --validation-method DNS
ARN=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["CertificateArn"])' "$TMP/out")
a acm describe-certificate --certificate-arn "$ARN" >"$TMP/d.json"
read -r N V < <("$PYTHON3" -c 'import json,sys; r=json.load(open(sys.argv[1]))["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]; print(r["Name"], r["Value"])' "$TMP/d.json")
a acm describe-certificate --certificate-arn "$ARN" >"$TMP/out"
expect_grep '"Status": "PENDING_VALIDATION"' "pending while the CNAME is absent from BIND"
printf 'server 127.0.0.1 %s\nzone example.org\nupdate add %s 60 CNAME %s\nsend\n' "$PORT" "$N" "$V" >"$TMP/nsu"
expect_rc 0 "nsupdate adds the validation CNAME to BIND" -- nsupdate "$TMP/nsu"
a acm describe-certificate --certificate-arn "$ARN" >"$TMP/out"
expect_grep '"Status": "ISSUED"' "ISSUED once BIND answers the CNAME"
printf 'server 127.0.0.1 %s\nzone example.org\nupdate delete %s CNAME\nsend\n' "$PORT" "$N" >"$TMP/nsu"
expect_rc 0 "nsupdate deletes the CNAME" -- nsupdate "$TMP/nsu"
emu_ctl POST /inuse "{\"arn\":\"$ARN\",\"by\":[\"arn:aws:cloudfront::111122223333:distribution/E1\"]}" >/dev/null
emu_ctl POST /renew "{\"arn\":\"$ARN\",\"outcome\":\"AUTO\"}" >/dev/null
a acm describe-certificate --certificate-arn "$ARN" >"$TMP/out"
expect_grep '"RenewalStatus": "PENDING_VALIDATION"' "managed renewal waits while BIND lacks the CNAME"
printf 'server 127.0.0.1 %s\nzone example.org\nupdate add %s 60 CNAME %s\nsend\n' "$PORT" "$N" "$V" >"$TMP/nsu"
expect_rc 0 "nsupdate adds it again" -- nsupdate "$TMP/nsu"
a acm describe-certificate --certificate-arn "$ARN" >"$TMP/out"
expect_grep '"RenewalStatus": "SUCCESS"' "renewal SUCCESS once BIND answers again"
finish
