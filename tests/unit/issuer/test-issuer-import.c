/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The import issuer's pure parts against real files: reading (bounds,
 * special files refused without blocking), the content fingerprint, every
 * local import rule at its boundary (validity at now, OCSP URL of 1000 /
 * 1001 characters, a key file of 5120 / 5121 bytes, key types), the chain
 * and the trust anchor of a copy, the ImportCertificate request (blobs,
 * tags on a first import only, the key wiped), the ConflictException pace.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "issuer/issuer-import.h"
#include "issuer/issuer.h"

#define NOW ((time_t) 1800000000)  /* 2027-01-15T08:00:00Z */
#define DAY 86400

static char dir[64];
static char *no_names[] = { NULL };

/* ---- certificates made here ---- */

static EVP_PKEY *ec_key(const char *curve) {
        EVP_PKEY *k = EVP_EC_gen(curve);
        assert_non_null(k);
        return k;
}

static EVP_PKEY *rsa_key(unsigned bits) {
        EVP_PKEY *k = EVP_RSA_gen(bits);
        assert_non_null(k);
        return k;
}

typedef struct cert_opts {
        const char *cn;
        EVP_PKEY *key;            /* the certificate's key */
        EVP_PKEY *signer;         /* NULL: self-signed */
        X509 *issuer;             /* the signer's certificate (its subject is the issuer) */
        bool empty_issuer;
        bool v1;
        bool ca;
        time_t nb, na;
        size_t ocsp_len;          /* 0: no AIA */
} cert_opts;

static X509 *make(const cert_opts *o) {
        X509 *x = X509_new();
        X509V3_CTX ctx;
        static long serial = 0x5000;

        assert_non_null(x);
        X509_set_version(x, o->v1 ? X509_VERSION_1 : X509_VERSION_3);
        ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
        ASN1_TIME_set(X509_getm_notBefore(x), o->nb ? o->nb : NOW - DAY);
        ASN1_TIME_set(X509_getm_notAfter(x), o->na ? o->na : NOW + 90 * DAY);
        X509_set_pubkey(x, o->key);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *) o->cn, -1,
                                   -1, 0);
        if (!o->empty_issuer)
                X509_set_issuer_name(x, o->issuer ? X509_get_subject_name(o->issuer) : X509_get_subject_name(x));
        if (!o->v1) {
                X509V3_set_ctx(&ctx, o->issuer ? o->issuer : x, x, NULL, NULL, 0);
                X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                                        o->ca ? "critical,CA:TRUE" : "CA:FALSE");
                assert_non_null(e);
                X509_add_ext(x, e, -1);
                X509_EXTENSION_free(e);
                if (o->ocsp_len) {
                        char *v = malloc(o->ocsp_len + 16);
                        size_t p = (size_t) sprintf(v, "OCSP;URI:http://o/");
                        while (p - 9 < o->ocsp_len)  /* "OCSP;URI:" is not part of the URL */
                                v[p++] = 'a';
                        v[p] = 0;
                        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_info_access, v);
                        free(v);
                        assert_non_null(e);
                        X509_add_ext(x, e, -1);
                        X509_EXTENSION_free(e);
                }
        }
        assert_true(X509_sign(x, o->signer ? o->signer : o->key, EVP_sha256()) > 0);
        return x;
}

static char *pem_of(X509 *x) {
        BIO *b = BIO_new(BIO_s_mem());
        char *d, *s;
        long n;

        assert_int_equal(PEM_write_bio_X509(b, x), 1);
        n = BIO_get_mem_data(b, &d);
        s = strndup(d, (size_t) n);
        BIO_free(b);
        return s;
}

static char *key_pem_of(EVP_PKEY *k) {
        BIO *b = BIO_new(BIO_s_mem());
        char *d, *s;
        long n;

        assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
        n = BIO_get_mem_data(b, &d);
        s = strndup(d, (size_t) n);
        BIO_free(b);
        return s;
}

static char *path(const char *name) {
        char *p = path_join(dir, name);
        assert_non_null(p);
        return p;
}

static void put(const char *name, const char *text) {
        _cleanup_(freep) char *p = path(name);
        (void) unlink(p);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0600, (uid_t) -1, (gid_t) -1), 0);
}

/* A CA (EC P-256) and one leaf it signed, in files. */
static EVP_PKEY *ca_k, *leaf_k;
static X509 *ca_x, *leaf_x;

static conf_cert cfg(char *cert, char *key, char *chain) {
        conf_cert c = {
                .name = (char *) "web",
                .issuer_type = CONF_ISSUER_IMPORT,
                .dns_names = no_names, .ip_addresses = no_names, .email_addresses = no_names, .uris = no_names,
                .output = { .dir = (char *) "/nonexistent/out" },
        };
        c.issuer.import.cert = cert;
        c.issuer.import.key = key;
        c.issuer.import.chain = chain;
        return c;
}

