# Sourced by the tests/integration/test-import-*.sh tests; not a test itself.
# Source after lib.sh, emu.sh and agent-lib.sh.
#
#   mk_ca NAME rsa|ec            a self-signed root CA in $TMP/pki/NAME.{key,pem}
#   mk_leaf DIR CA rsa|ec CN [DAYS] [EXTRA_EXT] [START END]
#                                a certificate signed by CA: DIR/cert.pem,
#                                DIR/privkey.pem (0600), DIR/chain.pem (the CA),
#                                DIR/fullchain.pem; EXTRA_EXT is appended to
#                                the extension section; START and END
#                                (YYYYmmddHHMMSSZ) set Not Before / Not After
#   certbot_issue NAME CA TYPE   certbot's layout: $LE/archive/NAME/{cert,
#                                privkey,chain,fullchain}N.pem and $LE/live/NAME/*.pem
#                                as relative symbolic links to generation N
#                                (each call adds a generation and swaps the
#                                links one by one, like certbot)
#   import_cert NAME DIR [EXTRA] a certificate item importing DIR's files
#   mk_odd empty-issuer|long-ocsp DIR   certificates openssl's tools will not make
#   istate FILE KEY              a field of the import issuer's part of a state
#                                file (KEY may be a.b)
#   acm_calls SEQ OP [ERROR]     calls of acm:OP after SEQ (P calls)
#   imported_arns SEQ            distinct ARNs ImportCertificate answered after SEQ
#   import_params SEQ N [MATCH]  the N-th ImportCertificate call after SEQ, in short
#   acm_serial ARN               the serial ACM holds for ARN
#   acm_py tags|delete|import    ACM through botocore, not through the agent
#   file_serial FILE             a PEM certificate's serial (uppercase hex)
PKI=$TMP/pki
LE=$TMP/letsencrypt
mkdir -p "$PKI" "$LE"

mk_ca() { # NAME rsa|ec
	if [ "$2" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/$1.key" 2>/dev/null
	else
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null
	fi
	openssl req -x509 -new -key "$PKI/$1.key" -subj "/O=Import Test/CN=$1" -days 3650 -out "$PKI/$1.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

mk_leaf() { # DIR CA rsa|ec CN [DAYS] [EXTRA_EXT] [START END]
	_d=$1 _ca=$2 _t=$3 _cn=$4 _days=${5:-90} _ext=${6:-} _start=${7:-} _end=${8:-}
	mkdir -p "$_d"
	(
		umask 077
		case $_t in
		rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$_d/privkey.pem" 2>/dev/null ;;
		rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$_d/privkey.pem" 2>/dev/null ;;
		ec384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$_d/privkey.pem" 2>/dev/null ;;
		ed25519) openssl genpkey -algorithm ED25519 -out "$_d/privkey.pem" 2>/dev/null ;;
		*) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$_d/privkey.pem" 2>/dev/null ;;
		esac
	)
	printf '[ext]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature%s\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n%s\n' \
		"$([ "$_t" = rsa ] || [ "$_t" = rsa1024 ] && echo ,keyEncipherment)" "$_cn" "$_ext" >"$_d/ext.cnf"
	openssl req -new -key "$_d/privkey.pem" -subj "/CN=$_cn" -out "$_d/req.csr" 2>/dev/null
	if [ -n "$_start" ]; then
		# openssl x509 -req has no start date: sign through openssl ca
		mkdir -p "$_d/ca"; : >"$_d/ca/index"; echo 1000 >"$_d/ca/serial"
		printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/ca/index\nserial=%s/ca/serial\nnew_certs_dir=%s/ca\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\n[p]\ncommonName=supplied\n' \
			"$_d" "$_d" "$_d" >"$_d/ca.cnf"
		openssl ca -batch -config "$_d/ca.cnf" -cert "$PKI/$_ca.pem" -keyfile "$PKI/$_ca.key" -in "$_d/req.csr" \
			-startdate "$_start" -enddate "$_end" -extfile "$_d/ext.cnf" -extensions ext -notext \
			-out "$_d/cert.pem" 2>/dev/null
	else
		openssl x509 -req -in "$_d/req.csr" -CA "$PKI/$_ca.pem" -CAkey "$PKI/$_ca.key" -set_serial "0x$(openssl rand -hex 12)" \
			-days "$_days" -sha256 -extfile "$_d/ext.cnf" -extensions ext -out "$_d/cert.pem" 2>/dev/null
	fi
	cp "$PKI/$_ca.pem" "$_d/chain.pem"
	cat "$_d/cert.pem" "$_d/chain.pem" >"$_d/fullchain.pem"
	rm -f "$_d/req.csr" "$_d/ext.cnf"
	[ -s "$_d/cert.pem" ]
}

