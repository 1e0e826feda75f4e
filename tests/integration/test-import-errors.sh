#!/bin/bash
# The import issuer refuses every bad source locally, each with an error that
# names the file and the ACM import rule it breaks, and sends nothing to AWS
# for it: missing, dangling, a FIFO (the pass does not hang), a device, a
# directory, DER, two certificates, text outside PEM, a cut PEM, encrypted
# keys (PKCS#8 and traditional), a key over 5 KB, a key of another
# certificate, not yet valid, expired, an empty Issuer, X.509 v1, an EC key
# signed by an RSA CA, an Ed25519 key, an OCSP URL over 1000 characters, a
# private key in the chain, a chain of another CA, an empty chain, a key in
# the cert file, the agent's own tag configured. A good certificate in the
# same pass is imported (one ImportCertificate call in all). `check` does
# not read the source files and passes.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/test-import-lib.sh"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

emu_start --tls || exit 1
on_exit emu_stop
# files written a moment ago are not waited for here (test-import-flow.sh
# covers that): every refusal is immediate
export ACM_AGENT_IMPORT_SETTLE=0

mk_ca rootec ec
mk_ca rootrsa rsa
mk_leaf "$TMP/good" rootec ec good.example.com || { not_ok "make a certificate"; finish; }
mk_leaf "$TMP/other" rootec ec other.example.com
mk_leaf "$TMP/otherca" rootrsa rsa otherca.example.com
B=$TMP/bad
CERTS=
# bad NAME: $B/NAME gets a copy of the good files; the caller breaks one
bad() { mkdir -p "$B/$1"; cp -p "$TMP/good/cert.pem" "$TMP/good/privkey.pem" "$TMP/good/chain.pem" "$B/$1/"; }
# item NAME CERT KEY CHAIN [EXTRA]
item() {
	CERTS="$CERTS  - name: $1
    issuer: {type: import, cert: \"$2\", key: \"$3\"${4:+, chain: \"$4\"}${5:-}}
"
}
std() { item "$1" "$B/$1/cert.pem" "$B/$1/privkey.pem" "$B/$1/chain.pem" "${2:-}"; }

item good "$TMP/good/cert.pem" "$TMP/good/privkey.pem" "$TMP/good/chain.pem"

bad missing; rm "$B/missing/cert.pem"; std missing
bad dangling; ln -sf "$B/dangling/nowhere.pem" "$B/dangling/cert.pem.l"; mv "$B/dangling/cert.pem.l" "$B/dangling/cert.pem"; std dangling
bad fifo; rm "$B/fifo/cert.pem"; mkfifo "$B/fifo/cert.pem"; std fifo
bad device; item device "$B/device/cert.pem" /dev/zero "$B/device/chain.pem"
bad dir; rm "$B/dir/chain.pem"; mkdir "$B/dir/chain.pem"; std dir
bad der; openssl x509 -in "$TMP/good/cert.pem" -outform DER -out "$B/der/cert.pem"; std der
bad two; cp "$TMP/good/fullchain.pem" "$B/two/cert.pem"; std two
bad text; { echo "Bag Attributes"; cat "$TMP/good/cert.pem"; } >"$B/text/cert.pem"; std text
bad cut; head -n 5 "$TMP/good/cert.pem" >"$B/cut/cert.pem"; std cut
bad keyenc8; openssl pkey -in "$TMP/good/privkey.pem" -aes256 -passout pass:secret -out "$B/keyenc8/privkey.pem"; std keyenc8
bad keyenc1; openssl ec -in "$TMP/good/privkey.pem" -aes256 -passout pass:secret -out "$B/keyenc1/privkey.pem" 2>/dev/null; std keyenc1
bad keybig; { cat "$TMP/good/privkey.pem"; head -c 5200 /dev/zero | tr '\0' '\n'; } >"$B/keybig/privkey.pem"; std keybig
bad mismatch; cp "$TMP/other/privkey.pem" "$B/mismatch/privkey.pem"; std mismatch
mk_leaf "$B/future" rootec ec future.example.com 30 "" "$(date -u -d '+2 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '+32 days' +%Y%m%d%H%M%SZ)"; std future
mk_leaf "$B/expired" rootec ec expired.example.com 30 "" 20200101000000Z 20200131000000Z; std expired
mk_odd empty-issuer "$B/emptyissuer"; item emptyissuer "$B/emptyissuer/cert.pem" "$B/emptyissuer/privkey.pem"
mk_odd long-ocsp "$B/longocsp"; item longocsp "$B/longocsp/cert.pem" "$B/longocsp/privkey.pem"
bad v1; openssl req -new -key "$B/v1/privkey.pem" -subj /CN=v1.example.com -out "$B/v1/req.csr"
openssl x509 -req -in "$B/v1/req.csr" -CA "$PKI/rootec.pem" -CAkey "$PKI/rootec.key" -days 30 -out "$B/v1/cert.pem" 2>/dev/null; std v1
mk_leaf "$B/algmix" rootrsa ec algmix.example.com; std algmix
mk_leaf "$B/ed25519" rootec ed25519 ed.example.com; std ed25519
bad chainkey; cat "$TMP/good/privkey.pem" >>"$B/chainkey/chain.pem"; std chainkey
bad chainother; cp "$PKI/rootrsa.pem" "$B/chainother/chain.pem"; std chainother
bad chainempty; : >"$B/chainempty/chain.pem"; std chainempty
bad keyincert; cat "$TMP/good/privkey.pem" >>"$B/keyincert/cert.pem"; std keyincert
bad ourtag; std ourtag ', tags: {team: web, "acm-agent:name": mine}'
if [ "$(id -u)" != 0 ]; then
	bad unreadable; chmod 000 "$B/unreadable/privkey.pem"; std unreadable
fi

printf '%s' "$CERTS" | agent_conf "$TMP/c"
expect_agent 0 "check accepts the configuration (it does not read the source files)" check
seq=$(P seq)
timeout 120 "$ACM_AGENT" -c "$CONF" --once --json >"$TMP/once.json" 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && ok "the pass ends (no hang on the FIFO) and fails (exit 1)" || { not_ok "pass exit $rc, want 1"; show_err 40; }
[ "$(acm_calls "$seq" ImportCertificate)" = 1 ] && [ "$(import_params "$seq" 1 | grep -c 'error=-')" = 1 ] &&
	ok "one ImportCertificate, for the good certificate; none for a bad source" ||
	not_ok "ImportCertificate calls: $(acm_calls "$seq" ImportCertificate)"
[ "$(P calls "$seq" acm:SearchCertificates)" = 0 ] && [ "$(P calls "$seq" acm:DescribeCertificate)" = 0 ] &&
	ok "no other ACM call" || not_ok "other ACM calls were made"
[ "$(P status-json "$TMP/once.json" good action)" = issued ] && ok "good: imported in the same pass" ||
	not_ok "good: $(P status-json "$TMP/once.json" good action error)"

# expect NAME PATTERN...: certificate NAME failed and its error matches every pattern
expect() {
	_n=$1; shift
	_e=$(P status-json "$TMP/once.json" "$_n" error)
	_a=$(P status-json "$TMP/once.json" "$_n" action)
	for _p in "$@" "nothing was sent to ACM|nothing was requested from AWS"; do
		if ! printf '%s' "$_e" | grep -qE -- "$_p"; then
			not_ok "$_n: refused with /$_p/ (action $_a, error: $_e)"
			return
		fi
	done
	[ "$_a" = failed ] && ok "$_n: ${_e%%;*}" || not_ok "$_n: action $_a"
}
RULE_PEM="import rule: the certificate, private key and chain must be PEM-encoded"
expect missing "cert file $B/missing/cert.pem: no such file"
expect dangling "cert file $B/dangling/cert.pem: a symbolic link to a file that does not exist"
expect fifo "cert file $B/fifo/cert.pem: is a FIFO \(named pipe\), not a regular file"
expect device "key file /dev/zero: is a character device, not a regular file"
expect dir "chain file $B/dir/chain.pem: is a directory, not a regular file"
expect der "cert file $B/der/cert.pem: holds binary data, not PEM" "$RULE_PEM" "looks DER-encoded"
expect two "cert file $B/two/cert.pem: holds 2 certificates" "import rule: cert holds exactly one certificate" "fullchain.pem"
expect text "cert file $B/text/cert.pem: line 1: text outside a PEM block" "$RULE_PEM"
expect cut "cert file $B/cut/cert.pem: line 1: BEGIN CERTIFICATE without its END line" "$RULE_PEM"
expect keyenc8 "key file $B/keyenc8/privkey.pem: line 1: the private key is encrypted" "import rule: the private key must be unencrypted"
expect keyenc1 "key file $B/keyenc1/privkey.pem: line 1: the private key is encrypted" "import rule: the private key must be unencrypted"
expect keybig "key file $B/keybig/privkey.pem: [0-9]+ bytes" "import rule: the private key must be at most 5120 bytes"
expect mismatch "key file $B/mismatch/privkey.pem: does not match the certificate" "import rule: the private key must match the certificate"
expect future "cert file $B/future/cert.pem: not valid before" "import rule: the current time must be between Not Before and Not After"
expect expired "cert file $B/expired/cert.pem: expired at 2020-01-31" "import rule: the current time must be between Not Before and Not After"
expect emptyissuer "cert file $B/emptyissuer/cert.pem: its Issuer is empty" "import rule: the Issuer field must not be empty"
expect longocsp "cert file $B/longocsp/cert.pem: its OCSP URL .* is 1024 characters long" "import rule: the OCSP authority URL must not exceed 1000 characters"
expect v1 "cert file $B/v1/cert.pem: an X.509 version 1 certificate" "import rule: ACM imports X.509 version 3 certificates only"
expect algmix "cert file $B/algmix/cert.pem: its key is EC but its issuer signed it with sha256WithRSAEncryption" "import rule: the certificate's key algorithm must match the algorithm of the signing CA"
expect ed25519 "cert file $B/ed25519/cert.pem: its key is ED25519" "import rule: ACM imports RSA 1024, 2048, 3072 and 4096 bit and EC P-256, P-384 and P-521 keys only"
expect chainkey "chain file $B/chainkey/chain.pem: line [0-9]+: a PRIVATE KEY block" "import rule: the chain must hold PEM certificates only" "must never be sent as a chain"
expect chainother "chain file $B/chainother/chain.pem: is not the chain of the certificate in $B/chainother/cert.pem"
expect chainempty "chain file $B/chainempty/chain.pem: holds no certificate" "import rule: the chain must hold PEM certificates"
expect keyincert "cert file $B/keyincert/cert.pem: line [0-9]+: a PRIVATE KEY block; cert must hold the certificate alone"
expect ourtag "issuer.tags: 'acm-agent:name' is the agent's own tag"
[ "$(id -u)" != 0 ] && expect unreadable "key file $B/unreadable/privkey.pem: cannot be read: Permission denied"

# The engine's backoff holds: the next pass makes no AWS call either, and
# the source errors stay in status
seq=$(P seq)
agent --once
[ "$rc" = 1 ] && [ "$(P seq)" = "$seq" ] && ok "a second pass backs off: no AWS call" || not_ok "second pass: exit $rc, calls $seq -> $(P seq)"
agent status --json
P status-json "$TMP/out" mismatch last_error | grep -q "import rule: the private key must match the certificate" &&
	ok "status shows the rule broken" || not_ok "status last_error: $(P status-json "$TMP/out" mismatch last_error)"
finish
