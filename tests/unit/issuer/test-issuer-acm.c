/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ACM issuer's pure parts: the RequestCertificate request for every
 * kind of certificate, DescribeCertificate's answer (and what is refused),
 * whether a certificate fits the configuration, discovery candidates and
 * tags, a hint for every FailureReason of the 2026 model, the revocation
 * reasons ACM takes, the export passphrase, and the poll schedule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "issuer/issuer-acm.h"
#include "issuer/issuer-dns.h"

#define CA                                                                                                  \
        "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/22222222-2222-4222-8222-222222222222"
#define ARN "arn:aws:acm:us-east-1:111122223333:certificate/44cbf674-d26d-406e-a620-02e760ca285e"
#define MODEL ABS_TOP_SRCDIR "/tests/emulator/models/acm/2015-12-08/service-2.json"
#define DAY 86400

static char *names[] = {(char *) "www.example.com", (char *) "example.com", (char *) "*.example.com", NULL};
static char *none[] = {NULL};

static conf_cert make_cert(void) {
        conf_cert c = {
                .name = (char *) "web",
                .issuer_type = CONF_ISSUER_ACM,
                .dns_names = names,
                .ip_addresses = none,
                .email_addresses = none,
                .uris = none,
        };
        c.issuer.acm = (conf_issuer_acm){
                .validation = CONF_VALIDATION_DNS,
                .key_algorithm = (char *) "EC_prime256v1",
                .export = true,
                .transparency_logging = true,
        };
        return c;
}