# certbot renews into archive/NAME/*N.pem, then points each live/ link at
# the new generation in turn (a new link renamed over the old one).
certbot_issue() { # NAME CA TYPE
	_n=$1
	mkdir -p "$LE/archive/$_n" "$LE/live/$_n"
	_g=$(( $(ls "$LE/archive/$_n" | grep -c '^cert') + 1 ))
	mk_leaf "$TMP/gen-$_n-$_g" "$2" "$3" "$_n.example.com" || return 1
	for f in cert privkey chain fullchain; do
		cp -p "$TMP/gen-$_n-$_g/$f.pem" "$LE/archive/$_n/$f$_g.pem"
	done
	chmod 600 "$LE/archive/$_n/privkey$_g.pem"
	for f in cert privkey chain fullchain; do
		ln -s "../../archive/$_n/$f$_g.pem" "$LE/live/$_n/.$f.new"
		mv -T "$LE/live/$_n/.$f.new" "$LE/live/$_n/$f.pem"
	done
}

import_cert() { # NAME DIR [EXTRA]
	cat <<EOY
  - name: $1
    issuer: {type: import, cert: "$2/cert.pem", key: "$2/privkey.pem", chain: "$2/chain.pem"${IMPORT_EXTRA:-}}
${3:-}
EOY
}

istate() { # FILE KEY: the import issuer's part of the state file
	"$PY" -S - "$1" "$2" <<'PY'
import json, sys
try:
    st = json.load(open(sys.argv[1]))
except FileNotFoundError:
    print(""); sys.exit(0)
v = st.get("issuer") or {}
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)
PY
}

acm_calls() { P calls "$1" "acm:$2" ${3:+"$3"}; }

imported_arns() { # SEQ: distinct ARNs ImportCertificate answered after SEQ
	emu_ctl GET "/calls?operation=acm:ImportCertificate&since=$1" | "$PY" -S -c '
import json, sys
seq = int(sys.argv[1])
print(len({c["result_CertificateArn"] for c in json.load(sys.stdin)["calls"] if c["seq"] > seq and c.get("result_CertificateArn")}))' "$1"
}

# import_params SEQ N [MATCH]: the N-th (1-based) ImportCertificate call
# after SEQ (among those whose line contains MATCH), as
# "arn=<CertificateArn or -> tags=<Key=Value,...> chain=<yes|no> error=<type or ->"
import_params() {
	emu_ctl GET "/calls?operation=acm:ImportCertificate&since=$1" | "$PY" -S -c '
import json, sys
seq, n, match = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lines = []
for c in json.load(sys.stdin)["calls"]:
    if c["seq"] <= seq:
        continue
    p = c["parameters"]
    line = "arn=%s tags=%s chain=%s error=%s" % (p.get("CertificateArn", "-"),
           ",".join("%s=%s" % (t["Key"], t.get("Value", "")) for t in p.get("Tags", [])) or "-",
           "yes" if p.get("CertificateChain") else "no", c.get("error") or "-")
    if match in line:
        lines.append(line)
print(lines[n - 1] if len(lines) >= n else "none")' "$1" "$2" "${3:-}"
}

# acm_serial ARN: the serial ACM holds for ARN (uppercase hex, no colons), "" if none
acm_serial() {
	emu_ctl GET /certificates | "$PY" -S -c '
import json, sys
for c in json.load(sys.stdin)["acm"]:
    if c.get("CertificateArn") == sys.argv[1]:
        print(c.get("Serial", "").replace(":", "").upper())' "$1"
}
# acm_py tags ARN | delete ARN | import CERT KEY [CHAIN]: ACM through
# botocore, independent of the agent (tags: Key=Value,... sorted; import:
# the new ARN)
acm_py() {
	"$PY" - "$@" <<'PY'
import os, sys, botocore.session
s = botocore.session.get_session()
c = s.create_client("acm", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["EMU_URL"],
                    verify=os.environ.get("EMU_CA_BUNDLE") or None,
                    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
op, a = sys.argv[1], sys.argv[2:]
if op == "tags":
    print(",".join(sorted("%s=%s" % (t["Key"], t.get("Value", "")) for t in c.list_tags_for_certificate(CertificateArn=a[0])["Tags"])))
elif op == "delete":
    c.delete_certificate(CertificateArn=a[0])
elif op == "import":
    kw = {"Certificate": open(a[0], "rb").read(), "PrivateKey": open(a[1], "rb").read()}
    if len(a) > 2:
        kw["CertificateChain"] = open(a[2], "rb").read()
    print(c.import_certificate(**kw)["CertificateArn"])
PY
}
file_serial() { openssl x509 -in "$1" -noout -serial 2>/dev/null | sed 's/^serial=//'; }

# mk_odd empty-issuer|long-ocsp DIR: a certificate openssl's tools will not
# make (python3-cryptography): an empty Issuer, or an OCSP URL of 1024
# characters; DIR/cert.pem and DIR/privkey.pem.
mk_odd() {
	mkdir -p "$2"
	"$PY" - "$1" "$2" <<'PY'
import datetime, os, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, AuthorityInformationAccessOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
kind, out = sys.argv[1], sys.argv[2]
ca, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.utcnow()
issuer = x509.Name([]) if kind == "empty-issuer" else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd CA")])
b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd.example.com")]))
     .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
     .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30)))
if kind == "long-ocsp":
    b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
        x509.UniformResourceIdentifier("http://ocsp.example.com/" + "a" * 1000))]), critical=False)
open(os.path.join(out, "cert.pem"), "wb").write(b.sign(ca, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
fd = os.open(os.path.join(out, "privkey.pem"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
os.close(fd)
PY
}
