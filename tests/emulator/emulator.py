#!/usr/bin/python3
"""AWS emulator for acm-agent tests: ACM-PCA, ACM, STS (+IMDSv2, ECS creds).

Requests are checked against botocore's own service models and SigV4
signatures are verified with botocore's signer.  See README.md beside this
file for the interface (ready file, control API).
"""
import argparse, base64, bisect, datetime, hashlib, http.server, ipaddress, json, os
import re, secrets, socket, ssl, struct, sys, threading, time, urllib.parse, uuid
from xml.sax.saxutils import escape as xml_escape

import botocore.loaders
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

REGION = "us-east-1"
ACCOUNT = "111122223333"
PCA_PREFIX = "arn:aws:acm-pca:%s:%s:certificate-authority/" % (REGION, ACCOUNT)
CA_RSA = PCA_PREFIX + "11111111-1111-4111-8111-111111111111"
CA_EC = PCA_PREFIX + "22222222-2222-4222-8222-222222222222"
CA_EC_SUB = PCA_PREFIX + "33333333-3333-4333-8333-333333333333"
HERE = os.path.dirname(os.path.abspath(__file__))

# Default request-rate quotas (requests/s), per account like AWS's.  ACM:
# the current published values; RevokeCertificate and SearchCertificates
# have none published, so they get the rate of their nearest sibling
# (RenewCertificate 5, ListCertificates 8).  Burst is 2x the rate unless
# DEFAULT_BURSTS says otherwise.
DEFAULT_QUOTAS = {
    "acm:DescribeCertificate": 10, "acm:RequestCertificate": 5,
    "acm:ExportCertificate": 10, "acm:ImportCertificate": 1,
    "acm:GetCertificate": 10, "acm:ListCertificates": 8,
    "acm:RenewCertificate": 5, "acm:RevokeCertificate": 5,
    "acm:SearchCertificates": 8, "acm:ListTagsForCertificate": 10,
    "acm:AddTagsToCertificate": 5, "acm:RemoveTagsFromCertificate": 5,
    "acm:DeleteCertificate": 10, "acm:UpdateCertificateOptions": 5,
    "acm:ResendValidationEmail": 1,
    "acm-pca:IssueCertificate": 25, "acm-pca:GetCertificate": 75,
    "acm-pca:RevokeCertificate": 25, "acm-pca:DescribeCertificateAuthority": 50,
    "acm-pca:GetCertificateAuthorityCertificate": 50,
    # Route 53: one bucket for every call of the account (see quota_buckets).
    "route53": 10,
}
DEFAULT_BURSTS = {"route53": 50}
DEFAULT_SETTINGS = {
    "pca_in_progress_seconds": 0.0,
    "acm_record_delay_seconds": 0.0,
    "acm_validation_delay_seconds": 0.0,
    "acm_renew_in_progress_seconds": 0.0,
    "validation_timeout_seconds": 72 * 3600.0,
    "renewal_delay_seconds": 1.0,
    "acm_certificate_limit": 2500,
    "acm_yearly_request_limit": 5000,
    "acm_import_limit": 2500,
    "acm_yearly_import_limit": 5000,
    "acm_domain_names_limit": 10,
    "acm_key_pool": 0,
    "dns_server": None,
    "signature_max_skew_seconds": 300,
    "ecs_authorization_token": None,
    "route53_insync_seconds": 0.0,
    "imds_role": "acm-agent-role",
}


class AwsError(Exception):
    def __init__(self, code, message, status=400, extra=None):
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra or {}


# ---------------------------------------------------------------- models
# The current (2026) AWS models of ACM, ACM-PCA and Route 53, verbatim, in
# botocore's data layout (service/api-version/service-2.json): loaded
# through botocore's own loader, and usable as the CLI's AWS_DATA_PATH.
MODELS_DIR = os.path.join(HERE, "models")
MODEL_MARKERS = {"acm": ("operations", "SearchCertificates"), "acm-pca": ("shapes", "CrlDistributionPointExtensionConfiguration"),
                 "route53": ("operations", "UpdateHostedZoneFeatures")}


def load_models():
    loader = botocore.loaders.create_loader(MODELS_DIR)
    models = {}
    for svc in ("acm", "acm-pca", "sts", "route53"):
        models[svc] = loader.load_service_model(svc, "service-2")
    for svc, (kind, name) in MODEL_MARKERS.items():
        if name not in models[svc][kind]:
            raise SystemExit("emulator: the %s model loaded is not the 2026 one from %s" % (svc, MODELS_DIR))
    return models


_pattern_cache = {}


def _pattern(p):
    if p not in _pattern_cache:
        try:
            _pattern_cache[p] = re.compile(p, re.S)
        except re.error:
            _pattern_cache[p] = None
    return _pattern_cache[p]


def _camel(name):
    return name[:1].lower() + name[1:]


class Validator:
    """Checks a decoded JSON request against a botocore shape.

    Type mismatches and unknown members raise SerializationException (the
    request cannot be deserialized); constraint violations are collected
    and reported the Coral way as one ValidationException."""

    def __init__(self, model):
        self.shapes = model["shapes"]
        self.errors = []

    def check(self, shape_name, value, path):
        shape = self.shapes[shape_name]
        t = shape["type"]
        where = path or "request"
        if t == "structure":
            if not isinstance(value, dict):
                raise AwsError("SerializationException", "Expected an object at '%s'" % where)
            out = {}
            members = shape.get("members", {})
            if shape.get("union"):
                # A tagged union: exactly one member set (Smithy servers
                # refuse anything else while deserializing).
                set_ = [k for k, v in value.items() if v is not None]
                if len(set_) != 1:
                    raise AwsError("SerializationException",
                                   "Union '%s' (%s) must have exactly one member set, got %d%s"
                                   % (where, shape_name, len(set_), (": " + ", ".join(set_)) if set_ else ""))
            for k, v in value.items():
                if k not in members:
                    raise AwsError("SerializationException",
                                   "Unrecognized field \"%s\" at '%s' (%s), not marked as ignorable"
                                   % (k, where, shape_name))
                if v is None:
                    continue
                out[k] = self.check(members[k]["shape"], v, (path + "." if path else "") + _camel(k))
            for r in shape.get("required", []):
                if r not in out:
                    self.errors.append("Value null at '%s' failed to satisfy constraint: Member must not be null"
                                       % ((path + "." if path else "") + _camel(r)))
            return out
        if t == "list":
            if not isinstance(value, list):
                raise AwsError("SerializationException", "Expected a list at '%s'" % where)
            self._len(shape, len(value), value, path, "length")
            return [self.check(shape["member"]["shape"], v, "%s.%d.member" % (path, i + 1))
                    for i, v in enumerate(value)]
        if t == "map":
            if not isinstance(value, dict):
                raise AwsError("SerializationException", "Expected a map at '%s'" % where)
            return {self.check(shape["key"]["shape"], k, path + ".key"):
                    self.check(shape["value"]["shape"], v, path + ".value") for k, v in value.items()}
        if t == "string":
            if not isinstance(value, str):
                raise AwsError("SerializationException", "Expected a string at '%s'" % where)
            self._len(shape, len(value), value, path, "length")
            if "enum" in shape and value not in shape["enum"]:
                self.errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]"
                                   % (value, path, ", ".join(shape["enum"])))
            pat = shape.get("pattern")
            if pat and _pattern(pat) and not _pattern(pat).fullmatch(value):
                self.errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s"
                                   % (value, path, pat))
            return value
        if t in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise AwsError("SerializationException", "Expected an integer at '%s'" % where)
            if "min" in shape and value < shape["min"]:
                self.errors.append("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d" % (value, path, shape["min"]))
            if "max" in shape and value > shape["max"]:
                self.errors.append("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d" % (value, path, shape["max"]))
            return value
        if t == "boolean":
            if not isinstance(value, bool):
                raise AwsError("SerializationException", "Expected a boolean at '%s'" % where)
            return value
        if t == "blob":
            if not isinstance(value, str):
                raise AwsError("SerializationException", "Expected base64 text at '%s'" % where)
            try:
                raw = base64.b64decode(value, validate=True)
            except Exception:
                raise AwsError("SerializationException", "Invalid base64 at '%s'" % where)
            self._len(shape, len(raw), "***", path, "length")
            return raw
        if t == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise AwsError("SerializationException", "Expected epoch seconds at '%s'" % where)
            return float(value)
        if t in ("double", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise AwsError("SerializationException", "Expected a number at '%s'" % where)
            return float(value)
        return value

    def _len(self, shape, n, value, path, what):
        if "min" in shape and n < shape["min"]:
            self.errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have %s greater than or equal to %d"
                               % (value, path, what, shape["min"]))
        if "max" in shape and n > shape["max"]:
            self.errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have %s less than or equal to %d"
                               % (value, path, what, shape["max"]))


def validation_message(errors):
    n = len(errors)
    return "%d validation error%s detected: %s" % (n, "" if n == 1 else "s", "; ".join(errors))


# ---------------------------------------------------------------- crypto
SIG_HASH = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def colon_hex(n):
    h = "%x" % n
    if len(h) % 2:
        h = "0" + h
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def new_serial():
    return int.from_bytes(secrets.token_bytes(16), "big") >> 1 | (1 << 120)


def utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)


class CA:
    def __init__(self, arn, kind, cn, parent, now):
        self.arn, self.kind, self.parent = arn, kind, parent
        self.key = rsa.generate_private_key(65537, 2048) if kind == "RSA" else ec.generate_private_key(ec.SECP256R1())
        self.key_algorithm = "RSA_2048" if kind == "RSA" else "EC_prime256v1"
        self.signing_algorithm = "SHA256WITHRSA" if kind == "RSA" else "SHA256WITHECDSA"
        self.name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "acm-agent emulator"),
                               x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        self.created = now
        self.status = "ACTIVE"
        self.status_changed = now
        issuer = parent if parent else self
        self.not_before = now - 3600
        self.not_after = now + (10 if parent is None else 5) * 365 * 86400
        b = (x509.CertificateBuilder().subject_name(self.name).issuer_name(issuer.name)
             .public_key(self.key.public_key()).serial_number(new_serial())
             .not_valid_before(utc(self.not_before)).not_valid_after(utc(self.not_after))
             .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None else 0), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False))
        if parent:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()), critical=False)
        self.cert = b.sign(issuer.key, hashes.SHA256())
        self.cert_pem = pem(self.cert)
        self.ski = x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key())

    def chain_pems(self):
        """This CA's certificate and its ancestors', up to the root."""
        out, ca = [], self
        while ca:
            out.append(ca.cert_pem)
            ca = ca.parent
        return out

    def family(self):
        return "RSA" if self.kind == "RSA" else "ECDSA"


# ---------------------------------------------------------------- state
class Bucket:
    def __init__(self, rate, burst):
        self.rate, self.burst = float(rate), float(burst)
        self.tokens, self.t = float(burst), time.monotonic()

    def peek(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
        self.t = now
        return self.tokens >= 1.0

    def take(self):
        if self.peek():
            self.tokens -= 1.0
            return True
        return False


def quota_buckets(opname):
    """The buckets a call draws from: its own operation's (if set) and, for
    Route 53, the account-wide one every Route 53 call shares."""
    out = [opname]
    if opname.startswith("route53:"):
        out.append("route53")
    return out


def take_quota(st, opname):
    """Takes one token from every bucket of the call, all or none (caller
    holds st.lock).  Returns None, or the name of the empty bucket."""
    bs = [(n, st.quotas[n]) for n in quota_buckets(opname) if n in st.quotas]
    for n, b in bs:
        if not b.peek():
            return n
    for _, b in bs:
        b.take()
    return None


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.offset = 0.0
        self.models = load_models()
        now = self.now()
        rsa_root = CA(CA_RSA, "RSA", "Emulator RSA Root CA", None, now)
        ec_root = CA(CA_EC, "EC", "Emulator EC Root CA", None, now)
        ec_sub = CA(CA_EC_SUB, "EC", "Emulator EC Subordinate CA", ec_root, now)
        self.cas = {c.arn: c for c in (rsa_root, ec_root, ec_sub)}
        self.key_pool, self.key_pool_next = {}, {}   # setting acm_key_pool (kept across /reset)
        self.access_key = "AKIA" + secrets.token_hex(8).upper()
        self.secret_key = base64.b64encode(secrets.token_bytes(30)).decode()
        self.reset()

    def now(self):
        return time.time() + self.offset

    def reset(self):
        with self.lock:
            self.offset = 0.0
            self.settings = dict(DEFAULT_SETTINGS)
            self.quotas = {op: Bucket(r, DEFAULT_BURSTS.get(op, 2 * r)) for op, r in DEFAULT_QUOTAS.items()}
            self.faults = []
            self.calls = []
            self.pca_certs = {}      # arn -> dict
            self.pca_idem = {}       # (ca, token) -> (arn, time)
            self.acm = {}            # arn -> dict
            self.acm_idem = {}       # token -> (arn, parameters fingerprint, time)
            self.acm_by_name = {}    # lower-case domain name -> {arn}
            self.acm_held = {"public": 0, "imported": 0}
            self.acm_year = {"public": [], "imported": []}   # sorted creation times
            self.fail_rules = {}     # lower-case domain name -> FailureReason (control /fail)
            self.creds = {self.access_key: {"secret": self.secret_key, "token": None, "expires": None,
                                            "arn": "arn:aws:iam::%s:user/emulator" % ACCOUNT,
                                            "user_id": "AIDA" + self.access_key[4:]}}
            self.imds_tokens = {}
            self.dns_records = {}    # lower-case fqdn. -> CNAME target (control /dns)
            self.zones = {}
            self.changes = {}
            self.add_zone("example.com", "Z0EMULATOREXAMPLE01")
            for ca in self.cas.values():
                ca.status = "ACTIVE"

    def add_zone(self, name, zid=None):
        name = name.lower().rstrip(".") + "."
        zid = zid or "Z" + secrets.token_hex(10).upper()
        with self.lock:
            # records: (name, type) -> rrset; names: name -> {types} (for
            # CNAME conflicts without a scan); visible: (name, type) -> when
            # the change that wrote it is INSYNC; sorted: cached AWS order.
            self.zones[zid] = {"name": name, "ref": str(uuid.uuid4()), "records": {
                (name, "SOA"): {"Name": name, "Type": "SOA", "TTL": 900, "ResourceRecords": [
                    {"Value": "ns-1.emulator.invalid. hostmaster.emulator.invalid. 1 7200 900 1209600 86400"}]},
                (name, "NS"): {"Name": name, "Type": "NS", "TTL": 172800, "ResourceRecords": [
                    {"Value": "ns-1.emulator.invalid."}, {"Value": "ns-2.emulator.invalid."}]}},
                "names": {name: {"SOA", "NS"}}, "visible": {}, "sorted": None}
        return zid

    def add_session(self, arn, user_id, seconds, key=None, secret=None, token=None):
        key = key or "ASIA" + secrets.token_hex(8).upper()
        secret = secret or base64.b64encode(secrets.token_bytes(30)).decode()
        token = token or base64.b64encode(secrets.token_bytes(96)).decode()
        exp = self.now() + seconds
        with self.lock:
            self.creds[key] = {"secret": secret, "token": token, "expires": exp, "arn": arn, "user_id": user_id}
        return key, secret, token, exp


def iso(ts):
    return utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- SigV4
class _Verifier(SigV4Auth):
    def __init__(self, creds, service, region, signed):
        super().__init__(creds, service, region)
        self._signed = signed

    def headers_to_sign(self, request):
        from botocore.compat import HTTPHeaders
        hm = HTTPHeaders()
        for name in self._signed:
            v = request.headers.get(name)
            hm[name] = v if v is not None else ""
        return hm


AUTH_RE = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)\s*$")


