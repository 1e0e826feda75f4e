/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ACM issuer's pure parts (issuer-acm.h): no I/O, no clock, no loop.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws.h"
#include "basic/clock.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "issuer/issuer-acm.h"

#define ACM_ARN_MAX 2048
#define ACM_NAME_MAX 253
#define ACM_ENUM_MAX 64
#define ACM_SANS_MAX 1000 /* DomainList: 100 in the model; bounded generously */
#define ACM_SERIAL_MAX 128

/* ---- the request ---- */

static int add_tag(json_t *tags, const char *key, const char *value) {
        return json_array_append_new(tags, json_pack("{s:s,s:s}", "Key", key, "Value", value ? value : ""));
}

int issuer_acm_build_request(const conf_cert *cert, const char *token, const char *host_id, json_t **ret) {
        const conf_issuer_acm *a = &cert->issuer.acm;
        _cleanup_(json_decrefp) json_t *req = NULL;
        json_t *sans, *tags, *options = NULL;

        if (a->arn || !cert->dns_names || !cert->dns_names[0] || isempty(token))
                return -EINVAL;
        req = json_pack("{s:s,s:s,s:s}", "DomainName", cert->dns_names[0], "IdempotencyToken", token,
                        "KeyAlgorithm", a->key_algorithm ? a->key_algorithm : "RSA_2048");
        sans = json_array();
        if (!req || !sans || json_object_set_new(req, "SubjectAlternativeNames", sans) < 0)
                return -ENOMEM;
        for (char **n = cert->dns_names; *n; n++)
                if (json_array_append_new(sans, json_string(*n)) < 0)
                        return -ENOMEM;
        if (a->certificate_authority_arn) {
                /* private: no validation, exportable by nature */
                if (json_object_set_new(req, "CertificateAuthorityArn",
                                        json_string(a->certificate_authority_arn)) < 0)
                        return -ENOMEM;
        } else {
                bool email = a->validation == CONF_VALIDATION_EMAIL;
                if (json_object_set_new(req, "ValidationMethod", json_string(email ? "EMAIL" : "DNS")) < 0)
                        return -ENOMEM;
                if (email && a->validation_domain) {
                        json_t *dvo = json_array();
                        if (!dvo || json_object_set_new(req, "DomainValidationOptions", dvo) < 0)
                                return -ENOMEM;
                        for (char **n = cert->dns_names; *n; n++)
                                if (json_array_append_new(dvo, json_pack("{s:s,s:s}", "DomainName", *n,
                                                                         "ValidationDomain",
                                                                         a->validation_domain)) < 0)
                                        return -ENOMEM;
                }
                options = json_pack("{s:s}", "Export", a->export ? "ENABLED" : "DISABLED");
                if (!options)
                        return -ENOMEM;
        }
        if (a->transparency_logging_set) {
                /* deprecated (2026): sent only because the configuration says so */
                if (!options && !(options = json_object()))
                        return -ENOMEM;
                if (json_object_set_new(options, "CertificateTransparencyLoggingPreference",
                                        json_string(a->transparency_logging ? "ENABLED" : "DISABLED")) < 0) {
                        json_decref(options);
                        return -ENOMEM;
                }
        }
        if (options && json_object_set_new(req, "Options", options) < 0)
                return -ENOMEM;
        tags = json_array();
        if (!tags || json_object_set_new(req, "Tags", tags) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_tags; i++)
                if (add_tag(tags, a->tags[i].key, a->tags[i].value) < 0)
                        return -ENOMEM;
        if (add_tag(tags, ACM_TAG_NAME, cert->name) < 0 ||
            (!isempty(host_id) && add_tag(tags, ACM_TAG_HOST, host_id) < 0))
                return -ENOMEM;
        *ret = TAKE_PTR(req);
        return 0;
}

/* ---- DescribeCertificate ---- */