static const char *str(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static const char *tag(json_t *req, const char *key) {
        json_t *t;
        size_t i;
        json_array_foreach(json_object_get(req, "Tags"), i,
                           t) if (streq(str(t, "Key"), key)) return str(t, "Value");
        return NULL;
}

/* ---- RequestCertificate ---- */

static void test_request_public_dns(void **s _unused_) {
        conf_cert c = make_cert();
        conf_tag tags[] = {{(char *) "team", (char *) "web"}};
        json_t *req = NULL, *sans;

        c.issuer.acm.tags = tags;
        c.issuer.acm.n_tags = 1;
        assert_int_equal(issuer_acm_build_request(&c, "0123abcd", "a1b2c3d4e5f60718", &req), 0);
        assert_string_equal(str(req, "DomainName"), "www.example.com");
        sans = json_object_get(req, "SubjectAlternativeNames");
        assert_int_equal(json_array_size(sans), 3);
        assert_string_equal(json_string_value(json_array_get(sans, 0)), "www.example.com");
        assert_string_equal(json_string_value(json_array_get(sans, 2)), "*.example.com");
        assert_string_equal(str(req, "ValidationMethod"), "DNS");
        assert_string_equal(str(req, "IdempotencyToken"), "0123abcd");
        assert_string_equal(str(req, "KeyAlgorithm"), "EC_prime256v1");
        assert_string_equal(str(json_object_get(req, "Options"), "Export"), "ENABLED");
        /* the deprecated preference only when written */
        assert_null(json_object_get(json_object_get(req, "Options"),
                                    "CertificateTransparencyLoggingPreference"));
        assert_null(json_object_get(req, "CertificateAuthorityArn"));
        assert_null(json_object_get(req, "DomainValidationOptions"));
        assert_int_equal(json_array_size(json_object_get(req, "Tags")), 3);
        assert_string_equal(tag(req, "team"), "web");
        assert_string_equal(tag(req, ACM_TAG_NAME), "web");
        assert_string_equal(tag(req, ACM_TAG_HOST), "a1b2c3d4e5f60718");
        json_decref(req);

        /* without a machine id: the name tag alone */
        assert_int_equal(issuer_acm_build_request(&c, "t", "", &req), 0);
        assert_null(tag(req, ACM_TAG_HOST));
        assert_string_equal(tag(req, ACM_TAG_NAME), "web");
        json_decref(req);
}

static void test_request_forms(void **s _unused_) {
        conf_cert c = make_cert();
        json_t *req = NULL, *dvo;

        /* e-mail validation to a parent domain: one option per name */
        c.issuer.acm.validation = CONF_VALIDATION_EMAIL;
        c.issuer.acm.validation_domain = (char *) "example.com";
        assert_int_equal(issuer_acm_build_request(&c, "t", "h", &req), 0);
        assert_string_equal(str(req, "ValidationMethod"), "EMAIL");
        dvo = json_object_get(req, "DomainValidationOptions");
        assert_int_equal(json_array_size(dvo), 3);
        assert_string_equal(str(json_array_get(dvo, 1), "DomainName"), "example.com");
        assert_string_equal(str(json_array_get(dvo, 2), "ValidationDomain"), "example.com");
        json_decref(req);

        /* not exported: Export DISABLED; the deprecated key written: sent */
        c = make_cert();
        c.issuer.acm.export = false;
        c.issuer.acm.transparency_logging = false;
        c.issuer.acm.transparency_logging_set = true;
        assert_int_equal(issuer_acm_build_request(&c, "t", "h", &req), 0);
        assert_string_equal(str(json_object_get(req, "Options"), "Export"), "DISABLED");
        assert_string_equal(str(json_object_get(req, "Options"), "CertificateTransparencyLoggingPreference"),
                            "DISABLED");
        json_decref(req);

        /* private: the CA, no validation, no Export option (always exportable) */
        c = make_cert();
        c.issuer.acm.certificate_authority_arn = (char *) CA;
        c.issuer.acm.key_algorithm = NULL;
        assert_int_equal(issuer_acm_build_request(&c, "t", "h", &req), 0);
        assert_string_equal(str(req, "CertificateAuthorityArn"), CA);
        assert_null(json_object_get(req, "ValidationMethod"));
        assert_null(json_object_get(req, "Options"));
        assert_string_equal(str(req, "KeyAlgorithm"), "RSA_2048");
        json_decref(req);

        /* a tracked certificate is never requested; a token is required */
        c = make_cert();
        c.issuer.acm.arn = (char *) ARN;
        assert_int_equal(issuer_acm_build_request(&c, "t", "h", &req), -EINVAL);
        c.issuer.acm.arn = NULL;
        assert_int_equal(issuer_acm_build_request(&c, "", "h", &req), -EINVAL);
        c.dns_names = none;
        assert_int_equal(issuer_acm_build_request(&c, "t", "h", &req), -EINVAL);
}

/* ---- DescribeCertificate ---- */

static const char *describe_issued =
        "{\"Certificate\": {\"CertificateArn\": \"" ARN "\", \"DomainName\": \"www.example.com\","
        " \"SubjectAlternativeNames\": [\"www.example.com\", \"example.com\", \"*.example.com\"],"
        " \"DomainValidationOptions\": [{\"DomainName\": \"www.example.com\", \"ValidationMethod\": \"DNS\","
        "   \"ResourceRecord\": {\"Name\": \"_a.www.example.com.\", \"Type\": \"CNAME\", \"Value\": "
        "\"_b.acm-validations.aws.\"}}],"
        " \"Serial\": \"00:0a:1b:c3\", \"Status\": \"ISSUED\", \"Type\": \"AMAZON_ISSUED\", "
        "\"KeyAlgorithm\": \"EC_prime256v1\","
        " \"CreatedAt\": 1796168986.486726, \"NotBefore\": 1796165386, \"NotAfter\": "
        "\"2027-12-31T23:59:18Z\","
        " \"InUseBy\": [\"arn:aws:elasticloadbalancing:x\"], \"RenewalEligibility\": \"ELIGIBLE\","
        " \"Options\": {\"CertificateTransparencyLoggingPreference\": \"ENABLED\", \"Export\": \"ENABLED\"},"
        " \"RenewalSummary\": {\"RenewalStatus\": \"FAILED\", \"RenewalStatusReason\": \"CAA_ERROR\","
        "   \"UpdatedAt\": 1796170000, \"DomainValidationOptions\": []}}}";

static void test_detail_parse(void **s _unused_) {
        json_t *j = json_loads(describe_issued, 0, NULL);
        acm_detail d = {};
        char *err = NULL;

        assert_non_null(j);
        assert_int_equal(issuer_acm_detail_parse(j, &d, &err), 0);
        assert_null(err);
        assert_string_equal(d.arn, ARN);
        assert_string_equal(d.status, "ISSUED");
        assert_string_equal(d.serial, "A1BC3"); /* colons and leading zeros gone */
        assert_true(issuer_acm_serial_equal(d.serial, "0A1BC3"));
        assert_false(issuer_acm_serial_equal(d.serial, "0A1BC4"));
        assert_false(issuer_acm_serial_equal(d.serial, NULL));
        assert_int_equal(d.created_at, 1796168986);
        assert_int_equal(d.not_before, 1796165386);
        assert_int_equal(d.not_after, 1830297558); /* 2027-12-31T23:59:18Z */
        assert_string_equal(d.sans[2], "*.example.com");
        assert_null(d.sans[3]);
        assert_true(d.in_use);
        assert_string_equal(d.export_option, "ENABLED");
        assert_string_equal(d.eligibility, "ELIGIBLE");
        assert_string_equal(d.renewal_status, "FAILED");
        assert_string_equal(d.renewal_reason, "CAA_ERROR");
        assert_int_equal(d.renewal_updated_at, 1796170000);
        assert_int_equal(json_array_size(d.dvos), 1);
        assert_int_equal(json_array_size(d.renewal_dvos), 0);
        acm_detail_done(&d);
        json_decref(j);

        /* the old spelling of a revocation reason reads as the new one */
        j = json_pack("{s:{s:s,s:s,s:s}}", "Certificate", "CertificateArn", ARN, "Status", "REVOKED",
                      "RevocationReason", "SUPERCEDED");
        assert_int_equal(issuer_acm_detail_parse(j, &d, &err), 0);
        assert_string_equal(d.revocation_reason, "SUPERSEDED");
        assert_null(d.serial);
        assert_non_null(d.sans);
        assert_null(d.sans[0]);
        acm_detail_done(&d);
        json_decref(j);
}

static void expect_bad(const char *text, const char *says) {
        json_t *j = json_loads(text, 0, NULL);
        acm_detail d = {};
        char *err = NULL;

        assert_non_null(j);
        assert_int_equal(issuer_acm_detail_parse(j, &d, &err), -EBADMSG);
        assert_non_null(err);
        if (!strstr(err, says))
                fail_msg("'%s' not in '%s'", says, err);
        free(err);
        json_decref(j);
}

static void test_detail_refused(void **s _unused_) {
        char big[3000];

        expect_bad("{}", "without a Certificate");
        expect_bad("{\"Certificate\": {\"Status\": \"ISSUED\"}}", "CertificateArn");
        expect_bad("{\"Certificate\": {\"CertificateArn\": \"" ARN "\"}}", "Status");
        expect_bad("{\"Certificate\": {\"CertificateArn\": \"" ARN "\", \"Status\": 3}}",
                   "Status is not a string");
        expect_bad("{\"Certificate\": {\"CertificateArn\": \"" ARN
                   "\", \"Status\": \"ISSUED\", \"NotAfter\": \"soon\"}}",
                   "NotAfter is not a time");
        expect_bad("{\"Certificate\": {\"CertificateArn\": \"" ARN
                   "\", \"Status\": \"ISSUED\", \"NotAfter\": -5}}",
                   "NotAfter is not a time");
        expect_bad("{\"Certificate\": {\"CertificateArn\": \"" ARN
                   "\", \"Status\": \"ISSUED\", \"Serial\": \"zz:01\"}}",
                   "hexadecimal");
        expect_bad("{\"Certificate\": {\"CertificateArn\": \"" ARN "\", \"Status\": \"ISSUED\","
                   " \"SubjectAlternativeNames\": [1]}}",
                   "SubjectAlternativeNames");
        /* a bounded ARN */
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        _cleanup_(freep) char *t =
                strprintf("{\"Certificate\": {\"CertificateArn\": \"%s\", \"Status\": \"ISSUED\"}}", big);
        expect_bad(t, "too long");
}

/* DomainValidationOptions as DescribeCertificate gives them while the
 * records come: an apex and its wildcard share one record, an option
 * without its ResourceRecord is counted as waiting, e-mail options are not
 * records. */
static void test_validation_options(void **s _unused_) {
        const char *text =
                "{\"Certificate\": {\"CertificateArn\": \"" ARN "\", \"Status\": \"PENDING_VALIDATION\","
                " \"Type\": \"AMAZON_ISSUED\", \"CreatedAt\": 1796168986, \"DomainValidationOptions\": ["
                "  {\"DomainName\": \"example.com\", \"ValidationMethod\": \"DNS\", \"ResourceRecord\":"
                "    {\"Name\": \"_A.Example.com.\", \"Type\": \"CNAME\", \"Value\": "
                "\"_b.acm-validations.aws.\"}},"
                "  {\"DomainName\": \"*.example.com\", \"ValidationMethod\": \"DNS\", \"ResourceRecord\":"
                "    {\"Name\": \"_a.example.com.\", \"Type\": \"CNAME\", \"Value\": "
                "\"_b.acm-validations.aws.\"}},"
                "  {\"DomainName\": \"www.example.com\", \"ValidationMethod\": \"DNS\"},"
                "  {\"DomainName\": \"mail.example.com\", \"ValidationMethod\": \"EMAIL\","
                "    \"ValidationEmails\": [\"admin@example.com\"]}]}}";
        json_t *j = json_loads(text, 0, NULL);
        dns_records recs = {};
        acm_detail d = {};
        size_t waiting = 0;
        char *err = NULL, *emails = NULL;

        assert_int_equal(issuer_acm_detail_parse(j, &d, &err), 0);
        assert_int_equal(d.created_at, 1796168986);
        assert_int_equal(dns_records_from_validation_options(d.dvos, &recs, &waiting), 0);
        assert_int_equal(recs.n, 1); /* apex and wildcard: one record, normalised */
        assert_string_equal(recs.items[0].name, "_a.example.com.");
        assert_int_equal(waiting, 1); /* www's record is not there yet */
        assert_int_equal(issuer_acm_emails_format(d.dvos, &emails), 0);
        assert_string_equal(emails, "mail.example.com EMAIL admin@example.com\n");
        free(emails);
        dns_records_done(&recs);
        acm_detail_done(&d);
        json_decref(j);
}

/* ---- fits the configuration; discovery ---- */

static void test_detail_fits(void **s _unused_) {
        json_t *j = json_loads(describe_issued, 0, NULL);
        conf_cert c = make_cert();
        char *shorter[] = {(char *) "www.example.com", (char *) "example.com", NULL};
        char *other_first[] = {(char *) "example.com", NULL};
        acm_detail d = {};
        char *why = NULL;

        assert_int_equal(issuer_acm_detail_parse(j, &d, &why), 0);
        assert_true(issuer_acm_detail_fits(&d, &c, &why));
        assert_null(why);

        c.issuer.acm.key_algorithm = (char *) "RSA_2048";
        assert_false(issuer_acm_detail_fits(&d, &c, &why));
        assert_non_null(strstr(why, "key algorithm is EC_prime256v1"));
        free(why);

        c = make_cert();
        c.dns_names = shorter; /* a name was removed from the configuration */
        assert_false(issuer_acm_detail_fits(&d, &c, &why));
        assert_non_null(strstr(why, "*.example.com"));
        free(why);

        c = make_cert();
        c.issuer.acm.certificate_authority_arn = (char *) CA; /* private wanted */
        assert_false(issuer_acm_detail_fits(&d, &c, &why));
        assert_non_null(strstr(why, "private"));
        free(why);

        /* tracked: configured names are a subset; the first is the domain name */
        c = make_cert();
        c.issuer.acm.arn = (char *) ARN;
        c.dns_names = shorter;
        assert_true(issuer_acm_detail_fits(&d, &c, &why));
        c.dns_names = other_first;
        assert_false(issuer_acm_detail_fits(&d, &c, &why));
        assert_non_null(strstr(why, "list www.example.com first"));
        free(why);
        c.dns_names = none;
        assert_true(issuer_acm_detail_fits(&d, &c, &why));

        /* requested without Export: never exportable */
        c = make_cert();
        free(d.export_option);
        d.export_option = strdup("DISABLED");
        assert_false(issuer_acm_detail_fits(&d, &c, &why));
        assert_non_null(strstr(why, "Export"));
        free(why);
        c.issuer.acm.export = false;
        assert_true(issuer_acm_detail_fits(&d, &c, &why));
        acm_detail_done(&d);
        json_decref(j);
}

static void test_candidates_and_tags(void **s _unused_) {
        conf_cert c = make_cert();
        json_t *sum = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "CertificateArn", ARN, "DomainName",
                                "WWW.example.com", "Status", "ISSUED", "KeyAlgorithm", "EC-prime256v1",
                                "Type", "AMAZON_ISSUED", "ExportOption", "ENABLED");
        json_t *tags;

        assert_true(issuer_acm_summary_candidate(sum, &c, NULL));
        assert_false(issuer_acm_summary_candidate(sum, &c, ARN)); /* the one being replaced */
        json_object_set_new(sum, "Status", json_string("FAILED"));
        assert_false(issuer_acm_summary_candidate(sum, &c, NULL));
        json_object_set_new(sum, "Status", json_string("PENDING_VALIDATION"));
        assert_true(issuer_acm_summary_candidate(sum, &c, NULL));
        json_object_set_new(sum, "KeyAlgorithm", json_string("RSA-2048"));
        assert_false(issuer_acm_summary_candidate(sum, &c, NULL));
        json_object_set_new(sum, "KeyAlgorithm", json_string("EC-prime256v1"));
        json_object_set_new(sum, "ExportOption", json_string("DISABLED"));
        assert_false(issuer_acm_summary_candidate(sum, &c, NULL));
        json_object_set_new(sum, "ExportOption", json_string("ENABLED"));
        json_object_set_new(sum, "DomainName", json_string("api.example.com"));
        assert_false(issuer_acm_summary_candidate(sum, &c, NULL));
        json_decref(sum);

        tags = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "Key", "team", "Value", "web", "Key",
                         ACM_TAG_NAME, "Value", "web", "Key", ACM_TAG_HOST, "Value", "h1");
        assert_true(issuer_acm_tags_match(tags, "web", "h1"));
        assert_false(issuer_acm_tags_match(tags, "web", "h2")); /* another host's */
        assert_false(issuer_acm_tags_match(tags, "api", "h1"));
        assert_false(issuer_acm_tags_match(tags, "web", "")); /* no machine id here: a host's is not ours */
        json_array_remove(tags, 2);
        assert_true(issuer_acm_tags_match(tags, "web", "")); /* a hostless agent's */
        assert_false(issuer_acm_tags_match(tags, "web", "h1"));
        assert_false(issuer_acm_tags_match(NULL, "web", "h1"));
        json_decref(tags);
}

