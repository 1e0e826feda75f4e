# Shared helpers for the agent-level integration tests (the real acm-agent
# binary against the emulator). Source after lib.sh and emu.sh.
#
#   agent_conf DIR [CERT_YAML...]  writes DIR/acm-agent.yaml (state in
#                              DIR/state, output under DIR/out); each CERT_YAML
#                              is a list item, see pca_cert
#   pca_cert NAME [EXTRA_YAML]  one certificate from the EC subordinate CA
#   agent ARGS...              runs $ACM_AGENT -c $CONF ARGS..., output in
#                              $TMP/out (stdout) and $TMP/err (stderr); $rc
#   P ...                      tests/integration/proof.py (emulator/state queries)
# A test stopped by make (SIGTERM) or ^C still runs lib.sh's EXIT cleanup:
# servers, the emulator, mounts.
trap 'exit 143' TERM
trap 'exit 130' INT
# `... | agent_conf DIR` must set CONF in this shell.
shopt -s lastpipe
PROOF_PY="$ABS_TOP_SRCDIR/tests/integration/proof.py"
PY=${PYTHON3:-/usr/bin/python3}
CA_ROOT=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/22222222-2222-4222-8222-222222222222
CA_SUB=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/33333333-3333-4333-8333-333333333333
P() { "$PY" -S "$PROOF_PY" "$@"; }


# pca_cert NAME [EXTRA]: a certificate item; EXTRA is appended (already
# indented by 4 spaces, one key per line).
pca_cert() {
	# output.dir defaults to output_root/NAME unless CERT_DIR_ROOT is set
	_d=; [ -n "${CERT_DIR_ROOT:-}" ] && _d="dir: \"$CERT_DIR_ROOT/$1\", "
	cat <<EOY
  - name: $1
    issuer: {type: pca, ca_arn: "$CA_SUB", validity: 30d}
    dns_names: [localhost, $1.example.com]
    key: {type: ec, curve: P-256}
    output: {${_d}files: [cert, chain, fullchain, key${OUT_EXTRA_FILES:-}]}
${2:-}
EOY
}

# agent_conf DIR [GLOBAL_EXTRA] : reads certificate items from stdin.
agent_conf() {
	CONF_DIR=$1
	CONF=$CONF_DIR/acm-agent.yaml
	STATE=$CONF_DIR/state
	mkdir -p "$CONF_DIR"
	{
		cat <<EOY
state_dir: "$STATE"
output_root: "$CONF_DIR/out"
aws:
  region: us-east-1
  endpoints: {acm-pca: "$EMU_URL", acm: "$EMU_URL"}
  ca_bundle: "$EMU_CA_BUNDLE"
  max_attempts: ${MAX_ATTEMPTS:-3}
${2:-}
certificates:
EOY
		cat
	} >"$CONF"
}

# agent ARGS: runs the agent on $CONF; stdout in $TMP/out, stderr in $TMP/err.
agent() {
	"$ACM_AGENT" -c "$CONF" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	return $rc
}
show_err() { sed 's/^/# err: /' "$TMP/err" | tail -n "${1:-15}"; sed 's/^/# out: /' "$TMP/out" | tail -n 5; }
expect_agent() { # WANT DESC ARGS...
	_want=$1 _desc=$2; shift 2
	agent "$@"
	if [ "$rc" = "$_want" ]; then ok "$_desc"; else not_ok "$_desc (exit $rc, want $_want)"; show_err; fi
}

# Certificate facts from files.
serial_of() { openssl x509 -in "$1" -noout -serial 2>/dev/null | sed 's/^serial=0*//'; }
# key_matches CERT KEY: the certificate carries KEY's public key (both
# printed as SubjectPublicKeyInfo PEM by OpenSSL, so equal keys print alike).
key_matches() {
	_km_c=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) &&
		_km_k=$(openssl pkey -in "$2" -pubout 2>/dev/null) &&
		[ -n "$_km_c" ] && [ "$_km_c" = "$_km_k" ]
}
# verify_deployed DIR: cert verifies against the emulator's root (ROOT_PEM)
# through chain.pem, key matches, fullchain.pem is exactly cert.pem then
# chain.pem (the agent writes each in the same canonical PEM).
verify_deployed() {
	_o=$1
	openssl verify -attime $(($(date +%s) + ${ACM_AGENT_CLOCK_OFFSET:-0})) -CAfile "$ROOT_PEM" \
		-untrusted "$_o/chain.pem" "$_o/cert.pem" >/dev/null 2>&1 || return 1
	key_matches "$_o/cert.pem" "$_o/key.pem" || return 2
	cat "$_o/cert.pem" "$_o/chain.pem" | cmp -s - "$_o/fullchain.pem" || return 3
	return 0
}
fetch_root() { # writes ROOT_PEM (the EC root CA certificate, via the agent-independent AWS CLI)
	ROOT_PEM=$TMP/root.pem
	P root-pem "$CA_ROOT" >"$ROOT_PEM" && grep -q BEGIN "$ROOT_PEM"
}

# at_offset SECONDS: moves the agent's clock (ACM_AGENT_CLOCK_OFFSET, see
# clock.h) and the emulator's clock (which also checks SigV4 dates) together.
at_offset() {
	export ACM_AGENT_CLOCK_OFFSET=$1
	# the current time to the nanosecond: whole seconds put the emulator up
	# to 1 s behind the agent, and a certificate made just now "not yet valid"
	emu_ctl POST /clock "{\"set\": $(date +%s.%N), \"advance_seconds\": $1}" >/dev/null
}
DAY=86400

# wait_for SECONDS COMMAND...: bounded polling.
wait_for() {
	_n=$(($1 * 10)); shift
	while [ $_n -gt 0 ]; do "$@" && return 0; sleep 0.1; _n=$((_n - 1)); done
	"$@"
}