static int setup(void **s _unused_) {
        strcpy(dir, "/tmp/test-import-XXXXXX");
        assert_non_null(mkdtemp(dir));
        ca_k = ec_key("P-256");
        ca_x = make(&(cert_opts) { .cn = "Test Root", .key = ca_k, .ca = true, .nb = NOW - 10 * DAY, .na = NOW + 3650 * DAY });
        leaf_k = ec_key("P-256");
        leaf_x = make(&(cert_opts) { .cn = "web.example.com", .key = leaf_k, .signer = ca_k, .issuer = ca_x });
        _cleanup_(freep) char *c = pem_of(leaf_x), *k = key_pem_of(leaf_k), *ch = pem_of(ca_x);
        put("cert.pem", c);
        put("key.pem", k);
        put("chain.pem", ch);
        return 0;
}

static int teardown(void **s _unused_) {
        char cmd[128];
        EVP_PKEY_free(ca_k);
        EVP_PKEY_free(leaf_k);
        X509_free(ca_x);
        X509_free(leaf_x);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

/* Reads and checks cert/key/chain (file names in dir, chain may be NULL)
 * at now; returns the result and the error text (owned by the caller). */
static int load(const char *cert, const char *key, const char *chain, bool copy, time_t now, import_source **ret,
                char **ret_error) {
        _cleanup_(freep) char *pc = path(cert), *pk = path(key), *pch = chain ? path(chain) : NULL;
        conf_cert c = cfg(pc, pk, pch);
        import_source *s = NULL;
        int r;

        c.output.configured = copy;
        *ret_error = NULL;
        r = issuer_import_read(&c.issuer.import, &s, ret_error);
        if (r >= 0) {
                r = issuer_import_check(s, &c, now, ret_error);
                if (r < 0)
                        s = issuer_import_source_free(s);
        }
        if (ret && s)
                *ret = s;
        else
                issuer_import_source_free(s);
        return r;
}

/* Refused, with an error holding every fragment. */
static void refused(const char *cert, const char *key, const char *chain, time_t now, ...) {
        _cleanup_(freep) char *err = NULL;
        va_list ap;
        const char *want;

        assert_true(load(cert, key, chain, false, now, NULL, &err) < 0);
        assert_non_null(err);
        va_start(ap, now);
        while ((want = va_arg(ap, const char *)))
                if (!strstr(err, want)) {
                        print_message("error: %s\nwanted: %s\n", err, want);
                        fail();
                }
        va_end(ap);
}

static void accepted(const char *cert, const char *key, const char *chain, time_t now) {
        _cleanup_(freep) char *err = NULL;
        int r = load(cert, key, chain, false, now, NULL, &err);

        if (r < 0)
                print_message("refused: %s\n", err ? err : strerror(-r));
        assert_int_equal(r, 0);
}

/* ---- tests ---- */

static void test_good(void **s _unused_) {
        import_source *src = NULL;
        _cleanup_(freep) char *err = NULL, *ca_pem = pem_of(ca_x);

        assert_int_equal(load("cert.pem", "key.pem", "chain.pem", false, NOW, &src, &err), 0);
        assert_true(src->checked);
        assert_string_equal(src->key_algorithm, "EC_prime256v1");
        assert_int_equal(strlen(src->fingerprint), 64);
        assert_non_null(strstr(src->cert_pem, "-----BEGIN CERTIFICATE-----"));
        assert_string_equal(src->chain_pem, ca_pem);
        assert_non_null(strstr(src->key_pem, "-----BEGIN PRIVATE KEY-----"));
        assert_string_equal(src->serial, "5002");
        assert_string_equal(src->serial_colon, "50:02");
        assert_int_equal(src->not_before, NOW - DAY);
        assert_int_equal(src->not_after, NOW + 90 * DAY);
        /* the chain ends in a self-signed root: the anchor of a copy */
        assert_string_equal(src->anchor_pem, ca_pem);
        assert_null(src->raw[IMPORT_FILE_KEY]);  /* wiped once checked */
        issuer_import_source_free(src);

        /* no chain: fine for ACM; not self-signed, so a copy would use the
         * system's trust store */
        src = NULL;
        assert_int_equal(load("cert.pem", "key.pem", NULL, false, NOW, &src, &err), 0);
        assert_null(src->chain_pem);
        assert_null(src->anchor_pem);
        issuer_import_source_free(src);
}

static void test_fingerprint(void **s _unused_) {
        _cleanup_(freep) char *c = pem_of(leaf_x), *k = key_pem_of(leaf_k), *ch = pem_of(ca_x), *err = NULL;
        _cleanup_(freep) char *pc = path("cert.pem"), *pk = path("key.pem"), *pch = path("chain.pem"), *pe = path("empty.pem");
        import_source *a = NULL, *b = NULL;
        conf_cert with = cfg(pc, pk, pch), without = cfg(pc, pk, NULL), empty = cfg(pc, pk, pe);

        put("empty.pem", "");
        assert_int_equal(issuer_import_read(&with.issuer.import, &a, &err), 0);
        assert_int_equal(issuer_import_read(&with.issuer.import, &b, &err), 0);
        assert_string_equal(a->fingerprint, b->fingerprint);  /* the same contents */
        char fp[65];
        strcpy(fp, a->fingerprint);
        issuer_import_source_free(a);
        issuer_import_source_free(b);

        /* no chain, an empty chain: other fingerprints */
        assert_int_equal(issuer_import_read(&without.issuer.import, &a, &err), 0);
        assert_int_equal(issuer_import_read(&empty.issuer.import, &b, &err), 0);
        assert_string_not_equal(a->fingerprint, fp);
        assert_string_not_equal(b->fingerprint, fp);
        assert_string_not_equal(a->fingerprint, b->fingerprint);
        issuer_import_source_free(a);
        issuer_import_source_free(b);

        /* one byte more in any file changes it */
        for (int f = 0; f < 3; f++) {
                const char *names[] = { "cert.pem", "key.pem", "chain.pem" };
                const char *texts[] = { c, k, ch };
                _cleanup_(freep) char *t = strprintf("%s\n", texts[f]);
                put(names[f], t);
                assert_int_equal(issuer_import_read(&with.issuer.import, &a, &err), 0);
                assert_string_not_equal(a->fingerprint, fp);
                issuer_import_source_free(a);
                put(names[f], texts[f]);
        }
        /* bytes moved from one file to the next: another fingerprint */
        put("cert.pem", "AB");
        put("key.pem", "C");
        assert_int_equal(issuer_import_read(&with.issuer.import, &a, &err), 0);
        put("cert.pem", "A");
        put("key.pem", "BC");
        assert_int_equal(issuer_import_read(&with.issuer.import, &b, &err), 0);
        assert_string_not_equal(a->fingerprint, b->fingerprint);
        issuer_import_source_free(a);
        issuer_import_source_free(b);
        put("cert.pem", c);
        put("key.pem", k);

        /* through a symbolic link swapped to another generation (certbot) */
        _cleanup_(freep) char *link = path("live.pem"), *other = path("cert2.pem");
        put("cert2.pem", c);
        assert_int_equal(symlink(pc, link), 0);
        conf_cert viallink = cfg(link, pk, pch);
        assert_int_equal(issuer_import_read(&viallink.issuer.import, &a, &err), 0);
        assert_string_equal(a->fingerprint, fp);
        issuer_import_source_free(a);
        X509 *x2 = make(&(cert_opts) { .cn = "web.example.com", .key = leaf_k, .signer = ca_k, .issuer = ca_x });
        _cleanup_(freep) char *c2 = pem_of(x2);
        X509_free(x2);
        put("cert2.pem", c2);
        _cleanup_(freep) char *tmp = path("live.new");
        assert_int_equal(symlink(other, tmp), 0);
        assert_int_equal(rename(tmp, link), 0);
        assert_int_equal(issuer_import_read(&viallink.issuer.import, &a, &err), 0);
        assert_string_not_equal(a->fingerprint, fp);
        issuer_import_source_free(a);
}

static void test_special_files(void **s _unused_) {
        _cleanup_(freep) char *fifo = path("fifo.pem"), *sub = path("sub"), *big = NULL, *err = NULL;

        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(mkdir(sub, 0700), 0);
        /* a FIFO with no writer: refused at once (an alarm catches a hang) */
        alarm(10);
        refused("fifo.pem", "key.pem", NULL, NOW, "cert file ", "fifo.pem: is a FIFO (named pipe), not a regular file", NULL);
        refused("cert.pem", "fifo.pem", NULL, NOW, "key file ", "is a FIFO", NULL);
        alarm(0);
        refused("sub", "key.pem", NULL, NOW, "is a directory, not a regular file", NULL);
        refused("cert.pem", "key.pem", "missing.pem", NOW, "chain file ", "missing.pem: no such file", NULL);
        _cleanup_(freep) char *dangling = path("dangling.pem"), *nowhere = path("nowhere.pem");
        assert_int_equal(symlink(nowhere, dangling), 0);
        refused("dangling.pem", "key.pem", NULL, NOW, "a symbolic link to a file that does not exist", NULL);
        /* a device, by absolute path */
        conf_cert c = cfg((char *) "/dev/null", (char *) "/dev/null", NULL);
        import_source *src = NULL;
        assert_int_equal(issuer_import_read(&c.issuer.import, &src, &err), -EINVAL);
        assert_non_null(strstr(err, "cert file /dev/null: is a character device, not a regular file"));
        assert_null(src);

        /* bounds: a cert file over 32768 bytes, a key file over 5120 */
        big = malloc(40000);
        memset(big, ' ', 39999);
        big[39999] = 0;
        put("big.pem", big);
        refused("big.pem", "key.pem", NULL, NOW, "cert file ", "39999 bytes; ACM takes a certificate of at most 32768 bytes",
                NULL);
}

static void test_bounds_exact(void **s _unused_) {
        _cleanup_(freep) char *k = key_pem_of(leaf_k), *pad = NULL;

        /* a key file of exactly 5120 bytes passes, 5121 does not */
        size_t n = strlen(k);
        pad = malloc(IMPORT_KEY_MAX + 2);
        memcpy(pad, k, n);
        memset(pad + n, '\n', IMPORT_KEY_MAX + 1 - n);
        pad[IMPORT_KEY_MAX] = 0;
        put("k5120.pem", pad);
        accepted("cert.pem", "k5120.pem", "chain.pem", NOW);
        pad[IMPORT_KEY_MAX] = '\n';
        pad[IMPORT_KEY_MAX + 1] = 0;
        put("k5121.pem", pad);
        refused("cert.pem", "k5121.pem", "chain.pem", NOW, "key file ", "5121 bytes",
                "import rule: the private key must be at most 5120 bytes", NULL);
}

static void test_pem_rules(void **s _unused_) {
        _cleanup_(freep) char *c = pem_of(leaf_x), *k = key_pem_of(leaf_k), *ch = pem_of(ca_x);
        _cleanup_(freep) char *two = strprintf("%s%s", c, ch), *text = strprintf("subject=CN = web\n%s", c);
        _cleanup_(freep) char *cut = strndup(c, strlen(c) - 20), *withkey = strprintf("%s%s", c, k);
        _cleanup_(freep) char *chainkey = strprintf("%s%s", ch, k), *crlf = NULL;
        const char *rule = "import rule: the certificate, private key and chain must be PEM-encoded";

        put("two.pem", two);
        refused("two.pem", "key.pem", NULL, NOW, "holds 2 certificates", "import rule: cert holds exactly one certificate", NULL);
        put("text.pem", text);
        refused("text.pem", "key.pem", NULL, NOW, "line 1: text outside a PEM block", rule, NULL);
        put("cut.pem", cut);
        refused("cut.pem", "key.pem", NULL, NOW, "line 1: BEGIN CERTIFICATE without its END line", rule, NULL);
        put("withkey.pem", withkey);
        refused("withkey.pem", "key.pem", NULL, NOW, "a PRIVATE KEY block; cert must hold the certificate alone", NULL);
        put("chainkey.pem", chainkey);
        refused("cert.pem", "key.pem", "chainkey.pem", NOW, "chain file ", "a PRIVATE KEY block",
                "import rule: the chain must hold PEM certificates only", NULL);
        put("empty.pem", "\n\n");
        refused("cert.pem", "key.pem", "empty.pem", NOW, "holds no certificate", NULL);
        refused("empty.pem", "key.pem", NULL, NOW, "holds no PEM certificate", NULL);
        refused("cert.pem", "empty.pem", NULL, NOW, "key file ", "holds no PEM private key", NULL);
        /* a block whose END names another label */
        _cleanup_(freep) char *mixed = strprintf("%.*s-----END X509 CRL-----\n",
                                                 (int) (strstr(c, "-----END CERTIFICATE-----") - c), c);
        put("mixed.pem", mixed);
        refused("mixed.pem", "key.pem", NULL, NOW, "END X509 CRL closes the BEGIN CERTIFICATE of line 1", NULL);
        /* binary (DER) */
        unsigned char der[4] = { 0x30, 0x82, 0x01, 0x00 };
        _cleanup_(freep) char *pd = path("der.pem");
        FILE *f = fopen(pd, "we");
        fwrite(der, 1, sizeof(der), f);
        fclose(f);
        refused("der.pem", "key.pem", NULL, NOW, "holds binary data, not PEM", "looks DER-encoded", NULL);
        /* CRLF line ends and blank lines around the blocks are fine */
        crlf = malloc(2 * strlen(c) + 8);
        size_t o = 0;
        crlf[o++] = '\n';
        for (const char *p = c; *p; p++) {
                if (*p == '\n')
                        crlf[o++] = '\r';
                crlf[o++] = *p;
        }
        crlf[o++] = '\n';
        crlf[o] = 0;
        put("crlf.pem", crlf);
        accepted("crlf.pem", "key.pem", "chain.pem", NOW);
}

static void test_key_rules(void **s _unused_) {
        EVP_PKEY *other = ec_key("P-256");
        _cleanup_(freep) char *ok = key_pem_of(other), *enc = NULL, *trad = NULL, *params = NULL;
        BIO *b;
        char *d;
        long n;

        put("other.pem", ok);
        refused("cert.pem", "other.pem", NULL, NOW, "key file ", "does not match the certificate",
                "import rule: the private key must match the certificate", NULL);
        /* PKCS#8 encrypted */
        b = BIO_new(BIO_s_mem());
        assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, leaf_k, EVP_aes_256_cbc(), NULL, 0, NULL, (void *) "pw"), 1);
        n = BIO_get_mem_data(b, &d);
        enc = strndup(d, (size_t) n);
        BIO_free(b);
        put("enc.pem", enc);
        refused("cert.pem", "enc.pem", NULL, NOW, "the private key is encrypted", "import rule: the private key must be unencrypted", NULL);
        /* traditional, with a Proc-Type: 4,ENCRYPTED header */
        b = BIO_new(BIO_s_mem());
        assert_int_equal(PEM_write_bio_PrivateKey_traditional(b, leaf_k, EVP_aes_128_cbc(), NULL, 0, NULL, (void *) "pw"), 1);
        n = BIO_get_mem_data(b, &d);
        trad = strndup(d, (size_t) n);
        BIO_free(b);
        assert_non_null(strstr(trad, "Proc-Type: 4,ENCRYPTED"));
        put("trad.pem", trad);
        refused("cert.pem", "trad.pem", NULL, NOW, "the private key is encrypted", NULL);
        /* `openssl ecparam -genkey` writes EC PARAMETERS before the key: fine */
        b = BIO_new(BIO_s_mem());
        assert_int_equal(PEM_write_bio_PrivateKey_traditional(b, leaf_k, NULL, NULL, 0, NULL, NULL), 1);
        n = BIO_get_mem_data(b, &d);
        params = strprintf("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n%.*s", (int) n, d);
        BIO_free(b);
        put("params.pem", params);
        accepted("cert.pem", "params.pem", "chain.pem", NOW);
        /* two keys */
        _cleanup_(freep) char *k = key_pem_of(leaf_k), *twokeys = strprintf("%s%s", k, k);
        put("twokeys.pem", twokeys);
        refused("cert.pem", "twokeys.pem", NULL, NOW, "a second private key", NULL);
        EVP_PKEY_free(other);
}