void acm_detail_done(acm_detail *d) {
        free(d->arn);
        free(d->status);
        free(d->type);
        free(d->domain_name);
        strv_free(d->sans);
        free(d->serial);
        free(d->key_algorithm);
        free(d->ca_arn);
        free(d->export_option);
        free(d->failure_reason);
        free(d->revocation_reason);
        free(d->eligibility);
        free(d->renewal_status);
        free(d->renewal_reason);
        json_decref(d->dvos);
        json_decref(d->renewal_dvos);
        *d = (acm_detail){};
}

static int get_str(json_t *o, const char *key, size_t max, char **field, char **ret_error) {
        json_t *v = json_object_get(o, key);
        const char *s;

        if (!v || json_is_null(v))
                return 0;
        s = json_string_value(v);
        if (!s || strlen(s) > max || strlen(s) == 0) {
                *ret_error = strprintf("DescribeCertificate: %s is %s", key,
                                       !s ? "not a string" : "empty or too long");
                return -EBADMSG;
        }
        *field = strdup(s);
        return *field ? 0 : -ENOMEM;
}

static int get_time(json_t *o, const char *key, time_t *field, char **ret_error) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (json_is_number(v)) {
                double d = json_number_value(v);
                if (isfinite(d) && d >= 0 && d < 1e11) {
                        *field = (time_t) d;
                        return 0;
                }
        } else if (json_is_string(v) && clock_parse_rfc3339(json_string_value(v), field) >= 0)
                return 0;
        *ret_error = strprintf("DescribeCertificate: %s is not a time", key);
        return -EBADMSG;
}

/* "0a:1b" → "A1B" (no colons, uppercase, no leading zeros; "0" for zero). */
static char *serial_norm(const char *s) {
        size_t n = strlen(s);
        char *out = malloc(n + 2), *q = out;

        if (!out)
                return NULL;
        for (const char *p = s; *p; p++) {
                if (*p == ':')
                        continue;
                if (!isxdigit((unsigned char) *p)) {
                        free(out);
                        return NULL;
                }
                if (q == out && *p == '0')
                        continue;
                *q++ = (char) toupper((unsigned char) *p);
        }
        if (q == out)
                *q++ = '0';
        *q = 0;
        return out;
}

bool issuer_acm_serial_equal(const char *a, const char *b) {
        _cleanup_(freep) char *x = a ? serial_norm(a) : NULL;
        _cleanup_(freep) char *y = b ? serial_norm(b) : NULL;
        return x && y && streq(x, y);
}