def verify_sigv4(state, h, service, body, errs):
    """Verifies the request's signature; returns the caller's credential
    record.  errs maps error kinds to this protocol's codes."""
    auth = h.headers.get("Authorization")
    if not auth:
        raise AwsError(errs["missing"], "Missing Authentication Token", 403)
    m = AUTH_RE.match(auth)
    if not m:
        raise AwsError(errs["incomplete"], "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.", 400)
    cred, signed, sig = m.groups()
    parts = cred.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AwsError(errs["incomplete"], "Credential should be scoped to a valid region.", 400)
    akid, day, region, svc, _ = parts
    with state.lock:
        rec = state.creds.get(akid)
    if rec is None:
        raise AwsError(errs["unknown_key"], "The security token included in the request is invalid.", errs["unknown_status"])
    if region != REGION:
        raise AwsError(errs["bad_sig"], "Credential should be scoped to a valid region. ", errs["sig_status"])
    if svc != service:
        raise AwsError(errs["bad_sig"], "Credential should be scoped to correct service: '%s'. " % service, errs["sig_status"])
    amz_date = h.headers.get("X-Amz-Date")
    if not amz_date or not re.fullmatch(r"\d{8}T\d{6}Z", amz_date) or amz_date[:8] != day:
        raise AwsError(errs["bad_sig"], "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'" % (day, (amz_date or "")[:8]), errs["sig_status"])
    signed_list = signed.split(";")
    if "host" not in signed_list:
        raise AwsError(errs["bad_sig"], "'Host' must be a 'SignedHeader' in the AWS Authorization.", errs["sig_status"])
    ts = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    skew = state.settings["signature_max_skew_seconds"]
    # The client signs with its wall clock: accept either real time or the
    # (possibly advanced) emulator clock, each within AWS's 5 minutes.
    refs = [time.time(), state.now()]
    if all(ts < r - skew for r in refs):
        r = refs[0]
        raise AwsError(errs["bad_sig"], "Signature expired: %s is now earlier than %s (%s - 5 min.)" % (
            amz_date, utc(r - skew).strftime("%Y%m%dT%H%M%SZ"), utc(r).strftime("%Y%m%dT%H%M%SZ")), errs["sig_status"])
    if all(ts > r + skew for r in refs):
        r = refs[0]
        raise AwsError(errs["bad_sig"], "Signature not yet current: %s is still later than %s (%s + 5 min.)" % (
            amz_date, utc(r + skew).strftime("%Y%m%dT%H%M%SZ"), utc(r).strftime("%Y%m%dT%H%M%SZ")), errs["sig_status"])
    token = h.headers.get("X-Amz-Security-Token")
    if rec["token"] is not None:
        if token != rec["token"]:
            raise AwsError(errs["unknown_key"], "The security token included in the request is invalid.", errs["unknown_status"])
        if state.now() >= rec["expires"]:
            raise AwsError(errs["expired"], "The security token included in the request is expired", errs["expired_status"])
    elif token:
        raise AwsError(errs["unknown_key"], "The security token included in the request is invalid.", errs["unknown_status"])
    scheme = "https" if h.server.tls else "http"
    req = AWSRequest(method=h.command, url="%s://%s%s" % (scheme, h.headers.get("Host", ""), h.path),
                     headers={k: h.headers.get(k, "") for k in signed_list}, data=body)
    req.context["timestamp"] = amz_date
    csha = h.headers.get("X-Amz-Content-SHA256")
    if csha and csha != "UNSIGNED-PAYLOAD" and csha != hashlib.sha256(body).hexdigest():
        raise AwsError(errs["bad_sig"], "The provided 'x-amz-content-sha256' header does not match what was computed.", errs["sig_status"])
    v = _Verifier(Credentials(akid, rec["secret"], rec["token"]), service, region, signed_list)
    cr = v.canonical_request(req)
    expect = v.signature(v.string_to_sign(req, cr), req)
    if not secrets.compare_digest(expect, sig):
        raise AwsError(errs["bad_sig"], "The request signature we calculated does not match the signature you provided. "
                       "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
                       errs["sig_status"])
    return dict(rec, access_key_id=akid)


JSON_ERRS = {"missing": "MissingAuthenticationTokenException", "incomplete": "IncompleteSignatureException",
             "unknown_key": "UnrecognizedClientException", "unknown_status": 400,
             "bad_sig": "InvalidSignatureException", "sig_status": 400,
             "expired": "ExpiredTokenException", "expired_status": 400}
QUERY_ERRS = {"missing": "MissingAuthenticationToken", "incomplete": "IncompleteSignature",
              "unknown_key": "InvalidClientTokenId", "unknown_status": 403,
              "bad_sig": "SignatureDoesNotMatch", "sig_status": 403,
              "expired": "ExpiredToken", "expired_status": 400}


# ---------------------------------------------------------------- ACM-PCA
TEMPLATE_PREFIX = "arn:aws:acm-pca:::template/"
END_ENTITY_TEMPLATES = {
    "EndEntityCertificate/V1": ("server", "client"),
    "EndEntityServerAuthCertificate/V1": ("server",),
    "EndEntityClientAuthCertificate/V1": ("client",),
}
for _t, _e in list(END_ENTITY_TEMPLATES.items()):
    base = _t.split("/")[0]
    for var in ("APIPassthrough", "CSRPassthrough", "APICSRPassthrough"):
        END_ENTITY_TEMPLATES["%s_%s/V1" % (base, var)] = _e
SUB_TEMPLATES = {"SubordinateCACertificate_PathLen%d/V1" % n: n for n in range(4)}

KU_FIELDS = {"DigitalSignature": "digital_signature", "NonRepudiation": "content_commitment",
             "KeyEncipherment": "key_encipherment", "DataEncipherment": "data_encipherment",
             "KeyAgreement": "key_agreement", "KeyCertSign": "key_cert_sign", "CRLSign": "crl_sign",
             "EncipherOnly": "encipher_only", "DecipherOnly": "decipher_only"}
EKU_OIDS = {"SERVER_AUTH": ExtendedKeyUsageOID.SERVER_AUTH, "CLIENT_AUTH": ExtendedKeyUsageOID.CLIENT_AUTH,
            "CODE_SIGNING": ExtendedKeyUsageOID.CODE_SIGNING, "EMAIL_PROTECTION": ExtendedKeyUsageOID.EMAIL_PROTECTION,
            "TIME_STAMPING": ExtendedKeyUsageOID.TIME_STAMPING, "OCSP_SIGNING": ExtendedKeyUsageOID.OCSP_SIGNING}
SUBJECT_OIDS = {"Country": NameOID.COUNTRY_NAME, "Organization": NameOID.ORGANIZATION_NAME,
                "OrganizationalUnit": NameOID.ORGANIZATIONAL_UNIT_NAME, "State": NameOID.STATE_OR_PROVINCE_NAME,
                "CommonName": NameOID.COMMON_NAME, "SerialNumber": NameOID.SERIAL_NUMBER,
                "Locality": NameOID.LOCALITY_NAME, "Title": NameOID.TITLE, "Surname": NameOID.SURNAME,
                "GivenName": NameOID.GIVEN_NAME, "Pseudonym": NameOID.PSEUDONYM,
                "DistinguishedNameQualifier": NameOID.DN_QUALIFIER, "GenerationQualifier": NameOID.GENERATION_QUALIFIER,
                "Initials": x509.ObjectIdentifier("2.5.4.43")}


def add_months(ts, months):
    d = utc(ts)
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    import calendar
    day = min(d.day, calendar.monthrange(y, m)[1])
    return d.replace(year=y, month=m, day=day).timestamp()


def validity_time(v, now, what):
    t, val = v["Type"], v["Value"]
    if val <= 0:
        raise AwsError("InvalidArgsException", "The %s value must be positive." % what)
    if t == "ABSOLUTE":
        return float(val)
    if t == "END_DATE":
        s = str(val)
        try:
            if len(s) == 12:
                yy = int(s[:2])
                s = ("19" if yy >= 50 else "20") + s
            if len(s) != 14:
                raise ValueError
            return datetime.datetime.strptime(s, "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            raise AwsError("InvalidArgsException", "The %s END_DATE value %d is not in YYMMDDHHMMSS or YYYYMMDDHHMMSS format." % (what, val))
    if what == "ValidityNotBefore":
        raise AwsError("InvalidArgsException", "ValidityNotBefore must be expressed as type ABSOLUTE or END_DATE.")
    if t == "DAYS":
        return now + val * 86400.0
    if t == "MONTHS":
        return add_months(now, val)
    if t == "YEARS":
        return add_months(now, 12 * val)
    raise AwsError("InvalidArgsException", "Unsupported validity type %s." % t)


def parse_csr(raw):
    try:
        csr = x509.load_pem_x509_csr(raw)
    except Exception:
        raise AwsError("MalformedCSRException", "The certificate signing request is invalid: it is not a PEM-encoded PKCS#10 request.")
    if not csr.is_signature_valid:
        raise AwsError("MalformedCSRException", "The certificate signing request is invalid: its signature does not verify.")
    pub = csr.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        if pub.key_size < 2048:
            raise AwsError("MalformedCSRException", "The certificate signing request has an unsupported RSA key size (%d)." % pub.key_size)
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        if pub.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
            raise AwsError("MalformedCSRException", "The certificate signing request has an unsupported curve.")
    else:
        raise AwsError("MalformedCSRException", "The certificate signing request has an unsupported key type.")
    return csr


def passthrough_name(d):
    return x509.Name([x509.NameAttribute(SUBJECT_OIDS[k], v) for k, v in d.items() if k in SUBJECT_OIDS and k != "CustomAttributes"])


def passthrough_sans(lst):
    out = []
    for g in lst:
        if "DnsName" in g:
            out.append(x509.DNSName(g["DnsName"]))
        elif "IpAddress" in g:
            out.append(x509.IPAddress(ipaddress.ip_address(g["IpAddress"])))
        elif "Rfc822Name" in g:
            out.append(x509.RFC822Name(g["Rfc822Name"]))
        elif "UniformResourceIdentifier" in g:
            out.append(x509.UniformResourceIdentifier(g["UniformResourceIdentifier"]))
        elif "DirectoryName" in g:
            out.append(x509.DirectoryName(passthrough_name(g["DirectoryName"])))
    return out


def sign_cert(ca, subject, pubkey, serial, nb, na, template, csr, passthrough, hash_name):
    """Builds a certificate from the template, API and CSR passthrough
    (in AWS's order of precedence: template, then API, then CSR)."""
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.name).public_key(pubkey)
         .serial_number(serial).not_valid_before(utc(nb)).not_valid_after(utc(na)))
    have = set()

    def add(ext, critical):
        nonlocal b
        if ext.oid in have:
            return
        have.add(ext.oid)
        b = b.add_extension(ext, critical=critical)
    is_ec = isinstance(pubkey, ec.EllipticCurvePublicKey)
    if template in SUB_TEMPLATES:
        add(x509.BasicConstraints(ca=True, path_length=SUB_TEMPLATES[template]), True)
        add(x509.KeyUsage(True, False, False, False, False, True, True, False, False), True)
    else:
        add(x509.BasicConstraints(ca=False, path_length=None), True)
        add(x509.KeyUsage(True, False, not is_ec, False, is_ec, False, False, False, False), True)
        ekus = END_ENTITY_TEMPLATES[template]
        add(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if e == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
                                   for e in ekus]), False)
    add(x509.SubjectKeyIdentifier.from_public_key(pubkey), False)
    add(ca.ski, False)
    ext = (passthrough or {}).get("Extensions", {})
    if "APIPassthrough" in template or "APICSRPassthrough" in template:
        if "KeyUsage" in ext:
            ku = {v: bool(ext["KeyUsage"].get(k, False)) for k, v in KU_FIELDS.items()}
            add(x509.KeyUsage(**ku), True)
        if "ExtendedKeyUsage" in ext:
            add(x509.ExtendedKeyUsage([EKU_OIDS.get(e.get("ExtendedKeyUsageType"))
                                       or x509.ObjectIdentifier(e["ExtendedKeyUsageObjectIdentifier"])
                                       for e in ext["ExtendedKeyUsage"]]), False)
        if ext.get("SubjectAlternativeNames"):
            add(x509.SubjectAlternativeName(passthrough_sans(ext["SubjectAlternativeNames"])), False)
        if ext.get("CertificatePolicies"):
            add(x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(p["CertPolicyId"]), None)
                                          for p in ext["CertificatePolicies"]]), False)
    if csr is not None:
        for e in csr.extensions:
            if e.oid == x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME or "CSRPassthrough" in template:
                add(e.value, e.critical)
    return b.sign(ca.key, SIG_HASH[hash_name]())


def pca_ca(state, arn):
    if not arn.startswith("arn:aws:acm-pca:") or "/" not in arn:
        raise AwsError("InvalidArnException", "The certificate authority ARN %s is not valid." % arn)
    ca = state.cas.get(arn)
    if ca is None:
        raise AwsError("ResourceNotFoundException", "Could not find certificate authority %s." % arn)
    return ca


def pca_DescribeCertificateAuthority(state, p, caller):
    ca = pca_ca(state, p["CertificateAuthorityArn"])
    attrs = {a.oid: a.value for a in ca.name}
    return {"CertificateAuthority": {
        "Arn": ca.arn, "OwnerAccount": ACCOUNT, "CreatedAt": ca.created, "LastStateChangeAt": ca.status_changed,
        "Type": "SUBORDINATE" if ca.parent else "ROOT", "Serial": colon_hex(ca.cert.serial_number),
        "Status": ca.status, "NotBefore": ca.not_before, "NotAfter": ca.not_after,
        "CertificateAuthorityConfiguration": {
            "KeyAlgorithm": ca.key_algorithm, "SigningAlgorithm": ca.signing_algorithm,
            "Subject": {"Organization": attrs[NameOID.ORGANIZATION_NAME], "CommonName": attrs[NameOID.COMMON_NAME]}},
        "RevocationConfiguration": {"CrlConfiguration": {"Enabled": False}, "OcspConfiguration": {"Enabled": False}},
        "KeyStorageSecurityStandard": "FIPS_140_2_LEVEL_3_OR_HIGHER", "UsageMode": "GENERAL_PURPOSE"}}


