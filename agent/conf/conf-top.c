/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sections of the main file that are not certificates: `aws:` (client
 * settings, endpoints, rate limits) and `daemon:`.
 */
#include <ctype.h>
#include <math.h>
#include <strings.h>

#include "conf/conf-internal.h"
#include "basic/util.h"

typedef conf_loader L_t;

const char *const conf_keys_aws[] = { "region", "profile", "role_arn", "role_session_name", "external_id", "endpoints",
                                      "ca_bundle", "use_fips", "connect_timeout", "request_timeout", "max_attempts",
                                      "rate_limits", NULL };
const char *const conf_keys_daemon[] = { "reload_debounce", "acm_poll_interval", "metrics_textfile", "on_remove",
                                         "dns_recheck_interval", NULL };

/*
 * aws.ca_bundle must be a readable regular file holding PEM certificates:
 * the AWS client cannot start without it. Read with the same care as the
 * configuration files (never a FIFO or a device, bounded).
 */
static void check_ca_bundle(L_t *L, const cnode *n, const char *path) {
        const char *why = NULL;
        int r;

        r = conf_regular_file_contains(path, CONF_MAX_CA_BUNDLE, "-----BEGIN CERTIFICATE-----", &why);
        if (r == -ENOMEM)
                L->oom = true;
        else if (r == -EISDIR || r == -ENODEV)
                conf_err_at(L, n, "io", "name the PEM bundle file, such as /etc/ssl/certs/ca-certificates.crt",
                            "ca_bundle %s is %s, not a regular file", path, why);
        else if (r == -EFBIG)
                conf_err_at(L, n, "too-large", "name a CA bundle of at most 16 MiB", "ca_bundle %s is larger than %d bytes", path,
                            CONF_MAX_CA_BUNDLE);
        else if (r < 0)
                conf_err_at(L, n, "io", "install the bundle (ca-certificates) or fix the path", "ca_bundle %s is not readable: %s",
                            path, strerror(-r));
        else if (r == 0)
                conf_err_at(L, n, "io", "name a file of PEM certificates (-----BEGIN CERTIFICATE-----)",
                            "ca_bundle %s holds no PEM certificate", path);
}

/* aws.rate_limits keys: an operation of the acm, acm-pca, route53 or sts model. NULL when unknown. */
static const char *find_operation(const char *op, const char **ret_nearest) {
        const char *best = NULL;
        size_t bestd = SIZE_MAX;

        for (const char *const *o = conf_aws_operations; *o; o++) {
                if (strcasecmp(*o, op) == 0)
                        return *o;
                size_t d = conf_edit_distance(op, *o);
                if (d < bestd) {
                        bestd = d;
                        best = *o;
                }
        }
        *ret_nearest = bestd <= 4 ? best : NULL;
        return NULL;
}

