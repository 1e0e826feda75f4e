/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper: one AWS client, N concurrent calls of one operation through
 * the real event loop. Usage:
 *   aws-call [OPTIONS] SERVICE OPERATION [JSON]
 *   aws-call [OPTIONS] --credentials
 *   aws-call [OPTIONS] route53 list-zones NAME | upsert ZONE NAME VALUE | delete ZONE NAME VALUE |
 *            get-change ID | list-rrs ZONE [NAME]
 *   aws-call --check-online [pca:ARN[=SIGNING_ALG] | acm:ARN | zone:ZONE_ID]...
 * OPTIONS: --repeat N (concurrent calls), --sequential N --interval-ms MS
 * (one after another), --max-attempts N, --request-timeout S
 * (aws.request_timeout, seconds), --role-arn ARN (aws.role_arn),
 * --region R (aws.region), --fips (aws.use_fips), --endpoint SVC=URL
 * (aws.endpoints), --print-endpoints (print region and endpoints, no call).
 * Prints each response on stdout, each error's operator line (and
 * "kind=KIND") on stderr, then "throttles=N calls=N http=N". Exit 0 when
 * every call succeeded, 1 otherwise, 2 on usage errors. The configuration
 * comes from the environment (AWS_ENDPOINT_URL, AWS_CA_BUNDLE, …).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "aws/aws.h"
#include "cli/cli-check-online.h"
#include "aws/aws-route53.h"
#include "basic/macro.h"
#include "basic/util.h"

static unsigned pending, failed;

static void on_done(const aws_error *err, json_t *resp, void *userdata) {
        pending--;
        if (err) {
                char *s = aws_error_format(err);
                fprintf(stderr, "%s\nkind=%s\n", s ? s : "?", aws_error_kind_to_string(err->kind));
                free(s);
                failed++;
                return;
        }
        char *s = json_dumps(resp, JSON_COMPACT | JSON_SORT_KEYS);
        printf("%s\n", s ? s : "?");
        free(s);
}

static void on_creds(const aws_error *err, const aws_credentials_info *info, void *userdata) {
        pending--;
        if (err) {
                char *s = aws_error_format(err);
                fprintf(stderr, "%s\nkind=%s\n", s ? s : "?", aws_error_kind_to_string(err->kind));
                free(s);
                failed++;
                return;
        }
        printf("source=%s\naccess_key_id=%s\ntemporary=%s\nexpiration_usec=%llu\n", info->source,
               info->access_key_id, info->temporary ? "yes" : "no", (unsigned long long) info->expiration_usec);
}