int issuer_acm_detail_parse(json_t *resp, acm_detail *ret, char **ret_error) {
        json_t *c = json_object_get(resp, "Certificate"), *v, *rs;
        acm_detail d = {};
        _cleanup_(freep) char *serial = NULL;
        int r;

        *ret_error = NULL;
        if (!json_is_object(c)) {
                *ret_error = strdup("DescribeCertificate answered without a Certificate");
                return -EBADMSG;
        }
        if ((r = get_str(c, "CertificateArn", ACM_ARN_MAX, &d.arn, ret_error)) < 0 ||
            (r = get_str(c, "Status", ACM_ENUM_MAX, &d.status, ret_error)) < 0 ||
            (r = get_str(c, "Type", ACM_ENUM_MAX, &d.type, ret_error)) < 0 ||
            (r = get_str(c, "DomainName", ACM_NAME_MAX, &d.domain_name, ret_error)) < 0 ||
            (r = get_str(c, "Serial", ACM_SERIAL_MAX, &serial, ret_error)) < 0 ||
            (r = get_str(c, "KeyAlgorithm", ACM_ENUM_MAX, &d.key_algorithm, ret_error)) < 0 ||
            (r = get_str(c, "CertificateAuthorityArn", ACM_ARN_MAX, &d.ca_arn, ret_error)) < 0 ||
            (r = get_str(c, "FailureReason", ACM_ENUM_MAX, &d.failure_reason, ret_error)) < 0 ||
            (r = get_str(c, "RevocationReason", ACM_ENUM_MAX, &d.revocation_reason, ret_error)) < 0 ||
            (r = get_str(c, "RenewalEligibility", ACM_ENUM_MAX, &d.eligibility, ret_error)) < 0 ||
            (r = get_time(c, "CreatedAt", &d.created_at, ret_error)) < 0 ||
            (r = get_time(c, "NotBefore", &d.not_before, ret_error)) < 0 ||
            (r = get_time(c, "NotAfter", &d.not_after, ret_error)) < 0 ||
            (r = get_time(c, "RevokedAt", &d.revoked_at, ret_error)) < 0)
                goto fail;
        if (!d.arn || !d.status) {
                *ret_error = strprintf("DescribeCertificate answered without %s",
                                       d.arn ? "a Status" : "a CertificateArn");
                r = -EBADMSG;
                goto fail;
        }
        if (serial && !(d.serial = serial_norm(serial))) {
                *ret_error = strdup("DescribeCertificate: Serial is not colon-separated hexadecimal");
                r = -EBADMSG;
                goto fail;
        }
        if (d.revocation_reason && streq(d.revocation_reason, "SUPERCEDED")) {
                free(d.revocation_reason);
                if (!(d.revocation_reason = strdup("SUPERSEDED")))
                        goto oom;
        }
        if ((r = get_str(json_object_get(c, "Options"), "Export", ACM_ENUM_MAX, &d.export_option,
                         ret_error)) < 0)
                goto fail;
        v = json_object_get(c, "SubjectAlternativeNames");
        if (v && !json_is_null(v) && (!json_is_array(v) || json_array_size(v) > ACM_SANS_MAX)) {
                *ret_error = strdup("DescribeCertificate: SubjectAlternativeNames is not a list of names");
                r = -EBADMSG;
                goto fail;
        }
        d.sans = calloc(json_array_size(v) + 1, sizeof(char *));
        if (!d.sans)
                goto oom;
        for (size_t i = 0; i < json_array_size(v); i++) {
                const char *s = json_string_value(json_array_get(v, i));
                if (!s || strlen(s) > ACM_NAME_MAX) {
                        *ret_error = strdup("DescribeCertificate: SubjectAlternativeNames holds something "
                                            "that is not a name");
                        r = -EBADMSG;
                        goto fail;
                }
                if (!(d.sans[i] = strdup(s)))
                        goto oom;
        }
        v = json_object_get(c, "InUseBy");
        d.in_use = json_is_array(v) && json_array_size(v) > 0;
        v = json_object_get(c, "DomainValidationOptions");
        if (json_is_array(v))
                d.dvos = json_incref(v);
        rs = json_object_get(c, "RenewalSummary");
        if (json_is_object(rs)) {
                if ((r = get_str(rs, "RenewalStatus", ACM_ENUM_MAX, &d.renewal_status, ret_error)) < 0 ||
                    (r = get_str(rs, "RenewalStatusReason", ACM_ENUM_MAX, &d.renewal_reason, ret_error)) <
                            0 ||
                    (r = get_time(rs, "UpdatedAt", &d.renewal_updated_at, ret_error)) < 0)
                        goto fail;
                v = json_object_get(rs, "DomainValidationOptions");
                if (json_is_array(v))
                        d.renewal_dvos = json_incref(v);
        }
        *ret = d;
        return 0;
oom:
        r = -ENOMEM;
fail:
        acm_detail_done(&d);
        return r;
}

/* ---- does it fit the configuration ---- */

static bool strv_has_case(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (strcasecmp(*l, s) == 0)
                        return true;
        return false;
}

/* "EC-prime256v1" (summaries) and "EC_prime256v1" (descriptions) alike. */
static bool key_algorithm_equal(const char *a, const char *b) {
        if (!a || !b || strlen(a) != strlen(b))
                return false;
        for (; *a; a++, b++) {
                char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
                if (x != y)
                        return false;
        }
        return true;
}

