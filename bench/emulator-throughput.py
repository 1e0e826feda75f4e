#!/usr/bin/python3
"""Throughput of the AWS emulator through botocore clients (SigV4-signed,
keep-alive) from several threads, quotas lifted, on 127.0.0.1 only.

  * ACM DescribeCertificate and ACM-PCA IssueCertificate (EC P-256 CSRs on
    the EC subordinate CA): each phase runs for --seconds (default 5);
  * the ACM issuer's flow at the benchmark's scale (--acm N, default 1000;
    0 skips it): RequestCertificate (DNS, Export ENABLED, --acm-key), one
    DescribeCertificate each (records), the CNAMEs in Route 53 batches
    (--batch records; CREATE counts once against the 1000-record and
    32,000-character request maximums), DescribeCertificate until ISSUED,
    ExportCertificate, then ListCertificates (all pages) and
    SearchCertificates by name (indexed) and by status (scan) with N held.

Models: the emulator's 2026 models (AWS_DATA_PATH).  Prints the measured
rates and the headroom over the ACM quotas; not a pass/fail test."""
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


def run_items(n_threads, items, fn):
    """Calls fn(item) for every item from n_threads threads; returns
    (rate per second, ok, errors, first error)."""
    lock = threading.Lock()
    it = iter(items)
    count, errors, first = [0], [0], [None]

    def worker():
        call = fn()
        while True:
            with lock:
                try:
                    x = next(it)
                except StopIteration:
                    return
            try:
                call(x)
                with lock:
                    count[0] += 1
            except Exception as e:
                with lock:
                    errors[0] += 1
                    first[0] = first[0] or e
    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return count[0] / (time.monotonic() - t0), count[0], errors[0], first[0]


