/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aws/aws.h"
#include "cli/cli-check-online.h"
#include "issuer/issuer-pca.h"
#include "basic/macro.h"
#include "aws/aws-route53.h"
#include "basic/util.h"

typedef struct check_ctx {
        unsigned pending;
        unsigned failures;
} check_ctx;

typedef struct check_item {
        check_ctx *ctx;
        char *what;            /* "CA arn:… (certificate web)" */
        char *signing_algorithm;
        aws_client *client;    /* zone look-up by name: the next query */
        char *name;            /* the name whose zone is looked for, without trailing dot */
        const char *suffix;    /* the candidate zone now asked for (points into name) */
} check_item;

static void item_free(check_item *it) {
        free(it->what);
        free(it->signing_algorithm);
        free(it->name);
        free(it);
}

static void report_error(check_item *it, const aws_error *err) {
        _cleanup_(freep) char *line = aws_error_format(err);
        const char *hint = err->kind == AWS_ERROR_AUTH ? "grant the permission to the identity above"
                           : err->kind == AWS_ERROR_NOT_FOUND ? "check the ARN, region and account"
                           : err->kind == AWS_ERROR_CREDENTIALS ? "configure credentials for the agent"
                           : err->kind == AWS_ERROR_NETWORK ? "check the endpoint, proxy and CA bundle"
                                                            : NULL;
        printf("FAIL %s: %s%s%s\n", it->what, line ? line : err->type, hint ? "\n     hint: " : "", hint ? hint : "");
        it->ctx->failures++;
}

/* An answer arrived for it: it is no longer pending. Returns true when err
 * is set: the check failed, was reported and it is freed (the callback stops). */
static bool item_answered(check_item *it, const aws_error *err) {
        it->ctx->pending--;
        if (!err)
                return false;
        report_error(it, err);
        item_free(it);
        return true;
}

/* The check failed for a reason found here: "FAIL what: message" and the
 * hint on the next line; it is freed. */
_printf_(3, 4) static void item_fail(check_item *it, const char *hint, const char *fmt, ...) {
        va_list ap;

        printf("FAIL %s: ", it->what);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n%s%s%s", hint ? "     hint: " : "", hint ? hint : "", hint ? "\n" : "");
        it->ctx->failures++;
        item_free(it);
}

static void on_identity(const aws_error *err, json_t *resp, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        printf("ok   identity: %s (account %s)\n", json_string_value(json_object_get(resp, "Arn")) ?: "?",
               json_string_value(json_object_get(resp, "Account")) ?: "?");
        item_free(it);
}

static void on_credentials(const aws_error *err, const aws_credentials_info *info, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        printf("ok   credentials: %s (key %s%s)\n", info->source, info->access_key_id, info->temporary ? ", temporary" : "");
        item_free(it);
}

static void on_ca(const aws_error *err, json_t *resp, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        json_t *ca = json_object_get(resp, "CertificateAuthority");
        const char *status = json_string_value(json_object_get(ca, "Status"));
        const char *key = json_string_value(
                json_object_get(json_object_get(ca, "CertificateAuthorityConfiguration"), "KeyAlgorithm"));
        if (!status || !streq(status, "ACTIVE"))
                return item_fail(it, "activate the CA (or restore it) before rollout", "status %s, not ACTIVE",
                                 status ? status : "unknown");
        /* the same rule the pca issuer applies before IssueCertificate */
        if (it->signing_algorithm && key && !issuer_pca_signing_algorithm(key, it->signing_algorithm)) {
                char hint[128];
                snprintf(hint, sizeof(hint), "set issuer.signing_algorithm to auto or %s",
                         issuer_pca_signing_algorithm(key, NULL) ?: "an algorithm of the CA's key family");
                return item_fail(it, hint, "signing_algorithm %s does not match the CA's %s key",
                                 it->signing_algorithm, key);
        }
        printf("ok   %s: ACTIVE, %s\n", it->what, key ? key : "key algorithm unknown");
        item_free(it);
}

static void on_acm(const aws_error *err, json_t *resp, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        json_t *cert = json_object_get(resp, "Certificate");
        printf("ok   %s: %s, %s\n", it->what, json_string_value(json_object_get(cert, "Status")) ?: "?",
               json_string_value(json_object_get(cert, "DomainName")) ?: "?");
        item_free(it);
}

