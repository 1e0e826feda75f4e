/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "basic/macro.h"
#include "crypto/crypto.h"

#define NOW ((time_t) 1800000000)  /* 2027-01-15 */
#define DAY 86400

/* ---- helpers: a test CA hierarchy built with OpenSSL ---- */

static EVP_PKEY *ec_key(void) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(k);
        return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *v) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, v);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
}

static X509 *make_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
                       const char *san, time_t nb, time_t na, long serial) {
        X509 *x = X509_new();
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_NAME *n = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
        ASN1_TIME_set(X509_getm_notBefore(x), nb);
        ASN1_TIME_set(X509_getm_notAfter(x), na);
        X509_set_pubkey(x, pub);
        add_ext(x, issuer ?: x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
        if (ca)
                add_ext(x, issuer ?: x, NID_key_usage, "critical,keyCertSign,cRLSign");
        if (san)
                add_ext(x, issuer ?: x, NID_subject_alt_name, san);
        assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
        return x;
}

static char *pem_of(X509 *x) {
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, x);
        char *d;
        long n = BIO_get_mem_data(b, &d);
        char *s = strndup(d, (size_t) n);
        BIO_free(b);
        return s;
}

static char *cat(const char *a, const char *b) {
        char *s = malloc(strlen(a) + strlen(b) + 1);
        strcpy(s, a);
        strcat(s, b);
        return s;
}

typedef struct pki {
        EVP_PKEY *root_key, *sub_key, *leaf_key;
        X509 *root, *sub;
        char *root_pem, *sub_pem, *chain_pem;  /* chain = sub + root */
        char store_path[64];                   /* a trust store file holding root */
} pki;

static pki P;

static int pki_setup(void **state) {
        (void) state;
        P.root_key = ec_key();
        P.sub_key = ec_key();
        P.leaf_key = ec_key();
        P.root = make_cert("Test Root", P.root_key, NULL, P.root_key, true, NULL, NOW - 30 * DAY, NOW + 3650 * DAY, 1);
        P.sub = make_cert("Test Sub", P.sub_key, P.root, P.root_key, true, NULL, NOW - 30 * DAY, NOW + 1000 * DAY, 2);
        P.root_pem = pem_of(P.root);
        P.sub_pem = pem_of(P.sub);
        P.chain_pem = cat(P.sub_pem, P.root_pem);
        strcpy(P.store_path, "/tmp/test-crypto-store-XXXXXX");
        int fd = mkstemp(P.store_path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, P.root_pem, strlen(P.root_pem)), (ssize_t) strlen(P.root_pem));
        close(fd);
        return 0;
}

static int pki_teardown(void **state) {
        (void) state;
        EVP_PKEY_free(P.root_key);
        EVP_PKEY_free(P.sub_key);
        EVP_PKEY_free(P.leaf_key);
        X509_free(P.root);
        X509_free(P.sub);
        free(P.root_pem);
        free(P.sub_pem);
        free(P.chain_pem);
        unlink(P.store_path);
        return 0;
}

static char *leaf_pem(const char *cn, EVP_PKEY *pub, const char *san, time_t nb, time_t na) {
        X509 *x = make_cert(cn, pub, P.sub, P.sub_key, false, san, nb, na, 0x0a1b2c);
        char *s = pem_of(x);
        X509_free(x);
        return s;
}

static char *dns_www[] = { (char *) "www.example.com", (char *) "example.com", NULL };
static char *ips[] = { (char *) "192.0.2.1", (char *) "2001:db8::1", NULL };
static char *emails[] = { (char *) "ops@example.com", NULL };
static char *uris[] = { (char *) "spiffe://example.com/web", NULL };

static conf_cert want_cert(void) {
        conf_cert c = { .name = (char *) "web" };
        c.dns_names = dns_www;
        c.ip_addresses = ips;
        c.email_addresses = emails;
        c.uris = uris;
        return c;
}

#define GOOD_SAN "DNS:www.example.com,DNS:example.com,IP:192.0.2.1,IP:2001:db8:0:0:0:0:0:1,email:ops@example.com,URI:spiffe://example.com/web"

/* ---- keys ---- */

