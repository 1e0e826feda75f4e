# Shared by tests/integration/test-pca-*.sh: starts the emulator over TLS and
# writes configurations for the agent. Source after lib.sh.
#
# The tests describe certificates in a compact flat JSON (cert() below);
# write_conf turns it into the YAML configuration of conf/REFERENCE.md (JSON
# flow style is YAML) for the real acm-agent.
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
AGENT="$ACM_AGENT"
CONF_FORMAT=yaml
[ -x "$AGENT" ] || { echo "acm-agent not built"; exit 77; }
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
	CONF=${1:-$TMP/agent.$CONF_FORMAT}
	printf '{"state_dir":"%s","certs":[%s]}\n' "$STATE" "$CERTS" >"$CONF"
	"$PYTHON3" -S - "$CONF" <<'PY'
import json, sys
src = json.load(open(sys.argv[1]))
def validity(v):
    if v["type"] == "DURATION":
        return "%ds" % v["value"]
    return {"type": v["type"], "value": v["value"]}
out = []
for c in src["certs"]:
    iss = {"type": "pca", "ca_arn": c["ca_arn"]}
    for k in ("template_arn", "signing_algorithm", "api_passthrough"):
        if k in c:
            iss[k] = c[k]
    for k in ("validity", "validity_not_before"):
        if k in c:
            iss[k] = validity(c[k])
    y = {"name": c["name"], "issuer": iss}
    subj = {k: c[k] for k in ("common_name", "organization") if k in c}
    if subj:
        y["subject"] = subj
    for k in ("dns_names", "ip_addresses", "email_addresses", "uris", "key", "output", "hooks"):
        if k in c:
            y[k] = c[k]
    if "reload" in c:
        y["reload"] = [{"command": argv} for argv in c["reload"]]
    if "renew_before" in c:
        y["renew_before"] = "%ds" % c["renew_before"]
    out.append(y)
json.dump({"state_dir": src["state_dir"], "certificates": out}, open(sys.argv[1], "w"), indent=1)
PY
}
agent() { "$AGENT" -c "$CONF" "$@"; }
# calls OPERATION: number of calls of OPERATION in the emulator's log.
calls() {
	emu_ctl GET "/calls?operation=$1" | "$PYTHON3" -S -c 'import json,sys; d=json.load(sys.stdin); print(len(d["calls"] if isinstance(d,dict) else d))'
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
# P ...: tests/integration/proof.py (emulator log and state file queries).
P() { "$PYTHON3" -S "$ABS_TOP_SRCDIR/tests/integration/proof.py" "$@"; }
