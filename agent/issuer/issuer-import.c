/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The import issuer: a certificate made elsewhere (certbot, a corporate CA)
 * is imported into ACM for the load balancers, and imported again to the
 * same ARN whenever its files change.
 *
 *   issue:  read the files (bounded, regular files only) → ACM's import
 *           rules checked locally (no AWS call for a bad source) → the
 *           attempt persisted → ImportCertificate (tags on the first import
 *           only; CertificateArn for a re-import or a configured arn:) → the
 *           ARN, serial and fingerprint persisted → the engine records it as
 *           served (no output:) or deploys a copy (output:).
 *   watch:  the fingerprint (SHA-256 of the three files' contents) against
 *           the one imported, on every --once pass and when the daemon pokes
 *           (inotify); DescribeCertificate every IMPORT_DESCRIBE_SEC finds a
 *           certificate deleted in ACM; an imported certificate close to
 *           expiry whose files were not renewed is a failure (someone must
 *           renew it where it is made).
 *
 * Crash safety: the attempt (fingerprint and serial of what is sent) is
 * saved before ImportCertificate. A re-import resumed re-imports to the same
 * ARN (the same bytes again: harmless). A first import resumed cannot know
 * whether ACM created a certificate: it looks for one with the attempt's
 * serial, Type IMPORTED and the agent's tags (SearchCertificates,
 * ListTagsForCertificate) and adopts it, so one name never gets two ARNs.
 *
 * A certificate deleted in ACM (ResourceNotFoundException) is reported and
 * not imported again on its own: a new import creates a new ARN that nothing
 * uses (load balancers, CloudFront refer to the old one), and a deletion is
 * usually deliberate; `acm-agent renew NAME --force` imports it anew. A
 * configured arn: that does not exist is a configuration error.
 *
 * Typed state ("issuer" in the state file):
 *   arn          the ACM certificate (ImportCertificate's answer or arn:)
 *   serial       the serial ACM holds from us (uppercase hex)
 *   fingerprint  of the files imported
 *   imported_at  the last ImportCertificate that succeeded
 *   checked_at   the last DescribeCertificate that found it
 *   attempt      {fingerprint, serial, at}: an ImportCertificate that may
 *                have been sent and whose answer is not saved
 *   deleted_arn  the ARN ACM answered ResourceNotFoundException for
 *
 * Test points (basic/testpoint.h): import-started (the attempt saved, not
 * sent), import-answered (ImportCertificate answered, nothing saved),
 * arn-persisted (the ARN and fingerprint saved).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/clock.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/testpoint.h"
#include "basic/util.h"
#include "crypto/crypto.h"
#include "engine/engine-sched.h"
#include "issuer/issuer-import.h"
#include "issuer/issuer.h"
#include "store/store-state.h"

/* The daemon checks the files again this often without a poke (inotify
 * may miss a change: a file system that does not report, a full queue). */
#define IMPORT_WATCH_SEC 3600
/* DescribeCertificate of an imported certificate, at most this often (as
 * daemon.acm_poll_interval's default for tracked ACM certificates). */
#define IMPORT_DESCRIBE_SEC (6 * 3600)
/* Files changed less than this long ago that do not fit together (certbot
 * swaps cert.pem, then privkey.pem, ...) are waited for, not refused. */
#define IMPORT_SETTLE_SEC 10
#define IMPORT_ARN_MAX 2048
/* Certificates an interrupted first import is looked for among. */
#define IMPORT_SEARCH_MAX 20

static const char *const file_role[_IMPORT_FILE_MAX] = { "cert", "key", "chain" };

/* ---- error text ---- */

static int file_error(char **ret_error, int r, import_file f, const char *path, const char *fmt, ...) _printf_(5, 6);
static int file_error(char **ret_error, int r, import_file f, const char *path, const char *fmt, ...) {
        _cleanup_(freep) char *what = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                what = NULL;
        va_end(ap);
        if (!what)
                return -ENOMEM;
        *ret_error = strprintf("%s file %s: %s", file_role[f], path, what);
        return *ret_error ? r : -ENOMEM;
}

/* ---- reading ---- */

static void wipe_free(char *p, size_t n) {
        if (!p)
                return;
        OPENSSL_cleanse(p, n);
        free(p);
}

import_source *issuer_import_source_free(import_source *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < _IMPORT_FILE_MAX; i++)
                wipe_free(s->raw[i], s->raw_len[i]);
        free(s->cert_pem);
        free(s->chain_pem);
        crypto_secret_free(s->key_pem);
        EVP_PKEY_free(s->key);
        free(s->serial);
        free(s->serial_colon);
        free(s->anchor_pem);
        free(s);
        return NULL;
}

static size_t file_max(import_file f) {
        return f == IMPORT_FILE_CERT ? IMPORT_CERT_MAX : f == IMPORT_FILE_KEY ? IMPORT_KEY_MAX : IMPORT_CHAIN_MAX;
}

static int too_large(char **ret_error, import_file f, const char *path, const char *size) {
        switch (f) {
        case IMPORT_FILE_CERT:
                return file_error(ret_error, -EFBIG, f, path,
                                  "%s bytes; ACM takes a certificate of at most %u bytes (CertificateBodyBlob): "
                                  "point cert at the certificate alone", size, IMPORT_CERT_MAX);
        case IMPORT_FILE_KEY:
                return file_error(ret_error, -EFBIG, f, path,
                                  "%s bytes (import rule: the private key must be at most %u bytes, 5 KB): "
                                  "point key at the private key alone; RSA keys above 4096 bits are not imported",
                                  size, IMPORT_KEY_MAX);
        default:
                return file_error(ret_error, -EFBIG, f, path,
                                  "%s bytes; the agent reads a chain of at most %u bytes and %u certificates: "
                                  "point chain at the issuing CA's certificates only", size, IMPORT_CHAIN_MAX,
                                  CRYPTO_CHAIN_MAX);
        }
}

static time_t newest(time_t a, const struct stat *st) {
        if (st->st_mtime > a)
                a = st->st_mtime;
        if (st->st_ctime > a)
                a = st->st_ctime;
        return a;
}

/* One source file: regular (checked before opening, so a FIFO or a device
 * is never opened), at most file_max(f) bytes, read whole. */
static int read_one(import_source *s, import_file f, const char *path, char **ret_error) {
        _cleanup_(closep) int fd = -1;
        struct stat lst, st;
        size_t max = file_max(f), len = 0;
        char *buf;
        int r;

        if (lstat(path, &lst) < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return file_error(ret_error, r, f, path, "no such file: fix issuer.%s, or create the file",
                                          file_role[f]);
                return file_error(ret_error, r, f, path, "cannot be looked up: %s", strerror(-r));
        }
        if (stat(path, &st) < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return file_error(ret_error, r, f, path,
                                          "a symbolic link to a file that does not exist (a dangling link)");
                return file_error(ret_error, r, f, path, "cannot be followed: %s", strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return file_error(ret_error, -EINVAL, f, path, "is %s, not a regular file: the agent reads %s from a "
                                  "regular file only (it never waits on a pipe or a device)", file_kind_string(st.st_mode),
                                  f == IMPORT_FILE_KEY ? "the private key" : "certificates");
        /* O_NONBLOCK: should the path have become a FIFO since, the open
         * does not wait for a writer; fstat below refuses it */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                if (r == -EACCES || r == -EPERM)
                        return file_error(ret_error, r, f, path, "cannot be read: %s (the agent runs as uid %u)",
                                          strerror(-r), (unsigned) geteuid());
                return file_error(ret_error, r, f, path, "cannot be opened: %s", strerror(-r));
        }
        if (fstat(fd, &st) < 0)
                return file_error(ret_error, -errno, f, path, "cannot be examined: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return file_error(ret_error, -EINVAL, f, path, "is %s, not a regular file", file_kind_string(st.st_mode));
        if ((uint64_t) st.st_size > max) {
                char n[32];
                snprintf(n, sizeof(n), "%" PRIu64, (uint64_t) st.st_size);
                return too_large(ret_error, f, path, n);
        }
        buf = malloc(max + 2);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + len, max + 1 - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        wipe_free(buf, len);
                        return file_error(ret_error, r, f, path, "cannot be read: %s", strerror(-r));
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max) {
                        /* it grew while being read */
                        char n[32];
                        wipe_free(buf, len);
                        snprintf(n, sizeof(n), "more than %zu", max);
                        return too_large(ret_error, f, path, n);
                }
        }
        buf[len] = 0;
        s->raw[f] = buf;
        s->raw_len[f] = len;
        s->changed_at = newest(newest(s->changed_at, &lst), &st);
        return 0;
}

