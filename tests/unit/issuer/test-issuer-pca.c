/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Private CA issuer's pure parts: the IssueCertificate request built from
 * the configuration (every Validity form, ApiPassthrough, TemplateArn), the
 * signing algorithm choice, and what an issued certificate must carry.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "issuer/issuer-pca.h"

#define CA "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/22222222-2222-4222-8222-222222222222"

static char *dns[] = { (char *) "www.example.com", NULL };

static conf_cert make_cert(const char *name, char *dir) {
        conf_cert c = {
                .name = (char *) name,
                .issuer_type = CONF_ISSUER_PCA,
                .dns_names = dns,
                .key = { .type = CONF_KEY_EC, .curve = CONF_CURVE_P256 },
                .output = { .dir = dir, .owner = (uid_t) -1, .group = (gid_t) -1, .mode = 0644, .key_mode = 0600,
                            .files = CONF_OUT_CERT | CONF_OUT_CHAIN | CONF_OUT_FULLCHAIN | CONF_OUT_KEY,
                            .keep_versions = 2 },
                .schedule = { .renew_fraction = 0.33, .jitter = 0, .retry_min = 300, .retry_max = 21600 },
        };
        c.issuer.pca.ca_arn = (char *) CA;
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_DAYS, 30 };
        return c;
}

static void test_request_forms(void **s _unused_) {
        char dir[] = "/nonexistent";
        conf_cert c = make_cert("web", dir);
        json_t *req = NULL;
        const char *csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
        time_t now = 1800000000;  /* 2027-01-15T08:00:00Z */

        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHECDSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(req, "CertificateAuthorityArn")), CA);
        assert_string_equal(json_string_value(json_object_get(req, "SigningAlgorithm")), "SHA256WITHECDSA");
        assert_string_equal(json_string_value(json_object_get(req, "IdempotencyToken")), "tok");
        /* Csr is the PEM, base64 (a blob in the JSON protocol) */
        const char *b64 = json_string_value(json_object_get(req, "Csr"));
        unsigned char dec[256];
        int n = EVP_DecodeBlock(dec, (const unsigned char *) b64, (int) strlen(b64));
        assert_true(n >= (int) strlen(csr));
        assert_memory_equal(dec, csr, strlen(csr));
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "DAYS");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "Validity"), "Value")), 30);
        assert_null(json_object_get(req, "TemplateArn"));
        assert_null(json_object_get(req, "ValidityNotBefore"));
        assert_null(json_object_get(req, "ApiPassthrough"));
        json_decref(req);

        /* DURATION: whole days → DAYS, else END_DATE = now + duration */
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_DURATION, 2 * 86400 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHECDSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "DAYS");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "Validity"), "Value")), 2);
        json_decref(req);
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_DURATION, 36 * 3600 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHECDSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "END_DATE");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "Validity"), "Value")), 20270116200000LL);
        json_decref(req);

        /* ABSOLUTE / END_DATE / MONTHS / YEARS pass through; not-before; template; passthrough as-is */
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_END_DATE, 20271231235959LL };
        c.issuer.pca.validity_not_before = (conf_validity) { CONF_VALIDITY_ABSOLUTE, 1799990000 };
        c.issuer.pca.template_arn = (char *) "arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1";
        c.issuer.pca.api_passthrough = json_pack("{s:{s:[{s:s}]}}", "Subject", "CustomAttributes", "ObjectIdentifier",
                                                 "1.2.3.4");
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA384WITHECDSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "END_DATE");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "Validity"), "Value")), 20271231235959LL);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "ValidityNotBefore"), "Type")), "ABSOLUTE");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "ValidityNotBefore"), "Value")), 1799990000);
        assert_string_equal(json_string_value(json_object_get(req, "TemplateArn")), c.issuer.pca.template_arn);
        assert_true(json_equal(json_object_get(req, "ApiPassthrough"), c.issuer.pca.api_passthrough));
        json_decref(req);
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_MONTHS, 6 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHRSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "MONTHS");
        json_decref(req);
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_YEARS, 1 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHRSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "YEARS");
        json_decref(req);
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_DURATION, 0 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHRSA", "tok", now, &req), -EINVAL);
        json_decref(c.issuer.pca.api_passthrough);
}

/* ApiPassthrough's Subject.CommonName and SubjectAlternativeNames replace
 * what the CSR asked for (template > API > CSR), so verification expects
 * them; without them the configured names stay expected. */
static void test_expect_passthrough(void **s _unused_) {
        conf_cert c = make_cert("web", (char *) "/nonexistent");
        cert_expect e;

        assert_int_equal(issuer_pca_expect(&c, &e), 0);
        assert_ptr_equal(e.want.dns_names, c.dns_names);
        assert_null(e.want.subject.common_name);
        cert_expect_done(&e);

        c.issuer.pca.api_passthrough = json_loads(
                "{\"Subject\":{\"CommonName\":\"api.example.com\",\"Organization\":\"X\"},"
                "\"Extensions\":{\"SubjectAlternativeNames\":[{\"DnsName\":\"api.example.com\"},"
                "{\"IpAddress\":\"192.0.2.1\"},{\"Rfc822Name\":\"a@example.com\"},"
                "{\"UniformResourceIdentifier\":\"spiffe://x/y\"},{\"DnsName\":\"b.example.com\"}]}}", 0, NULL);
        assert_non_null(c.issuer.pca.api_passthrough);
        assert_int_equal(issuer_pca_expect(&c, &e), 0);
        assert_string_equal(e.want.subject.common_name, "api.example.com");
        assert_string_equal(e.want.dns_names[0], "api.example.com");
        assert_string_equal(e.want.dns_names[1], "b.example.com");
        assert_null(e.want.dns_names[2]);
        assert_string_equal(e.want.ip_addresses[0], "192.0.2.1");
        assert_null(e.want.ip_addresses[1]);
        assert_string_equal(e.want.email_addresses[0], "a@example.com");
        assert_string_equal(e.want.uris[0], "spiffe://x/y");
        /* the configured certificate is untouched */
        assert_string_equal(c.dns_names[0], "www.example.com");
        cert_expect_done(&e);
        json_decref(c.issuer.pca.api_passthrough);
}

static void test_signing_algorithm(void **s _unused_) {
        assert_string_equal(issuer_pca_signing_algorithm("RSA_2048", NULL), "SHA256WITHRSA");
        assert_string_equal(issuer_pca_signing_algorithm("RSA_4096", NULL), "SHA256WITHRSA");
        assert_string_equal(issuer_pca_signing_algorithm("EC_prime256v1", NULL), "SHA256WITHECDSA");
        assert_string_equal(issuer_pca_signing_algorithm("EC_secp384r1", NULL), "SHA256WITHECDSA");
        assert_string_equal(issuer_pca_signing_algorithm("EC_secp384r1", "SHA512WITHECDSA"), "SHA512WITHECDSA");
        assert_string_equal(issuer_pca_signing_algorithm("RSA_2048", "SHA384WITHRSA"), "SHA384WITHRSA");
        assert_null(issuer_pca_signing_algorithm("RSA_2048", "SHA256WITHECDSA"));
        assert_null(issuer_pca_signing_algorithm("EC_prime256v1", "SHA256WITHRSA"));
        assert_null(issuer_pca_signing_algorithm("EC_prime256v1", "RSA"));
        assert_null(issuer_pca_signing_algorithm("FOO", NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_forms),
                cmocka_unit_test(test_signing_algorithm),
                cmocka_unit_test(test_expect_passthrough),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