static void test_validity(void **s _unused_) {
        /* Not Before <= now < Not After, at the second */
        accepted("cert.pem", "key.pem", "chain.pem", NOW - DAY);
        refused("cert.pem", "key.pem", "chain.pem", NOW - DAY - 1, "not valid before 2027-01-14T08:00:00Z",
                "import rule: the current time must be between Not Before and Not After", NULL);
        accepted("cert.pem", "key.pem", "chain.pem", NOW + 90 * DAY - 1);
        refused("cert.pem", "key.pem", "chain.pem", NOW + 90 * DAY, "expired at 2027-04-15T08:00:00Z",
                "import rule: the current time must be between Not Before and Not After", "certbot renew", NULL);
}

/* Writes a leaf with opts (its own fresh files) and checks it. */
static void leaf_case(const cert_opts *o, EVP_PKEY *key, bool ok, const char *want) {
        X509 *x = make(o);
        _cleanup_(freep) char *c = pem_of(x), *k = key_pem_of(key);

        put("case-cert.pem", c);
        put("case-key.pem", k);
        X509_free(x);
        if (ok)
                accepted("case-cert.pem", "case-key.pem", NULL, NOW);
        else
                refused("case-cert.pem", "case-key.pem", NULL, NOW, "cert file ", want, NULL);
}