static void test_key_types(void **state) {
        (void) state;
        const conf_key keys[] = {
                { .type = CONF_KEY_RSA, .bits = 2048 }, { .type = CONF_KEY_RSA, .bits = 3072 },
                { .type = CONF_KEY_EC, .curve = CONF_CURVE_P256 }, { .type = CONF_KEY_EC, .curve = CONF_CURVE_P384 },
                { .type = CONF_KEY_EC, .curve = CONF_CURVE_P521 },
        };
        const unsigned bits[] = { 2048, 3072, 256, 384, 521 };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                EVP_PKEY *k = NULL, *k2 = NULL;
                char *pem = NULL;
                assert_int_equal(crypto_key_generate(&keys[i], &k), 0);
                assert_int_equal((unsigned) EVP_PKEY_get_bits(k), bits[i]);
                assert_true(crypto_key_matches_conf(k, &keys[i]));
                assert_int_equal(crypto_key_to_pem(k, &pem), 0);
                assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
                assert_int_equal(crypto_key_from_pem(pem, strlen(pem), &k2), 0);
                assert_int_equal(EVP_PKEY_eq(k, k2), 1);
                /* another type/size does not match */
                conf_key other = keys[(i + 1) % (sizeof keys / sizeof keys[0])];
                assert_false(crypto_key_matches_conf(k, &other));
                crypto_secret_free(pem);
                EVP_PKEY_free(k);
                EVP_PKEY_free(k2);
        }
        EVP_PKEY *k = NULL;
        conf_key bad = { .type = CONF_KEY_RSA, .bits = 1024 };
        assert_int_equal(crypto_key_generate(&bad, &k), -EINVAL);
        assert_null(k);
        assert_int_equal(crypto_key_from_pem("junk", 4, &k), -EBADMSG);
        assert_null(k);
}

static void test_key_load_file(void **state) {
        (void) state;
        char path[] = "/tmp/test-crypto-key-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        char *pem = NULL;
        assert_int_equal(crypto_key_to_pem(P.leaf_key, &pem), 0);
        assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t) strlen(pem));
        close(fd);
        EVP_PKEY *k = NULL;
        assert_int_equal(chmod(path, 0600), 0);
        assert_int_equal(crypto_key_load_file(path, &k), 0);
        assert_int_equal(EVP_PKEY_eq(k, P.leaf_key), 1);
        EVP_PKEY_free(k);
        k = NULL;
        assert_int_equal(chmod(path, 0640), 0);
        assert_int_equal(crypto_key_load_file(path, &k), -EPERM);
        assert_null(k);
        unlink(path);
        assert_int_equal(crypto_key_load_file(path, &k), -ENOENT);
        crypto_secret_free(pem);
}

/* ---- CSR ---- */

static char *entry(X509_NAME *n, int nid) {
        int i = X509_NAME_get_index_by_NID(n, nid, -1);
        if (i < 0)
                return NULL;
        unsigned char *u = NULL;
        int l = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
        char *s = strndup((char *) u, (size_t) l);
        OPENSSL_free(u);
        return s;
}

static void assert_entry(X509_NAME *n, int nid, const char *v) {
        char *s = entry(n, nid);
        assert_non_null(s);
        assert_string_equal(s, v);
        free(s);
}