static void on_zone(const aws_error *err, json_t *resp, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        /* The apex SOA/NS come first: the first record's name is the zone's. */
        json_t *rrs = json_object_get(json_object_get(resp, "ResourceRecordSets"), "ResourceRecordSet");
        const char *apex = json_string_value(json_object_get(route53_list_get(rrs, 0), "Name"));
        printf("ok   %s: %s, records readable\n", it->what, apex ? apex : "(empty zone)");
        item_free(it);
}

static int zone_by_name_next(check_item *it);

static void on_zone_by_name(const aws_error *err, json_t *resp, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        json_t *zones = json_object_get(json_object_get(resp, "HostedZones"), "HostedZone");
        json_t *z = route53_list_get(zones, 0);
        const char *zn = json_string_value(json_object_get(z, "Name"));
        size_t sl = strlen(it->suffix);
        if (zn && strncasecmp(zn, it->suffix, sl) == 0 && streq(zn + sl, ".")) {
                printf("ok   %s: zone %s (%s)\n", it->what, zn,
                       json_string_value(json_object_get(z, "Id")) ?: "?");
                item_free(it);
                return;
        }
        /* Not this suffix: try the parent. */
        const char *dot = strchr(it->suffix, '.');
        if (!dot || !strchr(dot + 1, '.'))
                return item_fail(it, "create the zone, or set dns.hosted_zone_id",
                                 "no Route 53 hosted zone for %s in this account", it->name);
        it->suffix = dot + 1;
        if (zone_by_name_next(it) < 0)
                item_fail(it, NULL, "out of memory");
}

static int zone_by_name_next(check_item *it) {
        int r = route53_list_hosted_zones_by_name(it->client, it->suffix, NULL, 1, on_zone_by_name, it, NULL);
        if (r >= 0)
                it->ctx->pending++;
        return r;
}

static bool zone_already(const conf *c, size_t upto, const char *zone_id) {
        for (size_t i = 0; i < upto; i++)
                if (c->certs[i]->dns.provider == CONF_DNS_ROUTE53 && c->certs[i]->dns.hosted_zone_id &&
                    streq(c->certs[i]->dns.hosted_zone_id, zone_id))
                        return true;
        return false;
}

static check_item *item_new(check_ctx *ctx, char *what) {
        check_item *it = calloc(1, sizeof *it);
        if (!it || !what) {
                free(it);
                free(what);
                return NULL;
        }
        it->ctx = ctx;
        it->what = what;
        return it;
}

static bool already(const conf *c, size_t upto, const char *ca_arn) {
        for (size_t i = 0; i < upto; i++)
                if (c->certs[i]->issuer_type == CONF_ISSUER_PCA && c->certs[i]->issuer.pca.ca_arn &&
                    streq(c->certs[i]->issuer.pca.ca_arn, ca_arn) && !c->certs[i]->issuer.pca.signing_algorithm)
                        return true;
        return false;
}