static void test_cert_rules(void **s _unused_) {
        EVP_PKEY *rsa_ca = rsa_key(2048), *k;
        X509 *rsa_ca_x = make(&(cert_opts) { .cn = "RSA Root", .key = rsa_ca, .ca = true });

        leaf_case(&(cert_opts) { .cn = "a", .key = leaf_k, .signer = ca_k, .issuer = ca_x, .empty_issuer = true }, leaf_k,
                  false, "import rule: the Issuer field must not be empty");
        leaf_case(&(cert_opts) { .cn = "a", .key = leaf_k, .signer = ca_k, .issuer = ca_x, .v1 = true }, leaf_k, false,
                  "an X.509 version 1 certificate (import rule: ACM imports X.509 version 3 certificates only)");
        /* an EC key signed by an RSA CA: the algorithms must match */
        leaf_case(&(cert_opts) { .cn = "a", .key = leaf_k, .signer = rsa_ca, .issuer = rsa_ca_x }, leaf_k, false,
                  "its key is EC but its issuer signed it with sha256WithRSAEncryption (import rule: the "
                  "certificate's key algorithm must match the algorithm of the signing CA)");
        /* an RSA key signed by an EC CA: neither */
        k = rsa_key(2048);
        leaf_case(&(cert_opts) { .cn = "a", .key = k, .signer = ca_k, .issuer = ca_x }, k, false,
                  "its key is RSA but its issuer signed it with ecdsa-with-SHA256");
        leaf_case(&(cert_opts) { .cn = "a", .key = k, .signer = rsa_ca, .issuer = rsa_ca_x }, k, true, NULL);
        EVP_PKEY_free(k);
        /* key types: RSA 1024 and 3072 and P-384, P-521 are imported; RSA 1536, secp256k1, Ed25519 are not */
        k = rsa_key(1024);
        leaf_case(&(cert_opts) { .cn = "a", .key = k, .signer = rsa_ca, .issuer = rsa_ca_x }, k, true, NULL);
        EVP_PKEY_free(k);
        k = rsa_key(1536);
        leaf_case(&(cert_opts) { .cn = "a", .key = k, .signer = rsa_ca, .issuer = rsa_ca_x }, k, false,
                  "its key is RSA 1536 bits (import rule: ACM imports RSA 1024, 2048, 3072 and 4096 bit and EC P-256, "
                  "P-384 and P-521 keys only)");
        EVP_PKEY_free(k);
        k = ec_key("P-384");
        leaf_case(&(cert_opts) { .cn = "a", .key = k, .signer = ca_k, .issuer = ca_x }, k, true, NULL);
        EVP_PKEY_free(k);
        k = ec_key("P-521");
        leaf_case(&(cert_opts) { .cn = "a", .key = k, .signer = ca_k, .issuer = ca_x }, k, true, NULL);
        EVP_PKEY_free(k);
        k = ec_key("secp256k1");
        leaf_case(&(cert_opts) { .cn = "a", .key = k, .signer = ca_k, .issuer = ca_x }, k, false,
                  "its key is EC curve secp256k1 (import rule");
        EVP_PKEY_free(k);
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert_non_null(k);
        X509 *ed = X509_new();
        X509_set_version(ed, X509_VERSION_3);
        ASN1_INTEGER_set(X509_get_serialNumber(ed), 7);
        ASN1_TIME_set(X509_getm_notBefore(ed), NOW - DAY);
        ASN1_TIME_set(X509_getm_notAfter(ed), NOW + DAY);
        X509_set_pubkey(ed, k);
        X509_set_issuer_name(ed, X509_get_subject_name(ca_x));
        assert_true(X509_sign(ed, ca_k, EVP_sha256()) > 0);
        _cleanup_(freep) char *edc = pem_of(ed), *edk = key_pem_of(k);
        put("ed-cert.pem", edc);
        put("ed-key.pem", edk);
        refused("ed-cert.pem", "ed-key.pem", NULL, NOW, "its key is ED25519 (import rule", NULL);
        X509_free(ed);
        EVP_PKEY_free(k);
        /* the OCSP URL: 1000 characters pass, 1001 do not */
        leaf_case(&(cert_opts) { .cn = "a", .key = leaf_k, .signer = ca_k, .issuer = ca_x, .ocsp_len = 1000 }, leaf_k,
                  true, NULL);
        leaf_case(&(cert_opts) { .cn = "a", .key = leaf_k, .signer = ca_k, .issuer = ca_x, .ocsp_len = 1001 }, leaf_k,
                  false, "is 1001 characters long (import rule: the OCSP authority URL must not exceed 1000 characters)");
        X509_free(rsa_ca_x);
        EVP_PKEY_free(rsa_ca);
}

