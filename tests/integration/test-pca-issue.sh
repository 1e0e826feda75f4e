#!/bin/bash
# Private CA issuance end to end against the emulator: every key type, the
# Validity forms (DAYS, MONTHS, END_DATE, ABSOLUTE, duration), ValidityNotBefore,
# TemplateArn + ApiPassthrough, SANs of every kind, output files, modes,
# pkcs12/haproxy bundles; all in ONE --once pass, checked with openssl.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/pca-lib.sh"

cert rsa2048 "$RSA_CA" '"key":{"type":"rsa","bits":2048},"validity":{"type":"DAYS","value":30}'
cert rsa3072 "$RSA_CA" '"key":{"type":"rsa","bits":3072},"validity":{"type":"MONTHS","value":2}'
cert rsa4096 "$RSA_CA" '"key":{"type":"rsa","bits":4096},"validity":{"type":"DAYS","value":10}'
cert ec256 "$SUB_CA" '"key":{"type":"ec","curve":"P-256"},"validity":{"type":"DAYS","value":7}'
cert ec384 "$EC_CA" '"key":{"type":"ec","curve":"P-384"},"validity":{"type":"END_DATE","value":20300101000000}'
end=$(( $(date +%s) + 5 * 86400 + 3600 ))
nb=$(( $(date +%s) - 1800 ))
cert ec521 "$EC_CA" "\"key\":{\"type\":\"ec\",\"curve\":\"P-521\"},\"validity\":{\"type\":\"ABSOLUTE\",\"value\":$end},\"validity_not_before\":{\"type\":\"ABSOLUTE\",\"value\":$nb}"
cert dur "$EC_CA" '"validity":{"type":"DURATION","value":129600}'
cert passthru "$EC_CA" '"validity":{"type":"DAYS","value":3},"template_arn":"arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1","api_passthrough":{"Subject":{"Organization":"Passthrough Org","CommonName":"api-subject.example.com"},"Extensions":{"KeyUsage":{"DigitalSignature":true},"SubjectAlternativeNames":[{"DnsName":"api-subject.example.com"},{"DnsName":"passthru.example.com"}]}}'
cert sans "$EC_CA" '"validity":{"type":"DAYS","value":3},"organization":"Example Ltd","ip_addresses":["192.0.2.7","2001:db8::1"],"email_addresses":["ops@example.com"],"uris":["spiffe://example.com/web"]' '"files":["cert","chain","fullchain","key","haproxy_bundle","pkcs12"],"pkcs12_passphrase_file":"'"$TMP"'/p12pass","mode":"0640","key_mode":"0400"'
echo "s3cret-pass" >"$TMP/p12pass"
write_conf

start=$(date +%s%N)
expect_rc 0 "one --once pass issues 9 certificates" -- agent --once
echo "# pass took $(( ($(date +%s%N) - start) / 1000000 )) ms"
expect_grep "9 certificates: 9 issued" "summary counts 9 issued"
[ "$(calls acm-pca:IssueCertificate)" = 9 ] && ok "9 IssueCertificate calls" || not_ok "IssueCertificate calls: $(calls acm-pca:IssueCertificate)"
[ "$(calls acm-pca:DescribeCertificateAuthority)" = 3 ] && ok "DescribeCertificateAuthority once per CA (3)" || not_ok "Describe calls: $(calls acm-pca:DescribeCertificateAuthority)"
[ "$(calls acm-pca:GetCertificateAuthorityCertificate)" = 3 ] && ok "CA certificate fetched once per CA" || not_ok "GetCACert calls $(calls acm-pca:GetCertificateAuthorityCertificate)"

for n in rsa2048 rsa3072 rsa4096 ec256 ec384 ec521 dur passthru sans; do verify_files $n; done
keytext() { openssl pkey -in "$OUT/$1/key.pem" -noout -text 2>/dev/null | head -1; }
expect_key() {
	if keytext "$1" | grep -q "$2"; then ok "$1: key is $2"; else not_ok "$1: key is not $2: $(keytext "$1")"; fi
}
expect_key rsa2048 "2048 bit"
expect_key rsa3072 "3072 bit"
expect_key rsa4096 "4096 bit"
expect_key ec256 "256 bit"
expect_key ec384 "384 bit"
expect_key ec521 "521 bit"
sig() { openssl x509 -in "$OUT/$1/cert.pem" -noout -text | grep -m1 "Signature Algorithm" | sed 's/.*: //'; }
[ "$(sig rsa2048)" = sha256WithRSAEncryption ] && ok "auto signing algorithm for an RSA CA" || not_ok "rsa sig $(sig rsa2048)"
[ "$(sig ec384)" = ecdsa-with-SHA256 ] && ok "auto signing algorithm for an EC CA" || not_ok "ec sig $(sig ec384)"