/* ---- failure reasons, revocation reasons ---- */

static json_t *model_enum(const char *shape) {
        json_error_t e;
        json_t *m = json_load_file(MODEL, 0, &e), *v;

        if (!m)
                fail_msg("%s: %s", MODEL, e.text);
        v = json_incref(json_object_get(json_object_get(json_object_get(m, "shapes"), shape), "enum"));
        json_decref(m);
        assert_non_null(v);
        return v;
}

static void test_failure_hints(void **s _unused_) {
        const char *unknown = issuer_acm_failure_hint("SOMETHING_NEW");
        json_t *reasons = model_enum("FailureReason"), *v;
        size_t i;

        /* every reason of the 2026 model has its own hint */
        assert_true(json_array_size(reasons) >= 17);
        json_array_foreach(reasons, i, v) {
                const char *h = issuer_acm_failure_hint(json_string_value(v));
                if (h == unknown)
                        fail_msg("no hint for %s", json_string_value(v));
        }
        json_decref(reasons);
        assert_non_null(strstr(issuer_acm_failure_hint("CAA_ERROR"), "CAA record forbids amazon.com"));
        assert_non_null(strstr(issuer_acm_failure_hint("PCA_INVALID_STATE"), "not ACTIVE"));
        assert_non_null(strstr(issuer_acm_failure_hint("SLR_NOT_FOUND"), "create-service-linked-role"));
        assert_non_null(strstr(unknown, "Troubleshoot"));
        assert_ptr_equal(issuer_acm_failure_hint(NULL), unknown);

        /* only a private certificate's CA-side failures are asked again alone */
        assert_true(issuer_acm_failure_retryable("PCA_INVALID_STATE", true));
        assert_true(issuer_acm_failure_retryable("PCA_REQUEST_FAILED", true));
        assert_false(issuer_acm_failure_retryable("PCA_INVALID_STATE", false));
        assert_false(issuer_acm_failure_retryable("CAA_ERROR", false));
        assert_false(issuer_acm_failure_retryable("PCA_NAME_CONSTRAINTS_VALIDATION", true));
        assert_false(issuer_acm_failure_retryable("OTHER", false));
        assert_false(issuer_acm_failure_retryable(NULL, true));
}

