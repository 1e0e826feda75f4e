/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper: one AWS client, N concurrent calls of one operation through
 * the real event loop. Usage:
 *   aws-call [--repeat N] [--max-attempts N] SERVICE OPERATION [JSON]
 *   aws-call --credentials
 *   aws-call --check-online [pca:ARN[=SIGNING_ALG] | acm:ARN]...
 * Prints each response on stdout, each error's operator line (and
 * "kind=KIND") on stderr, then "throttles=N calls=N http=N". Exit 0 when
 * every call succeeded, 1 otherwise, 2 on usage errors. The configuration
 * comes from the environment (AWS_ENDPOINT_URL, AWS_CA_BUNDLE, …).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "check-online.h"
#include "macro.h"
#include "util.h"

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
        uint32_t repeat = 1;
        int i = 1, r;
        aws_service svc;

        if (argc >= 2 && streq(argv[1], "--check-online")) {
                /* A configuration built by hand, as the loader would. */
                static conf_cert certs[16];
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
                } else if (streq(argv[i], "--credentials")) {
                        repeat = 0;
                } else
                        return 2;
        }
        if (sd_event_default(&e) < 0 || aws_client_new(e, &cfg, &c) < 0) {
                fprintf(stderr, "cannot create the client\n");
                return 1;
        }
        if (repeat == 0) {
                if (aws_client_resolve_credentials(c, on_creds, NULL, NULL) < 0)
                        return 1;
                pending = 1;
        } else {
                if (argc - i < 2)
                        return 2;
                if (streq(argv[i], "acm"))
                        svc = AWS_SERVICE_ACM;
                else if (streq(argv[i], "acm-pca"))
                        svc = AWS_SERVICE_ACM_PCA;
                else if (streq(argv[i], "sts"))
                        svc = AWS_SERVICE_STS;
                else
                        return 2;
                json_t *req = NULL;
                if (argc - i >= 3) {
                        req = json_loads(argv[i + 2], 0, NULL);
                        if (!req)
                                return 2;
                }
                for (uint32_t k = 0; k < repeat; k++) {
                        r = aws_call(c, svc, argv[i + 1], req, 0, on_done, NULL, NULL);
                        if (r < 0)
                                return 1;
                        pending++;
                }
                json_decref(req);
        }
        while (pending > 0)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        return 1;
        uint64_t calls = 0, http = 0;
        for (size_t k = 0; k < aws_client_n_stats(c); k++) {
                calls += aws_client_stats(c, k)->calls;
                http += aws_client_stats(c, k)->http_requests;
        }
        fprintf(stderr, "throttles=%llu calls=%llu http=%llu\n", (unsigned long long) aws_client_throttle_count(c),
                (unsigned long long) calls, (unsigned long long) http);
        aws_client_unref(c);
        sd_event_unref(e);
        return failed ? 1 : 0;
}