def pca_IssueCertificate(state, p, caller):
    ca = pca_ca(state, p["CertificateAuthorityArn"])
    now = state.now()
    tok = p.get("IdempotencyToken")
    if tok:
        with state.lock:
            hit = state.pca_idem.get((ca.arn, tok))
            if hit and now - hit[1] < 60:
                return {"CertificateArn": hit[0]}
    if ca.status != "ACTIVE":
        raise AwsError("InvalidStateException", "The certificate authority %s is not in the correct state to issue certificates (status %s)." % (ca.arn, ca.status))
    alg = p["SigningAlgorithm"]
    fam = "ECDSA" if alg.endswith("ECDSA") else "RSA"
    if fam != ca.family():
        raise AwsError("InvalidArgsException", "The signing algorithm %s does not match the algorithm family (%s) of the CA key %s."
                       % (alg, ca.family(), ca.key_algorithm))
    template = p.get("TemplateArn", TEMPLATE_PREFIX + "EndEntityCertificate/V1")
    tname = template[len(TEMPLATE_PREFIX):] if template.startswith(TEMPLATE_PREFIX) else None
    if tname not in END_ENTITY_TEMPLATES and tname not in SUB_TEMPLATES:
        raise AwsError("InvalidArgsException", "The template %s is not supported." % template)
    if tname in SUB_TEMPLATES and ca.parent is not None and SUB_TEMPLATES[tname] >= 0:
        raise AwsError("InvalidArgsException", "The CA path length of %s exceeds the limit of its issuer." % template)
    csr = parse_csr(p["Csr"])
    na = validity_time(p["Validity"], now, "Validity")
    nb = validity_time(p["ValidityNotBefore"], now, "ValidityNotBefore") if "ValidityNotBefore" in p else now - 3600
    if na <= now and p["Validity"]["Type"] in ("ABSOLUTE", "END_DATE"):
        raise AwsError("InvalidArgsException", "The Validity end date is in the past.")
    if na > ca.not_after:
        raise AwsError("ValidationException", "The certificate validity specified exceeds the certificate authority validity.")
    if nb >= na:
        raise AwsError("InvalidArgsException", "The ValidityNotBefore date must be earlier than the Validity end date.")
    nb = max(nb, ca.not_before)
    pt = p.get("ApiPassthrough") if "APIPassthrough" in tname or "APICSRPassthrough" in tname else None
    subject = passthrough_name(pt["Subject"]) if pt and pt.get("Subject") else csr.subject
    serial = new_serial()
    cert = sign_cert(ca, subject, csr.public_key(), serial, nb, na, tname, csr, pt, alg[:6])
    arn = "%s/certificate/%s" % (ca.arn, secrets.token_hex(16))
    with state.lock:
        state.pca_certs[arn] = {"ca": ca.arn, "pem": pem(cert), "serial": serial, "issued": now,
                                "ready": now + float(state.settings["pca_in_progress_seconds"]), "revoked": None}
        if tok:
            state.pca_idem[(ca.arn, tok)] = (arn, now)
    return {"CertificateArn": arn}


def pca_GetCertificate(state, p, caller):
    ca = pca_ca(state, p["CertificateAuthorityArn"])
    with state.lock:
        c = state.pca_certs.get(p["CertificateArn"])
    if c is None or c["ca"] != ca.arn:
        raise AwsError("ResourceNotFoundException", "Could not find certificate %s." % p["CertificateArn"])
    if state.now() < c["ready"]:
        raise AwsError("RequestInProgressException", "The request to issue certificate %s is still in progress." % p["CertificateArn"])
    return {"Certificate": c["pem"], "CertificateChain": "".join(ca.chain_pems())}


def pca_GetCertificateAuthorityCertificate(state, p, caller):
    ca = pca_ca(state, p["CertificateAuthorityArn"])
    out = {"Certificate": ca.cert_pem}
    if ca.parent:
        out["CertificateChain"] = "".join(ca.parent.chain_pems())
    return out


def pca_RevokeCertificate(state, p, caller):
    ca = pca_ca(state, p["CertificateAuthorityArn"])
    if ca.status not in ("ACTIVE", "DISABLED"):
        raise AwsError("InvalidStateException", "The certificate authority %s is in state %s." % (ca.arn, ca.status))
    s = p["CertificateSerial"].replace(":", "").lower()
    try:
        serial = int(s, 16)
    except ValueError:
        raise AwsError("InvalidRequestException", "The certificate serial %s is not hexadecimal." % p["CertificateSerial"])
    with state.lock:
        for c in state.pca_certs.values():
            if c["ca"] == ca.arn and c["serial"] == serial:
                if c["revoked"]:
                    raise AwsError("RequestAlreadyProcessedException", "The certificate %s has already been revoked." % p["CertificateSerial"])
                c["revoked"] = {"reason": p["RevocationReason"], "at": state.now()}
                return {}
    raise AwsError("ResourceNotFoundException", "Could not find certificate with serial %s issued by %s." % (p["CertificateSerial"], ca.arn))


# ---------------------------------------------------------------- STS
def sts_GetCallerIdentity(state, p, caller):
    return {"UserId": caller["user_id"], "Account": ACCOUNT, "Arn": caller["arn"]}


def _assume(state, p, arn_role, extra):
    m = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)", arn_role)
    if not m:
        raise AwsError("ValidationError", "%s is invalid" % arn_role)
    dur = p.get("DurationSeconds", 3600)
    name = p["RoleSessionName"]
    role_id = "AROA" + hashlib.sha1(arn_role.encode()).hexdigest()[:17].upper()
    arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (m.group(1), m.group(2), name)
    key, secret, token, exp = state.add_session(arn, "%s:%s" % (role_id, name), dur)
    out = {"Credentials": {"AccessKeyId": key, "SecretAccessKey": secret, "SessionToken": token, "Expiration": exp},
           "AssumedRoleUser": {"AssumedRoleId": "%s:%s" % (role_id, name), "Arn": arn}}
    out.update(extra)
    return out


def sts_AssumeRole(state, p, caller):
    return _assume(state, p, p["RoleArn"], {"PackedPolicySize": 0} if p.get("Policy") else {})


def sts_AssumeRoleWithWebIdentity(state, p, caller):
    tok = p["WebIdentityToken"]
    parts = tok.split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except Exception:
        raise AwsError("InvalidIdentityToken", "Couldn't parse the web identity token (expected a JWT).")
    if "exp" in claims and claims["exp"] < state.now():
        raise AwsError("ExpiredTokenException", "Token is expired.")
    return _assume(state, p, p["RoleArn"], {"SubjectFromWebIdentityToken": str(claims.get("sub", "")),
                                            "Audience": str(claims.get("aud", "")),
                                            "Provider": str(claims.get("iss", ""))})


def parse_query_params(model, shape_name, flat, prefix=""):
    """Turns STS's flattened form fields into the nested input shape."""
    shapes = model["shapes"]
    out = {}
    for name, mem in shapes[shape_name].get("members", {}).items():
        key = prefix + mem.get("locationName", name)
        sh = shapes[mem["shape"]]
        if sh["type"] == "structure":
            if any(k.startswith(key + ".") for k in flat):
                out[name] = parse_query_params(model, mem["shape"], flat, key + ".")
        elif sh["type"] == "list":
            items, i = [], 1
            msh = shapes[sh["member"]["shape"]]
            while True:
                ik = "%s.member.%d" % (key, i)
                if msh["type"] == "structure":
                    if not any(k.startswith(ik + ".") for k in flat):
                        break
                    items.append(parse_query_params(model, sh["member"]["shape"], flat, ik + "."))
                elif ik in flat:
                    items.append(flat[ik])
                else:
                    break
                i += 1
            if items or key in flat:
                out[name] = items
        elif key in flat:
            v = flat[key]
            if sh["type"] in ("integer", "long"):
                try:
                    v = int(v)
                except ValueError:
                    raise AwsError("ValidationError", "Value '%s' at '%s' failed to satisfy constraint: Member must be a number" % (v, _camel(name)))
            elif sh["type"] == "boolean":
                v = v == "true"
            out[name] = v
    return out