static void test_csr(void **state) {
        (void) state;
        conf_attr custom[] = { { .oid = (char *) "1.3.6.1.4.1.99999.1", .value = (char *) "custom-value" } };
        conf_cert c = want_cert();
        c.subject = (conf_subject) {
                .country = (char *) "DE", .organization = (char *) "Example GmbH",
                .organizational_unit = (char *) "Ops", .distinguished_name_qualifier = (char *) "dnq",
                .state = (char *) "Berlin", .serial_number = (char *) "42", .locality = (char *) "Berlin-Mitte",
                .title = (char *) "Server", .surname = (char *) "Doe", .given_name = (char *) "Jane",
                .initials = (char *) "JD", .pseudonym = (char *) "jd", .generation_qualifier = (char *) "III",
                .custom_attributes = custom, .n_custom_attributes = 1,
        };
        char *pem = NULL;
        assert_int_equal(crypto_csr_build(&c, P.leaf_key, &pem), 0);
        BIO *b = BIO_new_mem_buf(pem, -1);
        X509_REQ *req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
        BIO_free(b);
        assert_non_null(req);
        assert_int_equal(X509_REQ_verify(req, P.leaf_key), 1);
        X509_NAME *n = X509_REQ_get_subject_name(req);
        assert_entry(n, NID_commonName, "www.example.com");  /* default: dns_names[0] */
        assert_entry(n, NID_countryName, "DE");
        assert_entry(n, NID_organizationName, "Example GmbH");
        assert_entry(n, NID_organizationalUnitName, "Ops");
        assert_entry(n, NID_dnQualifier, "dnq");
        assert_entry(n, NID_stateOrProvinceName, "Berlin");
        assert_entry(n, NID_serialNumber, "42");
        assert_entry(n, NID_localityName, "Berlin-Mitte");
        assert_entry(n, NID_title, "Server");
        assert_entry(n, NID_surname, "Doe");
        assert_entry(n, NID_givenName, "Jane");
        assert_entry(n, NID_initials, "JD");
        assert_entry(n, NID_pseudonym, "jd");
        assert_entry(n, NID_generationQualifier, "III");
        ASN1_OBJECT *o = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
        int idx = X509_NAME_get_index_by_OBJ(n, o, -1);
        ASN1_OBJECT_free(o);
        assert_true(idx >= 0);
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx));
        assert_memory_equal(ASN1_STRING_get0_data(d), "custom-value", 12);

        STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
        assert_non_null(exts);
        GENERAL_NAMES *g = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
        assert_non_null(g);
        assert_int_equal(sk_GENERAL_NAME_num(g), 6);
        int types[] = { GEN_DNS, GEN_DNS, GEN_IPADD, GEN_IPADD, GEN_EMAIL, GEN_URI };
        const char *vals[] = { "www.example.com", "example.com", NULL, NULL, "ops@example.com", "spiffe://example.com/web" };
        for (int i = 0; i < 6; i++) {
                int t;
                ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, i), &t);
                assert_int_equal(t, types[i]);
                if (vals[i]) {
                        assert_int_equal(ASN1_STRING_length(v), (int) strlen(vals[i]));
                        assert_memory_equal(ASN1_STRING_get0_data(v), vals[i], strlen(vals[i]));
                } else
                        assert_int_equal(ASN1_STRING_length(v), i == 2 ? 4 : 16);
        }
        GENERAL_NAMES_free(g);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        X509_REQ_free(req);
        free(pem);

        /* explicit CN wins; bad IP and bad OID are rejected */
        c.subject.common_name = (char *) "Explicit";
        assert_int_equal(crypto_csr_build(&c, P.leaf_key, &pem), 0);
        assert_non_null(pem);
        free(pem);
        pem = NULL;
        char *badip[] = { (char *) "999.1.1.1", NULL };
        c.ip_addresses = badip;
        assert_int_equal(crypto_csr_build(&c, P.leaf_key, &pem), -EINVAL);
        assert_null(pem);
        c.ip_addresses = ips;
        custom[0].oid = (char *) "not an oid";
        assert_int_equal(crypto_csr_build(&c, P.leaf_key, &pem), -EINVAL);
        assert_null(pem);
}

/* ---- cert info ---- */

static void test_cert_info(void **state) {
        (void) state;
        char *pem = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW - DAY, NOW + 90 * DAY);
        crypto_cert_info *i = NULL;
        assert_int_equal(crypto_cert_info_get(pem, strlen(pem), &i), 0);
        assert_string_equal(i->serial_hex, "0A1B2C");
        assert_string_equal(i->serial_colon, "0a:1b:2c");
        assert_int_equal(i->not_before, NOW - DAY);
        assert_int_equal(i->not_after, NOW + 90 * DAY);
        assert_string_equal(i->subject_cn, "www.example.com");
        assert_string_equal(i->subject, "CN=www.example.com");
        assert_string_equal(i->issuer, "CN=Test Sub");
        assert_string_equal(i->dns_names[0], "www.example.com");
        assert_string_equal(i->dns_names[1], "example.com");
        assert_null(i->dns_names[2]);
        assert_string_equal(i->ip_addresses[0], "192.0.2.1");
        assert_string_equal(i->ip_addresses[1], "2001:db8::1");
        assert_string_equal(i->email_addresses[0], "ops@example.com");
        assert_string_equal(i->uris[0], "spiffe://example.com/web");
        assert_int_equal(strlen(i->fingerprint_sha256), 64);
        assert_string_equal(i->key_type, "EC");
        assert_int_equal(i->key_bits, 256);
        crypto_cert_info_free(i);
        free(pem);
        i = NULL;
        assert_int_equal(crypto_cert_info_get("nope", 4, &i), -EBADMSG);
        assert_null(i);
}

