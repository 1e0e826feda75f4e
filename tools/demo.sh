#!/bin/sh
# The README's first command (make demo): start the bundled AWS emulator over
# HTTPS, run `acm-agent --once` with conf/demo/acm-agent.yaml, show the files
# it wrote (checked with openssl) and the reload it fired, run --once again
# (nothing to do), and show `acm-agent status`. DEMO_KEEP=1 (make demo
# DEMO_KEEP=1) keeps the work directory (configuration, certificates, state)
# and says where it is; tools/emulator-env.sh starts an emulator to go on by
# hand.
set -eu
: "${ABS_TOP_SRCDIR:?run through make demo}"
: "${ABS_TOP_BUILDDIR:?run through make demo}"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
demo=$(mktemp -d /tmp/acm-agent-demo.XXXXXX)
emu_start --tls
finish() {
	rc=$?
	emu_stop
	echo
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "== kept the work directory: $demo"
		echo "   configuration $demo/acm-agent.yaml, certificates $demo/ssl/, state $demo/state/"
		echo "   go on by hand: eval \"\$(sh $ABS_TOP_SRCDIR/tools/emulator-env.sh)\"; then"
		echo "   $ABS_TOP_BUILDDIR/acm-agent -c $demo/acm-agent.yaml status"
	else
		rm -rf "$demo"
		echo "== removed the work directory $demo (keep it: make demo DEMO_KEEP=1)"
	fi
	exit $rc
}
trap finish EXIT
export AWS_CA_BUNDLE="$EMU_CA_BUNDLE"   # AWS_ENDPOINT_URL is set by emu_start
sed "s|@DEMO_DIR@|$demo|g" "$ABS_TOP_SRCDIR/conf/demo/acm-agent.yaml" >"$demo/acm-agent.yaml"
agent="$ABS_TOP_BUILDDIR/acm-agent"
conf="$demo/acm-agent.yaml"
echo "== acm-agent check"
"$agent" -c "$conf" check
echo
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
echo "== the reload target fired once for both certificates (reload.log)"
cat "$demo/reload.log"
echo
echo "== acm-agent --once again: nothing to do"
"$agent" -c "$conf" --once
echo
echo "== acm-agent status"
"$agent" -c "$conf" status