def acm_flow(args, client, ctl_url):
    n = args.acm
    for op in ("acm:RequestCertificate", "acm:DescribeCertificate", "acm:ExportCertificate",
               "acm:ListCertificates", "acm:SearchCertificates", "route53"):
        ctl(ctl_url, "/quota", {"operation": op, "per_second": 0})
    ctl(ctl_url, "/settings", {"acm_certificate_limit": 10 * n + 10, "acm_yearly_request_limit": 10 * n + 10,
                               "acm_key_pool": args.key_pool})
    names = ["c%04d.bench.example.com" % i for i in range(n)]
    arns, records = {}, {}
    quota = {"RequestCertificate": 5, "DescribeCertificate": 10, "ExportCertificate": 10}

    def report(what, res, op=None):
        rate, ok, err, first = res
        head = "  (%.0fx its %d/s quota)" % (rate / quota[op], quota[op]) if op in quota else ""
        print("%-44s %7.1f req/s  (%d ok, %d errors)%s%s" % (what, rate, ok, err, head,
                                                             (" first error: %s" % first) if first else ""))

    def request():
        c = client("acm")
        return lambda name: arns.__setitem__(name, c.request_certificate(
            DomainName=name, ValidationMethod="DNS", KeyAlgorithm=args.acm_key, Options={"Export": "ENABLED"},
            IdempotencyToken="b%s" % name.split(".")[0], Tags=[{"Key": "acm-agent", "Value": name}])["CertificateArn"])
    report("RequestCertificate (%s%s, DNS, Export)" % (args.acm_key, ", key pool %d" % args.key_pool
                                                          if args.key_pool else ""), run_items(args.threads, names, request),
           "RequestCertificate")

    def describe_records():
        c = client("acm")

        def call(name):
            d = c.describe_certificate(CertificateArn=arns[name])["Certificate"]
            rr = d["DomainValidationOptions"][0]["ResourceRecord"]
            records[rr["Name"]] = rr["Value"]
        return call
    report("DescribeCertificate (records, %d held)" % n, run_items(args.threads, names, describe_records),
           "DescribeCertificate")

    r53 = client("route53")
    items = sorted(records.items())
    batches = [items[i:i + args.batch] for i in range(0, len(items), args.batch)]
    t0 = time.monotonic()
    worst = 0.0
    for b in batches:
        t1 = time.monotonic()
        r53.change_resource_record_sets(HostedZoneId="Z0EMULATOREXAMPLE01", ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {"Name": k, "Type": "CNAME", "TTL": 300,
                                                       "ResourceRecords": [{"Value": v}]}} for k, v in b]})
        worst = max(worst, time.monotonic() - t1)
    dt = time.monotonic() - t0
    print("%-44s %7.1f records/s  (%d batches of <= %d, slowest %.2f s)"
          % ("Route 53 ChangeResourceRecordSets (CREATE)", len(items) / dt, len(batches), args.batch, worst))

    issued = [0]

    def describe_issued():
        c = client("acm")

        def call(name):
            if c.describe_certificate(CertificateArn=arns[name])["Certificate"]["Status"] == "ISSUED":
                issued[0] += 1
        return call
    report("DescribeCertificate (validate -> ISSUED)", run_items(args.threads, names, describe_issued),
           "DescribeCertificate")
    print("%-44s %7d of %d" % ("  ISSUED after one pass", issued[0], n))

    def export():
        c = client("acm")
        return lambda name: c.export_certificate(CertificateArn=arns[name], Passphrase=b"bench-passphrase")
    report("ExportCertificate", run_items(args.threads, names, export), "ExportCertificate")

    acm = client("acm")
    t0 = time.monotonic()
    pages = listed = 0
    kw = {"Includes": {"keyTypes": [args.acm_key]}, "MaxItems": 100}
    while True:
        out = acm.list_certificates(**kw)
        pages += 1
        listed += len(out["CertificateSummaryList"])
        if "NextToken" not in out:
            break
        kw["NextToken"] = out["NextToken"]
    print("%-44s %7.3f s  (%d pages, %d certificates)" % ("ListCertificates, all pages of 100", time.monotonic() - t0,
                                                         pages, listed))
    t0 = time.monotonic()
    for name in names[:50]:
        acm.search_certificates(FilterStatement={"And": [
            {"Filter": {"X509AttributeFilter": {"SubjectAlternativeName": {"DnsName": {
                "Value": name, "ComparisonOperator": "EQUALS"}}}}},
            {"Filter": {"AcmCertificateMetadataFilter": {"Status": "ISSUED"}}}]})
    print("%-44s %7.1f req/s" % ("SearchCertificates by name (indexed)", 50 / (time.monotonic() - t0)))
    t0 = time.monotonic()
    out = acm.search_certificates(FilterStatement={"Filter": {"AcmCertificateMetadataFilter": {"Status": "ISSUED"}}},
                                  MaxResults=500)
    print("%-44s %7.3f s  (%d results on the first page)" % ("SearchCertificates by status (scan)",
                                                            time.monotonic() - t0, len(out["Results"])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--acm", type=int, default=1000, help="certificates in the ACM flow (0: skip it)")
    ap.add_argument("--acm-key", default="EC_prime256v1", help="KeyAlgorithm of the ACM flow")
    ap.add_argument("--key-pool", type=int, default=0, help="emulator setting acm_key_pool (0: a fresh key each)")
    ap.add_argument("--batch", type=int, default=400, help="records per Route 53 change batch")
    ap.add_argument("--skip-basic", action="store_true", help="only the ACM flow")
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
        os.environ["AWS_DATA_PATH"] = r["models_dir"]
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
        if not args.skip_basic:
            for name, fn in (("DescribeCertificate", describe), ("IssueCertificate (EC P-256)", issue)):
                rate, n, err = run(args.threads, args.seconds, fn)
                print("%-44s %7.1f req/s  (%d ok, %d errors)" % (name, rate, n, err))
        if args.acm > 0:
            print("ACM issuer flow, %d certificates:" % args.acm)
            acm_flow(args, client, r["control_url"])
    finally:
        p.terminate()
        p.wait()


if __name__ == "__main__":
    main()