static void test_chain_and_anchor(void **s _unused_) {
        EVP_PKEY *int_k = ec_key("P-256"), *leaf2_k = ec_key("P-256"), *other_k = ec_key("P-256");
        X509 *int_x = make(&(cert_opts) { .cn = "Test Intermediate", .key = int_k, .signer = ca_k, .issuer = ca_x, .ca = true });
        X509 *leaf2 = make(&(cert_opts) { .cn = "web.example.com", .key = leaf2_k, .signer = int_k, .issuer = int_x });
        X509 *other = make(&(cert_opts) { .cn = "Other Root", .key = other_k, .ca = true });
        _cleanup_(freep) char *c = pem_of(leaf2), *k = key_pem_of(leaf2_k), *i = pem_of(int_x), *r = pem_of(ca_x);
        _cleanup_(freep) char *full = strprintf("%s%s", i, r), *reversed = strprintf("%s%s", r, i), *o = pem_of(other);
        _cleanup_(freep) char *err = NULL;
        import_source *src = NULL;

        put("l2.pem", c);
        put("l2key.pem", k);
        put("int.pem", i);
        put("full.pem", full);
        put("other.pem", o);
        put("reversed.pem", reversed);
        /* intermediate only (certbot's chain.pem): fine for ACM, no anchor */
        assert_int_equal(load("l2.pem", "l2key.pem", "int.pem", false, NOW, &src, &err), 0);
        assert_null(src->anchor_pem);
        src = issuer_import_source_free(src);
        /* up to the root: the root anchors a copy */
        assert_int_equal(load("l2.pem", "l2key.pem", "full.pem", false, NOW, &src, &err), 0);
        assert_string_equal(src->anchor_pem, r);
        src = issuer_import_source_free(src);
        /* a chain of another CA, or a root before its intermediate */
        refused("l2.pem", "l2key.pem", "other.pem", NOW, "chain file ", "is not the chain of the certificate in ", NULL);
        refused("l2.pem", "l2key.pem", "reversed.pem", NOW, "is not the chain of the certificate", NULL);
        /* an intermediate that expires before the leaf breaks the chain */
        X509 *short_x = make(&(cert_opts) { .cn = "Short Intermediate", .key = int_k, .signer = ca_k, .issuer = ca_x,
                                            .ca = true, .na = NOW + 10 * DAY });
        X509 *leaf3 = make(&(cert_opts) { .cn = "web.example.com", .key = leaf2_k, .signer = int_k, .issuer = short_x });
        _cleanup_(freep) char *sc = pem_of(leaf3), *si = pem_of(short_x);
        put("l3.pem", sc);
        put("short.pem", si);
        accepted("l3.pem", "l2key.pem", "short.pem", NOW + 9 * DAY);
        refused("l3.pem", "l2key.pem", "short.pem", NOW + 20 * DAY, "is not the chain of the certificate",
                "certificate has expired (depth 1)", NULL);
        X509_free(short_x);
        X509_free(leaf3);

        /* a copy (output: set) is verified like a deploy: up to the chain's
         * root it passes; with the intermediate alone it needs the system
         * store, which does not know this test root */
        free(err);
        err = NULL;
        assert_int_equal(load("l2.pem", "l2key.pem", "full.pem", true, NOW, &src, &err), 0);
        src = issuer_import_source_free(src);
        assert_true(load("l2.pem", "l2key.pem", "int.pem", true, NOW, NULL, &err) < 0);
        assert_non_null(strstr(err, "cannot be copied into output.dir /nonexistent/out"));
        assert_non_null(strstr(err, "add the root to "));
        /* a self-signed certificate with no chain is its own anchor */
        X509 *self = make(&(cert_opts) { .cn = "self.example.com", .key = leaf2_k });
        _cleanup_(freep) char *sp = pem_of(self);
        put("self.pem", sp);
        free(err);
        err = NULL;
        assert_int_equal(load("self.pem", "l2key.pem", NULL, true, NOW, &src, &err), 0);
        assert_string_equal(src->anchor_pem, src->cert_pem);
        src = issuer_import_source_free(src);
        X509_free(self);
        X509_free(int_x);
        X509_free(leaf2);
        X509_free(other);
        EVP_PKEY_free(int_k);
        EVP_PKEY_free(leaf2_k);
        EVP_PKEY_free(other_k);
}

