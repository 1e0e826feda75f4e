# Shared by tests/integration/test-pca-*.sh: starts the emulator over TLS and
# writes configurations for the agent. Source after lib.sh.
#
# Until the YAML loader (conf.c) is in the build, the configuration is the
# JSON of the loader's test double (tests/integration/conf-json.c) and the
# binary is tests/integration/acm-agent-json (agent/main.c + that loader).
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
AGENT="$ABS_TOP_BUILDDIR/tests/integration/acm-agent-json"
[ -x "$AGENT" ] || { echo "acm-agent-json not built"; exit 77; }
RSA_CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111
EC_CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/22222222-2222-4222-8222-222222222222
SUB_CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/33333333-3333-4333-8333-333333333333
emu_start --tls || exit 1
on_exit emu_stop
export AWS_CA_BUNDLE="$EMU_CA_BUNDLE" HOME="$TMP"
STATE="$TMP/state"
OUT="$TMP/certs"
CERTS=""
# cert NAME CA 'extra JSON members' : adds a certificate to the configuration.
cert() {
	CERTS="$CERTS${CERTS:+,}{\"name\":\"$1\",\"ca_arn\":\"$2\",\"dns_names\":[\"$1.example.com\"],\"output\":{\"dir\":\"$OUT/$1\"${4:+,$4}}${3:+,$3}}"
}
# write_conf [FILE]: the configuration with every cert() so far.
write_conf() {
	CONF=${1:-$TMP/agent.json}
	printf '{"state_dir":"%s","certs":[%s]}\n' "$STATE" "$CERTS" >"$CONF"
}
agent() { "$AGENT" -c "$CONF" "$@"; }
# calls OPERATION: number of calls of OPERATION in the emulator's log.
calls() {
	emu_ctl GET "/calls?operation=$1" | "$PYTHON3" -c 'import json,sys; d=json.load(sys.stdin); print(len(d["calls"] if isinstance(d,dict) else d))'
}
# verify_files NAME: cert, chain, key of NAME verify with openssl.
verify_files() {
	d="$OUT/$1"
	if openssl verify -partial_chain -CAfile "$d/chain.pem" "$d/cert.pem" >/dev/null 2>&1 &&
	   [ "$(openssl x509 -in "$d/cert.pem" -noout -pubkey | openssl sha256)" = \
	     "$(openssl pkey -in "$d/key.pem" -pubout | openssl sha256)" ]; then
		ok "$1: openssl verify and key match"
	else
		not_ok "$1: openssl verify / key match"
		openssl verify -partial_chain -CAfile "$d/chain.pem" "$d/cert.pem" 2>&1 | sed 's/^/# /'
	fi
}
serial_of() { openssl x509 -in "$OUT/$1/cert.pem" -noout -serial | sed 's/^serial=//'; }