bool issuer_acm_detail_fits(const acm_detail *d, const conf_cert *cert, char **ret_why) {
        const conf_issuer_acm *a = &cert->issuer.acm;
        const char *want_type = a->certificate_authority_arn ? "PRIVATE" : "AMAZON_ISSUED";

        *ret_why = NULL;
        if (a->arn) {
                for (char **n = cert->dns_names; n && *n; n++)
                        if (!strv_has_case(d->sans, *n)) {
                                *ret_why = strprintf("it does not carry %s (dns_names)", *n);
                                return false;
                        }
                if (cert->dns_names && cert->dns_names[0] && d->domain_name &&
                    strcasecmp(cert->dns_names[0], d->domain_name) != 0) {
                        *ret_why = strprintf(
                                "its domain name (common name) is %s, not %s: list %s first in dns_names",
                                d->domain_name, cert->dns_names[0], d->domain_name);
                        return false;
                }
                return true;
        }
        if (!d->domain_name || !cert->dns_names[0] || strcasecmp(d->domain_name, cert->dns_names[0]) != 0) {
                *ret_why = strprintf("its domain name is %s, the configuration asks for %s",
                                     d->domain_name ? d->domain_name : "(none)",
                                     cert->dns_names[0] ? cert->dns_names[0] : "(none)");
                return false;
        }
        for (char **n = cert->dns_names; *n; n++)
                if (!strv_has_case(d->sans, *n)) {
                        *ret_why = strprintf("it does not carry %s", *n);
                        return false;
                }
        for (char **n = d->sans; *n; n++)
                if (!strv_has_case(cert->dns_names, *n)) {
                        *ret_why = strprintf("it carries %s, which dns_names no longer lists", *n);
                        return false;
                }
        if (!key_algorithm_equal(d->key_algorithm, a->key_algorithm ? a->key_algorithm : "RSA_2048")) {
                *ret_why = strprintf("its key algorithm is %s, the configuration asks for %s",
                                     d->key_algorithm ? d->key_algorithm : "unknown",
                                     a->key_algorithm ? a->key_algorithm : "RSA_2048");
                return false;
        }
        if (d->type && !streq(d->type, want_type)) {
                *ret_why = strprintf("it is %s, the configuration asks for a %s certificate", d->type,
                                     a->certificate_authority_arn ? "private" : "public");
                return false;
        }
        if (a->certificate_authority_arn &&
            (!d->ca_arn || !streq(d->ca_arn, a->certificate_authority_arn))) {
                *ret_why = strprintf("it comes from CA %s, the configuration names %s",
                                     d->ca_arn ? d->ca_arn : "(none)", a->certificate_authority_arn);
                return false;
        }
        if (!a->certificate_authority_arn && a->export &&
            (!d->export_option || !streq(d->export_option, "ENABLED"))) {
                *ret_why = strdup("it was requested without Export ENABLED and can never be exported");
                return false;
        }
        return true;
}

bool issuer_acm_summary_candidate(json_t *summary, const conf_cert *cert, const char *exclude_arn) {
        const conf_issuer_acm *a = &cert->issuer.acm;
        const char *arn = json_string_value(json_object_get(summary, "CertificateArn"));
        const char *status = json_string_value(json_object_get(summary, "Status"));
        const char *domain = json_string_value(json_object_get(summary, "DomainName"));
        const char *alg = json_string_value(json_object_get(summary, "KeyAlgorithm"));
        const char *type = json_string_value(json_object_get(summary, "Type"));
        const char *exp = json_string_value(json_object_get(summary, "ExportOption"));

        if (!arn || !status || !domain || !cert->dns_names || !cert->dns_names[0])
                return false;
        if (exclude_arn && streq(arn, exclude_arn))
                return false;
        if (!streq(status, "ISSUED") && !streq(status, "PENDING_VALIDATION"))
                return false;
        if (strcasecmp(domain, cert->dns_names[0]) != 0)
                return false;
        if (alg && !key_algorithm_equal(alg, a->key_algorithm ? a->key_algorithm : "RSA_2048"))
                return false;
        if (type && !streq(type, a->certificate_authority_arn ? "PRIVATE" : "AMAZON_ISSUED"))
                return false;
        if (!a->certificate_authority_arn && a->export && exp && !streq(exp, "ENABLED"))
                return false;
        return true;
}

