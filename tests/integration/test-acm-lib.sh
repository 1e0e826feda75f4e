# Sourced by the tests/integration/test-acm-*.sh tests (after lib.sh,
# emu.sh and agent-lib.sh); not a test itself.
#
#   acm_start            the emulator (HTTPS), TRUST (a PEM bundle of the
#                        emulated public roots, for issuer.trust_store) and
#                        ROOT_PEM (the emulated Private CA's EC root); the
#                        emulator's log and certificates are reset after
#   acm_cert NAME [ISSUER_EXTRA] [CERT_EXTRA]
#                        a certificate item: public, exportable, EC P-256,
#                        names NAMES (default NAME.example.com), DNS through
#                        DNS_PROVIDER (default route53); the DNS check asks
#                        DNS_NS (default a closed port: "cannot confirm")
#   calls SEQ OP [ERROR] calls of acm:OP / route53:OP... after SEQ (P calls)
#   requested SEQ        distinct certificates RequestCertificate made after SEQ
#   st NAME KEY          a member of certificate NAME's state: dotted path
#                        (issuer.arn, served.serial, phase), "" when absent,
#                        lists and objects as JSON
#   acm_verify NAME      the deployed files of NAME verify against TRUST (public)
#                        or ROOT_PEM (PRIVATE=1), key matches, fullchain = cert + chain
#   acm_call OP JSON     an ACM call through the agent's AWS client (aws-call)
#   HOST_ID              what the agent tags its certificates with (acm-agent:host)
AWS_CALL=$ABS_TOP_BUILDDIR/tests/integration/aws-call
ZONE=Z0EMULATOREXAMPLE01
# polls inside one run end after this: a validation that cannot finish waits
export ACM_AGENT_ACM_POLL_DEADLINE=${ACM_AGENT_ACM_POLL_DEADLINE:-20}
HOST_ID=
[ -s /etc/machine-id ] && HOST_ID=$(printf 'acm-agent:%s' "$(tr -d '\n' </etc/machine-id)" | sha256sum | cut -c1-16)

acm_start() {
	emu_start --tls >/dev/null || { echo "not ok 1 - emulator starts"; exit 1; }
	on_exit emu_stop
	export AWS_CA_BUNDLE=$EMU_CA_BUNDLE
	DNS_CLOSED=127.0.0.1:$("$PY" -S -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	TRUST=$TMP/public-roots.pem
	acm_public_roots "$TRUST" || { echo "not ok 1 - the emulated public roots"; exit 1; }
	fetch_root || { echo "not ok 1 - the emulated Private CA's root"; exit 1; }
	emu_ctl POST /reset >/dev/null
}

# acm_public_roots FILE: the emulated public roots (RSA and EC) into FILE;
# needs only PY and the emulator's environment (the benchmark uses it too).
# The control API hands them out: the same roots that every exported public
# chain ends in (tests verify deployed chains against them), without two
# probe issuances through botocore.
acm_public_roots() {
	emu_ctl GET /public-roots | "$PY" -S -c '
import json, sys
roots = json.load(sys.stdin)["roots"]
assert len(roots) == 2 and all(r.startswith("-----BEGIN CERTIFICATE-----") for r in roots)
open(sys.argv[1], "w").write("".join(r if r.endswith("\n") else r + "\n" for r in roots))' "$1"
}

acm_cert() {
	cat <<EOY
  - name: $1
    issuer: {type: acm, key_algorithm: EC_prime256v1, trust_store: "$TRUST"${2:+, $2}}
    dns_names: [${NAMES:-$1.example.com}]
    dns: {provider: ${DNS_PROVIDER:-route53}, nameservers: ["${DNS_NS:-$DNS_CLOSED}"]${DNS_EXTRA:+, $DNS_EXTRA}}
${3:-}
EOY
}

calls() { # SEQ OP [ERROR]
	P calls "$@"
}
requested() { # SEQ: distinct certificates RequestCertificate made after SEQ
	emu_ctl GET "/calls?operation=acm:RequestCertificate&since=$1" | "$PY" -S -c '
import json, sys
print(len({c["result_CertificateArn"] for c in json.load(sys.stdin)["calls"]
           if c["seq"] > int(sys.argv[1]) and c.get("result_CertificateArn")}))' "$1"
}
st() { # NAME KEY
	"$PY" -S - "$STATE/certs/$1/state.json" "$2" <<'PY'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    v = None
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else json.dumps(v) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else v)
PY
}
acm_verify() { # NAME
	_saved=${ROOT_PEM:-}
	[ -n "${PRIVATE:-}" ] || ROOT_PEM=$TRUST
	verify_deployed "$CONF_DIR/out/$1"
	_rc=$?
	ROOT_PEM=$_saved
	return $_rc
}
acm_call() { # OP JSON
	"$AWS_CALL" acm "$1" "$2"
}
# emu_cert ARN KEY: a field of the emulator's DescribeCertificate for ARN.
emu_cert() {
	acm_call DescribeCertificate "{\"CertificateArn\": \"$1\"}" 2>/dev/null | "$PY" -S -c '
import json, sys
v = json.load(sys.stdin)["Certificate"].get(sys.argv[1])
print("" if v is None else v if isinstance(v, str) else json.dumps(v))' "$2"
}
same() { # DESCRIPTION WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$3', want '$2')"; show_err 8; fi
}
