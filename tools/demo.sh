#!/bin/sh
# The README's main job, as far as the agent goes today: start the bundled
# AWS emulator over HTTPS, then use the agent's own AWS client (SigV4,
# credentials chain, retries, verified by the emulator with botocore) to
# check the Private CA, issue a certificate for a CSR made here, fetch it
# and write it to disk. The full `acm-agent --once` path (key generation,
# transactional deploy, reload) replaces this once issue 5 lands.
set -eu
: "${ABS_TOP_SRCDIR:?run through make demo}"
: "${ABS_TOP_BUILDDIR:?run through make demo}"
call="$ABS_TOP_BUILDDIR/tests/integration/aws-call"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
out=$(mktemp -d /tmp/acm-agent-demo.XXXXXX)
emu_start --tls
trap 'emu_stop; rm -rf "$out"' EXIT
export AWS_CA_BUNDLE="$EMU_CA_BUNDLE"
ca="arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/33333333-3333-4333-8333-333333333333"

echo "== credentials and identity (agent AWS client -> emulator at $EMU_URL)"
"$call" --credentials
echo "== online check of the EC subordinate CA"
"$call" --check-online "pca:$ca=SHA256WITHECDSA"

echo "== key and CSR made on this host"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=www.example.com \
	-addext subjectAltName=DNS:www.example.com -keyout "$out/key.pem" -out "$out/req.csr" 2>/dev/null
csr=$(base64 -w0 < "$out/req.csr")
echo "== IssueCertificate"
arn=$("$call" acm-pca IssueCertificate "{\"CertificateAuthorityArn\":\"$ca\",\"Csr\":\"$csr\",\"SigningAlgorithm\":\"SHA256WITHECDSA\",\"Validity\":{\"Type\":\"DAYS\",\"Value\":30},\"IdempotencyToken\":\"demo\"}" |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["CertificateArn"])')
echo "$arn"
echo "== GetCertificate"
"$call" acm-pca GetCertificate "{\"CertificateAuthorityArn\":\"$ca\",\"CertificateArn\":\"$arn\"}" |
	/usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin)
open(sys.argv[1]+"/cert.pem","w").write(d["Certificate"].strip()+"\n")
open(sys.argv[1]+"/chain.pem","w").write(d["CertificateChain"].strip()+"\n")' "$out"
ls -l "$out"
openssl x509 -in "$out/cert.pem" -noout -subject -issuer -serial -enddate
openssl verify -partial_chain -CAfile "$out/chain.pem" "$out/cert.pem"
