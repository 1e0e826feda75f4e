/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aws/aws.h"
#include "cli/cli-check-online.h"
#include "issuer/issuer-pca.h"
#include "basic/macro.h"
#include "aws/aws-route53.h"
#include "basic/util.h"

/*
 * Every check is an item, made in a fixed order (credentials, identity, the
 * CAs and ACM certificates in configuration order, then the Route 53
 * zones) before anything runs. Answers arrive in any order; each records
 * its outcome in its item, and the report is printed at the end in item
 * order, so two runs print the same lines in the same order. Credentials
 * are resolved first: without them no other check can say anything of its
 * own, so those are listed as not run instead of repeating the same error.
 * Failures that share their AWS error (a wrong endpoint for every CA) print
 * the message once and refer to it.
 */

typedef enum check_kind {
        CHECK_CREDENTIALS,
        CHECK_IDENTITY,
        CHECK_CA,
        CHECK_ACM,
        CHECK_ZONE_ID,
        CHECK_ZONE_NAME,
} check_kind;

typedef struct check_ctx check_ctx;

typedef struct check_item {
        check_ctx *ctx;
        check_kind kind;
        char *what;                     /* "CA arn:… (certificate web)" */
        const char *id;                 /* CA / ACM ARN, zone id: borrowed from the configuration */
        const char *signing_algorithm;  /* borrowed */
        char *name;                     /* zone look-up: the name, without trailing dot */
        const char *suffix;             /* the candidate zone now asked for (points into name) */
        /* outcome */
        bool done;
        bool failed;
        char *text;                     /* ok: the detail; failed: the whole message */
        char *hint;                     /* failed: what to do, or NULL */
        char *cause;                    /* failed on an AWS error: "TYPE\nMESSAGE", else NULL */
        char *cause_type;               /* its TYPE */
} check_item;

struct check_ctx {
        aws_client *client;
        check_item **items;
        size_t n_items;
        unsigned pending;
        bool oom;
};

static check_item *item_free(check_item *it) {
        if (!it)
                return NULL;
        free(it->what);
        free(it->name);
        free(it->text);
        free(it->hint);
        free(it->cause);
        free(it->cause_type);
        free(it);
        return NULL;
}

static void ctx_done(check_ctx *ctx) {
        ctx->client = aws_client_unref(ctx->client); /* drops requests in flight, no callbacks */
        for (size_t i = 0; i < ctx->n_items; i++)
                item_free(ctx->items[i]);
        free(ctx->items);
        ctx->items = NULL;
        ctx->n_items = 0;
}

/* Appends a new item; what is taken (freed on failure). NULL on OOM. */
static check_item *item_add(check_ctx *ctx, check_kind kind, char *what) {
        _cleanup_(freep) char *w = what;
        if (!w)
                return NULL;
        check_item **v = realloc(ctx->items, (ctx->n_items + 1) * sizeof *v);
        if (!v)
                return NULL;
        ctx->items = v;
        check_item *it = calloc(1, sizeof *it);
        if (!it)
                return NULL;
        *it = (check_item) { .ctx = ctx, .kind = kind, .what = TAKE_PTR(w) };
        ctx->items[ctx->n_items++] = it;
        return it;
}

_printf_(2, 3) static void item_ok(check_item *it, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&it->text, fmt, ap) < 0) {
                it->text = NULL;
                it->ctx->oom = true;
        }
        va_end(ap);
        it->done = true;
}

/* The check failed for a reason found here. hint may be NULL. */
_printf_(3, 4) static void item_fail(check_item *it, const char *hint, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&it->text, fmt, ap) < 0) {
                it->text = NULL;
                it->ctx->oom = true;
        }
        va_end(ap);
        if (hint && !(it->hint = strdup(hint)))
                it->ctx->oom = true;
        it->done = it->failed = true;
}

static const char *s_or(const char *s, const char *dflt) {
        return s && *s ? s : dflt;
}

/* What makes two failures one cause: the error type and message, without
 * the time libcurl took ("Failed to connect to H port P after 3 ms: …"). */
