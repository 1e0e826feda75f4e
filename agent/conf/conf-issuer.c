/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `issuer:` of a certificate: pca (validity, signing algorithm,
 * api_passthrough), acm (request settings, tags) and import.
 */
#include <strings.h>

#include "conf/conf-internal.h"
#include "basic/clock.h"
#include "basic/util.h"

/* A certificate that lives less than this cannot be renewed before it expires (renewal, retries, deploy). */
#define PCA_MIN_VALIDITY 3600

const char *const conf_keys_pca[] = { "type", "ca_arn", "template_arn", "signing_algorithm", "validity", "validity_not_before",
                                      "api_passthrough", NULL };
const char *const conf_keys_validity[] = { "type", "value", NULL };
const char *const conf_keys_acm[] = { "type", "arn", "validation", "key_algorithm", "export", "certificate_authority_arn",
                                      "transparency_logging", "validation_domain", "tags", "on_validation_timeout",
                                      "on_renewal_failure", "trust_store", NULL };
const char *const conf_keys_import[] = { "type", "cert", "key", "chain", "arn", "tags", NULL };

typedef conf_loader L_t;

static const char *const acm_key_algorithms[] = { "RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1",
                                                  "EC_secp384r1", "EC_secp521r1", NULL };
static const char *const pca_signing_algorithms[] = { "SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA",
                                                      "SHA256WITHRSA", "SHA384WITHRSA", "SHA512WITHRSA", NULL };
static const char *const validity_types[] = { "DAYS", "MONTHS", "YEARS", "ABSOLUTE", "END_DATE", NULL };

static void parse_validity(L_t *L, const cnode *n, const char *what, bool not_before, conf_validity *out) {
        if (n->kind == CNODE_SCALAR) {
                uint64_t v;
                if (not_before) {
                        conf_err_at(L, n, "type", "write {type: ABSOLUTE, value: UNIX_SECONDS} or {type: END_DATE, value: YYYYMMDDHHMMSS}",
                               "%s must be a {type, value} mapping", what);
                        return;
                }
                if (parse_duration(n->str, &v) < 0 || v == 0) {
                        conf_err_at(L, n, "duration", "use a duration such as 30d, 12h, 90m or 45s, or {type: DAYS, value: 30}",
                               "%s: '%s' is not a duration", what, n->str);
                        return;
                }
                if (v < PCA_MIN_VALIDITY) {
                        conf_err_at(L, n, "range", "use a validity of at least 1h (days are usual: 30d)",
                                    "%s %s is too short to renew the certificate before it expires: the minimum is 1h", what, n->str);
                        return;
                }
                *out = (conf_validity) { .type = CONF_VALIDITY_DURATION, .value = (int64_t) v };
                return;
        }
        if (!conf_want_map(L, n, what))
                return;
        conf_check_keys(L, n, conf_keys_validity, what);
        cnode *t = conf_get(n, "type"), *v = conf_get(n, "value");
        if (!t || !v) {
                conf_err_at(L, n, "missing", "write {type: DAYS, value: 30}", "%s needs both 'type' and 'value'", what);
                return;
        }
        int ti = conf_get_enum(L, t, "validity type", validity_types);
        if (ti < 0)
                return;
        if (not_before && ti < 3) {
                conf_err_at(L, t, "enum", "use ABSOLUTE or END_DATE", "%s: type %s is not allowed here", what, validity_types[ti]);
                return;
        }
        const char *vs = conf_scalar(L, v, "value");
        if (!vs)
                return;
        if (ti == 4) {
                const char *why = conf_check_end_date(vs);
                if (why) {
                        conf_err_at(L, v, "range", "write YYYYMMDDHHMMSS, for example 20301231235959", "%s: %s", what, why);
                        return;
                }
        }
        uint64_t val;
        if (parse_uint64(vs, &val) < 0 || val == 0 || val > (uint64_t) INT64_MAX) {
                conf_err_at(L, v, "range", "write a positive whole number", "%s: value '%s' is not a positive whole number", what, vs);
                return;
        }
        if (!not_before && (ti == 3 || ti == 4)) {
                /* A fixed end: it must leave at least the minimum lifetime from now. */
                time_t end = (time_t) val, now = clock_now();
                if (ti == 4) {
                        struct tm tm = {};
                        if (!strptime(vs, "%Y%m%d%H%M%S", &tm)) {
                                conf_err_at(L, v, "range", "write YYYYMMDDHHMMSS, for example 20301231235959", "%s: '%s' is not a date", what, vs);
                                return;
                        }
                        end = timegm(&tm);
                }
                if (end < now + PCA_MIN_VALIDITY) {
                        conf_err_at(L, v, "range", "set an end at least 1h from now, or a duration such as 30d",
                                    "%s: the certificate would end at %s, %s: the minimum validity is 1h", what, vs,
                                    end <= now ? "in the past" : "less than 1h from now");
                        return;
                }
        }
        *out = (conf_validity) { .type = (conf_validity_type) (CONF_VALIDITY_DAYS + ti), .value = (int64_t) val };
}