def to_xml(v):
    if isinstance(v, dict):
        return "".join("<%s>%s</%s>" % (k, iso(x) if k == "Expiration" else to_xml(x), k) for k, x in v.items())
    if isinstance(v, list):
        return "".join("<member>%s</member>" % to_xml(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return xml_escape(str(v))


# ---------------------------------------------------------------- HTTP
def invoke(fn, st, params, caller):
    """Runs an operation; a bug in the emulator becomes InternalFailure (and
    a traceback on stderr), never a dropped connection."""
    try:
        return fn(st, params, caller)
    except AwsError:
        raise
    except Exception:
        import traceback
        traceback.print_exc()
        raise AwsError("InternalFailure", "The emulator failed on this request (see its log).", 500)


def json_default(o):
    if isinstance(o, bytes):
        return base64.b64encode(o).decode()
    raise TypeError(type(o))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "acm-agent-emulator"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("emulator: " + fmt % args + "\n")

    def send(self, status, body, ctype, extra=None):
        if isinstance(body, str):
            body = body.encode()
        fault = getattr(self, "_fault", None)
        if fault and fault["kind"] == "truncate":
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault and fault["kind"] == "malformed":
            body = b'{"__type": "Internal' if ctype.endswith("json") else b"<Error><Code>Intern"
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        try:
            n = int(n)
        except ValueError:
            n = -1
        if n < 0 or n > 1 << 20:
            self.close_connection = True
            raise AwsError("SerializationException", "Bad or too large Content-Length")
        return self.rfile.read(n)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        st = self.server.state
        self._fault = None
        rid = str(uuid.uuid4())
        try:
            body = self.read_body()
        except AwsError as e:
            return self.send(400, json.dumps({"__type": e.code, "message": e.message}), "application/x-amz-json-1.1")
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/latest/"):
            return self.imds(path)
        if path.startswith("/ecs/credentials"):
            return self.ecs()
        if path.startswith("/2013-04-01/"):
            return self.aws_rest(st, path, body, rid)
        target = self.headers.get("X-Amz-Target", "")
        if self.command == "POST" and target:
            prefix, _, op = target.partition(".")
            svc = {"CertificateManager": "acm", "ACMPrivateCA": "acm-pca"}.get(prefix)
            return self.aws_json(st, svc, op, target, body, rid)
        if self.command == "POST" and path == "/":
            return self.aws_query(st, body, rid)
        self.send(404, json.dumps({"__type": "UnknownOperationException", "message": "No such path %s" % path}),
                  "application/x-amz-json-1.1", {"x-amzn-RequestId": rid})

    # -- shared pre-processing: faults and quotas
    def pre(self, st, opname):
        with st.lock:
            for f in st.faults:
                if f["operation"] in (opname, "*") and f["count"] != 0:
                    if f["count"] > 0:
                        f["count"] -= 1
                    self._fault = dict(f)
                    break
            st.faults = [f for f in st.faults if f["count"] != 0]
            throttled = take_quota(st, opname)
        f = self._fault
        if f:
            if f["kind"] == "latency":
                time.sleep(f.get("latency_ms", 1000) / 1000.0)
                self._fault = None
            elif f["kind"] == "reset":
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
                raise ConnectionResetError("injected")
            elif f["kind"] in ("500", "503"):
                self._fault = None
                if f["kind"] == "500":
                    raise AwsError("InternalFailure", "The request processing has failed because of an unknown error, exception or failure.", 500)
                raise AwsError("ServiceUnavailable", "Service is unavailable. Try again later.", 503)
        if throttled:
            extra = {}
            svc = opname.split(":")[0]
            exc = st.models.get(svc, {}).get("shapes", {}).get("ThrottlingException", {})
            if "throttlingReasons" in exc.get("members", {}):
                extra["throttlingReasons"] = [{"reason": "RATE_EXCEEDED", "resource": throttled}]
            raise AwsError("ThrottlingException", "Rate exceeded", extra=extra)

    def log_call(self, st, opname, params, status, err, rid, caller, result):
        rec = {"seq": 0, "time": st.now(), "operation": opname, "parameters": params, "status": status,
               "error": err, "request_id": rid, "access_key_id": caller.get("access_key_id") if caller else None}
        if isinstance(result, dict):
            for k in ("CertificateArn",):
                if k in result:
                    rec["result_" + k] = result[k]
        with st.lock:
            rec["seq"] = len(st.calls) + 1
            if len(st.calls) < 200000:
                st.calls.append(rec)

    def aws_json(self, st, svc, op, target, body, rid):
        ctype = "application/x-amz-json-1.1"
        opname = "%s:%s" % (svc, op)
        params, caller, status, err, result = None, None, 200, None, None
        try:
            if svc is None or op not in st.models[svc]["operations"] or "%s_%s" % (svc.replace("-", ""), op) not in HANDLERS:
                raise AwsError("UnknownOperationException", "Operation %s is not supported." % target)
            caller = verify_sigv4(st, self, svc, body, JSON_ERRS)
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                raise AwsError("SerializationException", "Request body is not valid JSON.")
            model = st.models[svc]
            opm = model["operations"][op]
            v = Validator(model)
            decoded = v.check(opm["input"]["shape"], params, "") if "input" in opm else {}
            if v.errors:
                raise AwsError("ValidationException", validation_message(v.errors))
            self.pre(st, opname)
            result = invoke(HANDLERS["%s_%s" % (svc.replace("-", ""), op)], st, decoded, caller)
            out = json.dumps(result, default=json_default)
        except AwsError as e:
            status, err = e.status, e.code
            out = json.dumps(dict({"__type": e.code, "message": e.message}, **e.extra))
            hdr = {"x-amzn-RequestId": rid, "x-amzn-ErrorType": e.code}
        else:
            hdr = {"x-amzn-RequestId": rid}
        finally:
            self.log_call(st, opname, params, status, err, rid, caller, result)
        self.send(status, out, ctype, hdr)

    def aws_query(self, st, body, rid):
        flat = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        op = flat.get("Action", "")
        opname, params, caller, status, err, result = "sts:" + op, None, None, 200, None, None
        model = st.models["sts"]
        try:
            if op not in model["operations"] or "sts_" + op not in HANDLERS:
                raise AwsError("InvalidAction", "Could not find operation %s for version %s" % (op, flat.get("Version")))
            if op == "AssumeRoleWithWebIdentity":
                caller = {}
            else:
                caller = verify_sigv4(st, self, "sts", body, QUERY_ERRS)
            params = parse_query_params(model, model["operations"][op]["input"]["shape"], flat) if "input" in model["operations"][op] else {}
            v = Validator(model)
            v.check(model["operations"][op]["input"]["shape"], params, "") if "input" in model["operations"][op] else None
            if v.errors:
                raise AwsError("ValidationError", validation_message(v.errors))
            self.pre(st, opname)
            result = invoke(HANDLERS["sts_" + op], st, params, caller)
            ns = "https://sts.amazonaws.com/doc/2011-06-15/"
            out = ('<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId>'
                   '</ResponseMetadata></%sResponse>' % (op, ns, op, to_xml(result), op, rid, op))
        except AwsError as e:
            status, err = (403 if e.status == 403 else e.status), e.code
            code = "Throttling" if e.code == "ThrottlingException" else e.code
            out = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>%s</Type>'
                   '<Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
                   % ("Receiver" if e.status >= 500 else "Sender", code, xml_escape(e.message), rid))
        finally:
            self.log_call(st, opname, params, status, err, rid, caller, result)
        self.send(status, out, "text/xml", {"x-amzn-RequestId": rid})

    def aws_rest(self, st, path, body, rid):
        ns = "https://route53.amazonaws.com/doc/2013-04-01/"
        model = st.models["route53"]
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
        op, params, caller, status, err, result = None, None, None, 200, None, None
        routes = [("GET", r"/2013-04-01/hostedzonesbyname", "ListHostedZonesByName"),
                  ("POST", r"/2013-04-01/hostedzone/([^/]+)/rrset/?", "ChangeResourceRecordSets"),
                  ("GET", r"/2013-04-01/hostedzone/([^/]+)/rrset", "ListResourceRecordSets"),
                  ("GET", r"/2013-04-01/change/([^/]+)", "GetChange")]
        label = None
        for meth, rx, name in routes:
            m = re.fullmatch(rx, path)
            if m and meth == self.command:
                op, label = name, (m.group(1) if m.groups() else None)
                break
        opname = "route53:%s" % op
        try:
            if op is None:
                raise AwsError("InvalidAction", "No operation at %s %s" % (self.command, path), 404)
            caller = verify_sigv4(st, self, "route53", body, QUERY_ERRS)
            shape_name = model["operations"][op]["input"]["shape"]
            params = {}
            for mname, mem in model["shapes"][shape_name]["members"].items():
                loc = mem.get("location")
                sh = model["shapes"][mem["shape"]]
                if loc == "uri":
                    params[mname] = urllib.parse.unquote(label)
                elif loc == "querystring" and mem["locationName"] in q:
                    v = q[mem["locationName"]]
                    if sh["type"] in ("integer", "long"):
                        if not v.isdigit():
                            raise AwsError("InvalidInput", "Value '%s' at '%s' is not an integer" % (v, _camel(mname)))
                        v = int(v)
                    params[mname] = v
            if self.command == "POST":
                import xml.etree.ElementTree as ET
                try:
                    root = ET.fromstring(body)
                except ET.ParseError as e:
                    raise AwsError("InvalidInput", "Could not parse XML: %s" % e)
                params.update(xml_parse(model, shape_name, root, skip=set(params)))
            v = Validator(model)
            v.check(shape_name, params, "")
            if v.errors:
                raise AwsError("InvalidInput", validation_message(v.errors))
            self.pre(st, opname)
            result = invoke(HANDLERS["r53_" + op], st, params, caller)
            oshape = model["operations"][op]["output"]["shape"]
            out = '<?xml version="1.0"?>\n<%s xmlns="%s">%s</%s>' % (oshape, ns, xml_shape(model, oshape, result), oshape)
        except AwsError as e:
            status, err = e.status, e.code
            code = "Throttling" if e.code == "ThrottlingException" else e.code
            # Every error, InvalidChangeBatch included (since 2024), is an
            # <ErrorResponse>; InvalidChangeBatch lists its messages as "[m1, m2]".
            out = ('<?xml version="1.0"?>\n<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message>'
                   '</Error><RequestId>%s</RequestId></ErrorResponse>'
                   % (ns, "Receiver" if e.status >= 500 else "Sender", code, xml_escape(e.message), rid))
        finally:
            self.log_call(st, opname, params, status, err, rid, caller, result)
        self.send(status, out, "text/xml", {"x-amzn-RequestId": rid})

    # -- EC2 IMDSv2 and ECS container credentials
    def imds(self, path):
        st = self.server.state
        if self.command == "PUT" and path == "/latest/api/token":
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.send(400, "", "text/plain")
            tok = base64.urlsafe_b64encode(secrets.token_bytes(40)).decode()
            with st.lock:
                st.imds_tokens[tok] = time.time() + int(ttl)
            return self.send(200, tok, "text/plain", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with st.lock:
            exp = st.imds_tokens.get(tok or "")
        if exp is None or exp < time.time():
            return self.send(401, "", "text/plain")
        if self.command != "GET":
            return self.send(405, "", "text/plain")
        role = st.settings.get("imds_role")
        if path == "/latest/meta-data/placement/region":
            return self.send(200, REGION, "text/plain")
        if path == "/latest/meta-data/iam/security-credentials/":
            # No instance profile attached: 404, as EC2 answers.
            return self.send(200, role, "text/plain") if role else self.send(404, "", "text/plain")
        if role and path == "/latest/meta-data/iam/security-credentials/" + role:
            c = self.role_creds(st, "imds")
            return self.send(200, json.dumps({"Code": "Success", "LastUpdated": iso(st.now()), "Type": "AWS-HMAC",
                                              "AccessKeyId": c[0], "SecretAccessKey": c[1], "Token": c[2],
                                              "Expiration": iso(c[3])}), "text/plain")
        if path == "/latest/dynamic/instance-identity/document":
            return self.send(200, json.dumps({"accountId": ACCOUNT, "region": REGION, "instanceId": "i-0123456789abcdef0",
                                              "availabilityZone": REGION + "a"}), "application/json")
        return self.send(404, "", "text/plain")

    def role_creds(self, st, kind):
        with st.lock:
            c = getattr(st, "_role_" + kind, None)
            if c is None or c[3] - st.now() < 900 or c[0] not in st.creds:
                arn = "arn:aws:sts::%s:assumed-role/acm-agent-role/%s" % (ACCOUNT, kind)
                c = st.add_session(arn, "AROAEMULATORROLE:" + kind, 6 * 3600)
                setattr(st, "_role_" + kind, c)
            return c

    def ecs(self):
        st = self.server.state
        want = st.settings.get("ecs_authorization_token")
        if want and self.headers.get("Authorization") != want:
            return self.send(401, json.dumps({"code": "Unauthorized", "message": "bad Authorization"}), "application/json")
        c = self.role_creds(st, "ecs")
        self.send(200, json.dumps({"AccessKeyId": c[0], "SecretAccessKey": c[1], "Token": c[2], "Expiration": iso(c[3]),
                                   "RoleArn": "arn:aws:iam::%s:role/acm-agent-role" % ACCOUNT}), "application/json")

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except ConnectionResetError:
            self.close_connection = True


# ---------------------------------------------------------------- ACM
ACM_PREFIX = "arn:aws:acm:%s:%s:certificate/" % (REGION, ACCOUNT)
ACM_VALIDITY = 395 * 86400
YEAR = 365 * 86400
# Key algorithms of a RequestCertificate, public or private (RequestCertificate
# KeyAlgorithm docs: "Other listed algorithms are for imported certificates only").
REQUEST_KEY_ALGS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")
IMPORT_KEY_ALGS = ("RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1")
# Reasons the ACM user guide allows when revoking a public certificate.
PUBLIC_REVOCATION_REASONS = ("UNSPECIFIED", "AFFILIATION_CHANGED", "SUPERSEDED", "SUPERCEDED", "CESSATION_OF_OPERATION")
EMAIL_LOCALS = ("admin", "administrator", "hostmaster", "postmaster", "webmaster")
KU_NAMES = (("digital_signature", "DIGITAL_SIGNATURE"), ("content_commitment", "NON_REPUDIATION"),
            ("key_encipherment", "KEY_ENCIPHERMENT"), ("data_encipherment", "DATA_ENCIPHERMENT"),
            ("key_agreement", "KEY_AGREEMENT"), ("key_cert_sign", "CERTIFICATE_SIGNING"), ("crl_sign", "CRL_SIGNING"))
EKU_NAMES = {"1.3.6.1.5.5.7.3.1": "TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.2": "TLS_WEB_CLIENT_AUTHENTICATION",
             "1.3.6.1.5.5.7.3.3": "CODE_SIGNING", "1.3.6.1.5.5.7.3.4": "EMAIL_PROTECTION",
             "1.3.6.1.5.5.7.3.8": "TIME_STAMPING", "1.3.6.1.5.5.7.3.9": "OCSP_SIGNING",
             "1.3.6.1.5.5.7.3.5": "IPSEC_END_SYSTEM", "1.3.6.1.5.5.7.3.6": "IPSEC_TUNNEL",
             "1.3.6.1.5.5.7.3.7": "IPSEC_USER", "2.5.29.37.0": "ANY"}
DN_MEMBERS = {NameOID.COMMON_NAME: "CommonName", NameOID.COUNTRY_NAME: "Country",
              NameOID.ORGANIZATION_NAME: "Organization", NameOID.ORGANIZATIONAL_UNIT_NAME: "OrganizationalUnit",
              NameOID.STATE_OR_PROVINCE_NAME: "State", NameOID.LOCALITY_NAME: "Locality",
              NameOID.SERIAL_NUMBER: "SerialNumber", NameOID.TITLE: "Title", NameOID.SURNAME: "Surname",
              NameOID.GIVEN_NAME: "GivenName", NameOID.PSEUDONYM: "Pseudonym",
              NameOID.DN_QUALIFIER: "DistinguishedNameQualifier", NameOID.GENERATION_QUALIFIER: "GenerationQualifier",
              x509.ObjectIdentifier("2.5.4.43"): "Initials"}
_amazon = {}


def amazon_ca(state, kind):
    """Stand-ins for Amazon's public issuing CAs, created on first use."""
    with state.lock:
        if kind not in _amazon:
            root = CA("amazon-root-" + kind, kind, "Emulated Amazon Root CA (%s)" % kind, None, state.now() - 86400)
            _amazon[kind] = CA("amazon-" + kind, kind, "Emulated Amazon %s M01" % kind, root, state.now() - 86400)
        return _amazon[kind]


def gen_key(alg):
    if alg.startswith("RSA_"):
        return rsa.generate_private_key(65537, int(alg[4:]))
    return ec.generate_private_key({"EC_prime256v1": ec.SECP256R1(), "EC_secp384r1": ec.SECP384R1(),
                                    "EC_secp521r1": ec.SECP521R1()}[alg])


def acm_key(state, alg):
    """The key pair of a new ACM certificate: a fresh one, or with setting
    acm_key_pool N > 0 one of N per algorithm made on first use and then
    shared round-robin (an RSA-2048 key costs ~0.25 s of CPU here: for
    benchmarks only, certificates then share private keys)."""
    n = int(state.settings["acm_key_pool"])
    if n > 0:
        with state.lock:
            pool = state.key_pool.setdefault(alg, [])
            if len(pool) >= n:
                state.key_pool_next[alg] = i = (state.key_pool_next.get(alg, -1) + 1) % n
                return pool[i]
    key = gen_key(alg)
    if n > 0:
        with state.lock:
            if len(state.key_pool[alg]) < n:
                state.key_pool[alg].append(key)
    return key


def key_alg(pub):
    if isinstance(pub, rsa.RSAPublicKey):
        return "RSA_%d" % pub.key_size
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return {"secp256r1": "EC_prime256v1", "secp384r1": "EC_secp384r1", "secp521r1": "EC_secp521r1"}.get(pub.curve.name)
    return None


def dn_struct(name):
    """An x509.Name as the 2026 model's DistinguishedName structure."""
    out, custom, dcs = {}, [], []
    for a in name:
        if a.oid == NameOID.DOMAIN_COMPONENT:
            dcs.append(a.value)
        elif a.oid in DN_MEMBERS:
            out[DN_MEMBERS[a.oid]] = a.value
        else:
            custom.append({"ObjectIdentifier": a.oid.dotted_string, "Value": str(a.value)})
    if dcs:
        out["DomainComponents"] = dcs
    if custom:
        out["CustomAttributes"] = custom
    return out


def cert_facts(cert):
    """What ACM reports about a certificate body."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        kus = [n for attr, n in KU_NAMES if getattr(ku, attr)]
        if ku.key_agreement:
            kus += [n for attr, n in (("encipher_only", "ENCIPHER_ONLY"), ("decipher_only", "DECIPHER_ONLY")) if getattr(ku, attr)]
    except x509.ExtensionNotFound:
        kus = None
    try:
        ekus = [(EKU_NAMES.get(o.dotted_string, "CUSTOM"), o.dotted_string)
                for o in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    except x509.ExtensionNotFound:
        ekus = None
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        sans = []
    oid_name = getattr(cert.signature_algorithm_oid, "_name", "")
    h = cert.signature_hash_algorithm
    sig = "%sWITH%s" % (h.name.upper() if h else "NONE", "ECDSA" if "ecdsa" in oid_name.lower() else "RSA")
    return {"key_usages": kus, "ext_key_usages": ekus, "sans": sans, "subject": cert.subject, "issuer": cert.issuer,
            "serial": colon_hex(cert.serial_number),
            "not_before": cert.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp(),
            "not_after": cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp(),
            "signature_algorithm": sig}


def acm_issue(state, c):
    """Issues (or re-issues, on renewal) the certificate behind ACM record c.
    The key was made when the certificate was requested."""
    now = state.now()
    if c["Type"] == "PRIVATE":
        ca = state.cas[c["CertificateAuthorityArn"]]
    else:
        ca = amazon_ca(state, "RSA" if c["KeyAlgorithm"].startswith("RSA") else "EC")
    names = c["SubjectAlternativeNames"]
    rsa_key = c["KeyAlgorithm"].startswith("RSA")
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, c["DomainName"])]))
         .issuer_name(ca.name).public_key(c["key"].public_key()).serial_number(new_serial())
         .not_valid_before(utc(now - 3600)).not_valid_after(utc(now + ACM_VALIDITY))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
         .add_extension(x509.KeyUsage(True, False, rsa_key, False, False, False, False, False, False), True)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False)
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
         .add_extension(ca.ski, False))
    cert = b.sign(ca.key, hashes.SHA256())
    f = cert_facts(cert)
    c.update({"cert_pem": pem(cert), "chain_pem": "".join(ca.chain_pems()), "x509": f, "Serial": f["serial"],
              "NotBefore": f["not_before"], "NotAfter": f["not_after"], "IssuedAt": now, "Status": "ISSUED",
              "Issuer": "Amazon" if c["Type"] != "PRIVATE" else ca.name.rfc4514_string(),
              "SignatureAlgorithm": f["signature_algorithm"]})


def dns_query_cname(server, name):
    """Asks server ("host[:port]") for name's CNAME; returns the target or None."""
    host, _, port = server.partition(":")
    qid = secrets.randbelow(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 5, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(q, (host, int(port or 53)))
        r, _ = s.recvfrom(4096)
    except OSError:
        return None
    finally:
        s.close()

    def rname(off):
        labels, jumped, end = [], False, None
        while True:
            ln = r[off]
            if ln == 0:
                off += 1
                break
            if ln & 0xC0 == 0xC0:
                if not jumped:
                    end = off + 2
                off, jumped = ((ln & 0x3F) << 8) | r[off + 1], True
                continue
            labels.append(r[off + 1:off + 1 + ln].decode("ascii", "replace"))
            off += 1 + ln
        return ".".join(labels) + ".", (end if jumped else off)
    try:
        rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
        if rid != qid or flags & 0xF:
            return None
        off = 12
        for _ in range(qd):
            _, off = rname(off)
            off += 4
        for _ in range(an):
            _, off = rname(off)
            typ, _, _, rdlen = struct.unpack(">HHIH", r[off:off + 10])
            off += 10
            if typ == 5:
                return rname(off)[0]
            off += rdlen
    except (IndexError, struct.error):
        return None
    return None


def _norm(s):
    return s.lower().rstrip(".") + "."


def cname_exists(state, name, value):
    """Whether the validator sees name CNAME value: control /dns, a Route 53
    zone (once its change is INSYNC), or the dns_server setting."""
    n, v = _norm(name), _norm(value)
    now = state.now()
    with state.lock:
        if _norm(state.dns_records.get(n, "")) == v:
            return True
        for z in state.zones.values():
            rr = z["records"].get((n, "CNAME"))
            if rr and rr.get("ResourceRecords") and _norm(rr["ResourceRecords"][0]["Value"]) == v \
                    and now >= z["visible"].get((n, "CNAME"), 0):
                return True
    srv = state.settings.get("dns_server")
    if srv:
        got = dns_query_cname(srv, name)
        return got is not None and _norm(got) == v
    return False


def validation_record(base):
    """The CNAME ACM asks for: one per domain name and account (apex and
    wildcard share it; a new request for the same name gets the same one)."""
    h = hashlib.sha256(("%s/%s" % (ACCOUNT, base.lower())).encode()).hexdigest()
    h2 = hashlib.sha256((h + "/value").encode()).hexdigest()
    label = "".join(chr(97 + int(h2[32 + 2 * i:34 + 2 * i], 16) % 26) for i in range(10))
    return "_%s.%s." % (h[:32], base.lower()), "_%s.%s.acm-validations.aws." % (h2[:32], label)


def _base(d):
    return d[2:] if d.startswith("*.") else d


def dns_all_visible(state, c, now, statuses=None):
    """Checks the CNAMEs of a DNS certificate (each distinct one once);
    records per-domain SUCCESS in statuses.  True when all are visible."""
    if now < c["records_at"]:
        return False
    seen, ok = {}, True
    for d, (n, v) in c["records"].items():
        if statuses is not None and statuses.get(d) == "SUCCESS":
            continue
        if n not in seen:
            seen[n] = cname_exists(state, n, v)
        if seen[n]:
            if statuses is not None:
                statuses[d] = "SUCCESS"
        else:
            ok = False
    return ok


def renewal_validated(state, c, r, now):
    if c["Type"] == "PRIVATE":
        return True
    if c["ValidationMethod"] == "EMAIL":
        return set(c["SubjectAlternativeNames"]) <= r["approved"]
    return dns_all_visible(state, c, now)


def acm_fail(c, reason):
    c["Status"], c["FailureReason"] = "FAILED", reason
    for d in c["SubjectAlternativeNames"]:
        if c["dv_status"].get(d) != "SUCCESS":
            c["dv_status"][d] = "FAILED"


def acm_refresh(state, c):
    """Advances the asynchronous state of an ACM record to 'now' (caller
    holds state.lock)."""
    now = state.now()
    s = state.settings
    if c["Status"] == "PENDING_VALIDATION":
        if c["validated_at"] is None:
            if now >= c["CreatedAt"] + float(s["validation_timeout_seconds"]):
                c["Status"] = "VALIDATION_TIMED_OUT"
                for d in c["SubjectAlternativeNames"]:
                    if c["dv_status"].get(d) != "SUCCESS":
                        c["dv_status"][d] = "FAILED"
                return
            if c["ValidationMethod"] == "DNS":
                done = dns_all_visible(state, c, now, c["dv_status"])
            else:
                done = all(c["dv_status"].get(d) == "SUCCESS" for d in c["SubjectAlternativeNames"])
            if done:
                c["validated_at"] = now
        if c["validated_at"] is not None and now >= c["validated_at"] + float(s["acm_validation_delay_seconds"]):
            reason = next((state.fail_rules[d.lower()] for d in c["SubjectAlternativeNames"]
                           if d.lower() in state.fail_rules), None)
            if reason:
                acm_fail(c, reason)
            else:
                acm_issue(state, c)
    if c["Status"] == "ISSUED" and now >= c["NotAfter"]:
        c["Status"] = "EXPIRED"
    r = c.get("renewal")
    if not r or c["Status"] != "ISSUED":
        return
    if r["status"] == "PENDING_AUTO_RENEWAL" and now >= r["due"]:
        outcome = r["outcome"]
        if outcome == "AUTO":
            outcome = "SUCCESS" if renewal_validated(state, c, r, now) else "PENDING_VALIDATION"
        r["status"], r["updated"] = outcome, now
        if outcome == "SUCCESS":
            acm_issue(state, c)
        elif outcome == "FAILED":
            r["reason"] = r.get("reason") or "CAA_ERROR"
    if r["status"] == "PENDING_VALIDATION" and renewal_validated(state, c, r, now):
        r["status"], r["updated"] = "SUCCESS", now
        acm_issue(state, c)


def acm_get(state, arn):
    with state.lock:
        c = state.acm.get(arn)
        if c is None:
            raise AwsError("ResourceNotFoundException", "Could not find certificate %s." % arn)
        acm_refresh(state, c)
        return c


def renewal_eligibility(state, c):
    """ACM user guide, managed renewal: issued, not expired, not imported,
    and in use or exported since it was issued or last renewed."""
    ok = (c["Type"] != "IMPORTED" and c["Status"] == "ISSUED" and state.now() < c["NotAfter"]
          and (bool(c["in_use_by"]) or c["exported_serial"] == c.get("Serial")))
    return "ELIGIBLE" if ok else "INELIGIBLE"


def export_option(c):
    if c["Type"] == "PRIVATE":
        return "ENABLED"
    if c["Type"] == "IMPORTED":
        return "DISABLED"
    return c["export"]


def index_names(state, c, add=True):
    for n in set(x.lower() for x in c["SubjectAlternativeNames"] + [c["DomainName"]]):
        s = state.acm_by_name.setdefault(n, set())
        if add:
            s.add(c["CertificateArn"])
        else:
            s.discard(c["CertificateArn"])
            if not s:
                del state.acm_by_name[n]


def limit_check(state, kind, now):
    """LimitExceededException beyond the account's certificates held or
    requested (imported) in the last 365 days (PCA-signed ones do not count)."""
    s = state.settings
    held_max, year_max = ((s["acm_certificate_limit"], s["acm_yearly_request_limit"]) if kind == "public"
                          else (s["acm_import_limit"], s["acm_yearly_import_limit"]))
    if state.acm_held[kind] >= held_max:
        raise AwsError("LimitExceededException", "Error: you have reached your limit of %d %scertificates in this account."
                       % (held_max, "imported " if kind == "imported" else ""))
    times = state.acm_year[kind]
    if len(times) - bisect.bisect_right(times, now - YEAR) >= year_max:
        raise AwsError("LimitExceededException", "Error: you have reached your limit of %d %scertificates in the last year."
                       % (year_max, "imported " if kind == "imported" else ""))


def count_new(state, kind, now):
    state.acm_held[kind] += 1
    bisect.insort(state.acm_year[kind], now)


def new_acm_record(arn, now, **kw):
    c = {"CertificateArn": arn, "CreatedAt": now, "Status": "PENDING_VALIDATION", "records": {}, "emails": {},
         "dv_status": {}, "validated_at": None, "records_at": now, "key": None, "exported": False,
         "exported_serial": None, "in_use_by": [], "renewal": None, "tags": {}, "export": "DISABLED",
         "ct": "ENABLED", "ManagedBy": None, "ValidationMethod": None, "CertificateAuthorityArn": None,
         "limit_kind": None}
    c.update(kw)
    return c


def acm_RequestCertificate(state, p, caller):
    now = state.now()
    tok = p.get("IdempotencyToken")
    fp = hashlib.sha256(json.dumps({k: v for k, v in p.items() if k != "IdempotencyToken"},
                                   sort_keys=True, default=str).encode()).hexdigest()
    if tok:
        with state.lock:
            hit = state.acm_idem.get(tok)
            if hit and hit[1] == fp and now - hit[2] < 3600:
                return {"CertificateArn": hit[0]}
    ca_arn = p.get("CertificateAuthorityArn")
    opts = p.get("Options", {})
    managed = p.get("ManagedBy")
    method = None if ca_arn else p.get("ValidationMethod", "EMAIL")
    if method == "HTTP" and managed != "CLOUDFRONT":
        raise AwsError("ValidationException", "HTTP validation is available only for certificates managed by "
                       "CloudFront (ManagedBy CLOUDFRONT).")
    if method == "HTTP":
        raise AwsError("ValidationException", "The emulator does not support HTTP validation (CloudFront only).")
    alg = p.get("KeyAlgorithm", "RSA_2048")
    if alg not in REQUEST_KEY_ALGS:
        raise AwsError("ValidationException", "KeyAlgorithm %s can only be imported; a request takes one of %s."
                       % (alg, ", ".join(REQUEST_KEY_ALGS)))
    if len(p["DomainName"]) > 64:
        raise AwsError("ValidationException", "The DomainName %s is longer than 64 characters, the limit for the "
                       "certificate's Common Name; request it in SubjectAlternativeNames with a shorter DomainName."
                       % p["DomainName"])
    names, seen = [], set()
    for n in [p["DomainName"]] + list(p.get("SubjectAlternativeNames") or []):
        if n.lower() not in seen:
            seen.add(n.lower())
            names.append(n)
    if len(names) > int(state.settings["acm_domain_names_limit"]):
        raise AwsError("LimitExceededException", "Error: the certificate request has %d domain names; the limit is %d "
                       "per certificate." % (len(names), int(state.settings["acm_domain_names_limit"])))
    vdomains = {d: _base(d) for d in names}
    for o in p.get("DomainValidationOptions") or []:
        d, vd = o["DomainName"], o["ValidationDomain"]
        if d.lower() not in seen:
            raise AwsError("InvalidDomainValidationOptionsException", "The DomainValidationOptions name %s is not one "
                           "of the certificate's domain names." % d)
        b = _base(d).lower()
        if not (b == vd.lower() or b.endswith("." + vd.lower())):
            raise AwsError("InvalidDomainValidationOptionsException", "The ValidationDomain %s must be %s or a "
                           "superdomain of it." % (vd, _base(d)))
        vdomains[next(n for n in names if n.lower() == d.lower())] = vd
    tags = p.get("Tags", [])
    check_tags(tags)
    key = acm_key(state, alg)   # outside the lock: an RSA key takes ~0.25 s
    with state.lock:
        if tok:
            hit = state.acm_idem.get(tok)
            if hit and hit[1] == fp and now - hit[2] < 3600:
                return {"CertificateArn": hit[0]}
        kind = None if ca_arn else "public"
        if kind:
            limit_check(state, kind, now)
        arn = ACM_PREFIX + str(uuid.uuid4())
        c = new_acm_record(arn, now, DomainName=p["DomainName"], SubjectAlternativeNames=names,
                           Type="PRIVATE" if ca_arn else "AMAZON_ISSUED", KeyAlgorithm=alg, ValidationMethod=method,
                           CertificateAuthorityArn=ca_arn, key=key, ManagedBy=managed, limit_kind=kind,
                           export=opts.get("Export", "DISABLED"),
                           # CT logging opt-out is no longer available (2026 model): accepted, public ones log.
                           ct="ENABLED" if not ca_arn else opts.get("CertificateTransparencyLoggingPreference", "ENABLED"),
                           tags={t["Key"]: t.get("Value") for t in tags},
                           records_at=now + float(state.settings["acm_record_delay_seconds"]))
        if method == "DNS":
            c["records"] = {d: validation_record(_base(d)) for d in names}
        elif method == "EMAIL":
            c["emails"] = {d: (vdomains[d], ["%s@%s" % (l, vdomains[d].lower()) for l in EMAIL_LOCALS]) for d in names}
        if ca_arn:
            ca = state.cas.get(ca_arn)
            if ca is None:
                acm_fail(c, "PCA_RESOURCE_NOT_FOUND")
            elif ca.status != "ACTIVE":
                acm_fail(c, "PCA_INVALID_STATE")
            elif ("RSA" if alg.startswith("RSA") else "ECDSA") != ca.family():
                # "the signing algorithm family must match the CA's key"
                acm_fail(c, "PCA_INVALID_ARGS")
            else:
                acm_issue(state, c)
        else:
            count_new(state, kind, now)
        state.acm[arn] = c
        index_names(state, c)
        if tok:
            state.acm_idem[tok] = (arn, fp, now)
    return {"CertificateArn": arn}


def check_tags(tags):
    if len(tags) > 50:
        raise AwsError("TooManyTagsException", "A certificate can have at most 50 tags.")
    for t in tags:
        if t["Key"].lower().startswith("aws:"):
            raise AwsError("InvalidTagException", "Tag keys beginning with 'aws:' are reserved.")


def dvo_list(state, c, statuses, with_records=True):
    now = state.now()
    out = []
    for d in c["SubjectAlternativeNames"]:
        o = {"DomainName": d, "ValidationDomain": d, "ValidationMethod": c["ValidationMethod"],
             "ValidationStatus": statuses.get(d, "PENDING_VALIDATION")}
        if c["ValidationMethod"] == "DNS" and with_records and now >= c["records_at"]:
            n, v = c["records"][d]
            o["ResourceRecord"] = {"Name": n, "Type": "CNAME", "Value": v}
        elif c["ValidationMethod"] == "EMAIL":
            o["ValidationDomain"], o["ValidationEmails"] = c["emails"][d]
        out.append(o)
    return out


def acm_detail(state, c):
    d = {k: c[k] for k in ("CertificateArn", "DomainName", "SubjectAlternativeNames", "Status", "Type",
                           "KeyAlgorithm", "CreatedAt") if c.get(k) is not None}
    for k in ("Serial", "NotBefore", "NotAfter", "ImportedAt", "Issuer", "SignatureAlgorithm",
              "CertificateAuthorityArn", "ManagedBy", "FailureReason", "RevokedAt", "RevocationReason"):
        if c.get(k) is not None:
            d[k] = c[k]
    if c["Type"] != "IMPORTED" and c.get("IssuedAt") is not None:
        d["IssuedAt"] = c["IssuedAt"]
    f = c.get("x509")
    if f:
        d["Subject"] = f["subject"].rfc4514_string()
        if f["key_usages"] is not None:
            d["KeyUsages"] = [{"Name": n} for n in f["key_usages"]]
        if f["ext_key_usages"] is not None:
            d["ExtendedKeyUsages"] = [{"Name": n, "OID": o} for n, o in f["ext_key_usages"]]
    if c["Type"] == "AMAZON_ISSUED":
        st = dict(c["dv_status"])
        if c["Status"] in ("ISSUED", "EXPIRED", "REVOKED", "INACTIVE"):
            st = {x: "SUCCESS" for x in c["SubjectAlternativeNames"]}
        d["DomainValidationOptions"] = dvo_list(state, c, st)
    d["Options"] = {"CertificateTransparencyLoggingPreference": c["ct"], "Export": export_option(c)}
    d["RenewalEligibility"] = renewal_eligibility(state, c)
    r = c.get("renewal")
    if r:
        if c["Type"] == "AMAZON_ISSUED":
            if r["status"] == "SUCCESS":
                st = {x: "SUCCESS" for x in c["SubjectAlternativeNames"]}
            elif c["ValidationMethod"] == "EMAIL":
                st = {x: "SUCCESS" for x in r["approved"]}
            else:
                st = {}
                dns_all_visible(state, c, state.now(), st)
            dvos = dvo_list(state, c, st)
        else:
            dvos = [{"DomainName": x, "ValidationDomain": x, "ValidationStatus": "SUCCESS"}
                    for x in c["SubjectAlternativeNames"]]
        rs = {"RenewalStatus": r["status"], "UpdatedAt": r["updated"], "DomainValidationOptions": dvos}
        if r["status"] == "FAILED":
            rs["RenewalStatusReason"] = r["reason"]
        d["RenewalSummary"] = rs
    d["InUseBy"] = list(c["in_use_by"])
    d["CertificateKeyPairOrigin"] = "CUSTOMER_PROVIDED" if c["Type"] == "IMPORTED" else "AWS_MANAGED"
    return d


def acm_DescribeCertificate(state, p, caller):
    with state.lock:
        return {"Certificate": acm_detail(state, acm_get(state, p["CertificateArn"]))}


def acm_GetCertificate(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        if c["Status"] == "PENDING_VALIDATION":
            raise AwsError("RequestInProgressException", "Certificate %s is not yet issued (status %s)." % (c["CertificateArn"], c["Status"]))
        if not c.get("cert_pem"):
            raise AwsError("ValidationException", "Certificate %s has no certificate (status %s)." % (c["CertificateArn"], c["Status"]))
        out = {"Certificate": c["cert_pem"]}
        if c.get("chain_pem"):
            out["CertificateChain"] = c["chain_pem"]
        return out


def acm_ExportCertificate(state, p, caller):
    pw = p["Passphrase"]
    if any(b > 0x7F or b in b"#$%" for b in pw):
        raise AwsError("ValidationException", "The passphrase contains a character that is not allowed: you can use "
                       "any ASCII character except #, $, or %.")
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        arn = c["CertificateArn"]
        if c["Type"] == "IMPORTED":
            raise AwsError("ValidationException", "Certificate ARN: %s is an imported certificate; only private "
                           "certificates and public certificates requested with Export ENABLED can be exported." % arn)
        if c["Type"] == "AMAZON_ISSUED" and c["export"] != "ENABLED":
            raise AwsError("ValidationException", "Certificate ARN: %s is a public certificate requested without "
                           "Options.Export ENABLED; it cannot be exported." % arn)
        if c["Status"] == "PENDING_VALIDATION":
            raise AwsError("RequestInProgressException", "Certificate %s is not yet issued." % arn)
        if c["Status"] != "ISSUED":
            raise AwsError("ValidationException", "Certificate %s cannot be exported: its status is %s." % (arn, c["Status"]))
        c["exported"] = True
        c["exported_serial"] = c["Serial"]
        key, cert, chain = c["key"], c["cert_pem"], c["chain_pem"]
    enc = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(pw))
    return {"Certificate": cert, "CertificateChain": chain, "PrivateKey": enc.decode()}


def load_pems(raw):
    """All certificates in a PEM bundle (cryptography 38 has no
    load_pem_x509_certificates)."""
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", raw, re.S)
    if not blocks:
        raise ValueError("no PEM certificate")
    return [x509.load_pem_x509_certificate(b) for b in blocks]


def _ocsp_urls(cert):
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [a.access_location.value for a in aia if a.access_method == x509.oid.AuthorityInformationAccessOID.OCSP]


def acm_ImportCertificate(state, p, caller):
    now = state.now()
    try:
        certs = load_pems(p["Certificate"])
    except Exception:
        raise AwsError("ValidationException", "The certificate field contains no PEM-encoded certificate.")
    if len(certs) != 1:
        raise AwsError("ValidationException", "The certificate field contains more than one certificate. You can specify only one certificate in this field.")
    cert = certs[0]
    if cert.version != x509.Version.v3:
        raise AwsError("ValidationException", "The certificate is not an X.509 version 3 certificate.")
    if b"ENCRYPTED" in p["PrivateKey"]:
        raise AwsError("ValidationException", "The private key is encrypted; it must be imported unencrypted.")
    try:
        key = serialization.load_pem_private_key(p["PrivateKey"], None)
    except Exception:
        raise AwsError("ValidationException", "The private key is not supported or not PEM-encoded.")
    alg = key_alg(cert.public_key())
    if alg not in IMPORT_KEY_ALGS:
        raise AwsError("ValidationException", "The certificate's key algorithm is not supported; ACM imports %s."
                       % ", ".join(IMPORT_KEY_ALGS))
    if key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
            cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise AwsError("ValidationException", "The private key does not match the public key in the certificate.")
    f = cert_facts(cert)
    if not f["not_before"] <= now <= f["not_after"]:
        raise AwsError("ValidationException", "The certificate is not valid at the current date (%s); it is valid from %s to %s."
                       % (iso(now), iso(f["not_before"]), iso(f["not_after"])))
    if len(cert.issuer) == 0:
        raise AwsError("ValidationException", "The certificate's Issuer field is empty.")
    if any(len(u) > 1000 for u in _ocsp_urls(cert)):
        raise AwsError("ValidationException", "The certificate's OCSP authority URL is longer than 1000 characters.")
    chain = ""
    if "CertificateChain" in p:
        try:
            load_pems(p["CertificateChain"])
        except Exception:
            raise AwsError("ValidationException", "The certificate chain is not PEM-encoded.")
        chain = p["CertificateChain"].decode()
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    domain = cns[0].value if cns else (f["sans"][0] if f["sans"] else "")
    names = f["sans"] or ([domain] if domain else [])
    tags = p.get("Tags", [])
    check_tags(tags)
    with state.lock:
        arn = p.get("CertificateArn")
        if arn:
            old = state.acm.get(arn)
            if old is None:
                raise AwsError("ResourceNotFoundException", "Could not find certificate %s." % arn)
            if old["Type"] != "IMPORTED":
                raise AwsError("ValidationException", "Certificate %s was not imported and cannot be reimported." % arn)
            if tags:
                raise AwsError("InvalidParameterException", "Tags cannot be applied while reimporting a certificate.")
            reimport_check(old, alg, f, names)
            c = old
            index_names(state, c, add=False)
        else:
            limit_check(state, "imported", now)
            arn = ACM_PREFIX + str(uuid.uuid4())
            c = new_acm_record(arn, now, Type="IMPORTED", limit_kind="imported",
                               tags={t["Key"]: t.get("Value") for t in tags})
            count_new(state, "imported", now)
            state.acm[arn] = c
        c.update({"DomainName": domain, "SubjectAlternativeNames": names, "Status": "ISSUED",
                  "KeyAlgorithm": alg, "ImportedAt": now, "key": key, "cert_pem": pem(cert), "chain_pem": chain,
                  "x509": f, "Serial": f["serial"], "NotBefore": f["not_before"], "NotAfter": f["not_after"],
                  "Issuer": cert.issuer.rfc4514_string(), "SignatureAlgorithm": f["signature_algorithm"]})
        index_names(state, c)
    return {"CertificateArn": arn}


def reimport_check(old, alg, f, names):
    """The ACM user guide's conditions for reimporting to the same ARN."""
    arn = old["CertificateArn"]
    if alg != old["KeyAlgorithm"]:
        raise AwsError("ValidationException", "Certificate %s: the key type and size cannot be changed on reimport (%s to %s)."
                       % (arn, old["KeyAlgorithm"], alg))
    if not names:
        raise AwsError("ValidationException", "Certificate %s: a reimported certificate must keep at least one domain name." % arn)
    of = old["x509"]
    for what, prev, new, may_drop in (("Key Usage", of["key_usages"], f["key_usages"],
                                       {"KEY_ENCIPHERMENT"} if alg.startswith("EC") else set()),
                                      ("Extended Key Usage", [n for n, _ in of["ext_key_usages"] or []] if of["ext_key_usages"] is not None else None,
                                       [n for n, _ in f["ext_key_usages"] or []] if f["ext_key_usages"] is not None else None,
                                       {"TLS_WEB_CLIENT_AUTHENTICATION"})):
        if prev is None and new is not None:
            raise AwsError("ValidationException", "Certificate %s: the %s extension cannot be added on reimport." % (arn, what))
        if prev is not None:
            lost = set(prev) - set(new or []) - may_drop
            if lost:
                raise AwsError("ValidationException", "Certificate %s: %s values cannot be removed on reimport (%s)."
                               % (arn, what, ", ".join(sorted(lost))))


def acm_RenewCertificate(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        arn = c["CertificateArn"]
        r = c.get("renewal")
        if r and r["status"] in ("PENDING_AUTO_RENEWAL", "PENDING_VALIDATION"):
            raise AwsError("RequestInProgressException", "A renewal of certificate %s is already in progress (%s)." % (arn, r["status"]))
        if c["Type"] == "IMPORTED" or (c["Type"] == "AMAZON_ISSUED" and c["export"] != "ENABLED"):
            raise AwsError("ValidationException", "Certificate %s is not eligible for renewal: only private certificates "
                           "and exportable public certificates can be renewed on request." % arn)
        if renewal_eligibility(state, c) != "ELIGIBLE":
            raise AwsError("ValidationException", "Certificate %s is not eligible for renewal (status %s; a certificate "
                           "must be exported or in use since it was issued or last renewed)." % (arn, c["Status"]))
        now = state.now()
        c["renewal"] = {"status": "PENDING_AUTO_RENEWAL", "updated": now, "outcome": "AUTO", "reason": None,
                        "due": now + float(state.settings["acm_renew_in_progress_seconds"]), "approved": set()}
        acm_refresh(state, c)
    return {}


def acm_RevokeCertificate(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        arn, reason = c["CertificateArn"], p["RevocationReason"]
        if c["Type"] == "IMPORTED":
            raise AwsError("ValidationException", "Certificate %s is imported; only ACM-issued certificates can be revoked." % arn)
        if c["Type"] == "AMAZON_ISSUED" and c["export"] != "ENABLED":
            raise AwsError("ValidationException", "Certificate %s is a non-exportable public certificate and cannot be "
                           "revoked; delete it instead." % arn)
        if c["Status"] == "REVOKED":
            raise AwsError("ValidationException", "Certificate %s is already revoked; revocation is permanent." % arn)
        if c["Status"] != "ISSUED":
            raise AwsError("ValidationException", "Certificate %s cannot be revoked: its status is %s." % (arn, c["Status"]))
        if not c["exported"]:
            raise AwsError("ValidationException", "Certificate %s was never exported; you can only revoke certificates "
                           "that were previously exported." % arn)
        if c["Type"] == "AMAZON_ISSUED" and reason not in PUBLIC_REVOCATION_REASONS:
            raise AwsError("ValidationException", "RevocationReason %s is not allowed for a public certificate; use "
                           "UNSPECIFIED, AFFILIATION_CHANGED, SUPERSEDED or CESSATION_OF_OPERATION." % reason)
        if c["in_use_by"]:
            raise AwsError("ResourceInUseException", "Certificate %s is in use by %s." % (arn, ", ".join(c["in_use_by"])))
        acm_revoke(state, c, reason)
    return {"CertificateArn": arn}


def acm_revoke(state, c, reason):
    c.update({"Status": "REVOKED", "RevokedAt": state.now(), "RevocationReason": reason})


def summary(state, c):
    s = {"CertificateArn": c["CertificateArn"], "DomainName": c["DomainName"],
         "SubjectAlternativeNameSummaries": c["SubjectAlternativeNames"][:100],
         "HasAdditionalSubjectAlternativeNames": len(c["SubjectAlternativeNames"]) > 100, "Status": c["Status"],
         "Type": c["Type"], "KeyAlgorithm": c["KeyAlgorithm"].replace("_", "-"), "ExportOption": export_option(c),
         "InUse": bool(c["in_use_by"]), "Exported": c["exported"], "RenewalEligibility": renewal_eligibility(state, c),
         "CreatedAt": c["CreatedAt"],
         "CertificateKeyPairOrigin": "CUSTOMER_PROVIDED" if c["Type"] == "IMPORTED" else "AWS_MANAGED"}
    f = c.get("x509")
    if f:
        if f["key_usages"] is not None:
            s["KeyUsages"] = list(f["key_usages"])
        if f["ext_key_usages"] is not None:
            s["ExtendedKeyUsages"] = [n for n, _ in f["ext_key_usages"]]
    for k in ("NotBefore", "NotAfter", "ImportedAt", "RevokedAt", "ManagedBy"):
        if c.get(k) is not None:
            s[k] = c[k]
    if c["Type"] != "IMPORTED" and c.get("IssuedAt") is not None:
        s["IssuedAt"] = c["IssuedAt"]
    return s


def _usages(c):
    f = c.get("x509") or {}
    return (set(f.get("key_usages") or []), set(n for n, _ in f.get("ext_key_usages") or []),
            f.get("ext_key_usages") is None)


def _page(items, p, size_key, default, token_of):
    """Offset pagination with an opaque token bound to the query."""
    start = 0
    if p.get("NextToken"):
        try:
            tok = json.loads(base64.b64decode(p["NextToken"], validate=True))
            start = int(tok["o"])
            if tok["q"] != token_of or start < 0:
                raise ValueError
        except Exception:
            raise AwsError("InvalidArgsException" if size_key == "MaxItems" else "ValidationException",
                           "The NextToken is not valid for this request.")
    n = p.get(size_key, default)
    nxt = None
    if start + n < len(items):
        nxt = base64.b64encode(json.dumps({"o": start + n, "q": token_of}).encode()).decode()
    return items[start:start + n], nxt


def acm_ListCertificates(state, p, caller):
    statuses = p.get("CertificateStatuses")
    inc = p.get("Includes", {})
    key_types = set(inc.get("keyTypes", ["RSA_1024", "RSA_2048"]))
    origins = set(p.get("CertificateKeyPairOrigins", ["AWS_MANAGED", "CUSTOMER_PROVIDED"]))
    if ("SortBy" in p) != ("SortOrder" in p):
        raise AwsError("ValidationException", "SortBy and SortOrder must be specified together.")
    with state.lock:
        items = []
        for c in state.acm.values():
            acm_refresh(state, c)
            if statuses and c["Status"] not in statuses:
                continue
            if c["KeyAlgorithm"] not in key_types:
                continue
            if ("CUSTOMER_PROVIDED" if c["Type"] == "IMPORTED" else "AWS_MANAGED") not in origins:
                continue
            if "exportOption" in inc and export_option(c) != inc["exportOption"]:
                continue
            if "managedBy" in inc and c.get("ManagedBy") != inc["managedBy"]:
                continue
            kus, ekus, no_eku = _usages(c)
            if any(not (u == "ANY" and kus or u in kus) for u in inc.get("keyUsage", [])):
                continue
            if any(not (u == "ANY" and ekus or u == "NONE" and no_eku or u in ekus) for u in inc.get("extendedKeyUsage", [])):
                continue
            items.append(summary(state, c))
    if "SortBy" in p:
        items.sort(key=lambda s: (s["CreatedAt"], s["CertificateArn"]), reverse=p["SortOrder"] == "DESCENDING")
    q = hashlib.sha256(json.dumps({k: v for k, v in p.items() if k not in ("NextToken", "MaxItems")},
                                  sort_keys=True, default=str).encode()).hexdigest()[:16]
    page, nxt = _page(items, p, "MaxItems", 1000, q)
    out = {"CertificateSummaryList": page}
    if nxt:
        out["NextToken"] = nxt
    return out


# -- SearchCertificates (2026): filter statements over X.509 attributes and ACM metadata
SEARCH_SORT = {"CREATED_AT": "CreatedAt", "NOT_AFTER": "NotAfter", "STATUS": "Status", "RENEWAL_STATUS": "RenewalStatus",
               "EXPORTED": "Exported", "IN_USE": "InUse", "NOT_BEFORE": "NotBefore", "KEY_ALGORITHM": "KeyAlgorithm",
               "TYPE": "Type", "CERTIFICATE_ARN": "CertificateArn", "COMMON_NAME": "CommonName",
               "REVOKED_AT": "RevokedAt", "RENEWAL_ELIGIBILITY": "RenewalEligibility", "ISSUED_AT": "IssuedAt",
               "MANAGED_BY": "ManagedBy", "EXPORT_OPTION": "ExportOption", "VALIDATION_METHOD": "ValidationMethod",
               "IMPORTED_AT": "ImportedAt", "ACME_ENDPOINT_ARN": "AcmeEndpointArn", "ACME_ACCOUNT_ID": "AcmeAccountId",
               "CERTIFICATE_KEY_PAIR_ORIGIN": "CertificateKeyPairOrigin"}


def search_view(state, c):
    """The X509Attributes and AcmCertificateMetadata of a certificate.  A
    certificate not issued yet has no body: its requested names stand in
    for Subject CommonName and SubjectAlternativeNames."""
    f = c.get("x509")
    xa = {"KeyAlgorithm": c["KeyAlgorithm"]}
    if f:
        xa.update({"Issuer": dn_struct(f["issuer"]), "Subject": dn_struct(f["subject"]),
                   "SubjectAlternativeNames": [{"DnsName": n} for n in f["sans"]],
                   "SerialNumber": f["serial"], "NotBefore": f["not_before"], "NotAfter": f["not_after"]})
        if f["key_usages"] is not None:
            xa["KeyUsages"] = list(f["key_usages"])
        if f["ext_key_usages"] is not None:
            xa["ExtendedKeyUsages"] = [n for n, _ in f["ext_key_usages"]]
    else:
        xa.update({"Subject": {"CommonName": c["DomainName"]},
                   "SubjectAlternativeNames": [{"DnsName": n} for n in c["SubjectAlternativeNames"]]})
    md = {"CreatedAt": c["CreatedAt"], "Exported": c["exported"], "InUse": bool(c["in_use_by"]),
          "RenewalEligibility": renewal_eligibility(state, c), "Status": c["Status"], "Type": c["Type"],
          "ExportOption": export_option(c),
          "CertificateKeyPairOrigin": "CUSTOMER_PROVIDED" if c["Type"] == "IMPORTED" else "AWS_MANAGED"}
    for k in ("ImportedAt", "RevokedAt", "ManagedBy", "ValidationMethod"):
        if c.get(k) is not None:
            md[k] = c[k]
    if c["Type"] != "IMPORTED" and c.get("IssuedAt") is not None:
        md["IssuedAt"] = c["IssuedAt"]
    if c.get("renewal"):
        md["RenewalStatus"] = c["renewal"]["status"]
    return xa, md


def _cmp(op, want, have):
    if have is None:
        return False
    w, h = want.lower(), have.lower()
    return h == w if op == "EQUALS" else w in h


def _in_range(rng, t):
    return t is not None and ("Start" not in rng or t >= rng["Start"]) and ("End" not in rng or t <= rng["End"])


def search_match(fs, xa, md, arn):
    if "And" in fs:
        return all(search_match(x, xa, md, arn) for x in fs["And"])
    if "Or" in fs:
        return any(search_match(x, xa, md, arn) for x in fs["Or"])
    if "Not" in fs:
        return not search_match(fs["Not"], xa, md, arn)
    f = fs["Filter"]
    if "CertificateArn" in f:
        return f["CertificateArn"] == arn
    if "X509AttributeFilter" in f:
        x = f["X509AttributeFilter"]
        if "Subject" in x:
            cn = x["Subject"]["CommonName"]
            return _cmp(cn["ComparisonOperator"], cn["Value"], xa.get("Subject", {}).get("CommonName"))
        if "SubjectAlternativeName" in x:
            dn = x["SubjectAlternativeName"]["DnsName"]
            return any(_cmp(dn["ComparisonOperator"], dn["Value"], g.get("DnsName"))
                       for g in xa.get("SubjectAlternativeNames", []))
        if "ExtendedKeyUsage" in x:
            return x["ExtendedKeyUsage"] in xa.get("ExtendedKeyUsages", [])
        if "KeyUsage" in x:
            return x["KeyUsage"] in xa.get("KeyUsages", [])
        if "KeyAlgorithm" in x:
            return x["KeyAlgorithm"] == xa["KeyAlgorithm"]
        if "SerialNumber" in x:
            return x["SerialNumber"].lower() == (xa.get("SerialNumber") or "").lower()
        if "NotAfter" in x:
            return _in_range(x["NotAfter"], xa.get("NotAfter"))
        if "NotBefore" in x:
            return _in_range(x["NotBefore"], xa.get("NotBefore"))
        return False
    m = f["AcmCertificateMetadataFilter"]
    (k, v), = m.items()
    return md.get(k) == v


def search_candidates(state, fs):
    """A superset of the ARNs that can match (None: all), from the name
    index, so that an agent looking for its own names does not scan."""
    if "And" in fs:
        sets = [s for s in (search_candidates(state, x) for x in fs["And"]) if s is not None]
        return min(sets, key=len) if sets else None
    f = fs.get("Filter")
    if not f:
        return None
    if "CertificateArn" in f:
        return {f["CertificateArn"]}
    x = f.get("X509AttributeFilter", {})
    for cond in (x.get("SubjectAlternativeName", {}).get("DnsName"), x.get("Subject", {}).get("CommonName")):
        if cond and cond["ComparisonOperator"] == "EQUALS":
            return set(state.acm_by_name.get(cond["Value"].lower(), ()))
    return None


def acm_SearchCertificates(state, p, caller):
    fs = p.get("FilterStatement")
    sort_key = SEARCH_SORT[p.get("SortBy", "CREATED_AT")]
    with state.lock:
        cand = search_candidates(state, fs) if fs else None
        certs = state.acm.values() if cand is None else [state.acm[a] for a in cand if a in state.acm]
        rows = []
        for c in certs:
            acm_refresh(state, c)
            xa, md = search_view(state, c)
            if fs is None or search_match(fs, xa, md, c["CertificateArn"]):
                flat = dict(md, **{k: v for k, v in xa.items() if k in ("NotAfter", "NotBefore", "KeyAlgorithm")})
                flat["CommonName"] = xa.get("Subject", {}).get("CommonName")
                flat["CertificateArn"] = c["CertificateArn"]
                rows.append((flat.get(sort_key), c["CertificateArn"],
                             {"CertificateArn": c["CertificateArn"], "X509Attributes": xa,
                              "CertificateMetadata": {"AcmCertificateMetadata": md}}))
    # Certificates without the sort field (e.g. NotAfter before issuance) come last.
    rows = (sorted((r for r in rows if r[0] is not None), key=lambda r: (r[0], r[1]),
                   reverse=p.get("SortOrder") == "DESCENDING") + [r for r in rows if r[0] is None])
    q = hashlib.sha256(json.dumps({k: v for k, v in p.items() if k not in ("NextToken", "MaxResults")},
                                  sort_keys=True, default=str).encode()).hexdigest()[:16]
    page, nxt = _page([r[2] for r in rows], p, "MaxResults", 100, q)
    out = {"Results": page}
    if nxt:
        out["NextToken"] = nxt
    return out


def acm_AddTagsToCertificate(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        check_tags(p["Tags"])
        merged = dict(c["tags"])
        merged.update({t["Key"]: t.get("Value") for t in p["Tags"]})
        if len(merged) > 50:
            raise AwsError("TooManyTagsException", "A certificate can have at most 50 tags.")
        c["tags"] = merged
    return {}


def acm_RemoveTagsFromCertificate(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        check_tags(p["Tags"])
        for t in p["Tags"]:
            if t["Key"] in c["tags"] and ("Value" not in t or c["tags"][t["Key"]] == t["Value"]):
                del c["tags"][t["Key"]]
    return {}


def acm_ListTagsForCertificate(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        return {"Tags": [dict({"Key": k}, **({"Value": v} if v is not None else {})) for k, v in c["tags"].items()]}


def acm_UpdateCertificateOptions(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        exp = p["Options"].get("Export")
        if exp is not None and exp != export_option(c):
            raise AwsError("ValidationException", "You cannot update the value of Export after the certificate is created.")
    return {}


def acm_ResendValidationEmail(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        if c["ValidationMethod"] != "EMAIL" or c["Status"] != "PENDING_VALIDATION":
            raise AwsError("InvalidStateException", "Certificate %s is not waiting for email validation." % c["CertificateArn"])
        if p["Domain"] not in c["emails"]:
            raise AwsError("InvalidDomainValidationOptionsException", "%s is not a domain name of the certificate." % p["Domain"])
    return {}


def acm_DeleteCertificate(state, p, caller):
    with state.lock:
        c = acm_get(state, p["CertificateArn"])
        if c["in_use_by"]:
            raise AwsError("ResourceInUseException", "Certificate %s is in use by %s. Remove the association and try again."
                           % (c["CertificateArn"], ", ".join(c["in_use_by"])))
        del state.acm[c["CertificateArn"]]
        index_names(state, c, add=False)
        if c["limit_kind"]:
            state.acm_held[c["limit_kind"]] -= 1
    return {}


# ---------------------------------------------------------------- Route 53
def _tag(e):
    return e.tag.rsplit("}", 1)[-1]


def xml_parse(model, shape_name, elem, skip=()):
    """Parses a REST-XML element by its botocore shape; unknown elements are
    refused like Route 53's schema validation does."""
    shape = model["shapes"][shape_name]
    t = shape["type"]
    if t == "structure":
        members = {m.get("locationName", n): (n, m) for n, m in shape["members"].items() if n not in skip}
        out = {}
        for child in elem:
            if _tag(child) not in members:
                raise AwsError("InvalidInput", "Invalid XML ; cvc-complex-type.2.4.a: Invalid content was found starting with element '%s'." % _tag(child))
            n, m = members[_tag(child)]
            out[n] = xml_parse(model, m["shape"], child)
        return out
    if t == "list":
        return [xml_parse(model, shape["member"]["shape"], c) for c in elem]
    text = (elem.text or "").strip()
    if t in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise AwsError("InvalidInput", "Invalid XML ; '%s' is not a valid value for '%s'." % (text, _tag(elem)))
    if t == "boolean":
        return text == "true"
    return text


def xml_shape(model, shape_name, value):
    shape = model["shapes"][shape_name]
    t = shape["type"]
    if t == "structure":
        out = []
        for n, m in shape["members"].items():
            if n in value and value[n] is not None:
                tag = m.get("locationName", n)
                out.append("<%s>%s</%s>" % (tag, xml_shape(model, m["shape"], value[n]), tag))
        return "".join(out)
    if t == "list":
        tag = shape["member"].get("locationName", "member")
        return "".join("<%s>%s</%s>" % (tag, xml_shape(model, shape["member"]["shape"], v), tag) for v in value)
    if t == "timestamp":
        return iso(value)
    if t == "boolean":
        return "true" if value else "false"
    return xml_escape(str(value))


def _fqdn(n):
    n = n.lower().rstrip(".") + "."
    return n.replace("\\052", "*")


def _rev(n):
    return list(reversed(n.rstrip(".").split(".")))


def r53_zone(state, zid):
    z = state.zones.get(zid.split("/")[-1])
    if z is None:
        raise AwsError("NoSuchHostedZone", "No hosted zone found with ID: %s" % zid, 404)
    return z


def r53_ListHostedZonesByName(state, p, caller):
    with state.lock:
        zones = sorted(state.zones.items(), key=lambda kv: (_rev(kv[1]["name"]), kv[0]))
        if "HostedZoneId" in p and "DNSName" not in p:
            raise AwsError("InvalidInput", "The DNS name must be specified when a hosted zone ID is specified.")
        if "DNSName" in p:
            start = (_rev(_fqdn(p["DNSName"])), p.get("HostedZoneId", ""))
            zones = [z for z in zones if (_rev(z[1]["name"]), z[0]) >= start]
        n = int(p.get("MaxItems", 100))
        out = {"HostedZones": [{"Id": "/hostedzone/" + zid, "Name": z["name"], "CallerReference": z["ref"],
                                "Config": {"PrivateZone": False}, "ResourceRecordSetCount": len(z["records"])}
                               for zid, z in zones[:n]],
               "IsTruncated": len(zones) > n, "MaxItems": str(n)}
        if "DNSName" in p:
            out["DNSName"] = p["DNSName"]
        if "HostedZoneId" in p:
            out["HostedZoneId"] = p["HostedZoneId"]
        if len(zones) > n:
            out["NextDNSName"], out["NextHostedZoneId"] = zones[n][1]["name"], zones[n][0]
        return out


R53_MAX_RECORDS = 1000
R53_MAX_VALUE_CHARS = 32000


def r53_ChangeResourceRecordSets(state, p, caller):
    changes = p["ChangeBatch"]["Changes"]
    # Route 53's request maximums: ResourceRecord elements and characters in
    # Value elements, each counted twice for UPSERT.
    nrec = nchar = 0
    for ch in changes:
        vals = [r.get("Value", "") for r in ch["ResourceRecordSet"].get("ResourceRecords", [])]
        w = 2 if ch["Action"] == "UPSERT" else 1
        nrec += w * len(vals)
        nchar += w * sum(len(v) for v in vals)
    limits = []
    if nrec > R53_MAX_RECORDS:
        limits.append("Number of records limit of %d exceeded (the batch has %d ResourceRecord elements; UPSERT counts "
                      "each twice)." % (R53_MAX_RECORDS, nrec))
    if nchar > R53_MAX_VALUE_CHARS:
        limits.append("Number of characters in Value elements limit of %d exceeded (the batch has %d; UPSERT counts "
                      "each twice)." % (R53_MAX_VALUE_CHARS, nchar))
    if limits:
        raise AwsError("InvalidChangeBatch", "[%s]" % ", ".join(limits))
    with state.lock:
        z = r53_zone(state, p["HostedZoneId"])
        staged, types = {}, {}    # the batch, applied to a view of the zone

        def cur(key):
            return staged[key] if key in staged else z["records"].get(key)

        def types_at(name):
            if name not in types:
                types[name] = set(z["names"].get(name, ()))
            return types[name]
        errors = []
        for ch in changes:
            rr = dict(ch["ResourceRecordSet"])
            rr["Name"] = _fqdn(rr["Name"])
            key = (rr["Name"], rr["Type"])
            if rr["Name"] != z["name"] and not rr["Name"].endswith("." + z["name"]):
                errors.append("RRSet with DNS name %s is not permitted in zone %s" % (rr["Name"], z["name"]))
                continue
            old = cur(key)
            if ch["Action"] == "CREATE" and old is not None:
                errors.append("Tried to create resource record set [name='%s', type='%s'] but it already exists" % key)
                continue
            if ch["Action"] == "DELETE":
                if old is None:
                    errors.append("Tried to delete resource record set [name='%s', type='%s'] but it was not found" % key)
                elif old != rr:
                    errors.append("Tried to delete resource record set [name='%s', type='%s'] but the values provided "
                                  "do not match the current values" % key)
                else:
                    staged[key] = None
                    types_at(rr["Name"]).discard(rr["Type"])
                continue
            others = types_at(rr["Name"]) - {rr["Type"]}
            if rr["Type"] == "CNAME" and others:
                errors.append("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records "
                              "with the same DNS name in zone %s" % (rr["Name"], z["name"]))
                continue
            if "CNAME" in others:
                errors.append("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type "
                              "CNAME with the same DNS name already exists in zone %s" % (rr["Type"], rr["Name"], z["name"]))
                continue
            staged[key] = rr
            types_at(rr["Name"]).add(rr["Type"])
        if errors:
            raise AwsError("InvalidChangeBatch", "[%s]" % ", ".join(errors))
        now = state.now()
        insync = now + float(state.settings["route53_insync_seconds"])
        for key, rr in staged.items():
            if rr is None:
                z["records"].pop(key, None)
                z["visible"].pop(key, None)
            else:
                z["records"][key] = rr
                z["visible"][key] = insync
        for name, ts in types.items():
            if ts:
                z["names"][name] = ts
            else:
                z["names"].pop(name, None)
        z["sorted"] = None
        cid = "C" + secrets.token_hex(10).upper()
        state.changes[cid] = now
        return {"ChangeInfo": {"Id": "/change/" + cid, "Status": "PENDING", "SubmittedAt": now,
                               "Comment": p["ChangeBatch"].get("Comment")}}


def r53_GetChange(state, p, caller):
    cid = p["Id"].split("/")[-1]
    with state.lock:
        t = state.changes.get(cid)
    if t is None:
        raise AwsError("NoSuchChange", "A change with the specified change ID does not exist.", 404)
    done = state.now() >= t + float(state.settings["route53_insync_seconds"])
    return {"ChangeInfo": {"Id": "/change/" + cid, "Status": "INSYNC" if done else "PENDING", "SubmittedAt": t}}


def r53_ListResourceRecordSets(state, p, caller):
    with state.lock:
        z = r53_zone(state, p["HostedZoneId"])
        if "StartRecordType" in p and "StartRecordName" not in p:
            raise AwsError("InvalidInput", "The input is not valid: type specified without name")
        if z["sorted"] is None:
            z["sorted"] = sorted(((_rev(r["Name"]), r["Type"]), r) for r in z["records"].values())
        items = z["sorted"]
        start = 0
        if "StartRecordName" in p:
            start = bisect.bisect_left(items, ((_rev(_fqdn(p["StartRecordName"])), p.get("StartRecordType", "")),))
        n = int(p.get("MaxItems", 300))
        page = [r for _, r in items[start:start + n]]
        out = {"ResourceRecordSets": page, "IsTruncated": start + n < len(items), "MaxItems": str(n)}
        if start + n < len(items):
            nxt = items[start + n][1]
            out["NextRecordName"], out["NextRecordType"] = nxt["Name"], nxt["Type"]
        return out


def FAILURE_REASONS(st):
    return st.models["acm"]["shapes"]["FailureReason"]["enum"]


HANDLERS = {k: v for k, v in globals().items() if k.startswith(("acmpca_", "acm_", "sts_", "pca_", "r53_"))}
HANDLERS.update({"acmpca_" + k[4:]: v for k, v in list(HANDLERS.items()) if k.startswith("pca_")})


# ---------------------------------------------------------------- control
class Control(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj, default=json_default).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/calls":
            try:
                since = int(q.get("since", "0"))
            except ValueError:
                return self.reply(400, {"error": "since must be a call seq (integer)"})
            with st.lock:
                # seq n is st.calls[n - 1]: 'since' skips the old ones without a scan.
                calls = [c for c in st.calls[max(since, 0):] if "operation" not in q or c["operation"] == q["operation"]]
                last = len(st.calls)
            return self.reply(200, {"calls": calls, "last_seq": last})
        if u.path == "/quota":
            with st.lock:
                return self.reply(200, {n: {"per_second": b.rate, "burst": b.burst} for n, b in sorted(st.quotas.items())})
        if u.path == "/settings":
            with st.lock:
                return self.reply(200, dict(st.settings, clock=st.now()))
        if u.path == "/public-roots":
            # the emulated Amazon roots (RSA, then EC) that public chains end
            # in, made here if no public certificate made them yet
            return self.reply(200, {"roots": [amazon_ca(st, k).parent.cert_pem for k in ("RSA", "EC")]})
        if u.path == "/certificates":
            with st.lock:
                now = st.now()
                limits = {k: {"held": st.acm_held[k],
                              "requested_last_year": len(t) - bisect.bisect_right(t, now - YEAR)}
                          for k, t in st.acm_year.items()}
                return self.reply(200, {"limits": limits, "acm": [acm_detail(st, c) for c in st.acm.values()],
                                        "pca": [{"arn": a, "ca": c["ca"], "serial": colon_hex(c["serial"]), "revoked": c["revoked"]}
                                                for a, c in st.pca_certs.items()]})
        self.reply(404, {"error": "no such control path %s" % u.path})

    def do_POST(self):
        st = self.server.state
        try:
            n = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(n) or b"{}") if n else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            out = self.post(st, urllib.parse.urlsplit(self.path).path, body)
        except (ValueError, KeyError, TypeError) as e:
            return self.reply(400, {"error": "%s: %s" % (type(e).__name__, e)})
        if out is None:
            return self.reply(404, {"error": "no such control path %s" % self.path})
        self.reply(200, out)

    @staticmethod
    def acm_cert(st, b):
        c = st.acm.get(b["arn"])
        if c is None:
            raise ValueError("no ACM certificate %s" % b["arn"])
        return c

    def post(self, st, path, b):
        if path == "/reset":
            st.reset()
            return {"ok": True}
        if path == "/settings":
            with st.lock:
                for k, v in b.items():
                    if k not in DEFAULT_SETTINGS:
                        raise KeyError("unknown setting %s (known: %s)" % (k, ", ".join(DEFAULT_SETTINGS)))
                    st.settings[k] = v
                return dict(st.settings)
        if path == "/quota":
            op, rate = b["operation"], float(b["per_second"])
            burst = float(b.get("burst", max(1.0, 2 * rate)))
            with st.lock:
                if rate <= 0:
                    st.quotas.pop(op, None)
                else:
                    st.quotas[op] = Bucket(rate, burst)
            return {"operation": op, "per_second": rate, "burst": burst}
        if path == "/fault":
            kind = b["kind"]
            if kind not in ("latency", "500", "503", "reset", "truncate", "malformed", "clear"):
                raise ValueError("kind must be latency|500|503|reset|truncate|malformed|clear")
            with st.lock:
                if kind == "clear":
                    st.faults = []
                else:
                    st.faults.append({"operation": b.get("operation", "*"), "kind": kind,
                                      "count": int(b.get("count", 1)), "latency_ms": int(b.get("latency_ms", 1000))})
                return {"faults": st.faults}
        if path == "/clock":
            with st.lock:
                if "set" in b:
                    st.offset = float(b["set"]) - time.time()
                st.offset += float(b.get("advance_seconds", 0))
                return {"now": st.now(), "iso": iso(st.now())}
        if path == "/ca":
            ca = st.cas[b["arn"]]
            with st.lock:
                ca.status, ca.status_changed = b["status"], st.now()
            return {"arn": ca.arn, "status": ca.status}
        if path == "/renew":
            outcome = b.get("outcome", "SUCCESS")
            if outcome not in ("SUCCESS", "FAILED", "PENDING_VALIDATION", "AUTO"):
                raise ValueError("outcome must be SUCCESS|FAILED|PENDING_VALIDATION|AUTO")
            reason = b.get("reason")
            if reason is not None and reason not in FAILURE_REASONS(st):
                raise ValueError("reason must be one of %s" % ", ".join(FAILURE_REASONS(st)))
            with st.lock:
                c = self.acm_cert(st, b)
                if c["Type"] == "IMPORTED" or c["Status"] != "ISSUED":
                    raise ValueError("%s is not an issued ACM certificate (type %s, status %s): ACM does not renew it"
                                     % (c["CertificateArn"], c["Type"], c["Status"]))
                if renewal_eligibility(st, c) != "ELIGIBLE" and not b.get("force"):
                    raise ValueError("%s is INELIGIBLE for managed renewal (not exported since issued or renewed, "
                                     "not in use); export it, POST /inuse, or pass \"force\": true" % c["CertificateArn"])
                now = st.now()
                c["renewal"] = {"status": "PENDING_AUTO_RENEWAL", "updated": now, "outcome": outcome,
                                "reason": reason, "approved": set(),
                                "due": now + float(st.settings["renewal_delay_seconds"])}
                acm_refresh(st, c)
                return {"arn": c["CertificateArn"], "RenewalStatus": c["renewal"]["status"]}
        if path == "/fail":
            reason = b.get("reason", "CAA_ERROR")
            if reason is not None and reason not in FAILURE_REASONS(st):
                raise ValueError("reason must be one of %s" % ", ".join(FAILURE_REASONS(st)))
            with st.lock:
                if "domain" in b:
                    d = b["domain"].lower().rstrip(".")
                    if reason is None:
                        st.fail_rules.pop(d, None)
                    else:
                        st.fail_rules[d] = reason
                    return {"rules": st.fail_rules}
                c = self.acm_cert(st, b)
                if c["Status"] != "PENDING_VALIDATION" or reason is None:
                    raise ValueError("%s is %s; only a PENDING_VALIDATION certificate can fail (with a reason)"
                                     % (c["CertificateArn"], c["Status"]))
                acm_fail(c, reason)
                return {"arn": c["CertificateArn"], "Status": "FAILED", "FailureReason": reason}
        if path == "/status":
            status = b["status"]
            if status not in ("EXPIRED", "INACTIVE", "REVOKED"):
                raise ValueError("status must be EXPIRED|INACTIVE|REVOKED")
            with st.lock:
                c = self.acm_cert(st, b)
                if not c.get("cert_pem"):
                    raise ValueError("%s was never issued (status %s)" % (c["CertificateArn"], c["Status"]))
                if status == "REVOKED":
                    reason = b.get("reason", "UNSPECIFIED")
                    if reason not in st.models["acm"]["shapes"]["RevocationReason"]["enum"]:
                        raise ValueError("reason must be a RevocationReason")
                    acm_revoke(st, c, reason)
                else:
                    c["Status"] = status
                return {"arn": c["CertificateArn"], "Status": c["Status"]}
        if path == "/approve":
            with st.lock:
                c = self.acm_cert(st, b)
                if c["ValidationMethod"] != "EMAIL":
                    raise ValueError("%s is not EMAIL-validated" % c["CertificateArn"])
                doms = [b["domain"]] if b.get("domain") else list(c["SubjectAlternativeNames"])
                for d in doms:
                    if d not in c["SubjectAlternativeNames"]:
                        raise ValueError("%s is not a domain name of %s" % (d, c["CertificateArn"]))
                r = c.get("renewal")
                if c["Status"] == "PENDING_VALIDATION":
                    for d in doms:
                        c["dv_status"][d] = "SUCCESS"
                elif r and r["status"] in ("PENDING_AUTO_RENEWAL", "PENDING_VALIDATION"):
                    r["approved"].update(doms)
                else:
                    raise ValueError("%s is not waiting for validation (status %s)" % (c["CertificateArn"], c["Status"]))
                acm_refresh(st, c)
                return {"arn": c["CertificateArn"], "Status": c["Status"]}
        if path == "/inuse":
            by = b.get("by", [])
            if not isinstance(by, list) or not all(isinstance(x, str) for x in by):
                raise ValueError("by must be a list of ARNs")
            with st.lock:
                c = self.acm_cert(st, b)
                c["in_use_by"] = list(by)
                return {"arn": c["CertificateArn"], "InUseBy": c["in_use_by"]}
        if path == "/zone":
            zid = st.add_zone(b["name"], b.get("id"))
            return {"id": zid, "name": st.zones[zid]["name"]}
        if path == "/dns":
            with st.lock:
                name = b["name"].lower().rstrip(".") + "."
                if b.get("value"):
                    st.dns_records[name] = b["value"]
                else:
                    st.dns_records.pop(name, None)
            return {"name": name, "value": b.get("value")}
        if path == "/credentials":
            with st.lock:
                key, secret, token, exp = st.add_session(b.get("arn", "arn:aws:iam::%s:user/extra" % ACCOUNT),
                                                         "AIDAEXTRA", float(b.get("expires_in_seconds", 3600)),
                                                         b.get("access_key_id"), b.get("secret_access_key"),
                                                         b.get("session_token"))
                if b.get("session_token") is None and not b.get("with_token", True):
                    st.creds[key]["token"], st.creds[key]["expires"] = None, None
                    token = exp = None
            return {"access_key_id": key, "secret_access_key": secret, "session_token": token, "expiration": exp}
        return None


# ---------------------------------------------------------------- main
class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def make_tls(state_dir):
    """A throw-away test CA and a server certificate for 127.0.0.1/localhost."""
    now = time.time()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acm-agent emulator test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(new_serial()).not_valid_before(utc(now - 3600)).not_valid_after(utc(now + 7 * 86400))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
          .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(new_serial())
            .not_valid_before(utc(now - 3600)).not_valid_after(utc(now + 7 * 86400))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
            .sign(ca_key, hashes.SHA256()))
    bundle = os.path.join(state_dir, "ca-bundle.pem")
    with open(bundle, "w") as f:
        f.write(pem(ca))
    chain = os.path.join(state_dir, "server.pem")
    with open(os.open(chain, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(pem(cert) + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain)
    return ctx, bundle


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--tls", action="store_true", help="serve the AWS endpoint over HTTPS with a generated test CA")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    state = State(args)
    aws = Server(("127.0.0.1", 0), Handler)
    aws.state, aws.verbose, aws.tls = state, args.verbose, args.tls
    bundle = None
    if args.tls:
        ctx, bundle = make_tls(args.state_dir)
        aws.socket = ctx.wrap_socket(aws.socket, server_side=True)
    ctl = Server(("127.0.0.1", 0), Control)
    ctl.state = state
    scheme = "https" if args.tls else "http"
    url = "%s://127.0.0.1:%d" % (scheme, aws.server_address[1])
    ready = {"url": url, "control_url": "http://127.0.0.1:%d" % ctl.server_address[1],
             "ca_bundle": bundle, "ecs_credentials_url": url + "/ecs/credentials/v2",
             "imds_url": url, "access_key_id": state.access_key, "secret_access_key": state.secret_key,
             "region": REGION, "account": ACCOUNT, "pid": os.getpid(), "models_dir": MODELS_DIR,
             "cas": {c.arn: {"key_algorithm": c.key_algorithm, "signing_algorithm": c.signing_algorithm,
                             "type": "SUBORDINATE" if c.parent else "ROOT",
                             "parent": c.parent.arn if c.parent else None} for c in state.cas.values()}}
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    import signal
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    t = threading.Thread(target=aws.serve_forever, daemon=True)
    t.start()
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ready, f, indent=1)
    os.rename(tmp, args.ready_file)
    stop.wait()
    aws.shutdown()
    ctl.shutdown()
    try:
        os.unlink(args.ready_file)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