static void test_request(void **s _unused_) {
        _cleanup_(freep) char *pc = path("cert.pem"), *pk = path("key.pem"), *pch = path("chain.pem"), *err = NULL;
        conf_cert c = cfg(pc, pk, pch);
        conf_tag tags[2] = { { (char *) "team", (char *) "web" }, { (char *) "cost center", (char *) "" } };
        import_source *src = NULL;
        json_t *req = NULL, *t;
        unsigned char dec[8192];

        c.issuer.import.tags = tags;
        c.issuer.import.n_tags = 2;
        assert_int_equal(issuer_import_read(&c.issuer.import, &src, &err), 0);
        assert_int_equal(issuer_import_check(src, &c, NOW, &err), 0);
        /* a first import: blobs and tags, no ARN */
        assert_int_equal(issuer_import_request(src, &c, NULL, "0123456789abcdef", &req, &err), 0);
        assert_null(json_object_get(req, "CertificateArn"));
        const char *b64 = json_string_value(json_object_get(req, "Certificate"));
        int n = EVP_DecodeBlock(dec, (const unsigned char *) b64, (int) strlen(b64));
        assert_true(n >= (int) strlen(src->cert_pem));
        assert_memory_equal(dec, src->cert_pem, strlen(src->cert_pem));
        b64 = json_string_value(json_object_get(req, "CertificateChain"));
        n = EVP_DecodeBlock(dec, (const unsigned char *) b64, (int) strlen(b64));
        assert_memory_equal(dec, src->chain_pem, strlen(src->chain_pem));
        b64 = json_string_value(json_object_get(req, "PrivateKey"));
        n = EVP_DecodeBlock(dec, (const unsigned char *) b64, (int) strlen(b64));
        assert_memory_equal(dec, src->key_pem, strlen(src->key_pem));
        t = json_object_get(req, "Tags");
        assert_int_equal(json_array_size(t), 4);
        assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "Key")), "cost center");
        assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "Value")), "");
        assert_string_equal(json_string_value(json_object_get(json_array_get(t, 2), "Key")), IMPORT_TAG_NAME);
        assert_string_equal(json_string_value(json_object_get(json_array_get(t, 2), "Value")), "web");
        assert_string_equal(json_string_value(json_object_get(json_array_get(t, 3), "Key")), IMPORT_TAG_HOST);
        assert_string_equal(json_string_value(json_object_get(json_array_get(t, 3), "Value")), "0123456789abcdef");
        /* wiped: the key string is zeroed where jansson keeps it */
        json_t *k = json_incref(json_object_get(req, "PrivateKey"));
        size_t kl = json_string_length(k);
        assert_null(issuer_import_request_wipe(req));
        for (size_t i = 0; i < kl; i++)
                assert_int_equal(json_string_value(k)[i], 0);
        json_decref(k);

        /* a re-import: the ARN, no tags; no host id: no host tag */
        assert_int_equal(issuer_import_request(src, &c, "arn:aws:acm:us-east-1:111122223333:certificate/x", "", &req, &err), 0);
        assert_string_equal(json_string_value(json_object_get(req, "CertificateArn")), "arn:aws:acm:us-east-1:111122223333:certificate/x");
        assert_null(json_object_get(req, "Tags"));
        issuer_import_request_wipe(req);
        assert_int_equal(issuer_import_tags(&c, "", &t, &err), 0);
        assert_int_equal(json_array_size(t), 3);
        json_decref(t);

        /* the agent's tags are its own; 50 in all */
        tags[0].key = (char *) IMPORT_TAG_HOST;
        assert_int_equal(issuer_import_request(src, &c, NULL, "h", &req, &err), -EINVAL);
        assert_non_null(strstr(err, "'acm-agent:host' is the agent's own tag"));
        free(err);
        err = NULL;
        conf_tag many[49];
        char keys[49][8];
        for (int i = 0; i < 49; i++) {
                snprintf(keys[i], sizeof(keys[i]), "k%d", i);
                many[i] = (conf_tag) { keys[i], (char *) "v" };
        }
        c.issuer.import.tags = many;
        c.issuer.import.n_tags = 48;
        assert_int_equal(issuer_import_tags(&c, "h", &t, &err), 0);
        assert_int_equal(json_array_size(t), 50);
        json_decref(t);
        c.issuer.import.n_tags = 49;
        assert_int_equal(issuer_import_tags(&c, "h", &t, &err), -EINVAL);
        assert_non_null(strstr(err, "issuer.tags: 49 tags; ACM takes at most 50"));
        free(err);
        err = NULL;
        assert_int_equal(issuer_import_tags(&c, "", &t, &err), 0);  /* no host tag: 50 */
        json_decref(t);
        issuer_import_source_free(src);
}