static void test_revocation_reasons(void **s _unused_) {
        json_t *model = model_enum("RevocationReason"), *v;
        const char *r = NULL;
        size_t i;

        /* the CLI's (PCA's) spellings */
        assert_int_equal(issuer_acm_revocation_reason("CERTIFICATE_AUTHORITY_COMPROMISE", true, &r), 0);
        assert_string_equal(r, "CA_COMPROMISE");
        assert_int_equal(issuer_acm_revocation_reason("SUPERSEDED", false, &r), 0);
        assert_string_equal(r, "SUPERSEDED");
        assert_int_equal(issuer_acm_revocation_reason("SUPERCEDED", false, &r), 0);
        assert_string_equal(r, "SUPERSEDED");
        assert_int_equal(issuer_acm_revocation_reason("KEY_COMPROMISE", true, &r), 0);
        assert_string_equal(r, "KEY_COMPROMISE");
        /* a public certificate: four reasons only */
        assert_int_equal(issuer_acm_revocation_reason("KEY_COMPROMISE", false, &r), -EPERM);
        assert_int_equal(issuer_acm_revocation_reason("PRIVILEGE_WITHDRAWN", false, &r), -EPERM);
        assert_int_equal(issuer_acm_revocation_reason("UNSPECIFIED", false, &r), 0);
        assert_int_equal(issuer_acm_revocation_reason("AFFILIATION_CHANGED", false, &r), 0);
        assert_int_equal(issuer_acm_revocation_reason("CESSATION_OF_OPERATION", false, &r), 0);
        assert_int_equal(issuer_acm_revocation_reason("BORED", true, &r), -EINVAL);
        assert_int_equal(issuer_acm_revocation_reason(NULL, true, &r), -EINVAL);
        /* whatever is sent is in the model's enum */
        json_array_foreach(model, i, v) {
                const char *in = json_string_value(v);
                if (issuer_acm_revocation_reason(in, true, &r) < 0)
                        fail_msg("model reason %s refused for a private certificate", in);
                bool found = false;
                json_t *x;
                size_t k;
                json_array_foreach(model, k, x) found = found || streq(json_string_value(x), r);
                assert_true(found);
        }
        json_decref(model);
        assert_non_null(strstr(issuer_acm_public_revocation_reasons(), "cessation-of-operation"));
}