/* ---- verify ---- */

/* Trust store: the test root (a file), as for an ACM public certificate. */
static int verify(const char *leaf, const char *chain, const char *ca, EVP_PKEY *key, conf_cert *c, char **reason) {
        free(*reason);
        *reason = NULL;
        return crypto_verify_issued(c, key, leaf, chain, ca, P.store_path, NOW, NULL, reason);
}

static int verify_chain(const char *leaf, const char *chain, const char *ca, const char *store, conf_cert *c,
                        char **ret_chain, char **reason) {
        free(*reason);
        *reason = NULL;
        return crypto_verify_issued(c, P.leaf_key, leaf, chain, ca, store, NOW, ret_chain, reason);
}

static void test_verify(void **state) {
        (void) state;
        conf_cert c = want_cert();
        char *reason = NULL;
        char *good = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW - 60, NOW + 90 * DAY);

        /* happy: chain ends in root; also with explicit CA; and with sub-only chain + CA */
        assert_int_equal(verify(good, P.chain_pem, NULL, P.leaf_key, &c, &reason), 0);
        assert_null(reason);
        assert_int_equal(verify(good, P.chain_pem, P.root_pem, P.leaf_key, &c, &reason), 0);
        assert_int_equal(verify(good, P.sub_pem, P.root_pem, P.leaf_key, &c, &reason), 0);
        /* a configured subordinate CA is a trust anchor of its own */
        assert_int_equal(verify(good, NULL, P.sub_pem, P.leaf_key, &c, &reason), 0);
        /* not_before slightly in the future is allowed */
        char *skew = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW + 60, NOW + 90 * DAY);
        assert_int_equal(verify(skew, P.chain_pem, NULL, P.leaf_key, &c, &reason), 0);
        free(skew);

        /* wrong key */
        EVP_PKEY *other = ec_key();
        assert_int_equal(verify(good, P.chain_pem, NULL, other, &c, &reason), -EKEYREJECTED);
        assert_string_equal(reason, "certificate public key does not match the pending key");
        EVP_PKEY_free(other);

        /* missing SAN */
        char *nosan = leaf_pem("www.example.com", P.leaf_key, "DNS:www.example.com", NOW - 60, NOW + 90 * DAY);
        assert_int_equal(verify(nosan, P.chain_pem, NULL, P.leaf_key, &c, &reason), -EKEYREJECTED);
        assert_string_equal(reason, "SAN example.com missing");
        free(nosan);

        /* wrong CN */
        char *wrongcn = leaf_pem("evil.example.com", P.leaf_key, GOOD_SAN, NOW - 60, NOW + 90 * DAY);
        assert_int_equal(verify(wrongcn, P.chain_pem, NULL, P.leaf_key, &c, &reason), -EKEYREJECTED);
        assert_string_equal(reason, "subject CN is evil.example.com, expected www.example.com");
        free(wrongcn);

        /* expired */
        char *expired = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW - 90 * DAY, NOW - DAY);
        assert_int_equal(verify(expired, P.chain_pem, NULL, P.leaf_key, &c, &reason), -EKEYREJECTED);
        assert_string_equal(reason, "certificate expired 2027-01-14T08:00:00Z");
        free(expired);

        /* not yet valid */
        char *future = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW + DAY, NOW + 90 * DAY);
        assert_int_equal(verify(future, P.chain_pem, NULL, P.leaf_key, &c, &reason), -EKEYREJECTED);
        assert_string_equal(reason, "certificate not valid before 2027-01-16T08:00:00Z");
        free(future);

        /* broken chain: root only, sub missing */
        assert_int_equal(verify(good, P.root_pem, NULL, P.leaf_key, &c, &reason), -EKEYREJECTED);
        assert_string_equal(reason, "chain does not verify: unable to get local issuer certificate (depth 0)");
        /* chain of an unrelated CA, anchored at its own root */
        EVP_PKEY *k2 = ec_key();
        X509 *r2 = make_cert("Other Root", k2, NULL, k2, true, NULL, NOW - DAY, NOW + DAY * 100, 9);
        char *r2pem = pem_of(r2);
        assert_int_equal(verify(good, P.sub_pem, r2pem, P.leaf_key, &c, &reason), -EKEYREJECTED);
        assert_string_equal(reason, "chain does not verify: unable to get local issuer certificate (depth 1)");
        /* no trust anchor: the system store does not hold the test root, and the
         * root the answer brings along is not trusted for being there */
        assert_int_equal(crypto_verify_issued(&c, P.leaf_key, good, P.chain_pem, NULL, NULL, NOW, NULL, &reason),
                         -EKEYREJECTED);
        assert_non_null(strstr(reason, "chain does not verify"));
        X509_free(r2);
        free(r2pem);
        EVP_PKEY_free(k2);

        /* a self-signed certificate: its own anchor when given as the CA
         * alone (import's copy), with an empty chain; anchored any other
         * way (beside another CA, or through a store) it is refused */
        X509 *self = make_cert("www.example.com", P.leaf_key, NULL, P.leaf_key, false, GOOD_SAN, NOW - DAY,
                               NOW + 90 * DAY, 7);
        char *selfpem = pem_of(self), *selfchain = NULL;
        assert_int_equal(verify_chain(selfpem, NULL, selfpem, NULL, &c, &selfchain, &reason), 0);
        assert_string_equal(selfchain, "");
        free(selfchain);
        char *both = cat(selfpem, P.root_pem);
        assert_int_equal(verify(selfpem, NULL, both, P.leaf_key, &c, &reason), -EKEYREJECTED);
        assert_string_equal(reason, "the certificate is its own trust anchor; refusing");
        free(both);
        X509_free(self);
        free(selfpem);

        /* junk PEM */
        char *junk = cat(P.sub_pem, "garbage\n");
        char *junk2 = cat(junk, P.root_pem);
        assert_int_equal(verify(good, junk2, NULL, P.leaf_key, &c, &reason), -EBADMSG);
        assert_non_null(reason);
        assert_int_equal(verify("junk", P.chain_pem, NULL, P.leaf_key, &c, &reason), -EBADMSG);
        free(junk);
        free(junk2);

        /* oversized chain: 11 certificates */
        char *big = strdup("");
        for (int i = 0; i < 11; i++) {
                char *t = cat(big, P.sub_pem);
                free(big);
                big = t;
        }
        assert_int_equal(verify(good, big, NULL, P.leaf_key, &c, &reason), -E2BIG);
        assert_non_null(reason);
        free(big);

        free(reason);
        free(good);
}

