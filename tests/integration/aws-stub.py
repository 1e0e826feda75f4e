#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A scripted AWS stub for tests/unit/aws/test-aws-client.c: verifies every
request's SigV4 signature with botocore (recomputed from the request's own
SignedHeaders) and answers per operation from a script: throttle / 500 /
reset / a trickling answer / a broken body a number of times, then succeed.
JSON 1.1 (X-Amz-Target), STS query, and Route 53 REST-XML (GET).
Usage: aws-stub.py READY_FILE ACCESS_KEY SECRET"""
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

READY, AKID, SECRET = sys.argv[1:4]
counts = {}
lock = threading.Lock()
# operation -> list of failures to answer before succeeding
SCRIPT = {
    "ACMPrivateCA.IssueCertificate": ["throttle", "throttle"],
    "ACMPrivateCA.GetCertificate": ["500", "reset"],
    "CertificateManager.ListCertificates": ["denied"],
    "CertificateManager.RequestCertificate": ["500"],
    "CertificateManager.ImportCertificate": ["500"],
    # Headers, then one byte per second: every attempt hangs.
    "CertificateManager.GetCertificate": ["slow"] * 20,
    # HTTP 200 with a truncated JSON body that carries control characters.
    "CertificateManager.ExportCertificate": ["garbage"] * 20,
    # HTTP 200 with an AWS error document.
    "CertificateManager.ListTagsForCertificate": ["200error"] * 20,
    # The 2026 ThrottlingException with throttlingReasons.
    "CertificateManager.SearchCertificates": ["throttle-reasons"],
    "route53.GetChange": ["throttle"],
    "CertificateManager.ListTagsForResource": ["throttle"] * 5,
    # 5 MiB of JSON: more than the client takes.
    "CertificateManager.GetAccountConfiguration": ["huge"] * 5,
}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body, ctype="application/x-amz-json-1.1"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "req-%d" % sum(counts.values()))
        self.end_headers()
        self.wfile.write(data)

    def verify(self, body):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return "MissingAuthenticationTokenException"
        parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        akid, date, region, service, _ = parts["Credential"].split("/")
        if akid != AKID:
            return "UnrecognizedClientException"
        signed = parts["SignedHeaders"].split(";")
        url = "http://%s%s" % (self.headers["Host"], self.path)
        req = AWSRequest(method=self.command, url=url, data=body)
        for h in signed:
            if h != "host":
                req.headers[h] = self.headers[h]
        token = self.headers.get("X-Amz-Security-Token")
        signer = SigV4Auth(Credentials(akid, SECRET, token), service, region)
        req.context["timestamp"] = self.headers["X-Amz-Date"]
        creq = signer.canonical_request(req)
        sts = signer.string_to_sign(req, creq)
        if signer.signature(sts, req) != parts["Signature"]:
            return "InvalidSignatureException"
        if "user-agent" in signed or "expect" in signed:
            return "InvalidSignatureException"
        return None

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        target = self.headers.get("X-Amz-Target")
        sts = target is None
        if sts:
            form = dict(p.split("=", 1) for p in body.decode().split("&"))
            target = "sts." + form["Action"]
        with lock:
            counts[target] = counts.get(target, 0) + 1
            k = counts[target]
        err = self.verify(body)
        if err:
            if sts:
                return self.answer(403, "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
                                   "<Message>The request signature we calculated does not match</Message></Error>"
                                   "<RequestId>sts-req</RequestId></ErrorResponse>", "text/xml")
            return self.answer(400, json.dumps({"__type": "com.amazon.coral.service#" + err,
                                                "message": "The request signature we calculated does not match"}))
        script = SCRIPT.get(target, [])
        if k <= len(script):
            what = script[k - 1]
            if what == "slow":
                return self.trickle()
            if what == "huge":
                return self.answer(200, '{"x": "' + "y" * (5 * 1024 * 1024) + '"}')
            if what == "garbage":
                return self.answer(200, '{"__type": "Internal\x1b[31m\nFAKE LOG LINE')
            if what == "200error":
                return self.answer(200, json.dumps({"__type": "com.amazon.coral#InternalFailure",
                                                    "message": "oops\r\n[ERROR] forged line \x1b[2J"}))
            if what == "throttle-reasons":
                return self.answer(400, json.dumps({
                    "__type": "ThrottlingException", "message": "Rate exceeded",
                    "throttlingReasons": [{"reason": "ACCOUNT_RATE", "resource": "SearchCertificates"},
                                          {"reason": "REGION\nLIMIT"}]}))
            if what == "throttle":
                return self.answer(400, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}))
            if what == "500":
                return self.answer(500, json.dumps({"__type": "InternalFailure", "message": "boom"}))
            if what == "denied":
                return self.answer(400, json.dumps({"__type": "AccessDeniedException",
                                                    "Message": "User is not authorized to perform acm:ListCertificates"}))
            if what == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.close()
                self.close_connection = True
                return
        if target == "sts.GetCallerIdentity":
            return self.answer(200, "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                               "<GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/test</Arn>"
                               "<UserId>AIDA</UserId><Account>111122223333</Account></GetCallerIdentityResult>"
                               "<ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata>"
                               "</GetCallerIdentityResponse>", "text/xml")
        if target == "stub.Counts":
            return self.answer(200, json.dumps(counts))
        self.answer(200, json.dumps({"Target": target, "Count": k, "Echo": json.loads(body or b"{}")}))


    def trickle(self):
        """200 with Content-Length 100, then one byte a second until the
        client goes away."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            for _ in range(100):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass
        self.close_connection = True

    def do_GET(self):
        """Route 53 REST-XML: GetChange and ListResourceRecordSets."""
        path = self.path.split("?")[0]
        if path.startswith("/2013-04-01/change/"):
            target = "route53.GetChange"
        elif path.startswith("/2013-04-01/hostedzone/") and path.endswith("/rrset"):
            target = "route53.ListResourceRecordSets"
        else:
            target = "route53.Unknown"
        with lock:
            counts[target] = counts.get(target, 0) + 1
            k = counts[target]
        xml = "text/xml"
        if self.verify(b""):
            return self.answer(403, "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
                               "<Message>signature</Message></Error><RequestId>r53</RequestId></ErrorResponse>", xml)
        script = SCRIPT.get(target, [])
        if k <= len(script) and script[k - 1] == "throttle":
            return self.answer(400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                               "<Message>Rate exceeded</Message></Error><RequestId>r53-t</RequestId>"
                               "</ErrorResponse>", xml)
        if target == "route53.GetChange":
            return self.answer(200, "<GetChangeResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
                               "<ChangeInfo><Id>/change/C1</Id><Status>INSYNC</Status>"
                               "<SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>", xml)
        if target == "route53.ListResourceRecordSets":
            return self.answer(200, "<ListResourceRecordSetsResponse><ResourceRecordSets/><IsTruncated>false"
                               "</IsTruncated><MaxItems>100</MaxItems></ListResourceRecordSetsResponse>", xml)
        return self.answer(404, "<ErrorResponse><Error><Code>NoSuchThing</Code></Error></ErrorResponse>", xml)


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(READY + ".tmp", "w") as f:
    json.dump({"url": "http://127.0.0.1:%d" % srv.server_address[1]}, f)
import os
os.rename(READY + ".tmp", READY)
srv.serve_forever()
