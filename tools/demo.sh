#!/bin/sh
# The README's first command (make demo): start the bundled AWS emulator over
# HTTPS, run `acm-agent --once` with conf/demo/acm-agent.yaml, show the files
# it wrote (checked with openssl) and the reload it fired, run --once again
# (nothing to do), and show `acm-agent status`.
set -eu
: "${ABS_TOP_SRCDIR:?run through make demo}"
: "${ABS_TOP_BUILDDIR:?run through make demo}"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
demo=$(mktemp -d /tmp/acm-agent-demo.XXXXXX)
emu_start --tls
trap 'emu_stop; rm -rf "$demo"' EXIT
export AWS_CA_BUNDLE="$EMU_CA_BUNDLE"   # AWS_ENDPOINT_URL is set by emu_start
sed "s|@DEMO_DIR@|$demo|g" "$ABS_TOP_SRCDIR/conf/demo/acm-agent.yaml" >"$demo/acm-agent.yaml"
agent="$ABS_TOP_BUILDDIR/acm-agent"
conf="$demo/acm-agent.yaml"
if ! "$agent" -c "$conf" check >/dev/null 2>&1; then
	# The YAML loader is not in this build yet: use the integration tests'
	# loader test double with the same two certificates.
	echo "(this build has no YAML configuration loader yet: using the JSON test double of the loader)"
	agent="$ABS_TOP_BUILDDIR/tests/integration/acm-agent-json"
	conf="$demo/acm-agent.json"
	rl='["/bin/sh","-c","echo \"$(date -u +%FT%TZ) reload: new certificate in place\" >> '"$demo"'/reload.log"]'
	cat >"$conf" <<EOT
{"state_dir": "$demo/state", "certs": [
 {"name": "www", "ca_arn": "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/33333333-3333-4333-8333-333333333333",
  "validity": {"type": "DAYS", "value": 30}, "common_name": "www.example.com", "organization": "Example Demo",
  "dns_names": ["www.example.com", "example.com"], "output": {"dir": "$demo/ssl/www",
  "files": ["cert", "chain", "fullchain", "key", "haproxy_bundle"]}, "reload": [$rl]},
 {"name": "internal-api", "ca_arn": "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111",
  "validity": {"type": "DURATION", "value": 129600}, "dns_names": ["api.internal.example.com"], "ip_addresses": ["10.0.0.10"],
  "key": {"type": "rsa", "bits": 3072}, "output": {"dir": "$demo/ssl/internal-api"}, "reload": [$rl]}]}
EOT
fi

echo "== acm-agent --once   (emulator at $EMU_URL)"
"$agent" -c "$conf" --once
for name in www internal-api; do
	d="$demo/ssl/$name"
	echo
	echo "== $d"
	ls -l "$d"
	openssl x509 -in "$d/cert.pem" -noout -subject -issuer -serial -enddate -ext subjectAltName
	openssl verify -partial_chain -CAfile "$d/chain.pem" "$d/cert.pem"
	printf 'key matches certificate: '
	[ "$(openssl x509 -in "$d/cert.pem" -noout -pubkey | openssl sha256)" = "$(openssl pkey -in "$d/key.pem" -pubout | openssl sha256)" ] &&
		echo yes || echo NO
done
echo
echo "== reload target fired (reload.log)"
cat "$demo/reload.log"
echo
echo "== acm-agent --once again: nothing to do"
"$agent" -c "$conf" --once
echo
echo "== acm-agent status"
"$agent" -c "$conf" status