bool issuer_acm_tags_match(json_t *tags, const char *name, const char *host_id) {
        bool name_ok = false, host_ok = isempty(host_id), other_host = false;
        json_t *t;
        size_t i;

        if (!json_is_array(tags))
                return false;
        json_array_foreach(tags, i, t) {
                const char *k = json_string_value(json_object_get(t, "Key"));
                const char *v = json_string_value(json_object_get(t, "Value"));
                if (!k || !v)
                        continue;
                if (streq(k, ACM_TAG_NAME) && streq(v, name))
                        name_ok = true;
                else if (streq(k, ACM_TAG_HOST)) {
                        if (!isempty(host_id) && streq(v, host_id))
                                host_ok = true;
                        else
                                other_host = true;
                }
        }
        /* without a machine id only a certificate of a host without one
         * (no host tag) is ours: never another host's */
        return name_ok && host_ok && !other_host;
}

/* ---- failure reasons ---- */

static const struct {
        const char *reason, *hint;
        bool retry_private;
} failure_hints[] = {
        {"NO_AVAILABLE_CONTACTS",
         "ACM found no address to send the validation e-mail to: use validation: dns, or a "
         "validation_domain whose admin@, administrator@, hostmaster@, postmaster@ and webmaster@ receive "
         "mail",
         false},
        {"ADDITIONAL_VERIFICATION_REQUIRED",
         "Amazon must verify these names by hand before it issues for them (often "
         "well-known domains): contact AWS Support, then run 'acm-agent renew NAME'",
         false},
        {"DOMAIN_NOT_ALLOWED",
         "a name may not get an ACM certificate (a blocked or Amazon-owned domain, such as "
         "amazonaws.com names): remove it from dns_names, or ask AWS Support",
         false},
        {"INVALID_PUBLIC_DOMAIN",
         "a name is not a public domain (no public top-level domain): fix dns_names, or use "
         "a private CA (certificate_authority_arn) for internal names",
         false},
        {"DOMAIN_VALIDATION_DENIED",
         "Amazon refused to validate a name (domain validation denied): contact AWS "
         "Support",
         false},
        {"CAA_ERROR",
         "a CAA record forbids amazon.com to issue for a name: add CAA 0 issue \"amazon.com\" (or "
         "amazontrust.com, awstrust.com, amazonaws.com) to the name or its parent domain",
         false},
        {"PCA_LIMIT_EXCEEDED",
         "the Private CA has issued as many certificates as its quota allows: raise the quota "
         "(Service Quotas, AWS Private CA) or use another CA",
         true},
        {"PCA_INVALID_ARN", "certificate_authority_arn is not the ARN of a Private CA: fix it", false},
        {"PCA_INVALID_STATE",
         "the Private CA is not ACTIVE (disabled, expired or pending deletion): activate or "
         "restore it, or point certificate_authority_arn at an active CA",
         true},
        {"PCA_REQUEST_FAILED",
         "the Private CA failed the request: it is asked again; if this persists, look at the "
         "CA in the AWS Private CA console",
         true},
        {"PCA_NAME_CONSTRAINTS_VALIDATION",
         "the Private CA's name constraints forbid a name: request names the CA "
         "may certify, or use another CA",
         false},
        {"PCA_RESOURCE_NOT_FOUND",
         "the Private CA does not exist (deleted, or another region or account): fix "
         "certificate_authority_arn",
         false},
        {"PCA_INVALID_ARGS",
         "the Private CA refused the request (a key_algorithm of another family than the CA's "
         "key, RSA or EC): use a key_algorithm of the CA's family",
         false},
        {"PCA_INVALID_DURATION",
         "the certificate would outlive the Private CA's own certificate: renew the CA "
         "certificate, or use a CA valid for more than 13 months from now",
         false},
        {"PCA_ACCESS_DENIED",
         "ACM may not use the Private CA: share it with this account (AWS RAM) or grant ACM "
         "access in the CA's resource policy",
         true},
        {"SLR_NOT_FOUND",
         "ACM's service-linked role is missing: create it (aws iam create-service-linked-role "
         "--aws-service-name acm.amazonaws.com)",
         true},
        {"OTHER", "ACM gives no reason: look at the certificate in the ACM console, or ask AWS Support",
         true},
};