/* The chain written is the chain verified (OpenSSL's path without the leaf,
 * with the anchor); a chain that does not belong to the certificate is refused. */
static void test_verify_chain(void **state) {
        (void) state;
        conf_cert c = want_cert();
        char *reason = NULL, *out = NULL;
        char *good = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW - 60, NOW + 90 * DAY);
        EVP_PKEY *ok = ec_key(), *bk = ec_key();
        X509 *other = make_cert("Other Root", ok, NULL, ok, true, NULL, NOW - DAY, NOW + 100 * DAY, 9);
        X509 *bridge = make_cert("Bridge Root", bk, NULL, bk, true, NULL, NOW - DAY, NOW + 100 * DAY, 10);
        /* the test root cross-signed by the bridge: same subject and key, another issuer */
        X509 *cross = make_cert("Test Root", P.root_key, bridge, bk, true, NULL, NOW - DAY, NOW + 100 * DAY, 11);
        char *other_pem = pem_of(other), *bridge_pem = pem_of(bridge), *cross_pem = pem_of(cross);

        /* right chain: written as given (today's content) */
        assert_int_equal(verify_chain(good, P.chain_pem, NULL, P.store_path, &c, &out, &reason), 0);
        assert_string_equal(out, P.chain_pem);
        free(TAKE_PTR(out));
        assert_int_equal(verify_chain(good, P.chain_pem, P.root_pem, NULL, &c, &out, &reason), 0);
        assert_string_equal(out, P.chain_pem);
        free(TAKE_PTR(out));
        /* a subordinate CA as anchor: the root above it, checked by signature, stays */
        assert_int_equal(verify_chain(good, P.chain_pem, P.sub_pem, NULL, &c, &out, &reason), 0);
        assert_string_equal(out, P.chain_pem);
        free(TAKE_PTR(out));
        /* missing chain: rebuilt from the anchor */
        assert_int_equal(verify_chain(good, P.sub_pem, P.root_pem, NULL, &c, &out, &reason), 0);
        assert_string_equal(out, P.chain_pem);
        free(TAKE_PTR(out));
        assert_int_equal(verify_chain(good, NULL, P.sub_pem, NULL, &c, &out, &reason), 0);
        assert_string_equal(out, P.sub_pem);
        free(TAKE_PTR(out));
        assert_int_equal(verify_chain(good, "\n", P.sub_pem, NULL, &c, &out, &reason), 0);
        assert_string_equal(out, P.sub_pem);
        free(TAKE_PTR(out));
        X509 *direct = make_cert("www.example.com", P.leaf_key, P.root, P.root_key, false, GOOD_SAN, NOW - 60,
                                 NOW + 90 * DAY, 77);
        char *direct_pem = pem_of(direct);
        assert_int_equal(verify_chain(direct_pem, NULL, P.root_pem, NULL, &c, &out, &reason), 0);
        assert_string_equal(out, P.root_pem);
        free(TAKE_PTR(out));
        assert_int_equal(verify_chain(direct_pem, NULL, NULL, P.store_path, &c, &out, &reason), 0);
        assert_string_equal(out, P.root_pem);
        free(TAKE_PTR(out));

        /* an unrelated self-signed CA as the whole chain */
        assert_int_equal(verify_chain(good, other_pem, P.sub_pem, NULL, &c, &out, &reason), -EKEYREJECTED);
        assert_non_null(strstr(reason, "chain: certificate 1 (/CN=Other Root) is not on the path"));
        assert_null(out);
        assert_int_equal(verify_chain(direct_pem, other_pem, P.root_pem, NULL, &c, &out, &reason), -EKEYREJECTED);
        assert_null(out);
        /* the right chain plus junk */
        char *extra = cat(P.chain_pem, other_pem);
        assert_int_equal(verify_chain(good, extra, NULL, P.store_path, &c, &out, &reason), -EKEYREJECTED);
        assert_non_null(strstr(reason, "certificate 3 (/CN=Other Root)"));
        assert_int_equal(verify_chain(good, extra, P.root_pem, NULL, &c, &out, &reason), -EKEYREJECTED);
        assert_null(out);
        /* the leaf repeated in its own chain does not belong there either */
        char *withleaf = cat(P.chain_pem, good);
        assert_int_equal(verify_chain(good, withleaf, P.root_pem, NULL, &c, &out, &reason), -EKEYREJECTED);
        assert_null(out);

        /* a cross-certificate of the anchor and its issuer are accepted, not written */
        char *x1 = cat(P.sub_pem, cross_pem), *x2 = cat(x1, bridge_pem);
        assert_int_equal(verify_chain(good, x2, NULL, P.store_path, &c, &out, &reason), 0);
        assert_string_equal(out, P.chain_pem);
        free(TAKE_PTR(out));

        free(x1);
        free(x2);
        free(extra);
        free(withleaf);
        free(direct_pem);
        X509_free(direct);
        free(other_pem);
        free(bridge_pem);
        free(cross_pem);
        X509_free(other);
        X509_free(bridge);
        X509_free(cross);
        EVP_PKEY_free(ok);
        EVP_PKEY_free(bk);
        free(reason);
        free(good);
}

