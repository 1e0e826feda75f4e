#!/usr/bin/python3
"""Reader that checks what a server would see through the stable names.

  watch-stable.py [--active PREFIX] STOPFILE REPORT DIR...

Until STOPFILE exists, reads DIR/cert.pem, DIR/key.pem and DIR/fullchain.pem
(the stable symlinks -> current/<file> -> .versions/<id>/<file>) of every DIR
every ACTIVE_PAUSE (4 ms), and records a violation when:
  - a file that resolved into a version directory is not complete PEM
    (partial file), or the key does not match the certificate, or
    fullchain.pem does not start with cert.pem, for a consistent read;
  - a stable name is missing or dangling once that DIR served a version.
A "consistent read" is one where the three opened files resolve (through
/proc/self/fd) into the same version directory. Opens straddling a switch
(cert from version A, key from version B) are what any reader opening files
one by one can see during a rename; they are counted, and the three files
of the version directory the certificate came from are read again and
checked as a consistent read.
Writes a summary to REPORT and exits 0 (no violation) or 1.

With --active PREFIX the loop reads every DIR each ACTIVE_PAUSE (4 ms) only
while a file whose path starts with PREFIX exists (the test creates one
before it starts an agent and removes it when the agent has exited: only an
agent changes these files); otherwise it looks for such a file every 2 ms
and reads every DIR every 0.2 s.

The checks of a read are a function of the bytes read and the directories
they resolved into, so each distinct read is parsed once (check_cached):
parsing a PEM key and certificate costs milliseconds (an RSA key tens of
them), and parsing every read made one round over the directories take
~0.6 s, so that a directory was sampled twice a second while a core stayed
busy. Reading every file each round but parsing only a read not seen
before samples each directory every few milliseconds, and the pause
between rounds leaves most of the core to the other tests of make check.
"""
import os
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization

FILES = ("cert.pem", "key.pem", "fullchain.pem")
ACTIVE_PAUSE = 0.004  # seconds between two rounds while an agent runs


def pub(obj):
    return obj.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def read_all(d):
    """Returns (data dict, realdir dict) or raises FileNotFoundError."""
    data, real = {}, {}
    for f in FILES:
        fd = os.open(os.path.join(d, f), os.O_RDONLY)
        try:
            real[f] = os.path.dirname(os.readlink("/proc/self/fd/%d" % fd))
            chunks = []
            while True:
                b = os.read(fd, 65536)
                if not b:
                    break
                chunks.append(b)
            data[f] = b"".join(chunks)
        finally:
            os.close(fd)
    return data, real


def check_version(data, real):
    """Problems within one read; empty list when fine."""
    probs = []
    try:
        cert = x509.load_pem_x509_certificate(data["cert.pem"])
    except Exception as e:
        return ["cert.pem in %s is not a complete certificate (%d bytes): %s" % (real["cert.pem"], len(data["cert.pem"]), e)]
    if not data["cert.pem"].rstrip().endswith(b"-----END CERTIFICATE-----"):
        probs.append("cert.pem in %s is truncated" % real["cert.pem"])
    try:
        key = serialization.load_pem_private_key(data["key.pem"], None)
    except Exception as e:
        return probs + ["key.pem in %s is not a complete key (%d bytes): %s" % (real["key.pem"], len(data["key.pem"]), e)]
    fc = data["fullchain.pem"]
    try:
        blocks = fc.split(b"-----END CERTIFICATE-----")
        if blocks[-1].strip():
            raise ValueError("trailing partial block")
        chain = [x509.load_pem_x509_certificate(b + b"-----END CERTIFICATE-----\n") for b in blocks[:-1]]
    except Exception as e:
        return probs + ["fullchain.pem in %s does not parse (%d bytes): %s" % (real["fullchain.pem"], len(fc), e)]
    if not fc.rstrip().endswith(b"-----END CERTIFICATE-----") or len(chain) < 2:
        probs.append("fullchain.pem in %s is truncated (%d certificates)" % (real["fullchain.pem"], len(chain)))
    if len(set(real.values())) == 1:
        if pub(cert) != pub(key):
            probs.append("MIX: key.pem does not match cert.pem in %s" % real["cert.pem"])
        if chain and chain[0].serial_number != cert.serial_number:
            probs.append("MIX: fullchain.pem does not start with cert.pem in %s" % real["cert.pem"])
    return probs


def check_cached(cache, data, real):
    """check_version(data, real), computed once per distinct read."""
    key = tuple(real[f] for f in FILES) + tuple(data[f] for f in FILES)
    probs = cache.get(key)
    if probs is None:
        if len(cache) >= 4096:  # partial reads are distinct: keep it bounded
            cache.clear()
        probs = cache[key] = check_version(data, real)
    return probs


def active_check(prefix):
    """A function telling whether a file PREFIX* exists (None: always)."""
    if prefix is None:
        return None
    parent, base = os.path.split(prefix)

    def active():
        try:
            return any(n.startswith(base) for n in os.listdir(parent or "."))
        except OSError:
            return False
    return active


def main():
    args = sys.argv[1:]
    prefix = None
    if args and args[0] == "--active":
        prefix, args = args[1], args[2:]
    active = active_check(prefix)
    stop, report, dirs = args[0], args[1], args[2:]
    last_round = 0.0
    seen = {d: False for d in dirs}
    versions = {d: set() for d in dirs}
    reads = consistent = straddled = 0
    violations = []
    cache = {}
    while not os.path.exists(stop):
        if active is not None and not active():
            # no agent runs: nothing changes; a round now and then still
            # sees a name gone missing
            if time.monotonic() - last_round < 0.2:
                time.sleep(0.002)
                continue
        elif last_round:
            time.sleep(ACTIVE_PAUSE)
        last_round = time.monotonic()
        for d in dirs:
            try:
                data, real = read_all(d)
            except FileNotFoundError as e:
                if seen[d]:
                    violations.append("%s: stable name missing or dangling after a version was served: %s" % (d, e))
                continue
            except OSError as e:
                violations.append("%s: %s" % (d, e))
                continue
            reads += 1
            seen[d] = True
            dirs_read = set(real.values())
            versions[d] |= dirs_read
            if len(dirs_read) == 1:
                consistent += 1
                for p in check_cached(cache, data, real):
                    violations.append("%s: %s" % (d, p))
            else:
                straddled += 1
                # Each file on its own must still be complete: re-read the
                # other two files from the cert's version directory.
                vd = real["cert.pem"]
                try:
                    alt = {f: open(os.path.join(vd, f), "rb").read() for f in FILES}
                except FileNotFoundError:
                    continue  # version pruned meanwhile: nothing to compare
                for p in check_cached(cache, alt, {f: vd for f in FILES}):
                    violations.append("%s: %s" % (d, p))
        if len(violations) > 50:
            break
    with open(report, "w") as r:
        r.write("reads=%d consistent=%d straddled=%d versions=%d violations=%d\n" %
                (reads, consistent, straddled, sum(len(v) for v in versions.values()), len(violations)))
        for v in violations[:50]:
            r.write("violation: %s\n" % v)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
