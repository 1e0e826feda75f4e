#!/bin/bash
# The caller's umask changes nothing the agent writes: the same
# configuration issued (and renewed) once under umask 077 and once under
# umask 022 gives the same output and state trees, mode for mode (version
# directory names and serials, which differ by nature, compared as
# placeholders). Certificates with the default modes and with their own
# (0640 / 0400, PKCS#12 and haproxy bundles).
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/integration/pca-lib.sh"

# tree DIR: "TYPE MODE PATH" of everything under DIR, names that differ
# between two runs by nature made placeholders, sorted.
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %P\n') |
		sed -E 's/[0-9]{8}T[0-9]{6}Z-[0-9A-F]+/VERSION/g; s/[0-9A-F]{16,}/SERIAL/g' | LC_ALL=C sort
}

run_under() { # UMASK LABEL
	mkdir -p "$TMP/$2"
	STATE="$TMP/$2/state" OUT="$TMP/$2/certs" CERTS=""
	cert plain "$EC_CA" '"validity":{"type":"DAYS","value":7}'
	cert own "$EC_CA" '"validity":{"type":"DAYS","value":7}' \
		'"files":["cert","chain","fullchain","key","haproxy_bundle","pkcs12"],"pkcs12_passphrase_file":"'"$TMP"'/p12pass","mode":"0640","key_mode":"0400"'
	write_conf "$TMP/$2.yaml"
	(umask "$1" && "$AGENT" -c "$CONF" --once) >"$TMP/$2.out" 2>&1 &&
		(umask "$1" && "$AGENT" -c "$CONF" renew own --force) >>"$TMP/$2.out" 2>&1 &&
		ok "umask $1: issued, then renewed" || { not_ok "umask $1: the agent failed"; sed 's/^/# /' "$TMP/$2.out"; }
}
echo "s3cret-pass" >"$TMP/p12pass"
run_under 077 tight
run_under 022 usual

for d in certs state; do
	tree "$TMP/tight/$d" >"$TMP/tight.$d"
	tree "$TMP/usual/$d" >"$TMP/usual.$d"
	if [ -s "$TMP/tight.$d" ] && cmp -s "$TMP/tight.$d" "$TMP/usual.$d"; then
		ok "the $d tree is the same under umask 077 and 022 ($(wc -l <"$TMP/tight.$d") entries)"
	else
		not_ok "the $d tree differs between umask 077 and 022"
		diff "$TMP/tight.$d" "$TMP/usual.$d" | sed 's/^/# /'
	fi
done
# and the modes are those configured, not the umask's
grep -qx 'f 400 own/.versions/VERSION/key.pem' "$TMP/tight.certs" && grep -qx 'f 640 own/.versions/VERSION/cert.pem' "$TMP/tight.certs" &&
	grep -qx 'f 600 plain/.versions/VERSION/key.pem' "$TMP/tight.certs" && grep -qx 'f 644 plain/.versions/VERSION/cert.pem' "$TMP/tight.certs" &&
	ok "the configured modes (own: 0640/0400; plain: the defaults 0644/0600)" ||
	{ not_ok "modes"; sed 's/^/# /' "$TMP/tight.certs"; }
finish