static int fingerprint(import_source *s) {
        static const char domain[] = "acm-agent import sources v1\n";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok;

        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, crypto_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, domain, sizeof(domain) - 1) == 1;
        for (size_t i = 0; ok && i < _IMPORT_FILE_MAX; i++) {
                /* each part with its length (all ones: no such file), so the
                 * bytes cannot move from one file to the next unnoticed */
                uint64_t n = s->raw[i] ? (uint64_t) s->raw_len[i] : UINT64_MAX;
                unsigned char be[8];
                for (size_t k = 0; k < 8; k++)
                        be[k] = (unsigned char) (n >> (56 - 8 * k));
                ok = EVP_DigestUpdate(ctx, be, sizeof(be)) == 1 &&
                     (!s->raw[i] || EVP_DigestUpdate(ctx, s->raw[i], s->raw_len[i]) == 1);
        }
        ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 32;
        EVP_MD_CTX_free(ctx);
        if (!ok) {
                ERR_clear_error();
                return -EIO;
        }
        hex_encode(md, 32, s->fingerprint);
        return 0;
}

int issuer_import_read(const conf_issuer_import *c, import_source **ret, char **ret_error) {
        _cleanup_(issuer_import_source_freep) import_source *s = NULL;
        const char *paths[_IMPORT_FILE_MAX] = { c->cert, c->key, c->chain };
        int r;

        *ret_error = NULL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < _IMPORT_FILE_MAX; i++) {
                if (!paths[i])
                        continue;
                r = read_one(s, (import_file) i, paths[i], ret_error);
                if (r < 0)
                        return r;
        }
        r = fingerprint(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- PEM, strictly ---- */

typedef struct pem_block {
        char label[40];
        const char *begin;          /* "-----BEGIN" */
        size_t len;                 /* through the END line */
        unsigned line;              /* of the BEGIN line, 1-based */
        bool encrypted;             /* a "Proc-Type: 4,ENCRYPTED" header */
} pem_block;

#define PEM_BLOCKS_MAX 16

static bool blank(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!strchr(" \t\r", p[i]))
                        return false;
        return true;
}

/* "-----BEGIN X-----" / "-----END X-----" (trailing whitespace allowed):
 * copies X into label and returns true. */
static bool pem_marker(const char *p, size_t n, const char *word, char *label, size_t lsize) {
        size_t wl = strlen(word), k;

        while (n > 0 && strchr(" \t\r", p[n - 1]))
                n--;
        if (n < 10 + wl + 1 || !strneq(p, "-----", 5) || strncmp(p + 5, word, wl) != 0 || p[5 + wl] != ' ' ||
            !strneq(p + n - 5, "-----", 5))
                return false;
        k = n - 5 - (6 + wl);
        if (k == 0 || k >= lsize)
                return false;
        memcpy(label, p + 6 + wl, k);
        label[k] = 0;
        return true;
}

/* Splits a file into PEM blocks; anything but whitespace outside them is
 * refused with its line. */
static int pem_scan(const char *data, size_t len, import_file f, const char *path, pem_block *blocks,
                    size_t *ret_n, char **ret_error) {
        const char *p = data, *end = data + len;
        pem_block *cur = NULL;
        unsigned line = 0;
        size_t n = 0;

        if (memchr(data, 0, len))
                return file_error(ret_error, -EBADMSG, f, path,
                                  "holds binary data, not PEM (import rule: the certificate, private key and chain "
                                  "must be PEM-encoded)%s",
                                  len > 0 && (unsigned char) data[0] == 0x30
                                          ? "; it looks DER-encoded: convert it, e.g. openssl x509 -inform DER -in "
                                            "FILE -out FILE.pem (openssl pkey for a key)" : "");
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t ll = nl ? (size_t) (nl - p) : (size_t) (end - p);
                char label[sizeof(blocks->label)];

                line++;
                if (!cur) {
                        if (pem_marker(p, ll, "BEGIN", label, sizeof(label))) {
                                if (n == PEM_BLOCKS_MAX)
                                        return file_error(ret_error, -E2BIG, f, path, "more than %d PEM blocks",
                                                          PEM_BLOCKS_MAX);
                                cur = &blocks[n++];
                                *cur = (pem_block) { .begin = p, .line = line };
                                memcpy(cur->label, label, sizeof(label));
                        } else if (!blank(p, ll))
                                return file_error(ret_error, -EBADMSG, f, path,
                                                  "line %u: text outside a PEM block (import rule: the certificate, "
                                                  "private key and chain must be PEM-encoded): the file must hold "
                                                  "only -----BEGIN ...----- / -----END ...----- blocks; remove the "
                                                  "rest (e.g. the 'Bag Attributes' or 'subject=' lines openssl "
                                                  "writes)", line);
                } else if (pem_marker(p, ll, "END", label, sizeof(label))) {
                        if (!streq(label, cur->label))
                                return file_error(ret_error, -EBADMSG, f, path,
                                                  "line %u: END %s closes the BEGIN %s of line %u (import rule: the "
                                                  "certificate, private key and chain must be PEM-encoded)",
                                                  line, label, cur->label, cur->line);
                        cur->len = (size_t) ((nl ? nl + 1 : end) - cur->begin);
                        cur = NULL;
                } else if (strneq(p, "Proc-Type:", 10) && memmem(p, ll, "ENCRYPTED", 9))
                        cur->encrypted = true;
                p = nl ? nl + 1 : end;
        }
        if (cur)
                return file_error(ret_error, -EBADMSG, f, path,
                                  "line %u: BEGIN %s without its END line (import rule: the certificate, private key "
                                  "and chain must be PEM-encoded): the file is cut short", cur->line, cur->label);
        *ret_n = n;
        return 0;
}

static X509 *block_x509(const pem_block *b) {
        BIO *bio = BIO_new_mem_buf(b->begin, (int) b->len);
        X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

        BIO_free(bio);
        ERR_clear_error();
        return x;
}

static int x509_to_pem(X509 *x, BIO *out) {
        return PEM_write_bio_X509(out, x) == 1 ? 0 : -ENOMEM;
}

static int bio_take(BIO *b, char **ret) {
        char *data;
        long n = BIO_get_mem_data(b, &data);
        char *s = n >= 0 ? strndup(data, (size_t) n) : NULL;

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static void x509_freep(X509 **x) {
        X509_free(*x);
}

static void bio_freep(BIO **b) {
        BIO_free(*b);
}

/* ---- the rules ---- */

/* ACM's KeyAlgorithm for a public key, NULL when ACM does not import it;
 * desc describes the key either way. */
static const char *key_algorithm(EVP_PKEY *k, char *desc, size_t dlen) {
        int id = EVP_PKEY_get_base_id(k), bits = EVP_PKEY_get_bits(k);

        if (id == EVP_PKEY_RSA) {
                snprintf(desc, dlen, "RSA %d bits", bits);
                switch (bits) {
                case 1024:
                        return "RSA_1024";
                case 2048:
                        return "RSA_2048";
                case 3072:
                        return "RSA_3072";
                case 4096:
                        return "RSA_4096";
                default:
                        return NULL;
                }
        }
        if (id == EVP_PKEY_EC) {
                char group[64] = "";
                size_t gl = 0;
                int nid;
                if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl) != 1) {
                        ERR_clear_error();
                        snprintf(desc, dlen, "EC (unnamed curve)");
                        return NULL;
                }
                snprintf(desc, dlen, "EC curve %s", group);
                nid = OBJ_sn2nid(group);
                if (nid == NID_undef)
                        nid = EC_curve_nist2nid(group);
                return nid == NID_X9_62_prime256v1 ? "EC_prime256v1"
                       : nid == NID_secp384r1      ? "EC_secp384r1"
                       : nid == NID_secp521r1      ? "EC_secp521r1"
                                                   : NULL;
        }
        snprintf(desc, dlen, "%s", EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "of an unknown type");
        return NULL;
}

static const char *key_family(int base_id) {
        return base_id == EVP_PKEY_RSA || base_id == EVP_PKEY_RSA_PSS ? "RSA" : base_id == EVP_PKEY_EC ? "EC" : NULL;
}

/* The key family the issuer signed x with ("RSA", "EC"), or NULL. */
static const char *signature_family(const X509 *x, const char **ret_name) {
        int sig = X509_get_signature_nid(x), pk = NID_undef;

        *ret_name = OBJ_nid2ln(sig) ? OBJ_nid2ln(sig) : "unknown";
        if (sig == NID_rsassaPss)
                return "RSA";
        if (OBJ_find_sigid_algs(sig, NULL, &pk) != 1)
                return NULL;
        return pk == NID_rsaEncryption || pk == NID_rsassaPss ? "RSA" : pk == NID_X9_62_id_ecPublicKey ? "EC" : NULL;
}

static int time_of(const ASN1_TIME *t, time_t *ret) {
        struct tm tm;

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return -EBADMSG;
        *ret = timegm(&tm);
        return 0;
}