days_left() { echo $(( ($(date -d "$(openssl x509 -in "$OUT/$1/cert.pem" -noout -enddate | sed 's/notAfter=//')" +%s) - $(date +%s)) )); }
d=$(days_left rsa2048); [ $d -gt $((29*86400)) ] && [ $d -le $((30*86400)) ] && ok "DAYS 30" || not_ok "DAYS 30: $d s left"
d=$(days_left rsa3072); [ $d -gt $((58*86400)) ] && [ $d -le $((62*86400)) ] && ok "MONTHS 2" || not_ok "MONTHS 2: $d s"
openssl x509 -in "$OUT/ec384/cert.pem" -noout -enddate | grep -q "Jan  1 00:00:00 2030 GMT" && ok "END_DATE 20300101000000" || not_ok "END_DATE: $(openssl x509 -in "$OUT/ec384/cert.pem" -noout -enddate)"
[ "$(date -d "$(openssl x509 -in "$OUT/ec521/cert.pem" -noout -enddate | sed 's/notAfter=//')" +%s)" = "$end" ] && ok "ABSOLUTE end" || not_ok "ABSOLUTE end"
[ "$(date -d "$(openssl x509 -in "$OUT/ec521/cert.pem" -noout -startdate | sed 's/notBefore=//')" +%s)" = "$nb" ] && ok "ValidityNotBefore ABSOLUTE" || not_ok "ValidityNotBefore"
d=$(days_left dur); [ $d -gt $((36*3600 - 120)) ] && [ $d -le $((36*3600 + 5)) ] && ok "duration 36h sent as END_DATE" || not_ok "duration: $d s left"
emu_ctl GET "/calls?operation=acm-pca:IssueCertificate" >"$TMP/issue.json"
"$PYTHON3" - "$TMP/issue.json" >"$TMP/issue.txt" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["calls"]:
    p = c["parameters"]
    print(json.dumps({"v": p.get("Validity"), "t": p.get("TemplateArn"), "a": p.get("ApiPassthrough"), "tok": p.get("IdempotencyToken"), "alg": p.get("SigningAlgorithm")}, sort_keys=True))
PY
expect_grep '"v": \{"Type": "END_DATE", "Value": [0-9]{14}\}' "duration went out as END_DATE" "$TMP/issue.txt"
expect_grep '"tok": "[0-9a-f]{32}"' "IdempotencyToken sent" "$TMP/issue.txt"
expect_grep '"a": \{"Extensions": \{"KeyUsage": \{"DigitalSignature": true\}, "SubjectAlternativeNames": \[\{"DnsName": "api-subject.example.com"\}, \{"DnsName": "passthru.example.com"\}\]\}, "Subject": \{"CommonName": "api-subject.example.com", "Organization": "Passthrough Org"\}\}' "ApiPassthrough sent as configured" "$TMP/issue.txt"
openssl x509 -in "$OUT/passthru/cert.pem" -noout -subject | grep -q "O = Passthrough Org" && ok "ApiPassthrough subject applied" || not_ok "passthrough subject: $(openssl x509 -in "$OUT/passthru/cert.pem" -noout -subject)"
# The passthrough CN and SANs replace the CSR's (template > API > CSR): the
# agent verifies the certificate against what it asked AWS for, and deploys it.
openssl x509 -in "$OUT/passthru/cert.pem" -noout -subject | grep -q "CN = api-subject.example.com" && ok "ApiPassthrough CN (not the CSR's) is served" || not_ok "passthrough CN: $(openssl x509 -in "$OUT/passthru/cert.pem" -noout -subject)"
openssl x509 -in "$OUT/passthru/cert.pem" -noout -ext subjectAltName | grep -q "DNS:api-subject.example.com, DNS:passthru.example.com" && ok "ApiPassthrough SANs applied" || not_ok "passthrough SANs: $(openssl x509 -in "$OUT/passthru/cert.pem" -noout -ext subjectAltName)"

# SANs of every kind and the subject
openssl x509 -in "$OUT/sans/cert.pem" -noout -ext subjectAltName >"$TMP/san.txt"
expect_grep "DNS:sans.example.com" "DNS SAN" "$TMP/san.txt"
expect_grep "IP Address:192.0.2.7" "IPv4 SAN" "$TMP/san.txt"
expect_grep "IP Address:2001:DB8:0:0:0:0:0:1" "IPv6 SAN" "$TMP/san.txt"
expect_grep "email:ops@example.com" "email SAN" "$TMP/san.txt"
expect_grep "URI:spiffe://example.com/web" "URI SAN" "$TMP/san.txt"
openssl x509 -in "$OUT/sans/cert.pem" -noout -subject | grep -q "O = Example Ltd" && ok "subject O" || not_ok "subject O"
# every output file, with its mode
for f in cert.pem:640 chain.pem:640 fullchain.pem:640 key.pem:400 haproxy.pem:400 cert.p12:400; do
	m=$(stat -L -c %a "$OUT/sans/${f%%:*}" 2>/dev/null)
	[ "$m" = "${f##*:}" ] && ok "sans/${f%%:*} mode ${f##*:}" || not_ok "sans/${f%%:*} mode $m, want ${f##*:}"
done
openssl pkcs12 -in "$OUT/sans/cert.p12" -passin file:"$TMP/p12pass" -nokeys 2>/dev/null | grep -q "BEGIN CERTIFICATE" && ok "pkcs12 opens with the passphrase" || not_ok "pkcs12"
[ "$(grep -c BEGIN "$OUT/sans/haproxy.pem")" = 3 ] && ok "haproxy bundle: cert, CA, key" || not_ok "haproxy bundle blocks: $(grep -c BEGIN "$OUT/sans/haproxy.pem")"
[ "$(stat -c %a "$STATE")" = 700 ] && ok "state dir 0700" || not_ok "state dir mode"
[ ! -e "$STATE/certs/ec256/key.pending.pem" ] && [ "$(stat -c %a "$STATE/certs/ec256/key.pem")" = 600 ] && ok "key promoted to certs/NAME/key.pem 0600" || not_ok "key files: $(ls -l "$STATE/certs/ec256")"
[ "$(stat -c %a "$STATE/certs/ec256")" = 700 ] && ok "certificate state dir 0700" || not_ok "certificate state dir mode"
finish