/* ---- output builders ---- */

static void test_fullchain_and_bundle(void **state) {
        (void) state;
        char *good = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW - 60, NOW + 90 * DAY);
        /* CRLF and blank lines between blocks are tolerated and normalised */
        char *messy = cat("\n\n", P.chain_pem);
        char *full = NULL, *bundle = NULL;
        assert_int_equal(crypto_build_fullchain(good, messy, &full), 0);
        char *a = cat(good, P.sub_pem), *want = cat(a, P.root_pem);
        assert_string_equal(full, want);
        assert_int_equal(crypto_build_haproxy_bundle(good, P.chain_pem, P.leaf_key, &bundle), 0);
        assert_memory_equal(bundle, want, strlen(want));
        EVP_PKEY *k = NULL;
        const char *kp = bundle + strlen(want);
        assert_true(strncmp(kp, "-----BEGIN PRIVATE KEY-----", 27) == 0);
        assert_int_equal(crypto_key_from_pem(kp, strlen(kp), &k), 0);
        assert_int_equal(EVP_PKEY_eq(k, P.leaf_key), 1);
        EVP_PKEY_free(k);
        char *norm = NULL;
        assert_int_equal(crypto_pem_normalize_certs(P.chain_pem, 1, &norm), -E2BIG);
        assert_int_equal(crypto_pem_normalize_certs("", 10, &norm), -EBADMSG);
        assert_null(norm);
        free(a);
        free(want);
        free(full);
        crypto_secret_free(bundle);
        free(messy);
        free(good);
}

