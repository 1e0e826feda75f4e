#!/usr/bin/python3
"""Queries for the agent-level integration tests (emulator control API, state
files, the agent's JSON). Runs with Debian's /usr/bin/python3.

  proof.py seq                          highest call seq in the emulator log
  proof.py calls SEQ OP [ERROR]         calls of OP after SEQ (optionally only with __type ERROR)
  proof.py issued SEQ                   distinct certificate ARNs IssueCertificate returned after SEQ
  proof.py issued-arns SEQ              those ARNs, one a line
  proof.py tokens SEQ                   distinct IdempotencyTokens sent to IssueCertificate after SEQ
  proof.py pca-serial ARN               the emulator's serial of ARN (uppercase hex, no colons)
  proof.py pca-count                    number of certificates the emulated PCA issued
  proof.py root-pem CA_ARN              the CA certificate (GetCertificateAuthorityCertificate via botocore)
  proof.py state FILE KEY               a field of a state file ('' when null/absent; schema 2 flattened:
                                        serial, arn, pending_arn, idempotency_token, next_attempt)
  proof.py future FILE KEY              exit 0 when the RFC 3339 time KEY of FILE is in the future
  proof.py status-json FILE NAME KEY..  first present KEY of certificate NAME in a status/once JSON doc
  proof.py facts SEQ [STATEFILE]       shell assignments, one query for many checks:
                                        SEQ_NOW ISSUED TOKENS ICALLS GCALLS RIP THROTTLES ARN ARN_SERIAL
                                        and ST_<field> of the state file (ST_NEXT_FUTURE=1 when next_attempt > now)
  proof.py json-ok FILE                 exit 0 when FILE holds exactly one JSON document
  proof.py acm-calls SEQ OP DOMAIN      calls of OP after SEQ about the ACM certificate of DOMAIN: its
                                        RequestCertificate (DomainName), calls naming an ARN requested for
                                        DOMAIN, Route 53 changes of a record at or under DOMAIN (so tests
                                        of other certificates running at the same time do not count)
  proof.py acm-requested SEQ DOMAIN     distinct ARNs RequestCertificate returned for DOMAIN after SEQ
  proof.py import-facts SEQ STATEFILE [STATUSJSON NAME]
                                        shell assignments, one query for an import's checks: ST_PHASE ST_ARN,
                                        the import issuer's IS_ARN IS_SERIAL IS_ATTEMPT (JSON, '' when none),
                                        IMPORTED (distinct ARNs ImportCertificate answered after SEQ),
                                        ACM_SERIAL (the serial ACM holds for ST_ARN: uppercase hex, no colons),
                                        and STATUS_STATE STATUS_SERIAL STATUS_ARN of NAME in STATUSJSON
"""
import calendar
import json
import os
import socket
import sys
import time

# The tests run this a few hundred times each (make check: thousands), so
# its start-up counts: it runs with python3 -S (no site-packages: only
# root-pem needs them, and adds them itself), and the control API, plain
# HTTP on 127.0.0.1, is read with one GET on a socket (urllib.request
# alone imported for 60 ms, http.client and email, of every run).


def ctl(path):
    base = os.environ["EMU_CONTROL_URL"]
    if not base.startswith("http://"):
        raise SystemExit("proof.py: EMU_CONTROL_URL is not http://HOST:PORT: %r" % base)
    host, _, port = base[len("http://"):].rstrip("/").partition(":")
    with socket.create_connection((host, int(port or 80)), timeout=30) as conn:
        conn.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode())
        chunks = []
        while True:
            b = conn.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        raise SystemExit("proof.py: GET %s: %s" % (path, head.split(b"\r\n", 1)[0].decode(errors="replace")))
    return json.loads(body)


def calls_after(seq, op=None):
    # only the calls after seq travel (the log grows to thousands of calls,
    # ImportCertificate's with their PEMs)
    q = "/calls?since=%d" % max(seq, 0) + ("&operation=" + op if op else "")
    return [c for c in ctl(q)["calls"] if c["seq"] > seq]