static char *cause_key(const aws_error *err) {
        char *key = strprintf("%d\n%s\n%s", (int) err->kind, s_or(err->type, "Error"), s_or(err->message, ""));
        if (!key)
                return NULL;
        for (char *p = strstr(key, " after "); p; p = strstr(p + 1, " after ")) {
                char *q = p + strlen(" after ");
                size_t digits = strspn(q, "0123456789");
                if (digits > 0 && strneq(q + digits, " ms", 3))
                        memmove(p, q + digits + 3, strlen(q + digits + 3) + 1);
        }
        return key;
}

static void item_fail_aws(check_item *it, const aws_error *err) {
        const char *hint = err->kind == AWS_ERROR_AUTH ? "grant the permission to the identity above"
                           : err->kind == AWS_ERROR_NOT_FOUND ? "check the ARN, region and account"
                           : err->kind == AWS_ERROR_CREDENTIALS ? "configure credentials for the agent"
                           : err->kind == AWS_ERROR_NETWORK ? "check the endpoint, proxy and CA bundle"
                                                            : NULL;
        _cleanup_(freep) char *line = aws_error_format(err);

        item_fail(it, hint, "%s", line ? line : s_or(err->type, "Error"));
        it->cause = cause_key(err);
        it->cause_type = strdup(s_or(err->type, "Error"));
        if (!it->cause || !it->cause_type)
                it->ctx->oom = true;
}

/* An answer arrived for it: it is no longer pending. Returns true when err
 * is set: the failure is recorded and the callback stops there. */
static bool item_answered(check_item *it, const aws_error *err) {
        it->ctx->pending--;
        if (!err)
                return false;
        item_fail_aws(it, err);
        return true;
}

static void on_identity(const aws_error *err, json_t *resp, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        item_ok(it, "%s (account %s)", json_string_value(json_object_get(resp, "Arn")) ?: "?",
                json_string_value(json_object_get(resp, "Account")) ?: "?");
}

static void on_credentials(const aws_error *err, const aws_credentials_info *info, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        item_ok(it, "%s (key %s%s)", info->source, info->access_key_id, info->temporary ? ", temporary" : "");
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
        item_ok(it, "ACTIVE, %s", key ? key : "key algorithm unknown");
}

static void on_acm(const aws_error *err, json_t *resp, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        json_t *cert = json_object_get(resp, "Certificate");
        item_ok(it, "%s, %s", json_string_value(json_object_get(cert, "Status")) ?: "?",
                json_string_value(json_object_get(cert, "DomainName")) ?: "?");
}

static void on_zone(const aws_error *err, json_t *resp, void *userdata) {
        check_item *it = userdata;
        if (item_answered(it, err))
                return;
        /* The apex SOA/NS come first: the first record's name is the zone's. */
        json_t *rrs = json_object_get(json_object_get(resp, "ResourceRecordSets"), "ResourceRecordSet");
        const char *apex = json_string_value(json_object_get(route53_list_get(rrs, 0), "Name"));
        item_ok(it, "%s, records readable", apex ? apex : "(empty zone)");
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
        if (zn && strncasecmp(zn, it->suffix, sl) == 0 && streq(zn + sl, "."))
                return item_ok(it, "zone %s (%s)", zn, json_string_value(json_object_get(z, "Id")) ?: "?");
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
        int r = route53_list_hosted_zones_by_name(it->ctx->client, it->suffix, NULL, 1, on_zone_by_name, it, NULL);
        if (r >= 0)
                it->ctx->pending++;
        return r;
}

/* Starts the check of it. Returns 0 (started, or failed at once with the
 * reason recorded) or -ENOMEM. */