const char *issuer_acm_failure_hint(const char *reason) {
        for (size_t i = 0; reason && i < ELEMENTSOF(failure_hints); i++)
                if (streq(failure_hints[i].reason, reason))
                        return failure_hints[i].hint;
        return "see \"Troubleshoot certificate requests\" in the ACM user guide for this reason";
}

bool issuer_acm_failure_retryable(const char *reason, bool private_ca) {
        if (!private_ca || !reason)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(failure_hints); i++)
                if (streq(failure_hints[i].reason, reason))
                        return failure_hints[i].retry_private;
        return false;
}

/* ---- revocation ---- */

int issuer_acm_revocation_reason(const char *reason, bool private_ca, const char **ret) {
        static const char *const model[] = {
                "UNSPECIFIED",         "KEY_COMPROMISE",         "CA_COMPROMISE",    "AFFILIATION_CHANGED",
                "SUPERSEDED",          "CESSATION_OF_OPERATION", "CERTIFICATE_HOLD", "REMOVE_FROM_CRL",
                "PRIVILEGE_WITHDRAWN", "A_A_COMPROMISE"};
        static const char *const public_ok[] = {"UNSPECIFIED", "AFFILIATION_CHANGED", "SUPERSEDED",
                                                "CESSATION_OF_OPERATION"};
        const char *r = NULL;

        if (!reason)
                return -EINVAL;
        if (streq(reason, "CERTIFICATE_AUTHORITY_COMPROMISE"))
                reason = "CA_COMPROMISE";
        else if (streq(reason, "SUPERCEDED"))
                reason = "SUPERSEDED";
        for (size_t i = 0; i < ELEMENTSOF(model); i++)
                if (streq(model[i], reason))
                        r = model[i];
        if (!r)
                return -EINVAL;
        if (!private_ca) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(public_ok); i++)
                        ok = ok || streq(public_ok[i], r);
                if (!ok)
                        return -EPERM;
        }
        *ret = r;
        return 0;
}

const char *issuer_acm_public_revocation_reasons(void) {
        return "unspecified, affiliation-changed, superseded, cessation-of-operation";
}

/* ---- export passphrase ---- */

int issuer_acm_passphrase(char buf[static ACM_PASSPHRASE_LEN + 1]) {
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!&()*+,-./:;<=>?@[]^_{|}~";
        const size_t n = sizeof(alphabet) - 1;
        uint8_t raw[64];
        size_t k = 0;
        int r;

        /* rejection sampling: no bias towards the first characters */
        while (k < ACM_PASSPHRASE_LEN) {
                r = random_bytes(raw, sizeof(raw));
                if (r < 0) {
                        OPENSSL_cleanse(buf, ACM_PASSPHRASE_LEN + 1);
                        OPENSSL_cleanse(raw, sizeof(raw));
                        return r;
                }
                for (size_t i = 0; i < sizeof(raw) && k < ACM_PASSPHRASE_LEN; i++)
                        if (raw[i] < 256 - 256 % n)
                                buf[k++] = alphabet[raw[i] % n];
        }
        buf[k] = 0;
        OPENSSL_cleanse(raw, sizeof(raw));
        return 0;
}