def last_seq():
    # a since past the end: no call travels, last_seq says where the log is
    return ctl("/calls?since=%d" % (1 << 62))["last_seq"]


def acm_arns(domain):
    """Every ARN RequestCertificate returned for DomainName domain."""
    return {c["result_CertificateArn"] for c in ctl("/calls?operation=acm:RequestCertificate")["calls"]
            if (c.get("parameters") or {}).get("DomainName") == domain and c.get("result_CertificateArn")}


def about_domain(c, domain, arns):
    p = c.get("parameters") or {}
    if p.get("DomainName") == domain or p.get("CertificateArn") in arns:
        return True
    for ch in ((p.get("ChangeBatch") or {}).get("Changes") or []) if c["operation"].startswith("route53:") else []:
        n = ((ch.get("ResourceRecordSet") or {}).get("Name") or "").rstrip(".")
        if n == domain or n.endswith("." + domain):
            return True
    return False


def parse_time(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def load_state(path):
    """A state file as a flat dict with the names the tests use: schema 2's
    served/issuer parts flattened (serial, arn, pending_arn,
    idempotency_token, next_attempt = wake_at of a failed phase)."""
    try:
        st = json.load(open(path))
    except FileNotFoundError:
        return {}
    if st.get("schema", 1) < 2:
        return st
    flat = dict(st)
    served = st.get("served") or {}
    issuer = st.get("issuer") or {}
    flat["serial"] = served.get("serial")
    flat["arn"] = served.get("arn")
    flat["current_version"] = served.get("version")
    flat["pending_arn"] = issuer.get("arn")
    flat["idempotency_token"] = issuer.get("token")
    flat["next_attempt"] = st.get("wake_at") if st.get("phase") in ("backoff", "reload") else None
    return flat


def show(v):
    """A JSON value as the tests compare it: '' for null, JSON for objects
    and arrays, true/false, else the value itself."""
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v).lower() if isinstance(v, bool) else str(v)


def cert_entries(doc):
    if isinstance(doc, dict):
        for k in ("certificates", "certs"):
            if isinstance(doc.get(k), list):
                return doc[k]
            if isinstance(doc.get(k), dict):
                return [dict(v, name=n) for n, v in doc[k].items()]
    if isinstance(doc, list):
        return doc
    return []