static void test_conflict_pace(void **s _unused_) {
        assert_int_equal(issuer_import_conflict_delay(0), 0);
        assert_int_equal(issuer_import_conflict_delay(1), 2);
        assert_int_equal(issuer_import_conflict_delay(2), 4);
        assert_int_equal(issuer_import_conflict_delay(3), 8);
        assert_int_equal(issuer_import_conflict_delay(4), 16);
        assert_int_equal(issuer_import_conflict_delay(IMPORT_CONFLICT_RETRIES + 1), 0);
}

/* The typed state: saved and loaded back the same; an attempt is what is in
 * flight and all state_reset drops; a bad part is refused with its key. */
static void test_state(void **s _unused_) {
        const issuer_ops *ops = issuer_lookup(CONF_ISSUER_IMPORT);
        json_t *in = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}", "arn", "arn:aws:acm:us-east-1:1:certificate/a",
                               "serial", "0A1B", "fingerprint", "ab", "imported_at", "2027-01-15T08:00:00Z",
                               "checked_at", "2027-01-15T09:00:00Z", "attempt", "fingerprint", "cd", "serial", "0C",
                               "at", "2027-01-16T08:00:00Z");
        json_t *out = NULL, *bad;
        char *err = NULL;
        void *st = NULL;

        assert_non_null(ops);
        assert_string_equal(ops->name, "import");
        assert_false(ops->renews);
        assert_true(ops->watch_each_pass);
        assert_int_equal(ops->state_load(in, &st, &err), 0);
        assert_true(ops->state_in_flight(st));
        assert_int_equal(ops->state_save(st, &out), 0);
        assert_true(json_equal(in, out));
        json_decref(out);
        ops->state_reset(st);
        assert_false(ops->state_in_flight(st));
        assert_int_equal(ops->state_save(st, &out), 0);
        assert_null(json_object_get(out, "attempt"));
        assert_string_equal(json_string_value(json_object_get(out, "arn")), "arn:aws:acm:us-east-1:1:certificate/a");
        assert_string_equal(json_string_value(json_object_get(out, "fingerprint")), "ab");
        json_decref(out);
        ops->state_free(st);
        /* nothing saved yet: an empty state */
        assert_int_equal(ops->state_load(NULL, &st, &err), 0);
        assert_false(ops->state_in_flight(st));
        ops->state_free(st);
        /* bad parts */
        json_object_set_new(in, "imported_at", json_string("yesterday"));
        assert_int_equal(ops->state_load(in, &st, &err), -EBADMSG);
        assert_string_equal(err, "\"imported_at\" is not an RFC 3339 time");
        free(err);
        bad = json_pack("{s:i}", "arn", 7);
        assert_int_equal(ops->state_load(bad, &st, &err), -EBADMSG);
        assert_non_null(strstr(err, "\"arn\" is not a string"));
        free(err);
        json_decref(bad);
        bad = json_pack("{s:s}", "attempt", "x");
        assert_int_equal(ops->state_load(bad, &st, &err), -EBADMSG);
        assert_string_equal(err, "\"attempt\" is not an object");
        free(err);
        json_decref(bad);
        json_decref(in);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_good, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fingerprint, setup, teardown),
                cmocka_unit_test_setup_teardown(test_special_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bounds_exact, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pem_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_key_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_validity, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cert_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_chain_and_anchor, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request, setup, teardown),
                cmocka_unit_test(test_conflict_pace),
                cmocka_unit_test(test_state),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