int check_online(const conf *c, const cli_options *o) {
        _cleanup_(aws_client_unrefp) aws_client *client = NULL;
        sd_event *e = NULL;
        check_ctx ctx = {};
        check_item *it;
        int r;

        if (!c)
                return EXIT_USAGE;
        r = sd_event_new(&e);
        if (r < 0) {
                fprintf(stderr, "acm-agent: cannot create the event loop: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        r = aws_client_new(e, &c->aws, &client);
        if (r < 0) {
                fprintf(stderr, "acm-agent: the aws: settings cannot be used (%s): check aws.endpoints and "
                                "aws.ca_bundle / AWS_CA_BUNDLE\n", strerror(-r));
                sd_event_unref(e);
                return EXIT_USAGE;
        }
        printf("region: %s\n", aws_client_region(client) ?: "(not configured: asking EC2 instance metadata)");

        /* Credentials first, then everything else runs concurrently. */
        it = item_new(&ctx, strdup("credentials"));
        if (!it || aws_client_resolve_credentials(client, on_credentials, it, NULL) < 0)
                goto oom;
        ctx.pending++;
        it = item_new(&ctx, strdup("sts:GetCallerIdentity"));
        if (!it || aws_call(client, AWS_SERVICE_STS, "GetCallerIdentity", NULL, AWS_CALL_NO_RATE_LIMIT, on_identity,
                            it, NULL) < 0)
                goto oom;
        ctx.pending++;

        for (size_t i = 0; c->certs && c->certs[i]; i++) {
                const conf_cert *cert = c->certs[i];
                json_t *req;
                if (cert->issuer_type == CONF_ISSUER_PCA && cert->issuer.pca.ca_arn) {
                        if (already(c, i, cert->issuer.pca.ca_arn) && !cert->issuer.pca.signing_algorithm)
                                continue;
                        it = item_new(&ctx, strprintf("CA %s (certificate %s)", cert->issuer.pca.ca_arn, cert->name));
                        if (!it)
                                goto oom;
                        if (cert->issuer.pca.signing_algorithm &&
                            !(it->signing_algorithm = strdup(cert->issuer.pca.signing_algorithm)))
                                goto oom;
                        req = json_pack("{s:s}", "CertificateAuthorityArn", cert->issuer.pca.ca_arn);
                        r = req ? aws_call(client, AWS_SERVICE_ACM_PCA, "DescribeCertificateAuthority", req, 0, on_ca,
                                           it, NULL)
                                : -ENOMEM;
                        json_decref(req);
                        if (r < 0)
                                goto oom;
                        ctx.pending++;
                } else if (cert->issuer_type == CONF_ISSUER_ACM && cert->issuer.acm.arn) {
                        it = item_new(&ctx, strprintf("ACM %s (certificate %s)", cert->issuer.acm.arn, cert->name));
                        if (!it)
                                goto oom;
                        req = json_pack("{s:s}", "CertificateArn", cert->issuer.acm.arn);
                        r = req ? aws_call(client, AWS_SERVICE_ACM, "DescribeCertificate", req, 0, on_acm, it, NULL)
                                : -ENOMEM;
                        json_decref(req);
                        if (r < 0)
                                goto oom;
                        ctx.pending++;
                }
        }
        /* Route 53 zones of certificates validated through DNS: each zone
         * named by id once (exists and readable), or the zone that would
         * be found by name. */
        for (size_t i = 0; c->certs && c->certs[i]; i++) {
                const conf_cert *cert = c->certs[i];
                if (cert->dns.provider != CONF_DNS_ROUTE53)
                        continue;
                if (cert->dns.hosted_zone_id) {
                        if (zone_already(c, i, cert->dns.hosted_zone_id))
                                continue;
                        it = item_new(&ctx, strprintf("Route 53 zone %s (certificate %s)", cert->dns.hosted_zone_id,
                                                      cert->name));
                        if (!it)
                                goto oom;
                        r = route53_list_resource_record_sets(client, cert->dns.hosted_zone_id, NULL, NULL, 2, on_zone,
                                                              it, NULL);
                        if (r == -EINVAL) {
                                item_fail(it, "write the id as Route 53 shows it, e.g. Z0123456789ABCDEFGHIJ",
                                          "not a hosted zone id (Z followed by letters and digits)");
                                continue;
                        }
                        if (r < 0) {
                                item_free(it);
                                goto oom;
                        }
                        ctx.pending++;
                } else if (cert->dns_names && cert->dns_names[0]) {
                        const char *n = cert->dns_names[0];
                        if (strneq(n, "*.", 2))
                                n += 2;
                        it = item_new(&ctx, strprintf("Route 53 zone for %s (certificate %s)", n, cert->name));
                        if (!it || !(it->name = strdup(n)))
                                goto oom;
                        size_t l = strlen(it->name);
                        if (l > 0 && it->name[l - 1] == '.')
                                it->name[l - 1] = 0;
                        it->client = client;
                        it->suffix = it->name;
                        r = zone_by_name_next(it);
                        if (r == -ENOMEM)
                                item_fail(it, NULL, "out of memory");
                        else if (r < 0)
                                item_fail(it, "set dns.hosted_zone_id", "%s is not a usable DNS name: %s", n,
                                          strerror(-r));
                }
        }

        while (ctx.pending > 0) {
                r = sd_event_run(e, UINT64_MAX);
                if (r < 0) {
                        fprintf(stderr, "acm-agent: event loop failed: %s\n", strerror(-r));
                        ctx.failures++;
                        break;
                }
        }
        printf("%s: %u check%s failed\n", ctx.failures ? "FAILED" : "OK", ctx.failures, ctx.failures == 1 ? "" : "s");
        client = aws_client_unref(client);
        sd_event_unref(e);
        return ctx.failures ? EXIT_FAILED : EXIT_OK;

oom:
        fprintf(stderr, "acm-agent: out of memory\n");
        client = aws_client_unref(client);
        sd_event_unref(e);
        return EXIT_FAILED;
}