static int check_ocsp(X509 *x, const char *path, char **ret_error) {
        AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
        int r = 0;

        for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia) && r == 0; i++) {
                ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
                if (OBJ_obj2nid(ad->method) != NID_ad_OCSP || ad->location->type != GEN_URI)
                        continue;
                int n = ASN1_STRING_length(ad->location->d.uniformResourceIdentifier);
                if (n > (int) IMPORT_OCSP_URL_MAX)
                        r = file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CERT, path,
                                       "its OCSP URL (Authority Information Access) is %d characters long (import "
                                       "rule: the OCSP authority URL must not exceed %u characters): ask the CA for "
                                       "a certificate with a shorter OCSP URL", n, IMPORT_OCSP_URL_MAX);
        }
        AUTHORITY_INFO_ACCESS_free(aia);
        ERR_clear_error();
        return r;
}

static int check_cert(import_source *s, const char *path, time_t now, X509 **ret, char **ret_error) {
        _cleanup_(x509_freep) X509 *x = NULL;
        _cleanup_(bio_freep) BIO *out = NULL;
        pem_block b[PEM_BLOCKS_MAX];
        size_t n = 0, certs = 0;
        const char *alg, *sigfam, *signame, *keyfam;
        char desc[64], t[32];
        int r;

        r = pem_scan(s->raw[IMPORT_FILE_CERT], s->raw_len[IMPORT_FILE_CERT], IMPORT_FILE_CERT, path, b, &n, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!streq(b[i].label, "CERTIFICATE"))
                        return file_error(ret_error, -EBADMSG, IMPORT_FILE_CERT, path,
                                          "line %u: a %s block; cert must hold the certificate alone (import rule: "
                                          "the certificate must be PEM-encoded, one certificate)%s", b[i].line,
                                          b[i].label, strstr(b[i].label, "PRIVATE KEY")
                                                              ? ": the private key goes in its own file (issuer.key)" : "");
                certs++;
        }
        if (certs == 0)
                return file_error(ret_error, -EBADMSG, IMPORT_FILE_CERT, path,
                                  "holds no PEM certificate (import rule: the certificate must be PEM-encoded)");
        if (certs > 1)
                return file_error(ret_error, -EBADMSG, IMPORT_FILE_CERT, path,
                                  "holds %zu certificates (import rule: cert holds exactly one certificate): point "
                                  "cert at the certificate alone and chain at the CA certificates (certbot: "
                                  "cert.pem and chain.pem, not fullchain.pem)", certs);
        x = block_x509(&b[0]);
        if (!x)
                return file_error(ret_error, -EBADMSG, IMPORT_FILE_CERT, path,
                                  "line %u: the CERTIFICATE block is not a valid X.509 certificate (import rule: the "
                                  "certificate must be PEM-encoded)", b[0].line);
        if (X509_get_version(x) != X509_VERSION_3)
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CERT, path,
                                  "an X.509 version %ld certificate (import rule: ACM imports X.509 version 3 "
                                  "certificates only)", X509_get_version(x) + 1);
        if (X509_NAME_entry_count(X509_get_issuer_name(x)) == 0)
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CERT, path,
                                  "its Issuer is empty (import rule: the Issuer field must not be empty)");
        if (time_of(X509_get0_notBefore(x), &s->not_before) < 0 || time_of(X509_get0_notAfter(x), &s->not_after) < 0)
                return file_error(ret_error, -EBADMSG, IMPORT_FILE_CERT, path, "its validity dates cannot be read");
        if (now < s->not_before)
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CERT, path,
                                  "not valid before %s (import rule: the current time must be between Not Before "
                                  "and Not After): it is imported once it is valid (check this host's clock)",
                                  clock_format_rfc3339(s->not_before, t));
        if (now >= s->not_after)
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CERT, path,
                                  "expired at %s (import rule: the current time must be between Not Before and Not "
                                  "After): renew it where it is made (e.g. certbot renew); the agent imports the "
                                  "new files when they change", clock_format_rfc3339(s->not_after, t));
        EVP_PKEY *pub = X509_get0_pubkey(x);
        if (!pub)
                return file_error(ret_error, -EBADMSG, IMPORT_FILE_CERT, path, "its public key cannot be read");
        alg = key_algorithm(pub, desc, sizeof(desc));
        if (!alg)
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CERT, path,
                                  "its key is %s (import rule: ACM imports RSA 1024, 2048, 3072 and 4096 bit and EC "
                                  "P-256, P-384 and P-521 keys only)", desc);
        s->key_algorithm = alg;
        keyfam = key_family(EVP_PKEY_get_base_id(pub));
        sigfam = signature_family(x, &signame);
        if (!sigfam || !streq(sigfam, keyfam))
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CERT, path,
                                  "its key is %s but its issuer signed it with %s (import rule: the certificate's key "
                                  "algorithm must match the algorithm of the signing CA): get a certificate from "
                                  "a CA whose key is %s (Let's Encrypt: an ECDSA certificate from an ECDSA "
                                  "intermediate)", keyfam, signame, keyfam);
        r = check_ocsp(x, path, ret_error);
        if (r < 0)
                return r;
        out = BIO_new(BIO_s_mem());
        if (!out || x509_to_pem(x, out) < 0 || bio_take(out, &s->cert_pem) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(x);
        return 0;
}

static bool is_key_label(const char *l) {
        return streq(l, "PRIVATE KEY") || streq(l, "RSA PRIVATE KEY") || streq(l, "EC PRIVATE KEY");
}

static int check_key(import_source *s, const char *path, X509 *x, char **ret_error) {
        pem_block b[PEM_BLOCKS_MAX];
        const pem_block *kb = NULL;
        size_t n = 0;
        int r;

        r = pem_scan(s->raw[IMPORT_FILE_KEY], s->raw_len[IMPORT_FILE_KEY], IMPORT_FILE_KEY, path, b, &n, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (streq(b[i].label, "ENCRYPTED PRIVATE KEY") || (is_key_label(b[i].label) && b[i].encrypted))
                        return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_KEY, path,
                                          "line %u: the private key is encrypted (import rule: the private key must "
                                          "be unencrypted): write it unencrypted, e.g. openssl pkey -in %s -out "
                                          "NEW (keep NEW readable by root only)", b[i].line, path);
                if (is_key_label(b[i].label)) {
                        if (kb)
                                return file_error(ret_error, -EBADMSG, IMPORT_FILE_KEY, path,
                                                  "line %u: a second private key; key must hold exactly one",
                                                  b[i].line);
                        kb = &b[i];
                } else if (!streq(b[i].label, "EC PARAMETERS"))
                        return file_error(ret_error, -EBADMSG, IMPORT_FILE_KEY, path,
                                          "line %u: a %s block; key must hold the private key alone (import rule: "
                                          "the private key must be PEM-encoded)", b[i].line, b[i].label);
        }
        if (!kb)
                return file_error(ret_error, -EBADMSG, IMPORT_FILE_KEY, path,
                                  "holds no PEM private key (import rule: the private key must be PEM-encoded, "
                                  "-----BEGIN PRIVATE KEY-----)");
        r = crypto_key_from_pem(kb->begin, kb->len, &s->key);
        if (r < 0)
                return file_error(ret_error, -EBADMSG, IMPORT_FILE_KEY, path,
                                  "line %u: the %s block is not a valid private key", kb->line, kb->label);
        if (EVP_PKEY_eq(X509_get0_pubkey(x), s->key) != 1) {
                ERR_clear_error();
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_KEY, path,
                                  "does not match the certificate in %s (import rule: the private key must match "
                                  "the certificate): point key and cert at the same generation (certbot: "
                                  "privkey.pem and cert.pem of one live/ directory)", "cert");
        }
        r = crypto_key_to_pem(s->key, &s->key_pem);
        if (r < 0)
                return r;
        if (strlen(s->key_pem) > IMPORT_KEY_MAX)
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_KEY, path,
                                  "the private key is %zu bytes as PKCS#8 PEM (import rule: the private key must be "
                                  "at most %u bytes, 5 KB)", strlen(s->key_pem), IMPORT_KEY_MAX);
        return 0;
}

static void x509_stack_freep(STACK_OF(X509) **sk) {
        sk_X509_pop_free(*sk, X509_free);
}

/* Each certificate of sk issued the one before it (the first, s's
 * certificate): the order ACM serves the chain in. */
static int check_chain_order(const import_source *s, STACK_OF(X509) *sk, const conf_cert *cert, char **ret_error) {
        _cleanup_(bio_freep) BIO *in = BIO_new_mem_buf(s->cert_pem, -1);
        X509 *leaf = in ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
        X509 *prev = leaf;
        int r = 0;

        if (!leaf)
                return -ENOMEM;
        for (int i = 0; i < sk_X509_num(sk); i++) {
                X509 *x = sk_X509_value(sk, i);
                if (X509_check_issued(x, prev) != X509_V_OK) {
                        char subject[256] = "";
                        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
                        r = file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CHAIN, cert->issuer.import.chain,
                                       "is not the chain of the certificate in %s in order: certificate %d (%s) did "
                                       "not issue the %s before it (import rule: the chain must hold the "
                                       "certificate's CA certificates, issuer first): put them in that order",
                                       cert->issuer.import.cert, i + 1, subject, i ? "certificate" : "certificate itself");
                        break;
                }
                prev = x;
        }
        X509_free(leaf);
        ERR_clear_error();
        return r;
}