/* Tags of RequestCertificate / ImportCertificate: TagList 1-50 of {Key 1-128, Value 0-256}. */
static void parse_tags(L_t *L, const cnode *n, conf_tag **ret, size_t *ret_n) {
        if (!conf_want_map(L, n, "tags"))
                return;
        if (n->n_pairs > 50) {
                conf_err_at(L, n, "too-large", "ACM allows at most 50 tags", "%zu tags", n->n_pairs);
                return;
        }
        if (n->n_pairs == 0) {
                conf_err_at(L, n, "tag", "add at least one tag, or remove the key (null clears a default)",
                            "tags is empty: ACM takes 1 to 50 tags");
                return;
        }
        conf_tag *t = calloc(n->n_pairs ? n->n_pairs : 1, sizeof(conf_tag));
        size_t k = 0;
        if (!t) {
                L->oom = true;
                return;
        }
        for (size_t i = 0; i < n->n_pairs; i++) {
                const cpair *p = &n->pairs[i];
                const char *key = conf_scalar(L, p->key, "tag key");
                const char *val = p->value->kind == CNODE_NULL ? "" : conf_scalar(L, p->value, "tag value");
                const char *why;
                if (!key || !val)
                        continue;
                if ((why = conf_check_tag(key, val))) {
                        conf_err_at(L, p->key, "tag", "ACM tag keys: 1-128, values: 0-256 characters: letters, digits, spaces and _ . : / = + - @",
                               "tag '%s': %s", key, why);
                        continue;
                }
                for (size_t j = 0; j < k; j++)
                        if (streq(t[j].key, key))
                                conf_err_at(L, p->key, "duplicate", "remove one of them", "tag '%s' appears twice", key);
                t[k].key = conf_strdup(L, key);
                t[k].value = conf_strdup(L, val);
                k++;
        }
        *ret = t;
        *ret_n = k;
}

/* The tags the acm issuer adds to every certificate it requests (it finds
 * its own certificates by them after a state is lost). */
static const char *const acm_agent_tags[] = { "acm-agent:name", "acm-agent:host", NULL };

/*
 * issuer.trust_store (acm): a PEM bundle the exported public chains are
 * verified against. Read as aws.ca_bundle is (bounded, never a FIFO or a
 * device): a bundle that cannot be read would fail every deploy after ACM
 * issued and billed the certificate.
 */
