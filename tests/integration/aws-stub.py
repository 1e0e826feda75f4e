#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A scripted AWS stub for tests/unit/aws/test-aws-client.c, until the emulator
lands: verifies every request's SigV4 signature with botocore (recomputed
from the request's own SignedHeaders) and answers per operation from a
script: throttle / 500 / reset a number of times, then succeed.
Usage: aws-stub.py READY_FILE ACCESS_KEY SECRET"""
import json
import socket
import sys
import threading
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


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(READY + ".tmp", "w") as f:
    json.dump({"url": "http://127.0.0.1:%d" % srv.server_address[1]}, f)
import os
os.rename(READY + ".tmp", READY)
srv.serve_forever()