static int check_chain(import_source *s, const conf_cert *cert, time_t now, char **ret_error) {
        const char *path = cert->issuer.import.chain;
        _cleanup_(x509_stack_freep) STACK_OF(X509) *sk = NULL;
        _cleanup_(bio_freep) BIO *out = NULL;
        _cleanup_(freep) char *top = NULL, *reason = NULL;
        char *empty[] = { NULL };
        pem_block b[PEM_BLOCKS_MAX];
        size_t n = 0;
        int r;

        r = pem_scan(s->raw[IMPORT_FILE_CHAIN], s->raw_len[IMPORT_FILE_CHAIN], IMPORT_FILE_CHAIN, path, b, &n,
                     ret_error);
        if (r < 0)
                return r;
        if (n == 0)
                return file_error(ret_error, -EBADMSG, IMPORT_FILE_CHAIN, path,
                                  "holds no certificate (import rule: the chain must hold PEM certificates): remove "
                                  "issuer.chain, or point it at the CA certificates");
        if (n > CRYPTO_CHAIN_MAX)
                return file_error(ret_error, -E2BIG, IMPORT_FILE_CHAIN, path,
                                  "holds %zu blocks; the agent takes a chain of at most %u certificates", n,
                                  CRYPTO_CHAIN_MAX);
        sk = sk_X509_new_null();
        out = BIO_new(BIO_s_mem());
        if (!sk || !out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!streq(b[i].label, "CERTIFICATE"))
                        return file_error(ret_error, -EBADMSG, IMPORT_FILE_CHAIN, path,
                                          "line %u: a %s block (import rule: the chain must hold PEM certificates "
                                          "only)%s", b[i].line, b[i].label,
                                          strstr(b[i].label, "PRIVATE KEY")
                                                  ? ": a private key must never be sent as a chain; remove it" : "");
                X509 *x = block_x509(&b[i]);
                if (!x)
                        return file_error(ret_error, -EBADMSG, IMPORT_FILE_CHAIN, path,
                                          "line %u: the CERTIFICATE block is not a valid X.509 certificate (import "
                                          "rule: the chain must hold PEM certificates only)", b[i].line);
                if (!sk_X509_push(sk, x)) {
                        X509_free(x);
                        return -ENOMEM;
                }
                if (x509_to_pem(x, out) < 0)
                        return -ENOMEM;
        }
        r = bio_take(out, &s->chain_pem);
        if (r < 0)
                return r;
        /* Its own certificate's chain: the path from the certificate up to
         * the chain's last certificate verifies (that certificate taken as
         * given; trust is not the question here, ACM does not ask it). */
        _cleanup_(bio_freep) BIO *tb = BIO_new(BIO_s_mem());
        if (!tb || x509_to_pem(sk_X509_value(sk, (int) n - 1), tb) < 0 || bio_take(tb, &top) < 0)
                return -ENOMEM;
        conf_cert none = { .dns_names = empty, .ip_addresses = empty, .email_addresses = empty, .uris = empty };
        r = crypto_verify_issued(&none, s->key, s->cert_pem, s->chain_pem, top, NULL, now, NULL, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return file_error(ret_error, -EKEYREJECTED, IMPORT_FILE_CHAIN, path,
                                  "is not the chain of the certificate in %s: %s (import rule: the chain must hold "
                                  "the certificate's CA certificates, issuer first): point chain at the chain "
                                  "that came with the certificate (certbot: chain.pem of the same live/ directory)",
                                  cert->issuer.import.cert, reason ? reason : strerror(-r));
        /* The path verifies whatever the order; ACM takes the chain as given,
         * so each certificate must have issued the one before it. */
        r = check_chain_order(s, sk, cert, ret_error);
        if (r < 0)
                return r;
        X509 *last = sk_X509_value(sk, (int) n - 1);
        if (X509_check_issued(last, last) == X509_V_OK)
                s->anchor_pem = TAKE_PTR(top);
        ERR_clear_error();
        return 0;
}

int issuer_import_check(import_source *s, const conf_cert *cert, time_t now, char **ret_error) {
        const conf_issuer_import *c = &cert->issuer.import;
        _cleanup_(x509_freep) X509 *x = NULL;
        _cleanup_(freep) char *reason = NULL;
        crypto_cert_info *info = NULL;
        int r;

        *ret_error = NULL;
        if (s->checked)
                return 0;
        r = check_cert(s, c->cert, now, &x, ret_error);
        if (r >= 0)
                r = check_key(s, c->key, x, ret_error);
        if (r >= 0 && s->raw[IMPORT_FILE_CHAIN])
                r = check_chain(s, cert, now, ret_error);
        /* the raw key is not needed any more */
        wipe_free(s->raw[IMPORT_FILE_KEY], s->raw_len[IMPORT_FILE_KEY]);
        s->raw[IMPORT_FILE_KEY] = NULL;
        if (r < 0)
                return r;
        if (!s->chain_pem && X509_check_issued(x, x) == X509_V_OK && !(s->anchor_pem = strdup(s->cert_pem)))
                return -ENOMEM;
        ERR_clear_error();
        r = crypto_cert_info_get(s->cert_pem, strlen(s->cert_pem), &info);
        if (r < 0)
                return r == -ENOMEM ? r : file_error(ret_error, r, IMPORT_FILE_CERT, c->cert, "cannot be read");
        s->serial = TAKE_PTR(info->serial_hex);
        s->serial_colon = TAKE_PTR(info->serial_colon);
        crypto_cert_info_free(info);
        if (cert->output.configured) {
                /* what the deploy will verify, checked now: a copy that
                 * cannot be deployed is refused before ACM gets it */
                r = crypto_verify_issued(cert, s->key, s->cert_pem, s->chain_pem, s->anchor_pem, NULL, now, NULL,
                                         &reason);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *ret_error = strprintf(
                                "cert file %s cannot be copied into output.dir %s: %s; a copy is verified up to the "
                                "system's trust store, or to the self-signed root the chain file ends in (add the "
                                "root to %s), and must carry the configured names; or remove output: to import "
                                "only", c->cert, cert->output.dir, reason ? reason : strerror(-r),
                                c->chain ? c->chain : "a chain file");
                        return *ret_error ? -EKEYREJECTED : -ENOMEM;
                }
        }
        s->checked = true;
        return 0;
}

/* ---- the request ---- */

int issuer_import_tags(const conf_cert *cert, const char *host_id, json_t **ret, char **ret_error) {
        const conf_issuer_import *c = &cert->issuer.import;
        _cleanup_(json_decrefp) json_t *tags = json_array();
        size_t n = c->n_tags + 1 + !isempty(host_id);

        *ret_error = NULL;
        if (!tags)
                return -ENOMEM;
        if (n > IMPORT_TAGS_MAX) {
                *ret_error = strprintf("issuer.tags: %zu tags; ACM takes at most %u and the agent adds %s and %s: "
                                       "remove %zu", c->n_tags, IMPORT_TAGS_MAX, IMPORT_TAG_NAME, IMPORT_TAG_HOST,
                                       n - IMPORT_TAGS_MAX);
                return *ret_error ? -EINVAL : -ENOMEM;
        }
        for (size_t i = 0; i < c->n_tags; i++) {
                if (streq(c->tags[i].key, IMPORT_TAG_NAME) || streq(c->tags[i].key, IMPORT_TAG_HOST)) {
                        *ret_error = strprintf("issuer.tags: '%s' is the agent's own tag (it finds its "
                                               "certificates by it): use another key", c->tags[i].key);
                        return *ret_error ? -EINVAL : -ENOMEM;
                }
                if (json_array_append_new(tags, json_pack("{s:s,s:s}", "Key", c->tags[i].key, "Value",
                                                          c->tags[i].value ? c->tags[i].value : "")) < 0)
                        return -ENOMEM;
        }
        if (json_array_append_new(tags, json_pack("{s:s,s:s}", "Key", IMPORT_TAG_NAME, "Value", cert->name)) < 0 ||
            (!isempty(host_id) &&
             json_array_append_new(tags, json_pack("{s:s,s:s}", "Key", IMPORT_TAG_HOST, "Value", host_id)) < 0))
                return -ENOMEM;
        *ret = TAKE_PTR(tags);
        return 0;
}

static int base64_blob(const char *in, char **ret) {
        size_t len = strlen(in), n = 4 * ((len + 2) / 3) + 1;
        char *out = malloc(n);

        if (!out)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) in, (int) len);
        *ret = out;
        return 0;
}