int main(int argc, char **argv) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_aws cfg = {};
        conf_endpoint eps[8];
        uint32_t repeat = 1, sequential = 0, interval_ms = 0;
        bool print_endpoints = false;
        int i = 1, r = 0, rc = 0;
        aws_service svc;
        json_t *req = NULL;

        if (argc >= 2 && streq(argv[1], "--check-online")) {
                /* A configuration built by hand, as the loader would. */
                static conf_cert certs[16];
                static char *zone_ids[16];
                static conf_cert *ptrs[17];
                conf cf = {};
                int n = 0;
                for (int k = 2; k < argc && n < 16; k++, n++) {
                        char *v = argv[k], *eq;
                        certs[n].name = strprintf("cert%d", n);
                        if (strneq(v, "pca:", 4)) {
                                certs[n].issuer_type = CONF_ISSUER_PCA;
                                certs[n].issuer.pca.ca_arn = v + 4;
                                if ((eq = strchr(v, '='))) {
                                        *eq = 0;
                                        certs[n].issuer.pca.signing_algorithm = eq + 1;
                                }
                        } else if (strneq(v, "acm:", 4)) {
                                certs[n].issuer_type = CONF_ISSUER_ACM;
                                certs[n].issuer.acm.arn = v + 4;
                        } else if (strneq(v, "zone:", 5)) {
                                /* An ACM certificate validated through Route 53. */
                                certs[n].issuer_type = CONF_ISSUER_ACM;
                                certs[n].dns.provider = CONF_DNS_ROUTE53;
                                zone_ids[n] = v + 5;
                                certs[n].dns.hosted_zone_id = zone_ids[n];
                        } else
                                return 2;
                        ptrs[n] = &certs[n];
                }
                cf.certs = ptrs;
                cf.n_certs = (size_t) n;
                cli_options o = { .online = true };
                return check_online(&cf, &o);
        }
        for (; i < argc && strneq(argv[i], "--", 2); i++) {
                if (streq(argv[i], "--repeat") && i + 1 < argc) {
                        if (parse_uint32(argv[++i], &repeat) < 0 || repeat == 0)
                                return 2;
                } else if (streq(argv[i], "--max-attempts") && i + 1 < argc) {
                        uint32_t m;
                        if (parse_uint32(argv[++i], &m) < 0)
                                return 2;
                        cfg.max_attempts = m;
                } else if (streq(argv[i], "--request-timeout") && i + 1 < argc) {
                        uint64_t t;
                        if (parse_uint64(argv[++i], &t) < 0 || t == 0)
                                return 2;
                        cfg.request_timeout = t;
                } else if (streq(argv[i], "--credentials")) {
                        repeat = 0;
                } else if (streq(argv[i], "--sequential") && i + 1 < argc) {
                        if (parse_uint32(argv[++i], &sequential) < 0 || sequential == 0)
                                return 2;
                } else if (streq(argv[i], "--interval-ms") && i + 1 < argc) {
                        if (parse_uint32(argv[++i], &interval_ms) < 0)
                                return 2;
                } else if (streq(argv[i], "--role-arn") && i + 1 < argc) {
                        cfg.role_arn = argv[++i];
                } else if (streq(argv[i], "--region") && i + 1 < argc) {
                        cfg.region = argv[++i];
                } else if (streq(argv[i], "--fips")) {
                        cfg.use_fips = true;
                } else if (streq(argv[i], "--endpoint") && i + 1 < argc && cfg.n_endpoints < ELEMENTSOF(eps)) {
                        char *v = argv[++i], *eq = strchr(v, '=');
                        if (!eq)
                                return 2;
                        *eq = 0;
                        eps[cfg.n_endpoints++] = (conf_endpoint) { .service = v, .url = eq + 1 };
                        cfg.endpoints = eps;
                } else if (streq(argv[i], "--print-endpoints")) {
                        print_endpoints = true;
                } else
                        return 2;
        }
        if ((r = sd_event_default(&e)) < 0 || (r = aws_client_new(e, &cfg, &c)) < 0) {
                fprintf(stderr, "cannot create the client: %s\n", strerror(-r));
                rc = 1;
                goto out;
        }
        if (print_endpoints) {
                printf("region=%s\n", aws_client_region(c) ?: "(none)");
                for (int s = 0; s < _AWS_SERVICE_MAX; s++)
                        printf("%s=%s\n", aws_service_to_string((aws_service) s),
                               aws_client_endpoint(c, (aws_service) s) ?: "(none)");
                goto out;
        }
        if (argc - i >= 2 && streq(argv[i], "route53")) {
                const char *op = argv[i + 1];
                int na = argc - i - 2;
                char **a = argv + i + 2;
                route53_change ch = { .type = "CNAME", .ttl = 300 };
                if (streq(op, "list-zones") && na == 1) {
                        for (uint32_t k = 0; k < repeat && r >= 0; k++, pending++)
                                r = route53_list_hosted_zones_by_name(c, a[0], NULL, 10, on_done, NULL, NULL);
                        pending--;
                } else if ((streq(op, "upsert") || streq(op, "delete")) && na == 3) {
                        ch.action = streq(op, "upsert") ? ROUTE53_UPSERT : ROUTE53_DELETE;
                        ch.name = a[1];
                        ch.value = a[2];
                        r = route53_change_resource_record_sets(c, a[0], &ch, 1, "acm-agent test", on_done, NULL,
                                                                NULL);
                } else if (streq(op, "get-change") && na == 1)
                        r = route53_get_change(c, a[0], on_done, NULL, NULL);
                else if (streq(op, "list-rrs") && (na == 1 || na == 2))
                        r = route53_list_resource_record_sets(c, a[0], na == 2 ? a[1] : NULL, NULL, 0, on_done, NULL,
                                                              NULL);
                else
                        { rc = 2; goto out; }
                if (r < 0) {
                        fprintf(stderr, "route53 %s: %s\n", op, strerror(-r));
                        { rc = 1; goto out; }
                }
                pending++;
        } else if (repeat == 0) {
                if (aws_client_resolve_credentials(c, on_creds, NULL, NULL) < 0)
                        { rc = 1; goto out; }
                pending = 1;
        } else {
                if (argc - i < 2)
                        { rc = 2; goto out; }
                if (streq(argv[i], "acm"))
                        svc = AWS_SERVICE_ACM;
                else if (streq(argv[i], "acm-pca"))
                        svc = AWS_SERVICE_ACM_PCA;
                else if (streq(argv[i], "sts"))
                        svc = AWS_SERVICE_STS;
                else
                        { rc = 2; goto out; }
                if (argc - i >= 3) {
                        req = json_loads(argv[i + 2], 0, NULL);
                        if (!req)
                                { rc = 2; goto out; }
                }
                for (uint32_t n = 0; n < sequential; n++) {
                        /* One call at a time, a pause between them. */
                        if (n > 0 && interval_ms > 0)
                                (void) usleep((useconds_t) interval_ms * 1000);
                        if (aws_call(c, svc, argv[i + 1], req, 0, on_done, NULL, NULL) < 0)
                                { rc = 1; goto out; }
                        pending = 1;
                        while (pending > 0)
                                if (sd_event_run(e, UINT64_MAX) < 0)
                                        { rc = 1; goto out; }
                }
                for (uint32_t k = 0; sequential == 0 && k < repeat; k++) {
                        r = aws_call(c, svc, argv[i + 1], req, 0, on_done, NULL, NULL);
                        if (r < 0)
                                { rc = 1; goto out; }
                        pending++;
                }
        }
        while (pending > 0)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        { rc = 1; goto out; }
        uint64_t calls = 0, http = 0;
        for (size_t k = 0; k < aws_client_n_stats(c); k++) {
                calls += aws_client_stats(c, k)->calls;
                http += aws_client_stats(c, k)->http_requests;
        }
        if (aws_client_region(c))
                fprintf(stderr, "region=%s\n", aws_client_region(c));
        fprintf(stderr, "throttles=%llu calls=%llu http=%llu\n", (unsigned long long) aws_client_throttle_count(c),
                (unsigned long long) calls, (unsigned long long) http);
        rc = failed ? 1 : 0;
out:
        json_decref(req);
        aws_client_unref(c);
        sd_event_unref(e);
        return rc;
}