def main(a):
    cmd = a[0]
    if cmd == "seq":
        print(last_seq())
    elif cmd == "calls":
        cs = calls_after(int(a[1]), a[2])
        if len(a) > 3:
            cs = [c for c in cs if c.get("error") == a[3]]
        print(len(cs))
    elif cmd == "issued":
        cs = calls_after(int(a[1]), "acm-pca:IssueCertificate")
        print(len({c["result_CertificateArn"] for c in cs if c.get("result_CertificateArn")}))
    elif cmd == "issued-arns":
        cs = calls_after(int(a[1]), "acm-pca:IssueCertificate")
        for arn in sorted({c["result_CertificateArn"] for c in cs if c.get("result_CertificateArn")}):
            print(arn)
    elif cmd == "tokens":
        cs = calls_after(int(a[1]), "acm-pca:IssueCertificate")
        print(len({(c.get("parameters") or {}).get("IdempotencyToken") for c in cs}))
    elif cmd == "pca-serial":
        for c in ctl("/certificates")["pca"]:
            if c["arn"] == a[1]:
                print(c["serial"].replace(":", "").upper().lstrip("0") or "0")
                return 0
        return 1
    elif cmd == "pca-count":
        print(len(ctl("/certificates")["pca"]))
    elif cmd == "root-pem":
        import site
        site.main()  # -S: botocore is in dist-packages
        import botocore.session
        s = botocore.session.get_session()
        c = s.create_client("acm-pca", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["EMU_URL"],
                            verify=os.environ.get("EMU_CA_BUNDLE") or None,
                            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
        r = c.get_certificate_authority_certificate(CertificateAuthorityArn=a[1])
        print(r["Certificate"].strip())
    elif cmd == "state":
        print(show(load_state(a[1]).get(a[2])))
    elif cmd == "future":
        v = load_state(a[1]).get(a[2])
        return 0 if v and parse_time(v) > time.time() else 1
    elif cmd == "status-json":
        doc = json.load(open(a[1]))
        for e in cert_entries(doc):
            if e.get("name") == a[2]:
                for k in a[3:]:
                    if e.get(k) is not None:
                        print(show(e[k]))
                        return 0
                print("")
                return 0
        return 1
    elif cmd == "facts":
        import shlex
        seq = int(a[1])
        answer = ctl("/calls?since=%d" % max(seq, 0))
        new = [c for c in answer["calls"] if c["seq"] > seq]
        iss = [c for c in new if c["operation"] == "acm-pca:IssueCertificate"]
        arns = sorted({c["result_CertificateArn"] for c in iss if c.get("result_CertificateArn")})
        out = {"SEQ_NOW": answer["last_seq"],
               "ISSUED": len(arns),
               "TOKENS": len({(c.get("parameters") or {}).get("IdempotencyToken") for c in iss}),
               "ICALLS": len(iss),
               "GCALLS": len([c for c in new if c["operation"] == "acm-pca:GetCertificate"]),
               "RIP": len([c for c in new if c.get("error") == "RequestInProgressException"]),
               "THROTTLES": len([c for c in new if c.get("error") == "ThrottlingException"]),
               "ARN": arns[0] if arns else "", "ARN_SERIAL": ""}
        if arns:
            for c in ctl("/certificates")["pca"]:
                if c["arn"] == arns[0]:
                    out["ARN_SERIAL"] = c["serial"].replace(":", "").upper().lstrip("0") or "0"
        st = load_state(a[2]) if len(a) > 2 else {}
        for k in ("phase", "arn", "pending_arn", "serial", "idempotency_token", "failures", "last_error", "next_attempt"):
            v = st.get(k)
            out["ST_" + k.upper()] = "" if v is None else str(v)
        ser = out["ST_SERIAL"].replace(":", "").upper().lstrip("0")
        out["ST_SERIAL"] = ser
        na = st.get("next_attempt")
        out["ST_NEXT_FUTURE"] = 1 if na and parse_time(na) > time.time() else 0
        for k, v in out.items():
            print("%s=%s" % (k, shlex.quote(str(v))))
    elif cmd == "acm-calls":
        arns = acm_arns(a[3])
        print(len([c for c in calls_after(int(a[1]), a[2]) if about_domain(c, a[3], arns)]))
    elif cmd == "acm-requested":
        cs = calls_after(int(a[1]), "acm:RequestCertificate")
        print(len({c["result_CertificateArn"] for c in cs
                   if (c.get("parameters") or {}).get("DomainName") == a[2] and c.get("result_CertificateArn")}))
    elif cmd == "import-facts":
        import shlex
        seq, st = int(a[1]), load_state(a[2])
        issuer = st.get("issuer") or {}
        arns = {c["result_CertificateArn"] for c in calls_after(seq, "acm:ImportCertificate")
                if c.get("result_CertificateArn")}
        acm_serial = ""
        for c in ctl("/certificates")["acm"] if st.get("arn") else []:
            if c.get("CertificateArn") == st["arn"]:
                acm_serial = c.get("Serial", "").replace(":", "").upper()
        out = {"ST_PHASE": st.get("phase"), "ST_ARN": st.get("arn"), "IS_ARN": issuer.get("arn"),
               "IS_SERIAL": issuer.get("serial"), "IS_ATTEMPT": issuer.get("attempt"),
               "IMPORTED": len(arns), "ACM_SERIAL": acm_serial}
        if len(a) > 4:
            try:
                doc = json.load(open(a[3]))
            except ValueError:
                doc = None  # not JSON: every STATUS_ is empty, and the check says so
            e = next((e for e in cert_entries(doc) if e.get("name") == a[4]), {})
            for k in ("state", "serial", "arn"):
                out["STATUS_" + k.upper()] = e.get(k)
        for k, v in out.items():
            print("%s=%s" % (k, shlex.quote(show(v))))
    elif cmd == "json-ok":
        try:
            json.load(open(a[1]))
        except ValueError as e:
            print(e)
            return 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
