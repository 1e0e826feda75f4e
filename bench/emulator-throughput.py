#!/usr/bin/python3
"""Throughput of the AWS emulator: ACM DescribeCertificate and ACM-PCA
IssueCertificate (EC P-256 CSRs on the EC subordinate CA), through botocore
clients (SigV4-signed, keep-alive) from several threads, quotas lifted.
Bounded: each phase runs for --seconds (default 5) on 127.0.0.1 only.
Prints the measured rates; not a pass/fail test."""
import argparse, json, os, subprocess, sys, tempfile, threading, time, urllib.request

import botocore.session
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
SUB = "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/33333333-3333-4333-8333-333333333333"


def ctl(base, path, body):
    r = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    return json.load(urllib.request.urlopen(r))


def run(n_threads, seconds, fn):
    count, errors, stop = [0], [0], time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        call = fn()
        while time.monotonic() < stop:
            try:
                call()
                with lock:
                    count[0] += 1
            except Exception:
                with lock:
                    errors[0] += 1
    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return count[0] / (time.monotonic() - t0), count[0], errors[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="emu-bench.")
    ready = os.path.join(d, "ready.json")
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "tests", "emulator", "emulator.py"),
                          "--state-dir", d, "--ready-file", ready])
    try:
        while not os.path.exists(ready):
            if p.poll() is not None or time.monotonic() - t0 > 30:
                sys.exit("emulator did not start")
            time.sleep(0.01)
        start_s = time.monotonic() - t0
        r = json.load(open(ready))
        for op in ("acm:DescribeCertificate", "acm-pca:IssueCertificate"):
            ctl(r["control_url"], "/quota", {"operation": op, "per_second": 0})
        sess = botocore.session.get_session()
        sess.set_credentials(r["access_key_id"], r["secret_access_key"])
        cfg = Config(retries={"max_attempts": 1}, max_pool_connections=args.threads * 2)

        def client(svc):
            return sess.create_client(svc, endpoint_url=r["url"], region_name=r["region"], config=cfg)
        acm = client("acm")
        arn = acm.request_certificate(DomainName="bench.example.com", CertificateAuthorityArn=SUB,
                                      KeyAlgorithm="EC_prime256v1")["CertificateArn"]

        def describe():
            c = client("acm")
            return lambda: c.describe_certificate(CertificateArn=arn)

        keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(8)]
        csrs = [x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "b%d.example.com" % i)]))
            .sign(k, hashes.SHA256()).public_bytes(serialization.Encoding.PEM) for i, k in enumerate(keys)]

        def issue():
            c = client("acm-pca")
            i = [0]

            def call():
                i[0] += 1
                c.issue_certificate(CertificateAuthorityArn=SUB, Csr=csrs[i[0] % len(csrs)],
                                    SigningAlgorithm="SHA256WITHECDSA", Validity={"Value": 30, "Type": "DAYS"})
            return call
        print("emulator start to ready file: %.2f s (process start, 3 CA keys incl. RSA 2048)" % start_s)
        print("method: %d client threads, botocore clients (SigV4, keep-alive), %.0f s per phase, quotas lifted, "
              "client and emulator on the same %d-core machine" % (args.threads, args.seconds, os.cpu_count()))
        for name, fn in (("DescribeCertificate", describe), ("IssueCertificate (EC P-256)", issue)):
            rate, n, err = run(args.threads, args.seconds, fn)
            print("%-30s %7.1f req/s  (%d ok, %d errors)" % (name, rate, n, err))
    finally:
        p.terminate()
        p.wait()


if __name__ == "__main__":
    main()