static void test_pkcs12(void **state) {
        (void) state;
        char *good = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW - 60, NOW + 90 * DAY);
        unsigned char *der = NULL;
        size_t len = 0;
        assert_int_equal(crypto_build_pkcs12(good, P.chain_pem, P.leaf_key, "s3cret", &der, &len), 0);
        const unsigned char *p = der;
        PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long) len);
        assert_non_null(p12);
        assert_int_equal(PKCS12_verify_mac(p12, "wrong", -1), 0);
        EVP_PKEY *k = NULL;
        X509 *x = NULL;
        STACK_OF(X509) *ca = NULL;
        assert_int_equal(PKCS12_parse(p12, "s3cret", &k, &x, &ca), 1);
        assert_int_equal(EVP_PKEY_eq(k, P.leaf_key), 1);
        assert_int_equal(sk_X509_num(ca), 2);
        EVP_PKEY_free(k);
        X509_free(x);
        sk_X509_pop_free(ca, X509_free);
        PKCS12_free(p12);

        /* Debian's openssl pkcs12 reads it */
        char path[] = "/tmp/test-crypto-p12-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, der, len), (ssize_t) len);
        close(fd);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "openssl pkcs12 -in %s -passin pass:s3cret -noout 2>/dev/null", path);
        if (access("/usr/bin/openssl", X_OK) == 0)
                assert_int_equal(system(cmd), 0);
        unlink(path);
        free(der);

        /* a key that does not belong to the certificate is refused */
        EVP_PKEY *other = ec_key();
        der = NULL;
        assert_int_equal(crypto_build_pkcs12(good, NULL, other, "x", &der, &len), -EKEYREJECTED);
        assert_null(der);
        EVP_PKEY_free(other);
        free(good);
}

static void test_pkcs8(void **state) {
        (void) state;
        BIO *b = BIO_new(BIO_s_mem());
        assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, P.leaf_key, EVP_aes_256_cbc(), "pass phrase", 11, NULL, NULL), 1);
        char *d;
        long n = BIO_get_mem_data(b, &d);
        char *pem = strndup(d, (size_t) n);
        BIO_free(b);
        EVP_PKEY *k = NULL;
        assert_int_equal(crypto_decrypt_pkcs8(pem, "pass phrase", &k), 0);
        assert_int_equal(EVP_PKEY_eq(k, P.leaf_key), 1);
        EVP_PKEY_free(k);
        k = NULL;
        assert_int_equal(crypto_decrypt_pkcs8(pem, "wrong", &k), -EKEYREJECTED);
        assert_null(k);
        assert_int_equal(crypto_decrypt_pkcs8("-----BEGIN PRIVATE KEY-----\n", "x", &k), -EBADMSG);
        /* unencrypted loader refuses the encrypted key rather than prompting */
        assert_int_equal(crypto_key_from_pem(pem, strlen(pem), &k), -EBADMSG);
        assert_null(k);
        free(pem);
        assert_int_equal(ERR_peek_error(), 0);
}

/* The PBKDF2 iteration count comes with the (AWS) input: a huge one is
 * refused before any derivation instead of holding the agent for minutes. */