/* ---- export passphrase ---- */

static void test_passphrase(void **s _unused_) {
        char a[ACM_PASSPHRASE_LEN + 1], b[ACM_PASSPHRASE_LEN + 1];

        assert_int_equal(issuer_acm_passphrase(a), 0);
        assert_int_equal(issuer_acm_passphrase(b), 0);
        assert_int_equal(strlen(a), ACM_PASSPHRASE_LEN);
        assert_true(ACM_PASSPHRASE_LEN >= 4 && ACM_PASSPHRASE_LEN <= 128); /* PassphraseBlob */
        assert_string_not_equal(a, b);
        for (int n = 0; n < 200; n++) {
                assert_int_equal(issuer_acm_passphrase(a), 0);
                for (const char *p = a; *p; p++) {
                        /* ASCII, printable, none of the documented exceptions, nothing a shell or JSON
                         * quotes */
                        assert_true(*p > ' ' && *p < 127);
                        assert_null(strchr("#$%\"'\\` ", *p));
                }
        }
}

/* ---- the poll schedule ---- */

static void test_schedule(void **s _unused_) {
        time_t nb = 1800000000, na = nb + 395 * DAY, window = issuer_acm_window_start(nb, na);
        acm_watch_input in = {.not_before = nb, .not_after = na, .poll_interval = 6 * 3600, .hash = 12345};
        time_t t;

        /* ACM renews 60 days before expiry; a short life gets a third */
        assert_int_equal(window, na - 60 * DAY);
        assert_int_equal(issuer_acm_window_start(nb, nb + 30 * DAY), nb + 20 * DAY);

        /* far from expiry: every poll_interval, spread by ±20 % */
        in.last = nb + DAY;
        t = issuer_acm_next_describe(&in);
        assert_true(t >= in.last + 6 * 3600 * 8 / 10 && t < in.last + 6 * 3600 * 12 / 10);
        /* another host (hash) looks at another moment */
        in.hash = 999;
        assert_true(issuer_acm_next_describe(&in) != t);
        in.hash = 12345;

        /* just before the window: inside its first hour */
        in.last = window - 3600;
        t = issuer_acm_next_describe(&in);
        assert_true(t >= window && t < window + 3600);
        /* hosts watching one certificate enter the window spread over that
         * hour, not all in the same minutes (a tenth of the spread sent
         * 1,000 hosts within 144 s: 300 and more in one minute) */
        {
                unsigned per_minute[60] = {0}, most = 0;

                for (unsigned i = 0; i < 1000; i++) {
                        char host[32];
                        acm_watch_input h = in;

                        snprintf(host, sizeof(host), "host-%u", i);
                        h.hash = issuer_acm_hash(host, "web");
                        h.last = window - 3600 - (time_t) (i % 7) * 600;
                        t = issuer_acm_next_describe(&h);
                        assert_true(t >= window && t < window + 3600);
                        per_minute[(t - window) / 60]++;
                }
                for (unsigned k = 0; k < 60; k++)
                        most = per_minute[k] > most ? per_minute[k] : most;
                assert_true(most <= 50);
        }

        /* inside the window: at least hourly */
        in.last = window + DAY;
        t = issuer_acm_next_describe(&in);
        assert_true(t > in.last && t < in.last + 3600 * 12 / 10);
        /* a renewal pending: every half hour */
        in.renewal_pending = true;
        t = issuer_acm_next_describe(&in);
        assert_true(t >= in.last + 1800 * 8 / 10 && t < in.last + 1800 * 12 / 10);
        in.renewal_pending = false;
        /* a poll_interval shorter than those wins */
        in.poll_interval = 300;
        t = issuer_acm_next_describe(&in);
        assert_true(t > in.last && t < in.last + 360);
        /* after expiry: dense too */
        in.poll_interval = 6 * 3600;
        in.last = na + DAY;
        t = issuer_acm_next_describe(&in);
        assert_true(t < in.last + 3600 * 12 / 10);
        /* 0 = the default 6 h */
        in.poll_interval = 0;
        in.last = nb + DAY;
        t = issuer_acm_next_describe(&in);
        assert_true(t >= in.last + 6 * 3600 * 8 / 10 && t < in.last + 6 * 3600 * 12 / 10);

        /* the hash: deterministic, spread */
        assert_true(issuer_acm_hash("h1", "web") == issuer_acm_hash("h1", "web"));
        assert_true(issuer_acm_hash("h1", "web") != issuer_acm_hash("h2", "web"));
        assert_true(issuer_acm_hash("h1w", "eb") != issuer_acm_hash("h1", "web"));
}