void conf_aws_parse(L_t *L, conf_aws *a, const cnode *n) {
        static const char *const services[] = { "acm", "acm-pca", "route53", "sts", NULL };
        cnode *v;
        const char *why;
        if (!conf_want_map(L, n, "aws"))
                return;
        conf_check_keys(L, n, conf_keys_aws, "aws");
        if ((v = conf_get(n, "region")) && conf_nonempty(L, v, "region")) {
                if ((why = conf_check_region(v->str)))
                        conf_err_at(L, v, "region", "write a region such as eu-west-1", "region '%s': %s", v->str, why);
                else
                        a->region = conf_strdup(L, v->str);
        }
        conf_get_str(L, n, "profile", &a->profile);
        conf_get_arn(L, n, "role_arn", CONF_ARN_IAM_ROLE, &a->role_arn);
        if ((v = conf_get(n, "role_session_name")) && conf_nonempty(L, v, "role_session_name")) {
                size_t l = strlen(v->str);
                if (l < 2 || l > 64 || strspn(v->str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") != l)
                        conf_err_at(L, v, "range", "use 2-64 letters, digits and + = , . @ _ -", "role_session_name '%s' is not valid", v->str);
                else
                        a->role_session_name = conf_strdup(L, v->str);
        }
        if (!a->role_session_name)
                a->role_session_name = conf_strdup(L, "acm-agent");
        if ((v = conf_get(n, "external_id")) && conf_nonempty(L, v, "external_id")) {
                size_t l = strlen(v->str);
                if (l < 2 || l > 1224)
                        conf_err_at(L, v, "range", "use 2 to 1224 characters", "external_id has %zu characters", l);
                else
                        a->external_id = conf_strdup(L, v->str);
        }
        if ((v = conf_get(n, "endpoints")) && conf_want_map(L, v, "endpoints")) {
                a->endpoints = calloc(v->n_pairs ? v->n_pairs : 1, sizeof(conf_endpoint));
                if (!a->endpoints)
                        L->oom = true;
                for (size_t i = 0; a->endpoints && i < v->n_pairs; i++) {
                        const cpair *p = &v->pairs[i];
                        int si = conf_get_enum(L, p->key, "endpoint service", services);
                        const char *url = conf_nonempty(L, p->value, "endpoint URL");
                        if (si < 0 || !url)
                                continue;
                        if ((why = conf_check_endpoint_url(url))) {
                                conf_err_at(L, p->value, "url", "write https://HOST[:PORT] (http only to 127.0.0.1, localhost or [::1])",
                                       "endpoint %s '%s': %s", services[si], url, why);
                                continue;
                        }
                        for (size_t j = 0; j < a->n_endpoints; j++)
                                if (streq(a->endpoints[j].service, services[si]))
                                        conf_err_at(L, p->key, "duplicate", "give each service one endpoint", "endpoint for %s is set twice", services[si]);
                        a->endpoints[a->n_endpoints].service = conf_strdup(L, services[si]);
                        a->endpoints[a->n_endpoints++].url = conf_strdup(L, url);
                }
        }
        if (conf_get_path(L, n, "ca_bundle", &a->ca_bundle))
                check_ca_bundle(L, conf_get(n, "ca_bundle"), a->ca_bundle);
        conf_get_bool(L, n, "use_fips", &a->use_fips);
        a->connect_timeout = 10;
        a->request_timeout = 60;
        a->max_attempts = 5;
        conf_get_duration(L, n, "connect_timeout", &a->connect_timeout, 1, 600);
        conf_get_duration(L, n, "request_timeout", &a->request_timeout, 1, 3600);
        uint64_t ma;
        if (conf_get_uint(L, n, "max_attempts", &ma, 1, 20))
                a->max_attempts = (unsigned) ma;
        if ((v = conf_get(n, "rate_limits")) && conf_want_map(L, v, "rate_limits")) {
                a->rate_limits = calloc(v->n_pairs ? v->n_pairs : 1, sizeof(conf_rate_limit));
                if (!a->rate_limits)
                        L->oom = true;
                for (size_t i = 0; a->rate_limits && i < v->n_pairs; i++) {
                        const cpair *p = &v->pairs[i];
                        const char *op = conf_scalar(L, p->key, "rate limit operation"), *val, *known, *nearest = NULL;
                        if (!op || !(val = conf_scalar(L, p->value, "rate limit")))
                                continue;
                        if (!(known = find_operation(op, &nearest))) {
                                char hint[256];
                                if (nearest)
                                        snprintf(hint, sizeof hint, "did you mean '%s'? (service:Operation of acm, acm-pca, route53, sts)", nearest);
                                else
                                        snprintf(hint, sizeof hint, "write service:Operation, such as acm-pca:IssueCertificate "
                                                                    "(an operation of acm, acm-pca, route53 or sts)");
                                conf_err_at(L, p->key, "enum", hint, "rate limit key '%s' is not an operation of the AWS APIs the agent uses", op);
                                continue;
                        }
                        bool dup = false;
                        for (size_t j = 0; j < a->n_rate_limits && !dup; j++)
                                dup = streq(a->rate_limits[j].operation, known);
                        if (dup) {
                                conf_err_at(L, p->key, "duplicate", "give each operation one rate", "rate limit for %s is set twice", known);
                                continue;
                        }
                        char *end = NULL;
                        errno = 0;
                        double d = strtod(val, &end);
                        if (errno || end == val || *end || !isfinite(d) || d <= 0 || d > 1000) {
                                conf_err_at(L, p->value, "range", "write requests per second, a number above 0 and at most 1000",
                                       "rate limit for %s: '%s' is not a rate", op, val);
                                continue;
                        }
                        a->rate_limits[a->n_rate_limits].operation = conf_strdup(L, known);
                        a->rate_limits[a->n_rate_limits++].per_second = d;
                }
        }
}

void conf_daemon_parse(L_t *L, conf_daemon *d, const cnode *n) {
        static const char *const on_remove[] = { "keep", "delete", NULL };
        cnode *v;
        if (!conf_want_map(L, n, "daemon"))
                return;
        conf_check_keys(L, n, conf_keys_daemon, "daemon");
        conf_get_duration(L, n, "reload_debounce", &d->reload_debounce, 0, 3600);
        conf_get_duration(L, n, "acm_poll_interval", &d->acm_poll_interval, 60, 7 * 86400);
        conf_get_path(L, n, "metrics_textfile", &d->metrics_textfile);
        if ((v = conf_get(n, "on_remove"))) {
                int i = conf_get_enum(L, v, "on_remove", on_remove);
                if (i >= 0)
                        d->on_remove = (conf_on_remove) i;
        }
        conf_get_duration(L, n, "dns_recheck_interval", &d->dns_recheck_interval, 3600, 30 * 86400);
}

void conf_aws_done(conf_aws *a) {
        free(a->region);
        free(a->profile);
        free(a->role_arn);
        free(a->role_session_name);
        free(a->external_id);
        for (size_t i = 0; i < a->n_endpoints; i++) {
                free(a->endpoints[i].service);
                free(a->endpoints[i].url);
        }
        free(a->endpoints);
        free(a->ca_bundle);
        for (size_t i = 0; i < a->n_rate_limits; i++)
                free(a->rate_limits[i].operation);
        free(a->rate_limits);
        *a = (conf_aws) {};
}

/* strdup() of a string that may be NULL; false when out of memory. */
static bool dup_opt(const char *s, char **ret) {
        *ret = s ? strdup(s) : NULL;
        return !s || *ret;
}

int conf_aws_copy(const conf_aws *src, conf_aws *dst) {
        conf_aws d = *src;
        bool ok;

        d.region = d.profile = d.role_arn = d.role_session_name = d.external_id = d.ca_bundle = NULL;
        d.endpoints = NULL;
        d.rate_limits = NULL;
        d.n_endpoints = d.n_rate_limits = 0;
        ok = dup_opt(src->region, &d.region) && dup_opt(src->profile, &d.profile) &&
             dup_opt(src->role_arn, &d.role_arn) && dup_opt(src->role_session_name, &d.role_session_name) &&
             dup_opt(src->external_id, &d.external_id) && dup_opt(src->ca_bundle, &d.ca_bundle);
        if (ok && src->n_endpoints > 0) {
                ok = (d.endpoints = calloc(src->n_endpoints, sizeof(*d.endpoints)));
                for (size_t i = 0; ok && i < src->n_endpoints; i++, d.n_endpoints++)
                        ok = dup_opt(src->endpoints[i].service, &d.endpoints[i].service) &&
                             dup_opt(src->endpoints[i].url, &d.endpoints[i].url);
        }
        if (ok && src->n_rate_limits > 0) {
                ok = (d.rate_limits = calloc(src->n_rate_limits, sizeof(*d.rate_limits)));
                for (size_t i = 0; ok && i < src->n_rate_limits; i++, d.n_rate_limits++) {
                        d.rate_limits[i].per_second = src->rate_limits[i].per_second;
                        ok = dup_opt(src->rate_limits[i].operation, &d.rate_limits[i].operation);
                }
        }
        if (!ok) {
                conf_aws_done(&d);
                *dst = (conf_aws) {};
                return -ENOMEM;
        }
        *dst = d;
        return 0;
}