static void check_trust_store(L_t *L, const cnode *n, const char *path) {
        const char *why = NULL;
        int r;

        r = conf_regular_file_contains(path, CONF_MAX_CA_BUNDLE, "-----BEGIN CERTIFICATE-----", &why);
        if (r == -ENOMEM)
                L->oom = true;
        else if (r == -EISDIR || r == -ENODEV)
                conf_err_at(L, n, "io", "name a PEM bundle file, such as /etc/ssl/certs/ca-certificates.crt",
                            "trust_store %s is %s, not a regular file", path, why);
        else if (r == -EFBIG)
                conf_err_at(L, n, "too-large", "name a bundle of at most 16 MiB", "trust_store %s is larger than %d bytes",
                            path, CONF_MAX_CA_BUNDLE);
        else if (r < 0)
                conf_err_at(L, n, "io", "fix the path, or remove trust_store to use the system's trusted roots",
                            "trust_store %s is not readable: %s", path, strerror(-r));
        else if (r == 0)
                conf_err_at(L, n, "io", "name a file of PEM certificates (-----BEGIN CERTIFICATE-----)",
                            "trust_store %s holds no PEM certificate", path);
}

void conf_issuer_parse(L_t *L, conf_cert *c, const cnode *n) {
        static const char *const types[] = { "pca", "acm", "import", NULL };
        cnode *t, *v;
        int ti;

        if (!conf_want_map(L, n, "issuer"))
                return;
        t = conf_get(n, "type");
        if (!t) {
                conf_err_at(L, n, "missing", "add type: pca, acm or import", "issuer: required key 'type' is missing");
                return;
        }
        ti = conf_get_enum(L, t, "issuer type", types);
        if (ti < 0)
                return;
        c->issuer_type = (conf_issuer_type) ti;
        if (c->issuer_type == CONF_ISSUER_PCA) {
                conf_issuer_pca *p = &c->issuer.pca;
                conf_check_keys(L, n, conf_keys_pca, "a pca issuer");
                if (!conf_get_arn(L, n, "ca_arn", CONF_ARN_PCA_CA, &p->ca_arn) && !conf_get(n, "ca_arn"))
                        conf_err_at(L, n, "missing", "add ca_arn: arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID",
                               "pca issuer: required key 'ca_arn' is missing");
                conf_get_arn(L, n, "template_arn", CONF_ARN_PCA_TEMPLATE, &p->template_arn);
                if ((v = conf_get(n, "signing_algorithm")) && v->kind == CNODE_SCALAR && strcasecmp(v->str, "auto") == 0)
                        ;
                else if (v) {
                        static const char *const with_auto[] = { "auto", "SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA",
                                                                 "SHA256WITHRSA", "SHA384WITHRSA", "SHA512WITHRSA", NULL };
                        int i = conf_get_enum(L, v, "signing_algorithm", with_auto);
                        if (i > 0)
                                p->signing_algorithm = conf_strdup(L, pca_signing_algorithms[i - 1]);
                }
                if ((v = conf_get(n, "validity")))
                        parse_validity(L, v, "validity", false, &p->validity);
                else
                        conf_err_at(L, n, "missing", "add validity: 30d (or {type: DAYS, value: 30})",
                               "pca issuer: required key 'validity' is missing");
                if ((v = conf_get(n, "validity_not_before")))
                        parse_validity(L, v, "validity_not_before", true, &p->validity_not_before);
                if ((v = conf_get(n, "api_passthrough")))
                        p->api_passthrough = conf_api_passthrough_parse(L, v);
        } else if (c->issuer_type == CONF_ISSUER_ACM) {
                conf_issuer_acm *a = &c->issuer.acm;
                static const char *const validations[] = { "dns", "email", NULL };
                static const char *const tl[] = { "enabled", "disabled", NULL };
                static const char *const on_timeout[] = { "rerequest", "fail", NULL };
                static const char *const on_renewal[] = { "report", "reissue", NULL };
                conf_check_keys(L, n, conf_keys_acm, "an acm issuer");
                a->export = true;
                a->transparency_logging = true;
                conf_get_arn(L, n, "arn", CONF_ARN_ACM_CERT, &a->arn);
                if (conf_get(n, "arn")) {
                        static const char *const request_only[] = { "validation", "key_algorithm", "certificate_authority_arn",
                                                                    "transparency_logging", "validation_domain",
                                                                    "on_validation_timeout", NULL };
                        for (const char *const *k = request_only; *k; k++)
                                conf_conflict(L, n, "arn", *k,
                                         "'arn' tracks an existing certificate; request settings apply only when the agent requests one: remove one of them");
                }
                if ((v = conf_get(n, "validation"))) {
                        int i = conf_get_enum(L, v, "validation", validations);
                        if (i >= 0)
                                a->validation = (conf_validation) i;
                }
                if ((v = conf_get(n, "key_algorithm"))) {
                        int i = conf_get_enum(L, v, "key_algorithm", acm_key_algorithms);
                        /* The KeyAlgorithm enum lists 7; RequestCertificate takes 3 (the others: imports only). */
                        if (i >= 0 && !streq(acm_key_algorithms[i], "RSA_2048") && !streq(acm_key_algorithms[i], "EC_prime256v1") &&
                            !streq(acm_key_algorithms[i], "EC_secp384r1"))
                                conf_err_at(L, v, "enum", "use RSA_2048, EC_prime256v1 or EC_secp384r1",
                                            "key_algorithm %s is for imported certificates only: ACM requests take RSA_2048, "
                                            "EC_prime256v1 or EC_secp384r1", acm_key_algorithms[i]);
                        else if (i >= 0)
                                a->key_algorithm = conf_strdup(L, acm_key_algorithms[i]);
                } else
                        a->key_algorithm = conf_strdup(L, "RSA_2048");
                conf_get_bool(L, n, "export", &a->export);
                conf_get_arn(L, n, "certificate_authority_arn", CONF_ARN_PCA_CA, &a->certificate_authority_arn);
                if ((v = conf_get(n, "transparency_logging"))) {
                        int i = -1;
                        if (v->kind == CNODE_SCALAR && v->plain && (streq(v->str, "true") || streq(v->str, "false")))
                                i = streq(v->str, "true") ? 0 : 1;
                        else
                                i = conf_get_enum(L, v, "transparency_logging", tl);
                        if (i >= 0) {
                                a->transparency_logging = i == 0;
                                a->transparency_logging_set = true;
                                /* Still accepted (configurations in the field have it), but it no longer does anything. */
                                conf_warn_at(L, v, "deprecated", "remove transparency_logging: every certificate is logged now",
                                             "transparency_logging is deprecated: AWS deprecated the certificate transparency "
                                             "logging preference on 12 June 2026 (opting out is no longer available)");
                        }
                }
                if ((v = conf_get(n, "validation_domain"))) {
                        const char *s = conf_nonempty(L, v, "validation_domain"), *why;
                        if (s && (why = conf_check_acm_domain(s, false)))
                                conf_err_at(L, v, "dns-name", "write a domain such as example.com", "validation_domain '%s': %s", s, why);
                        else if (s && a->validation != CONF_VALIDATION_EMAIL && !conf_get(n, "arn"))
                                conf_err_at(L, v, "conflict", "remove validation_domain, or use validation: email",
                                            "validation_domain is for e-mail validation (validation: email)");
                        else if (s)
                                a->validation_domain = conf_strdup(L, s);
                }
                if ((v = conf_get(n, "on_validation_timeout"))) {
                        int i = conf_get_enum(L, v, "on_validation_timeout", on_timeout);
                        if (i >= 0)
                                a->on_validation_timeout = (conf_acm_on_validation_timeout) i;
                }
                if ((v = conf_get(n, "on_renewal_failure"))) {
                        int i = conf_get_enum(L, v, "on_renewal_failure", on_renewal);
                        if (i == CONF_ACM_RENEWAL_REISSUE && conf_get(n, "arn"))
                                conf_err_at(L, v, "conflict", "use on_renewal_failure: report with arn, or let the agent request the certificate (remove arn)",
                                            "on_renewal_failure: reissue needs the request settings of a certificate the agent requested, not a tracked arn");
                        else if (i >= 0)
                                a->on_renewal_failure = (conf_acm_on_renewal_failure) i;
                }
                if ((v = conf_get(n, "tags"))) {
                        parse_tags(L, v, &a->tags, &a->n_tags);
                        /* RequestCertificate takes 50 tags; the agent adds its own two */
                        if (a->n_tags > 50 - 2 && !conf_get(n, "arn"))
                                conf_err_at(L, v, "too-large", "remove tags: at most 48 (the agent adds acm-agent:name and acm-agent:host)",
                                            "%zu tags: ACM takes at most 50 per certificate and the agent adds 2 of its own",
                                            a->n_tags);
                        for (size_t i = 0; i < a->n_tags; i++)
                                for (const char *const *k = acm_agent_tags; *k; k++)
                                        if (streq(a->tags[i].key, *k))
                                                conf_err_at(L, v, "tag", "remove it: the agent sets this tag itself",
                                                            "tag '%s' is reserved: the agent tags the certificates it requests "
                                                            "with it to find them again", *k);
                }
                if (conf_get_path(L, n, "trust_store", &a->trust_store)) {
                        v = conf_get(n, "trust_store");
                        if (a->certificate_authority_arn)
                                conf_err_at(L, v, "conflict", "remove trust_store: a private certificate is verified "
                                            "against the certificate of its CA (certificate_authority_arn)",
                                            "trust_store is for public certificates, and certificate_authority_arn "
                                            "requests a private one");
                        else if (!a->export)
                                conf_err_at(L, v, "conflict", "remove trust_store, or set export: true",
                                            "trust_store verifies exported certificates, and export is false");
                        else
                                check_trust_store(L, v, a->trust_store);
                }
        } else {
                conf_issuer_import *im = &c->issuer.import;
                conf_check_keys(L, n, conf_keys_import, "an import issuer");
                if (!conf_get_path(L, n, "cert", &im->cert) && !conf_get(n, "cert"))
                        conf_err_at(L, n, "missing", "add cert: /path/to/cert.pem", "import issuer: required key 'cert' is missing");
                if (!conf_get_path(L, n, "key", &im->key) && !conf_get(n, "key"))
                        conf_err_at(L, n, "missing", "add key: /path/to/key.pem", "import issuer: required key 'key' is missing");
                conf_get_path(L, n, "chain", &im->chain);
                conf_get_arn(L, n, "arn", CONF_ARN_ACM_CERT, &im->arn);
                if ((v = conf_get(n, "tags")))
                        parse_tags(L, v, &im->tags, &im->n_tags);
        }
}