/* ---- when to look again ---- */

time_t issuer_acm_window_start(time_t not_before, time_t not_after) {
        time_t life = not_after > not_before ? not_after - not_before : 0, len = ACM_RENEWAL_WINDOW_SEC;

        if (life / 3 < len)
                len = life / 3;
        return not_after - len;
}

uint64_t issuer_acm_hash(const char *host_id, const char *name) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        const char *parts[2] = {host_id ? host_id : "", name ? name : ""};

        for (size_t k = 0; k < 2; k++) {
                for (const unsigned char *p = (const unsigned char *) parts[k]; *p; p++) {
                        h ^= *p;
                        h *= UINT64_C(0x100000001b3);
                }
                h ^= 0xff;
                h *= UINT64_C(0x100000001b3);
        }
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        return h;
}

/* interval spread over [0.8, 1.2) of itself by the hash */
static uint64_t spread(uint64_t interval, uint64_t hash) {
        return interval * 8 / 10 + (interval * 4 / 10) * (hash % 1000) / 1000;
}

time_t issuer_acm_next_describe(const acm_watch_input *in) {
        uint64_t poll = in->poll_interval ? in->poll_interval : 6 * 3600;
        time_t window = issuer_acm_window_start(in->not_before, in->not_after), base = in->last, next;
        uint64_t interval;

        /* pending: 30 min, not less: 10,000 hosts watching one renewing
         * certificate (arn:) make 5.6 describes/s, within the account's
         * 10/s (every 15 min: 11.3/s, bench/acm-watch) */
        if (in->renewal_pending)
                interval = poll < ACM_PENDING_POLL_SEC ? poll : ACM_PENDING_POLL_SEC;
        else if (in->not_after && base >= window)
                interval = poll < 3600 ? poll : 3600;
        else
                interval = poll;
        next = base + (time_t) spread(interval, in->hash);
        /* far from expiry: the first look inside the window is within the
         * window's first (dense) interval, at a per-host moment spread over
         * all of it by bits of the hash the spread above does not use; every
         * host watching one certificate (arn:, one not_after) enters the
         * window at the same instant, and a narrower spread would send them
         * all within two minutes (10,000 hosts: ~70/s against
         * DescribeCertificate's 10/s, bench/acm-watch) and keep the hosts of
         * one spread class in step for the whole window */
        if (!in->renewal_pending && in->not_after && base < window && next > window)
                next = window + (time_t) ((in->hash / 1000) % (poll < 3600 ? poll : 3600));
        return next;
}

/* ---- e-mail validation ---- */

int issuer_acm_emails_format(json_t *dvos, char **ret) {
        _cleanup_(freep) char *out = strdup("");
        json_t *dvo;
        size_t i;

        if (!out)
                return -ENOMEM;
        json_array_foreach(dvos, i, dvo) {
                const char *domain = json_string_value(json_object_get(dvo, "DomainName"));
                json_t *emails = json_object_get(dvo, "ValidationEmails"), *e;
                _cleanup_(freep) char *list = strdup(""), *d = NULL;
                size_t k;

                if (!domain || !json_is_array(emails) || json_array_size(emails) == 0)
                        continue;
                if (!list || !(d = aws_escape(domain, ACM_NAME_MAX)))
                        return -ENOMEM;
                json_array_foreach(emails, k, e) {
                        _cleanup_(freep) char *a = aws_escape(json_string_value(e), 320);
                        char *n = a ? strprintf("%s%s%s", list, list[0] ? "," : "", a) : NULL;
                        if (!n)
                                return -ENOMEM;
                        free(list);
                        list = n;
                }
                char *n = strprintf("%s%s EMAIL %s\n", out, d, list);
                if (!n)
                        return -ENOMEM;
                free(out);
                out = n;
        }
        *ret = TAKE_PTR(out);
        return 0;
}