static int item_start(check_item *it) {
        aws_client *client = it->ctx->client;
        json_t *req = NULL;
        int r;

        switch (it->kind) {
        case CHECK_CREDENTIALS:
                r = aws_client_resolve_credentials(client, on_credentials, it, NULL);
                break;
        case CHECK_IDENTITY:
                r = aws_call(client, AWS_SERVICE_STS, "GetCallerIdentity", NULL, AWS_CALL_NO_RATE_LIMIT, on_identity,
                             it, NULL);
                break;
        case CHECK_CA:
                req = json_pack("{s:s}", "CertificateAuthorityArn", it->id);
                r = req ? aws_call(client, AWS_SERVICE_ACM_PCA, "DescribeCertificateAuthority", req, 0, on_ca, it,
                                   NULL)
                        : -ENOMEM;
                break;
        case CHECK_ACM:
                req = json_pack("{s:s}", "CertificateArn", it->id);
                r = req ? aws_call(client, AWS_SERVICE_ACM, "DescribeCertificate", req, 0, on_acm, it, NULL) : -ENOMEM;
                break;
        case CHECK_ZONE_ID:
                r = route53_list_resource_record_sets(client, it->id, NULL, NULL, 2, on_zone, it, NULL);
                if (r == -EINVAL) {
                        item_fail(it, "write the id as Route 53 shows it, e.g. Z0123456789ABCDEFGHIJ",
                                  "not a hosted zone id (Z followed by letters and digits)");
                        return 0;
                }
                break;
        case CHECK_ZONE_NAME:
                r = zone_by_name_next(it);
                if (r < 0 && r != -ENOMEM) {
                        item_fail(it, "set dns.hosted_zone_id", "%s is not a usable DNS name: %s", it->name,
                                  strerror(-r));
                        return 0;
                }
                return r;
        default:
                r = -EINVAL;
        }
        json_decref(req);
        if (r >= 0)
                it->ctx->pending++;
        return r < 0 ? -ENOMEM : 0;
}

static bool ca_already(const conf *c, size_t upto, const char *ca_arn) {
        for (size_t i = 0; i < upto; i++)
                if (c->certs[i]->issuer_type == CONF_ISSUER_PCA && c->certs[i]->issuer.pca.ca_arn &&
                    streq(c->certs[i]->issuer.pca.ca_arn, ca_arn) && !c->certs[i]->issuer.pca.signing_algorithm)
                        return true;
        return false;
}

static bool zone_already(const conf *c, size_t upto, const char *zone_id) {
        for (size_t i = 0; i < upto; i++)
                if (c->certs[i]->dns.provider == CONF_DNS_ROUTE53 && c->certs[i]->dns.hosted_zone_id &&
                    streq(c->certs[i]->dns.hosted_zone_id, zone_id))
                        return true;
        return false;
}

/* The checks of configuration c, in report order. Returns 0 or -ENOMEM. */
static int items_plan(check_ctx *ctx, const conf *c) {
        check_item *it;

        if (!item_add(ctx, CHECK_CREDENTIALS, strdup("credentials")) ||
            !item_add(ctx, CHECK_IDENTITY, strdup("sts:GetCallerIdentity")))
                return -ENOMEM;
        for (size_t i = 0; c->certs && c->certs[i]; i++) {
                const conf_cert *cert = c->certs[i];
                if (cert->issuer_type == CONF_ISSUER_PCA && cert->issuer.pca.ca_arn) {
                        if (ca_already(c, i, cert->issuer.pca.ca_arn) && !cert->issuer.pca.signing_algorithm)
                                continue;
                        it = item_add(ctx, CHECK_CA,
                                      strprintf("CA %s (certificate %s)", cert->issuer.pca.ca_arn, cert->name));
                        if (!it)
                                return -ENOMEM;
                        it->id = cert->issuer.pca.ca_arn;
                        it->signing_algorithm = cert->issuer.pca.signing_algorithm;
                } else if (cert->issuer_type == CONF_ISSUER_ACM && cert->issuer.acm.arn) {
                        it = item_add(ctx, CHECK_ACM, strprintf("ACM %s (certificate %s)", cert->issuer.acm.arn, cert->name));
                        if (!it)
                                return -ENOMEM;
                        it->id = cert->issuer.acm.arn;
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
                        it = item_add(ctx, CHECK_ZONE_ID, strprintf("Route 53 zone %s (certificate %s)",
                                                                    cert->dns.hosted_zone_id, cert->name));
                        if (!it)
                                return -ENOMEM;
                        it->id = cert->dns.hosted_zone_id;
                } else if (cert->dns_names && cert->dns_names[0]) {
                        const char *n = cert->dns_names[0];
                        if (strneq(n, "*.", 2))
                                n += 2;
                        it = item_add(ctx, CHECK_ZONE_NAME, strprintf("Route 53 zone for %s (certificate %s)", n,
                                                                      cert->name));
                        if (!it || !(it->name = strdup(n)))
                                return -ENOMEM;
                        size_t l = strlen(it->name);
                        if (l > 0 && it->name[l - 1] == '.')
                                it->name[l - 1] = 0;
                        it->suffix = it->name;
                }
        }
        return 0;
}