static const cnode *first_item(const cnode *list, const cnode *fallback) {
        return list && list->kind == CNODE_SEQ && list->n_items > 0 ? list->items[0] : fallback;
}

/* true when name (a wildcard stands for its parent) is domain or lies below it. */
static bool under_domain(const char *name, const char *domain) {
        size_t nl, dl = strlen(domain);
        if (name[0] == '*' && name[1] == '.')
                name += 2;
        nl = strlen(name);
        return (nl == dl && strcasecmp(name, domain) == 0) ||
               (nl > dl && name[nl - dl - 1] == '.' && strcasecmp(name + nl - dl, domain) == 0);
}

void conf_issuer_check_names(L_t *L, conf_cert *cert, const cnode *n, bool names_written) {
        bool any_name = names_written || cert->dns_names[0] || cert->ip_addresses[0] || cert->email_addresses[0] || cert->uris[0];
        const cnode *list = conf_get(n, "dns_names");

        switch (cert->issuer_type) {
        case CONF_ISSUER_PCA:
                if (!any_name && !cert->subject.common_name && !cert->issuer.pca.api_passthrough)
                        conf_err_at(L, n, "missing", "add dns_names: [www.example.com] (or ip_addresses, email_addresses, uris)",
                               "certificate '%s' names nothing", cert->name ? cert->name : "?");
                break;
        case CONF_ISSUER_ACM: {
                const conf_issuer_acm *a = &cert->issuer.acm;
                if (a->arn)
                        break;
                if (!names_written)
                        conf_err_at(L, n, "missing", "add dns_names: [www.example.com]",
                               "an ACM certificate needs dns_names (ACM issues DNS names only)");
                else if (cert->dns_names[0] && strlen(cert->dns_names[0]) > 64)
                        /* RequestCertificate DomainName: 1-253 in the model, but it becomes the CN: at most 64 (RFC 5280) */
                        conf_err_at(L, first_item(list, n), "dns-name",
                               "put a name of at most 64 octets first (it becomes the common name)",
                               "'%s' is longer than 64 octets; ACM requires the first name (the CN) to be at most 64",
                               cert->dns_names[0]);
                /* DomainName and SubjectAlternativeNames: DomainNameString of the ACM model */
                for (size_t i = 0; list && list->kind == CNODE_SEQ && cert->dns_names[i] && i < list->n_items; i++) {
                        const char *why;
                        if (conf_check_dns_name(cert->dns_names[i], true))
                                continue;   /* reported already */
                        if ((why = conf_check_acm_domain(cert->dns_names[i], true)))
                                conf_err_at(L, list->items[i], "dns-name", "ACM takes fully qualified names such as www.example.com",
                                            "dns_names: '%s': %s", cert->dns_names[i], why);
                }
                if (cert->ip_addresses[0] || cert->email_addresses[0] || cert->uris[0])
                        conf_err_at(L, n, "conflict", "remove ip_addresses, email_addresses and uris (or use a pca issuer)",
                               "ACM certificates carry DNS names only");
                if (a->validation == CONF_VALIDATION_DNS && !a->certificate_authority_arn && cert->dns.provider == CONF_DNS_NONE &&
                    !conf_get(n, "dns"))
                        conf_err_at(L, n, "missing", "add dns: {provider: route53} (or exec with a command, or manual)",
                               "certificate '%s' uses DNS validation but has no dns provider", cert->name ? cert->name : "?");
                /* DomainValidationOption.ValidationDomain: the DomainName or a superdomain of it */
                if (a->validation_domain)
                        for (size_t i = 0; cert->dns_names[i]; i++)
                                if (!under_domain(cert->dns_names[i], a->validation_domain)) {
                                        const cnode *vd = conf_get(conf_get(n, "issuer"), "validation_domain");
                                        conf_err_at(L, vd ? vd : n, "conflict",
                                                    "use a validation_domain that every name ends with, such as the registered domain",
                                                    "validation_domain %s is neither %s nor a parent domain of it", a->validation_domain,
                                                    cert->dns_names[i]);
                                        break;
                                }
                break;
        }
        case CONF_ISSUER_IMPORT:
                break;
        }
}