int issuer_import_request(const import_source *s, const conf_cert *cert, const char *arn, const char *host_id,
                          json_t **ret, char **ret_error) {
        _cleanup_(freep) char *c64 = NULL, *ch64 = NULL;
        _cleanup_(crypto_secret_freep) char *k64 = NULL;
        json_t *req, *tags = NULL;
        int r;

        *ret_error = NULL;
        if (!s->checked)
                return -EINVAL;
        if ((r = base64_blob(s->cert_pem, &c64)) < 0 || (r = base64_blob(s->key_pem, &k64)) < 0 ||
            (s->chain_pem && (r = base64_blob(s->chain_pem, &ch64)) < 0))
                return r;
        if (!arn) {
                r = issuer_import_tags(cert, host_id, &tags, ret_error);
                if (r < 0)
                        return r;
        }
        req = json_pack("{s:s,s:s}", "Certificate", c64, "PrivateKey", k64);
        if (!req ||
            (ch64 && json_object_set_new(req, "CertificateChain", json_string(ch64)) < 0) ||
            (arn && json_object_set_new(req, "CertificateArn", json_string(arn)) < 0) ||
            (tags && json_object_set_new(req, "Tags", TAKE_PTR(tags)) < 0)) {
                json_decref(tags);
                issuer_import_request_wipe(req);
                return -ENOMEM;
        }
        *ret = req;
        return 0;
}

json_t *issuer_import_request_wipe(json_t *req) {
        json_t *k = json_object_get(req, "PrivateKey");

        /* jansson keeps its own copy of the string: overwrite it where it is
         * before the reference goes (nothing else reads it any more) */
        if (json_is_string(k))
                OPENSSL_cleanse((char *) json_string_value(k), json_string_length(k));
        json_decref(req);
        return NULL;
}

unsigned issuer_import_conflict_delay(unsigned n) {
        unsigned d = 2;

        if (n == 0 || n > IMPORT_CONFLICT_RETRIES)
                return 0;
        for (unsigned i = 1; i < n && d < 30; i++)
                d *= 2;
        return d > 30 ? 30 : d;
}

/* ---- typed state ---- */

typedef struct import_state {
        char *arn;
        char *serial;
        char *fingerprint;
        time_t imported_at;
        time_t checked_at;
        char *attempt_fingerprint;
        char *attempt_serial;
        time_t attempt_at;
        char *deleted_arn;
} import_state;

static void import_state_free(void *v) {
        import_state *s = v;

        if (!s)
                return;
        free(s->arn);
        free(s->serial);
        free(s->fingerprint);
        free(s->attempt_fingerprint);
        free(s->attempt_serial);
        free(s->deleted_arn);
        free(s);
}

/* Only the attempt: what ACM holds (arn, serial, fingerprint) stays known. */
static void import_state_reset(void *v) {
        import_state *s = v;

        s->attempt_fingerprint = (free(s->attempt_fingerprint), NULL);
        s->attempt_serial = (free(s->attempt_serial), NULL);
        s->attempt_at = 0;
}

static bool import_state_in_flight(const void *v) {
        return ((const import_state *) v)->attempt_fingerprint != NULL;
}