/* Runs the loop until every started check answered. Returns 0 or -errno. */
static int run_pending(check_ctx *ctx, sd_event *e) {
        while (ctx->pending > 0) {
                int r = sd_event_run(e, UINT64_MAX);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The earlier failed item with the same AWS error as it, or NULL. */
static const check_item *same_cause(const check_ctx *ctx, size_t upto, const check_item *it) {
        if (!it->cause)
                return NULL;
        for (size_t i = 0; i < upto; i++) {
                const check_item *p = ctx->items[i];
                if (p->failed && p->cause && streq(p->cause, it->cause))
                        return p;
        }
        return NULL;
}

int check_online(const conf *c, const cli_options *o) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        check_ctx ctx = {};
        unsigned failures = 0, not_run = 0;
        bool creds_failed;
        int r;

        if (!c)
                return EXIT_USAGE;
        r = sd_event_new(&e);
        if (r < 0) {
                fprintf(stderr, "acm-agent: cannot create the event loop: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        r = aws_client_new(e, &c->aws, &ctx.client);
        if (r == -ELIBACC) {
                fprintf(stderr, "acm-agent: %s\n", aws_client_strerror(r));
                return EXIT_FAILED;
        }
        if (r < 0) {
                fprintf(stderr, "acm-agent: the aws: settings cannot be used (%s): check aws.endpoints and "
                                "aws.ca_bundle / AWS_CA_BUNDLE\n", strerror(-r));
                return EXIT_USAGE;
        }
        printf("region: %s\n", aws_client_region(ctx.client) ?: "(not configured: asking EC2 instance metadata)");

        if (items_plan(&ctx, c) < 0)
                goto oom;
        /* Credentials first (items[0]), then everything else at once. */
        if (item_start(ctx.items[0]) < 0)
                goto oom;
        r = run_pending(&ctx, e);
        if (r < 0)
                goto loop_failed;
        creds_failed = ctx.items[0]->failed;
        if (!creds_failed) {
                for (size_t i = 1; i < ctx.n_items; i++)
                        if (item_start(ctx.items[i]) < 0)
                                goto oom;
                r = run_pending(&ctx, e);
                if (r < 0)
                        goto loop_failed;
        }
        if (ctx.oom)
                goto oom;

        for (size_t i = 0; i < ctx.n_items; i++) {
                const check_item *it = ctx.items[i], *first;
                if (!it->done) {
                        printf("skip %s: not checked without credentials\n", it->what);
                        not_run++;
                        continue;
                }
                if (!it->failed) {
                        printf("ok   %s: %s\n", it->what, it->text);
                        continue;
                }
                failures++;
                if ((first = same_cause(&ctx, i, it)))
                        printf("FAIL %s: %s, as for %s above\n", it->what, it->cause_type, first->what);
                else
                        printf("FAIL %s: %s\n%s%s%s", it->what, it->text, it->hint ? "     hint: " : "",
                               it->hint ? it->hint : "", it->hint ? "\n" : "");
        }
        printf("%s: %u check%s failed", failures ? "FAILED" : "OK", failures, failures == 1 ? "" : "s");
        if (not_run)
                printf(", %u not run (they need credentials)", not_run);
        printf("\n");
        ctx_done(&ctx);
        return failures ? EXIT_FAILED : EXIT_OK;

loop_failed:
        fprintf(stderr, "acm-agent: event loop failed: %s\n", strerror(-r));
        ctx_done(&ctx);
        return EXIT_FAILED;
oom:
        fprintf(stderr, "acm-agent: out of memory\n");
        ctx_done(&ctx);
        return EXIT_FAILED;
}