static void tags_free(conf_tag *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(t[i].key);
                free(t[i].value);
        }
        free(t);
}

void conf_issuer_done(conf_cert *c) {
        switch (c->issuer_type) {
        case CONF_ISSUER_PCA:
                free(c->issuer.pca.ca_arn);
                free(c->issuer.pca.template_arn);
                free(c->issuer.pca.signing_algorithm);
                json_decref(c->issuer.pca.api_passthrough);
                break;
        case CONF_ISSUER_ACM:
                free(c->issuer.acm.arn);
                free(c->issuer.acm.key_algorithm);
                free(c->issuer.acm.certificate_authority_arn);
                free(c->issuer.acm.validation_domain);
                free(c->issuer.acm.trust_store);
                tags_free(c->issuer.acm.tags, c->issuer.acm.n_tags);
                break;
        case CONF_ISSUER_IMPORT:
                free(c->issuer.import.cert);
                free(c->issuer.import.key);
                free(c->issuer.import.chain);
                free(c->issuer.import.arn);
                tags_free(c->issuer.import.tags, c->issuer.import.n_tags);
                break;
        }
}

const char *conf_issuer_type_to_string(conf_issuer_type t) {
        switch (t) {
        case CONF_ISSUER_PCA:
                return "pca";
        case CONF_ISSUER_ACM:
                return "acm";
        case CONF_ISSUER_IMPORT:
                return "import";
        }
        return "?";
}