static void test_pkcs8_iterations(void **state) {
        (void) state;
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(P.leaf_key);
        assert_non_null(p8);
        X509_SIG *sig = PKCS8_encrypt(-1, EVP_aes_256_cbc(), "pw", 2, NULL, 0, 65536, p8);
        assert_non_null(sig);
        unsigned char *der = NULL;
        int n = i2d_X509_SIG(sig, &der);
        assert_true(n > 0);
        X509_SIG_free(sig);
        PKCS8_PRIV_KEY_INFO_free(p8);

        /* as encrypted (65536 rounds): accepted */
        BIO *b = BIO_new(BIO_s_mem());
        assert_true(PEM_write_bio(b, "ENCRYPTED PRIVATE KEY", "", der, n) > 0);
        char *d;
        long l = BIO_get_mem_data(b, &d);
        char *pem = strndup(d, (size_t) l);
        BIO_free(b);
        EVP_PKEY *k = NULL;
        assert_int_equal(crypto_decrypt_pkcs8(pem, "pw", &k), 0);
        EVP_PKEY_free(k);
        k = NULL;
        free(pem);

        /* the INTEGER 65536 (02 03 01 00 00) patched to 8388607 rounds */
        unsigned char *at = memmem(der, (size_t) n, "\x02\x03\x01\x00\x00", 5);
        assert_non_null(at);
        memcpy(at, "\x02\x03\x7f\xff\xff", 5);
        b = BIO_new(BIO_s_mem());
        assert_true(PEM_write_bio(b, "ENCRYPTED PRIVATE KEY", "", der, n) > 0);
        l = BIO_get_mem_data(b, &d);
        pem = strndup(d, (size_t) l);
        BIO_free(b);
        assert_int_equal(crypto_decrypt_pkcs8(pem, "pw", &k), -E2BIG);
        assert_null(k);
        free(pem);
        OPENSSL_free(der);
        assert_int_equal(ERR_peek_error(), 0);
}

/* The key-to-certificate match the engine uses to promote a pending key and
 * to find the key of a pending certificate after a kill. */
static void test_key_matches_cert(void **state) {
        (void) state;
        char *good = leaf_pem("www.example.com", P.leaf_key, GOOD_SAN, NOW - 60, NOW + 90 * DAY);
        EVP_PKEY *other = ec_key();

        assert_int_equal(crypto_key_matches_cert(P.leaf_key, good), 1);
        assert_int_equal(crypto_key_matches_cert(other, good), 0);
        assert_int_equal(crypto_key_matches_cert(P.leaf_key, "not a certificate"), -EBADMSG);
        assert_int_equal(crypto_key_matches_cert(NULL, good), -EINVAL);
        EVP_PKEY_free(other);
        free(good);
        assert_int_equal(ERR_peek_error(), 0);
}

/* crypto_sha256(): one fetched SHA-256 for the process, from any thread,
 * that digests as SHA-256 does ("abc", FIPS 180-2 B.1). */
static void *sha256_from_thread(void *arg) {
        (void) arg;
        return (void *) crypto_sha256();
}

static void test_sha256(void **state) {
        (void) state;
        static const char *want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        char hex[65];
        pthread_t t;
        void *other = NULL;

        assert_non_null(crypto_sha256());
        assert_int_equal(pthread_create(&t, NULL, sha256_from_thread, NULL), 0);
        assert_int_equal(pthread_join(t, &other), 0);
        assert_ptr_equal(other, crypto_sha256());
        assert_int_equal(EVP_Digest("abc", 3, md, &len, crypto_sha256(), NULL), 1);
        assert_int_equal(len, 32);
        for (unsigned i = 0; i < len; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        assert_string_equal(hex, want);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sha256),
                cmocka_unit_test(test_key_types),
                cmocka_unit_test(test_key_load_file),
                cmocka_unit_test(test_csr),
                cmocka_unit_test(test_cert_info),
                cmocka_unit_test(test_verify), cmocka_unit_test(test_verify_chain),
                cmocka_unit_test(test_fullchain_and_bundle),
                cmocka_unit_test(test_pkcs12),
                cmocka_unit_test(test_pkcs8), cmocka_unit_test(test_pkcs8_iterations),
                cmocka_unit_test(test_key_matches_cert),
        };
        return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