static void test_emails(void **s _unused_) {
        json_t *dvos = json_pack("[{s:s,s:[s,s]},{s:s},{s:s,s:[s]}]", "DomainName", "www.example.com",
                                 "ValidationEmails", "admin@example.com", "webmaster@example.com",
                                 "DomainName", "x.example.com", "DomainName", "bad\n.example.com",
                                 "ValidationEmails", "root@example.com");
        char *out = NULL;

        assert_int_equal(issuer_acm_emails_format(dvos, &out), 0);
        assert_string_equal(out, "www.example.com EMAIL admin@example.com,webmaster@example.com\n"
                                 "bad\\n.example.com EMAIL root@example.com\n");
        free(out);
        json_decref(dvos);
        assert_int_equal(issuer_acm_emails_format(NULL, &out), 0);
        assert_string_equal(out, "");
        free(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_public_dns),
                cmocka_unit_test(test_request_forms),
                cmocka_unit_test(test_detail_parse),
                cmocka_unit_test(test_detail_refused),
                cmocka_unit_test(test_validation_options),
                cmocka_unit_test(test_detail_fits),
                cmocka_unit_test(test_candidates_and_tags),
                cmocka_unit_test(test_failure_hints),
                cmocka_unit_test(test_revocation_reasons),
                cmocka_unit_test(test_passphrase),
                cmocka_unit_test(test_schedule),
                cmocka_unit_test(test_emails),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
