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

void conf_aws_parse(L_t *L, conf_aws *a, const cnode *n) {
        static conf_keylist keys = { "region", "profile", "role_arn", "role_session_name", "external_id", "endpoints", "ca_bundle",
                                "use_fips", "connect_timeout", "request_timeout", "max_attempts", "rate_limits", NULL };
        static const char *const services[] = { "acm", "acm-pca", "route53", "sts", NULL };
        cnode *v;
        const char *why;
        if (!conf_want_map(L, n, "aws"))
                return;
        conf_check_keys(L, n, keys, "aws");
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
        if (conf_get_path(L, n, "ca_bundle", &a->ca_bundle) && access(a->ca_bundle, R_OK) < 0) {
                conf_err_at(L, conf_get(n, "ca_bundle"), "io", "install the bundle (ca-certificates) or fix the path",
                       "ca_bundle %s is not readable: %s", a->ca_bundle, strerror(errno));
        }
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
                        const char *op = conf_scalar(L, p->key, "rate limit operation"), *val, *colon;
                        if (!op || !(val = conf_scalar(L, p->value, "rate limit")))
                                continue;
                        colon = strchr(op, ':');
                        bool svc_ok = false;
                        if (colon)
                                for (const char *const *s = services; *s; s++)
                                        svc_ok |= strlen(*s) == (size_t) (colon - op) && strneq(*s, op, (size_t) (colon - op));
                        if (!colon || !svc_ok || !isupper((unsigned char) colon[1]) || strlen(colon + 1) > 64 ||
                            strspn(colon + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != strlen(colon + 1)) {
                                conf_err_at(L, p->key, "enum", "write service:Operation, such as acm-pca:IssueCertificate (services: acm, acm-pca, route53, sts)",
                                       "rate limit key '%s' is not service:Operation", op);
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
                        a->rate_limits[a->n_rate_limits].operation = conf_strdup(L, op);
                        a->rate_limits[a->n_rate_limits++].per_second = d;
                }
        }
}

void conf_daemon_parse(L_t *L, conf_daemon *d, const cnode *n) {
        static conf_keylist keys = { "reload_debounce", "acm_poll_interval", "metrics_textfile", NULL };
        if (!conf_want_map(L, n, "daemon"))
                return;
        conf_check_keys(L, n, keys, "daemon");
        conf_get_duration(L, n, "reload_debounce", &d->reload_debounce, 0, 3600);
        conf_get_duration(L, n, "acm_poll_interval", &d->acm_poll_interval, 60, 7 * 86400);
        conf_get_path(L, n, "metrics_textfile", &d->metrics_textfile);
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
}