static int import_state_load(json_t *o, void **ret, char **ret_error) {
        import_state *s = calloc(1, sizeof(*s));
        json_t *a = json_object_get(o, "attempt");
        int r;

        *ret_error = NULL;
        if (!s)
                return -ENOMEM;
        if (a && !json_is_null(a) && !json_is_object(a)) {
                *ret_error = strdup("\"attempt\" is not an object");
                import_state_free(s);
                return -EBADMSG;
        }
        if ((r = state_part_string(o, "arn", 1, IMPORT_ARN_MAX, &s->arn, ret_error)) < 0 ||
            (r = state_part_string(o, "serial", 1, 128, &s->serial, ret_error)) < 0 ||
            (r = state_part_string(o, "fingerprint", 1, 64, &s->fingerprint, ret_error)) < 0 ||
            (r = state_part_time(o, "imported_at", &s->imported_at, ret_error)) < 0 ||
            (r = state_part_time(o, "checked_at", &s->checked_at, ret_error)) < 0 ||
            (r = state_part_string(o, "deleted_arn", 1, IMPORT_ARN_MAX, &s->deleted_arn, ret_error)) < 0 ||
            (r = state_part_string(a, "fingerprint", 1, 64, &s->attempt_fingerprint, ret_error)) < 0 ||
            (r = state_part_string(a, "serial", 1, 128, &s->attempt_serial, ret_error)) < 0 ||
            (r = state_part_time(a, "at", &s->attempt_at, ret_error)) < 0) {
                import_state_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

static int set_opt_str(json_t *o, const char *k, const char *v) {
        return v && json_object_set_new(o, k, json_string(v)) < 0 ? -ENOMEM : 0;
}

static int set_opt_time(json_t *o, const char *k, time_t t) {
        char buf[32];
        return t && state_format_time(t, buf, sizeof(buf)) && json_object_set_new(o, k, json_string(buf)) < 0 ? -ENOMEM
                                                                                                          : 0;
}

static int import_state_save(const void *v, json_t **ret) {
        const import_state *s = v;
        json_t *o = json_object(), *a = NULL;

        if (!o)
                return -ENOMEM;
        if (s->attempt_fingerprint &&
            (!(a = json_object()) || json_object_set_new(o, "attempt", a) < 0 ||
             set_opt_str(a, "fingerprint", s->attempt_fingerprint) < 0 || set_opt_str(a, "serial", s->attempt_serial) < 0 ||
             set_opt_time(a, "at", s->attempt_at) < 0))
                goto oom;
        if (set_opt_str(o, "arn", s->arn) < 0 || set_opt_str(o, "serial", s->serial) < 0 ||
            set_opt_str(o, "fingerprint", s->fingerprint) < 0 || set_opt_time(o, "imported_at", s->imported_at) < 0 ||
            set_opt_time(o, "checked_at", s->checked_at) < 0 || set_opt_str(o, "deleted_arn", s->deleted_arn) < 0)
                goto oom;
        *ret = o;
        return 0;
oom:
        json_decref(o);
        return -ENOMEM;
}

/* ---- the engine's side ---- */

static int import_expect(const conf_cert *cert, const void *state _unused_, cert_expect *ret) {
        /* the names come from the file; configured ones must be in it */
        *ret = (cert_expect) { .want = *cert };
        return 0;
}

static bool import_deploys(const conf_cert *cert) {
        return cert->output.configured;
}

static uint64_t settle_sec(void) {
        const char *e = getenv("ACM_AGENT_IMPORT_SETTLE");
        uint64_t v;

        if (e && parse_uint64(e, &v) >= 0 && v <= 3600)
                return v;
        return IMPORT_SETTLE_SEC;
}

/* Files changed within the settle time (in either direction of the clock)
 * may be half replaced: a rule they break may be fixed by the next write. */
static bool settling(const import_source *s, time_t now, time_t *ret_until) {
        time_t w = (time_t) settle_sec();

        if (w == 0 || s->changed_at + w <= now || s->changed_at > now + w)
                return false;
        *ret_until = s->changed_at + w + 1;
        return true;
}

/* Reads and checks the files at now. ret_until is set (and 0 returned
 * with *ret NULL) when they break a rule but are still being replaced. */
static int source_load(const conf_cert *cert, time_t now, import_source **ret, time_t *ret_until, char **ret_error) {
        _cleanup_(issuer_import_source_freep) import_source *s = NULL;
        int r;

        *ret_until = 0;
        *ret = NULL;
        r = issuer_import_read(&cert->issuer.import, &s, ret_error);
        if (r < 0)
                return r;
        r = issuer_import_check(s, cert, now, ret_error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (settling(s, now, ret_until))
                        return 0;
                return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int import_preflight(const conf_cert *cert, char **ret_error) {
        _cleanup_(issuer_import_source_freep) import_source *s = NULL;
        _cleanup_(json_decrefp) json_t *tags = NULL;
        time_t until;
        int r;

        *ret_error = NULL;
        if (!cert->issuer.import.arn) {
                /* counted with the host tag, which a host with a machine id adds */
                r = issuer_import_tags(cert, "0", &tags, ret_error);
                if (r < 0)
                        return r;
        }
        /* files still being replaced pass: the issue waits for them */
        return source_load(cert, clock_now(), &s, &until, ret_error);
}

/* The runtime of one operation. */
typedef struct imp {
        machine *m;
        import_state *s;
        import_source *src;
        aws_request *req;
        json_t *request;          /* ImportCertificate's body: holds the key */
        sd_event_source *timer;
        unsigned conflicts;
        const char *target;       /* CertificateArn of the import, NULL: a first import */
        char **found;             /* search: ARNs with the attempt's serial */
        size_t n_found, i_found;
        char *adopted;            /* search: the first that carries our tags */
        size_t n_ours;
} imp;

static void imp_fail(imp *p, const char *kind, const char *fmt, ...) _printf_(3, 4);
static void imp_fail(imp *p, const char *kind, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        machine_fail(p->m, kind, "%s", msg ? msg : "out of memory");
}

static void imp_fail_aws(imp *p, const aws_error *err, const char *context) {
        _cleanup_(freep) char *line = aws_error_format(err);

        machine_fail_aws(p->m, err, "%s: %s", context, line ? line : err->type);
}

static void import_cancel(machine *m) {
        imp *p = machine_get_data(m);

        if (!p)
                return;
        machine_set_data(m, NULL);
        aws_request_cancel(p->req);
        sd_event_source_disable_unref(p->timer);
        issuer_import_request_wipe(p->request);
        issuer_import_source_free(p->src);
        strv_free(p->found);
        free(p->adopted);
        free(p);
}

static imp *imp_new(machine *m) {
        imp *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        p->m = m;
        p->s = machine_issuer_state(m);
        machine_set_data(m, p);
        return p;
}

/* ACM holds the files: the engine records it (no output:) or deploys a copy. */
static void deliver(imp *p) {
        machine *m = p->m;
        import_source *src = p->src;

        if (!import_deploys(machine_cert(m))) {
                /* machine_served() drops this operation (and src) first */
                _cleanup_(freep) char *serial = strdup(src->serial);
                time_t nb = src->not_before, na = src->not_after;
                if (!serial)
                        return imp_fail(p, "oom", "out of memory");
                return machine_served(m, serial, p->s->arn, nb, na);
        }
        issued_cert ic = {
                .key = src->key,
                .cert_pem = src->cert_pem,
                .chain_pem = src->chain_pem,
                /* the root the operator's chain ends in is trusted because
                 * the operator gave it; else the system's store */
                .anchor_pem = src->anchor_pem,
                .arn = p->s->arn,
                .key_is_pending = false,
                .watch_at = machine_now(m) + IMPORT_WATCH_SEC,
        };
        machine_issued(m, &ic);
}

static void after_imported(machine *m, void *userdata) {
        imp *p = userdata;

        testpoint_hit("arn-persisted", machine_name(m));
        deliver(p);
}

static void send_import(imp *p);

static int on_conflict_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        imp *p = userdata;

        p->timer = sd_event_source_disable_unref(p->timer);
        send_import(p);
        return 0;
}

static void on_import(const aws_error *err, json_t *resp, void *userdata) {
        imp *p = userdata;
        machine *m = p->m;
        const conf_cert *cert = machine_cert(m);
        import_state *s = p->s;
        const char *arn;

        p->req = NULL;
        if (err) {
                if (streq(err->type, "ConflictException")) {
                        /* another operation on this certificate is running in
                         * ACM: try again a little later, a few times */
                        unsigned d = issuer_import_conflict_delay(++p->conflicts);
                        if (d > 0) {
                                uint64_t now;
                                log_cert(LOG_INFO, machine_name(m), "ImportCertificate answered ConflictException "
                                         "(another operation on %s is in progress); trying again in %u s",
                                         p->target ? p->target : "the certificate", d);
                                (void) sd_event_now(machine_loop(m), CLOCK_MONOTONIC, &now);
                                if (sd_event_add_time(machine_loop(m), &p->timer, CLOCK_MONOTONIC,
                                                      now + d * USEC_PER_SEC, USEC_PER_MSEC * 100, on_conflict_timer,
                                                      p) >= 0)
                                        return;
                        }
                        p->request = issuer_import_request_wipe(p->request);
                        import_state_reset(s);  /* not performed */
                        return imp_fail_aws(p, err, "ImportCertificate kept answering ConflictException (another "
                                            "operation on the certificate is in progress in ACM): retried later");
                }
                p->request = issuer_import_request_wipe(p->request);
                if (err->kind == AWS_ERROR_NOT_FOUND && p->target) {
                        import_state_reset(s);
                        if (cert->issuer.import.arn && streq(p->target, cert->issuer.import.arn))
                                return imp_fail(p, "aws:not-found",
                                                "the certificate arn: %s does not exist in ACM (%s): correct "
                                                "issuer.arn (account and region), or remove it to import a new "
                                                "certificate", p->target, err->message);
                        (void) state_set_string(&s->deleted_arn, p->target);
                        return imp_fail(p, "aws:not-found",
                                        "the ACM certificate %s this host imports into was deleted (%s); it is not "
                                        "imported again on its own (a new import gets a new ARN that nothing "
                                        "uses): run 'acm-agent renew %s --force' to import it as a new "
                                        "certificate, or set issuer.arn", p->target, err->message, machine_name(m));
                }
                if (err->kind == AWS_ERROR_INVALID || err->kind == AWS_ERROR_AUTH || err->kind == AWS_ERROR_LIMIT ||
                    err->kind == AWS_ERROR_THROTTLED || err->kind == AWS_ERROR_CREDENTIALS)
                        /* refused before anything was done: no certificate
                         * to look for at the next attempt */
                        import_state_reset(s);
                if (err->kind == AWS_ERROR_LIMIT)
                        return imp_fail_aws(p, err, "ImportCertificate: the account holds or imported as many "
                                            "certificates as ACM allows (2,500 imported held, 5,000 imported a "
                                            "year): delete unused ones or ask AWS for a higher quota");
                if (err->kind == AWS_ERROR_THROTTLED)
                        return imp_fail_aws(p, err, "ImportCertificate is throttled (1 call per second per account, "
                                            "shared by every host): retried later");
                if (err->kind == AWS_ERROR_INVALID && p->target) {
                        _cleanup_(freep) char *ctx = strprintf(
                                "ACM refused the re-import of %s over %s (it keeps the key type and size and the "
                                "key usages of a certificate across re-imports)", cert->issuer.import.cert, p->target);
                        return imp_fail_aws(p, err, ctx ? ctx : "ImportCertificate");
                }
                _cleanup_(freep) char *ctx = strprintf("ImportCertificate of %s", cert->issuer.import.cert);
                return imp_fail_aws(p, err, ctx ? ctx : "ImportCertificate");
        }
        p->request = issuer_import_request_wipe(p->request);
        arn = json_string_value(json_object_get(resp, "CertificateArn"));
        if (!arn || !strneq(arn, "arn:", 4) || strlen(arn) > IMPORT_ARN_MAX)
                return imp_fail(p, "aws", "ImportCertificate answered without a usable CertificateArn");
        testpoint_hit("import-answered", machine_name(m));
        if (p->target && !streq(arn, p->target))
                log_cert(LOG_WARNING, machine_name(m), "ImportCertificate over %s answered another ARN, %s", p->target,
                         arn);
        log_cert(LOG_NOTICE, machine_name(m), "%s serial %s %s %s", p->target ? "re-imported" : "imported",
                 p->src->serial, p->target ? "to" : "as", arn);
        if (state_set_string(&s->arn, arn) < 0 || state_set_string(&s->serial, p->src->serial) < 0 ||
            state_set_string(&s->fingerprint, p->src->fingerprint) < 0 || state_set_string(&s->deleted_arn, NULL) < 0)
                return imp_fail(p, "oom", "out of memory");
        p->target = s->arn;  /* the old string went with the assignment */
        s->imported_at = s->checked_at = machine_now(m);
        import_state_reset(s);
        machine_persist(m, PHASE_ISSUE, after_imported, p);
}

static void send_import(imp *p) {
        machine *m = p->m;
        aws_client *client;
        int r;

        r = machine_aws(m, &client);
        if (r < 0)
                return imp_fail(p, "aws", "cannot set up the AWS client: %s", aws_client_strerror(r));
        /* a re-import repeated is the same import again: safe to retry
         * after a failure that may have reached AWS; a first import is
         * not (the attempt in the state finds it instead) */
        r = aws_call(client, AWS_SERVICE_ACM, "ImportCertificate", p->request,
                     p->target ? AWS_CALL_IDEMPOTENT_TOKEN : 0, on_import, p, &p->req);
        if (r < 0)
                return imp_fail(p, "aws", "cannot send ImportCertificate: %s", strerror(-r));
}

static void after_attempt_saved(machine *m, void *userdata) {
        imp *p = userdata;

        testpoint_hit("import-started", machine_name(m));
        send_import(p);
}

/* Saves the attempt, then imports. */
static void step_import(imp *p) {
        machine *m = p->m;
        import_state *s = p->s;
        _cleanup_(freep) char *err = NULL;
        int r;

        r = issuer_import_request(p->src, machine_cert(m), p->target, machine_host_id(m), &p->request, &err);
        if (r < 0)
                return imp_fail(p, r == -ENOMEM ? "oom" : "config", "%s", err ? err : strerror(-r));
        if (state_set_string(&s->attempt_fingerprint, p->src->fingerprint) < 0 ||
            state_set_string(&s->attempt_serial, p->src->serial) < 0)
                return imp_fail(p, "oom", "out of memory");
        s->attempt_at = machine_now(m);
        log_cert(LOG_INFO, machine_name(m), "%s %s (serial %s)%s%s", p->target ? "re-importing" : "importing",
                 machine_cert(m)->issuer.import.cert, p->src->serial, p->target ? " to " : "",
                 p->target ? p->target : "");
        /* the attempt before the request: a crash from here on looks for
         * what this import may have created instead of importing twice */
        machine_persist(m, PHASE_REQUEST, after_attempt_saved, p);
}

/* ---- an interrupted first import: find what it created ---- */

static void step_tags(imp *p);

static void search_done(imp *p) {
        machine *m = p->m;
        import_state *s = p->s;

        if (!p->adopted) {
                log_cert(LOG_INFO, machine_name(m), "the interrupted import of serial %s created no certificate in "
                         "ACM: importing it", s->attempt_serial);
                import_state_reset(s);
                return step_import(p);
        }
        log_cert(LOG_NOTICE, machine_name(m), "the interrupted import of serial %s created %s: adopting it",
                 s->attempt_serial, p->adopted);
        if (p->n_ours > 1)
                log_cert(LOG_WARNING, machine_name(m), "%zu certificates in ACM carry this host's tags for serial %s; "
                         "%s is used, the others can be deleted", p->n_ours, s->attempt_serial, p->adopted);
        if (state_set_string(&s->arn, p->adopted) < 0)
                return imp_fail(p, "oom", "out of memory");
        p->target = s->arn;
        if (streq(s->attempt_fingerprint, p->src->fingerprint)) {
                /* ACM holds exactly these files: nothing to send again */
                if (state_set_string(&s->serial, s->attempt_serial) < 0 ||
                    state_set_string(&s->fingerprint, s->attempt_fingerprint) < 0)
                        return imp_fail(p, "oom", "out of memory");
                s->imported_at = s->attempt_at;
                s->checked_at = machine_now(m);
                import_state_reset(s);
                return machine_persist(m, PHASE_ISSUE, after_imported, p);
        }
        /* the files changed since: import them over the adopted one */
        import_state_reset(s);
        step_import(p);
}

static bool tag_is(json_t *tags, const char *key, const char *value) {
        size_t i;
        json_t *t;

        json_array_foreach(tags, i, t) {
                const char *k = json_string_value(json_object_get(t, "Key"));
                const char *v = json_string_value(json_object_get(t, "Value"));
                if (k && streq(k, key))
                        return value && streq(v ? v : "", value);
        }
        return !value;  /* absent: matches only an absent value */
}

static void on_tags(const aws_error *err, json_t *resp, void *userdata) {
        imp *p = userdata;
        machine *m = p->m;
        const char *arn = p->found[p->i_found];
        json_t *tags = json_object_get(resp, "Tags");
        const char *host = machine_host_id(m);

        p->req = NULL;
        if (err) {
                if (err->kind != AWS_ERROR_NOT_FOUND) {
                        _cleanup_(freep) char *ctx = strprintf(
                                "cannot tell whether the interrupted import created a certificate in ACM "
                                "(ListTagsForCertificate %s); allow acm:ListTagsForCertificate, or set issuer.arn, or "
                                "run 'acm-agent renew %s --force' to import without looking", arn, machine_name(m));
                        return imp_fail_aws(p, err, ctx ? ctx : "ListTagsForCertificate");
                }
        } else if (tag_is(tags, IMPORT_TAG_NAME, machine_name(m)) &&
                   tag_is(tags, IMPORT_TAG_HOST, isempty(host) ? NULL : host)) {
                p->n_ours++;
                if (!p->adopted && !(p->adopted = strdup(arn)))
                        return imp_fail(p, "oom", "out of memory");
        }
        p->i_found++;
        step_tags(p);
}

static void step_tags(imp *p) {
        aws_client *client;
        json_t *req;
        int r;

        if (p->i_found >= p->n_found)
                return search_done(p);
        r = machine_aws(p->m, &client);
        if (r < 0)
                return imp_fail(p, "aws", "cannot set up the AWS client: %s", aws_client_strerror(r));
        req = json_pack("{s:s}", "CertificateArn", p->found[p->i_found]);
        r = req ? aws_call(client, AWS_SERVICE_ACM, "ListTagsForCertificate", req, 0, on_tags, p, &p->req) : -ENOMEM;
        json_decref(req);
        if (r < 0)
                return imp_fail(p, "aws", "cannot send ListTagsForCertificate: %s", strerror(-r));
}

static void on_search(const aws_error *err, json_t *resp, void *userdata) {
        imp *p = userdata;
        json_t *results = json_object_get(resp, "Results"), *r;
        size_t i, n = 0;

        p->req = NULL;
        if (err) {
                _cleanup_(freep) char *ctx = strprintf(
                        "cannot tell whether the interrupted import of serial %s created a certificate in ACM "
                        "(SearchCertificates); allow acm:SearchCertificates, or set issuer.arn to that certificate, "
                        "or run 'acm-agent renew %s --force' to import without looking (a duplicate may stay in ACM)",
                        p->s->attempt_serial, machine_name(p->m));
                return imp_fail_aws(p, err, ctx ? ctx : "SearchCertificates");
        }
        p->found = calloc(IMPORT_SEARCH_MAX + 1, sizeof(char *));
        if (!p->found)
                return imp_fail(p, "oom", "out of memory");
        json_array_foreach(results, i, r) {
                const char *arn = json_string_value(json_object_get(r, "CertificateArn"));
                if (!arn || strlen(arn) > IMPORT_ARN_MAX || n == IMPORT_SEARCH_MAX)
                        continue;
                if (!(p->found[n++] = strdup(arn)))
                        return imp_fail(p, "oom", "out of memory");
        }
        p->n_found = n;
        step_tags(p);
}

static void step_search(imp *p) {
        _cleanup_(freep) char *colon = NULL;
        aws_client *client;
        json_t *req;
        size_t n;
        int r;

        /* the attempt's serial, as ACM writes it: "0a:1b:..." */
        n = strlen(p->s->attempt_serial);
        colon = malloc(n / 2 * 3 + 2);
        if (!colon)
                return imp_fail(p, "oom", "out of memory");
        for (size_t i = 0, o = 0; i < n; i += 2) {
                if (i)
                        colon[o++] = ':';
                colon[o++] = (char) tolower((unsigned char) p->s->attempt_serial[i]);
                colon[o++] = i + 1 < n ? (char) tolower((unsigned char) p->s->attempt_serial[i + 1]) : 0;
                colon[o] = 0;
        }
        log_cert(LOG_INFO, machine_name(p->m), "an import of serial %s was interrupted: looking for the certificate "
                 "it may have created", p->s->attempt_serial);
        r = machine_aws(p->m, &client);
        if (r < 0)
                return imp_fail(p, "aws", "cannot set up the AWS client: %s", aws_client_strerror(r));
        req = json_pack("{s:{s:[{s:{s:{s:s}}},{s:{s:{s:s}}}]},s:s,s:s,s:i}", "FilterStatement", "And", "Filter",
                        "X509AttributeFilter", "SerialNumber", colon, "Filter", "AcmCertificateMetadataFilter", "Type",
                        "IMPORTED", "SortBy", "IMPORTED_AT", "SortOrder", "DESCENDING", "MaxResults",
                        (int) IMPORT_SEARCH_MAX);
        r = req ? aws_call(client, AWS_SERVICE_ACM, "SearchCertificates", req, 0, on_search, p, &p->req) : -ENOMEM;
        json_decref(req);
        if (r < 0)
                return imp_fail(p, "aws", "cannot send SearchCertificates: %s", strerror(-r));
}

/* ---- operations ---- */

static int import_issue(machine *m, issue_reason reason _unused_) {
        const conf_cert *cert = machine_cert(m);
        const char *configured = cert->issuer.import.arn;
        bool forced = machine_state(m)->force_renewal;
        _cleanup_(freep) char *err = NULL;
        time_t until;
        import_state *s;
        imp *p;
        int r;

        p = imp_new(m);
        if (!p)
                return -ENOMEM;
        s = p->s;
        r = source_load(cert, machine_now(m), &p->src, &until, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                imp_fail(p, "source", "%s; nothing was sent to ACM", err ? err : strerror(-r));
                return 0;
        }
        if (!p->src) {
                char t[21];
                machine_wait(m, until, "the source files changed moments ago and do not fit together yet (%s); "
                             "checked again at %s", err ? err : "?", clock_format_rfc3339(until, t));
                return 0;
        }
        p->target = configured ? configured : s->arn;
        if (p->target && s->deleted_arn && streq(p->target, s->deleted_arn) && !configured) {
                if (!forced) {
                        imp_fail(p, "aws:not-found",
                                 "the ACM certificate %s this host imports into was deleted; it is not imported "
                                 "again on its own: run 'acm-agent renew %s --force' to import it as a new "
                                 "certificate, or set issuer.arn", s->deleted_arn, machine_name(m));
                        return 0;
                }
                log_cert(LOG_NOTICE, machine_name(m), "renew --force: importing as a new certificate (%s was deleted "
                         "from ACM; whatever used it must be pointed at the new ARN)", s->deleted_arn);
                s->arn = (free(s->arn), NULL);
                s->deleted_arn = (free(s->deleted_arn), NULL);
                p->target = NULL;
        }
        if (p->target && s->arn && streq(p->target, s->arn) && s->fingerprint &&
            streq(s->fingerprint, p->src->fingerprint) &&
            (!s->attempt_fingerprint || streq(s->attempt_fingerprint, s->fingerprint)) && !forced) {
                /* ACM holds these files already (a deploy to finish, a
                 * configuration change that needs no new import) */
                log_cert(LOG_INFO, machine_name(m), "%s already holds serial %s from these files", s->arn,
                         p->src->serial);
                import_state_reset(s);
                deliver(p);
                return 0;
        }
        if (!p->target && s->attempt_fingerprint && s->attempt_serial && !forced) {
                step_search(p);
                return 0;
        }
        if (!p->target && s->attempt_fingerprint && forced)
                log_cert(LOG_NOTICE, machine_name(m), "renew --force: importing without looking for what the "
                         "interrupted import of serial %s may have created", s->attempt_serial);
        if (p->target && s->arn && !streq(p->target, s->arn))
                log_cert(LOG_NOTICE, machine_name(m), "issuer.arn is now %s (was %s): importing there", p->target,
                         s->arn);
        if (configured && cert->issuer.import.n_tags > 0 && !s->arn)
                log_cert(LOG_WARNING, machine_name(m), "issuer.tags are not applied: ACM takes no tags when a "
                         "certificate is re-imported over issuer.arn (add them with aws acm add-tags-to-certificate)");
        step_import(p);
        return 0;
}

/* ---- watch ---- */

static void watch_settle(imp *p) {
        machine *m = p->m;
        const cert_state *st = machine_state(m);
        const conf_cert *cert = machine_cert(m);
        time_t now = machine_now(m);
        sched_danger d = sched_danger_at(st->served.not_before, st->served.not_after, 0, now);
        char t[21], left[32];

        if (d == SCHED_SAFE)
                return machine_watched(m, now + IMPORT_WATCH_SEC);
        format_duration(st->served.not_after > now ? (uint64_t) (st->served.not_after - now) : 0, left, sizeof(left));
        if (d == SCHED_EXPIRED)
                return imp_fail(p, "expired",
                                "the imported certificate (serial %s) expired at %s and cert file %s still holds it: "
                                "renew it where it is made (e.g. certbot renew); the agent imports the new files "
                                "when they change", st->served.serial ? st->served.serial : "?",
                                clock_format_rfc3339(st->served.not_after, t), cert->issuer.import.cert);
        imp_fail(p, "expiring",
                 "the imported certificate (serial %s) expires in %s (%s) and cert file %s was not renewed: renew it "
                 "where it is made (e.g. certbot renew); the agent imports the new files when they change",
                 st->served.serial ? st->served.serial : "?", left, clock_format_rfc3339(st->served.not_after, t),
                 cert->issuer.import.cert);
}

/* "0a:1B:.." and "0A1B.." compare equal. */
static bool serial_eq(const char *a, const char *b) {
        while (*a || *b) {
                if (*a == ':') {
                        a++;
                        continue;
                }
                if (*b == ':') {
                        b++;
                        continue;
                }
                if (!*a || !*b || toupper((unsigned char) *a) != toupper((unsigned char) *b))
                        return false;
                a++;
                b++;
        }
        return true;
}

static void on_describe(const aws_error *err, json_t *resp, void *userdata) {
        imp *p = userdata;
        machine *m = p->m;
        import_state *s = p->s;
        json_t *c = json_object_get(resp, "Certificate");
        const char *serial = json_string_value(json_object_get(c, "Serial"));
        const char *status = json_string_value(json_object_get(c, "Status"));

        p->req = NULL;
        if (err) {
                if (err->kind == AWS_ERROR_NOT_FOUND) {
                        const char *configured = machine_cert(m)->issuer.import.arn;
                        if (configured && streq(configured, s->arn))
                                return imp_fail(p, "aws:not-found",
                                                "the certificate arn: %s does not exist in ACM any more (%s): "
                                                "correct issuer.arn, or remove it to import a new certificate",
                                                s->arn, err->message);
                        (void) state_set_string(&s->deleted_arn, s->arn);
                        return imp_fail(p, "aws:not-found",
                                        "the ACM certificate %s this host imports into was deleted (%s); it is not "
                                        "imported again on its own (a new import gets a new ARN that nothing "
                                        "uses): run 'acm-agent renew %s --force' to import it as a new "
                                        "certificate, or set issuer.arn", s->arn, err->message, machine_name(m));
                }
                /* the files are fine; the look at ACM is retried at the
                 * next watch */
                _cleanup_(freep) char *line = aws_error_format(err);
                log_cert(LOG_WARNING, machine_name(m), "cannot check %s in ACM: %s", s->arn, line ? line : err->type);
                return watch_settle(p);
        }
        s->checked_at = machine_now(m);
        if (serial && s->serial && !serial_eq(serial, s->serial))
                log_cert(LOG_WARNING, machine_name(m), "ACM certificate %s holds serial %s, not serial %s this host "
                         "imported: something else imported over it; 'acm-agent renew %s --force' imports this "
                         "host's files again", s->arn, serial, s->serial, machine_name(m));
        if (status && !streq(status, "ISSUED") && !streq(status, "EXPIRED"))
                log_cert(LOG_WARNING, machine_name(m), "ACM certificate %s is %s", s->arn, status);
        watch_settle(p);
}

/* The serial in the cert file, NULL when it cannot be read. */
static char *file_serial(const import_source *src) {
        const char *b = src->raw[IMPORT_FILE_CERT] ? strstr(src->raw[IMPORT_FILE_CERT], "-----BEGIN CERTIFICATE-----")
                                                   : NULL;
        crypto_cert_info *info = NULL;
        char *serial;

        if (!b || crypto_cert_info_get(b, strlen(b), &info) < 0)
                return NULL;
        serial = TAKE_PTR(info->serial_hex);
        crypto_cert_info_free(info);
        return serial;
}

static int import_watch(machine *m) {
        const conf_cert *cert = machine_cert(m);
        const cert_state *st = machine_state(m);
        _cleanup_(freep) char *err = NULL, *serial = NULL;
        time_t now = machine_now(m);
        aws_client *client;
        import_state *s;
        json_t *req;
        imp *p;
        int r;

        p = imp_new(m);
        if (!p)
                return -ENOMEM;
        s = p->s;
        r = issuer_import_read(&cert->issuer.import, &p->src, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                imp_fail(p, "source", "%s; the certificate imported before stays in ACM", err ? err : strerror(-r));
                return 0;
        }
        if (s->deleted_arn && !cert->issuer.import.arn) {
                imp_fail(p, "aws:not-found",
                         "the ACM certificate %s this host imports into was deleted; it is not imported again on its "
                         "own: run 'acm-agent renew %s --force' to import it as a new certificate, or set issuer.arn",
                         s->deleted_arn, machine_name(m));
                return 0;
        }
        /* what ACM got is not what the files hold, or (output:) what is
         * deployed is not (a copy that failed its verification) */
        if (!s->fingerprint || !streq(s->fingerprint, p->src->fingerprint)) {
                machine_renewal_ready(m, "the source files changed");
                return 0;
        }
        if (import_deploys(cert) && st->served.serial) {
                serial = file_serial(p->src);
                if (!serial || !streq(serial, st->served.serial)) {
                        machine_renewal_ready(m, "the copy in output.dir is not the certificate imported");
                        return 0;
                }
        }
        if (!s->arn || now < s->checked_at + IMPORT_DESCRIBE_SEC) {
                watch_settle(p);
                return 0;
        }
        r = machine_aws(m, &client);
        if (r < 0) {
                log_cert(LOG_WARNING, machine_name(m), "cannot check %s in ACM: no AWS client (%s)", s->arn,
                         aws_client_strerror(r));
                watch_settle(p);
                return 0;
        }
        req = json_pack("{s:s}", "CertificateArn", s->arn);
        r = req ? aws_call(client, AWS_SERVICE_ACM, "DescribeCertificate", req, 0, on_describe, p, &p->req) : -ENOMEM;
        json_decref(req);
        if (r < 0) {
                log_cert(LOG_WARNING, machine_name(m), "cannot send DescribeCertificate: %s", strerror(-r));
                watch_settle(p);
        }
        return 0;
}

const issuer_ops issuer_import_ops = {
        .name = "import",
        .state_load = import_state_load,
        .state_save = import_state_save,
        .state_free = import_state_free,
        .state_in_flight = import_state_in_flight,
        .state_reset = import_state_reset,
        .expect = import_expect,
        .preflight = import_preflight,
        .issue = import_issue,
        .watch = import_watch,
        .cancel = import_cancel,
        .deploys = import_deploys,
        .renews = false,
        .watch_each_pass = true,
};
